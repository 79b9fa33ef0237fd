"""`R`: the changes the server refused, one per line, and what the agent can do with each.

The dialog gets the refusals as plain rows (the app reads them off the event loop) and dismisses
with the agent's choice; the app does it and opens the dialog again while refusals remain:

    e      a refused reply or note goes back into its ticket's reply box, to edit and send again
    s      send the change again as it was, based on the ticket as this copy has it now
    x      dismiss this refusal (the ticket already shows the server's state)
    a      dismiss them all
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from agent_tui.changes import MACRO_KINDS, describe_change, payload_of
from agent_tui.textsafe import one_line, safe_text

__all__ = ["RejectionChoice", "RejectionsScreen"]


@dataclass(frozen=True)
class RejectionChoice:
    action: str  # edit | resend | ack | ack_all
    rejection_id: Optional[int] = None


def _text_of(row: dict) -> str:
    return str(payload_of(row).get("body") or "")


def describe(row: dict) -> Text:
    """Two lines for one refusal: what and why, then the kept text of a reply."""
    if row.get("kind") in MACRO_KINDS:
        head = describe_change(row)
    else:
        head = f"#{row.get('ticket_id')}  {row.get('kind')}"
    out = safe_text(one_line(f"{head}  HTTP {row.get('status_code')}  {row.get('reason') or ''}", 200))
    if row.get("kind") in ("reply", "note"):
        out.append("\n    text kept: ", style="dim")
        out.append_text(safe_text(one_line(_text_of(row), 100)))
    return out


class RejectionsScreen(ModalScreen[Optional[RejectionChoice]]):
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="rejections.close"),
        Binding("e", "choose('edit')", "Edit & send", id="rejections.edit"),
        Binding("s", "choose('resend')", "Send again", id="rejections.resend"),
        Binding("x", "choose('ack')", "Dismiss", id="rejections.dismiss"),
        Binding("a", "ack_all", "Dismiss all", id="rejections.ack"),
    ]
    DEFAULT_CSS = """
    RejectionsScreen { align: center middle; }
    #rej { width: 100; max-width: 100%; height: auto; max-height: 80%; border: round $error; background: $surface; padding: 1 2; }
    #rej-list { height: auto; max-height: 20; }
    #rej-help { color: $text-muted; }
    """

    def __init__(self, rows: Sequence[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        with Vertical(id="rej"):
            if not self.rows:
                yield Static("Nothing was refused.", markup=False)
                yield Static("[esc] close", id="rej-help", markup=False)
                return
            yield Static("Changes the server refused. The ticket shows the server's state now; redo what still applies.",
                         markup=False)
            yield OptionList(*[Option(describe(r), id=str(r["id"])) for r in self.rows], id="rej-list")
            yield Static("[e] edit a reply and send it again  [s] send again as it was  [x] dismiss  [a] dismiss all  [esc] close",
                         id="rej-help", markup=False)

    def on_mount(self) -> None:
        if self.rows:
            self.set_focus(self.query_one("#rej-list", OptionList))

    def _current(self) -> Optional[dict]:
        if not self.rows:
            return None
        index = self.query_one("#rej-list", OptionList).highlighted
        return self.rows[index] if index is not None and 0 <= index < len(self.rows) else None

    def action_choose(self, action: str) -> None:
        row = self._current()
        if row is None:
            return
        if action == "edit" and row.get("kind") not in ("reply", "note"):
            self.notify("Only a refused reply or note is edited; press s to send this change again.", severity="warning",
                        markup=False)
            return
        self.dismiss(RejectionChoice(action, int(row["id"])))

    def action_ack_all(self) -> None:
        self.dismiss(RejectionChoice("ack_all") if self.rows else None)

    def action_close(self) -> None:
        self.dismiss(None)
