"""Supervisor metrics over HTTP: the live wall and KPI reports (the SQL is backend/metrics.py).

Supervisor tokens only (401 without a valid token, 403 for other roles; errors are ServiceError JSON).

    GET /api/v1/metrics/wall?tz=UTC&at_risk_minutes=15&trend_hours=12
    GET /api/v1/metrics/report?from=YYYY-MM-DD&to=YYYY-MM-DD&by=queue|agent|day&tz=UTC
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any, Optional

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from agent_tui import kpi
from backend import metrics as M
from backend.service import ServiceError, agent_for

API = "/api/v1"

router = APIRouter(tags=["metrics"])


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def supervisor(request: Request, authorization: Optional[str] = Header(None)) -> dict:
    """The caller's agent row; 401 without a valid Bearer token, 403 unless a supervisor."""
    agent = agent_for(request.app.state.engine, authorization)
    if agent["role"] != "supervisor":
        raise ServiceError(403, "forbidden", "Metrics need a supervisor token.")
    return agent


def _targets(request: Request) -> dict[str, kpi.Target]:
    """DEFAULT_TARGETS, with overrides the app put in app.state.kpi_targets ({"fcr": 0.8, ...})."""
    return kpi.targets_with(getattr(request.app.state, "kpi_targets", None))


@router.get(f"{API}/metrics/wall")
def get_wall(
    request: Request,
    tz: str = Query("UTC", description="IANA zone whose midnight starts 'today'"),
    at_risk_minutes: float = Query(15, gt=0, le=24 * 60, description="An SLA due within this many minutes is at risk"),
    trend_hours: int = Query(12, ge=1, le=72, description="Hourly backlog points going back this far"),
    agent: dict = Depends(supervisor),
):
    """The supervisor wall: per queue, per agent, KPI tiles against targets, and the backlog trend."""
    zone = M.time_zone(tz)
    now = time.time()
    today = datetime.fromtimestamp(now, zone).date()
    body = M.read_wall(request.app.state.engine, now=now, day_start=M.local_midnight(today, zone),
                       at_risk_seconds=at_risk_minutes * 60, trend_hours=trend_hours, targets=_targets(request), tz=tz)
    return _json(body)


def _parse_day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ServiceError(422, "invalid", f"{name} must be a date like 2026-11-23, not {value[:40]!r}.") from None


@router.get(f"{API}/metrics/report")
def get_report(
    request: Request,
    from_: str = Query(..., alias="from", description="First local day, YYYY-MM-DD"),
    to: str = Query(..., description="Last local day (inclusive), YYYY-MM-DD"),
    by: str = Query("queue", description="queue | agent | day"),
    tz: str = Query("UTC", description="IANA zone of the days"),
    agent: dict = Depends(supervisor),
):
    """KPI rows for a period: FRT and resolution percentiles, SLA compliance per metric, FCR, CSAT,
    escalation rate, and the backlog at the period's end, per queue, agent or day."""
    start_day, end_day = _parse_day(from_, "from"), _parse_day(to, "to")
    if end_day < start_day:
        raise ServiceError(422, "invalid", "to is before from.")
    if (end_day - start_day).days + 1 > M.MAX_REPORT_DAYS:
        raise ServiceError(422, "invalid", f"A report covers at most {M.MAX_REPORT_DAYS} days.")
    if by not in ("queue", "agent", "day"):
        raise ServiceError(422, "invalid", f"by must be queue, agent or day, not {by[:20]!r}.")
    with request.app.state.engine.connect() as conn:
        body = M.report(conn, start_day=start_day, end_day=end_day, by=by, now=time.time(), tz=tz)
    return _json(body)
