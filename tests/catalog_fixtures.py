"""A fresh PostgreSQL catalog database per test, on the session's throwaway PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from catalog.database import close_databases
from tests import publishers_fixtures

postgres_url = publishers_fixtures.postgres_url


def new_database(server_url: str) -> str:
    """Create an empty database on the server of ``server_url`` and return its URL."""
    name = "catalog_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def catalog_url(postgres_url: str) -> Iterator[str]:
    """URL of an empty PostgreSQL database for one test's catalog; its pools are closed afterwards."""
    yield new_database(postgres_url)
    close_databases()
