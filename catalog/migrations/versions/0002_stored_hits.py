"""Stored hits and organisation profiles: what a search hit and an organisation page read, kept with the row.

- ``search_documents.record`` and ``search_documents.summary``: each search document's dataset record
  (``Dataset`` JSON, with its latest release) and the API's public summary of it (without its URL), written
  in the transaction that writes the document (``catalog.search_index``), so a page of hits is one query and
  builds no model. Existing documents are written again by the index's layout change (``LAYOUT`` 3; the
  upgrade clears the layout stamp, so a catalog is indexed once when a process of this code first opens
  it, also after a downgrade and an upgrade again). A document written meanwhile by the previous release's
  code (a rolling upgrade) has the default ``{}``: its hit is read from ``datasets`` as before.
- ``datasets.organization_profile``: the organisation profile of the dataset's metadata again (JSON, or
  NULL), with a partial index by (organisation, updated_at) over the datasets that give one, so an
  organisation's profile is one indexed lookup instead of a scan of its datasets' metadata. Filled here from
  the metadata of every dataset.

The previous release's code reads and writes a catalog at this revision as before (it names its columns;
the new ones have defaults), so the schema can go first in a rolling upgrade (docs/deploy.md).

Revision ID: 0002_stored_hits
Revises: 0001_baseline
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_stored_hits"
down_revision: str | None = "0001_baseline"
branch_labels = None
depends_on = None

PROFILE_INDEX = "datasets_with_organization_profile"
FILL_PROFILE = {
    "sqlite": "UPDATE datasets SET organization_profile = json_extract(metadata, '$.organization_profile') "
              "WHERE json_valid(metadata) AND json_type(metadata, '$.organization_profile') = 'object'",
    "postgresql": "UPDATE datasets SET organization_profile = (metadata::jsonb -> 'organization_profile')::text "
                  "WHERE jsonb_typeof(metadata::jsonb -> 'organization_profile') = 'object'",
}


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("search_documents", sa.Column("record", sa.Text(), nullable=False, server_default=sa.text("'{}'")))
    op.add_column("search_documents", sa.Column("summary", sa.Text(), nullable=False,
                                                server_default=sa.text("'{}'")))
    op.add_column("datasets", sa.Column("organization_profile", sa.Text(), nullable=True))
    op.execute(FILL_PROFILE[bind.dialect.name])
    where = sa.text("organization_profile IS NOT NULL")
    op.create_index(PROFILE_INDEX, "datasets", ["organization", "updated_at"], sqlite_where=where,
                    postgresql_where=where)
    op.execute("DELETE FROM search_layout")  # every document's hit is written by the next process that opens it


def downgrade() -> None:
    """Back to the baseline: the columns and the index go (the previous code never reads them)."""
    op.drop_index(PROFILE_INDEX, table_name="datasets")
    # ALTER TABLE ... DROP COLUMN on both (SQLite since 3.35): no copy of the tables
    for table, column in (("datasets", "organization_profile"), ("search_documents", "summary"),
                          ("search_documents", "record")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute("DELETE FROM search_layout")  # the previous code indexes the catalog again in its own layout
