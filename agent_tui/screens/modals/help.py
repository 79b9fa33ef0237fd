"""`?`: every key that works here, as remapped."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help { width: 100; height: auto; max-height: 90%; border: round $accent; background: $surface; padding: 1 2; }
    """

    def __init__(self, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = bindings

    def compose(self) -> ComposeResult:
        lines = ["Keys (single-key shortcuts are ignored while you type)", ""]
        for keys, desc, bid in self.rows:
            lines.append(f"{keys:<14} {desc:<44} {bid}")
        lines += ["", "Remap any key by its id in the config: [keymap] queue.claim = \"ctrl+k\""]
        yield VerticalScroll(Static("\n".join(lines), markup=False), id="help")
