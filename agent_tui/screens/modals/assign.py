"""Pick an agent to take a ticket (the queue's bulk assign, the wall's reassign)."""

from __future__ import annotations

from typing import ClassVar, Optional

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from agent_tui.textsafe import one_line, safe_text

PRESENCE = {"online": ("● online", "ok"), "away": ("◐ away", "warn"), "offline": ("○ offline", "muted")}
_PRESENCE_ORDER = {"online": 0, "away": 1, "offline": 2}


class AgentPicker(ModalScreen[Optional[int]]):
    """Pick an agent to take a ticket: type to filter, enter to choose, escape to cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="wall.picker_cancel")]
    DEFAULT_CSS = """
    AgentPicker { align: center middle; }
    AgentPicker > Vertical { width: 60; height: 24; border: round $border; background: $surface; padding: 0 1; }
    AgentPicker OptionList { height: 1fr; }
    """

    def __init__(self, ticket_id: int, agents: list[dict], title: Optional[str] = None) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.title_text = title or f"Reassign #{ticket_id} to…"
        self.agents = sorted((a for a in agents if a.get("role") in ("agent", "recovery")),
                             key=lambda a: (_PRESENCE_ORDER.get(a.get("presence"), 3), str(a.get("name", "")), a["id"]))

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, markup=False)
            yield Input(placeholder="Filter agents by name", id="picker-filter")
            yield OptionList(*self._options(""), id="picker-list")

    def _options(self, text: str) -> list[Option]:
        needle = text.strip().casefold()
        out = []
        for a in self.agents:
            name = one_line(str(a.get("name", "")))
            if needle and needle not in name.casefold():
                continue
            glyph = PRESENCE.get(a.get("presence") or "", ("?", ""))[0].split()[0]
            out.append(Option(safe_text(f"{glyph} {name}"), id=str(a["id"])))
        return out

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        ol = self.query_one(OptionList)
        if ol.option_count:
            ol.highlighted = 0

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        ol = self.query_one(OptionList)
        ol.clear_options()
        ol.add_options(self._options(event.value))
        if ol.option_count:
            ol.highlighted = 0

    @on(Input.Submitted, "#picker-filter")
    def _submit(self, _event: Input.Submitted) -> None:
        ol = self.query_one(OptionList)
        if ol.highlighted is not None and ol.option_count:
            self.dismiss(int(ol.get_option_at_index(ol.highlighted).id))

    @on(OptionList.OptionSelected, "#picker-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))

    def key_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def key_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
