"""A real PostgreSQL server for the journal tests: one throwaway cluster per session
(see pg_cluster.py), and a fresh schema per test so tests never see each other's rows."""

from __future__ import annotations

import atexit
import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pg_cluster import PgCluster

_schemas = itertools.count()

# The mutation engine (mutation/run.py sets this) forks its session once per mutant: a
# server started here, at collection, serves every fork, where one started by the fixture
# would be started anew in each (and mark every test as one that starts a process).
_AT_COLLECTION: PgCluster | None = None
if os.environ.get("FKS_EXEC_PG_START_AT_COLLECTION") == "1":
    _AT_COLLECTION = PgCluster().start()
    atexit.register(_AT_COLLECTION.stop)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    if _AT_COLLECTION is not None:
        yield _AT_COLLECTION
        return
    cluster = PgCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """The URL of an empty schema of its own on the session's server."""
    name = f"t{os.getpid()}_{next(_schemas)}"  # unique across forks of one session too
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    return pg_cluster.url(search_path=name)
