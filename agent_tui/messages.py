"""What workers post to the app: each a plain answer that a handler puts on screen."""

from __future__ import annotations

from typing import Any, Optional

from textual.message import Message
from textual.screen import Screen


class SyncFinished(Message):
    def __init__(self, report: Optional[Any], state: str, error: str, outbox: int, rejections: int) -> None:
        super().__init__()
        self.report, self.state, self.error, self.outbox, self.rejections = report, state, error, outbox, rejections


class CountsReady(Message):
    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__()
        self.counts = counts


class PendingCounts(Message):
    """The outbox and refusal counts for the status strips, read in a thread."""

    def __init__(self, outbox: int, rejections: int) -> None:
        super().__init__()
        self.outbox, self.rejections = outbox, rejections


class ChangesQueued(Message):
    """Local changes went to the outbox (in the cache's writer thread); the notes say what was not done."""

    def __init__(self, notes: list[tuple[str, str]], claimed: int = 0) -> None:
        super().__init__()
        self.notes, self.claimed = notes, claimed


class RejectionsRead(Message):
    def __init__(self, rows: list[dict]) -> None:
        super().__init__()
        self.rows = rows


class RejectionDone(Message):
    def __init__(self, note: str, *, error: bool = False, reopen: bool = False, open_ticket: Optional[int] = None,
                 left: int = 0) -> None:
        super().__init__()
        self.note, self.error, self.reopen, self.open_ticket = note, error, reopen, open_ticket
        self.left = left  # refusals still waiting


class PickerReady(Message):
    """The macro picker's inputs for a ticket screen, read off the event loop (or why not)."""

    def __init__(self, screen: Screen, inputs: Optional[dict], query: str, error: str = "") -> None:
        super().__init__()
        self.screen, self.inputs, self.query, self.error = screen, inputs, query, error


class GuardChecked(Message):
    """The reply guard's report on a reply about to be sent (None: the ticket is gone)."""

    def __init__(self, attempt: int, body: str, report: Optional[Any], error: str = "") -> None:
        super().__init__()
        self.attempt, self.body, self.report, self.error = attempt, body, report, error


class CollisionsChecked(Message):
    """What stands between a reply and sending it (services.reply.Collisions), read in a thread."""

    def __init__(self, attempt: int, body: str, collisions: Any) -> None:
        super().__init__()
        self.attempt, self.body, self.collisions = attempt, body, collisions


class ReplySent(Message):
    """The writer queued the reply (sent: services.reply.Sent) or could not (None: the text is the draft again)."""

    def __init__(self, attempt: int, sent: Optional[Any]) -> None:
        super().__init__()
        self.attempt, self.sent = attempt, sent


class DraftRead(Message):
    """A ticket's saved draft, read in the writer after every save queued before it (None: no draft)."""

    def __init__(self, draft: Optional[dict], focus: bool = False) -> None:
        super().__init__()
        self.draft, self.focus = draft, focus


class ViewsRead(Message):
    """The sidebar's views (built-in, one per queue, the config's), read in a thread."""

    def __init__(self, views: list) -> None:
        super().__init__()
        self.views = views
