"""The template context of a macro, built from the local cache, and the guard's address lists.

`build_context(cache, ticket_id, agent=..., deposit=..., now=...)` gives the plain dict that
`agent_tui.macros.render.render` reads::

    ticket.{id, subject, status, priority, queue, channel, language, tags}
    customer.{name, first_name, tier, language, kyc_status}
    agent.{id, name, first_name}
    deposit.{txid, network, claimed_network, asset, amount, memo, confirmations,
             required_confirmations, verdict, explanation, recoverable_note}
    sla.{<metric>_due, <metric>_due_at, next_due, next_due_at, breached}   e.g. sla.first_reply_due

Values are plain data; a value the cache does not have is None, so rendering reports it as a
missing placeholder instead of sending a blank. `deposit` is filled from a deposit look-up
verdict (`Verdict.to_dict()`, agent_tui/chains/README_JSON.md) or from a flat dict with those
keys (a ledger row); `last_lookup(cache, ticket_id)` finds the newest cached verdict for a txid
quoted in the ticket's thread. SLA values are human text (`2026-11-23 01:00 UTC (in 45m 00s)`,
`breached 3m 10s ago`, `paused, 45m 00s left`, `achieved`) with the raw epoch in `*_due_at`.

`exchange_addresses(cache)` and `customer_addresses(cache, customer_id)` are what
`agent_tui.macros.guard.check_reply` needs to tell a known address from a foreign one;
`guard_reply(cache, ticket_id, text, allowed_domains=...)` runs the guard with both.

Pure: never imports textual, widgets or themes.
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Mapping, Optional

from agent_tui import sla as sla_mod
from agent_tui.macros.guard import GuardReport, check_reply
from agent_tui.textsafe import clean

__all__ = [
    "build_context",
    "customer_addresses",
    "deposit_context",
    "exchange_addresses",
    "guard_reply",
    "last_lookup",
    "sla_context",
]


def _text(value: Any) -> Optional[str]:
    """Customer-made text made inert (no escapes/bidi tricks); blank is None (= missing)."""
    if value is None:
        return None
    s = clean(str(value)).strip()
    return s or None


def _value(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    return value


def _first_name(name: Optional[str]) -> Optional[str]:
    if not name:
        return None
    parts = name.split()
    return parts[0] if parts else None


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


# --- SLA -----------------------------------------------------------------------------------------


def sla_context(metrics: Iterable[Mapping[str, Any]], now: float) -> dict[str, Any]:
    """Human text per SLA metric of a ticket (`ticket["sla"]` from the cache)."""
    out: dict[str, Any] = {}
    next_due: Optional[float] = None
    breached = False
    for raw in metrics or ():
        try:
            m = sla_mod.MetricState.from_dict(dict(raw))
        except (KeyError, TypeError):
            continue
        stage = sla_mod.metric_stage(m, now)
        name = m.metric
        if stage == "active" and m.due_at is not None:
            text = f"{_utc(m.due_at)} (in {sla_mod.format_countdown(m.due_at - now)})"
            next_due = m.due_at if next_due is None else min(next_due, m.due_at)
        elif stage == "breached":
            breached = True
            if m.due_at is not None and m.achieved_at is None:
                text = f"breached {sla_mod.format_countdown(now - m.due_at)} ago (was due {_utc(m.due_at)})"
                next_due = m.due_at if next_due is None else min(next_due, m.due_at)
            else:
                text = "breached"
        elif stage == "paused":
            text = f"paused, {sla_mod.format_countdown(m.remaining or 0)} left"
        else:
            text = "achieved"
        out[f"{name}_due"] = text
        out[f"{name}_due_at"] = m.due_at
    out["next_due_at"] = next_due
    if next_due is None:
        out["next_due"] = None
    elif next_due < now:
        out["next_due"] = f"breached {sla_mod.format_countdown(now - next_due)} ago"
    else:
        out["next_due"] = f"{_utc(next_due)} (in {sla_mod.format_countdown(next_due - now)})"
    out["breached"] = breached
    return out


# --- deposit -------------------------------------------------------------------------------------

_DEPOSIT_KEYS = (
    "txid", "network", "claimed_network", "asset", "amount", "memo", "confirmations",
    "required_confirmations", "verdict", "explanation", "recoverable_note",
)


def deposit_context(deposit: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """`deposit.*` from a look-up verdict dict (code, evidence, ...) or a flat dict of the same keys."""
    out: dict[str, Any] = dict.fromkeys(_DEPOSIT_KEYS)
    if not isinstance(deposit, Mapping):
        return out
    for key in _DEPOSIT_KEYS:  # a flat dict (a ledger row, or what the agent typed)
        if key in deposit and not isinstance(deposit[key], (dict, list)):
            out[key] = _value(deposit[key])
    evidence = deposit.get("evidence") if isinstance(deposit.get("evidence"), Mapping) else None
    if "code" in deposit or evidence is not None:  # a verdict
        out["verdict"] = _value(deposit.get("code")) or out["verdict"]
        out["network"] = _value(deposit.get("network")) or _value(deposit.get("claimed_network")) or out["network"]
        if evidence is not None:
            for key in ("asset", "amount", "memo", "confirmations", "required_confirmations"):
                if evidence.get(key) is not None:
                    out[key] = _value(evidence[key])
            if out["network"] is None:
                out["network"] = _value(evidence.get("network"))
    return out




def last_lookup(cache: Any, ticket_id: int) -> Optional[dict]:
    """The newest cached look-up verdict for a txid quoted in this ticket's thread, or None."""
    from agent_tui.chains.extract import txids

    candidates: set[str] = set()
    for message in cache.thread(ticket_id):
        for found in txids(message.get("body") or ""):
            bare = found.value[2:] if found.value.startswith("0x") else found.value
            candidates.update((bare, "0x" + bare))
    if not candidates:
        return None
    return cache.latest_lookup(sorted(candidates)[:200])


# --- the whole context ---------------------------------------------------------------------------


def build_context(
    cache: Any,
    ticket_id: int,
    *,
    agent: Mapping[str, Any],
    deposit: Optional[Mapping[str, Any]] = None,
    now: float,
) -> dict[str, Any]:
    """The template context for one ticket. Raises LookupError if the ticket is not cached."""
    t = cache.ticket(ticket_id)
    if t is None:
        raise LookupError(f"ticket {ticket_id} is not in the cache")
    c = cache.customer(t["requester_id"]) or {}
    customer_name = _text(c.get("name"))
    agent = agent or {}
    agent_name = _text(agent.get("name"))
    return {
        "ticket": {
            "id": t["id"],
            "subject": _text(t.get("subject")),
            "status": t.get("status"),
            "priority": t.get("priority"),
            "queue": t.get("queue"),
            "channel": t.get("channel"),
            "language": t.get("language"),
            "tags": list(t.get("tags") or []),
        },
        "customer": {
            "name": customer_name,
            "first_name": _text(c.get("first_name")) or _first_name(customer_name),
            "tier": c.get("tier"),
            "language": c.get("language") or t.get("language"),
            "kyc_status": c.get("kyc_status"),
        },
        "agent": {
            "id": agent.get("id"),
            "name": agent_name,
            "first_name": _text(agent.get("first_name")) or _first_name(agent_name),
        },
        "deposit": deposit_context(deposit),
        "sla": sla_context(t.get("sla") or [], now),
    }


# --- what the guard needs ------------------------------------------------------------------------

_ADDRESS_KEYS = ("exchange_addresses", "published_addresses", "hot_wallets", "addresses")


def exchange_addresses(cache: Any) -> set[str]:
    """Addresses the exchange publishes: listed token contracts from the asset config, plus any
    `exchange_addresses` / `published_addresses` / `hot_wallets` lists a network entry carries."""
    out: set[str] = set()
    for net in (cache.asset_config() or {}).get("networks", []):
        if not isinstance(net, Mapping):
            continue
        for asset in net.get("assets") or []:
            if isinstance(asset, Mapping) and isinstance(asset.get("contract"), str) and asset["contract"].strip():
                contract = asset["contract"].strip()
                out.add(contract.split(".", 1)[-1] if net.get("network") == "xrp" else contract)  # CUR.issuer
        for key in _ADDRESS_KEYS:
            for a in net.get(key) or []:
                a = a.get("address") if isinstance(a, Mapping) else a
                if isinstance(a, str) and a.strip():
                    out.add(a.strip())
    return out


def customer_addresses(cache: Any, customer_id: Optional[int]) -> set[str]:
    """The customer's own deposit addresses (and XRP memo-less address strings)."""
    if customer_id is None:
        return set()
    c = cache.customer(customer_id) or {}
    return {a["address"].strip() for a in c.get("addresses", []) if isinstance(a.get("address"), str) and a["address"].strip()}


def guard_reply(
    cache: Any,
    ticket_id: int,
    text: str,
    *,
    allowed_domains: Iterable[str] = (),
    lexicon: Optional[Mapping[str, Any]] = None,
) -> GuardReport:
    """Run the reply guard on `text` for this ticket's customer. Raises LookupError for an unknown ticket."""
    t = cache.ticket(ticket_id)
    if t is None:
        raise LookupError(f"ticket {ticket_id} is not in the cache")
    return check_reply(
        text,
        customer_addresses=customer_addresses(cache, t["requester_id"]),
        exchange_addresses=exchange_addresses(cache),
        allowed_domains=list(allowed_domains or ()),
        lexicon=lexicon,
    )
