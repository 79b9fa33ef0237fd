"""The supervisor wall: queues, agents, KPI tiles against targets, the backlog trend, and the
tickets about to breach, with drill-down and reassignment from the wall.

    screen = SupervisorScreen()
    app.push_screen(screen)          # or a MODE
    screen.on_data_changed()         # after every sync: coalesced, at most one fetch+render a second
    await screen.refresh_wall()      # fetch GET /api/v1/metrics/wall now and render it
    screen.render_wall(data)         # render a wall dict (no network): benchmarks, snapshots
    screen.tick(now)                 # the app's 1 Hz tick: at-risk countdowns

What it needs from the app: `cache` (the at-risk list and the agent picker read it), `engine` (agent_tui.sync.SyncEngine or None: the wall is fetched through it),
`open_ticket(ticket_id)`, `change(ticket_ids, changes)`; optionally `clock` and `at_risk`
(seconds). A failed fetch is one line at the top and the last good data stays up; nothing here
raises into the app.

Keys (binding ids): wall.open (enter: the at-risk ticket, the agent's current ticket, or the
queue's oldest waiting ticket), wall.reassign (a), wall.refresh (r); tab moves between tables.
Names and subjects are customer/agent text: drawn through agent_tui.textsafe, never as markup.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, ClassVar, Optional
from zoneinfo import ZoneInfo

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Label, Static

from agent_tui import kpi
from agent_tui.screens.modals.assign import AgentPicker
from agent_tui.sla import format_countdown
from agent_tui.textsafe import clean, one_line, safe_text
from widgets.kpi_tiles import KpiTile
from widgets.wall_table import WallTable

AT_RISK_LIMIT = 200
RISK_LOOKAHEAD = 60.0  # seconds of "soon at risk" held beyond the window, so ticks need no query
PRESENCE = {"online": ("● online", "ok"), "away": ("◐ away", "warn"), "offline": ("○ offline", "muted")}
_PRESENCE_ORDER = {"online": 0, "away": 1, "offline": 2}

QUEUE_COLUMNS = [("Queue", 0, "left"), ("New", 5, "right"), ("Open", 5, "right"), ("Pend", 5, "right"),
                 ("Hold", 5, "right"), ("Unasg", 6, "right"), ("Risk", 5, "right"), ("Brch", 5, "right"),
                 ("Oldest waiting", 16, "left"), ("FRT p50", 8, "right"), ("FRT p90", 8, "right")]
AGENT_COLUMNS = [("Agent", 0, "left"), ("Presence", 9, "left"), ("Open", 5, "right"), ("Done", 5, "right"),
                 ("FRT avg", 8, "right"), ("On", 7, "right")]
RISK_COLUMNS = [("Due", 8, "right"), ("#", 6, "right"), ("Queue", 9, "left"), ("Pri", 6, "left"),
                ("Subject", 0, "left"), ("Assignee", 12, "left")]


def _age(seconds: float) -> str:
    return kpi.format_duration(max(seconds, 0))


def queue_cells(q: dict, now: float) -> tuple:
    oldest = q.get("oldest")
    old = f"#{oldest['id']} {_age(now - oldest['created_at'])}" if oldest else "—"
    return (
        one_line(str(q.get("name") or q.get("id") or "")),
        str(q["new"]), str(q["open"]), str(q["pending"]), str(q["on_hold"]),
        (str(q["unassigned"]), "warn") if q["unassigned"] else "0",
        (str(q["at_risk"]), "warn") if q["at_risk"] else "0",
        (str(q["breached"]), "bad") if q["breached"] else ("0", "ok"),
        old, kpi.format_duration(q.get("frt_p50")), kpi.format_duration(q.get("frt_p90")),
    )


def agent_cells(a: dict) -> tuple:
    presence = PRESENCE.get(a.get("presence") or "", (one_line(str(a.get("presence") or "?")), "muted"))
    current = a.get("current_ticket_id")
    return (
        one_line(str(a.get("name") or "")), presence, str(a.get("open_assigned", 0)), str(a.get("handled_today", 0)),
        kpi.format_duration(a.get("frt_mean")), f"#{current}" if current else "—",
    )


class SupervisorScreen(Screen):
    """The live wall. See the module docstring for what it needs from the app."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="wall.open", tooltip="Open the ticket under the cursor"),
        Binding("a", "reassign", "Reassign", id="wall.reassign", tooltip="Give the at-risk ticket to another agent"),
        Binding("r", "refresh", "Refresh", id="wall.refresh", tooltip="Fetch the wall now"),
        Binding("escape", "leave", "Queues", id="wall.queues", tooltip="Back to the queues (w returns here)"),
    ]
    DEFAULT_CSS = """
    SupervisorScreen { layout: vertical; }
    #wall-status { height: 1; padding: 0 1; color: $text-muted; }
    #wall-status.-error { color: $error; text-style: bold; }
    #wall-tiles { grid-size: 6; grid-rows: auto; height: auto; grid-gutter: 0 1; padding: 0 1; }
    #wall-queues { height: 7; margin: 0 1; }
    #wall-bottom { height: 1fr; }
    #wall-bottom > Vertical { width: 1fr; border: round $border-blurred; padding: 0 1; }
    #wall-bottom > Vertical:focus-within { border: round $border; }
    .wall-title { height: 1; color: $text-muted; text-style: bold; }
    """

    def action_leave(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    min_interval = 1.0  # seconds between two fetch+render rounds, however many syncs arrive

    def __init__(self, *, name: Optional[str] = None, id: Optional[str] = None) -> None:
        super().__init__(name=name, id=id)
        self.data: Optional[dict] = None
        self.error = ""
        self.fetches = 0
        self.renders = 0
        self._timer: Optional[Timer] = None
        self._last_fetch = -1e9
        self._tiles = {key: KpiTile(key, id=f"kpi-{key}") for key in kpi.DEFAULT_TARGETS}
        self._agents_raw: Optional[list] = None
        self._risk_rows: list = []
        self._risk_read_at = float("-inf")

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("Supervisor wall: loading…", id="wall-status")
        with Grid(id="wall-tiles"):
            yield from self._tiles.values()
        yield WallTable(QUEUE_COLUMNS, id="wall-queues")
        with Horizontal(id="wall-bottom"):
            with Vertical():
                yield Label("Agents", classes="wall-title", id="wall-agents-title")
                yield WallTable(AGENT_COLUMNS, id="wall-agents")
            with Vertical():
                yield Label("At risk (new and open, SLA due soon)", classes="wall-title", id="wall-risk-title")
                yield WallTable(RISK_COLUMNS, id="wall-at-risk")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#wall-at-risk", WallTable).empty_text = "Nothing is about to breach."
        self.query_one("#wall-at-risk", WallTable).focus()
        if self.data is not None:
            self.render_wall(self.data)
        self.refresh_at_risk()
        if getattr(self.app, "engine", None) is not None:
            self.on_data_changed()

    # --- time and the app -----------------------------------------------------------------

    def _now(self) -> float:
        return float(getattr(self.app, "clock", time.time)())

    def _at_risk_seconds(self) -> float:
        return float(getattr(self.app, "at_risk", 15 * 60))

    # --- live data -------------------------------------------------------------------------

    def on_data_changed(self) -> None:
        """Something synced: fetch and render soon. Bursts coalesce into one round per second."""
        if self._timer is not None:
            return
        delay = max(0.01, self._last_fetch + self.min_interval - time.monotonic())  # a 0 s timer divides by 0
        self._timer = self.set_timer(delay, self._fire, name="wall-refresh")

    def _fire(self) -> None:
        self._timer = None
        self._last_fetch = time.monotonic()
        self.run_worker(self.refresh_wall(), group="wall", exclusive=True, exit_on_error=False)

    async def refresh_wall(self) -> bool:
        """Fetch /metrics/wall through the app's engine and render it. False (and one line on
        the wall) when it failed; the last good data stays up."""
        self.fetches += 1
        self.refresh_at_risk()
        engine = getattr(self.app, "engine", None)
        if engine is None:
            self.show_error("Not connected to the server; the at-risk list comes from the local cache.")
            return False
        try:
            data = await engine.request("GET", "/metrics/wall", params={"at_risk_minutes": self._at_risk_seconds() / 60})
        except Exception as exc:  # every failure is one line on the wall, never a crash
            self.show_error(f"Wall not updated: {one_line(clean(str(exc)), 200) or type(exc).__name__}")
            return False
        self.render_wall(data)
        return self.error == ""

    def show_error(self, message: str) -> None:
        self.error = message
        when = ""
        if self.data is not None:
            when = f" Showing {self._clock_text(self.data)}."
        status = self.query_one("#wall-status", Static)
        status.update(safe_text(f"⚠ {message}{when}"))
        status.add_class("-error")

    def _clock_text(self, data: dict) -> str:
        window = data.get("window") or {}
        tz = str(window.get("tz") or "UTC")
        try:
            zone = ZoneInfo(tz)
        except Exception:
            zone, tz = ZoneInfo("UTC"), "UTC"
        at = datetime.fromtimestamp(float(data["generated_at"]), zone)
        return f"{at:%H:%M:%S} {tz}"

    def render_wall(self, data: dict) -> None:
        """Render a wall dict (the body of GET /metrics/wall). Malformed data: one line, no crash."""
        try:
            self._paint_wall(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.show_error(f"The server's wall data was malformed ({type(exc).__name__}: {one_line(clean(str(exc)), 80)}).")
            return
        self.data = data
        self.error = ""
        self.renders += 1

    def _paint_wall(self, data: dict) -> None:
        now = float(data["generated_at"])
        tiles = {t["key"]: t for t in data["kpis"]}
        trend = [float(p["backlog"]) for p in data.get("backlog_trend") or ()]
        queues = data["queues"]
        q_rows = [queue_cells(q, now) for q in queues]
        agents = data["agents"]
        for key, tile in self._tiles.items():
            if key in tiles:
                tile.set_kpi(tiles[key])
        self._tiles["backlog"].set_trend(trend)
        qt = self.query_one("#wall-queues", WallTable)
        qt.styles.height = len(q_rows) + 1
        qt.set_rows(q_rows, [q.get("oldest", {}) and q["oldest"]["id"] for q in queues])
        if agents is not self._agents_raw:
            self._agents_raw = agents
            ordered = sorted(agents, key=lambda a: (_PRESENCE_ORDER.get(a.get("presence"), 3), -int(a.get("open_assigned") or 0),
                                                    str(a.get("name") or "")))
            self.query_one("#wall-agents", WallTable).set_rows(_LazyRows(ordered, agent_cells),
                                                                _LazyKeys(ordered, "current_ticket_id"))
        online = sum(1 for a in agents if a.get("presence") == "online")
        self.query_one("#wall-agents-title", Label).update(f"Agents: {online} online of {len(agents)}")
        backlog = tiles.get("backlog", {}).get("value")
        status = self.query_one("#wall-status", Static)
        status.remove_class("-error")
        since = (data.get("window") or {}).get("from")
        day = ""
        if since is not None:
            day = f" · today since {self._clock_text({'generated_at': since, 'window': data.get('window')})[:5]}"
        status.update(safe_text(f"Live · updated {self._clock_text(data)}{day} · backlog "
                                f"{kpi.format_value(backlog, 'count')} · {len(queues)} queues"))

    # --- the at-risk list (from the local cache) -------------------------------------------

    def refresh_at_risk(self) -> None:
        """Read the tickets due within the at-risk window plus a minute of lookahead from the
        cache; the 1 Hz tick then filters and paints these held rows without a query."""
        cache = getattr(self.app, "cache", None)
        if cache is None:
            return
        now = self._now()
        try:
            rows = cache.at_risk_page(now=now, window=self._at_risk_seconds() + RISK_LOOKAHEAD, limit=AT_RISK_LIMIT)
        except Exception as exc:
            self.show_error(f"Cannot read the local cache: {one_line(clean(str(exc)), 120)}")
            return
        self._risk_rows = rows
        self._risk_read_at = now
        self._paint_risk(now)

    def _paint_risk(self, now: float) -> None:
        end = now + self._at_risk_seconds()
        shown = [r for r in self._risk_rows if now <= r.sla_due < end]
        cells = [
            ((format_countdown(r.sla_due - now), "warn"), f"#{r.id}", one_line(r.queue),
             (r.priority, "bad" if r.priority == "urgent" else ("warn" if r.priority == "high" else "")),
             one_line(r.subject), one_line(r.assignee_name) or ("unassigned", "muted"))
            for r in shown
        ]
        table = self.query_one("#wall-at-risk", WallTable)
        table.set_rows(cells, [r.id for r in shown])
        self.query_one("#wall-risk-title", Label).update(
            f"At risk: {len(cells)}{'+' if len(self._risk_rows) >= AT_RISK_LIMIT else ''} new/open due within "
            f"{int(self._at_risk_seconds() // 60)} min")

    def tick(self, now: float) -> None:
        """The app's 1 Hz tick: countdowns from the held rows; the cache is read again only when
        the lookahead is used up (syncs re-read it through on_data_changed)."""
        if now - self._risk_read_at >= RISK_LOOKAHEAD / 2:
            self.refresh_at_risk()
        else:
            self._paint_risk(now)

    # --- actions ---------------------------------------------------------------------------

    def _target(self) -> Optional[int]:
        focused = self.focused
        table = focused if isinstance(focused, WallTable) else self.query_one("#wall-at-risk", WallTable)
        key = table.cursor_key
        return key if isinstance(key, int) else None

    def action_open(self) -> None:
        focused = self.focused
        ticket_id = self._target()
        if ticket_id is None:
            if isinstance(focused, WallTable) and focused.id == "wall-agents":
                self.notify("This agent has no ticket open.")
            else:
                self.notify("No ticket here to open.")
            return
        self.app.open_ticket(ticket_id)

    @on(WallTable.Selected)
    def _selected(self, event: WallTable.Selected) -> None:
        event.table.focus()
        self.action_open()

    def action_reassign(self) -> None:
        table = self.query_one("#wall-at-risk", WallTable)
        ticket_id = table.cursor_key
        if not isinstance(ticket_id, int):
            self.notify("Put the cursor on a ticket in the at-risk list to reassign it.", severity="warning")
            return
        try:
            agents = list(self.app.cache.agents().values())
        except Exception as exc:
            self.notify(f"Cannot read the agents: {one_line(clean(str(exc)), 120)}", severity="error")
            return

        def chosen(agent_id: Optional[int]) -> None:
            if agent_id is None:
                return
            self.app.change([ticket_id], {"assignee_id": agent_id})
            name = next((a.get("name", "") for a in agents if a["id"] == agent_id), f"#{agent_id}")
            self.notify(f"#{ticket_id} reassigned to {one_line(str(name))}; it goes out with the next sync.")
            self.refresh_at_risk()

        self.app.push_screen(AgentPicker(ticket_id, agents), chosen)

    def action_refresh(self) -> None:
        self._last_fetch = -1e9
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.on_data_changed()


class _LazyRows:
    """A sequence that formats a row only when the table draws it (visible rows only)."""

    __slots__ = ("items", "fmt", "_cache")

    def __init__(self, items: list, fmt) -> None:
        self.items, self.fmt, self._cache = items, fmt, {}

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Any:
        row = self._cache.get(i)
        if row is None:
            row = self._cache[i] = self.fmt(self.items[i])
        return row

    def __bool__(self) -> bool:
        return bool(self.items)


class _LazyKeys(_LazyRows):
    def __init__(self, items: list, field: str) -> None:
        super().__init__(items, lambda a: a.get(field))

    def index(self, key: Any) -> int:
        raise ValueError(key)  # agents are keyed by their current ticket: do not chase it across refreshes
