"""Read a CSV file into the engine's cell table, keeping what frictionless sees in a file.

pyarrow's multithreaded CSV reader does the bulk work, every cell as text. Rows with too few or too many
cells are not dropped: the first pass only notices them; a second, single-threaded pass learns their row
numbers and hands each one's text to Python's csv module, so missing and extra cells are reported where
they are. The dialect is guessed as frictionless guesses it (``csv.Sniffer`` over the first 100 lines,
delimiters ``,\\t;|``).
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from opendata.errors import ValidationInputError

SAMPLE_LINES = 100


@dataclass
class CsvCells:
    labels: list[str]
    table: pa.Table  # _row, _width, c1..cN (N = number of labels)
    extra_cells: list[tuple[int, int, str]] = field(default_factory=list)  # (row, field number, cell)


@dataclass(frozen=True)
class Dialect:
    delimiter: str = ","
    quotechar: str = '"'
    doublequote: bool = True
    escapechar: str | None = None
    skipinitialspace: bool = False


def sniff(path: Path, encoding: str) -> Dialect:
    with open(path, encoding=encoding, newline="") as handle:
        sample = "".join(islice(handle, SAMPLE_LINES))
    try:
        found = csv.Sniffer().sniff(sample, ",\t;|")
    except csv.Error:
        return Dialect()
    quote = '"' if found.quotechar == "'" else (found.quotechar or '"')
    # frictionless takes the delimiter, quote and escape characters from the sniffer, never doublequote
    return Dialect(found.delimiter, quote, True, found.escapechar, found.skipinitialspace)


def _guess_encoding(path: Path) -> str:
    import chardet

    with open(path, "rb") as handle:
        found = chardet.detect(handle.read(1 << 16))
    return str(found.get("encoding") or "latin-1")


def header_row(path: Path, encoding: str, dialect: Dialect) -> tuple[int, int]:
    """frictionless's guess of the header row: the first of the first 100 rows whose width is within 10% of
    their average width, so that comment lines above a header are skipped. Returns (rows above it, width)."""
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=dialect.delimiter, quotechar=dialect.quotechar,
                            doublequote=dialect.doublequote, escapechar=dialect.escapechar,
                            skipinitialspace=dialect.skipinitialspace)
        widths = [len(row) for row in islice(reader, SAMPLE_LINES)]
    if not widths:
        return 0, 0
    width = round(sum(widths) / len(widths))
    drift = max(round(width * 0.1), 1)
    number = next((n for n, w in enumerate(widths, start=1) if width - drift <= w <= width + drift), 1)
    return number - 1, widths[number - 1]


# Fields as large as a file may hold: the csv module's default (128 KiB) refused a long text cell outright.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def cells_table(columns: list[pa.Array] | list[pa.ChunkedArray], rows: pa.Array, widths: pa.Array) -> pa.Table:
    names = ["_row", "_width"] + [f"c{i}" for i in range(1, len(columns) + 1)]
    return pa.Table.from_arrays([rows, widths, *columns], names=names)


def read_csv_cells(path: Path, encoding: str = "utf-8", dialect: Dialect | None = None) -> CsvCells:
    """The file's cells as text; a file that cannot be read as CSV is a ValidationInputError naming why."""
    if not path.is_file():
        raise ValidationInputError(f"{path} is not a file; name a CSV file to validate")
    try:
        cells = _read_cells(path, encoding, dialect)
    except csv.Error as exc:  # Python's csv module, which guesses the dialect: e.g. a field past its limit
        raise ValidationInputError(f"{path} cannot be read as CSV: {exc}") from None
    except pa.ArrowInvalid as exc:
        raise ValidationInputError(f"{path} cannot be read as CSV: {str(exc).splitlines()[0][:200]}") from None
    for number, label in enumerate(cells.labels, start=1):
        if "\x00" in label:
            raise ValidationInputError(
                f"{path}: the header's column {number} holds a NUL byte, which no column name may; fix the header "
                "(the file may not be text, or not in this encoding)"
            )
    return cells


def _read_cells(path: Path, encoding: str, dialect: Dialect | None) -> CsvCells:
    try:
        dialect = dialect or sniff(path, encoding)
    except UnicodeDecodeError:  # frictionless guesses the encoding with chardet when it is not given
        encoding = _guess_encoding(path)
        try:
            dialect = sniff(path, encoding)
        except UnicodeDecodeError as exc:
            raise ValidationInputError(f"{path} is not {encoding} text ({exc.reason}); pass its encoding") from None
    skip, header_width = header_row(path, encoding, dialect)
    table, bad = _read(path, encoding, dialect, skip, header_width)
    if table is None or table.num_rows == 0 and not bad:
        return CsvCells([], cells_table([], pa.array([], pa.int64()), pa.array([], pa.int32())))
    labels = [str(v) for v in table.slice(0, 1).to_pylist()[0].values()] if table.num_rows else []
    width = len(labels)
    good = table.slice(1)
    numbers = np.arange(skip + 1, skip + table.num_rows + len(bad) + 1, dtype=np.int64)
    bad_numbers = np.array([number for number, _ in bad], dtype=np.int64)
    good_numbers = numbers[~np.isin(numbers, bad_numbers)][1:]
    columns = [good.column(i) for i in range(width)]
    if dialect.skipinitialspace:
        columns = [pc.utf8_ltrim(c, characters=" ") for c in columns]
    widths = pa.array(np.full(good.num_rows, width, dtype=np.int32))
    result = cells_table(columns, pa.array(good_numbers), widths)
    extra: list[tuple[int, int, str]] = []
    if bad:
        ragged = list(zip([number for number, _ in bad], _split_rows([text for _, text in bad], dialect),
                          strict=True))
        padded = [[cells[i] if i < len(cells) else None for (_, cells) in ragged] for i in range(width)]
        extra = [(number, i, cell) for number, cells in ragged for i, cell in enumerate(cells[width:], width + 1)]
        result = pa.concat_tables([result, cells_table(
            [pa.array(p, pa.string()) for p in padded],
            pa.array([n for n, _ in ragged], pa.int64()),
            pa.array([len(c) for _, c in ragged], pa.int32()))])
    return CsvCells(labels, result, extra)


def _read(path: Path, encoding: str, dialect: Dialect, skip: int, width: int) -> tuple[pa.Table | None, list]:
    bad: list[tuple[int, str]] = []

    def keep(row: pacsv.InvalidRow) -> str:
        bad.append((row.number or 0, row.text))  # counts the skipped rows too
        return "skip"

    # Single-threaded: only then does pyarrow number the ragged rows it hands back (and on two cores the
    # threaded reader was not faster).
    read = pacsv.ReadOptions(autogenerate_column_names=True, use_threads=False, encoding=encoding, skip_rows=skip,
                             block_size=1 << 22)
    parse = pacsv.ParseOptions(delimiter=dialect.delimiter, quote_char=dialect.quotechar,
                               double_quote=dialect.doublequote, escape_char=dialect.escapechar or False,
                               newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=keep)
    convert = pacsv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(width + 64)},
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    try:
        try:
            table = pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc):
                raise
            # A row longer than a block (a field of many MB): read again in blocks as large as the file.
            bad.clear()
            read.block_size = min(max(path.stat().st_size + 1, 1 << 22), 2**31 - 1)
            table = pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return None, []
        raise ValidationInputError(f"{path} cannot be read as CSV: {exc}") from None
    return table, bad


def _split_rows(texts: list[str], dialect: Dialect) -> list[list[str]]:
    """Each row's text split into cells. One reader over all of them when each text closes its quotes
    (an even number of quote characters, no escape character), else one reader per row."""
    q = dialect.quotechar
    if dialect.escapechar is None and all(text.count(q) % 2 == 0 for text in texts):
        rows = list(csv.reader(texts, delimiter=dialect.delimiter, quotechar=q, doublequote=dialect.doublequote,
                               skipinitialspace=dialect.skipinitialspace))
        if len(rows) == len(texts):
            return rows
    return [_split(text, dialect) for text in texts]


def _split(text: str, dialect: Dialect) -> list[str]:
    if text == "":
        return []
    reader = csv.reader(io.StringIO(text), delimiter=dialect.delimiter, quotechar=dialect.quotechar,
                        doublequote=dialect.doublequote, escapechar=dialect.escapechar,
                        skipinitialspace=dialect.skipinitialspace)
    return next(reader, [])
