"""Name the reply box's text as a personal macro, or edit a macro."""

from __future__ import annotations

from typing import Optional

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, TextArea


class SaveMacroScreen(ModalScreen[Optional[dict]]):
    """Name the reply box's text as a personal macro: a title and an optional ::shortcut.

    With `body` (editing a macro): the fields start filled and the macro's text is edited in a box
    of its own (placeholders such as {{customer.first_name}} stay as they are); `ctrl+s` saves.
    Dismisses with {"title", "shortcut"} (and "body" when editing), or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save_macro.cancel"),
                Binding("ctrl+s", "save", "Save", id="save_macro.save", priority=True)]
    DEFAULT_CSS = """
    SaveMacroScreen { align: center middle; }
    #save-macro { width: 80; height: auto; border: round $accent; background: $surface; padding: 1 2; }
    #macro-body { height: 10; }
    """

    def __init__(self, *, title: str = "", shortcut: str = "", body: Optional[str] = None, heading: str = "") -> None:
        super().__init__()
        self.initial = (title, shortcut, body)
        self.heading = heading or "Save the reply box as a personal macro (synced to your other sessions)"

    def compose(self) -> ComposeResult:
        title, shortcut, body = self.initial
        with Vertical(id="save-macro"):
            yield Label(self.heading, markup=False)
            yield Input(value=title, placeholder="Title, e.g. Ask for the deposit screenshot", id="macro-title")
            yield Input(value=shortcut, placeholder="Shortcut for ::name (optional, letters and digits)", id="macro-shortcut")
            if body is not None:
                yield Label("Text ({{placeholders}} are filled in when used) · ctrl+s save · esc cancel", markup=False)
                yield TextArea(body, id="macro-body", soft_wrap=True, show_line_numbers=False)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#macro-title", Input))

    @on(Input.Submitted, "#macro-title")
    def _title_done(self, _event) -> None:
        self.set_focus(self.query_one("#macro-shortcut", Input))

    @on(Input.Submitted, "#macro-shortcut")
    def _done(self, _event) -> None:
        if self.initial[2] is not None:  # editing: on to the text; ctrl+s saves
            self.set_focus(self.query_one("#macro-body", TextArea))
            return
        self.action_save()

    def action_save(self) -> None:
        import re

        title = self.query_one("#macro-title", Input).value.strip()
        shortcut = re.sub(r"[^a-z0-9_]", "", self.query_one("#macro-shortcut", Input).value.strip().lower())
        if not title:
            self.app.notify("A macro needs a title.", severity="warning")
            self.set_focus(self.query_one("#macro-title", Input))
            return
        out = {"title": title[:200], "shortcut": shortcut[:64]}
        if self.initial[2] is not None:
            body = self.query_one("#macro-body", TextArea).text
            if not body.strip():
                self.app.notify("A macro needs text; write it, or delete the macro with d in the picker.", severity="warning")
                self.set_focus(self.query_one("#macro-body", TextArea))
                return
            out["body"] = body
        self.dismiss(out)

    def action_cancel(self) -> None:
        self.dismiss(None)
