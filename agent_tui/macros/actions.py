"""What a macro's actions do, in plain data: the ticket fields they change (`plan_changes`), one
line per action for a preview (`describe_actions`), and which macros sit on keys 1-9
(`favourites`). Pure: no cache, no SQL, no Textual; the picker and the app's services both use it.

    set_status v        -> status = v
    set_priority v      -> priority = v
    set_queue v         -> queue = v
    add_tags [..]       -> tags = current tags + the new ones (order kept, no duplicates)
    remove_tags [..]    -> tags = current tags without them
    assign_me           -> assignee_id = the agent's id
    pending_reminder h  -> status = pending, and the tag `reminder:<UTC time now + h hours>`
                           (e.g. `reminder:2026-11-23T04:00Z`, replacing an older reminder tag)
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Collection, Iterable, Mapping, Optional, Sequence

from agent_tui.macros.model import Macro

__all__ = ["FAVOURITE_SLOTS", "REMINDER_PREFIX", "describe_actions", "favourites", "plan_changes", "reminder_tag"]

FAVOURITE_SLOTS = 9
REMINDER_PREFIX = "reminder:"


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
    value: Any  # what each action type takes is checked where the macro is read (model.py)
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


def describe_actions(actions: Iterable[Mapping[str, Any]]) -> list[str]:
    """One short line per action, for a preview: `status → pending`, `tags + deposit, memo`."""
    out: list[str] = []
    value: Any
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
