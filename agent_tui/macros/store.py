"""Macros and the local cache: loading, applying a macro of actions alone with undo, and logging
a guard override. What the actions change is `macros.actions` (pure); a macro with text sends its
actions with the reply instead (`Cache.queue_reply(changes=...)`), never on its own.

Applying (`apply_actions`) turns ALL of a macro's ticket actions into ONE outbox change
(`Cache.queue_update`), so the server sees one PATCH and the agent one undo step. The
pending_reminder action's time rides on the ticket as a tag (`reminder:2026-11-23T04:00Z`): the
backend has no reminder field, and a view or a supervisor can filter on a tag.

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

import json
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from agent_tui import locations
from agent_tui.macros.actions import (  # noqa: F401  (re-exported: the store's callers used them from here)
    FAVOURITE_SLOTS,
    REMINDER_PREFIX,
    describe_actions,
    favourites,
    plan_changes,
    reminder_tag,
)
from agent_tui.macros.model import Macro, MacroError, visible_macros

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

DEFAULT_HOLD_SECONDS = 5.0


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
        cache.hold_change(change_id, hold_until)
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
    restored = cache.undo_update(applied.change_id, applied.ticket_id, applied.changes, applied.previous)
    if restored is None:
        raise UndoError("too late to undo: the change already went to the server")
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
