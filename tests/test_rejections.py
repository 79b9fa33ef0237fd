"""R: a refused change is not a dead end. A refused reply goes back into its ticket's box to be
edited and sent again; any refused change can be sent again as it was. The app against the real
backend (a child process with fault injection), driven with Pilot."""

from __future__ import annotations

import contextlib

from agent_tui.app import AgentApp
from agent_tui.screens.modals.rejections import RejectionsScreen
from agent_tui.screens.ticket import TicketScreen
from tests.test_app import wait_until
from tests.test_sync import first_open_ticket

SIZE = (160, 45)


@contextlib.asynccontextmanager
async def app_on(backend, cache):
    app = AgentApp(cache=cache, server_url=backend.url, token="demo-agent")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: cache.stats()["tickets"] > 0 and app.me_id == 1 and app.engine is not None
                         and app.engine.state == "online", timeout=30)
        yield app, pilot


def bodies(backend, tid: int) -> list[str]:
    return [m["body"] for m in backend.api("GET", f"/tickets/{tid}").json()["messages"]]


async def test_a_refused_reply_is_edited_in_its_box_and_sent_again(sqlite_backend, cache):
    b = sqlite_backend
    async with app_on(b, cache) as (app, pilot):
        t = first_open_ticket(cache)
        b.fault(f"/api/v1/tickets/{t['id']}/messages", "500", count=100, body_contains="POISON")
        app.open_ticket(t["id"])
        await pilot.pause(0.3)
        await pilot.press("r", *"POISON in this reply")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(cache.rejections()) == 1, timeout=30)
        assert not any("POISON" in x for x in bodies(b, t["id"]))
        await pilot.press("escape", "R")
        await wait_until(pilot, lambda: isinstance(app.screen, RejectionsScreen))
        assert "POISON in this reply" in str(app.screen.query_one("#rej-list").get_option_at_index(0).prompt)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, TicketScreen) and "POISON" in app.screen.query_one("#composer").text)
        assert cache.rejections() == []  # dealt with: the text is in the box now, not lost
        box = app.screen.query_one("#composer")
        assert app.screen.focused is box  # the ticket was open: its box has the text and the focus
        box.load_text(box.text.replace("POISON", "Fixed"))  # the agent edits the text
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Fixed in this reply" in bodies(b, t["id"]), timeout=30)


async def test_a_refused_change_is_sent_again_on_the_current_version(sqlite_backend, cache):
    b = sqlite_backend
    async with app_on(b, cache) as (app, pilot):
        t = first_open_ticket(cache)
        # someone else changes the ticket after our copy was pulled, and our change is based on the old one
        app.engine.pull_interval = 3600
        cur = b.api("GET", f"/tickets/{t['id']}").json()["ticket"]
        b.api("PATCH", f"/tickets/{t['id']}", token="demo-supervisor", headers={"If-Match": f'"{cur["version"]}"'},
              json={"tags": [*cur["tags"], "sup"]}).raise_for_status()
        app.change([t["id"]], {"priority": "urgent"})
        await wait_until(pilot, lambda: len(cache.rejections()) == 1, timeout=30)
        assert cache.rejections()[0]["status_code"] == 412
        assert b.api("GET", f"/tickets/{t['id']}").json()["ticket"]["priority"] != "urgent"
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, RejectionsScreen))
        await pilot.press("s")
        await wait_until(pilot, lambda: b.api("GET", f"/tickets/{t['id']}").json()["ticket"]["priority"] == "urgent", timeout=30)
        assert cache.rejections() == [] and "sup" in b.api("GET", f"/tickets/{t['id']}").json()["ticket"]["tags"]


async def test_dismissing_one_refusal_leaves_the_others(sqlite_backend, cache):
    b = sqlite_backend
    async with app_on(b, cache) as (app, pilot):
        t = first_open_ticket(cache)
        b.fault(f"/api/v1/tickets/{t['id']}/messages", "500", count=100, body_contains="POISON")
        for text in ("POISON one", "POISON two"):
            cache.queue_reply(t["id"], text, internal=False, agent_id=1, agent_name="Alex")
        app.action_sync_now()
        await wait_until(pilot, lambda: len(cache.rejections()) == 2, timeout=30)
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, RejectionsScreen))
        await pilot.press("x")
        await wait_until(pilot, lambda: len(cache.rejections()) == 1)
        await wait_until(pilot, lambda: isinstance(app.screen, RejectionsScreen))  # open again: one remains
        await pilot.press("a")
        await wait_until(pilot, lambda: cache.rejections() == [] and not isinstance(app.screen, RejectionsScreen))
