"""Sync against the real backend over loopback, with faults injected into the real server."""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from agent_tui.sync import Backoff, SyncEngine, SyncError
from storage.cache import Cache
from tests.conftest import REPO

FAST = dict(backoff=Backoff(base=0.02, cap=0.1), timeout=2.0)


def engine_for(cache: Cache, backend, token: str = "demo-agent", **kw) -> SyncEngine:
    return SyncEngine(cache, backend.url, token, **{**FAST, **kw})


async def sync(cache: Cache, backend, **kw):
    eng = engine_for(cache, backend, **kw)
    try:
        return await eng.sync_once()
    finally:
        await eng.aclose()


def server_ticket(backend, tid: int) -> dict:
    r = backend.api("GET", f"/tickets/{tid}")
    assert r.status_code == 200, r.text
    return r.json()


def first_open_ticket(cache: Cache, unassigned: bool = False) -> dict:
    with cache.engine.connect() as c:
        sql = "SELECT id FROM tickets WHERE status IN ('new','open')"
        if unassigned:
            sql += " AND assignee_id IS NULL"
        tid = c.exec_driver_sql(sql + " ORDER BY id LIMIT 1").scalar()
    return cache.ticket(tid)


def index_names(cache: Cache) -> set[str]:
    with cache.engine.connect() as c:
        return {r[0] for r in c.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}


async def test_first_sync_pulls_everything_and_resumes_from_cursor(backend, cache):
    declared = index_names(cache)
    assert {"ix_tickets_queue_status_due", "ix_messages_ticket_id"} <= declared
    report = await sync(cache, backend, page_limit=250)
    assert report.pages > 3
    assert index_names(cache) == declared  # dropped for the bulk load, built again at its end
    stats = cache.stats()
    assert stats["tickets"] == 300
    assert stats["messages"] == report.pulled.messages > 300
    assert cache.cursor
    again = await sync(cache, backend)
    assert (again.pulled.tickets, again.pulled.messages, again.pages) == (0, 0, 1)


async def test_reply_goes_out_once_and_is_confirmed(backend, cache):
    await sync(cache, backend)
    t = first_open_ticket(cache)
    change = cache.queue_reply(t["id"], "We are checking your deposit now.", internal=False, agent_id=1, agent_name="Alex Morgan")
    assert cache.outbox_depth() == 1
    assert [m["pending"] for m in cache.thread(t["id"]) if m["id"] == change] == [1]
    report = await sync(cache, backend)
    assert report.pushed == 1 and cache.outbox_depth() == 0
    assert [m["pending"] for m in cache.thread(t["id"]) if m["id"] == change] == [0]
    on_server = [m for m in server_ticket(backend, t["id"])["messages"] if m["id"] == change]
    assert len(on_server) == 1 and on_server[0]["kind"] == "reply"
    await sync(cache, backend)  # replaying does nothing
    assert len([m for m in server_ticket(backend, t["id"])["messages"] if m["id"] == change]) == 1


async def test_changes_go_out_in_order_and_rebase_on_our_own_versions(backend, cache):
    await sync(cache, backend)
    t = first_open_ticket(cache, unassigned=True)
    cache.queue_claim(t["id"], 1)
    cache.queue_reply(t["id"], "Hello, looking into it.", internal=False, agent_id=1, agent_name="Alex Morgan")
    cache.queue_update(t["id"], {"status": "pending", "priority": "high"})
    report = await sync(cache, backend)
    assert report.pushed == 3 and not report.rejected, report.rejected
    s = server_ticket(backend, t["id"])["ticket"]
    assert (s["assignee_id"], s["status"], s["priority"]) == (1, "pending", "high")
    local = cache.ticket(t["id"])
    assert (local["version"], local["status"]) == (s["version"], "pending")


@pytest.mark.parametrize("kind,extra", [
    ("500", {"count": 2}),
    ("503", {"count": 1, "retry_after": 0.3}),
    ("429", {"count": 2, "retry_after": 0.3}),
    ("malformed", {"count": 2}),
    ("garbled_page", {"count": 2}),
    ("reset", {"count": 2}),
    ("delay", {"count": 1, "delay": 3.5}),
])
async def test_pull_survives_transient_faults(sqlite_backend, cache, kind, extra):
    sqlite_backend.fault("/api/v1/changes", kind, **extra)
    t0 = time.monotonic()
    report = await sync(cache, sqlite_backend)
    assert report.pulled.tickets == 300
    if extra.get("retry_after"):
        assert time.monotonic() - t0 >= 0.3 * extra["count"]  # Retry-After honoured, not just jitter


async def test_push_survives_transient_faults_without_duplicates(sqlite_backend, cache):
    await sync(cache, sqlite_backend)
    t = first_open_ticket(cache)
    change = cache.queue_reply(t["id"], "Your deposit is confirmed.", internal=False, agent_id=1, agent_name="Alex")
    # The first attempt is applied by the server but the answer is lost (delay > client timeout);
    # the retry with the same Idempotency-Key must get the stored answer, not a second message.
    sqlite_backend.fault(f"/api/v1/tickets/{t['id']}/messages", "429", count=1, retry_after=0.1)
    sqlite_backend.fault(f"/api/v1/tickets/{t['id']}/messages", "500", count=1)
    report = await sync(cache, sqlite_backend)
    assert report.pushed == 1
    assert len([m for m in server_ticket(sqlite_backend, t["id"])["messages"] if m["id"] == change]) == 1


async def test_lost_answer_is_replayed_not_duplicated(sqlite_backend, cache):
    await sync(cache, sqlite_backend)
    t = first_open_ticket(cache)
    body = "Checked on-chain: 12 of 12 confirmations."
    change = cache.queue_reply(t["id"], body, internal=False, agent_id=1, agent_name="Alex")
    # deliver the request ourselves first, as a sender that crashed before reading the answer would
    r = sqlite_backend.api("POST", f"/tickets/{t['id']}/messages", json={"id": change, "kind": "reply", "body": body},
                           headers={"Idempotency-Key": change})
    assert r.status_code == 201
    report = await sync(cache, sqlite_backend)
    assert report.pushed == 1 and not report.rejected
    assert len([m for m in server_ticket(sqlite_backend, t["id"])["messages"] if m["id"] == change]) == 1


async def test_server_killed_mid_pull_resumes_with_nothing_lost_or_doubled(backend, cache):
    backend.fault("/api/v1/changes", "kill", after=7)
    with pytest.raises(SyncError) as err:
        await sync(cache, backend, page_limit=200, attempts=2)
    assert "\n" not in str(err.value)
    backend.wait_dead()
    partial = cache.cursor
    assert partial and 0 < cache.stats()["tickets"] < 300
    assert {"ix_tickets_status_due", "ix_messages_ticket_id"} <= index_names(cache)  # a failed first sync still builds them
    backend.start()
    report = await sync(cache, backend, page_limit=200)
    assert cache.stats()["tickets"] == 300
    with cache.engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM messages").scalar() == c.exec_driver_sql(
            "SELECT count(DISTINCT id) FROM messages").scalar()
    assert report.pages >= 1


async def test_offline_changes_queue_up_and_flush_on_reconnect(backend, cache):
    await sync(cache, backend)
    t = first_open_ticket(cache)
    backend.kill()
    change = cache.queue_reply(t["id"], "Sent while the server was down.", internal=False, agent_id=1, agent_name="Alex")
    cache.queue_update(t["id"], {"status": "pending"})
    with pytest.raises(SyncError, match="cannot connect"):
        await sync(cache, backend, attempts=2)
    assert cache.outbox_depth() == 2
    assert cache.ticket(t["id"])["status"] == "pending"  # the app keeps working from the cache
    backend.start()
    outbox = cache.outbox()
    for row in outbox:  # the failed attempt scheduled a retry; don't wait for it in the test
        with cache.engine.begin() as c:
            c.exec_driver_sql("UPDATE outbox SET next_attempt_at = 0 WHERE seq = ?", (row["seq"],))
    report = await sync(cache, backend)
    assert report.pushed == 2 and cache.outbox_depth() == 0
    s = server_ticket(backend, t["id"])
    assert s["ticket"]["status"] == "pending"
    assert len([m for m in s["messages"] if m["id"] == change]) == 1


async def test_conflict_is_shown_and_local_row_takes_the_servers_state(backend, tmp_path):
    a = Cache.open(tmp_path / "a.db")
    b = Cache.open(tmp_path / "b.db")
    await sync(a, backend)
    await sync(b, backend, token="demo-recovery")
    t = first_open_ticket(a)
    b.queue_update(t["id"], {"priority": "urgent"})
    assert (await sync(b, backend, token="demo-recovery")).pushed == 1
    a.queue_update(t["id"], {"status": "on_hold"})  # based on the version a saw before b's change
    report = await sync(a, backend)
    assert report.pushed == 0 and len(report.rejected) == 1
    rej = a.rejections()
    assert rej[0]["status_code"] == 412 and "changed on the server" in rej[0]["reason"]
    local = a.ticket(t["id"])
    assert (local["priority"], local["status"]) == ("urgent", t["status"])


def test_two_concurrent_claims_have_exactly_one_winner(backend):
    r = backend.api("GET", "/changes", params={"limit": 1000})
    tid = next(t["id"] for t in r.json()["tickets"] if t["assignee_id"] is None and t["status"] == "new")
    results: list[int] = []
    barrier = threading.Barrier(2)

    def claim(token: str) -> None:
        barrier.wait()
        results.append(backend.api("POST", f"/tickets/{tid}/claim", token=token).status_code)

    threads = [threading.Thread(target=claim, args=(tok,)) for tok in ("demo-agent", "demo-recovery")]
    [th.start() for th in threads]
    [th.join() for th in threads]
    assert sorted(results) == [200, 409]


async def test_claim_lost_to_another_agent_becomes_a_rejection(sqlite_backend, cache):
    await sync(cache, sqlite_backend)
    t = first_open_ticket(cache, unassigned=True)
    cache.queue_claim(t["id"], 1)
    assert sqlite_backend.api("POST", f"/tickets/{t['id']}/claim", token="demo-recovery").status_code == 200
    report = await sync(cache, sqlite_backend)
    assert len(report.rejected) == 1 and "already claimed by Riya Patel" in report.rejected[0]
    assert cache.ticket(t["id"])["assignee_id"] == 2


async def test_tombstones_remove_deleted_tickets(sqlite_backend, cache):
    await sync(cache, sqlite_backend)
    assert sqlite_backend.api("DELETE", "/tickets/5", token="demo-supervisor").status_code == 200
    report = await sync(cache, sqlite_backend)
    assert report.pulled.deleted == 1
    assert cache.ticket(5) is None and cache.thread(5) == []


async def test_bad_token_is_one_clear_line(sqlite_backend, cache):
    with pytest.raises(SyncError) as err:
        await sync(cache, sqlite_backend, token="nope")
    assert "sign in again" in str(err.value) and "\n" not in str(err.value)


CHILD = textwrap.dedent("""
    import asyncio, os, signal, sys
    sys.path.insert(0, {repo!r})
    from storage.cache import Cache
    from agent_tui.sync import SyncEngine
    cache = Cache.open({db!r})
    tid = {tid}
    change = cache.queue_reply(tid, {body!r}, internal=False, agent_id=1, agent_name="Alex")
    print(change, flush=True)
    if {where!r} == "after_outbox_write":
        os.kill(os.getpid(), signal.SIGKILL)
    async def send():
        eng = SyncEngine(cache, {url!r}, "demo-agent")
        row = cache.outbox()[0]
        method, path, kw = eng._call_for(row)
        await eng.request(method, path, **kw)   # the server has it now...
        os.kill(os.getpid(), signal.SIGKILL)   # ...and we die before confirming
    asyncio.run(send())
""")


@pytest.mark.parametrize("where", ["after_outbox_write", "after_send_before_confirm"])
async def test_sigkill_of_the_app_never_loses_or_doubles_a_reply(backend, cache, tmp_path, where):
    await sync(cache, backend)
    t = first_open_ticket(cache)
    db = str(cache.path)
    cache.close()
    body = f"Reply that must arrive exactly once ({where})."
    script = CHILD.format(repo=str(REPO), db=db, tid=t["id"], body=body, where=where, url=backend.url)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    change = proc.stdout.strip()
    before = [m for m in server_ticket(backend, t["id"])["messages"] if m["body"] == body]
    assert len(before) == (0 if where == "after_outbox_write" else 1)
    restarted = Cache.open(db)
    assert restarted.outbox_depth() == 1  # the change survived the crash
    report = await sync(restarted, backend)
    assert report.pushed == 1 and restarted.outbox_depth() == 0
    after = [m for m in server_ticket(backend, t["id"])["messages"] if m["body"] == body]
    assert len(after) == 1 and after[0]["id"] == change
    restarted.close()


async def test_sse_poke_triggers_a_pull(sqlite_backend, cache):
    await sync(cache, sqlite_backend)
    eng = engine_for(cache, sqlite_backend, pull_interval=60)
    reports = []
    task = asyncio.create_task(eng.run(lambda rep, _e: reports.append(rep)))
    try:
        for _ in range(100):
            if reports:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # let the stream connect
        n = len(reports)
        r = sqlite_backend.api("POST", "/tickets", json={"subject": "Poke me", "queue": "kyc", "requester_id": 3, "body": "hi"})
        assert r.status_code == 201
        new_id = r.json()["ticket"]["id"]
        for _ in range(100):  # well under the 60 s periodic pull
            if cache.ticket(new_id) and len(reports) > n:  # stored, and the pull reported (just after it commits)
                break
            await asyncio.sleep(0.05)
        assert cache.ticket(new_id)["subject"] == "Poke me"
        assert len(reports) > n
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await eng.aclose()


# --- a change the server fails on every time must not block the outbox (issue 10) ----------------


def two_open_tickets(cache: Cache) -> tuple[int, int]:
    with cache.engine.connect() as c:
        a, b = c.exec_driver_sql("SELECT id FROM tickets WHERE status IN ('new','open') ORDER BY id LIMIT 2").scalars()
    return a, b


def bodies_on_server(backend, tid: int) -> list[str]:
    return [m["body"] for m in server_ticket(backend, tid)["messages"]]


def faults_left(backend) -> list[int]:
    import httpx

    return [f["count"] for f in httpx.get(backend.url + "/_faults", timeout=5).json()["faults"]]


async def test_a_change_the_server_fails_on_the_same_way_twice_is_refused_at_once_and_the_rest_go_on(backend, cache):
    await sync(cache, backend)
    a, b = two_open_tickets(cache)
    poison = cache.queue_reply(a, "POISON: this one makes the server fail.", internal=False, agent_id=1, agent_name="Alex")
    cache.queue_reply(a, "A later reply on the same ticket.", internal=False, agent_id=1, agent_name="Alex")
    cache.queue_update(b, {"priority": "high"})
    cache.queue_reply(b, "A reply on another ticket.", internal=False, agent_id=1, agent_name="Alex")
    backend.fault(f"/api/v1/tickets/{a}/messages", "500", count=100, body_contains="POISON")
    report = await sync(cache, backend)
    assert faults_left(backend) == [98]  # the same 500 twice in a row: not tried three more times
    assert report.pushed == 3 and len(report.rejected) == 1 and cache.outbox_depth() == 0
    [rej] = cache.rejections()
    assert (rej["change_id"], rej["status_code"]) == (poison, 500)
    assert "every time" in rej["reason"] and "Injected server error." in rej["reason"]
    assert "POISON" in rej["payload"]  # the text is kept for the agent to edit and send again
    assert "A later reply on the same ticket." in bodies_on_server(backend, a)
    assert not any("POISON" in x for x in bodies_on_server(backend, a))
    assert "A reply on another ticket." in bodies_on_server(backend, b)
    assert server_ticket(backend, b)["ticket"]["priority"] == "high"
    assert poison not in {m["id"] for m in cache.thread(a)}  # not shown as sent


async def test_the_same_failing_answer_in_two_rounds_in_a_row_refuses_the_change(sqlite_backend, cache):
    """"Twice in a row" is over the change's consecutive attempts, not only the tries of one request:
    one try a round, the same 500 in the next round refuses it (not 5 rounds later)."""
    await sync(cache, sqlite_backend)
    a, b = two_open_tickets(cache)
    poison = cache.queue_reply(a, "POISON in one try a round.", internal=False, agent_id=1, agent_name="A")
    sqlite_backend.fault(f"/api/v1/tickets/{a}/messages", "500", count=100, body_contains="POISON")
    report = await sync(cache, sqlite_backend, attempts=1)
    assert not report.rejected and cache.outbox_depth() == 1  # once is not yet "every time"
    with cache.engine.begin() as c:
        c.exec_driver_sql("UPDATE outbox SET next_attempt_at = 0")
    report = await sync(cache, sqlite_backend, attempts=1)
    assert faults_left(sqlite_backend) == [98]
    assert len(report.rejected) == 1 and cache.outbox_depth() == 0
    [rej] = cache.rejections()
    assert rej["change_id"] == poison and "twice in a row" in rej["reason"]


async def test_an_unavailable_round_between_two_same_failures_is_not_twice_in_a_row(sqlite_backend, cache):
    await sync(cache, sqlite_backend)
    a, b = two_open_tickets(cache)
    cache.queue_reply(a, "POISON, then a proxy's 503, then POISON.", internal=False, agent_id=1, agent_name="A")
    path = f"/api/v1/tickets/{a}/messages"
    for kind in ("500", "503", "500"):
        sqlite_backend.fault(path, kind, count=1)
        with pytest.raises(SyncError) if kind == "503" else contextlib.nullcontext():
            await sync(cache, sqlite_backend, attempts=1)
        with cache.engine.begin() as c:
            c.exec_driver_sql("UPDATE outbox SET next_attempt_at = 0")
    assert cache.outbox_depth() == 1 and not cache.rejections()
    assert cache.outbox()[0]["attempts"] == 2  # the two 500s count; the 503 says nothing about the change


async def test_a_change_failing_differently_each_time_is_refused_after_a_bounded_number_of_tries(sqlite_backend, cache):
    await sync(cache, sqlite_backend)
    a, _b = two_open_tickets(cache)
    cache.queue_reply(a, "The server fails on this with a new request id each time.", internal=False, agent_id=1, agent_name="A")
    sqlite_backend.fault(f"/api/v1/tickets/{a}/messages", "500_unique", count=100)
    report = await sync(cache, sqlite_backend, attempts=3)  # 3 tries a round: the bound (5) spans rounds
    assert report.pushed == 0 and not report.rejected and cache.outbox_depth() == 1
    assert cache.outbox()[0]["attempts"] == 3
    with cache.engine.begin() as c:
        c.exec_driver_sql("UPDATE outbox SET next_attempt_at = 0")
    report = await sync(cache, sqlite_backend, attempts=3)
    assert faults_left(sqlite_backend) == [95]
    assert len(report.rejected) == 1 and cache.outbox_depth() == 0
    assert "5 times" in cache.rejections()[0]["reason"]


async def test_a_change_waiting_for_a_retry_holds_back_its_tickets_later_changes_only(sqlite_backend, cache):
    await sync(cache, sqlite_backend)
    a, b = two_open_tickets(cache)
    first = cache.queue_reply(a, "First on A.", internal=False, agent_id=1, agent_name="A")
    second = cache.queue_reply(a, "Second on A.", internal=False, agent_id=1, agent_name="A")
    cache.queue_reply(b, "Only on B.", internal=False, agent_id=1, agent_name="A")
    sqlite_backend.fault(f"/api/v1/tickets/{a}/messages", "500_unique", count=2)
    report = await sync(cache, sqlite_backend, attempts=2)
    assert report.pushed == 1 and "Only on B." in bodies_on_server(sqlite_backend, b)
    assert [r["change_id"] for r in cache.outbox()] == [first, second]  # order on A kept
    assert "Second on A." not in bodies_on_server(sqlite_backend, a)
    with cache.engine.begin() as c:
        c.exec_driver_sql("UPDATE outbox SET next_attempt_at = 0")
    report = await sync(cache, sqlite_backend, attempts=2)
    assert report.pushed == 2 and cache.outbox_depth() == 0
    on_a = bodies_on_server(sqlite_backend, a)
    assert on_a.index("First on A.") < on_a.index("Second on A.")


async def test_unavailable_server_is_never_taken_for_a_bad_change(sqlite_backend, cache):
    await sync(cache, sqlite_backend)
    a, _b = two_open_tickets(cache)
    cache.queue_reply(a, "Sent while a proxy says 503.", internal=False, agent_id=1, agent_name="A")
    sqlite_backend.fault(f"/api/v1/tickets/{a}/messages", "503", count=100)
    for _round in range(4):  # 8 tries in all, more than the bound: still not refused
        with pytest.raises(SyncError, match="busy or failing"):
            await sync(cache, sqlite_backend, attempts=2)
        with cache.engine.begin() as c:
            c.exec_driver_sql("UPDATE outbox SET next_attempt_at = 0")
    assert cache.outbox_depth() == 1 and not cache.rejections()


class Ceiling(random.Random):
    """Full jitter at its ceiling: every wait is the longest the backoff allows, so its growth shows."""

    def uniform(self, a, b):
        return b


class Floor(random.Random):
    """Full jitter at its floor: every wait is zero, so a deferred change is due again at once."""

    def uniform(self, a, b):
        return a


async def test_a_changes_retry_wait_grows_while_the_server_is_unavailable(sqlite_backend, cache):
    await sync(cache, sqlite_backend)
    a, _b = two_open_tickets(cache)
    cache.queue_reply(a, "Waiting out a proxy's 503.", internal=False, agent_id=1, agent_name="A")
    sqlite_backend.fault(f"/api/v1/tickets/{a}/messages", "503", count=100)
    waits = []
    for _round in range(4):
        before = time.time()
        with pytest.raises(SyncError, match="busy or failing"):
            await sync(cache, sqlite_backend, attempts=1, backoff=Backoff(base=1.0, cap=1000.0, rng=Ceiling()))
        waits.append(cache.outbox()[0]["next_attempt_at"] - before)
        with cache.engine.begin() as c:
            c.exec_driver_sql("UPDATE outbox SET next_attempt_at = 0")
    assert all(later >= 1.5 * earlier for earlier, later in zip(waits, waits[1:])), waits
    assert cache.outbox()[0]["attempts"] == 0 and not cache.rejections()  # growing waits, still not its fault


# --- a feed that says "more" without moving on must not be followed for ever ---------------------


@pytest.mark.parametrize("first_sync", [True, False])
async def test_a_cursor_that_does_not_advance_stops_the_pull_with_one_line(sqlite_backend, cache, first_sync):
    if not first_sync:
        await sync(cache, sqlite_backend)
    before = cache.cursor
    sqlite_backend.fault("/api/v1/changes", "stuck_cursor", count=10_000)
    with pytest.raises(SyncError) as err:
        await sync(cache, sqlite_backend)
    line = str(err.value)
    assert "\n" not in line and "cursor" in line and "did not move on" in line, line
    assert faults_left(sqlite_backend)[0] >= 10_000 - 1  # one page asked for, not thousands
    assert cache.cursor == before


async def test_a_cursor_that_goes_back_stops_the_pull(sqlite_backend, cache):
    await sync(cache, sqlite_backend, page_limit=100)
    assert int(cache.cursor) > 1
    page = '{"tickets": [], "cursor": "1", "has_more": true}'
    sqlite_backend.fault("/api/v1/changes", "answer", count=10_000, status=200, body=page,
                         headers={"X-Next-Cursor": "1", "X-Has-More": "true"})
    with pytest.raises(SyncError, match="did not move on"):
        await sync(cache, sqlite_backend)
    assert faults_left(sqlite_backend)[0] >= 10_000 - 1


# --- odd answers: one line naming what the server sent, and the change stays queued --------------


@pytest.mark.parametrize("status,headers,needle", [
    (204, {}, "HTTP 204 instead of a page"),
    (302, {"Location": "https://login.example/sso"}, "HTTP 302 (a redirect to 'https://login.example/sso')"),
    (201, {}, "HTTP 201 instead of a page"),
])
async def test_an_odd_status_on_the_feed_is_one_line(sqlite_backend, cache, status, headers, needle):
    sqlite_backend.fault("/api/v1/changes", "answer", count=100, status=status, headers=headers)
    with pytest.raises(SyncError) as err:
        await sync(cache, sqlite_backend)
    line = str(err.value)
    assert "\n" not in line and needle in line and "GET /changes" in line, line
    assert faults_left(sqlite_backend) == [99]  # not retried: the same answer would come again


async def test_a_partial_ticket_in_a_201_is_one_line_and_the_reply_stays_queued(backend, cache):
    await sync(cache, backend)
    t = first_open_ticket(cache)
    change = cache.queue_reply(t["id"], "Answered with half a ticket.", internal=False, agent_id=1, agent_name="Alex")
    backend.fault(f"/api/v1/tickets/{t['id']}/messages", "drop_field", field="ticket.version")
    with pytest.raises(SyncError) as err:
        await sync(cache, backend)
    line = str(err.value)
    assert "\n" not in line and "HTTP 201" in line and "missing field ticket.version" in line, line
    assert [r["change_id"] for r in cache.outbox()] == [change]
    report = await sync(cache, backend)  # the server applied it: the retry gets the stored full answer
    assert report.pushed == 1 and cache.outbox_depth() == 0
    assert [m["pending"] for m in cache.thread(t["id"]) if m["id"] == change] == [0]
    assert len([m for m in server_ticket(backend, t["id"])["messages"] if m["id"] == change]) == 1


@pytest.mark.parametrize("kind,status,body,needle", [
    ("reply", 302, "", "HTTP 302"),
    ("reply", 204, "", "HTTP 204 and an empty body (missing field ticket)"),
    ("reply", 200, '{"ok": true}', "missing field ticket"),
    ("update", 200, '{"ticket": {"id": "seven"}}', "ticket.id: expected int, got str"),
    ("claim", 200, '{"ticket": []}', "ticket: expected object | null, got array"),
])
async def test_an_answer_to_a_change_that_cannot_be_stored_keeps_it_queued(sqlite_backend, cache, kind, status, body, needle):
    await sync(cache, sqlite_backend)
    t = first_open_ticket(cache, unassigned=True)
    if kind == "reply":
        change = cache.queue_reply(t["id"], "Odd answer ahead.", internal=False, agent_id=1, agent_name="Alex")
    elif kind == "update":
        change = cache.queue_update(t["id"], {"priority": "low"})
    else:
        change = cache.queue_claim(t["id"], 1)
    sqlite_backend.fault(f"/api/v1/tickets/{t['id']}", "answer", status=status, body=body)
    with pytest.raises(SyncError) as err:  # its retry wait is the jitter's floor (none), so the next sync may send it
        await sync(cache, sqlite_backend, backoff=Backoff(base=0.02, cap=0.1, rng=Floor()))
    assert "\n" not in str(err.value) and needle in str(err.value), str(err.value)
    assert [r["change_id"] for r in cache.outbox()] == [change] and not cache.rejections()
    assert (await sync(cache, sqlite_backend)).pushed == 1  # the server was never reached: it goes out now


async def test_a_refusal_with_a_broken_copy_of_the_ticket_still_refuses_and_takes_a_good_copy(sqlite_backend, cache):
    await sync(cache, sqlite_backend)
    t = first_open_ticket(cache)
    cache.queue_update(t["id"], {"priority": "low"})
    sqlite_backend.fault(f"/api/v1/tickets/{t['id']}", "answer", status=412,
                         body='{"error": "version_mismatch", "message": "Changed meanwhile.", "ticket": {"id": 1}}')
    report = await sync(cache, sqlite_backend)
    assert len(report.rejected) == 1 and "Changed meanwhile." in report.rejected[0]
    assert cache.ticket(t["id"])["priority"] == server_ticket(sqlite_backend, t["id"])["ticket"]["priority"]


@pytest.mark.parametrize("fault_path", ["/api/v1/tickets", "/api/v1"])  # every ticket call, or everything
async def test_a_server_failing_the_same_way_on_everything_refuses_nothing(sqlite_backend, cache, fault_path):
    await sync(cache, sqlite_backend)
    a, b = two_open_tickets(cache)
    cache.queue_reply(a, "Written while the server's database is down.", internal=False, agent_id=1, agent_name="A")
    cache.queue_reply(b, "Another one.", internal=False, agent_id=1, agent_name="A")
    cache.queue_macro({"key": "kyc_wait", "title": "KYC wait", "bodies": {"en": "Please wait."}}, owner_id=1)
    sqlite_backend.fault(fault_path, "500", count=10_000)  # the same 500 for every request: not the changes' fault
    with pytest.raises(SyncError, match="HTTP 500"):
        await sync(cache, sqlite_backend)
    assert not cache.rejections() and cache.outbox_depth() == 3
    assert [m["pending"] for m in cache.thread(a) if m["body"].startswith("Written while")] == [1]


def test_one_retry_policy_reads_retry_after_in_both_forms():
    """The sync engine and the chain look-ups share agent_tui.retry: seconds or an HTTP date."""
    import email.utils

    from agent_tui.chains import transport
    from agent_tui.retry import parse_retry_after

    now = 1_800_000_000.0
    assert parse_retry_after("7") == 7.0 and parse_retry_after(" 0.5 ") == 0.5 and parse_retry_after("-3") == 0.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert parse_retry_after("soon") is None and parse_retry_after("") is None and parse_retry_after(None) is None
    assert transport._retry_after("7") == 7.0  # the look-ups read it the same way
    b = Backoff(base=1.0, cap=4.0)
    assert all(0 <= b.delay(n) <= 4.0 for n in range(10)) and b.delay(3, retry_after=500) == b.max_retry_after


async def test_an_answer_that_cannot_be_stored_holds_only_its_own_ticket(sqlite_backend, cache):
    """A change whose answer this client cannot store waits, and says so in the round's one line; the
    changes of other tickets behind it still go out in that round (it used to stop the whole push)."""
    await sync(cache, sqlite_backend)
    a, b = two_open_tickets(cache)
    stuck = cache.queue_reply(a, "Answered with a redirect.", internal=False, agent_id=1, agent_name="Alex")
    cache.queue_reply(b, "Behind it, on another ticket.", internal=False, agent_id=1, agent_name="Alex")
    sqlite_backend.fault(f"/api/v1/tickets/{a}/messages", "answer", status=302, body="", count=100)
    with pytest.raises(SyncError) as err:
        await sync(cache, sqlite_backend)
    assert "HTTP 302" in str(err.value) and "\n" not in str(err.value)
    assert [r["change_id"] for r in cache.outbox()] == [stuck] and not cache.rejections()
    assert "Behind it, on another ticket." in [m["body"] for m in server_ticket(sqlite_backend, b)["messages"]]
