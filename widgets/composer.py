"""The reply box: a TextArea whose keys act on its ticket screen (send, macros, drop the waiting
macro actions, expand ::shortcut, leave), and macro text put in at the cursor as its own paragraph."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import TextArea

from agent_tui.macros.compose import paragraph_insert

__all__ = ["Composer", "insert_paragraph"]


def insert_paragraph(box: TextArea, snippet: str) -> None:
    """Put a macro's text in the box at the cursor as its own paragraph (one undo step)."""
    doc = box.document
    start, end = sorted(box.selection)
    if start != end:  # a selection is replaced by the text
        box.replace("", start, end)
    text = box.text
    cursor = doc.get_index_from_location(box.cursor_location)
    index, insertion, after = paragraph_insert(text, cursor, snippet)
    if insertion:
        box.insert(insertion, doc.get_location_from_index(index))
        box.move_cursor(box.document.get_location_from_index(after))


class Composer(TextArea):
    """The reply box. Its text is saved as a draft while typing (debounced)."""

    BINDINGS = [
        Binding("ctrl+s", "screen.send", "Send", id="ticket.send", priority=True),
        Binding("ctrl+t", "screen.toggle_internal", "Public/internal", id="ticket.toggle_internal", priority=True),
        Binding("ctrl+g", "screen.macros", "Macros", id="ticket.macros_in_box"),
        Binding("ctrl+n", "screen.undo_macro", "Drop macro actions", id="ticket.drop_actions_in_box",
                tooltip="Send the text without the macro's ticket actions"),
        Binding("tab", "screen.expand_shortcut", "Expand ::shortcut", show=False, id="ticket.expand_shortcut"),
        Binding("escape", "screen.leave_composer", "Leave box", id="ticket.leave_composer"),
    ]
