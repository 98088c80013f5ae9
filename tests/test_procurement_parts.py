"""A staged table is written as Parquet parts (bounded writer memory) and read back as one file's rows and
batches: every row once, in order, in batches of the size asked across the parts' boundaries."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from procurement.indicators import Scores
from procurement.parts import PartWriter, part_paths, read_batches, read_schema
from procurement.prepare import _flatten, prepare
from procurement.tables import NOBODY

DEMO = Path(__file__).resolve().parent.parent / "datasets" / "procurement"


def _batch(start: int, rows: int) -> pa.RecordBatch:
    return pa.record_batch({"n": pa.array([str(i) for i in range(start, start + rows)], pa.string())})


def test_the_writer_starts_a_part_every_few_row_groups_and_the_reader_sees_every_row_once(tmp_path: Path) -> None:
    sizes = [5, 3, 7, 1, 4, 6, 2]
    writer = PartWriter(tmp_path / "t", _batch(0, 0).schema, row_groups=3)
    start = 0
    for size in sizes:
        writer.write_batch(_batch(start, size))
        start += size
    writer.close()
    parts = part_paths(tmp_path / "t")
    assert [p.name for p in parts] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert [pq.ParquetFile(p).metadata.num_row_groups for p in parts] == [3, 3, 1]
    batches = list(read_batches(tmp_path / "t", batch_size=4))
    assert [b.num_rows for b in batches] == [4] * 7   # 28 rows, across the parts' boundaries
    assert [v for b in batches for v in b.column("n").to_pylist()] == [str(i) for i in range(sum(sizes))]
    assert pq.read_table(tmp_path / "t").column("n").to_pylist() == [str(i) for i in range(sum(sizes))]
    assert read_schema(tmp_path / "t") == _batch(0, 0).schema


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Scores]:
    staging = tmp_path_factory.mktemp("parts")
    prepared = prepare([DEMO / "data" / "releases.jsonl", DEMO / "data" / "ocds-sample-data.json"], staging / "s")
    return prepared.compiled_path, prepared.scores


def test_a_family_table_in_many_parts_reads_as_the_same_table_in_one(demo: tuple[Path, Scores],
                                                                     tmp_path: Path) -> None:
    compiled, scores = demo
    many, rows = _flatten(compiled, tmp_path / "many", scores, NOBODY, part_row_groups=2, chunk_rows=7)
    one, same_rows = _flatten(compiled, tmp_path / "one", scores, NOBODY, part_row_groups=sys.maxsize,
                              chunk_rows=7)
    assert rows == same_rows and rows["processes"] > 300
    assert len(part_paths(many["processes"])) > 10 and len(part_paths(one["processes"])) == 1
    for table in many:
        single = pq.ParquetFile(part_paths(one[table])[0])
        expected = [b.to_pydict() for b in single.iter_batches(batch_size=50)]
        found = list(read_batches(many[table], batch_size=50))
        assert [b.to_pydict() for b in found] == expected, table
        assert sum(b.num_rows for b in found) == rows[table]
        assert all(b.schema == single.schema_arrow for b in found)
