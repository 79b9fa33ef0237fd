"""The supervisor wall with Pilot against the real backend (metrics router mounted) and a real
SyncEngine; a snapshot from a fixed wall dict."""

from __future__ import annotations

import time

import httpx
import pytest
from textual.app import App

from agent_tui import kpi
from agent_tui.screens.modals.assign import AgentPicker
from agent_tui.screens.wall import SupervisorScreen
from agent_tui.sync import SyncEngine
from backend.app import create_app
from backend.metrics import router
from backend.schema import make_engine
from backend.seed import seed
from backend.server import ServerThread
from storage.cache import Cache
from themes import APP_TCSS, THEME_VARIABLE_DEFAULTS, register_themes
from widgets.kpi_tiles import KpiTile
from widgets.wall_table import WallTable

SIZE = (160, 45)
FROZEN = 1795392000.0  # 2026-11-23 00:00 UTC


class WallApp(App):
    """The least an app must give the wall: cache, engine, open_ticket, change."""

    CSS_PATH = APP_TCSS

    def __init__(self, cache: Cache, engine, clock=time.time) -> None:
        super().__init__()
        self.cache, self.engine, self.clock = cache, engine, clock
        self.opened: list[int] = []
        register_themes(self, default="agent-dark")

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return THEME_VARIABLE_DEFAULTS

    def on_mount(self) -> None:
        self.push_screen(SupervisorScreen())

    def open_ticket(self, ticket_id: int) -> None:
        self.opened.append(ticket_id)

    def change(self, ticket_ids: list[int], changes: dict) -> None:
        for tid in ticket_ids:
            self.cache.queue_update(tid, changes)
        if self.engine is not None:
            self.engine.kick()


async def wait_until(pilot, cond, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


@pytest.fixture
def desk(tmp_path):
    url = f"sqlite:///{tmp_path / 'backend.db'}"
    engine = make_engine(url)
    seed(engine, tickets=300)
    engine.dispose()
    app = create_app(url)
    app.include_router(router)
    server = ServerThread(app).start()
    cache = Cache.open(tmp_path / "cache.db")
    yield server, cache
    server.stop()
    cache.close()


def api(server, method: str, path: str, token: str = "demo-supervisor", **kw) -> dict:
    r = httpx.request(method, f"{server.url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10, **kw)
    r.raise_for_status()
    return r.json()


async def test_the_wall_shows_queues_agents_and_kpis(desk):
    server, cache = desk
    engine = SyncEngine(cache, server.url, "demo-supervisor")
    await engine.sync_once()
    app = WallApp(cache, engine)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, SupervisorScreen)
            await wait_until(pilot, lambda: screen.renders >= 1)
            data = screen.data
            queues = screen.query_one("#wall-queues", WallTable)
            assert [queues.rows[i][0] for i in range(len(queues.rows))] == [q["name"] for q in data["queues"]]
            assert "Deposits & withdrawals" in [r[0] for r in queues.rows]
            # the numbers on the wall are the server's, formatted by agent_tui.kpi
            server_wall = api(server, "GET", "/metrics/wall")
            assert [(q["id"], q["new"], q["open"], q["breached"]) for q in data["queues"]] == \
                   [(q["id"], q["new"], q["open"], q["breached"]) for q in server_wall["queues"]]
            for t in data["kpis"]:
                tile = screen.query_one(f"#kpi-{t['key']}", KpiTile)
                assert kpi.format_value(t["value"], t["unit"]) in tile.text and tile.ok == t["ok"]
            backlog = screen.query_one("#kpi-backlog", KpiTile)
            assert backlog.has_class("-trend") and str(server_wall["summary"]["backlog"]) in backlog.text.replace(",", "")
            agents = screen.query_one("#wall-agents", WallTable)
            assert len(agents.rows) == 15 and "Alex Morgan" in [agents.rows[i][0] for i in range(15)]
            status = str(screen.query_one("#wall-status").render())
            assert status.startswith("Live · updated") and "backlog" in status
            # drill-down: enter on the at-risk list opens that ticket
            risk = screen.query_one("#wall-at-risk", WallTable)
            assert risk.rows, "the seeded desk has tickets due within 15 minutes"
            await pilot.press("enter")
            assert app.opened == [risk.keys[0]]
            # a burst of syncs is one fetch (a second after the previous one), not twenty
            before = screen.fetches
            for _ in range(20):
                screen.on_data_changed()
            await wait_until(pilot, lambda: screen.fetches - before == 1, timeout=3)
            await pilot.pause(1.2)
            assert screen.fetches - before == 1
            for _ in range(5):  # the next burst waits for the second to pass since that fetch
                screen.on_data_changed()
            await wait_until(pilot, lambda: screen.fetches - before == 2, timeout=3)
    finally:
        await engine.aclose()


async def test_reassign_from_the_wall_reaches_the_server(desk):
    server, cache = desk
    engine = SyncEngine(cache, server.url, "demo-supervisor")
    await engine.sync_once()
    chen = next(a for a in cache.agents().values() if a["name"] == "Chen Wei")
    app = WallApp(cache, engine)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            risk = screen.query_one("#wall-at-risk", WallTable)
            await wait_until(pilot, lambda: bool(risk.rows))
            await pilot.press("down")
            tid = risk.cursor_key
            assert api(server, "GET", f"/tickets/{tid}")["ticket"]["assignee_id"] != chen["id"]
            await pilot.press("a")
            assert isinstance(app.screen, AgentPicker)
            await pilot.press(*"chen", "enter")
            assert isinstance(app.screen, SupervisorScreen)
            assert cache.ticket(tid)["assignee_id"] == chen["id"]  # in the cache and the outbox at once
            await engine.sync_once()
            assert api(server, "GET", f"/tickets/{tid}")["ticket"]["assignee_id"] == chen["id"]
            assert cache.outbox_depth() == 0
            # escape cancels the picker without a change
            await pilot.press("a")
            await pilot.press("escape")
            assert isinstance(app.screen, SupervisorScreen) and cache.outbox_depth() == 0
    finally:
        await engine.aclose()


async def test_failures_are_one_line_on_the_wall(desk, tmp_path):
    server, cache = desk
    # an agent's token: the server says 403
    engine = SyncEngine(cache, server.url, "demo-agent", attempts=1)
    app = WallApp(cache, engine)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.fetches >= 1 and screen.error)
            assert "supervisor" in screen.error and "\n" not in screen.error
            assert screen.query_one("#wall-status").has_class("-error")
            # malformed data keeps the screen up
            screen.render_wall({"generated_at": "soon", "kpis": 3})
            assert "malformed" in screen.error and screen.data is None
    finally:
        await engine.aclose()
    # nobody listening
    dead = SyncEngine(cache, "http://127.0.0.1:9", "demo-supervisor", attempts=1, timeout=1)
    app = WallApp(cache, dead)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.error)
            assert screen.error.startswith("Wall not updated")
            app.engine = None
            assert await screen.refresh_wall() is False and "Not connected" in screen.error
    finally:
        await dead.aclose()


# --- a deterministic snapshot ------------------------------------------------------------------


def fixed_wall() -> dict:
    now = FROZEN + 13 * 3600 + 5 * 60
    row = kpi.finish_row(created=412, escalated=19, solved=230, fcr=181, rated=140, positive=127, backlog=873,
                         frt_stats={"n": 388, "mean": 1500.0, "p50": 840.0, "p90": 4100.0},
                         resolution_stats={"n": 230, "mean": 9000.0, "p50": 7300.0, "p90": 30000.0},
                         sla={"first_reply": {"met": 350, "missed": 38}, "next_reply": {"met": 120, "missed": 4},
                              "periodic_update": {"met": 40, "missed": 0}, "resolution": {"met": 200, "missed": 9}})
    queues = []
    for i, (qid, name) in enumerate([("deposits", "Deposits & withdrawals"), ("security", "Account security"),
                                     ("kyc", "KYC & verification"), ("trading", "Trading"), ("vip", "VIP desk")]):
        queues.append({"id": qid, "name": name, "new": 40 - 7 * i, "open": 120 - 11 * i, "pending": 30 + i, "on_hold": 5 + i,
                       "unassigned": 12 - 2 * i, "at_risk": 4 - (i % 3), "breached": 9 - 2 * i if i < 4 else 0,
                       "oldest": {"id": 1000 + i, "created_at": now - 3600 * (9 - i)},
                       "frt_p50": 600.0 + 60 * i, "frt_p90": 3000.0 + 300 * i, "frt_n": 50 + i})
    names = ["Alex Morgan", "Riya Patel", "[bold red]Mallory[/] \x1b[2J", "Chen Wei", "Dmitri Volkov", "Elena García"]
    presences = ["online", "online", "away", "offline", "online", "away"]
    agents = [{"id": i + 1, "name": n, "role": "agent", "presence": p, "current_ticket_id": 1000 + i if p == "online" else None,
               "open_assigned": 10 + i, "handled_today": 3 * i, "frt_mean": 700.0 + 100 * i if i != 3 else None, "frt_n": i}
              for i, (n, p) in enumerate(zip(names, presences))]
    trend = [700, 720, 760, 790, 800, 815, 830, 845, 850, 860, 865, 870, 873]
    return {"generated_at": now, "window": {"from": FROZEN, "to": now, "tz": "UTC"}, "at_risk_seconds": 900,
            "queues": queues, "agents": agents, "kpis": kpi.tiles(row), "summary": row,
            "backlog_trend": [{"at": now - (12 - h) * 3600, "backlog": b} for h, b in enumerate(trend)]}


def test_wall_snapshot(snap_compare, tmp_path):
    cache = Cache.open(tmp_path / "snap-cache.db")

    async def show(pilot):
        pilot.app.screen.render_wall(fixed_wall())
        await pilot.pause(0.1)

    try:
        assert snap_compare(WallApp(cache, None, clock=lambda: FROZEN), terminal_size=SIZE, run_before=show)
    finally:
        cache.close()


async def test_hostile_agent_names_stay_inert(tmp_path):
    cache = Cache.open(tmp_path / "c.db")
    app = WallApp(cache, None, clock=lambda: FROZEN)
    try:
        async with app.run_test(size=SIZE) as pilot:
            app.screen.render_wall(fixed_wall())
            await pilot.pause(0.1)
            agents = app.screen.query_one("#wall-agents", WallTable)
            names = [agents.rows[i][0] for i in range(len(agents.rows))]
            assert "[bold red]Mallory[/]" in names  # literal text, escape sequence dropped
            assert not any("\x1b" in n for n in names)
    finally:
        cache.close()
