"""Quoting for SQL text we build ourselves (DuckDB, SQLite and PostgreSQL share these rules)."""

from __future__ import annotations

from pathlib import Path


def quote_identifier(name: str) -> str:
    """A column or table name as a double-quoted identifier, inner double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A string as a single-quoted SQL literal, inner single quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


def read_parquet_sql(path: Path) -> str:
    """``read_parquet('<path>')`` for a path our own code chose (never one from a request)."""
    return f"read_parquet({quote_literal(path.as_posix())})"
