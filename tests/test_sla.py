"""Table-driven tests for agent_tui.sla. Every expected value is an exact instant worked out
by hand and written as a datetime in UTC (local times are in the comments)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from agent_tui.sla import (
    AT_RISK_SECONDS,
    DEFAULT_PAUSE_STATUSES,
    Calendar,
    MetricState,
    Policy,
    SlaResult,
    Target,
    TicketEvent,
    countdown_state,
    describe_metric,
    evaluate,
    match_policy,
    metric_stage,
    pause_text,
    policy_from_dict,
    policy_to_dict,
    zendesk_metric,
)
from storage.models import NO_DUE


def utc(*args: int) -> float:
    """datetime(...) in UTC as epoch seconds."""
    return datetime(*args, tzinfo=timezone.utc).timestamp()


H = 3600.0
WEEKDAYS_9_17 = {d: [("09:00", "17:00")] for d in range(5)}

UTC_OFFICE = Calendar("UTC", WEEKDAYS_9_17)
BERLIN_OFFICE = Calendar("Europe/Berlin", WEEKDAYS_9_17)
NEW_YORK_OFFICE = Calendar("America/New_York", WEEKDAYS_9_17)
UTC_OFFICE_XMAS = Calendar("UTC", WEEKDAYS_9_17, frozenset({"2026-12-25"}))
BERLIN_NIGHTS = Calendar("Europe/Berlin", {d: [("22:00", "06:00")] for d in range(7)})
BERLIN_ALWAYS = Calendar("Europe/Berlin")  # 24/7
BERLIN_ALWAYS_HOLIDAY = Calendar("Europe/Berlin", holidays=frozenset({"2026-03-29"}))
SPLIT_SHIFT = Calendar("UTC", {0: [("13:00", "17:00"), ("08:00", "12:00")]})  # Mondays, given out of order
OVERLAPPING = Calendar("UTC", {0: [("08:00", "12:00"), ("10:00", "14:00")]})
# Ranges starting in the hour New York skips on Sunday 8 Mar 2026 (02:00 EST -> 03:00 EDT)
NY_SKIPPED_RANGE = Calendar("America/New_York", {6: [("02:30", "03:00")], 0: [("09:00", "10:00")]})
NY_FROM_SKIPPED = Calendar("America/New_York", {6: [("02:30", "05:00")]})


# 2026-03-02 is a Monday; 2026-03-06 a Friday. Europe/Berlin: CET (+1) until 2026-03-29 02:00,
# CEST (+2) until 2026-10-25 03:00. America/New_York: EST (-5) until 2026-03-08, EDT (-4)
# until 2026-11-01.
ADD_CASES = [
    # id, calendar, start, business seconds, expected wall-clock instant
    ("within-one-day", UTC_OFFICE, utc(2026, 3, 2, 10), 2 * H, utc(2026, 3, 2, 12)),
    ("ends-exactly-at-close", UTC_OFFICE, utc(2026, 3, 2, 15), 2 * H, utc(2026, 3, 2, 17)),
    ("spans-the-night", UTC_OFFICE, utc(2026, 3, 2, 16), 2 * H, utc(2026, 3, 3, 10)),
    ("starts-before-opening", UTC_OFFICE, utc(2026, 3, 2, 6), 30 * 60, utc(2026, 3, 2, 9, 30)),
    ("starts-after-closing", UTC_OFFICE, utc(2026, 3, 2, 20), 1 * H, utc(2026, 3, 3, 10)),
    ("friday-to-monday", UTC_OFFICE, utc(2026, 3, 6, 16), 2 * H, utc(2026, 3, 9, 10)),
    ("starts-on-saturday", UTC_OFFICE, utc(2026, 3, 7, 12), 1 * H, utc(2026, 3, 9, 10)),
    ("a-full-week-of-hours", UTC_OFFICE, utc(2026, 3, 2, 9), 40 * H, utc(2026, 3, 6, 17)),
    ("zero-seconds-is-start", UTC_OFFICE, utc(2026, 3, 7, 12), 0.0, utc(2026, 3, 7, 12)),
    # Christmas 2026 is a Friday: Thursday 16:00 + 2 h skips Friday and the weekend.
    ("skips-a-holiday", UTC_OFFICE_XMAS, utc(2026, 12, 24, 16), 2 * H, utc(2026, 12, 28, 10)),
    ("without-the-holiday", UTC_OFFICE, utc(2026, 12, 24, 16), 2 * H, utc(2026, 12, 25, 10)),
    # Berlin, spring forward: Fri 27 Mar 16:00 CET (15:00Z) + 2 h -> Mon 30 Mar 10:00 CEST (08:00Z)
    ("berlin-spring-forward", BERLIN_OFFICE, utc(2026, 3, 27, 15), 2 * H, utc(2026, 3, 30, 8)),
    # Berlin, fall back: Fri 23 Oct 16:00 CEST (14:00Z) + 2 h -> Mon 26 Oct 10:00 CET (09:00Z)
    ("berlin-fall-back", BERLIN_OFFICE, utc(2026, 10, 23, 14), 2 * H, utc(2026, 10, 26, 9)),
    # New York: Fri 6 Mar 16:00 EST (21:00Z) + 2 h -> Mon 9 Mar 10:00 EDT (14:00Z)
    ("new-york-spring-forward", NEW_YORK_OFFICE, utc(2026, 3, 6, 21), 2 * H, utc(2026, 3, 9, 14)),
    # New York: Fri 30 Oct 16:00 EDT (20:00Z) + 2 h -> Mon 2 Nov 10:00 EST (15:00Z)
    ("new-york-fall-back", NEW_YORK_OFFICE, utc(2026, 10, 30, 20), 2 * H, utc(2026, 11, 2, 15)),
    # Night shift 22:00-06:00 Berlin. Sat 28 Mar 22:00 CET (21:00Z) runs to Sun 06:00 CEST
    # (04:00Z): 7 real hours. 8 h of business time need one more hour of Sunday's shift,
    # which starts 22:00 CEST (20:00Z).
    ("night-shift-over-spring-forward", BERLIN_NIGHTS, utc(2026, 3, 28, 21), 8 * H, utc(2026, 3, 29, 21)),
    # Sat 24 Oct 22:00 CEST (20:00Z) to Sun 06:00 CET (05:00Z) is 9 real hours.
    ("night-shift-over-fall-back", BERLIN_NIGHTS, utc(2026, 10, 24, 20), 9 * H, utc(2026, 10, 25, 5)),
    # Starting at 03:00 CET inside the shift that began the evening before: 3 h to 06:00,
    # then 1 h from 22:00 CET (21:00Z).
    ("starts-inside-last-nights-shift", BERLIN_NIGHTS, utc(2026, 1, 6, 2), 4 * H, utc(2026, 1, 6, 22)),
    # 24/7 in Berlin: 24 business hours are 24 real hours even over the short day.
    ("always-open-over-dst", BERLIN_ALWAYS, utc(2026, 3, 28, 23), 24 * H, utc(2026, 3, 29, 23)),
    # ...unless the day is a holiday: from Sat 23:30 CET (22:30Z), 30 min to midnight, then
    # Sunday (local) is off and Monday starts at 00:00 CEST (Sun 22:00Z): ends 22:30Z.
    ("always-open-with-holiday", BERLIN_ALWAYS_HOLIDAY, utc(2026, 3, 28, 22, 30), 1 * H, utc(2026, 3, 29, 22, 30)),
    ("split-shift", SPLIT_SHIFT, utc(2026, 3, 2, 11), 2 * H, utc(2026, 3, 2, 14)),
    ("overlaps-count-once", OVERLAPPING, utc(2026, 3, 2, 8), 5 * H, utc(2026, 3, 2, 13)),
    ("overlaps-next-week", OVERLAPPING, utc(2026, 3, 2, 8), 7 * H, utc(2026, 3, 9, 9)),
    # 02:30-03:00 does not exist on 8 Mar: from Sun 00:00 EST (05:00Z) the hour is Mon 09:00-10:00 EDT
    ("range-inside-skipped-hour-is-empty", NY_SKIPPED_RANGE, utc(2026, 3, 8, 5), 1 * H, utc(2026, 3, 9, 14)),
    # 02:30-05:00 on 8 Mar opens at the change, 03:00 EDT (07:00Z): one hour later is 08:00Z
    ("range-from-skipped-hour-opens-at-change", NY_FROM_SKIPPED, utc(2026, 3, 8, 5), 1 * H, utc(2026, 3, 8, 8)),
]


@pytest.mark.parametrize("cal,start,seconds,expected", [c[1:] for c in ADD_CASES], ids=[c[0] for c in ADD_CASES])
def test_add_business_seconds(cal: Calendar, start: float, seconds: float, expected: float) -> None:
    assert cal.add_business_seconds(start, seconds) == expected


BETWEEN_CASES = [
    ("same-day", UTC_OFFICE, utc(2026, 3, 2, 10), utc(2026, 3, 2, 12), 2 * H),
    ("over-a-night", UTC_OFFICE, utc(2026, 3, 2, 16), utc(2026, 3, 3, 10), 2 * H),
    ("over-a-weekend", UTC_OFFICE, utc(2026, 3, 6, 12), utc(2026, 3, 9, 12), 8 * H),
    ("only-weekend", UTC_OFFICE, utc(2026, 3, 7, 0), utc(2026, 3, 9, 0), 0.0),
    ("over-a-holiday", UTC_OFFICE_XMAS, utc(2026, 12, 24, 9), utc(2026, 12, 29, 9), 16 * H),
    ("end-before-start", UTC_OFFICE, utc(2026, 3, 3), utc(2026, 3, 2), 0.0),
    ("night-shift-short-night", BERLIN_NIGHTS, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12), 7 * H),
    ("night-shift-long-night", BERLIN_NIGHTS, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12), 9 * H),
    # Sat 28 Mar 13:00 CET -> Mon 30 Mar 14:00 CEST, with Sunday off: 11 h + 14 h.
    ("always-open-holiday-dst", BERLIN_ALWAYS_HOLIDAY, utc(2026, 3, 28, 12), utc(2026, 3, 30, 12), 25 * H),
    ("berlin-office-dst-week", BERLIN_OFFICE, utc(2026, 3, 23), utc(2026, 3, 30, 12), 40 * H + 5 * H),
    ("overlaps-count-once", OVERLAPPING, utc(2026, 3, 2), utc(2026, 3, 3), 6 * H),
    # Sun 8 Mar 00:00 EST (05:00Z) to Mon 00:00 EDT (04:00Z): 02:30-03:00 does not exist, nor is it negative
    ("range-inside-skipped-hour-is-empty", NY_SKIPPED_RANGE, utc(2026, 3, 8, 5), utc(2026, 3, 9, 4), 0.0),
    ("range-from-skipped-hour-opens-at-change", NY_FROM_SKIPPED, utc(2026, 3, 8, 5), utc(2026, 3, 9, 4), 2 * H),
]


@pytest.mark.parametrize("cal,start,end,expected", [c[1:] for c in BETWEEN_CASES], ids=[c[0] for c in BETWEEN_CASES])
def test_business_seconds_between(cal: Calendar, start: float, end: float, expected: float) -> None:
    assert cal.business_seconds_between(start, end) == expected


@pytest.mark.parametrize("cal,start,seconds", [(c[1], c[2], c[3]) for c in ADD_CASES if c[3] > 0], ids=[c[0] for c in ADD_CASES if c[3] > 0])
def test_add_then_between_round_trips(cal: Calendar, start: float, seconds: float) -> None:
    assert cal.business_seconds_between(start, cal.add_business_seconds(start, seconds)) == seconds


@pytest.mark.parametrize("cal,start,seconds", [(c[1], c[2], c[3]) for c in ADD_CASES], ids=[c[0] for c in ADD_CASES])
def test_business_seconds_before_is_the_earliest_inverse(cal: Calendar, start: float, seconds: float) -> None:
    end = cal.add_business_seconds(start, seconds)
    got = cal.business_seconds_before(end, seconds)
    assert got <= start or cal.business_seconds_between(start, got) == 0
    assert cal.business_seconds_between(got, end) == seconds
    assert cal.business_seconds_between(got - 60, end) > seconds  # just before it is business time


def test_business_seconds_before_hand_cases() -> None:
    assert UTC_OFFICE.business_seconds_before(utc(2026, 3, 3, 9), 7 * H) == utc(2026, 3, 2, 10)
    assert UTC_OFFICE.business_seconds_before(utc(2026, 3, 9, 10), 2 * H) == utc(2026, 3, 6, 16)  # over the weekend
    assert UTC_OFFICE.business_seconds_before(utc(2026, 3, 2, 18), 0.0) == utc(2026, 3, 2, 17)  # back to closing
    assert UTC_OFFICE.business_seconds_before(utc(2026, 3, 2, 12), 0.0) == utc(2026, 3, 2, 12)
    assert Calendar().business_seconds_before(utc(2026, 3, 2, 12), H) == utc(2026, 3, 2, 11)
    with pytest.raises(ValueError):
        UTC_OFFICE.business_seconds_before(utc(2026, 3, 2, 12), -1.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tz": "Mars/Olympus_Mons"},
        {"hours": {7: [("09:00", "17:00")]}},
        {"hours": {0: [("9am", "5pm")]}},
        {"hours": {0: [("24:00", "05:00")]}},
        {"hours": {}},
        {"holidays": frozenset({"25/12/2026"})},
    ],
    ids=["unknown-zone", "bad-weekday", "bad-time", "starts-at-24", "no-hours-at-all", "bad-holiday"],
)
def test_calendar_rejects_bad_configuration(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Calendar(**kwargs)


def test_calendar_normalises_and_hashes() -> None:
    a = Calendar("UTC", {"0": [["9:00", "17:00"]]}, frozenset({"2026-12-25"}))
    b = Calendar("UTC", {0: [("09:00", "17:00")]}, frozenset({"2026-12-25"}))
    assert a == b and hash(a) == hash(b)
    assert a.hours == {0: [("09:00", "17:00")]}


# --- policies -------------------------------------------------------------------------------

DEPOSITS_URGENT = Policy(10, "deposits urgent", 2, queues=("deposits",), priorities=("urgent",))
DEPOSITS = Policy(11, "deposits", 1, queues=("deposits",))
CATCH_ALL = Policy(12, "everything", 3)
CHAT_HOT = Policy(13, "hot chats", 0, priorities=("high", "urgent"), channels=("chat",))
WITHDRAWALS = Policy(14, "withdrawals", 5, queues=("withdrawals",))
SAME_POSITION_LOW_ID = Policy(3, "kyc a", 4, queues=("kyc",))
SAME_POSITION_HIGH_ID = Policy(7, "kyc b", 4, queues=("kyc",))
ALL_POLICIES = [WITHDRAWALS, CATCH_ALL, DEPOSITS_URGENT, CHAT_HOT, DEPOSITS, SAME_POSITION_HIGH_ID, SAME_POSITION_LOW_ID]

MATCH_CASES = [
    # id, policies, (queue, priority, channel), expected policy id or None
    ("lower-position-wins-over-narrower", ALL_POLICIES, ("deposits", "urgent", "email"), 11),
    ("position-0-channel-filter", ALL_POLICIES, ("deposits", "urgent", "chat"), 13),
    ("priority-filter-excludes", ALL_POLICIES, ("deposits", "normal", "chat"), 11),
    ("wildcard-before-later-specific", ALL_POLICIES, ("withdrawals", "low", "email"), 12),
    ("only-the-wildcard-matches", ALL_POLICIES, ("kyc", "normal", "phone"), 12),
    ("specific-when-wildcard-absent", [WITHDRAWALS, DEPOSITS_URGENT], ("withdrawals", "low", "web"), 14),
    ("narrower-when-broader-absent", [DEPOSITS_URGENT, WITHDRAWALS], ("deposits", "urgent", "email"), 10),
    ("no-match", [DEPOSITS_URGENT, WITHDRAWALS], ("kyc", "normal", "email"), None),
    ("no-policies", [], ("kyc", "normal", "email"), None),
    ("same-position-lower-id", [SAME_POSITION_HIGH_ID, SAME_POSITION_LOW_ID], ("kyc", "low", "web"), 3),
    ("generator-input", (p for p in ALL_POLICIES), ("deposits", "high", "chat"), 13),
]


@pytest.mark.parametrize("policies,ticket,expected", [c[1:] for c in MATCH_CASES], ids=[c[0] for c in MATCH_CASES])
def test_match_policy(policies, ticket: tuple[str, str, str], expected: int | None) -> None:
    got = match_policy(policies, *ticket)
    assert (got.id if got is not None else None) == expected


FULL_POLICY = Policy(
    id=7,
    name="VIP deposits",
    position=1,
    queues=("deposits", "withdrawals"),
    priorities=("high", "urgent"),
    channels=("chat",),
    targets=(
        Target("first_reply", 1.0),
        Target("next_reply", 30, business_hours=True),
        Target("periodic_update", 120),
        Target("resolution", 240, business_hours=True),
    ),
    calendar=Calendar("Europe/Berlin", {0: [("09:00", "12:00"), ("13:00", "18:00")], 5: [("22:00", "06:00")]}, frozenset({"2026-12-25", "2026-12-24"})),
    # next_reply and periodic_update ask for pausing in pending and on_hold explicitly (it was
    # the default once): the shape below shows every metric's pausing
    pause_statuses={"resolution": ("on_hold",), "first_reply": (), "next_reply": ("pending", "on_hold"), "periodic_update": ("pending", "on_hold")},
    at_risk_minutes=5,
)

ROUND_TRIP_CASES = [
    ("minimal", Policy(1, "default", 0)),
    ("targets-only", Policy(2, "chat", 0, targets=(Target("first_reply", 0.5),))),
    ("everything", FULL_POLICY),
    ("24-7-with-holidays", Policy(3, "x", 9, calendar=Calendar("Asia/Singapore", holidays=frozenset({"2026-02-17"})))),
]


@pytest.mark.parametrize("policy", [c[1] for c in ROUND_TRIP_CASES], ids=[c[0] for c in ROUND_TRIP_CASES])
def test_policy_dict_round_trip_through_json(policy: Policy) -> None:
    wire = json.dumps(policy_to_dict(policy))
    assert policy_from_dict(json.loads(wire)) == policy


def test_policy_to_dict_shape() -> None:
    assert policy_to_dict(FULL_POLICY) == {
        "id": 7,
        "name": "VIP deposits",
        "position": 1,
        "queues": ["deposits", "withdrawals"],
        "priorities": ["high", "urgent"],
        "channels": ["chat"],
        "targets": [
            {"metric": "first_reply", "minutes": 1.0, "business_hours": False},
            {"metric": "next_reply", "minutes": 30, "business_hours": True},
            {"metric": "periodic_update", "minutes": 120, "business_hours": False},
            {"metric": "resolution", "minutes": 240, "business_hours": True},
        ],
        "calendar": {
            "tz": "Europe/Berlin",
            "hours": {"0": [["09:00", "12:00"], ["13:00", "18:00"]], "5": [["22:00", "06:00"]]},
            "holidays": ["2026-12-24", "2026-12-25"],
        },
        "pause_statuses": {
            "first_reply": [],
            "next_reply": ["pending", "on_hold"],
            "periodic_update": ["pending", "on_hold"],
            "resolution": ["on_hold"],
        },
        "at_risk_minutes": 5,
    }


def test_policy_from_sparse_dict_takes_defaults() -> None:
    p = policy_from_dict({"id": 4, "name": "sparse", "targets": [{"metric": "resolution", "minutes": 60}]})
    assert p == Policy(4, "sparse", 0, targets=(Target("resolution", 60.0),))
    assert p.pause_statuses == DEFAULT_PAUSE_STATUSES
    assert p.pause_statuses["first_reply"] == ()  # Zendesk's first reply time never pauses
    assert p.calendar == Calendar()
    assert p.at_risk_seconds == 15 * 60


@pytest.mark.parametrize(
    "d",
    [
        {"id": 1, "name": "x", "targets": [{"metric": "first_response", "minutes": 5}]},
        {"id": 1, "name": "x", "targets": [{"metric": "first_reply", "minutes": 0}]},
        {"id": 1, "name": "x", "targets": [{"metric": "first_reply", "minutes": 5}, {"metric": "first_reply", "minutes": 9}]},
        {"id": 1, "name": "x", "pause_statuses": {"solution": ["pending"]}},
        {"id": 1, "name": "x", "calendar": {"tz": "Nowhere/Special"}},
    ],
    ids=["unknown-metric", "zero-minutes", "duplicate-metric", "unknown-pause-metric", "unknown-zone"],
)
def test_policy_from_dict_rejects_malformed(d: dict) -> None:
    with pytest.raises(ValueError):
        policy_from_dict(d)


# --- evaluation -----------------------------------------------------------------------------
# Wall-clock policy: first reply 60 min, next reply 30 min, periodic update 120 min,
# resolution 480 min. Business policies: the same targets counted in business hours.
# These policies ask for pausing explicitly (first reply in on_hold, the others in pending and
# on_hold; the engine's defaults once), so the cases below check the pause mechanism; the
# defaults, which never pause, are checked by the Zendesk cases further down.

PAUSING = {
    "first_reply": ("on_hold",),
    "next_reply": ("pending", "on_hold"),
    "periodic_update": ("pending", "on_hold"),
    "resolution": ("pending", "on_hold"),
}

WALL = Policy(
    1, "24/7", 0,
    targets=(Target("first_reply", 60), Target("next_reply", 30), Target("periodic_update", 120), Target("resolution", 480)),
    pause_statuses=PAUSING,
)


def business(cal: Calendar) -> Policy:
    return Policy(
        2, "office", 0,
        targets=tuple(Target(t.metric, t.minutes, business_hours=True) for t in WALL.targets),
        calendar=cal,
        pause_statuses=PAUSING,
    )


UTC_BIZ = business(UTC_OFFICE_XMAS)
BIZ_RESOLUTION_60 = Policy(
    3, "office resolution", 0, targets=(Target("resolution", 60, business_hours=True),), calendar=UTC_OFFICE_XMAS,
    pause_statuses={"resolution": ("pending", "on_hold")},
)
BERLIN_BIZ = business(BERLIN_OFFICE)


def created(at: float) -> TicketEvent:
    return TicketEvent(at, "created")


def reply(at: float) -> TicketEvent:
    return TicketEvent(at, "agent_reply")


def note(at: float) -> TicketEvent:
    return TicketEvent(at, "internal_note")


def customer(at: float) -> TicketEvent:
    return TicketEvent(at, "customer_message")


def status(at: float, s: str) -> TicketEvent:
    return TicketEvent(at, "status", s)


MON = (2026, 3, 2)  # a Monday
TUE = (2026, 3, 3)


def mon(h: int, m: int = 0) -> float:
    return utc(*MON, h, m)


def tue(h: int, m: int = 0) -> float:
    return utc(*TUE, h, m)


def active(metric: str, due: float, breached_at: float | None = None) -> MetricState:
    return MetricState(metric, "active", due, None, None, breached_at)


def paused(metric: str, remaining: float, breached_at: float | None = None) -> MetricState:
    return MetricState(metric, "paused", None, remaining, None, breached_at)


def achieved(metric: str, at: float, breached_at: float | None = None) -> MetricState:
    return MetricState(metric, "achieved", None, None, at, breached_at)


def breached(metric: str, at: float, due: float | None = None, achieved_at: float | None = None, remaining: float | None = None) -> MetricState:
    return MetricState(metric, "breached", due, remaining, achieved_at, at)


M = 60.0

METRIC_CASES = [
    # id, policy, events, now, expected state of the metric named in it
    # first_reply
    ("first-reply-active", WALL, [created(mon(10))], mon(10, 30), active("first_reply", mon(11))),
    ("first-reply-achieved", WALL, [created(mon(10)), reply(mon(10, 45))], mon(12), achieved("first_reply", mon(10, 45))),
    ("first-reply-at-the-deadline-is-in-time", WALL, [created(mon(10)), reply(mon(11))], mon(12), achieved("first_reply", mon(11))),
    ("first-reply-breached-waiting", WALL, [created(mon(10))], mon(11, 30), breached("first_reply", mon(11), due=mon(11))),
    ("first-reply-breached-then-achieved", WALL, [created(mon(10)), reply(mon(11, 30))], mon(12), breached("first_reply", mon(11), achieved_at=mon(11, 30))),
    ("first-reply-internal-note-does-not-count", WALL, [created(mon(10)), note(mon(10, 30))], mon(10, 50), active("first_reply", mon(11))),
    ("first-reply-second-reply-changes-nothing", WALL, [created(mon(10)), reply(mon(10, 5)), reply(mon(13))], mon(14), achieved("first_reply", mon(10, 5))),
    ("first-reply-solved-without-reply", WALL, [created(mon(10)), status(mon(10, 30), "solved")], mon(12), achieved("first_reply", mon(10, 30))),
    # on_hold pauses first_reply: 20 min used, 40 min left from 12:00
    ("first-reply-on-hold-resumes", WALL, [created(mon(10)), status(mon(10, 20), "on_hold"), status(mon(12), "open")], mon(12, 10), active("first_reply", mon(12, 40))),
    ("first-reply-on-hold-paused", WALL, [created(mon(10)), status(mon(10, 20), "on_hold")], mon(15), paused("first_reply", 40 * M)),
    ("first-reply-pending-does-not-pause", WALL, [created(mon(10)), status(mon(10, 20), "pending"), status(mon(12), "open")], mon(12, 10), breached("first_reply", mon(11), due=mon(11))),
    ("first-reply-on-hold-after-breach", WALL, [created(mon(10)), status(mon(11, 30), "on_hold")], mon(12), breached("first_reply", mon(11), remaining=-30 * M)),
    # business hours (UTC office 09-17 Mon-Fri, Christmas off)
    ("first-reply-business-same-day", UTC_BIZ, [created(mon(10))], mon(10), active("first_reply", mon(11))),
    ("first-reply-business-over-the-night", UTC_BIZ, [created(mon(16, 30))], mon(17), active("first_reply", tue(9, 30))),
    ("first-reply-business-night-is-not-a-breach", UTC_BIZ, [created(mon(16, 30)), reply(tue(9, 15))], tue(10), achieved("first_reply", tue(9, 15))),
    ("first-reply-business-weekend", UTC_BIZ, [created(utc(2026, 3, 6, 16, 30))], utc(2026, 3, 7, 12), active("first_reply", utc(2026, 3, 9, 9, 30))),
    ("first-reply-business-created-on-sunday", UTC_BIZ, [created(utc(2026, 3, 8, 12))], utc(2026, 3, 8, 13), active("first_reply", utc(2026, 3, 9, 10))),
    ("first-reply-business-holiday", UTC_BIZ, [created(utc(2026, 12, 24, 16, 30))], utc(2026, 12, 24, 17), active("first_reply", utc(2026, 12, 28, 9, 30))),
    ("first-reply-business-breached-monday", UTC_BIZ, [created(utc(2026, 3, 6, 16, 30))], utc(2026, 3, 9, 9, 31), breached("first_reply", utc(2026, 3, 9, 9, 30), due=utc(2026, 3, 9, 9, 30))),
    # Berlin: Fri 27 Mar 16:30 CET (15:30Z) + 1 business hour -> Mon 30 Mar 09:30 CEST (07:30Z)
    ("first-reply-business-dst-spring", BERLIN_BIZ, [created(utc(2026, 3, 27, 15, 30))], utc(2026, 3, 27, 16), active("first_reply", utc(2026, 3, 30, 7, 30))),
    # Berlin: Fri 23 Oct 16:30 CEST (14:30Z) + 1 business hour -> Mon 26 Oct 09:30 CET (08:30Z)
    ("first-reply-business-dst-autumn", BERLIN_BIZ, [created(utc(2026, 10, 23, 14, 30))], utc(2026, 10, 23, 15), active("first_reply", utc(2026, 10, 26, 8, 30))),
    # next_reply
    ("next-reply-active", WALL, [created(mon(10)), reply(mon(10, 30)), customer(mon(11))], mon(11, 10), active("next_reply", mon(11, 30))),
    ("next-reply-achieved", WALL, [created(mon(10)), reply(mon(10, 30)), customer(mon(11)), reply(mon(11, 20))], mon(12), achieved("next_reply", mon(11, 20))),
    ("next-reply-breached", WALL, [created(mon(10)), reply(mon(10, 30)), customer(mon(11))], mon(12), breached("next_reply", mon(11, 30), due=mon(11, 30))),
    ("next-reply-breached-then-achieved", WALL, [created(mon(10)), reply(mon(10, 30)), customer(mon(11)), reply(mon(12))], mon(13), breached("next_reply", mon(11, 30), achieved_at=mon(12))),
    ("next-reply-second-message-does-not-restart", WALL, [created(mon(10)), reply(mon(10, 30)), customer(mon(11)), customer(mon(11, 20))], mon(11, 25), active("next_reply", mon(11, 30))),
    ("next-reply-note-does-not-answer", WALL, [created(mon(10)), reply(mon(10, 30)), customer(mon(11)), note(mon(11, 10))], mon(11, 15), active("next_reply", mon(11, 30))),
    ("next-reply-earlier-cycle-breach-kept", WALL, [created(mon(10)), reply(mon(10, 30)), customer(mon(11)), reply(mon(12)), customer(mon(13))], mon(13, 10), active("next_reply", mon(13, 30), breached_at=mon(11, 30))),
    ("next-reply-earliest-breach-kept", WALL, [created(mon(10)), reply(mon(10, 30)), customer(mon(11)), reply(mon(12)), customer(mon(13)), reply(mon(14))], mon(15), breached("next_reply", mon(11, 30), achieved_at=mon(14))),
    ("next-reply-pending-pauses", WALL, [created(mon(10)), reply(mon(10, 30)), customer(mon(11)), status(mon(11, 10), "pending"), status(mon(12), "open")], mon(12), active("next_reply", mon(12, 20))),
    ("next-reply-pending-paused", WALL, [created(mon(10)), reply(mon(10, 30)), customer(mon(11)), status(mon(11, 10), "pending")], mon(16), paused("next_reply", 20 * M)),
    ("next-reply-starts-paused-when-pending", WALL, [created(mon(10)), reply(mon(10, 30)), status(mon(10, 30), "pending"), customer(mon(11))], mon(11, 10), paused("next_reply", 30 * M)),
    ("next-reply-business-over-the-night", UTC_BIZ, [created(mon(9)), reply(mon(9, 30)), customer(mon(16, 50))], mon(18), active("next_reply", tue(9, 20))),
    # solved while the customer waits: the reply clock ends with the solve
    ("next-reply-ended-by-solve", WALL, [created(mon(10)), reply(mon(10, 30)), customer(mon(11)), status(mon(11, 10), "solved")], mon(12), achieved("next_reply", mon(11, 10))),
    # a message that lands on a solved ticket starts the cycle when the ticket reopens
    ("next-reply-message-then-reopen", WALL, [created(mon(10)), reply(mon(10, 30)), status(mon(10, 40), "solved"), customer(mon(14)), status(mon(14, 5), "open")], mon(14, 10), active("next_reply", mon(14, 35))),
    ("next-reply-reopen-then-message", WALL, [created(mon(10)), reply(mon(10, 30)), status(mon(10, 40), "solved"), status(mon(14), "open"), customer(mon(14, 5))], mon(14, 10), active("next_reply", mon(14, 35))),
    # solved before any reply: the customer writing again is waiting on a next reply
    ("next-reply-after-solve-without-reply", WALL, [created(mon(10)), status(mon(10, 10), "solved"), status(mon(11), "open"), customer(mon(11))], mon(11, 5), active("next_reply", mon(11, 30))),
    # periodic_update
    ("periodic-from-creation", WALL, [created(mon(10))], mon(11), active("periodic_update", mon(12))),
    ("periodic-restarted-by-reply", WALL, [created(mon(10)), reply(mon(11))], mon(11, 30), active("periodic_update", mon(13))),
    ("periodic-not-restarted-by-note", WALL, [created(mon(10)), note(mon(11))], mon(11, 30), active("periodic_update", mon(12))),
    ("periodic-not-restarted-by-customer", WALL, [created(mon(10)), customer(mon(11))], mon(11, 30), active("periodic_update", mon(12))),
    ("periodic-breached", WALL, [created(mon(10))], mon(12, 30), breached("periodic_update", mon(12), due=mon(12))),
    ("periodic-late-reply-remembered", WALL, [created(mon(10)), reply(mon(12, 30))], mon(13), active("periodic_update", mon(14, 30), breached_at=mon(12))),
    ("periodic-pending-pauses", WALL, [created(mon(10)), status(mon(11), "pending"), status(mon(15), "open")], mon(15), active("periodic_update", mon(16))),
    ("periodic-ended-by-solve", WALL, [created(mon(10)), reply(mon(11)), status(mon(12), "solved")], mon(18), achieved("periodic_update", mon(12))),
    ("periodic-fresh-after-reopen", WALL, [created(mon(10)), reply(mon(11)), status(mon(12), "solved"), status(tue(9), "open")], tue(9), active("periodic_update", tue(11))),
    ("periodic-reply-while-solved-changes-nothing", WALL, [created(mon(10)), status(mon(11), "solved"), reply(mon(12))], mon(18), achieved("periodic_update", mon(11))),
    # resolution
    ("resolution-active", WALL, [created(mon(10))], mon(12), active("resolution", mon(18))),
    ("resolution-achieved", WALL, [created(mon(10)), status(mon(15), "solved")], mon(20), achieved("resolution", mon(15))),
    ("resolution-closed-counts", WALL, [created(mon(10)), status(mon(15), "closed")], mon(20), achieved("resolution", mon(15))),
    ("resolution-solved-then-closed", WALL, [created(mon(10)), status(mon(15), "solved"), status(tue(15), "closed")], tue(20), achieved("resolution", mon(15))),
    ("resolution-breached", WALL, [created(mon(10))], mon(18, 30), breached("resolution", mon(18), due=mon(18))),
    ("resolution-solved-late", WALL, [created(mon(10)), status(mon(19), "solved")], mon(20), breached("resolution", mon(18), achieved_at=mon(19))),
    # pending 11:00-13:00: 1 h used, 7 h left from 13:00
    ("resolution-pending-resumes", WALL, [created(mon(10)), status(mon(11), "pending"), status(mon(13), "open")], mon(13), active("resolution", mon(20))),
    ("resolution-pending-paused", WALL, [created(mon(10)), status(mon(11), "pending")], mon(12), paused("resolution", 7 * H)),
    ("resolution-on-hold-paused", WALL, [created(mon(10)), status(mon(12), "on_hold")], tue(12), paused("resolution", 6 * H)),
    ("resolution-pending-to-on-hold-stays-paused", WALL, [created(mon(10)), status(mon(11), "pending"), status(mon(12), "on_hold"), status(mon(14), "open")], mon(14), active("resolution", mon(21))),
    ("resolution-two-pauses", WALL, [created(mon(10)), status(mon(11), "pending"), status(mon(12), "open"), status(mon(13), "on_hold"), status(mon(15), "open")], mon(15), active("resolution", mon(21))),
    # business: Fri 09:00-12:00 used 3 h, pending over the weekend, 5 h left from Mon 11:00
    ("resolution-business-pause-over-weekend", UTC_BIZ, [created(utc(2026, 3, 6, 9)), status(utc(2026, 3, 6, 12), "pending"), status(utc(2026, 3, 9, 11), "open")], utc(2026, 3, 9, 11), active("resolution", utc(2026, 3, 9, 16))),
    ("resolution-business-paused-remaining", UTC_BIZ, [created(utc(2026, 3, 6, 9)), status(utc(2026, 3, 6, 12), "pending")], utc(2026, 3, 9, 11), paused("resolution", 5 * H)),
    # 8 business hours from Mon 13:00 run over the night to Tue 13:00
    ("resolution-business-over-the-night", UTC_BIZ, [created(mon(13))], tue(9), active("resolution", tue(13))),
    # reopened: Mon 09:00-12:00 used 3 h, reopened Tue 10:00 with 5 h left -> Tue 15:00
    ("resolution-reopened-resumes", UTC_BIZ, [created(mon(9)), status(mon(12), "solved"), status(tue(10), "open")], tue(11), active("resolution", tue(15))),
    ("resolution-reopened-solved-again", UTC_BIZ, [created(mon(9)), status(mon(12), "solved"), status(tue(10), "open"), status(tue(14), "solved")], tue(16), achieved("resolution", tue(14))),
    ("resolution-reopened-late", UTC_BIZ, [created(mon(9)), status(mon(12), "solved"), status(tue(10), "open"), status(tue(16), "solved")], tue(16), breached("resolution", tue(15), achieved_at=tue(16))),
    ("resolution-reopened-into-pending", UTC_BIZ, [created(mon(9)), status(mon(12), "solved"), status(tue(10), "pending")], tue(11), paused("resolution", 5 * H)),
    ("resolution-reopened-by-new", WALL, [created(mon(10)), status(mon(12), "solved"), status(tue(10), "new")], tue(10), active("resolution", tue(16))),
    # solved at 19:00 after an 18:00 deadline (9 h used of 8), reopened: still breached, and
    # the deadline stays Mon 18:00, when it breached (issue 19: a breached deadline never
    # moves; it was the 1 h overrun before the reopen, Tue 08:00, which sorted it behind
    # tickets that breached later)
    ("resolution-breach-survives-reopen", WALL, [created(mon(10)), status(mon(19), "solved"), status(tue(9), "open")], tue(9, 30), breached("resolution", mon(18), due=mon(18))),
    # A breached deadline does not move through a pause: the overrun is business time, also
    # when it is turned back into a deadline. The case: 60 business minutes from Mon
    # 09:00 is Mon 10:00; pending and back to open on Tue 09:00 keeps Mon 10:00 (not Tue 02:00).
    ("breached-deadline-kept-through-zero-pause", BIZ_RESOLUTION_60, [created(mon(9)), status(tue(9), "pending"), status(tue(9), "open")], tue(9, 30), breached("resolution", mon(10), due=mon(10))),
    # the same with the deadline at closing time and the pause at night: Mon 17:00 stays
    ("breached-at-close-kept-through-night-pause", BIZ_RESOLUTION_60, [created(mon(16)), status(mon(18), "pending"), status(mon(18), "open")], mon(19), breached("resolution", mon(17), due=mon(17))),
    # a real pause Mon 12:00 -> Tue 09:00 after the breach: 3 business hours ran (2 h over), and
    # the deadline stays Mon 10:00, when it breached (issue 19: a breached deadline never moves,
    # also through a real pause; it was the overrun before the resume, Mon 15:00, so at Tue
    # 09:30 the countdown read -18h 30m instead of -23h 30m)
    ("breached-overrun-in-business-time", BIZ_RESOLUTION_60, [created(mon(9)), status(mon(12), "pending"), status(tue(9), "open")], tue(9, 30), breached("resolution", mon(10), due=mon(10))),
    # events before creation and out of order are sorted and clamped to creation
    ("unsorted-events", WALL, [status(mon(13), "open"), created(mon(10)), status(mon(11), "pending")], mon(13), active("resolution", mon(20))),
]


@pytest.mark.parametrize("policy,events,now,expected", [c[1:] for c in METRIC_CASES], ids=[c[0] for c in METRIC_CASES])
def test_evaluate_metric(policy: Policy, events: list[TicketEvent], now: float, expected: MetricState) -> None:
    result = evaluate(policy, events, now)
    got = {m.metric: m for m in result.metrics}
    assert got.get(expected.metric) == expected


RESULT_CASES = [
    # id, policy, events, now, (metrics reported, next_due, paused)
    ("earliest-running-deadline", WALL, [created(mon(10))], mon(10), (("first_reply", "periodic_update", "resolution"), mon(11), False)),
    ("next-reply-only-once-started", WALL, [created(mon(10)), reply(mon(10, 30))], mon(10, 40), (("first_reply", "periodic_update", "resolution"), mon(12, 30), False)),
    ("next-reply-reported-once-waiting", WALL, [created(mon(10)), reply(mon(10, 30)), customer(mon(10, 40))], mon(10, 40), (("first_reply", "next_reply", "periodic_update", "resolution"), mon(11, 10), False)),
    ("breached-clock-still-sorts-first", WALL, [created(mon(10))], mon(11, 30), (("first_reply", "periodic_update", "resolution"), mon(11), False)),
    ("all-paused-on-hold", WALL, [created(mon(10)), status(mon(10, 10), "on_hold")], mon(11), (("first_reply", "periodic_update", "resolution"), NO_DUE, True)),
    ("pending-first-reply-runs", WALL, [created(mon(10)), status(mon(10, 10), "pending")], mon(10, 30), (("first_reply", "periodic_update", "resolution"), mon(11), False)),
    ("pending-after-reply-all-paused", WALL, [created(mon(10)), reply(mon(10, 10)), status(mon(10, 10), "pending")], mon(10, 30), (("first_reply", "periodic_update", "resolution"), NO_DUE, True)),
    ("solved-stops-everything", WALL, [created(mon(10)), reply(mon(10, 10)), customer(mon(10, 20)), status(mon(10, 30), "solved")], mon(11), (("first_reply", "next_reply", "periodic_update", "resolution"), NO_DUE, False)),
    ("order-follows-policy-targets", Policy(5, "r", 0, targets=(Target("resolution", 60), Target("first_reply", 5))), [created(mon(10))], mon(10), (("resolution", "first_reply"), mon(10, 5), False)),
    ("no-targets", Policy(6, "empty", 0), [created(mon(10))], mon(10), ((), NO_DUE, False)),
    ("no-events", WALL, [], mon(10), ((), NO_DUE, False)),
]


@pytest.mark.parametrize("policy,events,now,expected", [c[1:] for c in RESULT_CASES], ids=[c[0] for c in RESULT_CASES])
def test_evaluate_result(policy: Policy, events: list[TicketEvent], now: float, expected: tuple) -> None:
    result = evaluate(policy, events, now)
    assert (tuple(m.metric for m in result.metrics), result.next_due, result.paused) == expected
    assert result.policy_id == policy.id


def test_evaluate_without_policy() -> None:
    assert evaluate(None, [created(mon(10))], mon(11)) == SlaResult(None, (), NO_DUE, False)


def test_result_dicts_round_trip_through_json() -> None:
    result = evaluate(WALL, [created(mon(10)), reply(mon(11, 30)), customer(mon(12)), status(mon(12, 10), "pending")], mon(13))
    wire = json.loads(json.dumps(result.to_dicts()))
    assert wire == [
        {"metric": "first_reply", "stage": "breached", "due_at": None, "remaining": None, "achieved_at": mon(11, 30), "breached_at": mon(11)},
        {"metric": "next_reply", "stage": "paused", "due_at": None, "remaining": 20 * M, "achieved_at": None, "breached_at": None},
        {"metric": "periodic_update", "stage": "paused", "due_at": None, "remaining": 80 * M, "achieved_at": None, "breached_at": None},
        {"metric": "resolution", "stage": "paused", "due_at": None, "remaining": 350 * M, "achieved_at": None, "breached_at": None},
    ]
    assert tuple(MetricState.from_dict(d) for d in wire) == result.metrics


# --- at draw time ---------------------------------------------------------------------------

STAGE_CASES = [
    ("active-before-deadline", active("first_reply", mon(11)), mon(10, 59), "active"),
    ("active-at-deadline", active("first_reply", mon(11)), mon(11), "active"),
    ("active-one-second-late", active("first_reply", mon(11)), mon(11) + 1, "breached"),
    ("paused-long-after", paused("resolution", 600), tue(23), "paused"),
    ("achieved-long-after", achieved("first_reply", mon(10, 30)), tue(23), "achieved"),
    ("breached-stays", breached("first_reply", mon(11), achieved_at=mon(12)), mon(10), "breached"),
    ("old-breach-does-not-colour-new-cycle", active("next_reply", mon(14), breached_at=mon(11)), mon(13), "active"),
]


@pytest.mark.parametrize("state,now,expected", [c[1:] for c in STAGE_CASES], ids=[c[0] for c in STAGE_CASES])
def test_metric_stage_at_draw_time(state: MetricState, now: float, expected: str) -> None:
    assert metric_stage(state, now) == expected


AT_RISK_POLICY = Policy(8, "tight", 0, targets=(Target("first_reply", 60),), at_risk_minutes=5)

COUNTDOWN_CASES = [
    # id, policy, events, now, countdown_state of the ticket (next_due, paused, now, policy's at-risk)
    ("ok-16-min-left", WALL, [created(mon(10))], mon(10, 44), "ok"),
    ("at-risk-15-min-left", WALL, [created(mon(10))], mon(10, 45), "at_risk"),
    ("at-risk-last-second", WALL, [created(mon(10))], mon(11), "at_risk"),
    ("breached", WALL, [created(mon(10))], mon(11) + 1, "breached"),
    ("paused", WALL, [created(mon(10)), status(mon(10, 1), "on_hold")], mon(12), "paused"),
    ("solved-none", WALL, [created(mon(10)), status(mon(10, 1), "solved")], mon(12), "none"),
    ("policy-at-risk-5-ok", AT_RISK_POLICY, [created(mon(10))], mon(10, 54), "ok"),
    ("policy-at-risk-5-amber", AT_RISK_POLICY, [created(mon(10))], mon(10, 55), "at_risk"),
    # business hours: Mon 16:50 + 60 business min -> Tue 09:50; at 17:00 Mon it is far away
    ("business-night-ok", UTC_BIZ, [created(mon(16, 50))], tue(9, 34), "ok"),
    ("business-morning-at-risk", UTC_BIZ, [created(mon(16, 50))], tue(9, 35), "at_risk"),
]


@pytest.mark.parametrize("policy,events,now,expected", [c[1:] for c in COUNTDOWN_CASES], ids=[c[0] for c in COUNTDOWN_CASES])
def test_countdown_state_from_result(policy: Policy, events: list[TicketEvent], now: float, expected: str) -> None:
    result = evaluate(policy, events, now)
    assert countdown_state(result.next_due, result.paused, now, policy.at_risk_seconds) == expected


def test_default_at_risk_matches_display_threshold() -> None:
    assert Policy(1, "p", 0).at_risk_seconds == AT_RISK_SECONDS


def test_engine_stays_free_of_the_ui() -> None:
    """The backend imports this module: it must not pull in textual, widgets or themes."""
    import subprocess
    import sys

    code = "import sys, agent_tui.sla; print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'widgets', 'themes')))"
    root = __file__.rsplit("/tests/", 1)[0]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout.strip()
    assert out == "[]"


# --- Zendesk's semantics by default ---------------------------------------------------------
# A policy that asks for no pausing gets Zendesk's metrics: first reply time, next reply time,
# periodic update and total resolution time never pause. The pausing Zendesk metrics are asked
# for by name.

DEFAULTS = Policy(
    20, "defaults", 0,
    targets=(Target("first_reply", 60), Target("next_reply", 30), Target("periodic_update", 120), Target("resolution", 480)),
)
PAUSABLE = Policy(21, "pausable", 0, targets=(Target("pausable_update", 120),))
REQUESTER_WAIT = Policy(22, "requester wait", 0, targets=(Target("requester_wait_time", 480),))
AGENT_WORK = Policy(23, "agent work", 0, targets=(Target("agent_work_time", 480),))

ZENDESK_CASES = [
    # The cases. A customer writes at 11:00 (30 min), the agent sets pending at 11:05
    # without replying, reopens and replies at 15:10: breached at 11:30.
    ("next-reply-pending-does-not-hide-a-breach", DEFAULTS, [created(mon(10)), reply(mon(10, 30)), customer(mon(11)), status(mon(11, 5), "pending"), status(mon(15, 10), "open"), reply(mon(15, 10))], mon(16), breached("next_reply", mon(11, 30), achieved_at=mon(15, 10))),
    # Created 10:00, on hold 10:20-12:00, reply 12:10, 60 min: breached at 11:00.
    ("first-reply-on-hold-does-not-hide-a-breach", DEFAULTS, [created(mon(10)), status(mon(10, 20), "on_hold"), status(mon(12), "open"), reply(mon(12, 10))], mon(13), breached("first_reply", mon(11), achieved_at=mon(12, 10))),
    ("first-reply-runs-on-hold", DEFAULTS, [created(mon(10)), status(mon(10, 20), "on_hold")], mon(10, 30), active("first_reply", mon(11))),
    ("next-reply-runs-pending", DEFAULTS, [created(mon(10)), reply(mon(10, 30)), customer(mon(11)), status(mon(11, 5), "pending")], mon(11, 10), active("next_reply", mon(11, 30))),
    # periodic update never pauses
    ("periodic-runs-pending", DEFAULTS, [created(mon(10)), status(mon(11), "pending")], mon(12, 30), breached("periodic_update", mon(12), due=mon(12))),
    ("periodic-runs-on-hold", DEFAULTS, [created(mon(10)), status(mon(11), "on_hold")], mon(11, 30), active("periodic_update", mon(12))),
    # pausable update pauses in pending only: pending 11:00-15:00 leaves 1 h from 15:00
    ("pausable-update-pauses-pending", PAUSABLE, [created(mon(10)), status(mon(11), "pending"), status(mon(15), "open")], mon(15), active("periodic_update", mon(16))),
    ("pausable-update-runs-on-hold", PAUSABLE, [created(mon(10)), status(mon(11), "on_hold")], mon(12, 30), breached("periodic_update", mon(12), due=mon(12))),
    # total resolution time never pauses
    ("total-resolution-runs-pending", DEFAULTS, [created(mon(10)), status(mon(11), "pending")], mon(19), breached("resolution", mon(18), due=mon(18))),
    ("total-resolution-runs-on-hold", DEFAULTS, [created(mon(10)), status(mon(11), "on_hold")], mon(12), active("resolution", mon(18))),
    # requester wait time pauses in pending (2 h), not on hold
    ("requester-wait-pauses-pending", REQUESTER_WAIT, [created(mon(10)), status(mon(11), "pending"), status(mon(13), "open")], mon(13), active("resolution", mon(20))),
    ("requester-wait-runs-on-hold", REQUESTER_WAIT, [created(mon(10)), status(mon(11), "on_hold"), status(mon(13), "open")], mon(13), active("resolution", mon(18))),
    # agent work time pauses in both
    ("agent-work-pauses-pending", AGENT_WORK, [created(mon(10)), status(mon(11), "pending"), status(mon(13), "open")], mon(13), active("resolution", mon(20))),
    ("agent-work-pauses-on-hold", AGENT_WORK, [created(mon(10)), status(mon(11), "on_hold")], mon(13), paused("resolution", 7 * H)),
]


@pytest.mark.parametrize("policy,events,now,expected", [c[1:] for c in ZENDESK_CASES], ids=[c[0] for c in ZENDESK_CASES])
def test_evaluate_like_zendesk(policy: Policy, events: list[TicketEvent], now: float, expected: MetricState) -> None:
    got = {m.metric: m for m in evaluate(policy, events, now).metrics}
    assert got.get(expected.metric) == expected


def test_zendesk_names_choose_the_pausing() -> None:
    assert DEFAULT_PAUSE_STATUSES == {m: () for m in ("first_reply", "next_reply", "periodic_update", "resolution")}
    assert AGENT_WORK.targets == (Target("resolution", 480),)
    assert AGENT_WORK.pause_statuses["resolution"] == ("pending", "on_hold")
    assert REQUESTER_WAIT.pause_statuses["resolution"] == ("pending",)
    assert PAUSABLE.pause_statuses["periodic_update"] == ("pending",)
    assert Policy(1, "x", 0, targets=(Target("first_reply_time", 5), Target("total_resolution", 60))).pause_statuses == DEFAULT_PAUSE_STATUSES
    # explicit pause_statuses still win over a name
    assert Policy(1, "x", 0, targets=(Target("agent_work_time", 60),), pause_statuses={"resolution": ("on_hold",)}).pause_statuses["resolution"] == ("on_hold",)
    assert [zendesk_metric(m, s) for m, s in [
        ("first_reply", ()), ("next_reply", ()), ("periodic_update", ()), ("periodic_update", ("pending",)),
        ("resolution", ()), ("resolution", ("pending",)), ("resolution", ("on_hold", "pending")), ("first_reply", ("on_hold",)),
    ]] == ["first_reply_time", "next_reply_time", "periodic_update", "pausable_update",
           "total_resolution", "requester_wait_time", "agent_work_time", None]
    with pytest.raises(ValueError):
        Target("resolution", 60, zendesk="pausable_update")


def test_zendesk_named_policy_round_trips_with_its_pausing() -> None:
    wire = json.loads(json.dumps(policy_to_dict(AGENT_WORK)))
    assert wire["targets"] == [{"metric": "resolution", "minutes": 480, "business_hours": False}]
    back = policy_from_dict(wire)
    assert back == AGENT_WORK and back.pause_statuses["resolution"] == ("pending", "on_hold")
    sparse = policy_from_dict({"id": 4, "name": "sparse", "targets": [{"metric": "requester_wait_time", "minutes": 60}]})
    assert sparse.pause_statuses["resolution"] == ("pending",)


def test_a_policy_stored_with_the_old_defaults_keeps_its_pausing() -> None:
    """policy_to_dict always wrote the full pausing, so the backend's stored policies load
    as they were saved: their pausing is theirs, not the new defaults."""
    stored = {
        "id": 9, "name": "stored in 2025", "position": 1, "queues": [], "priorities": [], "channels": [],
        "targets": [{"metric": "next_reply", "minutes": 30, "business_hours": False}],
        "calendar": {"tz": "UTC", "hours": None, "holidays": []},
        "pause_statuses": {"first_reply": ["on_hold"], "next_reply": ["pending", "on_hold"], "periodic_update": ["pending", "on_hold"], "resolution": ["pending", "on_hold"]},
        "at_risk_minutes": 15,
    }
    p = policy_from_dict(stored)
    assert p.pause_statuses == PAUSING
    events = [created(mon(10)), reply(mon(10, 30)), customer(mon(11)), status(mon(11, 10), "pending")]
    assert {m.metric: m for m in evaluate(p, events, mon(16)).metrics}["next_reply"] == paused("next_reply", 20 * M)


# --- the SLA panel's words ------------------------------------------------------------------

DESCRIBE_CASES = [
    # id, state, ticket status, now, (glyph, text)
    ("running", active("first_reply", mon(11)), "open", mon(10), ("●", "1h 00m")),
    ("at-risk", active("first_reply", mon(11)), "open", mon(10, 50), ("▲", "10m 00s")),
    ("breached-running", active("first_reply", mon(11)), "open", mon(11, 3), ("✖", "breached -3m 00s")),
    ("breached-achieved", breached("first_reply", mon(11), achieved_at=mon(12)), "open", mon(13), ("✖", "breached")),
    ("paused-pending", paused("resolution", 45 * M), "pending", mon(13), ("‖", "paused: pending (45m 00s left)")),
    ("paused-on-hold", paused("resolution", 45 * M), "on_hold", mon(13), ("‖", "paused: on hold (45m 00s left)")),
    # the sla was computed before a local status change: no reason rather than a wrong one
    ("paused-status-moved-on", paused("resolution", 45 * M), "open", mon(13), ("‖", "paused (45m 00s left)")),
    ("breached-then-paused", breached("first_reply", mon(11), remaining=-30 * M), "on_hold", mon(13), ("✖", "breached · paused: on hold")),
    ("achieved", achieved("first_reply", mon(10, 30)), "solved", mon(13), ("✔", "achieved")),
]


@pytest.mark.parametrize("state,status,now,expected", [c[1:] for c in DESCRIBE_CASES], ids=[c[0] for c in DESCRIBE_CASES])
def test_describe_metric_says_why_a_clock_is_paused(state: MetricState, status: str, now: float, expected: tuple[str, str]) -> None:
    assert describe_metric(state, status, now) == expected


def test_pause_text_from_an_evaluated_ticket() -> None:
    result = evaluate(AGENT_WORK, [created(mon(10)), status(mon(11), "on_hold")], mon(12))
    (m,) = result.metrics
    assert result.paused and pause_text(m, "on_hold") == "paused: on hold"
    assert pause_text(evaluate(AGENT_WORK, [created(mon(10))], mon(12)).metrics[0], "open") is None
