"""Does the UI wait on SQLite? An agent's flow on a 100,000-ticket cache, with a probe on the event
loop that records how late its 10 ms ticks come: a tick more than 50 ms late means the loop was
blocked (by a query, a write or a render) and the agent's keys waited. Prints the worst stall per
step and overall.

Run: python bench/ui_stall.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncio
import time
from types import SimpleNamespace

from agent_tui.app import AgentApp, Identity
from bench.queue_query import QUEUES, fill as fill_tickets
from storage.cache import Cache

STALL_LIMIT = 0.050


def fill(cache: Cache, n: int) -> None:
    """The queue benchmark's 100,000 tickets, with the queues the sidebar lists."""
    fill_tickets(cache, n)
    cache.apply_page({"queues": [{"id": q, "name": q.title(), "position": i} for i, q in enumerate(QUEUES)]}, None)


class StallProbe:
    def __init__(self) -> None:
        self.worst = 0.0
        self.where = ""
        self.step = "start"
        self._task: asyncio.Task | None = None
        self.by_step: dict[str, float] = {}

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(0.010)
            late = time.perf_counter() - t0 - 0.010
            if late > self.worst:
                self.worst, self.where = late, self.step
            self.by_step[self.step] = max(self.by_step.get(self.step, 0.0), late)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task:
            self._task.cancel()


async def flow(tmp_path: Path) -> StallProbe:
    cache = Cache.open(tmp_path / "cache.db")
    fill(cache, 100_000)
    app = AgentApp(cache=cache, server_url="http://127.0.0.1:9", token="-", sync_enabled=False,
                   identity=Identity(1, "Agent 1", "agent"),
                   settings=SimpleNamespace(theme="agent-dark", at_risk_minutes=15, views={}, keymap={}))
    probe = StallProbe()
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause(1.0)  # the first paint and the first counts are allowed their time
            probe.start()
            steps = [
                ("scroll the queue", ["pagedown"] * 5 + ["end", "home"]),
                ("next view", ["right_square_bracket", "right_square_bracket"]),
                ("filter as you type", ["slash", *"deposit 77", "enter"]),
                ("clear the filter", ["escape"]),
                ("open a ticket", ["enter"]),
                ("write a reply", ["r", *"Thanks, we are checking it."]),
                ("send it", ["ctrl+s"]),
                ("back to the queue", ["escape", "escape"]),
                ("claim", ["c"]),
            ]
            for name, keys in steps:
                probe.step = name
                for key in keys:
                    await pilot.press(key)
                    await pilot.pause(0.05)
                await pilot.pause(0.3)
            probe.step = "idle ticks"
            await pilot.pause(1.5)
    finally:
        probe.stop()
        cache.close()
    return probe


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        probe = asyncio.run(flow(Path(tmp)))
    for step, late in probe.by_step.items():
        print(f"  {step:<20} worst tick {late * 1000:6.1f} ms late")
    print(f"ui_stall_worst: {probe.worst * 1000:.0f} ms (goal <= {STALL_LIMIT * 1000:.0f})")


if __name__ == "__main__":
    main()
