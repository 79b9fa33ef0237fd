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
* `metric_stage`, `format_countdown`, `countdown_state`, `describe_metric` (with `pause_text`,
  which says what stops a paused clock): computed by the UI at draw time.

Choices (details in `evaluate` and `MetricState`):
* Default pauses: none, as in Zendesk (first reply time, next reply time, periodic update and
  total resolution time never pause). Pausing is the policy's explicit choice: its
  pause_statuses, or a target named after the Zendesk metric that pauses (pausable_update,
  requester_wait_time, agent_work_time; ZENDESK_METRICS).
* Solved/closed stops every clock: resolution is achieved; any other open cycle ends as
  achieved at the solve. A reopen resumes resolution with its used time, starts a fresh
  periodic_update, never brings first_reply back.
* next_reply and periodic_update report their latest cycle; `breached_at` keeps the earliest
  breach of any cycle, so "missed this target on this ticket" is `breached_at is not None`.
* `SlaResult.next_due` includes running clocks that already breached (their deadline is in
  the past), so a breached ticket sorts first and shows a negative countdown.
* A breached deadline never moves: once a clock has breached, its due_at is the deadline it
  breached (its breached_at) for good, through pauses of any length and through solved ->
  reopened, on business-hours and wall-clock policies alike. The time it ran over is still
  counted (`remaining` goes negative while it is paused), but it never makes a new deadline.
* A deadline reached exactly is met; breached means the deadline < the achieving event (or
  `now`), like Zendesk's breach_at < now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agent_tui.vocabulary import CLOSED_STATUSES as _CLOSED
from agent_tui.vocabulary import NO_DUE

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
    A range runs from the first instant the wall clock reads its start to the first instant it
    reads its end. So a local time inside a skipped hour (spring forward) means the instant of
    the change (02:30 becomes 03:00 summer time, and a range 02:30-03:00 on that day is empty),
    and an ambiguous time (fall back) means its first occurrence.
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

    def business_seconds_before(self, end: float, seconds: float) -> float:
        """The earliest wall-clock epoch from which exactly `seconds` (>= 0) of business time
        elapse up to `end`: the inverse of add_business_seconds, so the deadline a clock
        reached is found again from any later instant and the business time run since. With 0
        seconds it is the end of the last business time before `end` (or `end` itself)."""
        if seconds < 0:
            raise ValueError(f"business seconds before an instant cannot be negative, got {seconds!r}")
        if self._always:
            return end - seconds
        back = 86400.0
        while True:  # look back far enough to hold more than `seconds` of business time
            start = end - back
            total = self.business_seconds_between(start, end)
            if total > seconds:
                return self.add_business_seconds(start, total - seconds)
            back *= 2

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
    """The first instant at which the zone's wall clock reads `minutes` after midnight of `d`
    (or later): an ambiguous time (fall back) is its first occurrence, and a time the clock
    skips (spring forward) is the instant of the change, so that no range ends before it starts."""
    days, m = divmod(minutes, _DAY)
    if days:
        d = d + timedelta(days=days)
    wall = datetime(d.year, d.month, d.day, m // 60, m % 60)
    before = wall.replace(tzinfo=zone).timestamp()  # fold=0: read with the offset before a change
    if datetime.fromtimestamp(before, zone).replace(tzinfo=None) == wall:
        return before  # the wall time exists
    # Skipped: the change lies between the reading with the offset after it (earlier) and the
    # reading with the offset before it. Changes fall on whole seconds: bisect for the first
    # second whose wall time is at or past `wall`.
    lo = int(wall.replace(tzinfo=zone, fold=1).timestamp())  # reads before the change
    hi = int(before)  # reads after it
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return float(hi)


# --- policies -------------------------------------------------------------------------------

METRICS = ("first_reply", "next_reply", "periodic_update", "resolution")
EVENT_KINDS = ("created", "status", "customer_message", "agent_reply", "internal_note")
# storage.models.MESSAGE_KINDS -> TicketEvent.kind
MESSAGE_EVENT_KINDS = {"customer": "customer_message", "reply": "agent_reply", "note": "internal_note"}
CLOSED_STATUSES = _CLOSED

# Where each metric's clock stops. pending = waiting on the customer, on_hold = waiting on a
# third party (another team, a chain node). By default no clock stops, as in Zendesk: its first
# reply time, next reply time, periodic update and total resolution time never pause, so setting
# a status cannot keep a reply or an update from breaching. Pausing is a per-policy choice
# (Policy.pause_statuses), and ZENDESK_METRICS names the ones Zendesk offers.
DEFAULT_PAUSE_STATUSES: dict[str, tuple[str, ...]] = {m: () for m in METRICS}

# Zendesk's SLA metrics by its own names: (the metric here, the statuses its clock stops in).
# A Target may name one of them instead of a metric; the Policy then pauses that metric so.
# periodic_update never pauses; pausable_update pauses in pending only (not on hold). For the
# time to solve, total_resolution never pauses, requester_wait_time pauses in pending (the
# requester is not waiting then), agent_work_time pauses in pending and on_hold.
ZENDESK_METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "first_reply_time": ("first_reply", ()),
    "next_reply_time": ("next_reply", ()),
    "periodic_update": ("periodic_update", ()),
    "pausable_update": ("periodic_update", ("pending",)),
    "total_resolution": ("resolution", ()),
    "requester_wait_time": ("resolution", ("pending",)),
    "agent_work_time": ("resolution", ("pending", "on_hold")),
}


def zendesk_metric(metric: str, pauses: Iterable[str]) -> str | None:
    """The Zendesk metric that `metric` pausing in `pauses` is (e.g. resolution pausing in
    pending and on_hold is agent_work_time), or None for a pausing Zendesk has no name for."""
    want = set(pauses)
    for name, (ours, stops) in ZENDESK_METRICS.items():
        if ours == metric and set(stops) == want:
            return name
    return None


@dataclass(frozen=True)
class Target:
    """One metric's target. `metric` is one of METRICS or a Zendesk name (ZENDESK_METRICS), which
    becomes its metric here and stays in `zendesk`, for the policy's pauses."""

    metric: str  # first_reply | next_reply | periodic_update | resolution
    minutes: float
    business_hours: bool = False  # count only the policy calendar's business time
    zendesk: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.metric in ZENDESK_METRICS and (self.metric not in METRICS or not self.zendesk):
            object.__setattr__(self, "zendesk", self.metric)
            object.__setattr__(self, "metric", ZENDESK_METRICS[self.metric][0])
        if self.metric not in METRICS:
            names = ", ".join((*METRICS, *(n for n in ZENDESK_METRICS if n not in METRICS)))
            raise ValueError(f"unknown SLA metric {self.metric!r}; one of {names}")
        if self.zendesk and ZENDESK_METRICS.get(self.zendesk, ("",))[0] != self.metric:
            raise ValueError(f"{self.zendesk!r} is not a Zendesk name for the {self.metric} metric")
        if not self.minutes > 0:
            raise ValueError(f"an SLA target needs minutes > 0, got {self.minutes!r}")


@dataclass(frozen=True)
class Policy:
    """An SLA policy. Empty `queues` / `priorities` / `channels` match anything.

    `pause_statuses` maps a metric to the statuses in which its clock stops. What is given is
    laid over DEFAULT_PAUSE_STATUSES (no clock stops) and over the pausing of the Zendesk
    metrics the targets name (so `Target("agent_work_time", 480)` makes resolution pause in
    pending and on_hold, and `{"resolution": ("on_hold",)}` only in on_hold); the stored value
    is always the full, normalised mapping, so a stored policy keeps the pausing it was saved with.
    """

    id: int
    name: str
    position: int
    queues: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()
    calendar: Calendar = Calendar()
    pause_statuses: dict[str, tuple[str, ...]] = field(default_factory=dict)  # normalised: every metric
    at_risk_minutes: float = AT_RISK_SECONDS / 60

    def __post_init__(self) -> None:
        for name in ("queues", "priorities", "channels"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
        targets = tuple(t if isinstance(t, Target) else Target(**t) for t in self.targets)
        seen = [t.metric for t in targets]
        if len(seen) != len(set(seen)):
            raise ValueError(f"policy {self.name!r} has more than one target for a metric: {seen}")
        object.__setattr__(self, "targets", targets)
        pauses = dict(DEFAULT_PAUSE_STATUSES)
        for t in targets:
            if t.zendesk:
                pauses[t.metric] = ZENDESK_METRICS[t.zendesk][1]
        for metric, statuses in (self.pause_statuses or {}).items():
            if metric not in METRICS:
                raise ValueError(f"unknown SLA metric in pause_statuses: {metric!r}")
            pauses[metric] = (statuses,) if isinstance(statuses, str) else tuple(statuses)
        object.__setattr__(self, "pause_statuses", pauses)

    def __hash__(self) -> int:  # pause_statuses is a dict; equal policies share these
        return hash((self.id, self.name, self.position, self.targets))

    @property
    def at_risk_seconds(self) -> float:
        """For countdown_state(..., at_risk_seconds=policy.at_risk_seconds)."""
        return self.at_risk_minutes * 60

    def target(self, metric: str) -> Target | None:
        for t in self.targets:
            if t.metric == metric:
                return t
        return None

    def matches(self, queue: str, priority: str, channel: str) -> bool:
        return (
            (not self.queues or queue in self.queues)
            and (not self.priorities or priority in self.priorities)
            and (not self.channels or channel in self.channels)
        )


def match_policy(policies: Iterable[Policy], queue: str, priority: str, channel: str) -> Policy | None:
    """The first policy by position (then id, for ties) whose filters all match."""
    for p in sorted(policies, key=lambda p: (p.position, p.id)):
        if p.matches(queue, priority, channel):
            return p
    return None


def calendar_to_dict(c: Calendar) -> dict:
    return {
        "tz": c.tz,
        "hours": None if c.hours is None else {str(wd): [list(r) for r in ranges] for wd, ranges in c.hours.items()},
        "holidays": sorted(c.holidays),
    }


def calendar_from_dict(d: dict | None) -> Calendar:
    if not d:
        return Calendar()
    hours = d.get("hours")
    return Calendar(
        tz=d.get("tz") or "UTC",
        hours=None if hours is None else {int(wd): [tuple(r) for r in ranges] for wd, ranges in hours.items()},
        holidays=frozenset(d.get("holidays") or ()),
    )


def policy_to_dict(p: Policy) -> dict:
    """JSON-friendly: lists, string keys, no tuples or sets."""
    return {
        "id": p.id,
        "name": p.name,
        "position": p.position,
        "queues": list(p.queues),
        "priorities": list(p.priorities),
        "channels": list(p.channels),
        "targets": [{"metric": t.metric, "minutes": t.minutes, "business_hours": t.business_hours} for t in p.targets],
        "calendar": calendar_to_dict(p.calendar),
        "pause_statuses": {m: list(s) for m, s in p.pause_statuses.items()},
        "at_risk_minutes": p.at_risk_minutes,
    }


def policy_from_dict(d: dict) -> Policy:
    """The inverse of policy_to_dict; missing keys take the defaults. Raises ValueError
    (or KeyError for a missing id/name) on a malformed policy."""
    return Policy(
        id=int(d["id"]),
        name=str(d["name"]),
        position=int(d.get("position", 0)),
        queues=tuple(d.get("queues") or ()),
        priorities=tuple(d.get("priorities") or ()),
        channels=tuple(d.get("channels") or ()),
        targets=tuple(
            Target(metric=t["metric"], minutes=float(t["minutes"]), business_hours=bool(t.get("business_hours", False)))
            for t in d.get("targets") or ()
        ),
        calendar=calendar_from_dict(d.get("calendar")),
        pause_statuses={m: tuple(s) for m, s in (d.get("pause_statuses") or {}).items()},
        at_risk_minutes=float(d.get("at_risk_minutes", AT_RISK_SECONDS / 60)),
    )


# --- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketEvent:
    at: float
    kind: str  # created | status | customer_message | agent_reply (public) | internal_note
    status: str | None = None  # for kind "status": the new status


@dataclass(frozen=True)
class MetricState:
    """One metric of one ticket.

    stage: active (clock running, deadline not yet passed), paused, achieved, breached (the
    current cycle missed its deadline; stays breached after it is achieved late).
    due_at: the wall-clock deadline while the clock runs, also once breached (negative
    countdown; then it is the deadline the clock breached, which never moves); None when
    paused or finished. remaining: business seconds left while paused
    (negative when it was paused after breaching); None otherwise.
    breached_at: the earliest missed deadline of this metric on this ticket, in any cycle
    (next_reply and periodic_update have cycles), so `breached_at is not None` answers
    "did this ticket miss this target"; the stage describes the current cycle only.
    """

    metric: str
    stage: str
    due_at: float | None
    remaining: float | None
    achieved_at: float | None = None
    breached_at: float | None = None

    def to_dict(self) -> dict:
        return {
            "metric": self.metric,
            "stage": self.stage,
            "due_at": self.due_at,
            "remaining": self.remaining,
            "achieved_at": self.achieved_at,
            "breached_at": self.breached_at,
        }

    @staticmethod
    def from_dict(d: dict) -> MetricState:
        return MetricState(
            metric=d["metric"],
            stage=d["stage"],
            due_at=d.get("due_at"),
            remaining=d.get("remaining"),
            achieved_at=d.get("achieved_at"),
            breached_at=d.get("breached_at"),
        )


@dataclass(frozen=True)
class SlaResult:
    policy_id: int | None
    metrics: tuple[MetricState, ...]
    next_due: float  # earliest due_at of a running clock (breached ones included), else NO_DUE
    paused: bool  # some clock is paused and none is running

    def to_dicts(self) -> list[dict]:
        return [m.to_dict() for m in self.metrics]


def metric_stage(m: MetricState, now: float) -> str:
    """The stage at draw time: an active metric whose deadline has passed is breached."""
    if m.stage == "active" and m.due_at is not None and m.due_at < now:
        return "breached"
    return m.stage


# The statuses that can stop a clock, as a person reads them
PAUSE_REASONS = {"pending": "pending", "on_hold": "on hold"}


def pause_text(m: MetricState, status: str | None) -> str | None:
    """`paused: pending` while the metric's clock is stopped (also after it breached), naming
    the ticket's status, which is what stops it (a clock is stopped exactly while the status
    is one its policy pauses it in); plain `paused` when the status does not say why (the sla
    was computed before a status change not yet synced). None while the clock runs or is done."""
    if m.remaining is None:  # set exactly while an unfinished clock is stopped
        return None
    reason = PAUSE_REASONS.get(status or "")
    return f"paused: {reason}" if reason else "paused"


def describe_metric(m: MetricState, status: str | None, now: float, at_risk_seconds: float = AT_RISK_SECONDS) -> tuple[str, str]:
    """(glyph, text) of one metric for the SLA panel at `now`: `● 12m 04s`, `▲` under the at-risk
    threshold, `✖ breached -3m 10s` (still running), `✖ breached · paused: pending`,
    `‖ paused: on hold (45m 00s left)`, `✔ achieved`. The text is built from this module's
    words and numbers only."""
    stage = metric_stage(m, now)
    paused = pause_text(m, status)
    if stage == "active" and m.due_at is not None:
        left = m.due_at - now
        return ("▲" if left <= at_risk_seconds else "●"), format_countdown(left)
    if stage == "breached":
        if paused:
            return "✖", f"breached · {paused}"
        if m.due_at is not None and m.achieved_at is None:
            return "✖", f"breached {format_countdown(m.due_at - now)}"
        return "✖", "breached"
    if stage == "paused":
        return "‖", f"{paused or 'paused'} ({format_countdown(m.remaining or 0)} left)"
    return "✔", "achieved"


_ALWAYS = Calendar()


class _Cycle:
    """One run of one metric's clock: a budget of (business) seconds, spent while running."""

    __slots__ = ("cal", "budget", "used", "since", "due", "achieved_at", "breached_at", "open")

    def __init__(self, cal: Calendar, budget: float, t: float, running: bool) -> None:
        self.cal = cal
        self.budget = budget
        self.used = 0.0
        self.since: float | None = None  # running since; None while paused
        self.due: float | None = None
        self.achieved_at: float | None = None
        self.breached_at: float | None = None
        self.open = True
        if running:
            self.resume(t)

    def check(self, t: float) -> None:
        """Record a breach if the deadline passed before t (reaching t == due is in time)."""
        if self.since is not None and self.breached_at is None:
            assert self.due is not None  # set exactly while running
            if self.due < t:
                self.breached_at = self.due

    def resume(self, t: float) -> None:
        if not self.open or self.since is not None:
            return
        self.since = t
        left = self.budget - self.used
        if self.breached_at is not None:
            # A breached deadline never moves (issue 19): through a pause of any length, and
            # through solved -> reopened, the clock shows the deadline it breached, so the ticket
            # keeps sorting by when it breached and its countdown does not jump. Checked before
            # the budget, so no rounding of the used time can bring a deadline back.
            self.due = self.breached_at
        elif left > 0:
            self.due = self.cal.add_business_seconds(t, left)
        else:
            self.due = t  # the budget was used up exactly at the pause: in time until now

    def pause(self, t: float) -> None:
        if self.since is None:
            return
        self.check(t)
        self.used += self.cal.business_seconds_between(self.since, t)
        self.since = None
        self.due = None

    def finish(self, t: float) -> None:
        if not self.open:
            return
        self.pause(t)
        self.achieved_at = t
        self.open = False

    def reopen(self, t: float, running: bool) -> None:
        """Resume after the ticket was reopened, with the time already used still counted."""
        self.open = True
        self.achieved_at = None
        if running:
            self.resume(t)


class _Metric:
    __slots__ = ("target", "cal", "pauses", "cycle", "first_breach")

    def __init__(self, target: Target, policy: Policy) -> None:
        self.target = target
        self.cal = policy.calendar if target.business_hours else _ALWAYS
        self.pauses = policy.pause_statuses.get(target.metric, ())
        self.cycle: _Cycle | None = None
        self.first_breach: float | None = None

    def is_open(self) -> bool:
        return self.cycle is not None and self.cycle.open

    def start(self, t: float, status: str) -> None:
        """A new cycle; an earlier cycle's breach is kept in first_breach."""
        old = self.cycle
        if old is not None:
            old.finish(t)
            self._remember(old.breached_at)
        self.cycle = _Cycle(self.cal, self.target.minutes * 60, t, status not in self.pauses)

    def _remember(self, breached_at: float | None) -> None:
        if breached_at is not None and (self.first_breach is None or breached_at < self.first_breach):
            self.first_breach = breached_at

    def set_status(self, t: float, status: str) -> None:
        c = self.cycle
        if c is None or not c.open:
            return
        if status in self.pauses:
            c.pause(t)
        else:
            c.resume(t)

    def finish(self, t: float) -> None:
        if self.cycle is not None:
            self.cycle.finish(t)

    def state(self) -> MetricState | None:
        c = self.cycle
        if c is None:
            return None
        self._remember(c.breached_at)
        running = c.open and c.since is not None
        if c.breached_at is not None:
            stage = "breached"
        elif not c.open:
            stage = "achieved"
        elif running:
            stage = "active"
        else:
            stage = "paused"
        return MetricState(
            metric=self.target.metric,
            stage=stage,
            due_at=c.due if running else None,
            remaining=(c.budget - c.used) if c.open and not running else None,
            achieved_at=c.achieved_at,
            breached_at=self.first_breach,
        )


def evaluate(policy: Policy | None, events: Sequence[TicketEvent], now: float) -> SlaResult:
    """Replay a ticket's events under `policy` and report each metric as of `now`.

    Events are taken in time order (stable for equal times); all of them are applied, even
    ones later than `now` (clock skew), and `now` only decides whether a still-running clock
    has breached. The clocks start at the "created" event (else the earliest event); events
    before it count as happening at creation. Status changes are never inferred: a customer
    message on a pending ticket pauses nothing and reopens nothing unless the caller also
    sends the status event (the backend's pending -> open rule).

    * first_reply: from creation to the first agent_reply; internal notes do not count.
    * next_reply: a cycle starts with a customer_message once the first-reply window is over
      (first agent reply, or the ticket was solved), if no cycle is open; the next
      agent_reply achieves it. Only the latest cycle is reported; breached_at keeps the
      earliest breach of any cycle. Not reported until its first cycle starts.
    * periodic_update: from creation, restarted by every agent_reply while unsolved; a
      reopen starts a fresh cycle at the reopen (the reply before the solve is not held
      against it).
    * resolution: from creation to solved/closed; a reopen resumes the same clock with the
      business time already used counted. achieved_at is the latest solve.
    * Solved/closed stops every clock: resolution is achieved, and every other open cycle
      ends as achieved at the solve (solving answers the customer). A reopen does not bring
      first_reply back; a customer message that arrived while solved starts a next_reply
      cycle at the reopen.
    * Pauses: a clock stops while the status is in the metric's pause_statuses and resumes
      with the remaining (business) time when it leaves them.
    * Breach: a clock whose deadline passes before it is achieved is breached with
      breached_at = the deadline; reaching the target exactly at the deadline is in time.
    """
    if policy is None or not events or not policy.targets:
        return SlaResult(policy.id if policy is not None else None, (), NO_DUE, False)
    evs = sorted(events, key=lambda e: e.at)
    t0 = next((e.at for e in evs if e.kind == "created"), evs[0].at)

    status = "new"
    solved = False
    first_window_over = False  # first reply given, or the ticket was solved
    customer_waiting = False  # a customer message since the last agent reply / solve
    metrics = {t.metric: _Metric(t, policy) for t in policy.targets}
    first_reply = metrics.get("first_reply")
    next_reply = metrics.get("next_reply")
    periodic = metrics.get("periodic_update")
    resolution = metrics.get("resolution")
    for m in (first_reply, periodic, resolution):
        if m is not None:
            m.start(t0, status)

    for ev in evs:
        t = ev.at if ev.at > t0 else t0
        kind = ev.kind
        if kind == "agent_reply":
            first_window_over = True
            customer_waiting = False
            if first_reply is not None:
                first_reply.finish(t)
            if next_reply is not None and next_reply.is_open():
                next_reply.finish(t)
            if periodic is not None and not solved:
                periodic.start(t, status)
        elif kind == "customer_message":
            customer_waiting = True
            if next_reply is not None and not solved and first_window_over and not next_reply.is_open():
                next_reply.start(t, status)
        elif kind == "status" and ev.status:
            new = ev.status
            if new in CLOSED_STATUSES:
                if not solved:
                    solved = True
                    first_window_over = True
                    customer_waiting = False
                    for m in metrics.values():
                        m.finish(t)
                status = new
            elif solved:  # reopened
                solved = False
                status = new
                if resolution is not None and resolution.cycle is not None:
                    resolution.cycle.reopen(t, new not in resolution.pauses)
                if periodic is not None:
                    periodic.start(t, status)
                if next_reply is not None and customer_waiting:
                    next_reply.start(t, status)
            else:
                status = new
                for m in metrics.values():
                    m.set_status(t, status)
        # "created" and "internal_note" move no clock

    states = []
    next_due = NO_DUE
    running = paused = False
    for m in metrics.values():
        c = m.cycle
        if c is not None and c.open:
            c.check(now)
            if c.since is not None:
                assert c.due is not None  # set exactly while running
                running = True
                next_due = min(next_due, c.due)
            else:
                paused = True
        s = m.state()
        if s is not None:
            states.append(s)
    return SlaResult(policy.id, tuple(states), next_due, paused and not running)
