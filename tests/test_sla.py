"""Table-driven tests for agent_tui.sla. Every expected value is an exact instant worked out
by hand and written as a datetime in UTC (local times are in the comments)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from agent_tui.sla import Calendar


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
