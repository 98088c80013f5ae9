"""Alembic's entry point for the catalog: always run by ``catalog.schema_version`` on a connection it holds
(inside its transaction and, on PostgreSQL, its advisory lock), never from an alembic.ini."""

from __future__ import annotations

from alembic import context

from catalog.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
