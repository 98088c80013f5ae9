"""Excel workbooks (.xlsx), local or over HTTP(S): one sheet, streamed row by row with openpyxl."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from opendata.errors import SourceError
from publishers.job import ExcelSource, Job
from publishers.sources import text_batch
from publishers.sources.fetch import local_file

CHUNK_ROWS = 20_000


def _integral(value: Any) -> Any:
    # Excel stores every number as a float; 42.0 in a cell typed as a whole number reads back as 42.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


class ExcelConnector:
    def batches(self, job: Job) -> Iterator[pa.RecordBatch]:
        from openpyxl import load_workbook

        source = job.source
        assert isinstance(source, ExcelSource)
        with local_file(job, source, ".xlsx") as path:
            try:
                book = load_workbook(path, read_only=True, data_only=True)
            except (zipfile.BadZipFile, KeyError, OSError) as exc:
                raise SourceError(f"{path}: not a readable .xlsx workbook: {exc}") from None
            try:
                sheets = book.sheetnames
                if isinstance(source.sheet, int):
                    if source.sheet >= len(sheets):
                        raise SourceError(f"{path}: has {len(sheets)} sheet(s); no sheet {source.sheet}")
                    sheet = book[sheets[source.sheet]]
                elif source.sheet in sheets:
                    sheet = book[source.sheet]
                else:
                    raise SourceError(f"{path}: no sheet {source.sheet!r}; its sheets are {', '.join(sheets)}")
                yield from self._rows(sheet, source, str(path))
            finally:
                book.close()

    def _rows(self, sheet: Any, source: ExcelSource, where: str) -> Iterator[pa.RecordBatch]:
        rows = sheet.iter_rows(min_row=source.header_row, values_only=True)
        header = next(rows, None)
        if not header or all(h is None for h in header):
            raise SourceError(f"{where}: row {source.header_row} of the sheet is empty; set source.header_row")
        width = max(i for i, h in enumerate(header) if h is not None) + 1
        names = [str(h).strip() if h is not None else f"column_{i + 1}" for i, h in enumerate(header[:width])]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise SourceError(f"{where}: duplicate column names in the header: {', '.join(duplicates)}")
        chunk: list[list[Any]] = []
        for row in rows:
            values = [_integral(v) for v in (list(row[:width]) + [None] * (width - len(row)))]
            if all(v is None or v == "" for v in values):
                continue
            chunk.append(values)
            if len(chunk) >= CHUNK_ROWS:
                yield text_batch(names, chunk)
                chunk = []
        yield text_batch(names, chunk)
