"""Benchmark: one supervisor-wall tick (render_wall of fresh data + the frame it causes) at
1,000 agents, beside a DataTable refilled with the same agent rows.

    python bench/wall_render.py

Headless (App.run_test, 160x50). Each tick hands SupervisorScreen.render_wall a new wall dict
(5 queues, 12 KPI tiles, a 13-point backlog trend, 1,000 agents whose numbers all changed) and
waits for the compositor to write the frame. Reported: work = CPU time from the call to the end
of that frame (median of 30 after 3 warm-ups), the headline; latency = wall time for the same
span (includes waiting for Textual's frame timer). Baseline: a DataTable holding the same 1,000
agent rows, cleared and refilled per tick (what a naive wall would do).

Ends with `wall_render: X ms (goal <= 16)`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncio  # noqa: E402
import gc  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from textual.app import App  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from agent_tui import kpi  # noqa: E402
from agent_tui.screens.wall import SupervisorScreen, agent_cells  # noqa: E402
from bench.queue_render import RefreshProbe  # noqa: E402
from storage.cache import Cache  # noqa: E402
from themes import APP_TCSS, THEME_VARIABLE_DEFAULTS, THEMES  # noqa: E402

SIZE = (160, 50)
AGENTS = 1_000
TICKS = 30
WARMUP = 3
NOW = 1_795_392_000.0 + 13 * 3600


def wall_data(tick: int) -> dict:
    rng = random.Random(tick)
    now = NOW + tick
    row = kpi.finish_row(created=4000 + tick, escalated=190, solved=2300, fcr=1810, rated=1400, positive=1270,
                         backlog=50_000 + tick, frt_stats={"n": 3880, "mean": 1500.0, "p50": 840.0 + tick, "p90": 4100.0},
                         resolution_stats={"n": 2300, "mean": 9000.0, "p50": 7300.0, "p90": 30000.0},
                         sla={"first_reply": {"met": 3500, "missed": 380}, "next_reply": {"met": 1200, "missed": 40},
                              "periodic_update": {"met": 400, "missed": 0}, "resolution": {"met": 2000, "missed": 90 + tick}})
    queues = [{"id": q, "name": q.title(), "new": rng.randint(0, 3000), "open": rng.randint(0, 9000), "pending": 900,
               "on_hold": 100, "unassigned": rng.randint(0, 500), "at_risk": rng.randint(0, 90), "breached": rng.randint(0, 900),
               "oldest": {"id": 17 + i, "created_at": now - 86000}, "frt_p50": 600.0, "frt_p90": 4000.0, "frt_n": 900}
              for i, q in enumerate(("deposits", "security", "kyc", "trading", "vip"))]
    presences = ("online", "away", "offline")
    agents = [{"id": i, "name": f"Agent {i:04d}", "role": "agent", "presence": presences[rng.randint(0, 2)],
               "current_ticket_id": rng.randint(1, 50_000), "open_assigned": rng.randint(0, 90),
               "handled_today": rng.randint(0, 40), "frt_mean": rng.uniform(60, 9000), "frt_n": 5} for i in range(1, AGENTS + 1)]
    return {"generated_at": now, "window": {"from": NOW - 13 * 3600, "to": now, "tz": "UTC"}, "at_risk_seconds": 900,
            "queues": queues, "agents": agents, "kpis": kpi.tiles(row), "summary": row,
            "backlog_trend": [{"at": now - h * 3600, "backlog": 49_000 + 80 * h + tick} for h in range(12, -1, -1)]}


class WallBench(App):
    CSS_PATH = APP_TCSS

    def __init__(self, cache: Cache) -> None:
        super().__init__()
        self.cache, self.engine, self.clock = cache, None, lambda: NOW
        self.refreshes = RefreshProbe()
        for theme in THEMES.values():
            self.register_theme(theme)
        self.theme = "agent-dark"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return THEME_VARIABLE_DEFAULTS

    def open_ticket(self, _tid: int) -> None: ...

    def change(self, _ids, _changes) -> None: ...


async def measure(app: WallBench, watch, do_tick) -> tuple[float, float]:
    works, latencies = [], []
    app.refreshes.install(app.screen)
    app.refreshes.watch = watch
    datas = [wall_data(i) for i in range(WARMUP + TICKS)]  # made outside the timing
    for i, data in enumerate(datas):
        await asyncio.sleep(0.02)
        gc.collect()
        app.refreshes.event.clear()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        do_tick(data)
        wall, cpu = await app.refreshes.next_frame()
        if i >= WARMUP:
            works.append((cpu - cpu0) * 1000)
            latencies.append((wall - wall0) * 1000)
    return statistics.median(works), statistics.median(latencies)


async def bench_wall(cache: Cache) -> tuple[float, float]:
    app = WallBench(cache)
    async with app.run_test(size=SIZE) as pilot:
        screen = SupervisorScreen()
        await app.push_screen(screen)
        await pilot.pause(0.2)
        return await measure(app, screen.query_one("#wall-agents"), screen.render_wall)


async def bench_datatable(cache: Cache) -> tuple[float, float]:
    app = WallBench(cache)
    async with app.run_test(size=SIZE) as pilot:
        table = DataTable()
        await app.screen.mount(table)
        table.add_columns("Agent", "Presence", "Open", "Done", "FRT avg", "On")
        await pilot.pause(0.2)

        def tick(data: dict) -> None:
            table.clear()
            table.add_rows([tuple(c if isinstance(c, str) else c[0] for c in agent_cells(a)) for a in data["agents"]])

        return await measure(app, table, tick)


async def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        cache = Cache.open(Path(d) / "cache.db")
        try:
            wall_work, wall_lat = await bench_wall(cache)
            dt_work, dt_lat = await bench_datatable(cache)
        finally:
            cache.close()
    print(f"\nHeadless {SIZE[0]}x{SIZE[1]}, {AGENTS:,} agents, textual {__import__('textual').__version__}; median of {TICKS}")
    print(f"  SupervisorScreen.render_wall   work {wall_work:6.1f} ms   latency {wall_lat:6.1f} ms")
    print(f"  DataTable refill (baseline)    work {dt_work:6.1f} ms   latency {dt_lat:6.1f} ms")
    print()
    print(f"wall_render: {wall_work:.1f} ms (goal <= 16)")
    print(f"wall_render_datatable_baseline: {dt_work:.1f} ms (goal none)")


if __name__ == "__main__":
    asyncio.run(main())
