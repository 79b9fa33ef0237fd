"""KPI definitions on a small desk where every expected number was worked out by hand."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from agent_tui import kpi

REPO = Path(__file__).resolve().parents[1]
START, END, NOW = 1000.0, 2000.0, 2000.0  # the window [1000, 2000), evaluated at 2000


def m(metric, stage, due_at=None, achieved_at=None, breached_at=None, remaining=None):
    return {"metric": metric, "stage": stage, "due_at": due_at, "remaining": remaining,
            "achieved_at": achieved_at, "breached_at": breached_at}


def t(id, created, status, first=None, solved=None, replies=0, reopens=0, csat=None, escalated=False, sla=(), deleted=False):
    return {"id": id, "queue": "deposits", "status": status, "assignee_id": None, "created_at": created,
            "first_reply_at": first, "solved_at": solved, "agent_replies": replies, "reopens": reopens, "csat": csat,
            "escalated": escalated, "sla": json.dumps(list(sla)), "deleted": deleted}


DESK = [
    # T1: FRT 60, resolved in 500, one reply, rated 5 -> FCR, CSAT positive; both SLA metrics met
    t(1, 1000, "solved", first=1060, solved=1500, replies=1, csat=5,
      sla=[m("first_reply", "achieved", achieved_at=1060), m("resolution", "achieved", achieved_at=1500)]),
    # T2: FRT 300, resolved in 800, two replies (not FCR), rated 3, escalated; first reply breached
    t(2, 1100, "closed", first=1400, solved=1900, replies=2, csat=3, escalated=True,
      sla=[m("first_reply", "breached", achieved_at=1400, breached_at=1300), m("resolution", "achieved", achieved_at=1900)]),
    # T3: FRT 120, resolved in 600, one reply but reopened once (not FCR), not rated
    t(3, 1200, "solved", first=1320, solved=1800, replies=1, reopens=1,
      sla=[m("first_reply", "achieved", achieved_at=1320), m("resolution", "achieved", achieved_at=1800)]),
    # T4: no reply yet; first_reply still "active" but due 1900 < now 2000 -> missed; resolution running -> undecided
    t(4, 1300, "new", sla=[m("first_reply", "active", due_at=1900), m("resolution", "active", due_at=5000)]),
    # T5: created before the window (escalation/SLA not counted), first reply inside it: FRT 1030 - 500 = 530
    t(5, 500, "open", first=1030, replies=1, escalated=True, sla=[m("first_reply", "breached", achieved_at=1030, breached_at=900)]),
    # T6: FRT 50; pending, resolution paused -> undecided; first reply met
    t(6, 1400, "pending", first=1450, replies=1,
      sla=[m("first_reply", "achieved", achieved_at=1450), m("resolution", "paused", remaining=100)]),
    # T7: deleted: counts nowhere
    t(7, 1500, "solved", first=1510, solved=1600, replies=1, csat=1, escalated=True, deleted=True,
      sla=[m("first_reply", "breached", breached_at=1505)]),
    # T8: solved exactly at the window's end (half-open: outside), first reply before it
    t(8, 900, "solved", first=950, solved=2000, replies=1, csat=5),
]


def test_compute_on_a_hand_worked_desk():
    row = kpi.compute(DESK, START, END, NOW)
    # FRT samples (first reply in the window): T1 60, T2 300, T3 120, T5 530, T6 50 -> [50, 60, 120, 300, 530]
    # p50 = rank ceil(0.5*5)=3 -> 120; p90 = rank ceil(0.9*5)=5 -> 530; mean = 1060/5 = 212
    assert row["frt"] == {"n": 5, "mean": 212.0, "p50": 120, "p90": 530}
    # Resolution (solved in the window): T1 500, T2 800, T3 600 -> [500, 600, 800]
    # p50 = rank ceil(1.5)=2 -> 600; p90 = rank ceil(2.7)=3 -> 800; mean = 1900/3
    assert row["resolution"]["p50"] == 600 and row["resolution"]["p90"] == 800 and row["resolution"]["n"] == 3
    assert row["resolution"]["mean"] == pytest.approx(1900 / 3)
    # Solved in the window: T1, T2, T3 (T8 at 2000 is outside, T7 deleted) -> 3; FCR only T1 -> 1/3
    assert row["solved"] == 3 and row["fcr_count"] == 1 and row["fcr"] == pytest.approx(1 / 3)
    # Rated among them: T1 (5), T2 (3) -> one of two is 4-5 -> 0.5
    assert (row["csat_rated"], row["csat_positive"], row["csat"]) == (2, 1, 0.5)
    # Created in the window: T1, T2, T3, T4, T6 = 5; escalated among them: T2 -> 1/5
    assert (row["created"], row["escalated"], row["escalation_rate"]) == (5, 1, 0.2)
    # first_reply over created-in-window: met T1, T3, T6; missed T2 (breached_at), T4 (active, 1900 < 2000) -> 3/5
    assert row["sla"]["first_reply"] == {"met": 3, "missed": 2, "compliance": 0.6}
    # resolution: met T1, T2, T3; T4 running, T6 paused -> undecided -> 3/3
    assert row["sla"]["resolution"] == {"met": 3, "missed": 0, "compliance": 1.0}
    assert row["sla"]["next_reply"]["compliance"] is None
    # overall: met 3 + 3 = 6, missed 2 -> 6/8
    assert row["sla_overall"] == {"met": 6, "missed": 2, "compliance": 0.75}
    # Backlog now: T4 new, T5 open, T6 pending -> 3
    assert row["backlog"] == 3


def test_backlog_trend_by_instant():
    # at 1250: T1 (solved 1500), T2 (1900), T3 (1800), T5 (never), T8 (2000) are open; T4, T6 not yet created -> 5
    # at 2000: T4, T5, T6 (T8 solved at 2000 is no longer open) -> 3, the same as the backlog now
    assert kpi.backlog_trend(DESK, [1250, 2000]) == [{"at": 1250, "backlog": 5}, {"at": 2000, "backlog": 3}]


def test_tiles_judge_against_targets():
    row = kpi.compute(DESK, START, END, NOW)
    tiles = {x["key"]: x for x in kpi.tiles(row)}
    assert tiles["sla"]["value"] == 0.75 and tiles["sla"]["ok"] is False and tiles["sla"]["n"] == 8
    assert tiles["frt_p50"]["value"] == 120 and tiles["frt_p50"]["ok"] is True  # 120 s <= 15 min
    assert tiles["frt_p90"]["ok"] is True  # 530 s <= 1 h
    assert tiles["resolution_p50"]["ok"] is True  # 600 s <= 4 h
    assert tiles["fcr"]["ok"] is False  # 33% < 78%
    assert tiles["csat"]["ok"] is False  # 50% < 88%
    assert tiles["escalation_rate"]["ok"] is False  # 20% > 6%
    assert tiles["sla_next_reply"]["value"] is None and tiles["sla_next_reply"]["ok"] is None
    assert tiles["backlog"]["value"] == 3 and tiles["backlog"]["ok"] is None  # shown, not judged
    relaxed = {x["key"]: x for x in kpi.tiles(row, kpi.targets_with({"fcr": 0.3, "escalation_rate": 0.25}))}
    assert relaxed["fcr"]["ok"] is True and relaxed["escalation_rate"]["ok"] is True
    with pytest.raises(ValueError):
        kpi.targets_with({"nope": 1})


@pytest.mark.parametrize("p,n,rank", [
    (50, 1, 1), (90, 1, 1), (50, 4, 2), (50, 5, 3), (90, 10, 9), (90, 11, 10), (100, 7, 7), (1, 1000, 10), (99, 100, 99),
])
def test_nearest_rank(p, n, rank):
    assert kpi.nearest_rank(p, n) == rank


def test_percentile_is_one_of_the_values():
    assert kpi.percentile([40, 10, 30, 20], 50) == 20  # rank 2 of 4, not 25
    assert kpi.percentile(range(1, 11), 90) == 9
    assert kpi.percentile([7], 90) == 7
    assert kpi.percentile([], 50) is None
    with pytest.raises(ValueError):
        kpi.nearest_rank(0, 3)


def test_sla_outcome():
    assert kpi.sla_outcome(m("first_reply", "achieved", achieved_at=5), now=10) == "met"
    assert kpi.sla_outcome(m("first_reply", "breached", breached_at=4, achieved_at=5), now=10) == "missed"
    # achieved late in an earlier cycle keeps breached_at: a miss even though the stage is achieved
    assert kpi.sla_outcome(m("next_reply", "achieved", breached_at=3, achieved_at=5), now=10) == "missed"
    assert kpi.sla_outcome(m("first_reply", "active", due_at=9), now=10) == "missed"
    assert kpi.sla_outcome(m("first_reply", "active", due_at=10), now=10) is None  # reached exactly: not yet missed
    assert kpi.sla_outcome(m("resolution", "paused", remaining=60), now=10) is None


def test_fcr_and_durations_per_ticket():
    assert kpi.frt(DESK[0]) == 60 and kpi.resolution_time(DESK[0]) == 500
    assert kpi.frt(DESK[3]) is None and kpi.resolution_time(DESK[3]) is None
    assert [kpi.is_fcr(x) for x in DESK[:4]] == [True, False, False, False]


def test_formatting():
    assert kpi.format_duration(45) == "45s"
    assert kpi.format_duration(724) == "12m 04s"
    assert kpi.format_duration(11100) == "3h 05m"
    assert kpi.format_duration(187200) == "2d 04h"
    assert kpi.format_value(0.9623, "ratio") == "96.2%"
    assert kpi.format_value(1234, "count") == "1,234"
    assert kpi.format_value(None, "ratio") == "—"
    assert kpi.format_target(0.95, ">=", "ratio") == "≥ 95.0%"


def test_kpi_and_metrics_modules_import_no_ui():
    for rel in ("agent_tui/kpi.py", "backend/metrics.py", "agent_tui/report.py"):
        tree = ast.parse((REPO / rel).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            assert not any(n.split(".")[0] in ("textual", "widgets", "themes") for n in names), (rel, names)
