"""Macro usage counts, edits and deletes against the real backend (SQLite and PostgreSQL), each
client a real Cache with a real SyncEngine, plus the cache's side of it on its own."""

from __future__ import annotations

import sqlite3

import pytest

from storage.cache import Cache
from storage.models import SCHEMA_VERSION
from tests.test_sync import first_open_ticket, sync


def server_macro(backend, macro_id: str, token: str = "demo-agent"):
    r = backend.api("GET", f"/macros/{macro_id}", token=token)
    return r.json()["macro"] if r.status_code == 200 else r.status_code


def by_key(cache: Cache, key: str) -> dict:
    return next(m for m in cache.macros() if m["key"] == key)


@pytest.fixture
def two(backend, tmp_path):
    """Two clients of the desk: `a` signed in as the agent (Alex, id 1), `b` as the recovery specialist."""
    a = Cache.open(tmp_path / "a.db")
    b = Cache.open(tmp_path / "b.db")
    yield a, b
    a.close()
    b.close()


# --- usage counts ---------------------------------------------------------------------------------


async def test_a_reply_from_a_macro_counts_one_use_even_when_the_send_is_retried(backend, two):
    a, b = two
    await sync(a, backend)
    await sync(b, backend, token="demo-recovery")
    m = by_key(a, "greeting_ack")
    before, version = m["usage_count"], m["version"]
    t = first_open_ticket(a)
    change = a.queue_reply(t["id"], "Thanks, we are on it.", internal=False, agent_id=1, agent_name="Alex", macro_id=m["id"])
    assert a.outbox()[0]["payload"]["macro_id"] == m["id"]
    assert a.macro(m["id"])["usage_count"] == before + 1  # counted here at once...
    assert a.macro(m["id"])["version"] == version  # ...without claiming a server version
    # The first delivery reaches the server but its answer is lost (the sender died reading it), and
    # the retry first meets a failing server: the use must still be counted exactly once.
    payload = a.outbox()[0]["payload"]
    first = backend.api("POST", f"/tickets/{t['id']}/messages", json=payload, headers={"Idempotency-Key": change})
    assert first.status_code == 201 and first.json()["macro"]["usage_count"] == before + 1
    backend.fault(f"/api/v1/tickets/{t['id']}/messages", "500", count=1)
    report = await sync(a, backend)
    assert report.pushed == 1 and not report.rejected
    on_server = server_macro(backend, m["id"])
    assert (on_server["usage_count"], on_server["version"]) == (before + 1, version + 1)
    assert (a.macro(m["id"])["usage_count"], a.macro(m["id"])["version"]) == (before + 1, version + 1)
    await sync(a, backend)  # replaying changes nothing
    assert server_macro(backend, m["id"])["usage_count"] == before + 1
    # a second client sees the count after its pull
    assert b.macro(m["id"])["usage_count"] == before
    await sync(b, backend, token="demo-recovery")
    assert b.macro(m["id"])["usage_count"] == before + 1


async def test_the_servers_count_wins_over_the_optimistic_one(backend, two):
    a, b = two
    await sync(a, backend)
    await sync(b, backend, token="demo-recovery")
    m = by_key(a, "greeting_ack")
    t = first_open_ticket(a)
    for text in ("One.", "Two."):  # b uses the macro twice first
        b.queue_reply(t["id"], text, internal=True, agent_id=2, agent_name="Riya", macro_id=m["id"])
    assert (await sync(b, backend, token="demo-recovery")).pushed == 2
    a.queue_reply(t["id"], "Three.", internal=False, agent_id=1, agent_name="Alex", macro_id=m["id"])
    assert a.macro(m["id"])["usage_count"] == m["usage_count"] + 1  # a only knows its own use yet
    await sync(a, backend)
    assert a.macro(m["id"])["usage_count"] == m["usage_count"] + 3 == server_macro(backend, m["id"])["usage_count"]


async def test_an_unknown_or_someone_elses_macro_never_fails_the_reply(backend, two):
    a, b = two
    await sync(b, backend, token="demo-recovery")
    b.queue_macro({"key": "riya_own", "title": "Riya's own", "bodies": {"en": "Hi from Riya"}, "actions": []}, 2)
    await sync(b, backend, token="demo-recovery")
    riyas = by_key(b, "riya_own")
    await sync(a, backend)
    t = first_open_ticket(a)
    a.queue_reply(t["id"], "Unknown macro.", internal=False, agent_id=1, agent_name="Alex", macro_id="no-such-macro")
    a.queue_reply(t["id"], "Not mine.", internal=False, agent_id=1, agent_name="Alex", macro_id=riyas["id"])
    report = await sync(a, backend)
    assert report.pushed == 2 and not report.rejected
    assert server_macro(backend, riyas["id"], token="demo-recovery")["usage_count"] == 0


# --- editing and deleting -------------------------------------------------------------------------


async def test_an_edit_and_a_delete_of_your_macro_reach_the_server_and_your_other_session(backend, tmp_path):
    a = Cache.open(tmp_path / "a.db")
    other = Cache.open(tmp_path / "other.db")  # the same agent on a second workstation
    try:
        await sync(a, backend)
        a.queue_macro({"key": "personal_shot", "title": "Ask for the screenshot", "shortcut": "shot",
                       "bodies": {"en": "Please send a screenshot."}, "actions": []}, 1)
        await sync(a, backend)
        mid = by_key(a, "personal_shot")["id"]
        await sync(other, backend)
        assert other.macro(mid)["title"] == "Ask for the screenshot"

        a.queue_macro_update(mid, {"title": "Ask for the withdrawal screenshot", "shortcut": "wshot",
                                   "bodies": {"en": "Please send a screenshot of the withdrawal page."}})
        local = a.macro(mid)
        assert (local["title"], local["shortcut"]) == ("Ask for the withdrawal screenshot", "wshot")  # at once
        report = await sync(a, backend)
        assert report.pushed == 1 and not report.rejected
        s = server_macro(backend, mid)
        assert (s["title"], s["shortcut"], s["version"]) == ("Ask for the withdrawal screenshot", "wshot", 2)
        assert s["bodies"] == {"en": "Please send a screenshot of the withdrawal page."}
        await sync(other, backend)
        assert other.macro(mid)["title"] == "Ask for the withdrawal screenshot"

        a.queue_macro_delete(mid)
        assert a.macro(mid) is None  # at once
        assert (await sync(a, backend)).pushed == 1
        assert server_macro(backend, mid) == 404
        assert all(m["id"] != mid for m in backend.api("GET", "/macros").json()["macros"])
        await sync(other, backend)
        assert other.macro(mid) is None  # the tombstone reached the other session
        assert a.rejections() == [] and a.outbox_depth() == 0
    finally:
        a.close()
        other.close()


async def test_using_then_editing_your_macro_in_one_round_is_not_a_conflict(backend, cache):
    await sync(cache, backend)
    cache.queue_macro({"key": "personal_hi", "title": "Hi", "bodies": {"en": "Hi there"}, "actions": []}, 1)
    await sync(cache, backend)
    mid = by_key(cache, "personal_hi")["id"]
    t = first_open_ticket(cache)
    cache.queue_reply(t["id"], "Hi there", internal=False, agent_id=1, agent_name="Alex", macro_id=mid)
    cache.queue_macro_update(mid, {"title": "Hi (edited)"})  # based on the version before the use is counted
    report = await sync(cache, backend)
    assert report.pushed == 2 and not report.rejected, report.rejected
    s = server_macro(backend, mid)
    assert (s["title"], s["usage_count"], s["version"]) == ("Hi (edited)", 1, 3)
    assert cache.macro(mid)["title"] == "Hi (edited)" and cache.macro(mid)["usage_count"] == 1


async def test_an_agent_cannot_edit_or_delete_shared_or_others_macros(backend, two):
    a, b = two
    await sync(b, backend, token="demo-recovery")
    b.queue_macro({"key": "riya_own", "title": "Riya's own", "bodies": {"en": "Hi from Riya"}, "actions": []}, 2)
    await sync(b, backend, token="demo-recovery")
    await sync(a, backend)
    assert not [m for m in a.macros() if m["key"] == "riya_own"]  # another agent's personal macro never reaches a
    riyas = by_key(b, "riya_own")
    shared = by_key(a, "greeting_ack")
    a.queue_macro_update(shared["id"], {"title": "Mine now"})
    a.queue_macro_delete(shared["id"])
    assert a.macro(shared["id"]) is None
    report = await sync(a, backend)
    assert report.pushed == 0 and len(report.rejected) == 2
    assert "edit of macro" in report.rejected[0] and "supervisors" in report.rejected[0]
    rej = a.rejections()
    assert [(r["kind"], r["status_code"]) for r in rej] == [("macro_update", 403), ("macro_delete", 403)]
    # the local row is the server's again, and the server is untouched
    assert a.macro(shared["id"])["title"] == shared["title"] == server_macro(backend, shared["id"])["title"]
    assert a.outbox_depth() == 0
    # someone else's personal macro: refused by the server even when its id is known
    r = backend.api("PATCH", f"/macros/{riyas['id']}", json={"title": "Not yours"}, headers={"If-Match": f'"{riyas["version"]}"'})
    assert r.status_code == 403 and "only its owner" in r.json()["message"]
    r = backend.api("DELETE", f"/macros/{riyas['id']}")
    assert r.status_code == 403
    assert server_macro(backend, riyas["id"], token="demo-recovery")["title"] == "Riya's own"


async def test_a_supervisor_edits_a_shared_macro_and_every_agent_gets_it(backend, two):
    sup, a = two
    await sync(sup, backend, token="demo-supervisor")
    await sync(a, backend)
    shared = by_key(sup, "greeting_ack")
    sup.queue_macro_update(shared["id"], {"title": "Acknowledge (new wording)"})
    assert (await sync(sup, backend, token="demo-supervisor")).pushed == 1
    await sync(a, backend)
    assert a.macro(shared["id"])["title"] == "Acknowledge (new wording)"


async def test_an_edit_based_on_a_stale_copy_is_refused_and_takes_the_servers(backend, two):
    a, a2 = two  # the same agent in two sessions
    await sync(a, backend)
    a.queue_macro({"key": "personal_x", "title": "X", "bodies": {"en": "x text"}, "actions": []}, 1)
    await sync(a, backend)
    await sync(a2, backend)
    mid = by_key(a, "personal_x")["id"]
    a2.queue_macro_update(mid, {"title": "X from the second session"})
    assert (await sync(a2, backend)).pushed == 1
    a.queue_macro_update(mid, {"title": "X from the first session"})  # a has not pulled a2's edit
    report = await sync(a, backend)
    assert report.pushed == 0 and len(report.rejected) == 1
    assert a.rejections()[0]["status_code"] == 412
    assert a.macro(mid)["title"] == "X from the second session"


async def test_uses_by_other_agents_between_a_pull_and_an_edit_are_no_conflict(backend, two):
    """Every use of a macro is a new version; on a busy desk a supervisor's copy of a popular shared
    macro is always a few uses behind. The edit goes through when what it changes is unchanged."""
    sup, a = two
    await sync(sup, backend, token="demo-supervisor")
    await sync(a, backend)
    shared = by_key(sup, "greeting_ack")
    t = first_open_ticket(a)
    for i in range(3):  # the agent answers with it three times; the supervisor has not pulled since
        a.queue_reply(t["id"], f"On it ({i}).", internal=False, agent_id=1, agent_name="Alex", macro_id=shared["id"])
    assert (await sync(a, backend)).pushed == 3
    assert server_macro(backend, shared["id"])["version"] == shared["version"] + 3
    sup.queue_macro_update(shared["id"], {"title": "Acknowledge (reworded)"})
    report = await sync(sup, backend, token="demo-supervisor")
    assert report.pushed == 1 and not report.rejected
    on_server = server_macro(backend, shared["id"])
    assert on_server["title"] == "Acknowledge (reworded)" and on_server["usage_count"] == shared["usage_count"] + 3
    # but an edit of a field someone else changed meanwhile is still a conflict
    await sync(a, backend)
    a_copy = by_key(a, "greeting_ack")
    sup.queue_macro_update(shared["id"], {"title": "Acknowledge (again)"})
    assert (await sync(sup, backend, token="demo-supervisor")).pushed == 1
    r = backend.api("PATCH", f"/macros/{shared['id']}", token="demo-supervisor",
                    json={"title": "Stale edit", "base": {"title": a_copy["title"]}}, headers={"If-Match": f'"{a_copy["version"]}"'})
    assert r.status_code == 412 and r.json()["macro"]["title"] == "Acknowledge (again)"


async def test_editing_a_macro_deleted_elsewhere_is_a_rejection_and_it_goes(backend, two):
    a, a2 = two
    await sync(a, backend)
    a.queue_macro({"key": "personal_y", "title": "Y", "bodies": {"en": "y text"}, "actions": []}, 1)
    await sync(a, backend)
    await sync(a2, backend)
    mid = by_key(a, "personal_y")["id"]
    a2.queue_macro_delete(mid)
    await sync(a2, backend)
    a.queue_macro_update(mid, {"title": "Y edited"})
    report = await sync(a, backend)
    assert len(report.rejected) == 1 and a.rejections()[0]["status_code"] == 404
    assert a.macro(mid) is None


def test_patch_needs_if_match_and_the_right_owner(backend):
    r = backend.api("GET", "/macros")
    shared = next(m for m in r.json()["macros"] if m["key"] == "greeting_ack")
    assert backend.api("PATCH", f"/macros/{shared['id']}", json={"title": "x"}).status_code == 428
    r = backend.api("PATCH", f"/macros/{shared['id']}", json={"title": "x"}, headers={"If-Match": '"1"'})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = backend.api("DELETE", f"/macros/{shared['id']}")
    assert r.status_code == 403
    r = backend.api("PATCH", f"/macros/{shared['id']}", token="demo-supervisor", json={"title": "x"}, headers={"If-Match": '"7"'})
    assert r.status_code == 412 and r.json()["macro"]["version"] == shared["version"]
    assert backend.api("DELETE", "/macros/nope").status_code == 404


# --- the cache on its own ---------------------------------------------------------------------------


def _ticket(tid: int) -> dict:
    return {"id": tid, "subject": f"t{tid}", "queue": "deposits", "status": "open", "priority": "normal", "channel": "email",
            "requester_id": 1, "assignee_id": None, "tags": [], "language": "en", "created_at": 1.0, "updated_at": 1.0,
            "version": 1, "first_reply_at": None, "solved_at": None, "sla_due": 9e9, "sla": []}


def test_the_draft_keeps_the_macro_it_came_from(cache):
    cache.apply_page({"tickets": [_ticket(1)]}, "1")
    cache.save_draft(1, "text from a macro", macro_id="m-1")
    assert cache.draft(1) == {"body": "text from a macro", "internal": False, "macro_id": "m-1", "actions": None}
    cache.save_draft(1, "typed over it")
    assert cache.draft(1)["macro_id"] is None


def test_a_refused_reply_takes_its_counted_use_back(cache):
    cache.apply_page({"tickets": [_ticket(1)], "macros": [{
        "id": "m-1", "key": "k", "title": "K", "category": "", "visibility": "shared", "owner_id": None, "shortcut": "",
        "bodies": {"en": "hi"}, "actions": [], "usage_count": 4, "updated_at": 1.0, "version": 3}]}, "1")
    cache.queue_reply(1, "hi", internal=False, agent_id=1, agent_name="A", macro_id="m-1")
    assert cache.macro("m-1")["usage_count"] == 5
    cache.reject(cache.outbox()[0], 404, "Ticket #1 does not exist.", None)
    assert cache.macro("m-1")["usage_count"] == 4


def test_upgrading_a_schema_1_cache_keeps_the_outbox_and_drafts(tmp_path):
    assert SCHEMA_VERSION == 5
    p = tmp_path / "c.db"
    c = Cache.open(p)
    c.apply_page({"tickets": [_ticket(1)]}, "3")
    change = c.queue_reply(1, "queued before the upgrade", internal=False, agent_id=1, agent_name="A")
    c.save_draft(1, "half-written reply")
    c.close()
    con = sqlite3.connect(p)  # what schema 1 looked like: drafts without macro_id, the outbox without its failure record
    con.execute("ALTER TABLE drafts DROP COLUMN macro_id")
    con.execute("ALTER TABLE drafts DROP COLUMN actions")
    con.execute("ALTER TABLE outbox DROP COLUMN last_failure")
    con.execute("ALTER TABLE outbox DROP COLUMN tries")
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.close()
    c = Cache.open(p)
    try:
        assert any("upgraded from schema 1 to 5" in n for n in c.notes), c.notes
        assert [o["change_id"] for o in c.outbox()] == [change]
        assert c.draft(1) == {"body": "half-written reply", "internal": False, "macro_id": None, "actions": None}
        assert c.ticket(1)["subject"] == "t1" and c.cursor == "3"  # not rebuilt: nothing to pull again
        c.save_draft(1, "now with a macro", macro_id="m-9")
        assert c.draft(1)["macro_id"] == "m-9"
    finally:
        c.close()
