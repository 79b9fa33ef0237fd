"""The desk's shared vocabulary: ticket statuses, priorities, channels, message kinds, roles and
presence, as the client's cache, the sync engine, the SLA engine, the macros and the backend's API
all spell them. One place: the `Literal` types are the source (the backend's request models use
them, so the OpenAPI schema lists exactly these values), the tuples are read from them.

Pure: imports nothing of the app, the cache, the backend or Textual.
"""

from __future__ import annotations

from typing import Literal, get_args

Status = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]
Channel = Literal["chat", "email", "telegram", "phone", "web"]
MessageKind = Literal["customer", "reply", "note"]  # customer message, public reply, internal note
AgentMessageKind = Literal["reply", "note"]  # what an agent may post
Role = Literal["agent", "recovery", "supervisor"]
Presence = Literal["online", "away", "offline"]
Visibility = Literal["shared", "personal"]  # of a macro

STATUSES: tuple[str, ...] = get_args(Status)
ACTIVE_STATUSES: tuple[str, ...] = ("new", "open", "pending", "on_hold")  # the backlog: someone still owes an answer
CLOSED_STATUSES: tuple[str, ...] = tuple(s for s in STATUSES if s not in ACTIVE_STATUSES)  # solved, closed
PRIORITIES: tuple[str, ...] = get_args(Priority)
PRIORITY_RANK = {p: i for i, p in enumerate(PRIORITIES)}
CHANNELS: tuple[str, ...] = get_args(Channel)
MESSAGE_KINDS: tuple[str, ...] = get_args(MessageKind)
ROLES: tuple[str, ...] = get_args(Role)
PRESENCE: tuple[str, ...] = get_args(Presence)
VISIBILITIES: tuple[str, ...] = get_args(Visibility)
TIERS: tuple[str, ...] = ("standard", "silver", "gold", "vip")
KYC_STATUSES: tuple[str, ...] = ("none", "pending", "verified", "rejected")

# A ticket on the wire (the feed, every answer about a ticket) and in the client's cache, in the cache's
# column order: the plain fields, then the two JSON ones. The backend's answers, the cache's upsert and
# the feed decoder (storage.wire, checked against this by a test) all follow it.
TICKET_JSON_FIELDS: tuple[str, ...] = ("tags", "sla")
TICKET_FIELDS: tuple[str, ...] = (
    "id", "subject", "queue", "status", "priority", "channel", "requester_id", "assignee_id",
    "language", "created_at", "updated_at", "version", "first_reply_at", "solved_at", "sla_due",
) + TICKET_JSON_FIELDS

# A ticket with no running SLA clock (paused, achieved, solved, no policy) sorts after every real
# deadline. A real, far-away timestamp (9999-12-31T23:59:59Z) instead of NULL keeps the cache's
# (queue, status, sla_due) index usable for ORDER BY sla_due; the server sends it as is.
NO_DUE = 253402300799.0

def step_priority(priority: str, step: int) -> str:
    """The priority `step` levels up (or down), held within low..urgent."""
    return PRIORITIES[max(0, min(len(PRIORITIES) - 1, PRIORITIES.index(priority) + step))]


__all__ = [
    "ACTIVE_STATUSES", "AgentMessageKind", "CHANNELS", "CLOSED_STATUSES", "Channel", "KYC_STATUSES", "MESSAGE_KINDS",
    "MessageKind", "NO_DUE", "PRESENCE", "PRIORITIES", "PRIORITY_RANK", "Presence", "Priority", "ROLES", "Role",
    "STATUSES", "Status", "TICKET_FIELDS", "TICKET_JSON_FIELDS", "TIERS", "step_priority", "VISIBILITIES", "Visibility",
]
