"""A macro's actions happen only with its reply: they wait with the draft, travel in the reply's
outbox row, are applied by the server in the reply's transaction, and a discarded reply applies
nothing. Against the real backend (SQLite and PostgreSQL), and the app driven with Pilot."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_tui.macros.compose import paragraph_insert
from tests.test_app import desk, open_the_picker, server_ticket, wait_until, working  # noqa: F401  (fixture)
from tests.test_sync import first_open_ticket, sync

# --- inserting a macro's text as its own paragraph ------------------------------------------------


def put(text: str, cursor: int, snippet: str) -> tuple[str, int]:
    index, insertion, after = paragraph_insert(text, cursor, snippet)
    return text[:index] + insertion + text[index:], after


@pytest.mark.parametrize("text, cursor, expected", [
    ("", 0, "Hello Mia,"),
    ("Thanks for waiting (ticket #52)", 31, "Thanks for waiting (ticket #52)\n\nHello Mia,"),  # the glued case
    ("Hi\n", 3, "Hi\n\nHello Mia,"),
    ("Hi\n\n", 4, "Hi\n\nHello Mia,"),
    ("Kind regards", 0, "Hello Mia,\n\nKind regards"),
    ("Hi\n\nKind regards", 3, "Hi\n\nHello Mia,\n\nKind regards"),
    ("Hi there", 3, "Hi there\n\nHello Mia,"),  # mid-line: after the line, no word split
    ("Line one\nLine two", 4, "Line one\n\nHello Mia,\n\nLine two"),
])
def test_a_macro_goes_in_at_the_cursor_as_its_own_paragraph(text, cursor, expected):
    assert put(text, cursor, "Hello Mia,")[0] == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .\n\t"), max_size=40), st.integers(0, 45),
       st.text(alphabet=st.sampled_from("xyz \n"), min_size=1, max_size=20).filter(lambda s: s.strip()))
def test_inserting_keeps_every_character_and_never_glues(text, cursor, snippet):
    out, after = put(text, cursor, snippet)
    body = snippet.strip("\n")
    at = after - len(body)
    assert out[at:after] == body
    before, rest = out[:at], out[after:]
    assert _only_newlines_added(text, before + rest)  # the agent's text is all there, in order
    if before.strip():  # a blank line between it and the text before
        assert before[len(before.rstrip(" \t\n")):].count("\n") >= 2
    if rest.strip():  # and after
        assert rest[: len(rest) - len(rest.lstrip(" \t\n"))].count("\n") >= 2


def _only_newlines_added(original: str, now: str) -> bool:
    it = iter(now)
    for ch in original:
        for got in it:
            if got == ch:
                break
            if got != "\n":
                return False
        else:
            return False
    return all(c == "\n" for c in it)


# --- the cache: one outbox row, applied here at once ----------------------------------------------


def _ticket(i: int, **kw) -> dict:
    base = {"id": i, "subject": f"t{i}", "queue": "deposits", "status": "open", "priority": "normal", "channel": "email",
            "requester_id": 1, "assignee_id": None, "tags": ["vip"], "language": "en", "created_at": 1.0,
            "updated_at": 1.0, "version": 4, "first_reply_at": None, "solved_at": None, "sla_due": 9e9, "sla": []}
    return {**base, **kw}


def test_a_reply_with_its_changes_is_one_outbox_row_with_the_base_it_was_made_on(cache):
    cache.apply_page({"tickets": [_ticket(1)]}, "1")
    cache.save_draft(1, "We found it.", actions={"macro": "Close as solved", "actions": [{"type": "set_status", "value": "solved"}]})
    assert cache.draft(1)["actions"] == {"macro": "Close as solved", "actions": [{"type": "set_status", "value": "solved"}]}
    cache.queue_reply(1, "We found it.", internal=False, agent_id=1, agent_name="A",
                      changes={"status": "solved", "tags": ["vip", "deposit"]})
    [row] = cache.outbox()
    assert row["kind"] == "reply" and row["payload"]["changes"] == {"status": "solved", "tags": ["vip", "deposit"]}
    assert row["payload"]["base"] == {"status": "open", "tags": ["vip"]}
    assert cache.ticket(1)["status"] == "solved" and cache.ticket(1)["tags"] == ["vip", "deposit"]
    assert cache.draft(1) is None


def test_an_invalid_change_queues_nothing_not_even_the_reply(cache):
    cache.apply_page({"tickets": [_ticket(1)]}, "1")
    with pytest.raises(ValueError):
        cache.queue_reply(1, "text", internal=False, agent_id=1, agent_name="A", changes={"status": "archived"})
    assert cache.outbox() == [] and cache.thread(1) == []


def test_an_unreadable_stored_draft_action_is_no_action(cache):
    cache.apply_page({"tickets": [_ticket(1)]}, "1")
    cache.save_draft(1, "text")
    with cache.engine.begin() as c:
        c.exec_driver_sql("UPDATE drafts SET actions = '{not json' WHERE ticket_id = 1")
    assert cache.draft(1)["actions"] is None


# --- the server: applied with the message, or refused with a reason -------------------------------


async def test_the_reply_and_its_actions_reach_the_server_as_one_request(backend, cache):
    await sync(cache, backend)
    t = first_open_ticket(cache)
    cache.queue_reply(t["id"], "Solved, thanks.", internal=False, agent_id=1, agent_name="Alex",
                      changes={"status": "solved", "tags": [*t["tags"], "deposit"]})
    report = await sync(cache, backend)
    assert report.pushed == 1 and not report.rejected
    s = backend.api("GET", f"/tickets/{t['id']}").json()
    assert s["ticket"]["status"] == "solved" and "deposit" in s["ticket"]["tags"]
    assert any(m["body"] == "Solved, thanks." for m in s["messages"])
    assert cache.ticket(t["id"])["status"] == "solved" and cache.outbox() == []


async def test_someone_elses_change_meanwhile_keeps_the_reply_and_refuses_the_actions_visibly(backend, cache):
    await sync(cache, backend)
    t = first_open_ticket(cache)
    # another agent puts it on hold and tags it after our copy was pulled
    cur = backend.api("GET", f"/tickets/{t['id']}").json()["ticket"]
    r = backend.api("PATCH", f"/tickets/{t['id']}", token="demo-supervisor", headers={"If-Match": f'"{cur["version"]}"'},
                    json={"status": "on_hold", "tags": [*cur["tags"], "escalated-by-sup"]})
    assert r.status_code == 200, r.text
    cache.queue_reply(t["id"], "We are closing this.", internal=False, agent_id=1, agent_name="Alex",
                      changes={"status": "solved", "tags": [*t["tags"], "deposit"]})
    report = await sync(cache, backend)
    assert report.pushed == 1
    assert report.rejected and "macro actions were not" in report.rejected[0] and "on_hold" in report.rejected[0]
    s = backend.api("GET", f"/tickets/{t['id']}").json()
    assert any(m["body"] == "We are closing this." for m in s["messages"])  # the customer got the reply
    assert s["ticket"]["status"] == "on_hold" and "deposit" not in s["ticket"]["tags"]  # nothing clobbered
    [refusal] = cache.rejections()
    assert refusal["kind"] == "update" and refusal["ticket_id"] == t["id"] and "on_hold" in refusal["reason"]
    assert cache.ticket(t["id"])["status"] == "on_hold"  # the server's state, not our optimistic one


async def test_tags_merge_with_what_others_added_meanwhile(backend, cache):
    await sync(cache, backend)
    t = first_open_ticket(cache)
    cur = backend.api("GET", f"/tickets/{t['id']}").json()["ticket"]
    backend.api("PATCH", f"/tickets/{t['id']}", token="demo-supervisor", headers={"If-Match": f'"{cur["version"]}"'},
                json={"tags": [*cur["tags"], "from-sup"]}).raise_for_status()
    cache.queue_reply(t["id"], "Tagging this.", internal=False, agent_id=1, agent_name="Alex",
                      changes={"tags": [*t["tags"], "deposit"]})
    report = await sync(cache, backend)
    assert report.pushed == 1 and not report.rejected
    tags = backend.api("GET", f"/tickets/{t['id']}").json()["ticket"]["tags"]
    assert {"from-sup", "deposit"} <= set(tags)


def test_a_retried_reply_with_changes_is_applied_once(sqlite_backend):
    b = sqlite_backend
    tickets = b.api("GET", "/changes").json()["tickets"]
    t = next(x for x in tickets if x["status"] in ("new", "open"))
    body = {"id": "7a1f2a52-2d2c-4f0e-9a43-6b1f0f4b0a11", "kind": "reply", "body": "Done.",
            "changes": {"status": "solved"}, "base": {"status": t["status"]}}
    first = b.api("POST", f"/tickets/{t['id']}/messages", json=body, headers={"Idempotency-Key": "k-1"})
    again = b.api("POST", f"/tickets/{t['id']}/messages", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert first.json()["ticket"]["status"] == "solved"
    bad = b.api("POST", f"/tickets/{t['id']}/messages", json={**body, "id": "0c3d5a8e-61f4-4b7e-8f43-2a9d1c0e7b22", "changes": {"queue": "no-such-queue"}},
                headers={"Idempotency-Key": "k-2"})
    assert bad.status_code == 201 and "no-such-queue" in bad.json()["changes_refused"]


# --- the app --------------------------------------------------------------------------------------


async def test_leaving_without_sending_applies_nothing_and_the_draft_keeps_the_actions(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        tid = app.screen.queue.cursor_ticket_id
        before = server_ticket(server, tid)["ticket"]
        await open_the_picker(pilot, "close as solved")
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert "Close as solved" not in app.screen.query_one("#composer").text
        assert "status → solved" in str(app.screen.query_one("#composer-actions").render())
        assert cache.outbox_depth() == 0 and cache.ticket(tid)["status"] == before["status"]
        await pilot.press("escape", "escape")  # leave the box, leave the ticket, send nothing
        await pilot.pause(6.5)  # longer than the old 5 s undo hold, after which the actions used to go out
        app.action_sync_now()
        await pilot.pause(1.0)
        assert server_ticket(server, tid)["ticket"]["status"] == before["status"]
        assert cache.outbox_depth() == 0
        # back on the ticket: the draft still holds the text and its actions; sending sends both
        app.open_ticket(tid)
        await pilot.pause(0.5)
        assert app.screen.pending_actions and "solved" in str(app.screen.query_one("#composer-actions").render())
        await pilot.press("r", "ctrl+s")
        await wait_until(pilot, lambda: server_ticket(server, tid)["ticket"]["status"] == "solved")
        s = server_ticket(server, tid)
        assert any("glad we could resolve" in m["body"] for m in s["messages"])


async def test_dropping_the_actions_sends_the_text_alone(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        tid = app.screen.queue.cursor_ticket_id
        status = server_ticket(server, tid)["ticket"]["status"]
        await open_the_picker(pilot, "close as solved")
        await pilot.press("enter")
        await pilot.pause(0.5)
        await pilot.press("ctrl+n")  # in the box
        await pilot.pause(0.2)
        assert app.screen.pending_actions is None
        assert not app.screen.query_one("#composer-actions").has_class("pending")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("glad we could resolve" in m["body"] for m in server_ticket(server, tid)["messages"]))
        assert server_ticket(server, tid)["ticket"]["status"] == ("open" if status == "new" else status)


async def test_emptying_the_box_drops_the_actions(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        tid = app.screen.queue.cursor_ticket_id
        await open_the_picker(pilot, "close as solved")
        await pilot.press("enter")
        await pilot.pause(0.5)
        app.screen.query_one("#composer").clear()
        await pilot.pause(0.8)
        assert app.screen.pending_actions is None and cache.draft(tid) is None


async def test_a_second_macro_is_its_own_paragraph_and_both_macros_actions_wait(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        await pilot.press("enter", "r", *"Thanks for waiting (ticket #52)")
        await pilot.press("ctrl+g")
        await pilot.pause(0.3)
        await pilot.press(*"close as solved", "enter")
        await pilot.pause(0.5)
        text = app.screen.query_one("#composer").text
        assert text.startswith("Thanks for waiting (ticket #52)\n\n") and "#52)I" not in text


async def test_a_macro_of_actions_alone_asks_once_then_applies(desk):
    server, cache = desk
    r = httpx.post(f"{server.url}/api/v1/macros", headers={"Authorization": "Bearer demo-agent"},
                   json={"key": "escalate_to_recovery", "title": "Escalate to recovery", "bodies": {},
                         "actions": [{"type": "set_priority", "value": "high"}, {"type": "add_tags", "value": ["escalated"]}]})
    assert r.status_code == 201, r.text
    async with working(desk) as (app, pilot):
        tid = app.screen.queue.cursor_ticket_id
        await wait_until(pilot, lambda: any(m["key"] == "escalate_to_recovery" for m in cache.macros()))
        await open_the_picker(pilot, "escalate to recovery")
        await pilot.press("enter")
        await pilot.pause(0.5)
        from agent_tui.screens.modals.confirm import ConfirmScreen

        assert isinstance(app.screen, ConfirmScreen) and "priority → high" in app.screen.question
        assert cache.outbox_depth() == 0
        await pilot.press("y")
        await pilot.pause(0.3)
        assert cache.outbox_depth() == 1 and cache.ticket(tid)["priority"] == "high"
        await wait_until(pilot, lambda: "escalated" in server_ticket(server, tid)["ticket"]["tags"])


def test_a_macro_needs_text_or_actions_on_the_server(sqlite_backend):
    r = sqlite_backend.api("POST", "/macros", json={"key": "nothing", "title": "Nothing", "bodies": {}, "actions": []})
    assert r.status_code == 422 and "text (bodies) or actions" in r.text
