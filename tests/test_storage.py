"""The cache file: location, permissions, WAL, migrations and rebuilds, the queue index."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from storage import db as storage_db
from storage.cache import Cache, ViewSpec, builtin_views
from storage.models import NO_DUE, SCHEMA_VERSION
from storage.wire import BadPage


def _ticket(i: int, **kw) -> dict:
    d = {"id": i, "subject": f"t{i}", "queue": "deposits", "status": "open", "priority": "normal", "channel": "email",
         "requester_id": 1, "assignee_id": None, "tags": [], "language": "en", "created_at": 1000.0 + i,
         "updated_at": 1000.0 + i, "version": 1, "first_reply_at": None, "solved_at": None, "sla_due": 5000.0 + i, "sla": []}
    d.update(kw)
    return d


def test_cache_file_is_private_and_in_wal_mode(tmp_path):
    c = Cache.open(tmp_path / "deep" / "cache.db")
    assert stat.S_IMODE(os.stat(c.path).st_mode) == 0o600
    with c.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA user_version").scalar() == SCHEMA_VERSION


def test_path_comes_from_env_then_config_then_platformdirs(tmp_path, monkeypatch):
    assert storage_db.resolve_cache_path(None).name == "cache.db"
    monkeypatch.setenv("AGENT_TUI_DATA_DIR", str(tmp_path / "data"))  # tests never touch the real user's cache
    assert storage_db.resolve_cache_path(None) == tmp_path / "data" / "cache.db"
    assert storage_db.resolve_cache_path(str(tmp_path / "x.db")) == tmp_path / "x.db"
    monkeypatch.setenv("AGENT_TUI_CACHE", str(tmp_path / "env.db"))
    assert storage_db.resolve_cache_path(str(tmp_path / "x.db")) == tmp_path / "env.db"


def test_a_loose_old_file_is_tightened_to_0600(tmp_path):
    p = tmp_path / "cache.db"
    p.touch()
    os.chmod(p, 0o644)
    Cache.open(p)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600


def test_replaying_a_page_is_harmless_and_older_versions_never_win(cache):
    cache.apply_page({"tickets": [_ticket(1, version=3, subject="new")]}, "5")
    cache.apply_page({"tickets": [_ticket(1, version=2, subject="old")]}, "6")
    cache.apply_page({"tickets": [_ticket(1, version=3, subject="new")]}, "6")
    t = cache.ticket(1)
    assert (t["subject"], t["version"]) == ("new", 3)
    assert cache.cursor == "6"


def test_cursor_and_page_commit_together(cache):
    with pytest.raises(BadPage, match="schema"):
        cache.apply_page({"tickets": [_ticket(1), {"id": 2}]}, "9")  # second row is broken
    with pytest.raises(BadPage, match="not valid JSON"):
        cache.apply_page(b'{"tickets": [', "9")
    assert cache.ticket(1) is None and cache.cursor == ""


def test_upgrade_runs_migrations_in_order_and_keeps_data(tmp_path, monkeypatch):
    p = tmp_path / "c.db"
    c = Cache.open(p)
    c.apply_page({"tickets": [_ticket(1)]}, "3")
    c.save_draft(1, "half-written reply")
    c.close()
    con = sqlite3.connect(p)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION - 1 if SCHEMA_VERSION > 1 else 0}")
    con.commit()
    con.close()
    ran = []
    if SCHEMA_VERSION == 1:  # no real migration yet: register one to exercise the mechanism
        monkeypatch.setattr(storage_db, "SCHEMA_VERSION", 2)
        monkeypatch.setattr(storage_db, "MIGRATIONS", {1: lambda conn: ran.append(1) or conn.exec_driver_sql(
            "ALTER TABLE tickets ADD COLUMN extra TEXT")})
        con = sqlite3.connect(p)
        con.execute("PRAGMA user_version=1")
        con.commit()
        con.close()
    c = Cache.open(p)
    assert ran == [1] or SCHEMA_VERSION > 1
    assert c.ticket(1)["subject"] == "t1" and c.draft(1)["body"] == "half-written reply"
    assert any("upgraded" in n for n in c.notes)


def _outbox_from_before(tmp_path, version: int, column: str) -> tuple[Cache, str]:
    """A cache with one queued reply, taken back to schema `version` (the outbox without `column`),
    then opened again: (the upgraded cache, the reply's change id)."""
    p = tmp_path / "c.db"
    c = Cache.open(p)
    c.apply_page({"tickets": [_ticket(1)]}, "3")
    change = c.queue_reply(1, "queued before the upgrade", internal=False, agent_id=1, agent_name="A")
    c.close()
    con = sqlite3.connect(p)
    con.execute(f"ALTER TABLE outbox DROP COLUMN {column}")
    con.execute(f"PRAGMA user_version={version}")
    con.commit()
    con.close()
    return Cache.open(p), change


def test_a_schema_3_outbox_gains_last_failure_and_keeps_its_changes(tmp_path):
    c, change = _outbox_from_before(tmp_path, 3, "last_failure")
    [row] = c.outbox()
    assert (row["change_id"], row["last_failure"]) == (change, "")
    c.defer(row, "the server is busy or failing (HTTP 500)", 0.0, 1, "ab" * 16)
    assert c.outbox()[0]["last_failure"] == "ab" * 16
    c.close()


def test_a_schema_4_outbox_gains_tries_and_keeps_its_changes(tmp_path):
    c, change = _outbox_from_before(tmp_path, 4, "tries")
    [row] = c.outbox()
    assert (row["change_id"], row["tries"]) == (change, 0)
    c.defer(row, "cannot connect to the server", 0.0, 0)
    c.defer(c.outbox()[0], "cannot connect to the server", 0.0, 0)
    assert (c.outbox()[0]["tries"], c.outbox()[0]["attempts"]) == (2, 0)
    c.close()


def test_an_upgrade_whose_columns_are_already_there_runs_again_harmlessly(tmp_path):
    """A cache at schema 5 that says 1 (an upgrade that added its columns, then lost the version
    bump): every step runs again, finds its column and keeps the queued change."""
    p = tmp_path / "c.db"
    c = Cache.open(p)
    c.apply_page({"tickets": [_ticket(1)]}, "3")
    change = c.queue_reply(1, "queued before the upgrade", internal=False, agent_id=1, agent_name="A")
    c.close()
    con = sqlite3.connect(p)
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.close()
    c = Cache.open(p)
    assert any("upgraded from schema 1" in n for n in c.notes), c.notes
    assert [o["change_id"] for o in c.outbox()] == [change]
    c.close()


@pytest.mark.parametrize("how", ["newer", "unknown_layout", "failed_migration"])
def test_unreadable_schemas_are_rebuilt_keeping_local_work(tmp_path, monkeypatch, how):
    p = tmp_path / "c.db"
    c = Cache.open(p)
    c.apply_page({"tickets": [_ticket(1)]}, "3")
    c.queue_reply(1, "queued while offline", internal=False, agent_id=1, agent_name="A")
    c.save_draft(1, "draft text")
    c.close()
    con = sqlite3.connect(p)
    if how == "newer":
        con.execute("PRAGMA user_version=999")
    elif how == "unknown_layout":
        con.execute("PRAGMA user_version=0")
    else:  # pretend the app is one schema ahead and its migration breaks
        monkeypatch.setattr(storage_db, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
        monkeypatch.setattr(storage_db, "MIGRATIONS", {SCHEMA_VERSION: lambda conn: conn.exec_driver_sql("SELECT nope FROM nowhere")})
        con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    con.commit()
    con.close()
    c = Cache.open(p)
    assert any("rebuilt" in n for n in c.notes)
    assert c.cursor == "" and c.ticket(1) is None  # pulled again from the server
    assert [o["payload"]["body"] for o in c.outbox()] == ["queued while offline"]
    assert c.draft(1)["body"] == "draft text"


def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path):
    p = tmp_path / "c.db"
    p.write_bytes(b"this is not sqlite" * 100)
    c = Cache.open(p)
    assert any("could not be read" in n for n in c.notes)
    assert list(tmp_path.glob("c.db.unreadable-*"))
    assert c.stats()["tickets"] == 0


def test_queue_query_uses_the_queue_status_due_index(cache):
    cache.apply_page({"tickets": [_ticket(i, status="open" if i % 2 else "pending") for i in range(1, 2001)]}, "1")
    view = ViewSpec("q", "Deposits open", queue="deposits", statuses=("open",))
    where, params = view.where(None, 0, 900)
    with cache.engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN SELECT id FROM tickets t WHERE {where.replace(':queue', '?').replace(':status', '?')} ORDER BY t.sla_due LIMIT 200",
            (params["queue"], params["status"])))
    assert "ix_tickets_queue_status_due" in plan and "TEMP B-TREE" not in plan
    rows = cache.queue_page(view, 0, 5)
    assert [r.id for r in rows] == [1, 3, 5, 7, 9]


def test_views_filter_and_sort(cache):
    cache.apply_page({"tickets": [
        _ticket(1, assignee_id=7, sla_due=100.0), _ticket(2, sla_due=50.0), _ticket(3, sla_due=NO_DUE, status="pending"),
        _ticket(4, sla_due=2000.0, subject="Deposit missing USDT"), _ticket(5, status="solved")]}, "1")
    views = {v.key: v for v in builtin_views([("deposits", "Deposits")])}
    assert [r.id for r in cache.queue_page(views["mine"], 0, 10, me=7)] == [1]
    assert [r.id for r in cache.queue_page(views["unassigned"], 0, 10)] == [2, 4]
    assert [r.id for r in cache.queue_page(views["queue:deposits"], 0, 10)] == [2, 1, 4, 3]
    assert [r.id for r in cache.queue_page(views["breached"], 0, 10, now=1000.0)] == [2, 1]
    assert [r.id for r in cache.queue_page(views["at_risk"], 0, 10, now=1500.0, at_risk=900)] == [4]
    assert [r.id for r in cache.queue_page(views["queue:deposits"], 0, 10, text="usdt")] == [4]
    assert [r.id for r in cache.queue_page(views["queue:deposits"], 0, 10, text="#3")] == [3]
    assert cache.queue_count(views["queue:deposits"], text="100%_") == 0  # LIKE wildcards are literal


def test_local_change_and_outbox_row_are_one_transaction(cache):
    cache.apply_page({"tickets": [_ticket(1)]}, "1")
    with pytest.raises(LookupError):
        cache.queue_reply(99, "to a ticket we do not have", internal=False, agent_id=1, agent_name="A")
    assert cache.outbox_depth() == 0 and cache.thread(99) == []
    with pytest.raises(ValueError):
        cache.queue_update(1, {"status": "bogus"})
    assert cache.outbox_depth() == 0 and cache.ticket(1)["status"] == "open"


def test_a_bulk_load_cut_short_gets_its_indexes_back_when_the_cache_is_opened(tmp_path):
    """The first sync drops the tickets' and messages' secondary indexes while it appends; if the
    app dies before it builds them again, the next open does."""
    from storage.db import bulk_indexes

    path = tmp_path / "cache.db"
    cache = Cache.open(path)
    names = {i.name for i in bulk_indexes()}
    assert {"ix_tickets_queue_status_due", "ix_tickets_assignee_status_due", "ix_tickets_status_due", "ix_messages_ticket_id"} <= names

    def present(c: Cache) -> set[str]:
        with c.engine.connect() as conn:
            return {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")} & names

    assert present(cache) == names
    assert cache.begin_bulk_load() is True
    assert present(cache) == set()
    cache.close()  # killed here, before end_bulk_load
    cache = Cache.open(path)
    assert present(cache) == names
    # with tickets in it, the cache is no bulk load's: nothing is dropped
    cache.apply_page({"tickets": [{"id": 1, "subject": "s", "queue": "deposits", "status": "new", "priority": "normal", "channel": "email",
                                   "requester_id": 1, "created_at": 1.0, "updated_at": 1.0, "version": 1, "sla_due": 2.0}]}, "1")
    assert cache.begin_bulk_load() is False and present(cache) == names
    assert cache.end_bulk_load() == 0
    cache.close()


def test_the_ticket_fields_are_written_down_once():
    """The feed decoder and the cache's upsert follow agent_tui.vocabulary.TICKET_FIELDS (the backend
    builds its answers from it): a field added there and forgotten here fails this."""
    import msgspec

    from agent_tui.vocabulary import TICKET_FIELDS
    from storage.cache import _TICKET_COLS
    from storage.wire import TicketIn, ticket_row

    assert _TICKET_COLS == TICKET_FIELDS
    assert {f.name for f in msgspec.structs.fields(TicketIn)} == set(TICKET_FIELDS)
    values = {f: (f"s-{f}" if f not in ("tags", "sla") else msgspec.Raw(f'["{f}"]'.encode())) for f in TICKET_FIELDS}
    row = ticket_row(TicketIn(**values))
    assert row == tuple(v if not isinstance(v, msgspec.Raw) else bytes(v).decode() for v in values.values())
