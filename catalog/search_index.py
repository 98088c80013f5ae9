"""The search documents, kept in the catalog database and updated in the transaction that changes them.

One row of ``search_documents`` per dataset with a published release: what the catalog's search lists and
facets (organisation and its title, licence, latest release, the column names of that release) and what
a hit shows (``record``: the dataset record, ``Dataset`` JSON; ``summary``: the API's public summary of it
without its URL, ``HitSummary`` JSON), with its tags and formats in ``search_terms`` (one row a value, for
the tag and format filters). Its facet values together (organisation with its title, licence, tags,
formats) are one row of ``search_facet_sets``, shared by every document with the same values, which the
document names (``facet_set``): facet counts group the hits by set, and most catalogs have far fewer sets
than datasets. The full-text index is the engine's own:

- SQLite: an FTS5 table ``search_fts`` (title, tags, columns, organisation, description; Porter stemming),
  its rowid the document's id;
- PostgreSQL: a ``tsvector`` column ``document`` (English stemming, the fields weighted A title, B tags,
  C columns, D organisation and description) under a GIN index, so every replica searches one index.

``refresh_documents`` runs inside the catalog's own writes (``upsert_dataset``, ``record_release``,
``set_release_state``, ``upsert_organization``); a search never rebuilds anything. A catalog made before
this index existed (or by an older layout of it) is indexed once when a process first opens it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from catalog.database import CatalogConnection, CatalogDatabase
from catalog.models import Dataset

#: Bump when what a document holds changes: catalogs indexed by an older layout are indexed again.
#: 3: each document stores its hit (``record`` and ``summary``, migration 0002).
#: 4: each document names its facet set (``facet_set``, migration 0003).
LAYOUT = 4
# Serialises the first indexing of a catalog across processes (an arbitrary, fixed advisory lock key).
INDEX_LOCK = 0x0DA7A_CA7

POSTGRES_DOCUMENT = (
    "setweight(to_tsvector('english', :title), 'A') || setweight(to_tsvector('english', :tags), 'B') || "
    "setweight(to_tsvector('english', :columns_text), 'C') || "
    "setweight(to_tsvector('english', :organization_text || ' ' || :description), 'D')"
)


def release_formats(files: dict[str, str] | None) -> list[str]:
    """The formats a release is offered in: its Parquet file, and CSV and JSON through the rows API."""
    if not files or "data.parquet" not in files:
        return []
    formats = ["Parquet", "CSV", "JSON"]
    if "datapackage.json" in files:
        formats.append("Data Package")
    return formats


def column_texts(table_schema: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(name, name + title + description) of each column of a release's schema."""
    found = []
    for field in (table_schema or {}).get("fields", []):
        name = str(field.get("name", ""))
        words = " ".join(str(field.get(k, "")) for k in ("name", "title", "description"))
        found.append((name, words.strip()))
    return found


class HitSummary(BaseModel):
    """What the API lists of a dataset (``DatasetSummaryPublic`` is this with its ``url``): stored as JSON with
    its search document, so a page of hits is spliced from stored text, serialised as the API serialises."""

    name: str
    title: str
    description: str
    organization: str
    license: str
    tags: list[str]
    latest_release: int | None


def record_of_row(row: Any) -> Dataset:
    """A ``Dataset`` from a row of ``datasets`` (plus its ``latest_release``): the record a document stores."""
    values = dict(row)
    values.pop("organization_profile", None)  # the metadata's own, stored again for its index
    values["tags"] = json.loads(values["tags"])
    values.update(json.loads(values.pop("metadata", None) or "{}"))
    return Dataset(**values)


def summary_of(dataset: Dataset) -> str:
    """The stored public summary of a dataset (JSON, without its URL)."""
    return HitSummary.model_validate(dataset.model_dump(include=set(HitSummary.model_fields))).model_dump_json()


def ensure_search_index(database: CatalogDatabase) -> None:
    """Index every dataset once when the catalog has no index of this layout (its tables: the migrations)."""
    with database.connect() as db:
        row = db.execute("SELECT layout FROM search_layout WHERE id = 1").fetchone()
    if row is not None and int(row[0]) == LAYOUT:
        return
    with database.transaction() as db:
        if database.dialect == "postgresql":
            db.execute("SELECT pg_advisory_xact_lock(?)", (INDEX_LOCK,))
        row = db.execute("SELECT layout FROM search_layout WHERE id = 1").fetchone()
        if row is not None and int(row[0]) == LAYOUT:
            return  # another process indexed it first
        rebuild_documents(db)
        db.execute(
            "INSERT INTO search_layout(id, layout) VALUES (1, ?) "
            "ON CONFLICT(id) DO UPDATE SET layout = excluded.layout",
            (LAYOUT,),
        )


def rebuild_documents(db: CatalogConnection) -> None:
    """Index every dataset again, inside the caller's transaction (a new layout, or rows copied in bulk)."""
    db.execute("DELETE FROM search_terms")
    db.execute("DELETE FROM search_documents")
    db.execute("DELETE FROM search_facet_values")  # sets no document names any more go with the rebuild
    db.execute("DELETE FROM search_facet_sets")
    if db.dialect == "sqlite":
        db.execute("DELETE FROM search_fts")
    refresh_documents(db, None)


def refresh_organization(db: CatalogConnection, organization: str) -> None:
    names = [r[0] for r in db.execute("SELECT name FROM datasets WHERE organization = ?", (organization,))]
    refresh_documents(db, names)


def refresh_documents(db: CatalogConnection, names: Iterable[str] | None) -> None:
    """Make the documents of ``names`` (None: every dataset) match the catalog, inside the caller's transaction."""
    wanted = None if names is None else sorted(set(names))
    if wanted is not None:
        if not wanted:
            return
        for name in wanted:
            _drop(db, name)
    for row in _sources(db, wanted):
        _insert(db, row)


def _drop(db: CatalogConnection, name: str) -> None:
    row = db.execute("SELECT id FROM search_documents WHERE name = ?", (name,)).fetchone()
    if row is None:
        return
    doc = int(row[0])
    db.execute("DELETE FROM search_terms WHERE doc = ?", (doc,))
    if db.dialect == "sqlite":
        db.execute("DELETE FROM search_fts WHERE rowid = ?", (doc,))
    db.execute("DELETE FROM search_documents WHERE id = ?", (doc,))


_SOURCES = (
    "SELECT d.name, d.organization, d.title, d.description, d.license, d.tags, d.schedule, d.timezone, "
    "d.frequency, d.homepage, d.metadata, o.title AS organization_title, "
    "d.updated_at, r.number, r.table_schema, r.files, (SELECT min(y.created_at) FROM releases y "
    "WHERE y.dataset = d.name AND y.state = 'published') AS first_created "
    "FROM datasets d JOIN organizations o ON o.name = d.organization "
    "JOIN releases r ON r.dataset = d.name AND r.number = (SELECT max(x.number) FROM releases x "
    "WHERE x.dataset = d.name AND x.state = 'published')"
)


#: The columns of ``_SOURCES`` that are the dataset's own row.
DATASET_COLUMNS = ("name", "organization", "title", "description", "license", "tags", "schedule", "timezone",
                   "frequency", "homepage", "updated_at", "metadata")


def _sources(db: CatalogConnection, names: list[str] | None) -> Iterable[Any]:
    if names is None:
        yield from db.execute(_SOURCES).fetchall()
        return
    for start in range(0, len(names), 500):
        chunk = names[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        yield from db.execute(f"{_SOURCES} WHERE d.name IN ({marks})", chunk).fetchall()


def _insert(db: CatalogConnection, row: Any) -> None:
    tags: list[str] = json.loads(row["tags"])
    columns = column_texts(json.loads(row["table_schema"]))
    formats = release_formats(json.loads(row["files"]))
    record = record_of_row({k: row[k] for k in DATASET_COLUMNS} | {"latest_release": int(row["number"])})
    values = {
        "name": row["name"], "organization": row["organization"], "organization_title": row["organization_title"],
        "license": row["license"], "title": row["title"], "sort_title": str(row["title"]).lower(),
        "latest_release": int(row["number"]), "updated_at": row["updated_at"], "created_at": row["first_created"],
        "columns": json.dumps([n for n, _ in columns]),
        "formats": json.dumps(formats),
        "record": record.model_dump_json(), "summary": summary_of(record),
        "facet_set": facet_set(db, [("organization", str(row["organization"]), str(row["organization_title"])),
                                    ("license", str(row["license"]), None),
                                    *[("tag", t, None) for t in sorted(set(tags))],
                                    *[("format", f, None) for f in formats]]),
    }
    texts = {
        "tags": " ".join(tags), "columns_text": " ".join(text for _, text in columns),
        "organization_text": f"{row['organization']} {row['organization_title']}", "description": row["description"],
    }
    names = ", ".join(values)
    marks = ", ".join(f":{k}" for k in values)
    if db.dialect == "postgresql":
        found = db.execute(
            f"INSERT INTO search_documents({names}, document) VALUES ({marks}, {POSTGRES_DOCUMENT}) RETURNING id",
            {**values, **texts},
        ).fetchone()
    else:
        found = db.execute(f"INSERT INTO search_documents({names}) VALUES ({marks}) RETURNING id", values).fetchone()
        db.execute(
            "INSERT INTO search_fts(rowid, title, tags, columns, organization, description) VALUES (?, ?, ?, ?, ?, ?)",
            (found[0], row["title"], texts["tags"], texts["columns_text"], texts["organization_text"],
             row["description"]),
        )
    doc = int(found[0])
    terms = [(doc, "tag", t) for t in sorted(set(tags))] + [(doc, "format", f) for f in formats]
    for term in terms:
        db.execute("INSERT INTO search_terms(doc, facet, value) VALUES (?, ?, ?)", term)


def facet_set(db: CatalogConnection, values: list[tuple[str, str, str | None]]) -> int:
    """The id of the set of these (facet, value, title) values, added when no document had them before."""
    key = json.dumps(sorted(values, key=lambda v: (v[0], v[1])), separators=(",", ":"))
    found = db.execute("SELECT id FROM search_facet_sets WHERE key = ?", (key,)).fetchone()
    if found is not None:
        return int(found[0])
    # Two writers adding the same set: the second's insert does nothing, and it reads the first's.
    found = db.execute("INSERT INTO search_facet_sets(key) VALUES (?) ON CONFLICT (key) DO NOTHING RETURNING id",
                       (key,)).fetchone()
    if found is None:
        return int(db.execute("SELECT id FROM search_facet_sets WHERE key = ?", (key,)).fetchone()[0])
    number = int(found[0])
    for facet, value, title in {(f, v): (f, v, t) for f, v, t in values}.values():
        db.execute("INSERT INTO search_facet_values(facet_set, facet, value, title) VALUES (?, ?, ?, ?)",
                   (number, facet, value, title))
    return number
