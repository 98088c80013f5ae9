"""The catalog's schema as SQLAlchemy ``MetaData``: what the Alembic migrations (``catalog/migrations``) make.

The tables both databases share. What one database adds is made by the migrations beside these tables:
on SQLite the full-text index ``search_fts`` (an FTS5 virtual table); on PostgreSQL the ``tsvector`` column
``search_documents.document`` with its GIN index, the ``runs.seq`` identity (PostgreSQL has no rowid: runs
started in the same second keep their order), and the ``catalog_version`` change counter with the triggers
that bump it and NOTIFY replicas. A change to this file comes with a new migration: a file in
``catalog/migrations/versions/`` (``revision``, ``down_revision`` = the previous head, ``upgrade()`` and
``downgrade()`` with ``alembic.op``; compatible with the previous release's code, see docs/deploy.md), and
``HEAD`` in ``catalog/schema_version.py`` set to its revision. ``tests/test_schema_upgrade.py`` checks that
the migrations make exactly this schema and that ``HEAD`` is the newest revision.

Integers are 64-bit on PostgreSQL (``BIGINT``) and SQLite's ``INTEGER``; auto-numbered ids are identity
columns on PostgreSQL and ``INTEGER PRIMARY KEY AUTOINCREMENT`` on SQLite. Timestamps are RFC 3339 text.
"""

from __future__ import annotations

from sqlalchemy import (
    DOUBLE_PRECISION,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)

INT = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()


def _id() -> Column[int]:
    return Column("id", INT, Identity(), primary_key=True)


organizations = Table(
    "organizations", metadata,
    Column("name", Text, primary_key=True),
    Column("title", Text, nullable=False),
)
datasets = Table(
    "datasets", metadata,
    Column("name", Text, primary_key=True),
    Column("organization", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("license", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("schedule", Text),
    Column("timezone", Text, nullable=False),
    Column("frequency", Text),
    Column("homepage", Text),
    Column("updated_at", Text, nullable=False),
    Column("metadata", Text, nullable=False, server_default=text("'{}'")),  # contact point, spatial, themes
    # The metadata's organisation profile again (JSON, or NULL), for its indexed lookup (migration 0002).
    Column("organization_profile", Text),
    ForeignKeyConstraint(["organization"], ["organizations.name"]),
)
releases = Table(
    "releases", metadata,
    Column("dataset", Text, primary_key=True),
    Column("number", INT, primary_key=True),
    Column("state", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("published_at", Text),
    Column("rows", INT, nullable=False),
    Column("table_schema", Text, nullable=False),
    Column("folder", Text, nullable=False),
    Column("files", Text, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("policy_hash", Text, nullable=False),
    ForeignKeyConstraint(["dataset"], ["datasets.name"]),
)
#: Each release's DCAT facts (migration 0004), written with the release: its temporal coverage (JSON
#: ``{"start", "end"}`` or NULL) and the byte size of each of its files (JSON), so that a DCAT page reads them
#: with its releases instead of each release's ``facts.json``.
release_dcat = Table(
    "release_dcat", metadata,
    Column("dataset", Text, primary_key=True),
    Column("number", INT, primary_key=True),
    Column("coverage", Text),
    Column("byte_sizes", Text, nullable=False),
    ForeignKeyConstraint(["dataset", "number"], ["releases.dataset", "releases.number"]),
)
runs = Table(
    "runs", metadata,
    Column("run_id", Text, primary_key=True),
    Column("dataset", Text, nullable=False),
    Column("job_path", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("ended_at", Text),
    Column("rows_in", INT),
    Column("rows_out", INT),
    Column("release", INT),
    Column("error", Text),
    Column("report_folder", Text),
    Column("stages", Text, nullable=False, server_default=text("'{}'")),
    Column("attempt", INT, nullable=False, server_default=text("1")),
    Column("trigger", Text, nullable=False, server_default=text("'manual'")),
    Column("worker", Text),
    Column("rows_by_stage", Text, nullable=False, server_default=text("'{}'")),
    Column("public_error", Text),
)
dataset_transfers = Table(
    "dataset_transfers", metadata,
    Column("dataset", Text, nullable=False),
    Column("from_organization", Text, nullable=False),
    Column("to_organization", Text, nullable=False),
    Column("job_path", Text, nullable=False),
    Column("at", Text, nullable=False),
)
approvals = Table(
    "approvals", metadata,
    _id(),
    Column("dataset", Text, nullable=False),
    Column("number", INT, nullable=False),
    Column("decision", Text, nullable=False),
    Column("decided_by", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("via", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_at", Text, nullable=False),
    CheckConstraint("decision IN ('approved', 'rejected')"),
    ForeignKeyConstraint(["dataset", "number"], ["releases.dataset", "releases.number"]),
    sqlite_autoincrement=True,
)
api_keys = Table(
    "api_keys", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("key_hash", Text, nullable=False, unique=True),
    Column("created_at", Text, nullable=False),
    Column("revoked_at", Text),
)
events = Table(
    "events", metadata,
    _id(),
    Column("type", Text, nullable=False),
    Column("dataset", Text, nullable=False),
    Column("release", INT, nullable=False),
    Column("rows", INT, nullable=False),
    Column("created_at", Text, nullable=False),
    sqlite_autoincrement=True,
)
webhook_subscriptions = Table(
    "webhook_subscriptions", metadata,
    Column("id", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("dataset", Text),
    Column("event_types", Text, nullable=False),
    Column("row_filter", Text),
    Column("secret", Text, nullable=False),
    Column("active", INT, nullable=False, server_default=text("1")),
    Column("failures", INT, nullable=False, server_default=text("0")),
    Column("disabled_reason", Text),
    Column("created_at", Text, nullable=False),
)
webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    _id(),
    Column("subscription", Text, nullable=False),
    Column("event", INT, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", INT, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DOUBLE_PRECISION, nullable=False),
    Column("claimed_until", DOUBLE_PRECISION),
    Column("last_status", INT),
    Column("last_error", Text),
    Column("created_at", Text, nullable=False),
    Column("finished_at", Text),
    sqlite_autoincrement=True,
)
search_documents = Table(
    "search_documents", metadata,
    _id(),
    Column("name", Text, nullable=False, unique=True),
    Column("organization", Text, nullable=False),
    Column("organization_title", Text, nullable=False),
    Column("license", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("sort_title", Text, nullable=False),
    Column("latest_release", INT, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("columns", Text, nullable=False),
    Column("formats", Text, nullable=False),
    # What a hit shows, written with the document (migration 0002): the dataset record (``Dataset`` JSON, with
    # its latest release) and the API's public summary of it without its URL (``catalog.search_index``).
    Column("record", Text, nullable=False, server_default=text("'{}'")),
    Column("summary", Text, nullable=False, server_default=text("'{}'")),
    # The document's facet set (migration 0003): NULL when the previous release's code wrote it.
    Column("facet_set", INT),
    sqlite_autoincrement=True,
)
# Each distinct combination of a document's facet values, by its canonical JSON, and the values of each.
search_facet_sets = Table(
    "search_facet_sets", metadata,
    _id(),
    Column("key", Text, nullable=False, unique=True),
    sqlite_autoincrement=True,
)
search_facet_values = Table(
    "search_facet_values", metadata,
    Column("facet_set", INT, nullable=False),
    Column("facet", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("title", Text),
    PrimaryKeyConstraint("facet_set", "facet", "value"),
    sqlite_with_rowid=False,
)
search_terms = Table(
    "search_terms", metadata,
    Column("doc", INT, nullable=False),
    Column("facet", Text, nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("facet", "value", "doc"),
)
search_layout = Table(
    "search_layout", metadata,
    Column("id", INT, primary_key=True, autoincrement=False),
    Column("layout", INT, nullable=False),
    CheckConstraint("id = 1"),
)
ckan_packages = Table(
    "ckan_packages", metadata,
    Column("name", Text, primary_key=True),
    Column("owner_org", Text, nullable=False),
    Column("document", Text, nullable=False),
    Column("created", Text, nullable=False),
    Column("modified", Text, nullable=False),
)
harvest_runs = Table(
    "harvest_runs", metadata,
    Column("run_id", Text, primary_key=True),
    Column("harvest", Text, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("ended_at", Text),
    Column("error", Text),
    Column("report", Text),
)
job_cursors = Table(  # incremental jobs: the last cursor value each dataset's source was read to
    "job_cursors", metadata,
    Column("dataset", Text, primary_key=True),
    Column("cursor_column", Text, nullable=False),
    Column("value", Text),
    Column("run_id", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)
source_columns = Table(
    "source_columns", metadata,
    Column("dataset", Text, primary_key=True),
    Column("run_id", Text, primary_key=True),
    Column("columns", Text, nullable=False),
    Column("changes", Text, nullable=False),
)

# The lookups the API and workers make per request or per poll.
Index("runs_by_dataset", runs.c.dataset, runs.c.started_at)
Index("releases_by_state", releases.c.state, releases.c.dataset, releases.c.number)
Index("runs_by_start", runs.c.started_at)
Index("runs_by_state", runs.c.state, runs.c.started_at)
Index("datasets_by_organization", datasets.c.organization, datasets.c.name)
Index("datasets_with_organization_profile", datasets.c.organization, datasets.c.updated_at,
      sqlite_where=datasets.c.organization_profile.isnot(None),
      postgresql_where=datasets.c.organization_profile.isnot(None))
Index("datasets_scheduled", datasets.c.name, sqlite_where=datasets.c.schedule.isnot(None),
      postgresql_where=datasets.c.schedule.isnot(None))
Index("approvals_by_release", approvals.c.dataset, approvals.c.number)
Index("events_by_dataset", events.c.dataset, events.c.id)
Index("webhook_deliveries_due", webhook_deliveries.c.status, webhook_deliveries.c.next_attempt_at)
Index("webhook_deliveries_by_subscription", webhook_deliveries.c.subscription, webhook_deliveries.c.id)
Index("search_documents_by_title", search_documents.c.sort_title, search_documents.c.name)
Index("search_documents_by_update", search_documents.c.updated_at)
Index("search_documents_by_organization", search_documents.c.organization, search_documents.c.sort_title,
      search_documents.c.name)
Index("search_terms_by_doc", search_terms.c.doc)
# What a search reads of each hit (its set, the filters' columns, its name), without the wide document row.
Index("search_documents_hits", search_documents.c.id, search_documents.c.facet_set, search_documents.c.organization,
      search_documents.c.license, search_documents.c.name)
