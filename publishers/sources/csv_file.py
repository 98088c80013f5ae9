"""CSV files: every column read as text, in chunks, with the declared delimiter and encoding."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pyarrow as pa
from pyarrow import csv as pa_csv

from opendata.errors import SourceError
from publishers.job import CsvSource, Job


class CsvConnector:
    def batches(self, job: Job) -> Iterator[pa.RecordBatch]:
        source = job.source
        assert isinstance(source, CsvSource)
        path = job.resolve(source.path)
        try:
            with open(path, encoding=source.encoding, newline="") as handle:
                header = next(csv.reader(handle, delimiter=source.delimiter), None)
        except (UnicodeDecodeError, LookupError) as exc:
            raise SourceError(f"{path}: cannot read as {source.encoding}: {exc}; set source.encoding") from None
        if not header:
            raise SourceError(f"{path}: the file is empty; expected a header row")
        duplicates = sorted({h for h in header if header.count(h) > 1})
        if duplicates:
            raise SourceError(f"{path}: duplicate column names in the header: {', '.join(duplicates)}")
        try:
            reader = pa_csv.open_csv(
                path,
                read_options=pa_csv.ReadOptions(encoding=source.encoding, block_size=8 << 20),
                parse_options=pa_csv.ParseOptions(delimiter=source.delimiter, newlines_in_values=True),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: pa.string() for name in header},
                    strings_can_be_null=True,
                    null_values=[""],
                ),
            )
            yield from reader
        except pa.ArrowInvalid as exc:
            raise SourceError(f"{path}: not a readable CSV file: {exc}") from None
