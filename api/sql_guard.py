"""What a read-only SQL query may name, checked on DuckDB's own parse tree (``json_serialize_sql``).

The SQL engine is locked down on its own (only published files are readable, configuration locked, no
extensions); this guard is the first wall and the one that explains: it refuses, with a message naming
the problem,

- anything but exactly one SELECT statement (``check_read_only``);
- table functions other than a few generators (``read_csv``, ``read_parquet``, ``glob``, ``query``,
  ``duckdb_settings`` ...), since tables are what a query reads;
- tables other than the published datasets, their pinned releases and the query's own CTEs
  (``information_schema``, ``duckdb_*`` views, another catalog, ``AT (VERSION ...)``);
- functions that read settings, variables or the environment (``current_setting``, ``getenv``).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Collection, Iterator
from typing import Any

import duckdb

from api.engine import check_read_only
from opendata.errors import QueryError

ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
DENIED_FUNCTIONS = frozenset({
    "current_setting", "getenv", "getvariable", "current_database", "current_catalog", "current_schema",
    "current_schemas", "version", "read_text", "read_blob", "glob", "query", "query_table", "sql_auto_complete",
    "which_secret", "enable_logging", "disable_logging", "truncate_duckdb_logs", "export_state",
})
DENIED_PREFIXES = ("duckdb_", "pragma_", "pg_", "sqlite_", "parquet_", "icu_")


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


_PARSER: list[duckdb.DuckDBPyConnection] = []
_PARSER_LOCK = threading.Lock()


def _parser() -> duckdb.DuckDBPyConnection:
    """A cursor of the process's one parsing DuckDB (it reads nothing: ``json_serialize_sql`` parses its
    argument), locked down like the engines."""
    with _PARSER_LOCK:
        if not _PARSER:
            con = duckdb.connect(":memory:", config={"enable_external_access": False, "threads": 1})
            con.execute("SET lock_configuration = true")
            _PARSER.append(con)
        return _PARSER[0].cursor()


def parse_tree(sql: str) -> dict[str, Any]:
    """DuckDB's parse tree of ``sql``, parsed by a cursor of one kept DuckDB (not a new database per query)."""
    cursor = _parser()
    try:
        row = cursor.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    finally:
        cursor.close()
    tree: dict[str, Any] = json.loads(row[0]) if row else {"error": True, "error_message": "no result"}
    if tree.get("error") and "Only SELECT" in str(tree.get("error_message")):
        raise QueryError("only one SELECT statement is allowed (no PRAGMA, SET, COPY, ATTACH ...)", parameter="sql")
    if tree.get("error"):
        raise QueryError(f"the SQL does not parse: {tree.get('error_message', 'unknown error')}", parameter="sql")
    return tree


def cte_names(tree: Any) -> set[str]:
    names: set[str] = set()
    for node in _nodes(tree):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            for entry in cte_map.get("map", []):
                if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                    names.add(entry["key"].lower())
    return names


#: Parse trees of recent queries up to this length are kept (by text; the callers only read them).
KEPT_TREES, KEPT_TREE_CHARS = 512, 4_000


@functools.lru_cache(maxsize=KEPT_TREES)
def _kept_tree(sql: str) -> dict[str, Any]:
    check_read_only(sql)
    return parse_tree(sql)


def parse_checked(sql: str) -> dict[str, Any]:
    """The parse tree of one read-only statement (length and statement type checked first). A query asked
    again (an app polling the same SQL) is not parsed again: its tree is kept, refusals are not."""
    if len(sql) > 100_000:
        raise QueryError("the SQL is over 100,000 characters; write a shorter query", parameter="sql")
    if len(sql) <= KEPT_TREE_CHARS:
        return _kept_tree(sql)
    check_read_only(sql)
    return parse_tree(sql)


def named_tables(tree: Any) -> set[str]:
    """The base tables a parse tree names (lower case), its own CTEs left out."""
    ctes = cte_names(tree)
    found = {str(n.get("table_name", "")).lower() for n in _nodes(tree) if n.get("type") == "BASE_TABLE"}
    return found - ctes


def check_sql(sql: str, tables: Collection[str], tree: dict[str, Any] | None = None) -> None:
    """Refuse ``sql`` unless it is one SELECT over ``tables`` (names as the SQL engine defines them);
    ``tree`` is its parse tree when the caller has it already (``parse_checked``)."""
    if tree is None:
        tree = parse_checked(sql)
    allowed = {t.lower() for t in tables} | cte_names(tree)
    for node in _nodes(tree):
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            function = node.get("function") or {}
            name = str(function.get("function_name", "")).lower()
            if name not in ALLOWED_TABLE_FUNCTIONS:
                raise QueryError(
                    f"the table function {name}() is not available: query the published tables "
                    "(GET /api/v1/sql/tables lists them)", parameter="sql",
                )
        elif kind == "BASE_TABLE":
            name = str(node.get("table_name", ""))
            schema, catalog = node.get("schema_name") or "", node.get("catalog_name") or ""
            if schema or catalog or name.lower() not in allowed:
                qualified = ".".join(p for p in (catalog, schema, name) if p)
                raise QueryError(
                    f"there is no published table '{qualified}': the tables are the dataset names (latest "
                    f'release) and "name@N" (release N), quoted, e.g. SELECT * FROM "{_example(tables)}"',
                    parameter="sql",
                )
            if node.get("at_clause"):
                raise QueryError("AT (...) time travel is not available; use \"name@N\" for release N",
                                 parameter="sql")
        elif node.get("class") == "FUNCTION" or kind == "FUNCTION":
            name = str(node.get("function_name", "")).lower()
            if name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES):
                raise QueryError(f"the function {name}() is not available in public SQL", parameter="sql")
            if node.get("schema") or node.get("catalog"):
                raise QueryError("functions may not be qualified with a schema or catalog", parameter="sql")


def _example(tables: Collection[str]) -> str:
    return next((t for t in sorted(tables) if "@" not in t), "dataset-name")
