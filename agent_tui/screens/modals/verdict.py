"""One deposit verdict in full, over the recovery desk."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from agent_tui.chains import Verdict
from widgets.verdict import verdict_renderable


class VerdictScreen(ModalScreen):
    """One verdict in full, over the recovery desk."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close", id="recovery.detail_close")]
    DEFAULT_CSS = """
    VerdictScreen { align: center middle; }
    VerdictScreen #verdict-detail { width: 120; height: auto; max-height: 90%; border: round $accent; background: $surface; padding: 1 2; }
    """

    def __init__(self, verdict: Verdict) -> None:
        super().__init__()
        self.verdict = verdict

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="verdict-detail"):
            yield Static(verdict_renderable(self.verdict), markup=False)
