"""Macros and the local cache: loading, favourites, applying a macro's ticket actions with undo,
and logging a guard override.

Applying (`apply_actions`) turns ALL of a macro's ticket actions into ONE outbox change
(`Cache.queue_update`), so the server sees one PATCH and the agent one undo step:

    set_status v        -> status = v
    set_priority v      -> priority = v
    set_queue v         -> queue = v
    add_tags [..]       -> tags = current tags + the new ones (order kept, no duplicates)
    remove_tags [..]    -> tags = current tags without them
    assign_me           -> assignee_id = the agent's id
    pending_reminder h  -> status = pending, and the tag `reminder:<UTC time now + h hours>`
                           (e.g. `reminder:2026-11-23T04:00Z`, replacing an older reminder tag):
                           the backend has no reminder field, so the time rides on the ticket as a
                           tag that a view or a supervisor can filter on.

Actions apply in order (a later one wins); only fields that really change are sent, and a macro
that changes nothing queues nothing (`apply_actions` returns None). A set_queue naming a queue
the cache does not know is left out (the server would refuse the whole change) and listed in
`Applied.skipped`.

Undo: `apply_actions` returns an `Applied` record with the change id and the field values from
before. `undo(cache, applied)` deletes the outbox row and restores those values in one
transaction, as long as the change has not left the outbox; it raises UndoError once it has.
A change stays in the outbox at least `hold_seconds` (default 5 s: the sync engine does not send
an outbox row before its `next_attempt_at`), which is the undo window: after it the change may
be on the wire and undo no longer promises anything. A field is restored only if it still holds
the value the macro set (a later change by the agent is not clobbered), and only while the row
still has the version the change was based on (a pulled server copy is already right).

Guard overrides (`log_override`) are appended as JSON lines to `<data dir>/overrides.log`
(mode 0600) and queued as an internal note on the ticket, so supervisors see them in the thread.

Pure: never imports textual, widgets or themes.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Iterable, Mapping, Optional, Sequence

import orjson

from agent_tui import locations
from agent_tui.macros.model import Macro, MacroError, visible_macros
from storage.db import write_tx

__all__ = [
    "Applied",
    "UndoError",
    "apply_actions",
    "describe_actions",
    "edit_body_language",
    "edited_bodies",
    "favourites",
    "load_macros",
    "log_override",
    "override_log_path",
    "override_note",
    "plan_changes",
    "reminder_tag",
    "undo",
]

FAVOURITE_SLOTS = 9
DEFAULT_HOLD_SECONDS = 5.0
REMINDER_PREFIX = "reminder:"


class UndoError(Exception):
    """The change cannot be undone any more (one line: why)."""


# --- loading ---------------------------------------------------------------------------------------


def load_macros(cache: Any, agent_id: Optional[int] = None, *, errors: Optional[list[str]] = None) -> list[Macro]:
    """The macros this agent may use (shared + their own personal ones), in the cache's title order.

    A row that does not validate is skipped; its one-line reason goes to `errors` if given.
    """
    out: list[Macro] = []
    for row in cache.macros():
        try:
            out.append(Macro.from_dict(row))
        except MacroError as exc:
            if errors is not None:
                errors.append(str(exc))
    return visible_macros(out, agent_id)


def favourites(macros: Sequence[Macro], keys: Optional[Iterable[str]] = None, slots: int = FAVOURITE_SLOTS) -> list[Macro]:
    """The macros on keys 1-9.

    With `keys` (the config's list of macro keys), exactly those, in that order (unknown keys are
    skipped). Without, the `slots` most used (usage count, then title).
    """
    if keys:
        by_key = {m.key: m for m in macros}
        chosen: list[Macro] = []
        for k in keys:
            m = by_key.get(str(k).strip())
            if m is not None and m not in chosen:
                chosen.append(m)
        return chosen[:slots]
    ranked = sorted(enumerate(macros), key=lambda im: (-im[1].usage_count, im[1].title.casefold(), im[0]))
    return [m for _, m in ranked[:slots]]


# --- editing a macro's text ----------------------------------------------------------------------


def edit_body_language(macro: Macro, language: Optional[str]) -> Optional[str]:
    """The body an edit starts from: None when every language has the same text (a macro saved
    from the reply box: one text, edited as one), else the language the customer would get."""
    from agent_tui.macros.render import pick_body

    if len(set(macro.bodies.values())) <= 1:
        return None
    return pick_body(macro.bodies, language)[0]


def edited_bodies(macro: Macro, language: Optional[str], text: str) -> dict[str, str]:
    """The macro's bodies after the agent edited the text `edit_body_language` chose: all of them
    when they were one text, else only that language's (the other translations stay)."""
    lang = edit_body_language(macro, language)
    if lang is None:
        return {k: text for k in macro.bodies} or {language or "en": text}
    return {**macro.bodies, lang: text}


# --- actions -> one ticket change ------------------------------------------------------------------


def reminder_tag(now: float, hours: float) -> str:
    at = _dt.datetime.fromtimestamp(now + float(hours) * 3600, tz=_dt.timezone.utc)
    return REMINDER_PREFIX + at.strftime("%Y-%m-%dT%H:%MZ")


def plan_changes(
    ticket: Mapping[str, Any],
    actions: Iterable[Mapping[str, Any]],
    agent_id: Optional[int],
    now: float,
    *,
    queues: Optional[Collection[str]] = None,
    skipped: Optional[list[str]] = None,
) -> dict[str, Any]:
    """The ticket fields the actions change (only those that differ from `ticket`). Pure.

    With `queues` (the queue ids that exist), a set_queue to an unknown queue is left out (the
    server would refuse the whole change with 422) and said in `skipped`, one line each.
    """
    fields: dict[str, Any] = {}
    tags = list(ticket.get("tags") or [])
    touched_tags = False
    for action in actions:
        kind, value = action.get("type"), action.get("value")
        if kind == "set_status":
            fields["status"] = value
        elif kind == "set_priority":
            fields["priority"] = value
        elif kind == "set_queue":
            if queues is not None and value not in queues:
                if skipped is not None:
                    skipped.append(f"queue {value!r} does not exist on this desk; the ticket stays in its queue")
                continue
            fields["queue"] = value
        elif kind == "add_tags":
            for tag in value or []:
                if tag not in tags:
                    tags.append(tag)
            touched_tags = True
        elif kind == "remove_tags":
            drop = set(value or [])
            tags = [t for t in tags if t not in drop]
            touched_tags = True
        elif kind == "assign_me":
            if agent_id is None:
                raise ValueError("this macro assigns the ticket to you, but you are not signed in yet")
            fields["assignee_id"] = agent_id
        elif kind == "pending_reminder":
            tags = [t for t in tags if not t.startswith(REMINDER_PREFIX)]
            tags.append(reminder_tag(now, value))
            touched_tags = True
            fields["status"] = "pending"
        else:
            raise ValueError(f"unknown macro action {kind!r}")
    if touched_tags:
        fields["tags"] = tags
    current = {"tags": list(ticket.get("tags") or [])}
    return {k: v for k, v in fields.items() if (current["tags"] if k == "tags" else ticket.get(k)) != v}


@dataclass(frozen=True)
class Applied:
    """One applied macro: the outbox change and what to put back on undo."""

    change_id: str
    ticket_id: int
    macro_key: str
    changes: dict[str, Any] = field(default_factory=dict)
    previous: dict[str, Any] = field(default_factory=dict)
    base_version: Optional[int] = None
    hold_until: float = 0.0
    skipped: tuple[str, ...] = ()  # actions left out, one line each (e.g. an unknown queue)

    def __str__(self) -> str:
        return self.change_id


_REGISTRY: "OrderedDict[str, Applied]" = OrderedDict()  # undo by change id within this process
_REGISTRY_LOCK = threading.Lock()
_REGISTRY_SIZE = 256


def _remember(applied: Applied) -> None:
    with _REGISTRY_LOCK:
        _REGISTRY[applied.change_id] = applied
        while len(_REGISTRY) > _REGISTRY_SIZE:
            _REGISTRY.popitem(last=False)


def apply_actions(
    cache: Any,
    ticket_id: int,
    macro: Macro,
    agent_id: Optional[int],
    *,
    now: Optional[float] = None,
    hold_seconds: float = DEFAULT_HOLD_SECONDS,
) -> Optional[Applied]:
    """Queue all of the macro's ticket actions as one outbox change; None if nothing changes.

    `str(result)` / `result.change_id` is the outbox change id. Raises LookupError (ticket not
    cached) or ValueError (an action the cache refuses, assign_me without an agent id).
    """
    now = time.time() if now is None else float(now)
    ticket = cache.ticket(ticket_id)
    if ticket is None:
        raise LookupError(f"ticket {ticket_id} is not in the cache")
    skipped: list[str] = []
    known_queues = {q for q, _ in cache.queues()} or None  # an empty cache knows no queues: do not filter
    changes = plan_changes(ticket, macro.actions, agent_id, now, queues=known_queues, skipped=skipped)
    if not changes:
        return None
    previous = {k: (list(ticket.get("tags") or []) if k == "tags" else ticket.get(k)) for k in changes}
    change_id = cache.queue_update(ticket_id, changes)
    hold_until = 0.0
    if hold_seconds and hold_seconds > 0:
        hold_until = time.time() + float(hold_seconds)
        with write_tx(cache.engine) as conn:
            conn.exec_driver_sql(
                "UPDATE outbox SET next_attempt_at = max(next_attempt_at, ?) WHERE change_id = ?", (hold_until, change_id)
            )
    applied = Applied(change_id, ticket_id, macro.key, dict(changes), previous, ticket.get("version"), hold_until,
                      tuple(skipped))
    _remember(applied)
    return applied


def undo(cache: Any, applied: "Applied | str") -> dict[str, Any]:
    """Take back an applied macro before it was sent: delete its outbox row and restore the ticket
    fields, in one transaction. Returns the fields restored. Raises UndoError if it already left
    the outbox (sent, or refused) or the change id is unknown to this process."""
    if isinstance(applied, str):
        with _REGISTRY_LOCK:
            found = _REGISTRY.get(applied)
        if found is None:
            raise UndoError("nothing to undo: that change was not made by a macro in this session")
        applied = found
    restored: dict[str, Any] = {}
    with write_tx(cache.engine) as conn:
        row = conn.exec_driver_sql(
            "SELECT seq, base_version FROM outbox WHERE change_id = ?", (applied.change_id,)
        ).first()
        if row is None:
            raise UndoError("too late to undo: the change already went to the server")
        conn.exec_driver_sql("DELETE FROM outbox WHERE change_id = ?", (applied.change_id,))
        cols = ", ".join(applied.changes)
        current = conn.exec_driver_sql(
            f"SELECT version, {cols} FROM tickets WHERE id = ?", (applied.ticket_id,)
        ).mappings().first()
        if current is not None and (row[1] is None or current["version"] == row[1]):
            for key, value in applied.changes.items():
                now_value = orjson.loads(current[key]) if key == "tags" else current[key]
                if now_value == value:
                    restored[key] = applied.previous.get(key)
            if restored:
                sets = ", ".join(f"{k} = ?" for k in restored)
                values = [orjson.dumps(v).decode() if k == "tags" else v for k, v in restored.items()]
                conn.exec_driver_sql(f"UPDATE tickets SET {sets} WHERE id = ?", (*values, applied.ticket_id))
    with _REGISTRY_LOCK:
        _REGISTRY.pop(applied.change_id, None)
    return restored


# --- guard overrides -------------------------------------------------------------------------------


def override_log_path() -> Path:
    return locations.data_dir() / "overrides.log"


def _append_private(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)  # also tightens a file made readable by hand
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def override_note(entry: Mapping[str, Any], agent_name: str) -> str:
    """The internal note's text: who overrode the guard, why, and what it found."""
    what = "a BLOCKED reply" if entry.get("blocked") else "a reply with warnings"
    lines = [
        f"Reply guard overridden by {agent_name or 'an agent'}: sent {what}.",
        f"Reason: {entry.get('reason', '')}",
        "Findings:",
    ]
    for f in entry.get("findings") or []:
        lines.append(f"- {str(f.get('level', '')).upper()} {f.get('code', '')}: {f.get('reason', '')}")
    lines.append(f"Reply sha256: {entry.get('text_sha256', '')} · {entry.get('time', '')}")
    return "\n".join(lines)


def log_override(
    cache: Any,
    ticket_id: int,
    entry: Mapping[str, Any],
    agent: Mapping[str, Any],
    *,
    path: Optional[Path] = None,
) -> str:
    """Record a guard override: a JSON line in overrides.log (0600) and an internal note on the
    ticket for supervisors. `entry` is what `guard.record_override` returned; `agent` has id and
    name. Returns the note's outbox change id. The log line is written first, so a failing note
    (ticket gone from the cache) still leaves the audit trail, and the error is raised."""
    if not isinstance(entry, Mapping) or entry.get("kind") != "guard_override":
        raise ValueError("log_override needs the entry record_override returned")
    name = str(agent.get("name") or "")
    record = dict(entry)
    record.update(ticket_id=ticket_id, agent_name=name)
    if record.get("agent_id") is None:
        record["agent_id"] = agent.get("id")
    _append_private(path or override_log_path(), json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return cache.queue_reply(ticket_id, override_note(record, name), internal=True, agent_id=agent.get("id"), agent_name=name)


def describe_actions(actions: Iterable[Mapping[str, Any]]) -> list[str]:
    """One short line per action, for a preview: `status → pending`, `tags + deposit, memo`."""
    out: list[str] = []
    for a in actions:
        kind, value = a.get("type"), a.get("value")
        if kind == "set_status":
            out.append(f"status → {value}")
        elif kind == "set_priority":
            out.append(f"priority → {value}")
        elif kind == "set_queue":
            out.append(f"queue → {value}")
        elif kind == "add_tags":
            out.append("tags + " + ", ".join(map(str, value or [])))
        elif kind == "remove_tags":
            out.append("tags − " + ", ".join(map(str, value or [])))
        elif kind == "assign_me":
            out.append("assign to me")
        elif kind == "pending_reminder":
            hours = int(value) if float(value).is_integer() else value
            out.append(f"pending, reminder in {hours} h")
        else:
            out.append(str(kind))
    return out
