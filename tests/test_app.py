"""The agent app driven with Pilot against the real backend, and snapshots with a frozen clock."""

from __future__ import annotations

import contextlib
import time
from types import SimpleNamespace

import pytest

from agent_tui.app import AgentApp, Identity
from agent_tui.screens.modals.help import HelpScreen
from agent_tui.screens.queue import QueueScreen
from agent_tui.screens.ticket import TicketScreen
from backend.app import create_app
from backend.schema import make_engine
from backend.seed import seed
from backend.server import ServerThread
from storage.cache import Cache
from tests.desk import seeded_cache

FROZEN = 1795392000.0  # 2026-11-23 00:00 UTC
SIZE = (160, 45)


async def wait_until(pilot, cond, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.1)


@pytest.fixture
def desk(tmp_path):
    url = f"sqlite:///{tmp_path / 'backend.db'}"
    engine = make_engine(url)
    seed(engine, tickets=400)
    engine.dispose()
    server = ServerThread(create_app(url)).start()
    cache = Cache.open(tmp_path / "cache.db")
    yield server, cache
    server.stop()
    cache.close()


@contextlib.asynccontextmanager
async def working(desk, token: str = "demo-agent", me: int = 1):
    """The app on the seeded desk, synced and signed in: what every flow test starts from."""
    server, cache = desk
    app = AgentApp(cache=cache, server_url=server.url, token=token)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: cache.stats()["tickets"] == 400 and app.me_id == me)
        await pilot.pause(0.3)
        yield app, pilot


async def open_the_picker(pilot, query: str) -> None:
    """From the queue: open the ticket under the cursor, then the macro picker, and search."""
    await pilot.press("enter", "m")
    await pilot.pause(0.3)
    await pilot.press(*query)
    await pilot.pause(0.3)


def server_ticket(server, tid: int) -> dict:
    import httpx

    return httpx.get(f"{server.url}/api/v1/tickets/{tid}", headers={"Authorization": "Bearer demo-agent"}).json()


async def test_an_agent_works_a_ticket_with_the_keyboard_alone(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        everything = screen.queue.row_count
        await pilot.press("slash", *"deposit", "enter")
        await pilot.pause(0.2)
        assert 0 < screen.queue.row_count < everything
        tid = screen.queue.cursor_ticket_id
        await pilot.press("enter")
        assert isinstance(app.screen, TicketScreen) and app.screen.ticket_id == tid
        await pilot.press("c")  # claim
        await wait_until(pilot, lambda: server_ticket(server, tid)["ticket"]["assignee_id"] == 1)
        await pilot.press("r", *"We found your deposit and are crediting it now.")
        await pilot.press("ctrl+s")
        mine = [m for m in cache.thread(tid) if m["body"].startswith("We found your deposit")]
        assert len(mine) == 1  # in the cache (and the outbox) at once
        await wait_until(pilot, lambda: any(m["body"].startswith("We found your deposit") for m in server_ticket(server, tid)["messages"]))
        await wait_until(pilot, lambda: cache.outbox_depth() == 0)
        await pilot.press("escape", "p")  # leave the box, set pending
        await wait_until(pilot, lambda: server_ticket(server, tid)["ticket"]["status"] == "pending")
        await pilot.press("j")  # move on to the next ticket
        assert isinstance(app.screen, TicketScreen) and app.screen.ticket_id != tid
        texts = [m["body"] for m in server_ticket(server, tid)["messages"]]
        assert texts.count("We found your deposit and are crediting it now.") == 1


async def test_bulk_claim_of_selected_rows(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        q = app.screen.queue
        first = q.cursor_ticket_id
        await pilot.press("space", "down", "space")
        second = q.cursor_ticket_id
        assert q.selected_ids == {first, second}
        await pilot.press("c")
        await wait_until(pilot, lambda: all(server_ticket(server, t)["ticket"]["assignee_id"] == 1 for t in (first, second)))
        assert q.selected_ids == frozenset()


async def test_single_keys_are_ignored_while_typing_and_the_draft_survives_a_restart(desk):
    server, cache = desk
    app = AgentApp(cache=cache, server_url=server.url, token="demo-agent")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: cache.stats()["tickets"] == 400)
        await pilot.pause(0.3)
        tid = app.screen.queue.cursor_ticket_id
        status = cache.ticket(tid)["status"]
        await pilot.press("enter", "r", *"pv jc half a reply")
        await pilot.pause(0.8)  # the draft is saved while typing
        assert cache.ticket(tid)["status"] == status and cache.outbox_depth() == 0
    # the app is gone without sending; a new one finds the text where the agent left it
    app2 = AgentApp(cache=cache, server_url=server.url, token="demo-agent", sync_enabled=False)
    async with app2.run_test(size=SIZE) as pilot:
        app2.open_ticket(tid)
        await pilot.pause(0.3)
        assert app2.screen.query_one("#composer").text == "pv jc half a reply"


async def test_backend_down_keeps_the_app_working_and_the_reply_queued(desk):
    server, cache = desk
    app = AgentApp(cache=cache, server_url=server.url, token="demo-agent")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: cache.stats()["tickets"] == 400)
        await pilot.pause(0.3)
        server.stop()
        tid = app.screen.queue.cursor_ticket_id
        await pilot.press("enter", "r", *"Typed while the server is down.", "ctrl+s")
        await pilot.pause(0.5)
        assert cache.outbox_depth() == 1
        assert any(m["pending"] for m in cache.thread(tid))
        bar = app.screen.query_one("#status")
        await wait_until(pilot, lambda: bar.state == "offline" and bar.outbox == 1, timeout=30)
        assert "outbox 1" in str(bar.render())


async def test_hostile_customer_text_is_inert(desk):
    server, cache = desk
    app = AgentApp(cache=cache, server_url=server.url, token="demo-agent")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: cache.stats()["tickets"] == 400)
        app.open_ticket(7)  # seeded with Rich markup, CSI clear screen and an OSC 52 clipboard write
        await pilot.pause(0.5)
        svg = app.export_screenshot()
        assert "[bold&#160;red]URGENT[/]" in svg  # shown literally, not as markup
        assert "cGF3bmVk" not in svg and "\x1b" not in svg and "\x07" not in svg


# --- snapshots: a frozen clock and a deterministic desk, no network --------------------------


@pytest.fixture
def frozen_cache(tmp_path):
    cache = seeded_cache(tmp_path, tickets=300, now=FROZEN, name="snap")
    yield cache
    cache.close()


def frozen_app(cache: Cache, theme: str = "agent-dark") -> AgentApp:
    return AgentApp(cache=cache, server_url="http://127.0.0.1:9", token="-", sync_enabled=False,
                    clock=lambda: FROZEN, identity=Identity(1, "Alex Morgan", "agent"),
                    settings=SimpleNamespace(theme=theme, at_risk_minutes=15, views={}, keymap={}))


@pytest.mark.parametrize("theme", ["agent-dark", "agent-light", "agent-high-contrast"])
def test_queue_snapshot(snap_compare, frozen_cache, theme):
    assert snap_compare(frozen_app(frozen_cache, theme), terminal_size=SIZE)


def test_ticket_snapshot(snap_compare, frozen_cache):
    async def open_one(pilot):
        pilot.app.open_ticket(7)
        await pilot.pause(0.2)

    assert snap_compare(frozen_app(frozen_cache), terminal_size=SIZE, run_before=open_one)


def test_help_snapshot(snap_compare, frozen_cache):
    assert snap_compare(frozen_app(frozen_cache), terminal_size=SIZE, press=["question_mark"])


async def test_the_palette_offers_the_actions_and_macros_of_the_screen_it_was_opened_on(frozen_cache):
    from agent_tui.palette import ScreenActions

    app = frozen_app(frozen_cache)
    async with app.run_test(size=SIZE) as pilot:
        app.open_ticket(7)
        await pilot.pause(0.2)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        provider = ScreenActions(app.screen_stack[-2])  # as the palette builds it: under the palette
        assert [str(h.text) async for h in provider.search("Reply")]
        assert any(t.startswith("Macro: ") for t in [str(h.text) async for h in provider.search("Macro")])


async def test_help_lists_binding_ids(frozen_cache):
    app = frozen_app(frozen_cache)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = [r[2] for r in app.screen.rows]
        assert "queue.claim" in ids and "queue.filter" in ids and "app.help" in ids


# --- macros and the reply guard in the app -------------------------------------------------


async def test_macro_picked_fills_the_box_and_its_actions_wait_for_the_reply(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        tid = app.screen.queue.cursor_ticket_id
        before = cache.ticket(tid)
        await open_the_picker(pilot, "we are on it")
        await pilot.press("enter")
        await pilot.pause(0.5)
        box = app.screen.query_one("#composer")
        lang = cache.customer(cache.ticket(tid)["requester_id"])["language"]
        assert box.text.strip() and "{{" not in box.text and "⟦" not in box.text
        assert app.screen.pending_actions is not None and cache.outbox_depth() == 0  # nothing applied yet
        assert cache.draft(tid)["actions"] == app.screen.pending_actions
        await pilot.press("escape", "u")  # leave the box, drop the actions
        await pilot.pause(0.3)
        assert app.screen.pending_actions is None and cache.draft(tid)["actions"] is None
        assert box.text.strip()  # the text stays
        assert cache.outbox_depth() == 0 and {k: cache.ticket(tid)[k] for k in ("status", "assignee_id")} == \
            {k: before[k] for k in ("status", "assignee_id")}
        assert lang  # the body was chosen for the customer's language (checked in the macro tests)


async def test_shortcut_expands_inline(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        await pilot.press("enter", "r", *"Hi! ::ack", "tab")
        await pilot.pause(0.3)
        text = app.screen.query_one("#composer").text
        assert text.startswith("Hi! ") and "::ack" not in text and len(text) > 30
        assert cache.outbox_depth() == 0  # inline expansion inserts text only, never actions


async def test_a_phishing_shaped_reply_is_blocked_and_the_agent_sees_why(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        tid = app.screen.queue.cursor_ticket_id
        await pilot.press("enter", "r", *"To verify you, please send us your seed phrase.", "ctrl+s")
        await pilot.pause(0.5)
        from widgets.guard_override import GuardOverrideScreen

        assert isinstance(app.screen, GuardOverrideScreen)
        assert "seed" in app.export_screenshot().lower()
        await pilot.press("escape")  # back to the reply: nothing sent, the text kept
        await pilot.pause(0.3)
        assert cache.outbox_depth() == 0
        assert "seed phrase" in app.screen.query_one("#composer").text
        assert not any("seed phrase" in m["body"] for m in cache.thread(tid))


async def test_a_supervisor_opens_on_the_live_wall_and_moves_to_the_queues_and_back(desk):
    from agent_tui.screens.wall import SupervisorScreen

    server, cache = desk
    app = AgentApp(cache=cache, server_url=server.url, token="demo-supervisor", role="supervisor")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: cache.stats()["tickets"] == 400 and app.me_id == 3)
        assert isinstance(app.screen, SupervisorScreen)
        await wait_until(pilot, lambda: "Account security" in app.export_screenshot().replace("&#160;", " "))
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("w")
        assert isinstance(app.screen, SupervisorScreen)


async def test_l_on_a_ticket_opens_the_prefilled_look_up_and_recovery_opens_on_batches(desk):
    from agent_tui.screens.lookup import LookupScreen
    from agent_tui.screens.recovery import RecoveryScreen

    server, cache = desk
    app = AgentApp(cache=cache, server_url=server.url, token="demo-recovery", role="recovery")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: cache.stats()["tickets"] == 400 and app.me_id == 2)
        assert isinstance(app.screen, RecoveryScreen)
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, QueueScreen)
        with cache.engine.connect() as c:  # a deposit ticket: its customer pasted a txid
            tid = c.exec_driver_sql("SELECT t.id FROM tickets t JOIN messages m ON m.ticket_id = t.id "
                                    "WHERE t.queue = 'deposits' AND m.body LIKE '%TxID%' LIMIT 1").scalar()
        txid = next(m["body"] for m in cache.thread(tid) if "TxID" in m["body"]).split("TxID: ")[-1].strip()
        app.open_ticket(tid)
        await pilot.pause(0.3)
        await pilot.press("l")
        await pilot.pause(0.3)
        assert isinstance(app.screen, LookupScreen)
        assert txid[:20] in app.export_screenshot().replace("&#160;", " ")


async def test_bulk_assign_and_tags_from_the_queue(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        q = app.screen.queue
        first = q.cursor_ticket_id
        await pilot.press("space", "down", "space")
        second = q.cursor_ticket_id
        await pilot.press("t", *"+vip-watch -kyc", "enter")
        await pilot.pause(0.2)
        for tid in (first, second):
            assert "vip-watch" in cache.ticket(tid)["tags"] and "kyc" not in cache.ticket(tid)["tags"]
        await pilot.press("space", "up", "space", "a", *"Bea", "enter")  # Bea Schmidt is agent 4
        await wait_until(pilot, lambda: all(server_ticket(server, t)["ticket"]["assignee_id"] == 4 for t in (first, second)))
        assert all("vip-watch" in server_ticket(server, t)["ticket"]["tags"] for t in (first, second))


async def test_sending_on_a_ticket_that_changed_meanwhile_asks_first(desk):
    import httpx

    from agent_tui.screens.modals.confirm import ConfirmScreen

    server, cache = desk
    async with working(desk) as (app, pilot):
        tid = app.screen.queue.cursor_ticket_id
        await pilot.press("enter", "r", *"Our answer.")
        # meanwhile another agent answers on the server, and the sync brings it in
        r = httpx.post(f"{server.url}/api/v1/tickets/{tid}/messages", json={"kind": "reply", "body": "Already handled by Riya."},
                       headers={"Authorization": "Bearer demo-recovery", "Idempotency-Key": "k-stale-1"})
        assert r.status_code == 201
        await wait_until(pilot, lambda: any(m["body"] == "Already handled by Riya." for m in cache.thread(tid)))
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ConfirmScreen) and "Riya Patel" in app.screen.question
        await pilot.press("n")
        assert cache.outbox_depth() == 0 and app.screen.query_one("#composer").text == "Our answer."


async def test_transaction_ids_in_customer_messages_are_marked(frozen_cache):
    from agent_tui.screens.ticket import highlight_chain_refs

    txid = "0x" + "ab" * 32
    text = highlight_chain_refs(f"[bold]sent[/bold] \x1b[2J TxID: {txid} thanks")
    assert text.plain.startswith("[bold]sent[/bold]") and "\x1b" not in text.plain
    start = text.plain.index(txid)
    assert any(s.start == start and s.end == start + len(txid) and "underline" in str(s.style) for s in text.spans)


async def test_without_role_the_tokens_role_picks_the_first_screen(desk):
    from agent_tui.screens.wall import SupervisorScreen

    server, cache = desk
    app = AgentApp(cache=cache, server_url=server.url, token="demo-supervisor")  # no --role
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SupervisorScreen))
        assert app.role == "supervisor"


async def test_the_reply_box_saved_as_a_personal_macro_syncs_as_personal(desk):
    import httpx

    server, cache = desk
    async with working(desk) as (app, pilot):
        await pilot.press("enter", "r", *"Please send a screenshot of the withdrawal page.", "escape", "M")
        await pilot.pause(0.2)
        await pilot.press(*"Ask for the screenshot", "enter", *"shot", "enter")
        await pilot.pause(0.2)
        assert any(m["title"] == "Ask for the screenshot" and m["shortcut"] == "shot" for m in cache.macros())

        def on_server(token: str) -> list:
            r = httpx.get(f"{server.url}/api/v1/macros", headers={"Authorization": f"Bearer {token}"})
            return [m for m in r.json()["macros"] if m["title"] == "Ask for the screenshot"]

        await wait_until(pilot, lambda: len(on_server("demo-agent")) == 1 and cache.outbox_depth() == 0)
        assert on_server("demo-agent")[0]["visibility"] == "personal" and on_server("demo-recovery") == []


async def test_quitting_right_after_typing_keeps_the_draft(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        tid = app.screen.queue.cursor_ticket_id
        await pilot.press("enter", "r", *"typed just before quitting", "ctrl+q")  # no pause: the debounce has not fired
    assert cache.draft(tid)["body"] == "typed just before quitting"


# --- macro use counts and managing your own macros -------------------------------------------------


def server_macro(server, macro_id: str):
    import httpx

    r = httpx.get(f"{server.url}/api/v1/macros/{macro_id}", headers={"Authorization": "Bearer demo-agent"})
    return r.json()["macro"] if r.status_code == 200 else r.status_code


async def send_from_the_box(app, pilot) -> None:
    """ctrl+s, saying yes if the app asks about a colleague on the ticket."""
    from agent_tui.screens.modals.confirm import ConfirmScreen

    await pilot.press("ctrl+s")
    await pilot.pause(0.3)
    if isinstance(app.screen, ConfirmScreen):
        await pilot.press("y")
        await pilot.pause(0.3)


async def test_a_reply_from_a_macro_counts_one_use_and_the_draft_keeps_which_macro(desk):
    from widgets.macro_picker import MacroPicker

    server, cache = desk
    async with working(desk) as (app, pilot):
        tid = app.screen.queue.cursor_ticket_id
        await open_the_picker(pilot, "we are on it")
        assert isinstance(app.screen, MacroPicker)
        picked = app.screen.current
        before = server_macro(server, picked.id)["usage_count"]
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert app.screen.macro_id == picked.id
        assert cache.draft(tid)["macro_id"] == picked.id  # saved with the draft at once
        await pilot.press("escape", "q")  # leave the ticket unsent; come back to it (it left the view: assigned)
        await pilot.pause(0.3)
        assert isinstance(app.screen, QueueScreen)
        app.open_ticket(tid)
        await pilot.pause(0.3)
        assert isinstance(app.screen, TicketScreen) and app.screen.macro_id == picked.id
        await pilot.press("r")
        await send_from_the_box(app, pilot)
        assert app.screen.macro_id is None
        await wait_until(pilot, lambda: cache.outbox_depth() == 0 and server_macro(server, picked.id)["usage_count"] == before + 1)
        await wait_until(pilot, lambda: cache.macro(picked.id)["usage_count"] == before + 1)
        # a reply typed by hand counts nothing
        await pilot.press("r", *"Typed by hand.")
        await send_from_the_box(app, pilot)
        await wait_until(pilot, lambda: cache.outbox_depth() == 0)
        assert server_macro(server, picked.id)["usage_count"] == before + 1


async def test_emptying_the_box_forgets_the_macro(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        await pilot.press("enter", "r", *"Hi! ::ack", "tab")
        await pilot.pause(0.3)
        screen = app.screen
        assert screen.macro_id is not None  # the ::shortcut path counts too
        screen.query_one("#composer").select_all()
        await pilot.press("backspace")
        await pilot.pause(0.6)
        assert screen.macro_id is None and cache.draft(screen.ticket_id) is None


async def test_e_edits_and_d_deletes_your_macro_from_the_picker_and_shared_ones_are_refused(desk):
    from agent_tui.screens.modals.confirm import ConfirmScreen
    from agent_tui.screens.modals.save_macro import SaveMacroScreen
    from widgets.macro_picker import MacroPicker

    server, cache = desk
    async with working(desk) as (app, pilot):
        cache.queue_macro({"key": "personal_shot", "title": "Ask for the screenshot", "category": "personal",
                           "shortcut": "shot", "bodies": {"en": "Please send a screenshot."}, "actions": []}, 1)
        mid = next(m["id"] for m in cache.macros() if m["key"] == "personal_shot")
        app.action_sync_now()
        await wait_until(pilot, lambda: server_macro(server, mid) != 404 and cache.outbox_depth() == 0)

        await pilot.press("enter", "m", *"screenshot")
        await pilot.pause(0.3)
        assert app.screen.current.id == mid
        await pilot.press("tab", "e")
        await pilot.pause(0.3)
        assert isinstance(app.screen, SaveMacroScreen)
        assert app.screen.query_one("#macro-title").value == "Ask for the screenshot"
        await pilot.press("end", *" (withdrawal)", "enter", "enter")  # title, shortcut, on to the text
        await pilot.press(*"Hello! ", "ctrl+s")
        await pilot.pause(0.3)
        assert isinstance(app.screen, MacroPicker)  # back where the agent was
        edited = cache.macro(mid)
        assert edited["title"] == "Ask for the screenshot (withdrawal)"
        assert set(edited["bodies"].values()) == {"Hello! Please send a screenshot."}
        await wait_until(pilot, lambda: server_macro(server, mid)["title"] == "Ask for the screenshot (withdrawal)")

        await pilot.press("tab", "d")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause(0.3)
        assert cache.macro(mid) is None and isinstance(app.screen, MacroPicker)
        assert all(m.id != mid for m in app.screen.macros)
        await wait_until(pilot, lambda: server_macro(server, mid) == 404)

        search = app.screen.query_one("#macro-search")
        search.value = "::bye"
        await pilot.pause(0.2)
        search.focus()
        await pilot.press("tab", "e", "d")
        await pilot.pause(0.3)
        assert isinstance(app.screen, MacroPicker)
        assert sum("supervisors" in n.message for n in app._notifications) == 2
        assert not any(o["kind"].startswith("macro") for o in cache.outbox())


async def test_the_status_bar_says_when_it_last_synced_once_the_server_is_gone(desk):
    server, cache = desk
    async with working(desk) as (app, pilot):
        await wait_until(pilot, lambda: app.engine is not None and app.engine.last_sync_at)
        bar = app.screen.query_one("#status")
        assert "last sync" not in str(bar.render())  # online: nothing to say
        server.stop()
        app.action_sync_now()
        synced = time.strftime("%H:%M UTC", time.gmtime(app.engine.last_sync_at))
        # the sync loop's own report paints it: nothing else is asked to refresh the strip
        await wait_until(pilot, lambda: f"last sync {synced}" in str(bar.render()))
        assert app.engine.state == "offline"


async def test_a_demo_desk_says_so_in_the_status_bar(frozen_cache):
    app = frozen_app(frozen_cache)
    app.demo = True
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        assert "DEMO desk" in str(app.screen.query_one("#status").render())
        app.open_ticket(7)  # and on every screen's strip, without a refresh asked for
        await pilot.pause(0.3)
        assert "DEMO desk" in str(app.screen.query_one("#status").render())


async def test_the_sla_panel_says_which_status_pauses_a_clock(frozen_cache):
    """A seeded pending ticket's agent-work-time resolution clock is stopped: the panel says so
    and why, with the time left."""
    tid = next(i for i in range(1, 301) if (t := frozen_cache.ticket(i)) and t["status"] == "pending"
               and any(m["stage"] == "paused" for m in t["sla"]))
    app = frozen_app(frozen_cache)
    async with app.run_test(size=SIZE) as pilot:
        app.open_ticket(tid)
        def panel() -> str:
            found = app.screen.query("#sla-panel") if isinstance(app.screen, TicketScreen) else []
            return str(found[0].render()) if found else ""

        await wait_until(pilot, lambda: "resolution" in panel())
        text = panel()
        assert "‖ resolution       paused: pending (" in text and " left)" in text
