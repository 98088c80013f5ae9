"""GTFS static feeds: one member file (``stops.txt``, ``trips.txt``, ...) of the zip, as text columns."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator

import pyarrow as pa
from pyarrow import csv as pa_csv

from opendata.errors import SourceError
from publishers.job import GtfsSource, Job
from publishers.sources.fetch import local_file


class GtfsConnector:
    def batches(self, job: Job) -> Iterator[pa.RecordBatch]:
        source = job.source
        assert isinstance(source, GtfsSource)
        with local_file(job, source, ".zip") as path:
            try:
                feed = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise SourceError(f"{path}: not a GTFS zip feed: {exc}") from None
            with feed:
                members = {m.split("/")[-1]: m for m in feed.namelist() if m.endswith(".txt")}
                if source.file not in members:
                    raise SourceError(f"{path}: the feed has no {source.file}; it has {', '.join(sorted(members))}")
                member = members[source.file]
                # GTFS files are UTF-8, often with a byte-order mark and spaces after the commas of the header.
                with feed.open(member) as raw:
                    header = next(csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")), None)
                if not header:
                    raise SourceError(f"{path}: {source.file} is empty")
                names = [h.strip() for h in header]
                with feed.open(member) as raw:
                    try:
                        yield from pa_csv.open_csv(
                            raw,
                            read_options=pa_csv.ReadOptions(block_size=4 << 20, column_names=names, skip_rows=1),
                            convert_options=pa_csv.ConvertOptions(
                                column_types={n: pa.string() for n in names}, strings_can_be_null=True,
                                null_values=[""],
                            ),
                        )
                    except pa.ArrowInvalid as exc:
                        raise SourceError(f"{path}: {source.file} is not readable CSV: {exc}") from None
