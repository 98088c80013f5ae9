"""Parquet files, local or over HTTP(S): each batch's values as the text an agency would export."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from opendata.errors import SourceError
from publishers.job import Job, ParquetSource
from publishers.sources import text_batch
from publishers.sources.fetch import local_file

BATCH_ROWS = 50_000


class ParquetConnector:
    def batches(self, job: Job) -> Iterator[pa.RecordBatch]:
        source = job.source
        assert isinstance(source, ParquetSource)
        with local_file(job, source, ".parquet") as path:
            try:
                handle = pq.ParquetFile(path)
            except (pa.ArrowInvalid, OSError) as exc:
                raise SourceError(f"{source.path or source.url}: not a Parquet file ({exc})") from None
            names = handle.schema_arrow.names
            yielded = False
            for batch in handle.iter_batches(batch_size=BATCH_ROWS):
                columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
                yield text_batch(names, list(zip(*columns, strict=True)) if columns else [])
                yielded = True
            if not yielded:
                yield text_batch(names, [])
