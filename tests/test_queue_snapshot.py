"""Snapshot of the queue list: 40 deterministic rows, frozen clock, agent-dark theme.

Update after an intended visual change with `pytest tests/test_queue_snapshot.py --snapshot-update`
and review the SVG diff. Textual is pinned, so the snapshot only changes when we change it.
"""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.queue_sample import sample_rows
from themes import APP_TCSS, register_themes
from widgets.queue_list import ListRowSource, QueueList

NOW = 1_750_000_000.0  # frozen clock: countdowns and ages are the same on every run


class QueueSnapshotApp(App):
    CSS_PATH = APP_TCSS

    def __init__(self) -> None:
        super().__init__()
        register_themes(self, default="agent-dark")

    def compose(self) -> ComposeResult:
        yield QueueList(ListRowSource(sample_rows(40, NOW)), now=NOW)

    def on_mount(self) -> None:
        self.query_one(QueueList).focus()


def test_queue_list_snapshot(snap_compare) -> None:
    # cursor on the third row, rows 2 and 4 marked for a bulk action, two ticks later
    async def run_before(pilot) -> None:
        await pilot.press("j", "space", "j", "j", "space", "k")
        pilot.app.query_one(QueueList).tick(NOW + 2)
        await pilot.pause()

    assert snap_compare(QueueSnapshotApp(), run_before=run_before, terminal_size=(120, 30))
