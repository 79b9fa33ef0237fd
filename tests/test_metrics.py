"""The metrics endpoints against the real backend (uvicorn in a thread) on SQLite and PostgreSQL:
supervisor-only, and every number equal to agent_tui.kpi recomputed in Python over the same rows."""

from __future__ import annotations

import json
import math
import os
import time
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select

from agent_tui import kpi
from backend import schema as S
from backend.app import create_app
from backend.metrics import router, wall
from backend.schema import create_schema, make_engine
from backend.seed import QUEUES, seed
from backend.server import ServerThread
from tests.conftest import database_url


def serve(url: str) -> ServerThread:
    app = create_app(url)
    app.include_router(router)
    return ServerThread(app).start()


def own_schema(url: str, name: str) -> str:
    """The PostgreSQL URL with its own schema first on the search path: other suites resetting
    the shared `test` database at the same time cannot deadlock or empty this one."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {name}")
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{name}"


def drop_schema(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture(params=["sqlite", "pg"])
def desk(request, tmp_path):
    url = database_url(request.param, tmp_path)
    schema = f"metrics_test_{os.getpid()}"
    own = request.param == "pg" and "search_path" not in url  # conftest may already isolate it
    if own:
        base, url = url, own_schema(url, schema)
    engine = make_engine(url)
    create_schema(engine, reset=True)
    seed(engine, tickets=300)
    server = serve(url)
    yield server, engine
    server.stop()
    engine.dispose()
    if own:
        drop_schema(base, schema)


def get(server, path: str, token: str = "demo-supervisor", **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{server.url}/api/v1{path}", headers=headers, params=params, timeout=30)


def all_tickets(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(S.tickets))]


def flat(d, prefix=""):
    """Nested dict -> {"a.b": value} so pytest.approx can compare it."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def same(got: dict, want: dict) -> None:
    g, w = flat(got), flat(want)
    assert g.keys() == w.keys()
    for k in w:
        if isinstance(w[k], float):
            assert g[k] == pytest.approx(w[k], rel=1e-9), k
        else:
            assert g[k] == w[k], k


def test_only_supervisors_see_metrics(desk):
    server, _engine = desk
    for path, params in (("/metrics/wall", {}), ("/metrics/report", {"from": "2026-01-01", "to": "2026-01-02"})):
        r = get(server, path, token="", **params)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
        r = get(server, path, token="not-a-token", **params)
        assert r.status_code == 401
        r = get(server, path, token="demo-agent", **params)
        assert r.status_code == 403
        assert r.json()["error"] == "forbidden" and r.json()["message"]
        assert get(server, path, token="demo-recovery", **params).status_code == 403
        assert get(server, path, **params).status_code == 200


def test_wall_equals_a_python_recomputation(desk):
    server, engine = desk
    r = get(server, "/metrics/wall")
    assert r.status_code == 200
    wall = r.json()
    rows = all_tickets(engine)
    live = [t for t in rows if not t["deleted"]]
    now, start = wall["generated_at"], wall["window"]["from"]
    midnight = datetime.fromtimestamp(now, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    assert start == midnight.timestamp() and wall["window"]["to"] == now

    # KPI tiles and the summary row: kpi.compute over the same rows
    ref = kpi.compute(rows, start, now, now)
    same(wall["summary"], ref)
    assert [(x["key"], x["ok"]) for x in wall["kpis"]] == [(x["key"], x["ok"]) for x in kpi.tiles(ref)]
    assert sum(x["n"] for x in wall["kpis"] if x["key"] == "backlog") == ref["backlog"] > 0

    # per queue
    risk = wall["at_risk_seconds"]
    assert risk == 900
    by_queue = {q["id"]: q for q in wall["queues"]}
    assert set(by_queue) == {q for q, _name in QUEUES}
    for qid, q in by_queue.items():
        mine = [t for t in live if t["queue"] == qid]
        waiting = [t for t in mine if t["status"] in ("new", "open")]
        for status in kpi.BACKLOG_STATUSES:
            assert q[status] == sum(t["status"] == status for t in mine), (qid, status)
        assert q["unassigned"] == sum(t["assignee_id"] is None for t in waiting)
        assert q["at_risk"] == sum(now <= t["sla_due"] < now + risk for t in waiting)
        assert q["breached"] == sum(t["sla_due"] < now for t in waiting)
        if waiting:
            oldest = min(waiting, key=lambda t: (t["created_at"], t["id"]))
            assert q["oldest"]["id"] == oldest["id"]
        else:  # a queue with nobody waiting (the recovery queue of a fresh desk)
            assert q["oldest"] is None
        frts = [kpi.frt(t) for t in mine if t["first_reply_at"] is not None and start <= t["first_reply_at"] < now]
        assert q["frt_n"] == len(frts)
        assert q["frt_p50"] == kpi.percentile(frts, 50) and q["frt_p90"] == kpi.percentile(frts, 90)
    assert sum(q["breached"] for q in wall["queues"]) > 0 and sum(q["frt_n"] for q in wall["queues"]) > 0

    # per agent (attributed by assignee)
    assert len(wall["agents"]) == 15
    for a in wall["agents"]:
        mine = [t for t in live if t["assignee_id"] == a["id"]]
        assert a["open_assigned"] == sum(t["status"] in kpi.BACKLOG_STATUSES for t in mine)
        assert a["handled_today"] == sum(t["solved_at"] is not None and start <= t["solved_at"] < now for t in mine)
        frts = [kpi.frt(t) for t in mine if t["first_reply_at"] is not None and start <= t["first_reply_at"] < now]
        assert a["frt_n"] == len(frts)
        if frts:
            assert a["frt_mean"] == pytest.approx(kpi.mean(frts))
        else:
            assert a["frt_mean"] is None
    assert sum(a["open_assigned"] for a in wall["agents"]) > 0

    # the backlog trend: hourly, ending now at the current backlog
    points = [p["at"] for p in wall["backlog_trend"]]
    assert len(points) == 13 and points[-1] == now and all(math.isclose(b - a, 3600) for a, b in zip(points, points[1:]))
    assert wall["backlog_trend"] == kpi.backlog_trend(rows, points)
    assert wall["backlog_trend"][-1]["backlog"] == ref["backlog"]


def test_wall_moves_when_a_ticket_is_solved(desk):
    server, engine = desk
    before = get(server, "/metrics/wall").json()
    tid = next(t["id"] for t in all_tickets(engine) if t["status"] == "open" and not t["deleted"])
    t = get(server, f"/tickets/{tid}").json()["ticket"]
    r = httpx.patch(f"{server.url}/api/v1/tickets/{tid}", json={"status": "solved"},
                    headers={"Authorization": "Bearer demo-supervisor", "If-Match": f'"{t["version"]}"'}, timeout=10)
    assert r.status_code == 200
    after = get(server, "/metrics/wall").json()
    assert after["summary"]["backlog"] == before["summary"]["backlog"] - 1
    assert after["summary"]["solved"] == before["summary"]["solved"] + 1


@pytest.mark.parametrize("by", ["queue", "agent", "day"])
def test_report_rows_equal_a_python_recomputation(desk, by):
    server, engine = desk
    today = datetime.now(timezone.utc).date()
    first = today - timedelta(days=3)
    r = get(server, "/metrics/report", **{"from": first.isoformat(), "to": today.isoformat(), "by": by})
    assert r.status_code == 200, r.text
    body = r.json()
    rows = all_tickets(engine)
    now = body["generated_at"]
    start = datetime(first.year, first.month, first.day, tzinfo=timezone.utc).timestamp()
    end = start + 4 * 86400
    assert body["window"] == {"from": start, "to": end}

    def backlog_at(ts, at):
        return kpi.backlog_trend(ts, [at])[0]["backlog"]

    total = kpi.compute(rows, start, end, now)
    total["backlog"] = backlog_at(rows, end)
    same(body["total"], total)
    assert body["total"]["created"] == 300  # the seed spreads 300 tickets over the last three days

    if by == "day":
        assert [x["key"] for x in body["rows"]] == [(first + timedelta(days=i)).isoformat() for i in range(4)]
        for i, got in enumerate(body["rows"]):
            d0 = start + i * 86400
            want = kpi.compute(rows, d0, d0 + 86400, now)
            want["backlog"] = backlog_at(rows, d0 + 86400)
            same({k: v for k, v in got.items() if k not in ("key", "name")}, want)
        assert sum(x["created"] for x in body["rows"]) == 300
    else:
        col = "queue" if by == "queue" else "assignee_id"
        keys = [x["key"] for x in body["rows"]]
        assert len(keys) == len(set(keys)) and len(keys) >= 5
        for got in body["rows"]:
            mine = [t for t in rows if t[col] == got["key"]]
            want = kpi.compute(mine, start, end, now)
            want["backlog"] = backlog_at(mine, end)
            same({k: v for k, v in got.items() if k not in ("key", "name")}, want)
        assert sum(x["created"] for x in body["rows"]) == 300


def test_report_refuses_bad_parameters(desk):
    server, _engine = desk
    cases = [
        {"from": "2026-13-01", "to": "2026-01-02"},
        {"from": "2026-01-05", "to": "2026-01-02"},
        {"from": "2024-01-01", "to": "2026-01-02"},
        {"from": "2026-01-01", "to": "2026-01-02", "by": "customer"},
        {"from": "2026-01-01", "to": "2026-01-02", "tz": "Mars/Olympus"},
    ]
    for params in cases:
        r = get(server, "/metrics/report", **params)
        assert r.status_code == 422, params
        assert r.json()["error"] == "invalid" and "\n" not in r.json()["message"]
    assert get(server, "/metrics/wall", tz="Nowhere/City").status_code == 422


def test_report_days_follow_the_time_zone(desk):
    server, _engine = desk
    today = date.today()
    r = get(server, "/metrics/report", **{"from": today.isoformat(), "to": today.isoformat(), "by": "day", "tz": "Asia/Tokyo"})
    assert r.status_code == 200
    start = datetime(today.year, today.month, today.day, tzinfo=__import__("zoneinfo").ZoneInfo("Asia/Tokyo")).timestamp()
    assert r.json()["window"] == {"from": start, "to": start + 86400}


# --- the SLA state's plain-column copy (schema.ticket_sla) and the wall's snapshot ----------------


def sla_rows_of(engine) -> dict[int, list[dict]]:
    with engine.connect() as conn:
        return {r.ticket_id: [dict(r._mapping)] for r in conn.execute(select(S.ticket_sla))}


def test_sla_outcome_codes_agree_with_kpi():
    """ticket_sla's per-metric code and deadline give kpi.sla_outcome at any later instant."""
    cases = [
        {"metric": "first_reply", "stage": "achieved", "achieved_at": 100.0},
        {"metric": "first_reply", "stage": "breached", "achieved_at": 400.0, "breached_at": 300.0},
        {"metric": "first_reply", "stage": "achieved", "achieved_at": 400.0, "breached_at": 300.0},
        {"metric": "resolution", "stage": "active", "due_at": 500.0},
        {"metric": "resolution", "stage": "active"},
        {"metric": "resolution", "stage": "active", "due_at": 200.0, "breached_at": 200.0},
        {"metric": "next_reply", "stage": "paused", "remaining": 60.0},
        {"metric": "next_reply", "stage": "paused", "remaining": -5.0, "breached_at": 250.0},
        {"metric": "periodic_update", "stage": "breached", "due_at": 200.0, "breached_at": 200.0},
        {"metric": "periodic_update"},
    ]
    for m in cases:
        code, due = S.sla_outcome_code(m)
        for now in (0.0, 199.0, 200.0, 200.5, 499.0, 500.0, 501.0, 1e12):
            got = ("met" if code == S.SLA_MET else "missed" if code == S.SLA_MISSED or (code == S.SLA_RUNNING and due < now) else None)
            assert got == kpi.sla_outcome(m, now), (m, now)
    row, = S.ticket_sla_rows(7, 1.0, json.dumps([cases[0], cases[3], {"metric": "custom", "stage": "achieved"}]))
    assert (row["first_reply"], row["resolution"], row["resolution_due"], row["next_reply"]) == (S.SLA_MET, S.SLA_RUNNING, 500.0, None)
    assert S.ticket_sla_rows(7, 1.0, "[]") == [] and S.ticket_sla_rows(7, 1.0, [{"metric": "custom"}]) == []


def assert_ticket_sla_matches_json(engine) -> None:
    want = {t["id"]: S.ticket_sla_rows(t["id"], t["created_at"], t["sla"]) for t in all_tickets(engine)}
    want = {k: v for k, v in want.items() if v}
    assert sla_rows_of(engine) == want
    assert sum(len(v) for v in want.values()) > 0


def test_ticket_sla_rows_follow_every_sla_write(desk):
    server, engine = desk
    assert_ticket_sla_matches_json(engine)  # the bulk seed
    headers = {"Authorization": "Bearer demo-supervisor"}
    r = httpx.post(f"{server.url}/api/v1/tickets", json={"subject": "Where is my deposit?", "queue": "deposits", "priority": "urgent",
                                                         "channel": "chat", "requester_id": 1, "body": "Sent 2 hours ago"},
                   headers=headers, timeout=10)
    assert r.status_code == 201, r.text
    new = r.json()["ticket"]
    assert new["sla"]
    r = httpx.post(f"{server.url}/api/v1/tickets/{new['id']}/messages", json={"kind": "reply", "body": "Looking into it"},
                   headers={**headers, "Idempotency-Key": "metrics-sla-1"}, timeout=10)
    assert r.status_code == 201, r.text
    t = r.json()["ticket"]
    r = httpx.patch(f"{server.url}/api/v1/tickets/{new['id']}", json={"status": "solved"},
                    headers={**headers, "If-Match": f'"{t["version"]}"'}, timeout=10)
    assert r.status_code == 200, r.text
    stages = {m["metric"]: m["stage"] for m in r.json()["ticket"]["sla"]}
    assert stages.get("resolution") == "achieved"
    assert_ticket_sla_matches_json(engine)
    # and the wall counts the solved ticket's SLA exactly as kpi.compute does from the JSON
    wall = get(server, "/metrics/wall").json()
    same(wall["summary"], kpi.compute(all_tickets(engine), wall["window"]["from"], wall["generated_at"], wall["generated_at"]))


def test_wall_sla_misses_come_due_without_a_write(desk):
    """An active target whose due_at passes is missed from then on although its row is unchanged."""
    _server, engine = desk
    rows = all_tickets(engine)
    now = max(t["created_at"] for t in rows) + 1
    start = now - 86400
    later = now + 6 * 3600
    before, after = (kpi.compute(rows, start, at, at)["sla"] for at in (now, later))
    assert sum(c["missed"] for c in after.values()) > sum(c["missed"] for c in before.values())
    for at, want in ((now, before), (later, after)):
        with engine.connect() as conn:
            body = wall(conn, now=at, day_start=start)
        same(body["summary"]["sla"], want)
        same(body["summary"], kpi.compute(rows, start, at, at))


def test_wall_leaves_deleted_tickets_out(desk):
    server, engine = desk
    start = get(server, "/metrics/wall").json()["window"]["from"]
    rows = all_tickets(engine)
    now = time.time()
    victim = next(t for t in rows if t["created_at"] >= start and t["status"] in kpi.BACKLOG_STATUSES
                  and any(kpi.sla_outcome(m, now) for m in json.loads(t["sla"])))  # its SLA counts until deleted
    r = httpx.delete(f"{server.url}/api/v1/tickets/{victim['id']}", headers={"Authorization": "Bearer demo-supervisor"}, timeout=10)
    assert r.status_code == 200
    body = get(server, "/metrics/wall").json()
    rows = all_tickets(engine)
    assert any(t["deleted"] for t in rows)
    same(body["summary"], kpi.compute(rows, start, body["generated_at"], body["generated_at"]))
    assert body["backlog_trend"] == kpi.backlog_trend(rows, [p["at"] for p in body["backlog_trend"]])


def test_an_older_database_gets_ticket_sla_backfilled(desk):
    """A database from before ticket_sla and the wall's indexes: create_schema (run at startup)
    adds them and fills ticket_sla from every ticket's sla JSON."""
    server, engine = desk
    with engine.begin() as conn:
        for ix in S.tickets.indexes:
            if ix.name.startswith("ix_srv_tickets_wall_") or ix.name == "ix_srv_tickets_deleted":
                ix.drop(conn)
        S.ticket_sla.drop(conn)
    create_schema(engine)
    assert_ticket_sla_matches_json(engine)
    with engine.connect() as conn:
        names = {ix["name"] for ix in __import__("sqlalchemy").inspect(conn).get_indexes("tickets")}
    assert {"ix_srv_tickets_wall_backlog", "ix_srv_tickets_deleted"} <= names
    body = get(server, "/metrics/wall").json()
    same(body["summary"], kpi.compute(all_tickets(engine), body["window"]["from"], body["generated_at"], body["generated_at"]))


def test_concurrent_walls_all_answer_alike(desk):
    """More walls at once than fan out on PostgreSQL: the rest run in turn, none waits on the pool."""
    from concurrent.futures import ThreadPoolExecutor

    server, engine = desk
    with ThreadPoolExecutor(8) as pool:
        bodies = [r.json() for r in pool.map(lambda _i: get(server, "/metrics/wall"), range(8))]
    rows = all_tickets(engine)
    for body in bodies:
        assert [(q["id"], q["new"], q["open"], q["unassigned"]) for q in body["queues"]] == \
               [(q["id"], q["new"], q["open"], q["unassigned"]) for q in bodies[0]["queues"]]
        same(body["summary"], kpi.compute(rows, body["window"]["from"], body["generated_at"], body["generated_at"]))
