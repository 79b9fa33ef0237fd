"""Plain row objects the cache hands to the UI (domain data: no ORM objects, no SQL, no Textual)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol, Sequence


@dataclass(slots=True)
class QueueRow:
    """One line of a ticket queue. Holds the deadline, never a formatted countdown."""

    id: int
    subject: str
    queue: str
    status: str
    priority: str
    channel: str
    language: str
    customer_name: str
    customer_tier: str  # standard | silver | gold | vip
    assignee_id: Optional[int]
    assignee_name: str  # "" when unassigned
    sla_due: float  # epoch seconds; agent_tui.vocabulary.NO_DUE when no clock runs
    sla_paused: bool  # a clock is paused (pending / on hold)
    updated_at: float
    version: int


class RowSource(Protocol):
    """What the virtual queue list reads from: a count and pages of rows, in display order."""

    def count(self) -> int: ...

    def page(self, offset: int, limit: int) -> Optional[Sequence[QueueRow]]: ...  # None: still being read
