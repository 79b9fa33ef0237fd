"""Deterministic sample queue rows for tests, snapshots, benchmarks and a demo screen.

`sample_rows(n, now)` returns the same rows for the same arguments: a mix of every SLA state
(ok, at risk, breached, paused, none), priorities, tiers (VIP included), channels, languages,
assigned and unassigned tickets, and ages. No Textual import.
"""

from __future__ import annotations

import random

from agent_tui.rows import QueueRow
from agent_tui.vocabulary import NO_DUE

__all__ = ["sample_rows"]

_SUBJECTS = (
    "Deposit not credited after 12 confirmations",
    "Withdrawal stuck in pending review",
    "2FA reset request - lost phone",
    "Wrong network selected for USDT transfer",
    "KYC documents rejected, please re-check",
    "Missing memo/tag on XRP deposit",
    "API key permissions question",
    "Card payment declined twice",
    "Account locked after password change",
    "Staking rewards not shown in balance",
)
_NAMES = (
    "Ana Souza", "Björn Lindqvist", "Chen Wei", "Dmitri Volkov", "Emeka Okafor",
    "Fatima Zahra", "Giulia Rossi", "Hiro Tanaka", "Isabel García", "Jonas Weber",
)
_AGENTS = ("", "Alice Moreau", "Bram de Vries", "", "Carla Nunes")
_STATUSES = ("new", "open", "pending", "on_hold", "open")
_PRIORITIES = ("normal", "high", "low", "urgent", "normal", "high")
_CHANNELS = ("chat", "email", "telegram", "phone", "web")
_LANGUAGES = ("en", "pt-BR", "de", "es", "ja", "en")
_TIERS = ("standard", "silver", "standard", "gold", "standard", "vip")


def sample_rows(n: int, now: float, seed: int = 7, start_id: int = 10_001) -> list[QueueRow]:
    """`n` rows in display order (soonest deadline first, then no-clock tickets)."""
    rnd = random.Random(seed)
    rows: list[QueueRow] = []
    for i in range(n):
        status = _STATUSES[i % len(_STATUSES)]
        paused = status in ("pending", "on_hold")
        kind = i % 9
        if paused:
            due = NO_DUE
        elif kind == 0:
            due = now - rnd.randint(30, 5 * 3600)  # breached
        elif kind in (1, 2):
            due = now + rnd.randint(5, 15 * 60)  # at risk
        elif kind == 8:
            due = NO_DUE  # no policy
        else:
            due = now + rnd.randint(15 * 60 + 1, 3 * 86400)
        rows.append(
            QueueRow(
                id=start_id + i,
                subject=f"{_SUBJECTS[rnd.randrange(len(_SUBJECTS))]} ({i})",
                queue="deposits",
                status=status,
                priority=_PRIORITIES[rnd.randrange(len(_PRIORITIES))],
                channel=_CHANNELS[i % len(_CHANNELS)],
                language=_LANGUAGES[rnd.randrange(len(_LANGUAGES))],
                customer_name=_NAMES[rnd.randrange(len(_NAMES))],
                customer_tier=_TIERS[rnd.randrange(len(_TIERS))],
                assignee_id=None,
                assignee_name=_AGENTS[i % len(_AGENTS)],
                sla_due=float(due),
                sla_paused=paused,
                updated_at=float(now - rnd.randint(0, 6 * 86400)),
                version=1,
            )
        )
    rows.sort(key=lambda r: (r.sla_paused, r.sla_due, r.id))
    for row in rows:
        if row.assignee_name:
            row.assignee_id = 1 + _AGENTS.index(row.assignee_name)
    return rows
