"""The kinds of change the outbox holds, and a change said in a few words for the agent. Pure:
the sync engine, the status strip and the refusals dialog share it without importing HTTP.
"""

from __future__ import annotations

import orjson

__all__ = ["MACRO_KINDS", "describe_change", "payload_of"]

MACRO_KINDS = ("macro", "macro_update", "macro_delete")


def payload_of(change: dict) -> dict:
    """A change's payload as a dict, whether the row holds it decoded or as JSON text ({} if unreadable)."""
    payload = change.get("payload")
    if isinstance(payload, (str, bytes)):
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError:
            payload = {}
    return payload if isinstance(payload, dict) else {}


def describe_change(change: dict) -> str:
    """A queued or refused change in a few words: `reply on #12`, `edit of macro 'Ask for the screenshot'`."""
    kind = change.get("kind")
    payload = payload_of(change)
    if kind in MACRO_KINDS:
        what = {"macro": "new macro", "macro_update": "edit of macro", "macro_delete": "deletion of macro"}[kind]
        name = payload.get("title") or payload.get("key") or payload.get("id") or "?"
        return f"{what} {str(name)!r}"
    return f"{kind} on #{change.get('ticket_id')}"
