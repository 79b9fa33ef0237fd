"""Tags for the selected tickets: +tag adds, -tag removes."""

from __future__ import annotations

from typing import Optional

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class TagScreen(ModalScreen[Optional[str]]):
    """`+tag` adds, `-tag` removes, a bare word adds; enter applies, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="tags.cancel")]
    DEFAULT_CSS = """
    TagScreen { align: center middle; }
    #tag-box { width: 70; height: auto; border: round $accent; background: $surface; padding: 1 2; }
    """

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(id="tag-box"):
            yield Label(f"Tags for {self.count} ticket(s): +tag adds, -tag removes", markup=False)
            yield Input(placeholder="+vip -spam", id="tag-input")

    def on_mount(self) -> None:
        self.set_focus(self.query_one(Input))

    @on(Input.Submitted, "#tag-input")
    def _done(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
