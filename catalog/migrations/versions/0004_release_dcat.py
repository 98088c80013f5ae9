"""DCAT facts in the catalog: each release's temporal coverage and file byte sizes, read with its releases.

- ``release_dcat``: one row per release, written in the transaction that records it (``Catalog.record_release``)
  from the facts the publish stage computed (``facts.json`` keeps them too). A page of the DCAT catalog reads
  the rows of its releases in one query, instead of reading and parsing one ``facts.json`` per release from
  the storage (about 0.7 ms a release with a cold cache, most of a page built from scratch at 50,000 datasets).
- Releases recorded before this revision have no row: ``opendata db upgrade`` copies theirs from their
  ``facts.json`` after the migration (``catalog.release_dcat.backfill``); until then, and for a release whose
  row is missing, the page reads the file as before.

The previous release's code reads and writes a catalog at this revision as before: it never reads the table,
and the releases it records have no row (their facts come from ``facts.json``, as for older releases).

Revision ID: 0004_release_dcat
Revises: 0003_facet_sets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_release_dcat"
down_revision: str | None = "0003_facet_sets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "release_dcat",
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("number", big, nullable=False),
        sa.Column("coverage", sa.Text(), nullable=True),
        sa.Column("byte_sizes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("dataset", "number"),
        sa.ForeignKeyConstraint(["dataset", "number"], ["releases.dataset", "releases.number"]),
    )


def downgrade() -> None:
    """Back to 0003: the table goes (the previous code never reads it)."""
    op.drop_table("release_dcat")
