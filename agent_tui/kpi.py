"""Support KPIs: one set of definitions for the backend's SQL aggregation and any Python computation.

Pure Python: never imports textual, widgets or themes. `backend/metrics.py` builds its SQL from
the constants and rank rule here; `compute()` is the reference implementation over plain ticket
dicts (the tests recompute the endpoint's numbers with it). The definitions, in words, are in
the README's KPI section.

A ticket dict has the backend's ticket columns: id, queue, status, assignee_id, created_at,
first_reply_at, solved_at, sla (list of metric dicts, or its JSON text), agent_replies, reopens,
escalated, csat, deleted. Times are epoch seconds (UTC). Windows are half-open: [start, end).

Window attribution (each KPI counts what happened in the window, by the instant that decides it):

* FRT: tickets whose first public agent reply is in the window; FRT = first_reply_at - created_at.
* Resolution time: tickets solved in the window (solved_at, the latest solve); solved_at - created_at.
* FCR: of the tickets solved in the window, the share solved with exactly one public agent reply
  and never reopened.
* CSAT: of the tickets solved in the window that were rated (csat 1..5), the share rated 4 or 5.
* Escalation rate: of the tickets created in the window, the share escalated.
* SLA compliance per metric: over the tickets created in the window, met / (met + missed), where
  a metric is missed iff breached_at is not None, or it is still running (stage active) with
  due_at < now (the stored state predates the breach); met iff not missed and stage achieved.
  Running and paused targets that have not missed yet are undecided and left out.
* Backlog: tickets in new, open, pending or on_hold now; backlog at an instant t (the trend) is
  created_at <= t and (solved_at is None or solved_at > t).
* Percentiles are nearest-rank: the p-th percentile of n sorted values is the value at 1-based
  rank ceil(p * n / 100) (at least 1). p50 of 4 values is the 2nd, p90 of 10 values the 9th.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

from agent_tui.sla import format_countdown
from agent_tui.vocabulary import ACTIVE_STATUSES

BACKLOG_STATUSES = ACTIVE_STATUSES
WAITING_STATUSES = ("new", "open")  # waiting on the desk: unassigned, at risk, breached, oldest
SLA_METRICS = ("first_reply", "next_reply", "periodic_update", "resolution")
CSAT_POSITIVE_MIN = 4  # ratings 4 and 5 of 1..5 count as satisfied
PERCENTILES = (50, 90)


# --- percentiles ---------------------------------------------------------------------------


def nearest_rank(p: int, n: int) -> int:
    """1-based rank of the p-th percentile (0 < p <= 100, integer) among n values: ceil(p*n/100).

    The SQL side uses the same rule without division: rank r is the one with
    r*100 >= p*n and (r-1)*100 < p*n."""
    if n <= 0:
        raise ValueError("no values")
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {p}")
    return max(1, (p * n + 99) // 100)


def percentile(values: Iterable[float], p: int) -> Optional[float]:
    """Nearest-rank percentile; None for no values."""
    vals = sorted(values)
    if not vals:
        return None
    return vals[nearest_rank(p, len(vals)) - 1]


def ratio(num: int, den: int) -> Optional[float]:
    return num / den if den else None


def mean(values: Sequence[float]) -> Optional[float]:
    return sum(values) / len(values) if values else None


# --- per ticket ----------------------------------------------------------------------------


def _in(t: Optional[float], start: float, end: float) -> bool:
    return t is not None and start <= t < end


def frt(t: dict) -> Optional[float]:
    """First reply time: first public agent reply - creation (None before the first reply)."""
    return None if t.get("first_reply_at") is None else t["first_reply_at"] - t["created_at"]


def resolution_time(t: dict) -> Optional[float]:
    return None if t.get("solved_at") is None else t["solved_at"] - t["created_at"]


def is_fcr(t: dict) -> bool:
    """Solved with exactly one public agent reply and never reopened."""
    return t.get("solved_at") is not None and int(t.get("agent_replies") or 0) == 1 and int(t.get("reopens") or 0) == 0


def sla_outcome(m: dict, now: float) -> Optional[str]:
    """"missed", "met", or None (still running or paused without a miss)."""
    if m.get("breached_at") is not None:
        return "missed"
    if m.get("stage") == "active" and m.get("due_at") is not None and m["due_at"] < now:
        return "missed"
    if m.get("stage") == "achieved":
        return "met"
    return None


def _sla_list(sla: Any) -> list[dict]:
    if sla is None or sla == "":
        return []
    if isinstance(sla, (str, bytes)):
        sla = json.loads(sla)
    return list(sla)


def is_backlog_at(t: dict, at: float) -> bool:
    return t["created_at"] <= at and (t.get("solved_at") is None or t["solved_at"] > at)


# --- the whole set -------------------------------------------------------------------------


def empty_sla() -> dict:
    return {m: {"met": 0, "missed": 0, "compliance": None} for m in SLA_METRICS}


def compute(tickets: Iterable[dict], start: float, end: float, now: float) -> dict:
    """Every KPI over `tickets` for the window [start, end), as the backend reports a row.

    The reference implementation: the backend computes the same numbers in SQL."""
    frts: list[float] = []
    res: list[float] = []
    created = escalated = solved = fcr = rated = positive = backlog = 0
    sla = empty_sla()
    for t in tickets:
        if t.get("deleted"):
            continue
        if t["status"] in BACKLOG_STATUSES:
            backlog += 1
        if _in(t.get("first_reply_at"), start, end) and (f := frt(t)) is not None:
            frts.append(f)
        if _in(t.get("solved_at"), start, end):
            solved += 1
            if (r := resolution_time(t)) is not None:  # always: solved_at is set
                res.append(r)
            fcr += is_fcr(t)
            if t.get("csat") is not None:
                rated += 1
                positive += int(t["csat"]) >= CSAT_POSITIVE_MIN
        if _in(t["created_at"], start, end):
            created += 1
            escalated += bool(t.get("escalated"))
            for m in _sla_list(t.get("sla")):
                out = sla_outcome(m, now)
                if out is not None and m.get("metric") in sla:
                    sla[m["metric"]][out] += 1
    return finish_row(
        created=created, escalated=escalated, solved=solved, fcr=fcr, rated=rated, positive=positive,
        backlog=backlog, frts=frts, resolutions=res, sla=sla,
    )


def finish_row(*, created: int, escalated: int, solved: int, fcr: int, rated: int, positive: int, backlog: int,
               frts: Optional[Sequence[float]] = None, resolutions: Optional[Sequence[float]] = None,
               frt_stats: Optional[dict] = None, resolution_stats: Optional[dict] = None, sla: dict) -> dict:
    """One KPI row from counts (and either the raw durations or their stats)."""
    for counts in sla.values():
        counts["compliance"] = ratio(counts["met"], counts["met"] + counts["missed"])
    met = sum(c["met"] for c in sla.values())
    missed = sum(c["missed"] for c in sla.values())
    return {
        "created": created,
        "escalated": escalated,
        "escalation_rate": ratio(escalated, created),
        "solved": solved,
        "fcr_count": fcr,
        "fcr": ratio(fcr, solved),
        "csat_rated": rated,
        "csat_positive": positive,
        "csat": ratio(positive, rated),
        "backlog": backlog,
        "frt": frt_stats if frt_stats is not None else duration_stats(frts or ()),
        "resolution": resolution_stats if resolution_stats is not None else duration_stats(resolutions or ()),
        "sla": sla,
        "sla_overall": {"met": met, "missed": missed, "compliance": ratio(met, met + missed)},
    }


def duration_stats(values: Sequence[float]) -> dict:
    vals = sorted(values)
    return {"n": len(vals), "mean": mean(vals), **{f"p{p}": percentile(vals, p) for p in PERCENTILES}}


def backlog_trend(tickets: Sequence[dict], points: Sequence[float]) -> list[dict]:
    return [{"at": at, "backlog": sum(1 for t in tickets if not t.get("deleted") and is_backlog_at(t, at))} for at in points]


# --- targets and tiles ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    unit: str  # ratio | seconds | count
    op: Optional[str]  # ">=" | "<=" | None (shown, not judged)
    value: Optional[float]


# From the targets exchanges publish (/work/shared/notes/helpdesk.md): SLA compliance >= 95%,
# FCR >= 78%, CSAT >= 88%, escalation rate <= 6%, resolution within 4 h. FRT: the desk-wide p90
# within the hour (chat's 30-60 s is a per-channel target; the desk mixes email and chat).
DEFAULT_TARGETS: dict[str, Target] = {t.key: t for t in (
    Target("sla", "SLA met", "ratio", ">=", 0.95),
    Target("sla_first_reply", "SLA first reply", "ratio", ">=", 0.95),
    Target("sla_next_reply", "SLA next reply", "ratio", ">=", 0.95),
    Target("sla_periodic_update", "SLA update", "ratio", ">=", 0.95),
    Target("sla_resolution", "SLA resolution", "ratio", ">=", 0.95),
    Target("frt_p50", "FRT p50", "seconds", "<=", 15 * 60),
    Target("frt_p90", "FRT p90", "seconds", "<=", 60 * 60),
    Target("resolution_p50", "Resolution p50", "seconds", "<=", 4 * 3600),
    Target("fcr", "FCR", "ratio", ">=", 0.78),
    Target("csat", "CSAT", "ratio", ">=", 0.88),
    Target("escalation_rate", "Escalations", "ratio", "<=", 0.06),
    Target("backlog", "Backlog", "count", None, None),
)}


def targets_with(overrides: Optional[dict] = None) -> dict[str, Target]:
    """DEFAULT_TARGETS with some values replaced: {"fcr": 0.8, "frt_p90": 1800}."""
    out = dict(DEFAULT_TARGETS)
    for key, value in (overrides or {}).items():
        if key not in out:
            raise ValueError(f"unknown KPI {key!r}; one of {', '.join(out)}")
        t = out[key]
        out[key] = Target(t.key, t.label, t.unit, t.op or (">=" if t.unit == "ratio" else "<="), float(value))
    return out


def judge(value: Optional[float], target: Target) -> Optional[bool]:
    """True on target, False off it, None when there is no value or no target."""
    if value is None or target.op is None or target.value is None:
        return None
    return value >= target.value if target.op == ">=" else value <= target.value


def tile_values(row: dict) -> dict[str, tuple[Optional[float], int]]:
    """KPI key -> (value, sample size) from a row made by compute()/finish_row()."""
    out: dict[str, tuple[Optional[float], int]] = {}
    o = row["sla_overall"]
    out["sla"] = (o["compliance"], o["met"] + o["missed"])
    for m in SLA_METRICS:
        c = row["sla"][m]
        out[f"sla_{m}"] = (c["compliance"], c["met"] + c["missed"])
    out["frt_p50"] = (row["frt"]["p50"], row["frt"]["n"])
    out["frt_p90"] = (row["frt"]["p90"], row["frt"]["n"])
    out["resolution_p50"] = (row["resolution"]["p50"], row["resolution"]["n"])
    out["fcr"] = (row["fcr"], row["solved"])
    out["csat"] = (row["csat"], row["csat_rated"])
    out["escalation_rate"] = (row["escalation_rate"], row["created"])
    out["backlog"] = (float(row["backlog"]), row["backlog"])
    return out


def tiles(row: dict, targets: Optional[dict[str, Target]] = None) -> list[dict]:
    """The wall's KPI tiles: value against target, ok True/False/None."""
    targets = targets or DEFAULT_TARGETS
    vals = tile_values(row)
    return [
        {"key": key, "label": t.label, "unit": t.unit, "value": vals[key][0], "n": vals[key][1],
         "op": t.op, "target": t.value, "ok": judge(vals[key][0], t)}
        for key, t in targets.items()
    ]


# --- formatting (plain strings; the UI decides colour) ---------------------------------------


def format_duration(seconds: Optional[float]) -> str:
    """`45s`, `12m 04s`, `3h 05m`, `2d 04h`; an em dash for no value. The SLA countdown's format."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    return f"{s}s" if 0 <= s < 60 else format_countdown(s)


def format_value(value: Optional[float], unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "seconds":
        return format_duration(value)
    return f"{int(value):,}"


def format_target(target: Optional[float], op: Optional[str], unit: str) -> str:
    if target is None or op is None:
        return ""
    return f"{'≥' if op == '>=' else '≤'} {format_value(target, unit)}"
