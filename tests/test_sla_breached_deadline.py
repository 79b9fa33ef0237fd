"""A breached deadline never moves (issue 19), checked over random tickets on random policies.

A ticket is replayed the way a desk sees it: its events arrive one by one, and between two
events the SLA is evaluated at a few instants (`now` only moves forward). Once a metric is
reported breached with a deadline D, every later evaluation that reports it breached with a
deadline reports D: through pauses of any length (also of no length), through solved ->
reopened, on business-hours and wall-clock policies, around DST changes. The ticket keeps
sorting by when it breached and its countdown never jumps.

`breached_at` is the ticket's earliest miss of the metric: once set it never changes (a miss
is never taken back). first_reply and resolution have one cycle, so once breached they stay
breached, with D their breached_at. next_reply and periodic_update report their latest cycle,
so a new cycle (and only something that can start one) may leave the breached stage and
bring a new deadline: a customer message starts a next_reply cycle, an agent reply a
periodic_update cycle, a reopen either.

One fixed seed, so a failure is reproducible; the failing ticket is printed in the message.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone

from agent_tui.sla import (
    CLOSED_STATUSES,
    METRICS,
    ZENDESK_METRICS,
    Calendar,
    Policy,
    Target,
    TicketEvent,
    evaluate,
)
from agent_tui.vocabulary import STATUSES

SEED = 19
TICKETS = 3000
SINGLE_CYCLE = ("first_reply", "resolution")
WEEKDAYS_9_17 = {d: [("09:00", "17:00")] for d in range(5)}
CALENDARS = (
    Calendar(),  # 24/7
    Calendar("UTC", WEEKDAYS_9_17),
    Calendar("UTC", WEEKDAYS_9_17, frozenset({"2026-03-09", "2026-11-02"})),
    Calendar("Europe/Berlin", {0: [("09:00", "12:00"), ("13:00", "18:00")], 2: [("08:00", "16:00")], 5: [("22:00", "06:00")]}),
    Calendar("Europe/Berlin", {d: [("22:00", "06:00")] for d in range(7)}),  # night shifts
    Calendar("America/New_York", WEEKDAYS_9_17),
    Calendar("America/New_York", {6: [("02:30", "05:00")], 0: [("09:00", "10:00")]}),  # starts in the skipped hour
    Calendar("Australia/Lord_Howe", {d: [("00:00", "24:00")] for d in range(7)}, frozenset({"2026-04-05"})),
)
PAUSE_CHOICES = ((), ("pending",), ("on_hold",), ("pending", "on_hold"))
MINUTES = (1, 5, 30, 60, 90, 240, 480)
# DST changes of the calendars' zones in 2026, and a plain week: tickets start around them
STARTS = (
    datetime(2026, 3, 2, 8, tzinfo=timezone.utc),
    datetime(2026, 3, 6, 15, tzinfo=timezone.utc),  # New York springs forward Sun 8 Mar
    datetime(2026, 3, 27, 20, tzinfo=timezone.utc),  # Berlin springs forward Sun 29 Mar
    datetime(2026, 4, 4, 10, tzinfo=timezone.utc),  # Lord Howe falls back half an hour Sun 5 Apr
    datetime(2026, 10, 23, 14, tzinfo=timezone.utc),  # Berlin falls back Sun 25 Oct
    datetime(2026, 10, 30, 19, tzinfo=timezone.utc),  # New York falls back Sun 1 Nov
)
# gaps between events: none (a pause of no length), seconds, minutes, hours, days
GAPS = ((0, 0), (1, 59), (60, 3600), (3600, 6 * 3600), (6 * 3600, 3 * 86400))
KINDS = ("status", "status", "status", "customer_message", "agent_reply", "internal_note")


def random_policy(rng: random.Random) -> Policy:
    metrics = [m for m in METRICS if rng.random() < 0.7] or [rng.choice(METRICS)]
    targets = []
    pauses = {}
    for m in metrics:
        name = m
        zendesk = [z for z, (ours, _) in ZENDESK_METRICS.items() if ours == m]
        if rng.random() < 0.3:
            name = rng.choice(zendesk)  # the Zendesk metric's own pausing
        elif rng.random() < 0.7:
            pauses[m] = rng.choice(PAUSE_CHOICES)
        targets.append(Target(name, rng.choice(MINUTES), business_hours=rng.random() < 0.6))
    return Policy(1, "random", 0, targets=tuple(targets), calendar=rng.choice(CALENDARS), pause_statuses=pauses)


def random_events(rng: random.Random) -> list[TicketEvent]:
    t = rng.choice(STARTS).timestamp() + rng.randrange(0, 2 * 86400, 60)
    events = [TicketEvent(t, "created")]
    for _ in range(rng.randrange(1, 14)):
        lo, hi = rng.choice(GAPS)
        t += rng.randint(lo, hi)
        kind = rng.choice(KINDS)
        events.append(TicketEvent(t, kind, rng.choice(STATUSES) if kind == "status" else None))
    return events


def may_start_a_cycle(ev: TicketEvent, solved: bool) -> set[str]:
    """The metrics a new cycle of which this event may start (a superset is harmless)."""
    if ev.kind == "customer_message":
        return {"next_reply"}
    if ev.kind == "agent_reply":
        return {"periodic_update"}
    if ev.kind == "status" and solved and ev.status not in CLOSED_STATUSES:  # a reopen
        return {"next_reply", "periodic_update"}
    return set()


def check_ticket(rng: random.Random, policy: Policy, events: list[TicketEvent]) -> list[str]:
    """Replay `events` one by one and return what broke the rule (empty when nothing did)."""
    due: dict[str, float] = {}  # the deadline a breached cycle showed
    breached_at: dict[str, float] = {}
    stage: dict[str, str] = {}
    solved = False
    problems = []
    for k, ev in enumerate(events):
        restarted = may_start_a_cycle(ev, solved)
        if ev.kind == "status" and ev.status:
            solved = ev.status in CLOSED_STATUSES
        for metric in restarted:
            due.pop(metric, None)
        nxt = events[k + 1].at if k + 1 < len(events) else ev.at + rng.choice((3600, 86400, 5 * 86400))
        nows = sorted({ev.at, nxt, *(rng.uniform(ev.at, nxt) for _ in range(2))})
        for now in nows:
            result = evaluate(policy, events[: k + 1], now)
            for m in result.metrics:
                where = f"{m.metric} after event {k} at now={now}: {m}"
                if m.metric in breached_at and m.breached_at != breached_at[m.metric]:
                    problems.append(f"breached_at changed from {breached_at[m.metric]}: {where}")
                if stage.get(m.metric) == "breached" and m.stage != "breached" and m.metric not in restarted:
                    problems.append(f"un-breached: {where}")
                if m.breached_at is not None:
                    breached_at.setdefault(m.metric, m.breached_at)
                stage[m.metric] = m.stage
                if m.stage != "breached" or m.due_at is None:
                    continue
                if m.metric in SINGLE_CYCLE and m.due_at != m.breached_at:
                    problems.append(f"due is not the breach: {where}")
                if due.setdefault(m.metric, m.due_at) != m.due_at:
                    problems.append(f"due moved from {due[m.metric]}: {where}")
            if problems:
                return problems
            restarted = set()  # only the first evaluation after the event may see a new cycle
    return problems


def test_a_breached_deadline_never_moves() -> None:
    rng = random.Random(SEED)
    failures = []
    for n in range(TICKETS):
        policy = random_policy(rng)
        events = random_events(rng)
        problems = check_ticket(rng, policy, events)
        if problems:
            failures.append(f"ticket {n}: {problems[0]}\n  policy={policy}\n  events={events}")
    assert not failures, f"{len(failures)} of {TICKETS} tickets broke the rule; the first:\n{failures[0]}"
