"""The macro picker's inputs for one ticket, read from the cache (in a worker thread, never on the
event loop): the template context, the macros the agent may use, and the look-up verdict's macro.

Never imports textual, widgets or themes.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from agent_tui.macros.context import build_context, last_lookup
from agent_tui.macros.store import load_macros

__all__ = ["picker_inputs"]


def picker_inputs(cache: Any, ticket_id: int, *, agent: Mapping[str, Any], now: float,
                  deposit: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """Keyword arguments for `widgets.macro_picker.MacroPicker` on this ticket: `context`, `macros`,
    `suggested` (the verdict's macro; the newest cached verdict for a txid in the thread when no
    `deposit` is given) and `agent_id`. Raises LookupError if the ticket is not cached."""
    if deposit is None:
        deposit = last_lookup(cache, ticket_id)
    context = build_context(cache, ticket_id, agent=agent, deposit=deposit, now=now)
    suggested = deposit.get("macro") if isinstance(deposit, Mapping) else None
    return {"context": context, "macros": load_macros(cache, agent.get("id")),
            "suggested": suggested if isinstance(suggested, str) else None, "agent_id": agent.get("id")}
