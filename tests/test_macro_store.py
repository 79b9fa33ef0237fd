"""Macros against the local cache: context, one outbox change per macro, undo, favourites, overrides."""

from __future__ import annotations

import json
import os
import stat

import pytest

from agent_tui.macros.context import (
    build_context,
    customer_addresses,
    deposit_context,
    exchange_addresses,
    guard_reply,
    last_lookup,
    sla_context,
)
from agent_tui.macros.guard import check_reply, record_override
from agent_tui.macros.model import Macro
from agent_tui.macros.render import render
from agent_tui.macros.store import (
    Applied,
    UndoError,
    apply_actions,
    describe_actions,
    favourites,
    load_macros,
    log_override,
    override_log_path,
    plan_changes,
    reminder_tag,
    undo,
)
from tests.desk import FROZEN, seeded_cache

AGENT = {"id": 1, "name": "Alex Morgan"}

VERDICT = {
    "schema_version": 1,
    "code": "insufficient_confirmations",
    "explanation": "The 1000 USDT deposit on ethereum has 5 of 12 confirmations.",
    "macro": "deposit_insufficient_confirmations",
    "recoverable": True,
    "recoverable_note": "Credited automatically once confirmed.",
    "txid": "0x" + "ab" * 32,
    "network": "ethereum",
    "claimed_network": "ethereum",
    "final": False,
    "evidence": {"network": "ethereum", "confirmations": 5, "required_confirmations": 12, "asset": "USDT",
                 "amount": "1000", "memo": None},
}


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    cache = seeded_cache(tmp_path_factory.mktemp("desk"))
    yield cache
    cache.close()


@pytest.fixture
def cache(tmp_path):
    c = seeded_cache(tmp_path)
    yield c
    c.close()


def macro(cache, key) -> Macro:
    return next(m for m in load_macros(cache, 1) if m.key == key)


def ticket_with(cache, **want) -> dict:
    for tid in range(1, 201):
        t = cache.ticket(tid)
        if t and all(t[k] == v for k, v in want.items()):
            return t
    raise AssertionError(f"no seeded ticket with {want}")


# --- context -----------------------------------------------------------------------------------------


def test_context_from_the_seeded_cache(desk):
    t = desk.ticket(1)
    ctx = build_context(desk, 1, agent=AGENT, deposit=VERDICT, now=FROZEN)
    c = desk.customer(t["requester_id"])
    assert ctx["ticket"]["id"] == 1 and ctx["ticket"]["subject"] == t["subject"] and ctx["ticket"]["status"] == t["status"]
    assert ctx["customer"]["name"] == c["name"] and ctx["customer"]["first_name"] == c["first_name"]
    assert ctx["customer"]["language"] == c["language"] and ctx["customer"]["tier"] == c["tier"]
    assert ctx["agent"] == {"id": 1, "name": "Alex Morgan", "first_name": "Alex"}
    assert ctx["deposit"]["txid"] == VERDICT["txid"] and ctx["deposit"]["confirmations"] == 5
    assert ctx["deposit"]["required_confirmations"] == 12 and ctx["deposit"]["verdict"] == "insufficient_confirmations"
    assert ctx["deposit"]["asset"] == "USDT" and ctx["deposit"]["amount"] == "1000" and ctx["deposit"]["network"] == "ethereum"
    json.dumps(ctx)  # plain data only


def test_context_renders_a_deposit_macro_in_the_customers_language(desk):
    t = ticket_with(desk, language="es")
    ctx = build_context(desk, t["id"], agent=AGENT, deposit=VERDICT, now=FROZEN)
    r = render(macro(desk, "deposit_insufficient_confirmations"), ctx)
    assert r.language == "es" and r.complete, r.missing
    assert VERDICT["txid"] in r.text and "Alex Morgan" in r.text and f"{t['id']}" in r.text


def test_without_a_deposit_its_fields_are_missing_not_blank(desk):
    ctx = build_context(desk, 1, agent=AGENT, now=FROZEN)
    r = render(macro(desk, "deposit_insufficient_confirmations"), ctx, language="en")
    assert "deposit.confirmations" in r.missing and "⟦deposit.confirmations⟧" in r.text


def test_unknown_ticket_is_a_lookup_error(desk):
    with pytest.raises(LookupError):
        build_context(desk, 99999, agent=AGENT, now=FROZEN)


def test_sla_text_is_human():
    metrics = [
        {"metric": "first_reply", "stage": "active", "due_at": FROZEN + 45 * 60, "remaining": None},
        {"metric": "next_reply", "stage": "active", "due_at": FROZEN - 190, "remaining": None},
        {"metric": "resolution", "stage": "paused", "due_at": None, "remaining": 3600},
        {"metric": "periodic_update", "stage": "achieved", "due_at": None, "remaining": None, "achieved_at": FROZEN - 5},
    ]
    s = sla_context(metrics, FROZEN)
    assert s["first_reply_due"] == "2026-11-23 00:45 UTC (in 45m 00s)"
    assert s["next_reply_due"].startswith("breached 3m 10s ago")
    assert s["resolution_due"] == "paused, 1h 00m left"
    assert s["periodic_update_due"] == "achieved"
    assert s["next_due"] == "breached 3m 10s ago" and s["breached"] is True


def test_deposit_context_takes_a_flat_ledger_row():
    d = deposit_context({"txid": "abc", "network": "tron", "asset": "USDT", "amount": "5", "status": "pending"})
    assert d["txid"] == "abc" and d["network"] == "tron" and d["verdict"] is None


def test_last_lookup_finds_a_cached_verdict_for_a_txid_in_the_thread(cache):
    from agent_tui.chains.diagnose import Verdict
    from storage.lookups import LookupCache

    t = ticket_with(cache, queue="deposits")
    txid = "0x" + "cd" * 32
    cache.queue_reply(t["id"], f"my tx is {txid.upper()[2:]}", internal=True, agent_id=1, agent_name="x")
    assert last_lookup(cache, t["id"]) is None
    LookupCache(cache.engine).put("k1", Verdict.from_dict(dict(VERDICT, txid=txid)))
    found = last_lookup(cache, t["id"])
    assert found is not None and found["code"] == "insufficient_confirmations"


def test_guard_address_lists(desk):
    ex = exchange_addresses(desk)
    assert "0xdac17f958d2ee523a2206206994597c13d831ec7" in ex  # listed USDT contract
    t = desk.ticket(1)
    mine = customer_addresses(desk, t["requester_id"])
    assert len(mine) == 5
    addr = sorted(a for a in mine if a.startswith("0x"))[0]
    assert guard_reply(desk, 1, f"Please deposit to {addr} only.").ok
    other = desk.customer(t["requester_id"] % 50 + 1)["addresses"][1]["address"]
    report = guard_reply(desk, 1, f"Please deposit to {other} only.")
    assert report.codes == ["unknown_address"]
    assert guard_reply(desk, 1, "Please send us your seed phrase.").blocked


# --- actions: one outbox change --------------------------------------------------------------------


def test_all_actions_go_out_as_one_outbox_change(cache):
    t = ticket_with(cache, status="new", assignee_id=None)
    applied = apply_actions(cache, t["id"], macro(cache, "greeting_ack"), 1, now=FROZEN)
    assert isinstance(applied, Applied) and str(applied) == applied.change_id
    rows = cache.outbox()
    assert len(rows) == 1 and rows[0]["change_id"] == applied.change_id and rows[0]["kind"] == "update"
    assert rows[0]["payload"] == {"assignee_id": 1, "status": "open"}
    assert rows[0]["base_version"] == t["version"]
    after = cache.ticket(t["id"])
    assert after["status"] == "open" and after["assignee_id"] == 1


def test_tags_are_the_full_new_list_and_a_reminder_sets_pending(cache):
    t = ticket_with(cache, status="open")
    applied = apply_actions(cache, t["id"], macro(cache, "deposit_pending"), 1, now=FROZEN)
    payload = cache.outbox()[0]["payload"]
    tag = reminder_tag(FROZEN, 2)
    assert tag == "reminder:2026-11-23T02:00Z"
    assert payload["status"] == "pending"
    assert payload["tags"] == t["tags"] + [x for x in ("deposit", "deposit_pending") if x not in t["tags"]] + [tag]
    assert cache.ticket(t["id"])["tags"] == payload["tags"]
    assert applied.previous == {"status": "open", "tags": t["tags"]}


def test_plan_changes_is_pure_and_sends_only_what_changes():
    ticket = {"status": "pending", "priority": "normal", "queue": "deposits", "tags": ["a", "reminder:2020-01-01T00:00Z"],
              "assignee_id": 1}
    actions = [{"type": "set_status", "value": "pending"}, {"type": "add_tags", "value": ["a", "b"]},
               {"type": "remove_tags", "value": ["zzz"]}, {"type": "assign_me"}, {"type": "pending_reminder", "value": 1}]
    assert plan_changes(ticket, actions, 1, FROZEN) == {"tags": ["a", "b", "reminder:2026-11-23T01:00Z"]}
    skipped: list[str] = []
    assert plan_changes(ticket, [{"type": "set_queue", "value": "recovery"}], 1, FROZEN,
                        queues={"deposits"}, skipped=skipped) == {}
    assert skipped and "recovery" in skipped[0]
    with pytest.raises(ValueError):
        plan_changes(ticket | {"assignee_id": None}, [{"type": "assign_me"}], None, FROZEN)
    assert describe_actions(actions) == ["status → pending", "tags + a, b", "tags − zzz", "assign to me", "pending, reminder in 1 h"]


def test_memo_cases_move_to_the_desks_recovery_queue(cache):
    t = ticket_with(cache, status="open", queue="deposits")
    applied = apply_actions(cache, t["id"], macro(cache, "deposit_missing_memo"), 1, now=FROZEN)
    assert cache.outbox()[0]["payload"]["queue"] == "recovery" and not applied.skipped


def test_a_macro_that_changes_nothing_queues_nothing(cache):
    t = ticket_with(cache, status="solved")
    assert apply_actions(cache, t["id"], macro(cache, "close_solved"), 1, now=FROZEN) is None
    assert cache.outbox_depth() == 0


def test_the_change_is_held_in_the_outbox_for_the_undo_window(cache):
    t = ticket_with(cache, status="open")
    import time

    before = time.time()
    apply_actions(cache, t["id"], macro(cache, "close_solved"), 1, hold_seconds=30)
    assert cache.outbox()[0]["next_attempt_at"] >= before + 30
    t2 = ticket_with(cache, status="new")
    apply_actions(cache, t2["id"], macro(cache, "close_solved"), 1, hold_seconds=0)
    assert cache.outbox()[1]["next_attempt_at"] == 0


# --- undo ---------------------------------------------------------------------------------------------


def test_undo_before_sending_restores_the_ticket_and_leaves_no_outbox_row(cache):
    t = ticket_with(cache, status="new", assignee_id=None)
    applied = apply_actions(cache, t["id"], macro(cache, "deposit_needs_manual_credit"), 1, now=FROZEN)
    assert cache.outbox_depth() == 1 and cache.ticket(t["id"])["status"] == "on_hold"
    restored = undo(cache, applied)
    assert set(restored) == {"status", "tags", "priority"} - ({"priority"} if t["priority"] == "high" else set())
    after = cache.ticket(t["id"])
    for key in ("status", "priority", "tags", "assignee_id", "queue", "version"):
        assert after[key] == t[key], key
    assert cache.outbox_depth() == 0
    with pytest.raises(UndoError):
        undo(cache, applied)  # twice is too late


def test_undo_by_change_id(cache):
    t = ticket_with(cache, status="open")
    applied = apply_actions(cache, t["id"], macro(cache, "close_solved"), 1)
    undo(cache, applied.change_id)
    assert cache.ticket(t["id"])["status"] == "open" and cache.outbox_depth() == 0
    with pytest.raises(UndoError):
        undo(cache, "no-such-change")


def test_undo_keeps_a_later_change_and_other_outbox_rows(cache):
    t = ticket_with(cache, status="open", priority="normal")
    applied = apply_actions(cache, t["id"], macro(cache, "deposit_needs_manual_credit"), 1)
    cache.queue_update(t["id"], {"status": "pending"})  # the agent changed the status after the macro
    note = cache.queue_reply(t["id"], "note", internal=True, agent_id=1, agent_name="A")
    restored = undo(cache, applied)
    after = cache.ticket(t["id"])
    assert "status" not in restored and after["status"] == "pending"
    assert after["priority"] == "normal"
    assert [r["kind"] for r in cache.outbox()] == ["update", "note"] and cache.outbox()[1]["change_id"] == note


def test_undo_after_the_server_confirmed_is_refused(cache):
    t = ticket_with(cache, status="open")
    applied = apply_actions(cache, t["id"], macro(cache, "close_solved"), 1)
    change = cache.outbox()[0]
    server = dict(cache.ticket(t["id"]), version=t["version"] + 1, status="solved")
    cache.confirm(change, server, None, t["version"])
    with pytest.raises(UndoError, match="too late"):
        undo(cache, applied)
    assert cache.ticket(t["id"])["status"] == "solved"


def test_undo_does_not_overwrite_a_newer_server_copy(cache):
    t = ticket_with(cache, status="open")
    applied = apply_actions(cache, t["id"], macro(cache, "close_solved"), 1)
    server = dict(cache.ticket(t["id"]), version=t["version"] + 1, status="on_hold")
    cache.put_ticket(server)  # a pull brought the server's newer state
    assert undo(cache, applied) == {}
    assert cache.ticket(t["id"])["status"] == "on_hold" and cache.outbox_depth() == 0


# --- loading and favourites ---------------------------------------------------------------------------


def test_load_macros_skips_broken_rows_and_other_agents_personal_ones(cache):
    with cache.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO macros (id, key, title, category, visibility, owner_id, shortcut, bodies, actions, usage_count, updated_at, version) "
            "VALUES ('p2', 'mine2', 'Personal of 2', '', 'personal', 2, '', '{\"en\": \"hi\"}', '[]', 0, 0, 1), "
            "('bad', 'Bad Key', 'Broken', '', 'shared', NULL, '', '{\"en\": \"hi\"}', '[]', 0, 0, 1)")
    errors: list[str] = []
    keys = {m.key for m in load_macros(cache, 1, errors=errors)}
    assert "mine2" not in keys and "greeting_ack" in keys and len(keys) == 19
    assert len(errors) == 1 and "Bad Key" in errors[0]
    assert "mine2" in {m.key for m in load_macros(cache, 2)}


def test_favourites_default_to_the_most_used_and_follow_the_config(desk):
    macros = load_macros(desk, 1)
    used = [Macro.from_dict(dict(m.to_dict(), usage_count=i)) for i, m in enumerate(macros)]
    fav = favourites(used)
    assert len(fav) == 9 and [m.usage_count for m in fav] == list(range(len(macros) - 1, len(macros) - 10, -1))
    chosen = favourites(used, ["close_solved", "nope", "greeting_ack", "close_solved"])
    assert [m.key for m in chosen] == ["close_solved", "greeting_ack"]
    assert len(favourites(macros)) == 9  # ties break on title: stable


# --- guard overrides -----------------------------------------------------------------------------------


def test_an_override_is_logged_to_a_private_file_and_noted_on_the_ticket(cache):
    report = check_reply("Open https://evil.example/login to continue.", allowed_domains=["desk.example"])
    assert report.needs_override
    entry = record_override(report, 1, "customer's own bank portal, checked by phone", now=FROZEN)
    change = log_override(cache, 5, entry, AGENT)
    path = override_log_path()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    logged = json.loads(lines[0])
    assert logged["ticket_id"] == 5 and logged["agent_name"] == "Alex Morgan" and logged["codes"] == ["foreign_link"]
    row = cache.outbox()[-1]
    assert row["change_id"] == change and row["kind"] == "note" and row["ticket_id"] == 5
    body = row["payload"]["body"]
    assert "Reply guard overridden by Alex Morgan" in body and "bank portal" in body and "foreign_link" in body
    note = [m for m in cache.thread(5) if m["id"] == change][0]
    assert note["kind"] == "note"  # internal: never shown to the customer
    log_override(cache, 5, entry, AGENT)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2  # appended


def test_log_override_needs_a_real_entry(cache):
    with pytest.raises(ValueError):
        log_override(cache, 5, {"reason": "x"}, AGENT)


# --- against the real backend: the hold is an undo window the sync engine honours ------------------------


@pytest.fixture
def live(tmp_path):
    from backend.app import create_app
    from backend.server import ServerThread

    cache = seeded_cache(tmp_path)
    server = ServerThread(create_app(f"sqlite:///{tmp_path / 'macro-backend.db'}")).start()
    yield server, cache
    server.stop()
    cache.close()


def server_ticket(server, tid: int) -> dict:
    import httpx

    return httpx.get(f"{server.url}/api/v1/tickets/{tid}", headers={"Authorization": "Bearer demo-agent"}).json()["ticket"]


async def test_a_held_change_is_not_sent_and_undo_leaves_the_server_untouched(live):
    from agent_tui.sync import SyncEngine

    server, cache = live
    t = ticket_with(cache, status="open", priority="normal")
    before = server_ticket(server, t["id"])
    applied = apply_actions(cache, t["id"], macro(cache, "deposit_needs_manual_credit"), 1, hold_seconds=60)
    engine = SyncEngine(cache, server.url, "demo-agent")
    try:
        await engine.sync_once()
        assert cache.outbox_depth() == 1  # held: not sent
        assert server_ticket(server, t["id"])["version"] == before["version"]
        undo(cache, applied)
        await engine.sync_once()
    finally:
        await engine.aclose()
    after = server_ticket(server, t["id"])
    assert after["version"] == before["version"] and after["status"] == "open"
    assert cache.outbox_depth() == 0 and cache.ticket(t["id"])["status"] == "open"


async def test_an_applied_macro_reaches_the_server_as_one_patch(live):
    from agent_tui.sync import SyncEngine

    server, cache = live
    t = ticket_with(cache, status="open", priority="normal")
    before = server_ticket(server, t["id"])
    applied = apply_actions(cache, t["id"], macro(cache, "deposit_needs_manual_credit"), 1, hold_seconds=0)
    engine = SyncEngine(cache, server.url, "demo-agent")
    try:
        await engine.sync_once()
    finally:
        await engine.aclose()
    after = server_ticket(server, t["id"])
    assert after["version"] == before["version"] + 1  # one change, one version
    assert after["status"] == "on_hold" and after["priority"] == "high"
    assert {"deposit", "deposit_manual_credit"} <= set(after["tags"])
    assert cache.outbox_depth() == 0
    with pytest.raises(UndoError, match="too late"):
        undo(cache, applied)
