"""Benchmark: QueueList (Line API, virtual) beside Textual's DataTable on the same ticket rows.

    python bench/queue_render.py            # 1k, 10k, 100k rows; about a minute
    python bench/queue_render.py --quick    # 1k and 10k only

Headless (App.run_test, 160x50). For each row count and widget, in a fresh app:

* first paint: from mounting the widget over rows already in memory (the app's cache) until
  the compositor has written a frame that shows the first ticket. DataTable's time includes
  its add_columns/add_rows (it must own every row); QueueList reads count() and one page.
  DataTable gets its cell strings pre-formatted outside the timing (generous to it).
* one 1 Hz tick: QueueList.tick(now) / DataTable.update_cell() of the countdown cell of every
  visible row, until the compositor refresh that draws it has completed. Median over the
  repeats. Reported two ways:
    - work: CPU time (process_time) from the call to the end of that refresh; the headline
      figure, since it is what a tick costs whatever the frame pacing;
    - latency: wall time for the same span, which also includes waiting for Textual's
      60 fps frame timer.

Ends with one line per goal: `NAME: VALUE UNIT (goal GOAL)`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncio  # noqa: E402
import gc  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Callable, Optional  # noqa: E402

from textual.app import App  # noqa: E402
from textual.widget import Widget  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from agent_tui.rows import QueueRow  # noqa: E402
from agent_tui.sla import countdown_state, format_countdown  # noqa: E402
from tests.queue_sample import sample_rows  # noqa: E402
from widgets.queue_list import SLA_GLYPHS, ListRowSource, QueueList, format_age  # noqa: E402

NOW = 1_750_000_000.0
SIZE = (160, 50)
SIZES = (1_000, 10_000, 100_000)
QUEUE_TICKS = 20
DATATABLE_TICKS = {1_000: 10, 10_000: 5, 100_000: 3}
WARMUP_TICKS = 3


class BenchApp(App):
    """An empty screen; the benchmark mounts the widget under test."""

    def __init__(self) -> None:
        super().__init__()
        self.refreshes = RefreshProbe()

    def on_mount(self) -> None:
        self.refreshes.install(self.screen)


@dataclass
class RefreshProbe:
    """Wraps Screen._compositor_refresh to timestamp each frame the compositor writes."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    last_wall: float = 0.0
    last_cpu: float = 0.0
    watch: Optional[Widget] = None
    watched_refreshes: int = 0

    def install(self, screen) -> None:
        original = screen._compositor_refresh

        def timed_refresh() -> None:
            involved = self.watch is not None and self.watch in screen._dirty_widgets
            original()
            if involved:
                self.last_wall = time.perf_counter()
                self.last_cpu = time.process_time()
                self.watched_refreshes += 1
                self.event.set()

        screen._compositor_refresh = timed_refresh

    async def next_frame(self, timeout: float = 120.0) -> tuple[float, float]:
        """The time of the next watched frame (or of one written since the last clear)."""
        await asyncio.wait_for(self.event.wait(), timeout)
        self.event.clear()
        return self.last_wall, self.last_cpu


def screen_text(app: App) -> str:
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


async def first_paint(app: BenchApp, widget: Widget, after_mount: Callable[[], None], marker: str) -> float:
    """Seconds from mounting `widget` until a frame containing `marker` has been written."""
    gc.collect()
    app.refreshes.watch = widget
    app.refreshes.event.clear()
    wall0 = time.perf_counter()
    await app.screen.mount(widget)
    after_mount()
    while True:
        wall, _cpu = await app.refreshes.next_frame()
        if marker in screen_text(app):  # checked after the frame's timestamp was taken
            return wall - wall0


async def measure_ticks(app: BenchApp, widget: Widget, do_tick: Callable[[float], None], repeats: int):
    """Median (work ms, latency ms) of `repeats` ticks, each awaited until its frame is written."""
    works: list[float] = []
    latencies: list[float] = []
    app.refreshes.watch = widget
    for i in range(WARMUP_TICKS + repeats):
        await asyncio.sleep(0.02)  # let the app go idle, as between 1 Hz ticks
        gc.collect()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        app.refreshes.event.clear()
        do_tick(NOW + 1 + i)
        wall, cpu = await app.refreshes.next_frame()
        if i >= WARMUP_TICKS:
            works.append((cpu - cpu0) * 1000)
            latencies.append((wall - wall0) * 1000)
    return statistics.median(works), statistics.median(latencies)


# --- the two widgets ----------------------------------------------------------------------------

COLUMNS = ("SLA", "PRI", "ID", "SUBJECT", "CUSTOMER", "CHANNEL", "STATUS", "ASSIGNEE", "LANG", "UPD")


def sla_cell(row: QueueRow, now: float) -> str:
    state = countdown_state(row.sla_due, row.sla_paused, now)
    label = "paused" if state == "paused" else "" if state == "none" else format_countdown(row.sla_due - now)
    return f"{SLA_GLYPHS[state]} {label}"


def table_cells(row: QueueRow, now: float) -> tuple[str, ...]:
    return (
        sla_cell(row, now), row.priority, f"#{row.id}", row.subject[:40], row.customer_name,
        row.channel, row.status, row.assignee_name or "—", row.language, format_age(now - row.updated_at),
    )


async def bench_queue(rows: list[QueueRow]) -> dict[str, float]:
    app = BenchApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        source = ListRowSource(rows)
        widget = QueueList(source, now=NOW)
        paint = await first_paint(app, widget, lambda: None, f"#{rows[0].id}")
        source.reset_calls()
        work, latency = await measure_ticks(app, widget, widget.tick, QUEUE_TICKS)
        assert source.page_calls == [] and source.count_calls == 0, "a tick must not read the source"
        expected = sla_cell(rows[0], widget.now)
        assert expected in screen_text(app), f"the last tick is not on screen: {expected!r}"
        return {"paint": paint, "tick_work": work, "tick_latency": latency}


async def bench_datatable(rows: list[QueueRow]) -> dict[str, float]:
    app = BenchApp()
    cells = [table_cells(row, NOW) for row in rows]  # formatted outside the timing
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table: DataTable = DataTable(cursor_type="row")
        table.styles.height = "1fr"

        column_keys = []

        def fill() -> None:
            column_keys.extend(table.add_columns(*COLUMNS))
            table.add_rows(cells)

        paint = await first_paint(app, table, fill, f"#{rows[0].id}")
        sla_key = column_keys[0]
        row_keys = list(table.rows)
        by_key = dict(zip(row_keys, rows))

        def tick(now: float) -> None:
            top = int(table.scroll_offset.y)
            for key in row_keys[top : top + SIZE[1]]:
                table.update_cell(key, sla_key, sla_cell(by_key[key], now))

        work, latency = await measure_ticks(app, table, tick, DATATABLE_TICKS[len(rows)])
        return {"paint": paint, "tick_work": work, "tick_latency": latency}


async def main(sizes: tuple[int, ...]) -> None:
    results: dict[tuple[str, int], dict[str, float]] = {}
    started = time.perf_counter()
    for n in sizes:
        rows = sample_rows(n, NOW)
        results[("queue", n)] = await bench_queue(rows)
        print(f"  QueueList  {n:>7,} rows done", file=sys.stderr, flush=True)
        results[("datatable", n)] = await bench_datatable(rows)
        print(f"  DataTable  {n:>7,} rows done", file=sys.stderr, flush=True)
        del rows

    print()
    print(f"Headless {SIZE[0]}x{SIZE[1]}, textual {__import__('textual').__version__}, python {sys.version.split()[0]}")
    print(f"tick = median of {QUEUE_TICKS} (QueueList) / {DATATABLE_TICKS} (DataTable) after {WARMUP_TICKS} warm-up")
    print()
    header = f"{'widget':<10} {'rows':>8} {'first paint':>12} {'tick work':>10} {'tick latency':>13}"
    print(header)
    print("-" * len(header))
    for n in sizes:
        for name, label in (("queue", "QueueList"), ("datatable", "DataTable")):
            r = results[(name, n)]
            print(
                f"{label:<10} {n:>8,} {r['paint']:>10.3f} s {r['tick_work']:>7.1f} ms {r['tick_latency']:>10.1f} ms"
            )
    print()
    print("DataTable / QueueList:")
    for n in sizes:
        q, d = results[("queue", n)], results[("datatable", n)]
        print(
            f"  {n:>8,} rows: first paint {d['paint'] / q['paint']:7.1f}x   "
            f"tick work {d['tick_work'] / q['tick_work']:7.1f}x   "
            f"tick latency {d['tick_latency'] / q['tick_latency']:7.1f}x"
        )
    print(f"\ntotal {time.perf_counter() - started:.0f} s\n")

    big, small = max(sizes), min(sizes)
    q_big, q_small, d_big = results[("queue", big)], results[("queue", small)], results[("datatable", big)]
    suffix = f"{big // 1000}k"
    print(f"queue_first_paint_{suffix}: {q_big['paint']:.2f} s (goal <= 0.3)")
    print(f"queue_tick_{suffix}: {q_big['tick_work']:.1f} ms (goal <= 16)")
    print(f"queue_tick_flatness: {q_big['tick_work'] / q_small['tick_work']:.2f} ratio (goal <= 1.5)")
    print(f"datatable_over_queue_first_paint_{suffix}: {d_big['paint'] / q_big['paint']:.0f} x (goal >= 1)")


if __name__ == "__main__":
    asyncio.run(main(SIZES[:2] if "--quick" in sys.argv else SIZES))
