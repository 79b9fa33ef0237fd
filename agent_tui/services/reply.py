"""What sending a reply asks of the cache: the guard's inputs, the collision checks, and the send
itself with the macro actions waiting for it. Call these from a thread (the app's writer for the
writes), never from the UI's event loop. No Textual here.

The ticket screen keeps `seen`, the (assignee, message count) the agent had in front of them; a
send compares the cache with it (`collisions`) and asks before going over someone else's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

from agent_tui.textsafe import clean

Seen = tuple[Optional[int], int]  # (assignee id, number of messages in the thread)


def state_of(ticket: Optional[Mapping[str, Any]], thread: list) -> Seen:
    """The (assignee, message count) a ticket screen compares with when the agent sends."""
    return (ticket["assignee_id"] if ticket else None, len(thread))


def changes_since(seen: Optional[Seen], ticket: Optional[Mapping[str, Any]], thread: list[dict],
                  agents: Mapping[int, Mapping[str, Any]], me: Optional[int]) -> list[str]:
    """What others changed on the ticket since `seen`: new messages from someone else, or a new
    assignee who is not us. Our own claims and edits don't count. Nothing seen yet: nothing to compare."""
    if seen is None:
        return []
    seen_assignee, seen_count = seen
    out = []
    for m in thread[seen_count:]:
        if m["kind"] == "customer" or m["author_id"] != me:
            who = m["author_name"] or ("the customer" if m["kind"] == "customer" else "someone")
            out.append(f"a new {'customer message' if m['kind'] == 'customer' else m['kind']} from {clean(who)}")
    assignee = ticket["assignee_id"] if ticket else None
    if assignee != seen_assignee and assignee not in (None, me):
        name = agents.get(assignee, {}).get("name", "another agent")
        out.append(f"it is now assigned to {clean(name)}")
    return out


@dataclass(frozen=True)
class Collisions:
    """What stands between a reply and sending it, read from the cache at one moment."""

    ticket: Optional[dict]  # None: deleted or merged on the server meanwhile
    state: Seen = (None, 0)
    changed: list[str] = field(default_factory=list)  # since the agent last looked
    claimed_by: Optional[str] = None  # someone else holds the ticket
    others: list[str] = field(default_factory=list)  # other agents who have it open


def collisions(cache: Any, ticket_id: int, seen: Optional[Seen], me: Optional[int]) -> Collisions:
    ticket = cache.ticket(ticket_id)
    if ticket is None:
        return Collisions(None)
    thread = cache.thread(ticket_id)
    agents = cache.agents()
    claimed_by = None
    if ticket["assignee_id"] not in (None, me):
        claimed_by = clean(agents.get(ticket["assignee_id"], {}).get("name", "another agent"))
    others = [clean(a["name"]) for a in agents.values() if a.get("current_ticket_id") == ticket["id"] and a["id"] != me]
    return Collisions(ticket, state_of(ticket, thread), changes_since(seen, ticket, thread, agents, me), claimed_by, others)


def guard(cache: Any, ticket_id: int, body: str, *, allowed_domains: Iterable[str] = (),
          lexicon: Optional[Mapping[str, Any]] = None):
    """The reply guard's report for this ticket's customer, or None if the ticket is gone."""
    from agent_tui.macros.context import guard_reply

    try:
        return guard_reply(cache, ticket_id, body, allowed_domains=allowed_domains, lexicon=lexicon)
    except LookupError:
        return None


@dataclass(frozen=True)
class Sent:
    changes: dict  # the macro actions' changes that went out with the reply ({} if none)
    state: Seen  # what the agent has in front of them now


def send(cache: Any, ticket_id: int, body: str, *, internal: bool, pending: Optional[Mapping[str, Any]],
         me: Optional[int], name: str, macro_id: Optional[str], now: float) -> Sent:
    """Queue the reply (or note) with the changes its waiting macro actions plan from the ticket as it
    is now, and drop the draft: one transaction in the cache. Raises what the cache or the plan raise."""
    from agent_tui.macros.store import plan_changes

    changes: dict = {}
    if pending and not internal:
        current = cache.ticket(ticket_id)
        if current is None:
            raise LookupError(f"ticket #{ticket_id} is gone")
        changes = plan_changes(current, pending["actions"], me, now, queues={q for q, _ in cache.queues()} or None)
    cache.queue_reply(ticket_id, body, internal=internal, agent_id=me, agent_name=name, macro_id=macro_id,
                      changes=changes or None)
    return Sent(changes, state_of(cache.ticket(ticket_id), cache.thread(ticket_id)))
