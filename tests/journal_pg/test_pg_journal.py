"""The PostgreSQL journal against a real server: the shared conformance suite, the
model-based property test, schema versions and migration, and the password kept out
of every location, repr and error."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec import Order
from fks_exec.journal import Journal, JournalError, JournalSchemaError, JournalState, selection
from fks_exec.journal.models import JournalUpdate
from fks_exec.journal.postgres import PostgresJournal, migrate_database, safe_location
from fks_exec.journal.testing import JournalConformance
from fks_exec.redaction import known_secrets

_hyp = itertools.count()


class TestPostgresJournal(JournalConformance):
    @pytest.fixture
    async def journal(self, pg_url: str) -> AsyncIterator[Journal]:
        journal = PostgresJournal(pg_url)
        await journal.open()
        yield journal
        await journal.close()


def _order(cid: str) -> Order:
    return Order.market("X", "buy", 1, client_order_id=cid)


async def test_a_batch_claiming_one_id_twice_wins_it_once(pg_url: str) -> None:
    journal = PostgresJournal(pg_url)
    await journal.open()
    try:
        claims = await asyncio.gather(
            *(journal.claim(_order(f"b-{i % 7}"), "p", {}) for i in range(40))
        )
        updates = [JournalUpdate(f"b-{i % 7}", JournalState.SENT, f"k{i}") for i in range(21)]
        for update in updates:
            journal.record_soon(update)
        await journal.flush()
        events = await journal.events("b-0")
    finally:
        await journal.close()
    assert sum(c.claimed for c in claims) == 7
    assert [e.kind for e in events] == ["intent", "k0", "k7", "k14"]


OPS = st.lists(
    st.tuples(
        st.sampled_from(["claim", "sent", "final", "not_sent", "unknown"]),
        st.sampled_from(["a", "b", "c"]),
    ),
    max_size=20,
)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_postgres_agrees_with_memory_on_any_sequence(
    pg_cluster: object, ops: list[tuple[str, str]]
) -> None:
    from fks_exec.journal import MemoryJournal

    async def replay(journal: Journal) -> list[tuple[str, str, int, bool]]:
        await journal.open()
        seen = []
        try:
            for op, cid in ops:
                if op == "claim":
                    claim = await journal.claim(_order(cid), "p", {})
                    seen.append((op, cid, claim.entry.attempt, claim.claimed))
                elif await journal.get(cid) is not None:
                    await journal.record(JournalUpdate(cid, JournalState(op), op))
            for cid in "abc":
                entry = await journal.get(cid)
                events = await journal.events(cid)
                seen.append(("end", str(entry and entry.state), len(events), entry is None))
        finally:
            await journal.close()
        return seen

    url = _fresh_schema(pg_cluster)
    assert asyncio.run(replay(PostgresJournal(url))) == asyncio.run(replay(MemoryJournal()))


def _fresh_schema(cluster: object) -> str:

    name = f"h{next(_hyp)}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute(f"CREATE SCHEMA {name}")
    return cluster.url(search_path=name)  # type: ignore[attr-defined,no-any-return]


async def test_an_old_schema_names_the_migrating_command(pg_url: str) -> None:
    journal = PostgresJournal(pg_url)
    await journal.open()
    await journal.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE fks_exec_schema SET version = 0")
        conn.execute("DROP TABLE events")
        conn.execute("DROP TABLE orders")
        conn.execute("CREATE TABLE orders (client_order_id TEXT PRIMARY KEY)")
    # version 0 with an orders table of another shape: not a journal at all
    with pytest.raises(JournalSchemaError, match="not an fks-exec journal"):
        await PostgresJournal(pg_url).open()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE orders")
        conn.execute("DROP TABLE fks_exec_schema")
    await PostgresJournal(pg_url).open()  # an empty schema is created
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE fks_exec_schema SET version = 99")
    with pytest.raises(JournalSchemaError, match="newer than this fks-exec"):
        await PostgresJournal(pg_url).open()


async def test_migrate_brings_an_empty_version_table_up_to_date(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE fks_exec_schema (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO fks_exec_schema VALUES (0)")
    assert await migrate_database(pg_url) == (0, 1)
    assert await migrate_database(pg_url) == (1, 1)
    journal = PostgresJournal(pg_url)
    await journal.open()
    assert (await journal.claim(_order("m-1"), "p", {})).claimed
    await journal.close()


async def test_an_older_version_is_refused_with_the_migrate_command(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fks_exec.journal import postgres_schema, schema

    # Pretend this code is one version ahead: the stored version 1 is then "old".
    monkeypatch.setattr(schema, "STEPS", [*schema.STEPS, "SELECT 1"])
    monkeypatch.setattr(
        postgres_schema,
        "STEPS",
        [*postgres_schema.STEPS, ["ALTER TABLE orders ADD COLUMN IF NOT EXISTS x INT"]],
    )
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE fks_exec_schema (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO fks_exec_schema VALUES (0)")
    assert await migrate_database(pg_url) == (0, 2)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE fks_exec_schema SET version = 1")
    with pytest.raises(JournalSchemaError, match="fks-exec journal migrate --journal"):
        await PostgresJournal(pg_url).open()
    assert await migrate_database(pg_url) == (1, 2)
    await PostgresJournal(pg_url).open()


async def test_the_password_never_shows(pg_cluster: object) -> None:
    url = "postgresql://trader:s3cr3t-pw@127.0.0.1:1/db?connect_timeout=1"
    journal = selection.journal_from_spec(url)
    assert isinstance(journal, PostgresJournal)
    assert "s3cr3t" not in journal.location and "s3cr3t" not in repr(journal)
    assert safe_location(url) == "postgresql://trader@127.0.0.1:1/db"
    with pytest.raises(JournalError) as failed:
        await journal.open()
    # Not even a suppressed context: psycopg's error keeps the connection it tried,
    # password and all (exc.pgconn.password), and its message may quote the URL.
    assert failed.value.__cause__ is None and failed.value.__context__ is None
    assert "s3cr3t" not in str(failed.value) and "s3cr3t" not in repr(vars(failed.value))
    assert "cannot connect" in str(failed.value)
    with pytest.raises(JournalError) as migrating:
        await migrate_database(url, connect_timeout_s=1)
    assert migrating.value.__context__ is None and "s3cr3t" not in str(migrating.value)
    assert "s3cr3t-pw" in known_secrets().secrets  # masked in every log record too


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:pw-xyz@h/db?no_such_option=1",
        "postgresql://u:pw-xyz@[::1:5432/db",  # a typo in the IPv6 brackets
        "postgresql://u:pw-xyz%zz@h/db",  # a bad percent escape
    ],
)
def test_a_bad_url_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(JournalError) as failed:
        PostgresJournal(url)
    assert "pw-xyz" not in str(failed.value)
    assert failed.value.__context__ is None and failed.value.__cause__ is None


async def test_a_lost_connection_fails_the_claim_and_the_next_one_reconnects(
    pg_url: str,
) -> None:
    journal = PostgresJournal(pg_url)
    await journal.open()
    try:
        assert (await journal.claim(_order("c-1"), "p", {})).claimed
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'fks-exec journal'"
            )
        with pytest.raises(JournalError, match=r"journal write to .* failed"):
            await journal.claim(_order("c-2"), "p", {})
        assert await journal.get("c-2") is None  # that intent was never committed
        assert (await journal.claim(_order("c-2"), "p", {})).claimed  # reconnected
        assert not (await journal.claim(_order("c-1"), "p", {})).claimed
    finally:
        await journal.close()


async def test_claims_queued_in_one_loop_turn_share_a_batch_of_at_most_max_batch(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fks_exec.journal import postgres_writer

    monkeypatch.setattr(postgres_writer, "MAX_BATCH", 4)
    journal = PostgresJournal(pg_url)
    await journal.open()
    sizes: list[int] = []
    writer = journal._require()
    real_commit = writer._commit

    async def counting(batch: list[object]) -> object:
        sizes.append(len(batch))
        return await real_commit(batch)  # type: ignore[arg-type]

    writer._commit = counting  # type: ignore[method-assign,assignment]
    try:
        claims = await asyncio.gather(
            *(journal.claim(_order(f"g-{i}"), "p", {}) for i in range(10))
        )
        assert all(claim.claimed for claim in claims)
        assert sizes == [4, 4, 2]  # group commit, capped at MAX_BATCH
        entries = await journal.entries()
        assert sorted(e.client_order_id for e in entries) == sorted(f"g-{i}" for i in range(10))
    finally:
        await journal.close()


def test_an_error_message_is_its_first_line_with_the_secret_masked() -> None:
    from fks_exec.journal.postgres_writer import message

    assert message(ValueError("bad pw-1 here\nDETAIL: more"), "pw-1") == "bad *** here"
    assert message(ValueError("  "), None) == "ValueError"
    assert message(KeyError("x"), None) == "'x'"


async def test_a_queued_update_that_fails_is_logged_and_one_that_succeeds_is_not(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    journal = PostgresJournal(pg_url)
    await journal.open()
    try:
        assert (await journal.claim(_order("q-1"), "p", {})).claimed
        with caplog.at_level(logging.ERROR, logger="fks_exec.journal"):
            journal.record_soon(JournalUpdate("q-1", JournalState.SENT, "result"))
            await journal.flush()
            assert caplog.text == ""
            journal.record_soon(JournalUpdate("q-missing", JournalState.SENT, "result"))
            await journal.flush()
        assert "journal: queued result of q-missing failed" in caplog.text
    finally:
        await journal.close()


async def test_the_writer_survives_a_reconnect_that_fails(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = PostgresJournal(pg_url)
    await journal.open()
    writer = journal._require()
    try:
        assert (await journal.claim(_order("r-1"), "p", {})).claimed
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'fks-exec journal'"
            )
        with pytest.raises(JournalError):
            await journal.claim(_order("r-2"), "p", {})  # the connection broke
        real_reconnect = writer._reconnect

        async def refused() -> object:
            raise JournalError("cannot connect to the journal: server away")

        writer._reconnect = refused  # type: ignore[assignment]
        with pytest.raises(JournalError, match="server away"):
            await asyncio.wait_for(journal.claim(_order("r-2"), "p", {}), 10)
        writer._reconnect = real_reconnect  # type: ignore[method-assign]
        claim = await asyncio.wait_for(journal.claim(_order("r-2"), "p", {}), 10)
        assert claim.claimed  # the writer lived on and reconnected
    finally:
        await journal.close()


async def test_only_batches_nobody_waits_for_commit_without_waiting_for_the_disk(
    pg_url: str,
) -> None:
    journal = PostgresJournal(pg_url)
    await journal.open()
    writer = journal._require()
    conn = writer._conn
    assert conn is not None
    sent: list[str] = []
    real_execute = conn.execute

    async def recording(query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return await real_execute(query, *args, **kwargs)

    conn.execute = recording  # type: ignore[method-assign]
    try:
        assert (await journal.claim(_order("d-1"), "p", {})).claimed  # awaited: durable
        assert not any("synchronous_commit" in q for q in sent)
        journal.record_soon(JournalUpdate("d-1", JournalState.SENT, "result"))
        await asyncio.sleep(0.2)  # the writer takes the lone queued update by itself
        await journal.flush()
        assert sum("synchronous_commit TO off" in q for q in sent) == 1
    finally:
        await journal.close()
    assert conn.closed  # close() ends the writer's connection too


async def test_a_database_error_fails_its_whole_batch_and_another_error_only_its_job(
    pg_url: str,
) -> None:
    journal = PostgresJournal(pg_url)
    await journal.open()

    async def database_error(conn: object) -> None:
        raise psycopg.ProgrammingError("a statement the server would refuse")

    async def bad_row(conn: object) -> None:
        raise ValueError("a row that cannot be read")

    try:
        claim, read = await asyncio.gather(
            journal.claim(_order("e-1"), "p", {}),
            journal._run(database_error, "read"),
            return_exceptions=True,
        )
        assert isinstance(claim, JournalError) and isinstance(read, JournalError)
        assert await journal.get("e-1") is None  # rolled back with its batch
        claim, read = await asyncio.gather(
            journal.claim(_order("e-1"), "p", {}),
            journal._run(bad_row, "read"),
            return_exceptions=True,
        )
        assert isinstance(read, ValueError) and not isinstance(claim, BaseException)
        assert claim.claimed and await journal.get("e-1") is not None
    finally:
        await journal.close()


async def test_migrate_and_open_connect_with_the_documented_timeout_and_the_password_to_mask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fks_exec.journal import postgres

    seen: list[tuple[str | None, float]] = []

    async def refusing(url: str, location: str, secret: str | None, timeout_s: float) -> Any:
        assert "pw-9" not in location
        seen.append((secret, timeout_s))
        raise JournalError("refused")

    monkeypatch.setattr(postgres, "connect", refusing)
    url = "postgresql://trader:pw-9@127.0.0.1:1/db"
    journal = PostgresJournal(url)
    for attempt in (migrate_database(url), journal.open()):
        with pytest.raises(JournalError, match="refused"):
            await attempt
    # The defaults (10 s; claim_wait_s as docs/journal.md says); the password goes along
    # so that connection errors mask it.
    assert seen == [("pw-9", 10.0), ("pw-9", 10.0)]
    assert journal.claim_wait_s == 10.0 and journal.lease_s == 30.0
    seen.clear()
    with pytest.raises(JournalError):
        await migrate_database("postgresql://trader@127.0.0.1:1/db")
    assert seen == [(None, 10.0)]  # no password: nothing to mask
    with pytest.raises(JournalError):  # a password only migrate has seen is masked too
        await migrate_database("postgresql://trader:pw-migrate-only-7@127.0.0.1:1/db")
    assert "pw-migrate-only-7" in known_secrets().secrets


def test_without_psycopg_the_import_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # what an absent package looks like
    monkeypatch.delitem(sys.modules, "fks_exec.journal.postgres")
    with pytest.raises(ImportError, match=r"pip install 'fks-exec\[postgres\]'"):
        importlib.import_module("fks_exec.journal.postgres")
