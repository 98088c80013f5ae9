"""CSV files, local or over HTTP(S): every column read as text, in chunks.

The delimiter, the encoding and whether the first row is a header are declared in the job file, or
sniffed from the file when declared ``auto``.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
from pyarrow import csv as pa_csv

from opendata.errors import SourceError
from publishers.job import CsvSource, Job
from publishers.sources.fetch import local_file

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"


def sniff_encoding(path: Path) -> str:
    """UTF-8 (with or without a byte-order mark) when the whole file decodes as UTF-8, else Windows-1252."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _sample(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="", errors="replace") as handle:
        return handle.read(SNIFF_BYTES)


def _layout(path: Path, source: CsvSource) -> tuple[str, str, bool]:
    """The encoding, the delimiter and whether there is a header row, declared or sniffed."""
    encoding = sniff_encoding(path) if source.encoding == "auto" else source.encoding
    if encoding.replace("-", "").replace("_", "").lower() == "utf8":
        encoding = "utf-8-sig"  # a byte-order mark is not part of the first column's name
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SourceError(f"source.encoding {source.encoding!r} is not an encoding; try utf-8 or auto") from None
    sample = _sample(path, encoding)
    delimiter = source.delimiter
    if delimiter == "auto":
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
        except csv.Error:
            raise SourceError(f"{path}: cannot tell the delimiter; set source.delimiter") from None
    header = source.header
    if header == "auto":
        try:
            header = csv.Sniffer().has_header(sample)
        except csv.Error:
            header = True
    return encoding, delimiter, bool(header)


class CsvConnector:
    def batches(self, job: Job) -> Iterator[pa.RecordBatch]:
        source = job.source
        assert isinstance(source, CsvSource)
        with local_file(job, source, ".csv") as path:
            yield from self._read(path, source)

    def _read(self, path: Path, source: CsvSource) -> Iterator[pa.RecordBatch]:
        encoding, delimiter, has_header = _layout(path, source)
        try:
            with open(path, encoding=encoding, newline="") as handle:
                first = next(csv.reader(handle, delimiter=delimiter), None)
        except UnicodeDecodeError as exc:
            raise SourceError(f"{path}: cannot read as {encoding}: {exc}; set source.encoding (or auto)") from None
        if not first:
            raise SourceError(f"{path}: the file is empty; expected a header row")
        if source.columns is not None:
            if len(source.columns) != len(first):
                raise SourceError(
                    f"{path}: source.columns names {len(source.columns)} columns but the file has {len(first)}"
                )
            names = list(source.columns)
        elif has_header:
            names = first
        else:
            names = [f"column_{i}" for i in range(1, len(first) + 1)]
        duplicates = sorted({h for h in names if names.count(h) > 1})
        if duplicates:
            raise SourceError(f"{path}: duplicate column names in the header: {', '.join(duplicates)}")
        try:
            reader = pa_csv.open_csv(
                path,
                read_options=pa_csv.ReadOptions(
                    encoding=encoding, block_size=8 << 20, column_names=names, skip_rows=1 if has_header else 0
                ),
                parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: pa.string() for name in names},
                    strings_can_be_null=True,
                    null_values=[""],
                ),
            )
            yield from reader
        except pa.ArrowInvalid as exc:
            line = _first_bad_line(path, encoding, delimiter, len(names))
            where = f"line {line[0]}: expected {len(names)} fields, found {line[1]}" if line else "not readable as CSV"
            raise SourceError(f"{path}: not a readable CSV file: {exc}").with_public(
                f"source-error: {path.name}, {where}") from None


def _first_bad_line(path: Path, encoding: str, delimiter: str, fields: int) -> tuple[int, int] | None:
    """The first physical line (1-based) of a record whose field count differs from the header's, and that
    count: where a parse error is, said without quoting the record."""
    try:
        with open(path, encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            start = 1
            for record in reader:
                if record and len(record) != fields:
                    return start, len(record)
                start = reader.line_num + 1
    except (csv.Error, UnicodeDecodeError):
        return None
    return None
