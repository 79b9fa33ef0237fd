"""Benchmark: GET /api/v1/metrics/wall over HTTP on a big desk, on PostgreSQL and SQLite.

    python bench/metrics_wall.py [--requests 50] [--sqlite-only]

The desk: the demo seed (5 queues, SLA policies, 15 agents), then 985 more agents and 50,000
open tickets (new/open/pending/on_hold, created over the last three days, with real SLA state
from agent_tui.sla, and its ticket_sla copy as the seed writes it) plus 5,000 solved in the last
day, bulk-inserted with Core executemany, then ANALYZE (VACUUM ANALYZE on PostgreSQL, as
autovacuum leaves a bulk-loaded table).
The server is the real app with the metrics router, under uvicorn in a thread; the client is one
httpx.Client doing ~50 sequential requests after 3 warm-ups. PostgreSQL gets a schema of its own
in the `test` database (AGENT_TUI_TEST_PG to change), dropped afterwards.

Baseline in the same run: the same wall numbers computed the naive way, pulling every ticket
row into Python and running agent_tui.kpi.compute over them (what the SQL aggregation avoids).

Ends with `metrics_wall_p95_pg: X ms (goal <= 100)` and `metrics_wall_p95_sqlite: X ms (goal none)`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import httpx  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from agent_tui import kpi  # noqa: E402
from backend import schema as S  # noqa: E402
from backend import service as svc  # noqa: E402
from backend.app import create_app  # noqa: E402
from backend.routers.metrics import router  # noqa: E402
from backend.seed import default_policies, seed  # noqa: E402
from backend.server import ServerThread  # noqa: E402

PG_URL = os.environ.get("AGENT_TUI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
AGENTS = 1_000
OPEN = 50_000
SOLVED = 5_000
CHUNK = 5_000


def insert_tickets(conn, rows: list[dict]) -> None:
    """Tickets and their SLA state's plain-column copy (schema.ticket_sla), as the seed writes them."""
    conn.execute(insert(S.tickets), rows)
    conn.execute(insert(S.ticket_sla), [r for t in rows for r in S.ticket_sla_rows(t["id"], t["created_at"], t["sla"])])


def bulk_seed(engine, now: float) -> None:
    """The demo seed, then agents and tickets by executemany (SLA state evaluated per ticket)."""
    seed(engine, tickets=100, now=now, messages=False)
    rng = random.Random(11)
    policies = default_policies()
    with svc.write(engine) as conn:
        n_existing = conn.execute(select(S.agents.c.id)).all()
        extra = AGENTS - len(n_existing)
        last = svc.next_seq(conn, extra + OPEN + SOLVED)
        seq = last - (extra + OPEN + SOLVED)
        presences = ["online", "online", "away", "offline"]
        agent_rows = []
        for i in range(extra):
            seq += 1
            agent_rows.append({"name": f"Agent {i:04d}", "email": f"a{i}@desk.example", "role": "agent",
                               "token": uuid.UUID(int=rng.getrandbits(128)).hex, "presence": rng.choice(presences),
                               "current_ticket_id": None, "updated_at": now, "seq": seq})
        conn.execute(insert(S.agents), agent_rows)
        agent_ids = [r[0] for r in conn.execute(select(S.agents.c.id))]
        queues = ["deposits", "security", "kyc", "trading", "vip"]
        next_id = int(conn.execute(select(S.tickets.c.id).order_by(S.tickets.c.id.desc()).limit(1)).scalar() or 0) + 1
        rows = []
        for n in range(OPEN + SOLVED):
            solved = n >= OPEN
            queue, priority = rng.choice(queues), rng.choice(["low", "normal", "normal", "high", "urgent"])
            channel = rng.choice(["chat", "email", "telegram", "web"])
            created = now - (rng.uniform(60, 86400) if solved else rng.uniform(60, 3 * 86400))
            events = [(created, "created", "new"), (created, "customer_message", None)]
            status, first, solved_at, replies = "new", None, None, 0
            if solved or rng.random() < 0.7:
                first = created + rng.uniform(30, min(now - created, 4 * 3600))
                replies = 1
                events += [(first, "agent_reply", None), (first, "status", "open")]
                status = "open"
                if solved:
                    solved_at = first + rng.uniform(0, now - first)
                    events.append((solved_at, "status", "solved"))
                    status = "solved"
                elif rng.random() < 0.35:
                    status = rng.choice(["pending", "on_hold"])
                    events.append((first + rng.uniform(0, now - first), "status", status))
            due, sla_json = svc.evaluate_sla(policies, queue, priority, channel, events, now)
            seq += 1
            rows.append({
                "id": next_id + n, "subject": f"Ticket {n}", "queue": queue, "status": status, "priority": priority,
                "channel": channel, "requester_id": rng.randint(1, 50), "assignee_id": None if status == "new" and rng.random() < 0.6 else rng.choice(agent_ids),
                "tags": "[]", "language": "en", "created_at": created, "updated_at": max(e[0] for e in events), "version": 1,
                "first_reply_at": first, "solved_at": solved_at, "sla_due": due, "sla": sla_json, "agent_replies": replies + (rng.random() < 0.2),
                "reopens": int(rng.random() < 0.05), "escalated": rng.random() < 0.05,
                "csat": rng.choice([None, 5, 4, 3, 1]) if solved else None, "deleted": False, "merged_into": None, "seq": seq,
            })
            if len(rows) == CHUNK:
                insert_tickets(conn, rows)
                rows = []
        if rows:
            insert_tickets(conn, rows)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT MAX(id) FROM tickets) + 1, false)")
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('agents', 'id'), (SELECT MAX(id) FROM agents) + 1, false)")
    # Statistics, and on PostgreSQL the visibility map, as autovacuum leaves a table after a bulk
    # load (its insert threshold is 1,000 rows): the wall's aggregates are index-only scans, which
    # skip the heap only on all-visible pages. Outside a transaction: an ANALYZE in the connection's
    # implicit transaction was rolled back at close, so the planner had no statistics at all.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def p95(values: list[float]) -> float:
    return sorted(values)[kpi.nearest_rank(95, len(values)) - 1]


def run(url: str, requests: int) -> dict:
    engine = S.make_engine(url)
    S.create_schema(engine, reset=True)
    t0 = time.perf_counter()
    bulk_seed(engine, time.time())
    seeded = time.perf_counter() - t0
    app = create_app(url)
    app.include_router(router)
    server = ServerThread(app).start()
    times: list[float] = []
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer demo-supervisor"}, timeout=60) as client:
            for i in range(3 + requests):
                t = time.perf_counter()
                r = client.get("/api/v1/metrics/wall")
                dt = (time.perf_counter() - t) * 1000
                r.raise_for_status()
                if i >= 3:
                    times.append(dt)
            body = r.json()
        naive = []
        for _ in range(3):  # the baseline: every ticket into Python
            t = time.perf_counter()
            with engine.connect() as conn:
                rows = [dict(x._mapping) for x in conn.execute(select(S.tickets))]
            kpi.compute(rows, body["window"]["from"], time.time(), time.time())
            naive.append((time.perf_counter() - t) * 1000)
    finally:
        server.stop()
        engine.dispose()
    assert len(body["agents"]) == AGENTS and body["summary"]["backlog"] >= OPEN
    return {"p50": statistics.median(times), "p95": p95(times), "max": max(times), "seeded": seeded,
            "naive": statistics.median(naive), "backlog": body["summary"]["backlog"], "bytes": len(r.content)}


def own_pg_schema() -> tuple[str, str]:
    import psycopg

    name = f"bench_metrics_{os.getpid()}"
    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in PG_URL else "?"
    return name, f"{PG_URL}{sep}options=-csearch_path%3D{name}"


def drop_pg_schema(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def report(label: str, r: dict, requests: int) -> None:
    print(f"  {label:<10} seed {r['seeded']:5.1f} s   wall p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  max {r['max']:6.1f} ms"
          f"   ({requests} requests, {r['bytes'] / 1024:.0f} KiB, backlog {r['backlog']:,})")
    print(f"  {'':<10} baseline: all tickets into Python + kpi.compute {r['naive']:6.1f} ms  ({r['naive'] / r['p50']:.1f}x the wall's p50)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--sqlite-only", action="store_true")
    a = ap.parse_args()
    results = {}
    if not a.sqlite_only:
        try:
            name, url = own_pg_schema()
        except Exception as exc:
            print(f"PostgreSQL unreachable at {PG_URL} ({type(exc).__name__}); skipping it", file=sys.stderr)
        else:
            try:
                results["pg"] = run(url, a.requests)
            finally:
                drop_pg_schema(name)
    with tempfile.TemporaryDirectory() as d:
        results["sqlite"] = run(f"sqlite:///{Path(d) / 'bench.db'}", a.requests)
    print(f"\n{AGENTS:,} agents, {OPEN:,} open + {SOLVED:,} solved tickets; HTTP over loopback, uvicorn in a thread")
    for label, r in results.items():
        report(label, r, a.requests)
    print()
    if "pg" in results:
        print(f"metrics_wall_p95_pg: {results['pg']['p95']:.1f} ms (goal <= 100)")
    print(f"metrics_wall_p95_sqlite: {results['sqlite']['p95']:.1f} ms (goal none)")


if __name__ == "__main__":
    main()
