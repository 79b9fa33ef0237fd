"""The changes feed as it arrives: typed, validated decoding of a pulled page.

msgspec decodes a page straight into these structs (about 1 µs a ticket, against 8 µs for a
generic JSON parse into dicts), and keeps the JSON columns (`tags`, `sla`) as raw JSON text,
which is exactly what the cache stores. A page that does not fit raises BadPage with one line.
"""

from __future__ import annotations

from typing import Any, Optional

import msgspec


class BadPage(ValueError):
    """A pulled page this client cannot store: nothing of it was written."""


class TicketIn(msgspec.Struct, kw_only=True, gc=False):
    id: int
    subject: str
    queue: str
    status: str
    priority: str
    channel: str
    requester_id: int
    assignee_id: Optional[int] = None
    language: str = "en"
    created_at: float
    updated_at: float
    version: int
    first_reply_at: Optional[float] = None
    solved_at: Optional[float] = None
    sla_due: float
    tags: msgspec.Raw = msgspec.Raw(b"[]")
    sla: msgspec.Raw = msgspec.Raw(b"[]")


class MessageIn(msgspec.Struct, kw_only=True, gc=False):
    id: str
    ticket_id: int
    kind: str
    author_id: Optional[int] = None
    author_name: str = ""
    body: str
    created_at: float


class PageIn(msgspec.Struct, kw_only=True):
    tickets: list[TicketIn] = []
    messages: list[MessageIn] = []
    queues: list[dict[str, Any]] = []
    agents: list[dict[str, Any]] = []
    customers: list[dict[str, Any]] = []
    addresses: list[dict[str, Any]] = []
    deposits: list[dict[str, Any]] = []
    macros: list[dict[str, Any]] = []
    policies: list[dict[str, Any]] = []
    assets: list[dict[str, Any]] = []
    deleted_tickets: list[int] = []
    deleted_macros: list[str] = []
    cursor: Optional[str] = None
    has_more: bool = False


_decoder = msgspec.json.Decoder(PageIn)


def decode_page(raw: bytes | str) -> PageIn:
    try:
        return _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise BadPage(f"a record does not fit the feed's schema ({exc})") from None
    except msgspec.DecodeError as exc:
        raise BadPage(f"the page is not valid JSON ({exc})") from None


def ticket_row(t: TicketIn) -> tuple:
    """The upsert parameters of one ticket, in storage.cache._TICKET_COLS order."""
    return (t.id, t.subject, t.queue, t.status, t.priority, t.channel, t.requester_id, t.assignee_id, t.language,
            t.created_at, t.updated_at, t.version, t.first_reply_at, t.solved_at, t.sla_due,
            bytes(t.tags).decode(), bytes(t.sla).decode())


def message_row(m: MessageIn) -> tuple:
    return (m.id, m.ticket_id, m.kind, m.author_id, m.author_name, m.body, m.created_at, 0)
