"""The SLA engine: one module, used by the backend and the app. Never imports textual.

Pure Python (standard library + zoneinfo; storage.models only for constants). Times are
Unix epoch seconds (float, UTC) everywhere.

* `Calendar`: business hours in an IANA zone, with holidays. DST-correct because every
  business interval is built from local wall-clock times and converted to epoch seconds
  through zoneinfo, one local day at a time (days are cached); nothing steps by minutes.
* `Target`, `Policy`, `match_policy`, `policy_to_dict` / `policy_from_dict`: Zendesk-like
  policies; the first matching policy by position applies.
* `evaluate(policy, events, now)`: replays a ticket's events and returns the state of each
  metric (`MetricState`) and the ticket's earliest running deadline (`SlaResult.next_due`).
* `metric_stage`, `format_countdown`, `countdown_state`: computed by the UI at draw time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.models import NO_DUE

AT_RISK_SECONDS = 15 * 60  # Zendesk's amber threshold; configurable per policy


def format_countdown(seconds: float) -> str:
    """`12m 04s`, `3h 05m`, `2d 04h`; negative once breached: `-3m 10s`."""
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    if d:
        return f"{sign}{d}d {h:02d}h"
    if h:
        return f"{sign}{h}h {m:02d}m"
    return f"{sign}{m}m {sec:02d}s"


def countdown_state(due: float, paused: bool, now: float, at_risk_seconds: float = AT_RISK_SECONDS) -> str:
    """One of none, paused, ok, at_risk, breached, for colour and glyph."""
    if paused:
        return "paused"
    if due >= NO_DUE:
        return "none"
    left = due - now
    if left < 0:
        return "breached"
    if left <= at_risk_seconds:
        return "at_risk"
    return "ok"


# --- business-hours calendar ----------------------------------------------------------------

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_DAY = 24 * 60  # minutes


def _minutes(text: str) -> int:
    """"09:30" -> 570; "24:00" -> 1440 (only meaningful as an end)."""
    m = _HHMM.match(str(text).strip())
    if not m:
        raise ValueError(f"business hours must be HH:MM, got {text!r}")
    h, mi = int(m.group(1)), int(m.group(2))
    if mi > 59 or h > 24 or (h == 24 and mi):
        raise ValueError(f"not a time of day: {text!r}")
    return h * 60 + mi


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Calendar:
    """Business hours in one IANA time zone.

    `hours` maps a weekday (0=Mon..6=Sun) to local ("HH:MM", "HH:MM") ranges; a missing
    weekday has no business time. An end of "24:00" means midnight after the day; an end at
    or before the start means the range runs overnight into the next day (a night shift
    ("22:00", "06:00") belongs to the day it starts on, also for holidays). Overlapping
    ranges are counted once. `hours=None` means 24/7 in business terms, but `holidays`
    (local ISO dates) still remove whole days from it.

    Local times are converted with zoneinfo per day, so a business day that contains a DST
    change is exactly as long as the wall clock says (a 00:00-24:00 day lasts 23 h or 25 h).
    A local time inside a skipped hour (spring forward) is read with the offset from before
    the change (02:30 becomes 03:30 summer time), as Python does; an ambiguous time (fall
    back) means its first occurrence.
    """

    tz: str = "UTC"
    hours: dict[int, list[tuple[str, str]]] | None = None
    holidays: frozenset[str] = frozenset()
    # derived, set in __post_init__
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _spans: tuple[tuple[tuple[int, int], ...], ...] = field(init=False, repr=False, compare=False)
    _always: bool = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc
        holidays = frozenset(str(h) for h in self.holidays)
        for h in holidays:
            date.fromisoformat(h)  # raises ValueError for a malformed date
        spans: list[tuple[tuple[int, int], ...]]
        if self.hours is None:
            norm = None
            spans = [((0, _DAY),)] * 7
        else:
            norm = {}
            spans = [()] * 7
            for wd, ranges in self.hours.items():
                wd = int(wd)
                if not 0 <= wd <= 6:
                    raise ValueError(f"weekday must be 0 (Mon) .. 6 (Sun), got {wd}")
                day: list[tuple[int, int]] = []
                for start, end in ranges:
                    a, b = _minutes(start), _minutes(end)
                    if a >= _DAY:
                        raise ValueError(f"a range cannot start at {start!r}")
                    if b <= a:
                        b += _DAY  # overnight
                    day.append((a, b))
                if day:
                    day.sort()
                    spans[wd] = tuple(day)
                    norm[wd] = [(_hhmm(a), _hhmm(b % _DAY if b != _DAY else _DAY)) for a, b in day]
            if not norm:
                raise ValueError("a calendar needs business hours on at least one weekday (or hours=None for 24/7)")
            norm = dict(sorted(norm.items()))
        object.__setattr__(self, "hours", norm)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_spans", tuple(spans))
        object.__setattr__(self, "_always", norm is None and not holidays)
        object.__setattr__(self, "_hash", hash((self.tz, self._spans, holidays)))

    def __hash__(self) -> int:  # `hours` is a dict, so hash the normalised form
        return self._hash

    def _intervals(self, start: float) -> Iterator[tuple[float, float]]:
        """Business intervals (epoch start, epoch end) in order of start, beginning with the
        local day before `start` (whose overnight ranges may reach into it). Endless."""
        day = datetime.fromtimestamp(start, self._zone).date().toordinal() - 1
        while True:
            yield from _day_intervals(self, day)
            day += 1

    def add_business_seconds(self, start: float, seconds: float) -> float:
        """The wall-clock epoch at which `seconds` of business time have elapsed after
        `start`. Time before the next business interval does not count, so 0 seconds from
        outside business hours is still `start` itself; negative seconds return `start`."""
        if seconds <= 0:
            return start
        if self._always:
            return start + seconds
        left = seconds
        cursor = start
        for a, b in self._intervals(start):
            if b <= cursor:
                continue
            if a < cursor:
                a = cursor
            span = b - a
            if span >= left:
                return a + left
            left -= span
            cursor = b
        raise AssertionError("unreachable")  # pragma: no cover - _intervals is endless

    def business_seconds_between(self, start: float, end: float) -> float:
        """Business seconds in [start, end); 0 when end <= start."""
        if end <= start:
            return 0.0
        if self._always:
            return end - start
        total = 0.0
        cursor = start
        for a, b in self._intervals(start):
            if a >= end:
                break
            if b <= cursor:
                continue
            if a < cursor:
                a = cursor
            if b > end:
                b = end
            total += b - a
            cursor = b
        return total


@lru_cache(maxsize=8192)
def _day_intervals(cal: Calendar, ordinal: int) -> tuple[tuple[float, float], ...]:
    """The business intervals that start on one local day, as epoch seconds."""
    d = date.fromordinal(ordinal)
    if d.isoformat() in cal.holidays:
        return ()
    zone = cal._zone
    out = []
    for a, b in cal._spans[d.weekday()]:
        out.append((_local_epoch(d, a, zone), _local_epoch(d, b, zone)))
    return tuple(out)


def _local_epoch(d: date, minutes: int, zone: ZoneInfo) -> float:
    days, m = divmod(minutes, _DAY)
    if days:
        d = d + timedelta(days=days)
    return datetime(d.year, d.month, d.day, m // 60, m % 60, tzinfo=zone).timestamp()
