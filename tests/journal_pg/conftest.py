"""A real PostgreSQL server for the journal tests: one throwaway cluster per session
(see pg_cluster.py), and a fresh schema per test so tests never see each other's rows."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pg_cluster import PgCluster

_schemas = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """The URL of an empty schema of its own on the session's server."""
    name = f"t{next(_schemas)}"
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    return pg_cluster.url(search_path=name)
