"""A deposit verdict drawn for the agent (Rich renderables, no markup) and written as an internal
note: headline, explanation, policy, the ledger line, evidence, transfers and the networks probed.
Chain data is hostile: everything is built as Text through agent_tui.textsafe."""

from __future__ import annotations

from typing import Any, Optional

from rich.console import Group
from rich.table import Table
from rich.text import Text

from agent_tui.chains import Verdict
from agent_tui.textsafe import one_line, safe_text

__all__ = ["CODE_STYLE", "EVIDENCE_ROWS", "ledger_line", "note_text", "verdict_renderable"]


# code -> style of its headline: settled good, wait, act, dead end
CODE_STYLE = {
    "credited": "bold green",
    "pending": "bold yellow", "insufficient_confirmations": "bold yellow",
    "needs_manual_credit": "bold magenta", "missing_memo": "bold magenta", "wrong_memo": "bold magenta",
    "wrong_network": "bold magenta", "unsupported_token": "bold magenta",
    "check_ledger": "bold yellow",
    "failed": "bold red", "dropped": "bold red", "wrong_address": "bold red", "below_minimum": "bold red", "not_found": "bold red",
}

EVIDENCE_ROWS = (
    ("network", "network"), ("chain_id", "chain id"), ("status", "status"), ("block", "block"), ("tip", "tip"),
    ("confirmations", "confirmations"), ("asset", "asset"), ("amount", "amount"), ("min_deposit", "minimum"),
    ("contract", "contract"), ("recipient", "recipient"), ("memo", "memo / tag"), ("expected_memo", "customer's tag"),
    ("index", "output/log index"), ("failure_reason", "failure"), ("ledger_status", "ledger"),
)


def ledger_line(v: Verdict) -> str:
    """One line on whether the verdict consulted the deposit ledger (and where it came from)."""
    if not v.ledger_checked:
        why = f" ({one_line(v.ledger_note, 200)})" if v.ledger_note else ""
        return f"Ledger NOT checked{why}: check the back office before crediting anything."
    return "Ledger checked" + (f": {one_line(v.ledger_note, 200)}" if v.ledger_note else "") + "."


def _value(field: str, v: Verdict) -> Optional[str]:
    e = v.evidence
    raw = getattr(e, field, None)
    if field == "confirmations":
        if raw is None:
            return None
        return f"{raw}" + (f" of {e.required_confirmations} required" if e.required_confirmations else "")
    if raw is None or raw == "":
        return None
    return one_line(str(raw), 120)


def verdict_renderable(v: Verdict) -> Group:
    """The verdict as the agent reads it: headline, explanation, policy, evidence, transfers, probes. No markup."""
    head = Text()
    head.append(one_line(v.code, 40), style=CODE_STYLE.get(v.code, "bold"))
    head.append("   final" if v.final else "   not final yet (may change)", style="dim")
    where = Text("txid ", style="dim")
    where.append(one_line(v.txid or "?", 100))
    if v.network:
        where.append(" on ", style="dim")
        where.append(one_line(v.network, 30))
    if v.claimed_network and v.claimed_network != v.network:
        where.append(f"  (customer said {one_line(v.claimed_network, 30)})", style="dim")
    expl = safe_text(one_line(v.explanation))
    rec = Text("Recoverable: ", style="bold")
    rec.append("yes" if v.recoverable else "no", style="bold green" if v.recoverable else "bold red")
    rec.append(" · " + one_line(v.recoverable_note))
    macro = Text("Suggested macro: ", style="bold")
    macro.append(one_line(v.macro, 80))
    ledger = Text(ledger_line(v), style="dim" if v.ledger_checked else "bold yellow")

    ev = Table(show_header=False, box=None, padding=(0, 1), expand=False)
    ev.add_column(style="dim", no_wrap=True)
    ev.add_column(overflow="fold")
    for field, label in EVIDENCE_ROWS:
        val = _value(field, v)
        if val is not None:
            ev.add_row(Text(label), Text(val))

    parts: list[Any] = [head, where, Text(""), expl, Text(""), rec, macro, ledger, Text(""), Text("Evidence", style="bold"), ev]
    if v.transfers:
        tt = Table(box=None, padding=(0, 1), show_edge=False, header_style="dim")
        for col in ("#", "recipient", "amount", "asset / contract", "memo"):
            tt.add_column(col, overflow="fold")
        for t in v.transfers[:12]:
            # the core lists transfers as the chain gave them: a token's amount may be in raw units only
            amount = t.get("amount") if t.get("amount") is not None else (f"{t['raw_amount']} raw units" if t.get("raw_amount") is not None else None)
            recipient = f"{t.get('recipient')} (change)" if t.get("change") else t.get("recipient")  # back to the sender
            cells = (t.get("index"), recipient, amount, t.get("asset") or t.get("contract"), t.get("memo"))
            tt.add_row(*(Text(one_line(str(c), 70) if c is not None and c != "" else "—") for c in cells))
        parts += [Text(""), Text(f"Transfers ({len(v.transfers)})", style="bold"), tt]
        if len(v.transfers) > 12:
            parts.append(Text(f"… {len(v.transfers) - 12} more", style="dim"))
    if v.probes:
        pr = Text("Networks probed: ", style="bold")
        pr.append(one_line(", ".join(f"{n} {s}" for n, s in sorted(v.probes.items())), 400))
        parts += [Text(""), pr]
    return Group(*parts)


def note_text(v: Verdict) -> str:
    """The internal note that records a look-up on the ticket: plain text, one fact a line."""
    lines = [f"Deposit look-up: {one_line(v.code, 40)}", one_line(v.explanation),
             f"Recoverable: {'yes' if v.recoverable else 'no'}. {one_line(v.recoverable_note)}",
             f"Suggested macro: {one_line(v.macro, 80)}", ledger_line(v)]
    where = f"Txid: {one_line(v.txid or '?', 100)}"
    if v.network:
        where += f" on {one_line(v.network, 30)}"
    if v.claimed_network and v.claimed_network != v.network:
        where += f" (customer said {one_line(v.claimed_network, 30)})"
    lines.append(where)
    ev = [(label, _value(field, v)) for field, label in EVIDENCE_ROWS]
    ev = [(label, val) for label, val in ev if val is not None]
    if ev:
        lines.append("Evidence:")
        lines += [f"  {label}: {val}" for label, val in ev]
    if v.probes:
        lines.append("Probed: " + one_line(", ".join(f"{n} {s}" for n, s in sorted(v.probes.items())), 400))
    lines.append("Final (chain facts settled)." if v.final else "Not final yet: the chain may still change this.")
    return "\n".join(lines)
