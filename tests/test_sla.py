"""Table-driven tests for agent_tui.sla. Every expected value is an exact instant worked out
by hand and written as a datetime in UTC (local times are in the comments)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from agent_tui.sla import (
    DEFAULT_PAUSE_STATUSES,
    Calendar,
    Policy,
    Target,
    match_policy,
    policy_from_dict,
    policy_to_dict,
)


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
]


@pytest.mark.parametrize("cal,start,end,expected", [c[1:] for c in BETWEEN_CASES], ids=[c[0] for c in BETWEEN_CASES])
def test_business_seconds_between(cal: Calendar, start: float, end: float, expected: float) -> None:
    assert cal.business_seconds_between(start, end) == expected


@pytest.mark.parametrize("cal,start,seconds", [(c[1], c[2], c[3]) for c in ADD_CASES if c[3] > 0], ids=[c[0] for c in ADD_CASES if c[3] > 0])
def test_add_then_between_round_trips(cal: Calendar, start: float, seconds: float) -> None:
    assert cal.business_seconds_between(start, cal.add_business_seconds(start, seconds)) == seconds


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
    pause_statuses={"resolution": ("on_hold",), "first_reply": ()},
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
    assert p.pause_statuses["first_reply"] == ("on_hold",)
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
