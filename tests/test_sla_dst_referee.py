"""A brute-force referee for agent_tui.sla.Calendar around DST changes.

The engine builds business intervals from local wall-clock times, one local day at a time. The
referee knows nothing of that: it walks a window around each 2026 DST change of several zones
minute by minute and asks, for each minute, whether the wall clock's reading lies in a business
range. The rule it checks is the one Calendar documents: a range runs from the first instant
the wall clock reads its start to the first instant it reads its end. So the referee reads a
monotone clock (the latest reading so far; after a fall back the clock reads the repeated hour
again, and the monotone clock waits at the first pass), and a minute is business when that
reading lies in a range of its day, or in the overnight tail of a range of the day before.

Random calendars (ranges starting in and around the skipped and repeated hours, overnight
shifts, ranges ending at 24:00, 24/7 with holidays, holidays on the transition day), random
starts weighted on the transition days, thousands of cases, from one fixed seed.
"""

from __future__ import annotations

import bisect
import itertools
import random
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from agent_tui.sla import Calendar

ZONES = (
    "America/New_York",  # 02:00 -> 03:00, 02:00 -> 01:00
    "Europe/Berlin",
    "Europe/London",  # 01:00 -> 02:00
    "Australia/Sydney",  # southern: spring forward in October
    "Australia/Lord_Howe",  # a 30-minute change
    "America/Santiago",  # changes at midnight: the day starts at 01:00
    "America/Havana",  # midnight too
    "Pacific/Chatham",  # +12:45 / +13:45
)
DAY_MIN = 1440
BEFORE_DAYS, AFTER_DAYS = 3, 10  # the window around each change
PRE_ROLL_MIN = DAY_MIN  # read the clock from a day earlier, so the monotone reading is settled


def transitions(zone: ZoneInfo, year: int) -> list[int]:
    """The instants (epoch seconds) in `year` at which the zone's UTC offset changes."""
    start = int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=timezone.utc).timestamp())

    def offset(t: int):
        return datetime.fromtimestamp(t, zone).utcoffset()

    out = []
    for t in range(start, end, 3600):
        if offset(t) != offset(t + 3600):
            lo, hi = t, t + 3600  # offset(lo) != offset(hi): bisect to the first second of the new one
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(mid) == offset(lo):
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
    return out


class Window:
    """Minutes [t0, t0 + n * 60) around one change, with the zone's monotone wall-clock reading of
    each minute as (local day ordinal, minute of day)."""

    def __init__(self, tz: str, change: int) -> None:
        self.tz = tz
        zone = ZoneInfo(tz)
        self.t0 = (change // 60) * 60 - BEFORE_DAYS * 86400
        self.n = (BEFORE_DAYS + AFTER_DAYS) * DAY_MIN
        self.change_index = (change - self.t0) // 60
        best: tuple[int, int] | None = None
        readings = []
        for i in range(-PRE_ROLL_MIN, self.n):
            local = datetime.fromtimestamp(self.t0 + i * 60, zone)
            r = (local.toordinal(), local.hour * 60 + local.minute)
            if best is None or r > best:
                best = r
            if i >= 0:
                readings.append(best)
        self.readings = readings
        self.days = sorted({d for d, _ in readings})

    def prefix(self, cal_hours: dict[int, list[tuple[int, int]]] | None, holidays: set[str]) -> list[int]:
        """Business minutes of [t0, t0 + i * 60) for each i, by the referee's rule."""
        marks: dict[int, bytearray] = {}
        for day in [self.days[0] - 1, *self.days]:
            marks[day] = bytearray(2 * DAY_MIN)  # minute of `day`, and of the day after (overnight)
            d = datetime.fromordinal(day).date()
            if d.isoformat() in holidays:
                continue
            ranges = [(0, DAY_MIN)] if cal_hours is None else cal_hours.get(d.weekday(), [])
            for a, b in ranges:
                marks[day][a:b] = b"\x01" * (b - a)
        flags = []
        for d, m in self.readings:
            flags.append(1 if marks[d][m] or marks[d - 1][m + DAY_MIN] else 0)
        return [0, *itertools.accumulate(flags)]


def _hhmm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def random_calendar(rng: random.Random, tz: str, change_day: str) -> tuple[Calendar, dict | None, set[str]]:
    """A calendar and the referee's reading of it: weekday -> [(start, end)] in minutes, end past
    1440 for overnight ranges (None for 24/7), and the holidays."""
    holidays = set()
    if rng.random() < 0.25:
        holidays.add(change_day)
    if rng.random() < 0.15:
        return Calendar(tz, None, frozenset(holidays)), None, holidays
    hours: dict[int, list[tuple[str, str]]] = {}
    ref: dict[int, list[tuple[int, int]]] = {}
    for wd in rng.sample(range(7), rng.randint(1, 7)):
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.6:  # around the changes: 00:00-03:59
                a = rng.randrange(0, 4 * 60)
            else:
                a = rng.randrange(0, DAY_MIN)
            if rng.random() < 0.5:
                a -= a % 15
            kind = rng.random()
            if kind < 0.1:
                b_text, b = "24:00", DAY_MIN
            elif kind < 0.2:
                b_text, b = _hhmm(a), a + DAY_MIN  # equal ends: a full day from the start
            else:
                b = a + rng.randint(1, 20 * 60)  # may run overnight
                b_text = _hhmm(b % DAY_MIN)
                if b % DAY_MIN == 0 and b == DAY_MIN:
                    b_text = "24:00"
            hours.setdefault(wd, []).append((_hhmm(a), b_text))
            ref.setdefault(wd, []).append((a, b if b > a else b + DAY_MIN))
    return Calendar(tz, hours, frozenset(holidays)), ref, holidays


def test_calendar_agrees_with_a_minute_stepping_referee_around_dst() -> None:
    rng = random.Random(19)
    windows = [Window(tz, change) for tz in ZONES for change in transitions(ZoneInfo(tz), 2026)]
    assert len(windows) >= 14  # the zone data has the 2026 changes
    mismatches: list[str] = []
    cases = 0
    for w in windows:
        change_day = datetime.fromtimestamp(w.t0 + w.change_index * 60, ZoneInfo(w.tz)).date().isoformat()
        for _ in range(12):
            cal, ref_hours, holidays = random_calendar(rng, w.tz, change_day)
            prefix = w.prefix(ref_hours, holidays)
            for _ in range(20):
                # starts: mostly within a day of the change, else anywhere in the first days
                if rng.random() < 0.7:
                    s = max(0, w.change_index + rng.randint(-DAY_MIN, DAY_MIN))
                else:
                    s = rng.randrange(0, 4 * DAY_MIN)
                e = min(w.n, s + rng.randint(0, 4 * DAY_MIN))
                start, end = w.t0 + s * 60, w.t0 + e * 60
                want = (prefix[e] - prefix[s]) * 60
                got = cal.business_seconds_between(start, end)
                cases += 1
                if got != want:
                    mismatches.append(f"between {cal!r} {start} {end}: engine {got}, referee {want}")
                # the earliest instant from which x business minutes run up to `end` (when the
                # window holds business time before it, so the answer is inside the window)
                x = rng.randint(0, prefix[e])
                j = bisect.bisect_left(prefix, prefix[e] - x)
                if j > 0:
                    want_from = w.t0 + j * 60
                    got_from = cal.business_seconds_before(end, x * 60)
                    cases += 1
                    if got_from != want_from:
                        mismatches.append(f"before {cal!r} {end} -{x} min: engine {got_from}, referee {want_from}")
                available = prefix[w.n] - prefix[s]
                if available <= 0:
                    continue
                x = rng.randint(1, min(available, 3 * DAY_MIN))
                j = bisect.bisect_left(prefix, prefix[s] + x, lo=s)
                want_at = w.t0 + j * 60
                got_at = cal.add_business_seconds(start, x * 60)
                cases += 1
                if got_at != want_at:
                    mismatches.append(f"add {cal!r} {start} +{x} min: engine {got_at}, referee {want_at}")
    assert cases > 5000
    assert not mismatches, f"{len(mismatches)} of {cases} cases disagree, e.g.\n" + "\n".join(mismatches[:5])
