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


class MacroIn(msgspec.Struct, kw_only=True):
    id: str
    key: str
    title: str
    category: str = ""
    visibility: str = "shared"
    owner_id: Optional[int] = None
    shortcut: str = ""
    bodies: dict[str, Any] = {}
    actions: list[Any] = []
    usage_count: int = 0
    updated_at: float = 0.0
    version: int


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


# --- answers to the client's changes ----------------------------------------------------------------


class WrongShape(ValueError):
    """An answer to a change that does not fit what the client stores: nothing of it was written."""


class AnswerIn(msgspec.Struct, kw_only=True):
    """What the server answers a change (or a GET of one ticket or macro) with; other fields pass."""

    ticket: Optional[TicketIn] = None
    message: Optional[MessageIn] = None
    messages: list[MessageIn] = []
    macro: Optional[MacroIn] = None
    previous_version: Optional[int] = None


class RefusalIn(msgspec.Struct, kw_only=True):
    """A 4xx answer: the server's copy of what was refused, when it sends one."""

    ticket: Optional[TicketIn] = None
    macro: Optional[MacroIn] = None


class NotJson(WrongShape):
    """The body is no JSON at all: garbled on the way, most likely."""


_answer = msgspec.json.Decoder(AnswerIn)
_refusal = msgspec.json.Decoder(RefusalIn)


def _readable(exc: Exception) -> str:
    """msgspec's "Object missing required field `version` - at `$.ticket`" as "missing field ticket.version"."""
    import re

    text = str(exc)
    m = re.fullmatch(r"(.*?)(?: - at `\$\.?(.*)`)?", text, re.S)
    what, where = (m.group(1), m.group(2) or "") if m else (text, "")
    missing = re.fullmatch(r"Object missing required field `(.+)`", what)
    if missing:
        return f"missing field {where + '.' if where else ''}{missing.group(1)}"
    what = what.replace("`", "")
    what = what[:1].lower() + what[1:]
    return f"{where}: {what}" if where else what


def ticket_dict(t: TicketIn) -> dict:
    d = msgspec.structs.asdict(t)
    d["tags"], d["sla"] = msgspec.json.decode(bytes(t.tags)), msgspec.json.decode(bytes(t.sla))
    return d


def decode_answer(raw: bytes, need: tuple[str, ...] = ()) -> dict:
    """The answer as a dict whose ticket, message(s) and macro are complete and of the right types
    (what the cache's upserts expect); `need`: the fields this answer must have. WrongShape says
    what did not fit, in one line: `missing field ticket.version`."""
    try:
        a = _answer.decode(raw)
        body = msgspec.json.decode(raw)
    except msgspec.ValidationError as exc:
        raise WrongShape(_readable(exc)) from None
    except msgspec.DecodeError:
        raise NotJson("the body is not JSON") from None
    missing = [k for k in need if getattr(a, k) is None]
    if missing:
        raise WrongShape(f"missing field {missing[0]}")
    body.update(
        ticket=None if a.ticket is None else ticket_dict(a.ticket),
        message=None if a.message is None else msgspec.structs.asdict(a.message),
        messages=[msgspec.structs.asdict(m) for m in a.messages],
        macro=None if a.macro is None else msgspec.structs.asdict(a.macro),
        previous_version=a.previous_version,
    )
    return body


def decode_refusal(raw: bytes) -> dict:
    """The server's copies in a refusal; a copy that does not fit is left out (the refusal stands)."""
    try:
        r = _refusal.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return {"ticket": None, "macro": None}
    return {"ticket": None if r.ticket is None else ticket_dict(r.ticket),
            "macro": None if r.macro is None else msgspec.structs.asdict(r.macro)}
