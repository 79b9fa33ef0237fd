"""What the ticket screen shows, read from the cache in one go (call it from a thread, never the UI's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class TicketView:
    ticket_id: int
    ticket: Optional[dict]  # None: deleted or merged on the server
    agents: dict[int, dict] = field(default_factory=dict)
    thread: list[dict] = field(default_factory=list)
    customer: dict = field(default_factory=dict)


def ticket_view(cache: Any, ticket_id: int) -> TicketView:
    """The ticket, its thread, its customer and the agents (for names and who else is here)."""
    ticket = cache.ticket(ticket_id)
    if ticket is None:
        return TicketView(ticket_id, None)
    return TicketView(ticket_id, ticket, cache.agents(), cache.thread(ticket_id),
                      cache.customer(ticket["requester_id"]) or {})
