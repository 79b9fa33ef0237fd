"""The UI never waits on SQLite: an agent's whole flow on a 100,000-ticket cache, with every SQL statement
recorded by the thread that issued it. Any statement issued on the event loop's thread fails the test
and names the code that asked for it. (How long the loop stalls is measured by bench/ui_stall.py; this
test checks the cause, which does not depend on the machine's speed.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from agent_tui.app import AgentApp, Identity
from bench.queue_query import QUEUES, fill as fill_tickets
from storage.cache import Cache
from tests.loopwatch import watch_sql


@pytest.fixture(scope="module")
def big_cache(tmp_path_factory):
    path = tmp_path_factory.mktemp("loop") / "cache.db"
    cache = Cache.open(path)
    fill_tickets(cache, 100_000)
    cache.apply_page({"queues": [{"id": q, "name": q.title(), "position": i} for i, q in enumerate(QUEUES)]}, None)
    cache.close()
    return path


def make_app(path, role="agent"):
    cache = Cache.open(path)
    app = AgentApp(cache=cache, server_url="http://127.0.0.1:9", token="-", sync_enabled=False,
                   identity=Identity(1, "Agent 1", role),
                   settings=SimpleNamespace(theme="agent-dark", at_risk_minutes=15, views={}, keymap={}))
    return app, cache


async def drive(pilot, *keys, pause=0.05):
    for key in keys:
        await pilot.press(key)
        await pilot.pause(pause)
    await pilot.pause(0.4)


@pytest.mark.asyncio
async def test_an_agents_flow_on_a_big_cache_issues_no_sql_on_the_event_loop(big_cache):
    app, cache = make_app(big_cache)
    try:
        with watch_sql() as w:
            async with app.run_test(size=(160, 45)) as pilot:
                await pilot.pause(1.0)
                await drive(pilot, *["pagedown"] * 5, "end", "home")  # later pages of the queue
                await drive(pilot, "right_square_bracket", "right_square_bracket", "left_square_bracket")
                await drive(pilot, "slash", *"deposit 77", "enter")
                await drive(pilot, "escape")
                await drive(pilot, "enter")  # open a ticket
                await drive(pilot, "r", *"Thanks, we are checking it.")  # a draft is written as one types
                await pilot.pause(1.5)
                await drive(pilot, "ctrl+s")  # send (the guard, the collision checks and the writer: each off the loop)
                await pilot.pause(1.5)
                await drive(pilot, "m")  # the macro picker
                await drive(pilot, "escape")
                await drive(pilot, "l")  # the deposit look-up screen
                await drive(pilot, "escape")
                await drive(pilot, "j")  # next ticket
                await drive(pilot, "escape", "escape")
                await drive(pilot, "c")  # claim
                await drive(pilot, "R")  # the refused changes
                await drive(pilot, "escape")
                await drive(pilot, "b")  # batch look-ups and their history
                await drive(pilot, "escape", "escape")
                await pilot.pause(2.5)  # idle ticks: the status strip and the counts
        assert w.off_loop > 0, "the watcher saw no SQL at all: it is not watching"
        on_loop = dict(w.on_loop)
        assert not on_loop, "SQL ran on the event loop (the UI waited on SQLite):\n" + "\n".join(f"  {k}: {v}" for k, v in on_loop.items())
        assert cache.pending_counts()[0] >= 1, "the flow queued nothing: it did not do what it says"
    finally:
        cache.close()
