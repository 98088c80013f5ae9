"""Facet sets: a search's facet counts grouped by the few distinct combinations its hits share.

- ``search_facet_sets``: one row per distinct combination of the facet values a document has (organisation
  with its title, licence, tags, formats), keyed by its canonical JSON; ``search_facet_values`` lists each
  set's values (one row a value, keyed by set). A set's rows never change: a document whose values change
  gets the set of its new values.
- ``search_documents.facet_set``: the document's set, written with it (``catalog.search_index``). Counting a
  search's facets groups its hits by set (one integer a hit, read from the covering index
  ``search_documents_hits``) and sums the values of each set, instead of joining every hit to its tags and
  formats. Existing documents get theirs from the index's layout change (``LAYOUT`` 4: the upgrade clears the
  layout stamp, so a catalog is indexed once when a process of this code first opens it).

The previous release's code reads and writes a catalog at this revision as before: it writes documents
without a set (the column is NULL), and the new code counts those documents' facets from ``search_terms``
as before, until the dataset is written again.

Revision ID: 0003_facet_sets
Revises: 0002_stored_hits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_facet_sets"
down_revision: str | None = "0002_stored_hits"
branch_labels = None
depends_on = None

HITS_INDEX = "search_documents_hits"
HITS_COLUMNS = ["id", "facet_set", "organization", "license", "name"]


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "search_facet_sets",
        sa.Column("id", big, sa.Identity(), primary_key=True),
        sa.Column("key", sa.Text(), nullable=False, unique=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "search_facet_values",
        sa.Column("facet_set", big, nullable=False),
        sa.Column("facet", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("facet_set", "facet", "value"),
        sqlite_with_rowid=False,
    )
    op.add_column("search_documents", sa.Column("facet_set", big, nullable=True))
    op.create_index(HITS_INDEX, "search_documents", HITS_COLUMNS)
    op.execute("DELETE FROM search_layout")  # every document's set is written by the next process that opens it


def downgrade() -> None:
    """Back to 0002: the column, the index and the tables go (the previous code never reads them)."""
    op.drop_index(HITS_INDEX, table_name="search_documents")
    op.execute("ALTER TABLE search_documents DROP COLUMN facet_set")
    op.drop_table("search_facet_values")
    op.drop_table("search_facet_sets")
    op.execute("DELETE FROM search_layout")  # the previous code indexes the catalog again in its own layout
