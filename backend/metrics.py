"""Supervisor metrics: the live wall and KPI reports, aggregated in SQL (SQLite and PostgreSQL).

The HTTP routes are backend/routers/metrics.py (``backend.metrics.router`` still names its router).

The KPI definitions live in agent_tui/kpi.py (and the README's KPI section); this module computes the
same numbers with GROUP BY / FILTER / window functions over the tickets table, never by looping
over tickets in Python. Percentiles are nearest-rank over the durations of the window only:
picked from a sorted array_agg by integer rank arithmetic on PostgreSQL, with ROW_NUMBER()
elsewhere. SLA compliance reads schema.ticket_sla (each ticket's per-metric outcome in plain
columns, written with its sla JSON), not the JSON. The wall's aggregates each read one range of
a covering partial index (schema.py's ix_srv_tickets_wall_*), all in one snapshot.

    GET /api/v1/metrics/wall?tz=UTC&at_risk_minutes=15&trend_hours=12
    GET /api/v1/metrics/report?from=YYYY-MM-DD&to=YYYY-MM-DD&by=queue|agent|day&tz=UTC
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Integer, and_, case, cast, func, literal, literal_column, or_, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by, array_agg
from sqlalchemy.engine import Connection, Engine

from agent_tui import kpi
from backend import schema as S
from backend.service import ServiceError

MAX_REPORT_DAYS = 366
T = S.tickets.c


def time_zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError(422, "invalid", f"Unknown time zone {tz!r}; use an IANA name like Europe/Malta.") from None


def local_midnight(d: date, zone: ZoneInfo) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=zone).timestamp()


# --- building blocks --------------------------------------------------------------------------

_LIVE = T.deleted.is_(False)
_BACKLOG = T.status.in_(kpi.BACKLOG_STATUSES)
_WAITING = T.status.in_(kpi.WAITING_STATUSES)

KeyFn = Callable[[Any], Any]  # time column -> grouping expression, or None for one group "all"
ALL = "all"


def _k(key):
    """The group key as a selected column ("all" when not grouped)."""
    return key if key is not None else literal_column("'all'")


def _grouped(q, key):
    return q.group_by(key) if key is not None else q


def _count(cond) -> Any:
    return func.sum(case((cond, 1), else_=0))


def _in(col, start: float, end: float):
    return and_(col >= start, col < end)


def duration_stats(conn: Connection, keyf: KeyFn, time_col, start_col, where) -> dict[Any, dict]:
    """Per group: n, mean and nearest-rank p50/p90 of (time_col - start_col) over the rows in `where`."""
    key = keyf(time_col)
    return grouped_durations(conn, key, time_col - start_col, where)[0]


def grouped_durations(conn: Connection, key, value, where, total: bool = False) -> tuple[dict[Any, dict], Optional[dict]]:
    """Per group of `key` (one group "all" for None): n, mean and nearest-rank p50/p90 of `value`
    over the rows in `where`; with total=True, the same over all the rows too, from the same scan.

    PostgreSQL: each group's values sorted by array_agg(v ORDER BY v), and the elements at rank
    greatest(1, (p*n + 99) / 100) (integer arithmetic: kpi.nearest_rank) picked in SQL; the total
    is the () grouping set. Elsewhere: ROW_NUMBER() over each group's durations, and only the
    rows at the percentile ranks come back (rank r with r*100 >= p*n and (r-1)*100 < p*n)."""
    if conn.dialect.name == "postgresql":
        return _durations_pg(conn, key, value, where, total)
    return _durations_ranked(conn, key, value, where, total)


def _durations_pg(conn: Connection, key, value, where, total: bool) -> tuple[dict[Any, dict], Optional[dict]]:
    aggs = [func.count().label("n"), func.avg(value).label("mean"), array_agg(aggregate_order_by(value, value)).label("a")]
    if key is None:
        inner = select(_k(None).label("k"), literal(0).label("g"), *aggs).where(where)
    elif total:
        inner = select(key.label("k"), func.grouping(key).label("g"), *aggs).where(where).group_by(func.grouping_sets(key, tuple_()))
    else:
        inner = select(key.label("k"), literal(0).label("g"), *aggs).where(where).group_by(key)
    c = inner.subquery().c
    picks = [c.a[func.greatest(1, (p * c.n + 99) // 100)] for p in kpi.PERCENTILES]
    out: dict[Any, dict] = {}
    tot = _empty_stats() if total else None
    for k, g, n, mean, *vals in conn.execute(select(c.k, c.g, c.n, c.mean, *picks)).all():
        if not n:
            continue
        d = {"n": int(n), "mean": float(mean), **{f"p{p}": float(v) for p, v in zip(kpi.PERCENTILES, vals)}}
        if g:
            tot = d
        else:
            out[k] = d
    return out, tot


def _durations_ranked(conn: Connection, key, value, where, total: bool) -> tuple[dict[Any, dict], Optional[dict]]:
    # per group (and with total=True over all rows too, ranked in the same scan)
    windows = [(key, "")] + ([(None, "_t")] if total and key is not None else [])
    cols = [_k(key).label("k"), value.label("v")]
    for part, sfx in windows:
        cols += [func.row_number().over(partition_by=part, order_by=value).label("rn" + sfx),
                 func.count().over(partition_by=part).label("n" + sfx), func.avg(value).over(partition_by=part).label("mean" + sfx)]
    c = select(*cols).where(where).subquery().c
    rank_conds = [and_(c["rn" + sfx] * 100 >= p * c["n" + sfx], (c["rn" + sfx] - 1) * 100 < p * c["n" + sfx])
                  for p in kpi.PERCENTILES for _part, sfx in windows]
    rows = conn.execute(select(*c).where(or_(*rank_conds))).all()
    found: dict[str, dict[Any, dict]] = {sfx: {} for _part, sfx in windows}
    for r in rows:
        m = r._mapping
        for _part, sfx in windows:
            k = m["k"] if sfx == "" else ALL
            n, rn = int(m["n" + sfx]), m["rn" + sfx]
            d = found[sfx].setdefault(k, {"n": n, "mean": float(m["mean" + sfx]), **{f"p{p}": None for p in kpi.PERCENTILES}})
            for p in kpi.PERCENTILES:
                if rn == kpi.nearest_rank(p, n):
                    d[f"p{p}"] = float(m["v"])
    if not total:
        return found[""], None
    if key is None:
        return found[""], found[""].get(ALL, _empty_stats())
    return found[""], found["_t"].get(ALL, _empty_stats())


def _empty_stats() -> dict:
    return {"n": 0, "mean": None, **{f"p{p}": None for p in kpi.PERCENTILES}}


def sla_counts(conn: Connection, keyf: KeyFn, start: float, end: float, now: float) -> dict[Any, dict]:
    """Per group and metric: met / missed over the tickets created in [start, end) (kpi.sla_outcome).

    One aggregate over schema.ticket_sla (a row per ticket: each metric's outcome code and its
    deadline while running, with the ticket's created_at) on its created_at index: met is
    SLA_MET, missed is SLA_MISSED or SLA_RUNNING with the deadline before `now`. Ungrouped, the
    deleted tickets are left out with an anti-join on their small partial index; grouped, the
    rows join their tickets for the group key."""
    s = S.ticket_sla.c
    cols = []
    for m in kpi.SLA_METRICS:
        code, due = s[m], s[f"{m}_due"]
        cols += [func.count().filter(code == S.SLA_MET), func.count().filter(or_(code == S.SLA_MISSED, and_(code == S.SLA_RUNNING, due < now)))]
    window = _in(s.created_at, start, end)
    key = keyf(T.created_at)
    if key is None:
        q = select(_k(None), *cols).where(window, s.ticket_id.not_in(select(T.id).where(T.deleted.is_(True))))
    else:
        q = (select(_k(key), *cols).select_from(S.ticket_sla.join(S.tickets, T.id == s.ticket_id))
             .where(window, _LIVE).group_by(key))
    out: dict[Any, dict] = {}
    for k, *counts in conn.execute(q).all():
        d = out.setdefault(k, kpi.empty_sla())
        for i, m in enumerate(kpi.SLA_METRICS):
            d[m]["met"] += int(counts[2 * i] or 0)
            d[m]["missed"] += int(counts[2 * i + 1] or 0)
    return out


def kpi_rows(conn: Connection, keyf: KeyFn, start: float, end: float, now: float,
             backlog: Optional[dict[Any, int]] = None) -> dict[Any, dict]:
    """Every KPI of kpi.compute() per group, with each KPI attributed by its own instant."""
    ck, sk = keyf(T.created_at), keyf(T.solved_at)
    created = {
        r.k: r for r in conn.execute(_grouped(
            select(_k(ck).label("k"), func.count().label("created"), _count(T.escalated.is_(True)).label("escalated"))
            .where(_LIVE, _in(T.created_at, start, end)), ck)) if r.created
    }
    solved = {
        r.k: r for r in conn.execute(_grouped(
            select(_k(sk).label("k"), func.count().label("solved"),
                   _count(and_(T.agent_replies == 1, T.reopens == 0)).label("fcr"),
                   _count(T.csat.is_not(None)).label("rated"), _count(T.csat >= kpi.CSAT_POSITIVE_MIN).label("positive"))
            .where(_LIVE, _in(T.solved_at, start, end)), sk)) if r.solved
    }
    frt = duration_stats(conn, keyf, T.first_reply_at, T.created_at, and_(_LIVE, _in(T.first_reply_at, start, end)))
    res = duration_stats(conn, keyf, T.solved_at, T.created_at, and_(_LIVE, _in(T.solved_at, start, end)))
    sla = sla_counts(conn, keyf, start, end, now)
    keys = set(created) | set(solved) | set(frt) | set(res) | set(sla) | set(backlog or {})
    out = {}
    for k in keys:
        c, s = created.get(k), solved.get(k)
        out[k] = kpi.finish_row(
            created=int(c.created) if c else 0, escalated=int(c.escalated or 0) if c else 0,
            solved=int(s.solved) if s else 0, fcr=int(s.fcr or 0) if s else 0,
            rated=int(s.rated or 0) if s else 0, positive=int(s.positive or 0) if s else 0,
            backlog=(backlog or {}).get(k, 0), frt_stats=frt.get(k, _empty_stats()),
            resolution_stats=res.get(k, _empty_stats()), sla=sla.get(k, kpi.empty_sla()),
        )
    return out


def _one(_col):
    return None


def backlog_at(conn: Connection, points: list[float], key=None) -> dict[Any, list[int]]:
    """Backlog at each instant (created_at <= t and not solved by t), one scan with a CASE per point."""
    cols = [_count(and_(T.created_at <= t, or_(T.solved_at.is_(None), T.solved_at > t))) for t in points]
    q = select(_k(key), *cols).where(_LIVE, T.created_at <= max(points), or_(T.solved_at.is_(None), T.solved_at > min(points)))
    return {r[0]: [int(x or 0) for x in r[1:]] for r in conn.execute(_grouped(q, key)) if any(r[1:])}


def _since_counts(conn: Connection, col, points: list[float], now: float) -> list[int]:
    """For each instant t of `points` (ascending): how many live tickets have t < col <= now.

    One range scan of col's index over (points[0], now]: each row falls in the bucket of the
    last point it is after, and the count since point i is the sum of the buckets from i on."""
    bucket = case(*[(col > t, literal(i)) for i, t in reversed(list(enumerate(points)))], else_=literal(-1))
    per = [0] * len(points)
    for b, n in conn.execute(select(bucket, func.count()).where(_LIVE, col > points[0], col <= now).group_by(bucket)).all():
        if b is not None and 0 <= int(b) < len(points):
            per[int(b)] += int(n)
    out, acc = [0] * len(points), 0
    for i in range(len(points) - 1, -1, -1):
        acc += per[i]
        out[i] = acc
    return out


# --- the wall ---------------------------------------------------------------------------------


def _wall_queues(conn: Connection, now: float, day_start: float, risk_end: float) -> tuple[list[dict], int, Optional[dict]]:
    """The queue tiles, the backlog total and the day's FRT stats over all queues."""
    cnt = func.count
    # one row per (status, queue) of the backlog; the "waiting" figures are the new + open rows
    counts: dict[str, dict] = {}
    for st, q, n, assigned, breached, at_risk, oldest_at in conn.execute(
        select(T.status, T.queue, cnt(), cnt(T.assignee_id), cnt().filter(T.sla_due < now),
               cnt().filter(and_(T.sla_due >= now, T.sla_due < risk_end)), func.min(T.created_at))
        .where(_LIVE, _BACKLOG).group_by(T.status, T.queue)
    ).all():
        c = counts.setdefault(q, {**{x: 0 for x in kpi.BACKLOG_STATUSES}, "unassigned": 0, "at_risk": 0, "breached": 0,
                                  "oldest_at": None, "backlog": 0})
        c[st] += int(n)
        c["backlog"] += int(n)
        if st in kpi.WAITING_STATUSES:
            c["unassigned"] += int(n) - int(assigned)
            c["at_risk"] += int(at_risk)
            c["breached"] += int(breached)
            if oldest_at is not None and (c["oldest_at"] is None or oldest_at < c["oldest_at"]):
                c["oldest_at"] = oldest_at
    # the oldest waiting ticket per queue: its created_at came with the counts; find its id on the created_at index
    mins = [c["oldest_at"] for c in counts.values() if c["oldest_at"] is not None]
    oldest: dict[str, dict] = {}
    if mins:
        for q, tid, at in conn.execute(select(T.queue, T.id, T.created_at).where(
                T.created_at.in_(mins), _LIVE, _WAITING).order_by(T.id)).all():
            if q in counts and at == counts[q]["oldest_at"] and q not in oldest:
                oldest[q] = {"id": tid, "created_at": at}
    frt_today, frt_all = grouped_durations(conn, T.queue, T.first_reply_at - T.created_at,
                                           and_(_LIVE, _in(T.first_reply_at, day_start, now)), total=True)
    queues = []
    for qid, name in conn.execute(select(S.queues.c.id, S.queues.c.name).order_by(S.queues.c.position, S.queues.c.id)).all():
        c = counts.get(qid) or {}
        stats = frt_today.get(qid, _empty_stats())
        queues.append({
            "id": qid, "name": name,
            **{k: c.get(k, 0) for k in (*kpi.BACKLOG_STATUSES, "unassigned", "at_risk", "breached")},
            "oldest": oldest.get(qid),
            "frt_p50": stats["p50"], "frt_p90": stats["p90"], "frt_n": stats["n"],
        })
    return queues, sum(c["backlog"] for c in counts.values()), frt_all


def _wall_agents(conn: Connection, now: float, day_start: float) -> tuple[list[dict], dict]:
    """Per agent: open assigned tickets, solves and first replies today (one statement: the agents
    joined to three per-assignee GROUP BYs, one row per agent); and the day's solve counts over
    every ticket, unassigned too."""
    cnt = func.count
    assigned = T.assignee_id.is_not(None)
    # grouped by CAST(assignee_id + 0 AS INTEGER): on the bare column SQLite walks the (assignee_id,
    # status) index for its order and reads every ticket row for `deleted` (~60 ms at 50,000 open
    # tickets) instead of the covering backlog index; the cast keeps the integer affinity its
    # automatic index for the join needs
    aid = cast(T.assignee_id + 0, Integer).label("aid")
    open_q = select(aid, cnt().label("n")).where(_LIVE, _BACKLOG, assigned).group_by(aid).subquery("open_q")
    solved_q = (select(T.assignee_id.label("aid"), cnt().label("n")).where(_LIVE, _in(T.solved_at, day_start, now), assigned)
                .group_by(T.assignee_id).subquery("solved_q"))
    frt_q = (select(T.assignee_id.label("aid"), func.sum(T.first_reply_at - T.created_at).label("total"), cnt().label("n"))
             .where(_LIVE, _in(T.first_reply_at, day_start, now), assigned).group_by(T.assignee_id).subquery("frt_q"))
    A = S.agents.c
    rows = conn.execute(
        select(A.id, A.name, A.role, A.presence, A.current_ticket_id, open_q.c.n, solved_q.c.n, frt_q.c.total, frt_q.c.n)
        .select_from(S.agents.outerjoin(open_q, open_q.c.aid == A.id).outerjoin(solved_q, solved_q.c.aid == A.id)
                     .outerjoin(frt_q, frt_q.c.aid == A.id))
        .order_by(A.name, A.id)
    ).all()
    agents = [{
        "id": aid, "name": name, "role": role, "presence": presence, "current_ticket_id": current,
        "open_assigned": int(n_open or 0), "handled_today": int(n_solved or 0),
        "frt_mean": (float(total) / int(n_frt)) if n_frt else None, "frt_n": int(n_frt or 0),
    } for aid, name, role, presence, current, n_open, n_solved, total, n_frt in rows]
    n, n_fcr, n_rated, n_pos = conn.execute(
        select(cnt(), cnt().filter(and_(T.agent_replies == 1, T.reopens == 0)), cnt(T.csat), cnt().filter(T.csat >= kpi.CSAT_POSITIVE_MIN))
        .where(_LIVE, _in(T.solved_at, day_start, now))
    ).one()
    return agents, {"solved": int(n), "fcr": int(n_fcr or 0), "rated": int(n_rated or 0), "positive": int(n_pos or 0)}


def _wall_day(conn: Connection, now: float, day_start: float, points: list[float]) -> dict:
    """The day's created / escalated counts, resolution stats and SLA counts, and the trend's
    created-since / solved-since counts (the backlog trend needs the backlog total besides)."""
    created, escalated = conn.execute(select(func.count(), func.count().filter(T.escalated.is_(True)))
                                      .where(_LIVE, _in(T.created_at, day_start, now))).one()
    return {
        "created": int(created), "escalated": int(escalated or 0),
        "resolution": grouped_durations(conn, None, T.solved_at - T.created_at,
                                        and_(_LIVE, _in(T.solved_at, day_start, now)))[0].get(ALL, _empty_stats()),
        "sla": sla_counts(conn, _one, day_start, now, now).get(ALL, kpi.empty_sla()),
        "created_since": _since_counts(conn, T.created_at, points, now),
        "solved_since": _since_counts(conn, T.solved_at, points, now),
    }


Runner = Callable[..., list]  # run(f1, f2, ...) -> [f1(conn1), f2(conn2), ...], all in one snapshot


def wall(conn: Connection, *, now: float, day_start: float, at_risk_seconds: float = 15 * 60,
         trend_hours: int = 12, targets: Optional[dict] = None, tz: str = "UTC", run: Optional[Runner] = None) -> dict:
    """Everything the supervisor wall shows, as of `now`; "today" is [day_start, now).

    Each aggregate is one GROUP BY over one narrow range of a covering index (schema.py's
    ix_srv_tickets_wall_*): per (status, queue) for the queue tiles, per assignee for the agents,
    the day's solves and first replies, and the SLA state from ticket_sla. The three groups of
    queries are independent: `run` may execute them on separate connections that share one
    snapshot (see get_wall); by default they run one after the other on `conn`."""
    points = [now - h * 3600.0 for h in range(trend_hours, -1, -1)]  # ascending
    run = run or (lambda *fns: [f(conn) for f in fns])
    (queues, backlog_total, frt_all), (agents, solved), day = run(
        lambda c: _wall_queues(c, now, day_start, now + at_risk_seconds),
        lambda c: _wall_agents(c, now, day_start),
        lambda c: _wall_day(c, now, day_start, points),
    )
    # backlog at t = now's backlog - created since t + solved since t (kpi.is_backlog_at, since
    # solved_at >= created_at): only rows created or solved after the first point are read
    trend = [backlog_total - c + s for c, s in zip(day["created_since"], day["solved_since"])]
    row = kpi.finish_row(created=day["created"], escalated=day["escalated"], **solved, backlog=backlog_total,
                         frt_stats=frt_all, resolution_stats=day["resolution"], sla=day["sla"])
    targets = targets or kpi.DEFAULT_TARGETS
    return {
        "generated_at": now,
        "window": {"from": day_start, "to": now, "tz": tz},
        "at_risk_seconds": at_risk_seconds,
        "queues": queues,
        "agents": agents,
        "kpis": kpi.tiles(row, targets),
        "summary": row,
        "backlog_trend": [{"at": t, "backlog": n} for t, n in zip(points, trend)],
    }


_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f-]+$")
# At most two walls fan out at a time (two extra pooled connections each); more concurrent walls
# run their groups in turn on their one connection, so they never wait on the pool for a worker
# connection while holding one themselves.
_PARALLEL_WALLS = threading.BoundedSemaphore(2)
_WORKERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="metrics-wall")


def _snapshot_conn(conn: Connection) -> Connection:
    """PostgreSQL: the connection's next transaction REPEATABLE READ and read-only (one snapshot
    for every statement of the wall). SQLite's deferred transaction already reads one snapshot."""
    if conn.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return conn


def _parallel_runner(engine, conn: Connection) -> Optional[Runner]:
    """PostgreSQL: run the wall's query groups at once, the first on `conn` and the others on
    pooled connections that import conn's exported snapshot (SET TRANSACTION SNAPSHOT), so all of
    them read the same committed state, as one transaction would."""
    if conn.dialect.name != "postgresql":
        return None
    snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    if not snapshot or not _SNAPSHOT_ID.match(snapshot):
        return None

    def on_snapshot(fn):
        with _snapshot_conn(engine.connect()) as other:
            other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            return fn(other)

    def run(first, *rest):
        futures = [_WORKERS.submit(on_snapshot, fn) for fn in rest]
        try:
            out = [first(conn)]
        finally:
            results = [f.result() for f in futures]
        return out + results

    return run


def read_wall(engine: Engine, *, now: float, day_start: float, at_risk_seconds: float, trend_hours: int,
              targets: dict[str, kpi.Target], tz: str) -> dict:
    """wall() in one snapshot; on PostgreSQL its query groups fan out over pooled connections
    (at most two walls at a time)."""
    fan_out = engine.dialect.name == "postgresql" and _PARALLEL_WALLS.acquire(blocking=False)
    try:
        with _snapshot_conn(engine.connect()) as conn:
            return wall(conn, now=now, day_start=day_start, at_risk_seconds=at_risk_seconds, trend_hours=trend_hours,
                        targets=targets, tz=tz, run=_parallel_runner(engine, conn) if fan_out else None)
    finally:
        if fan_out:
            _PARALLEL_WALLS.release()


# --- reports ----------------------------------------------------------------------------------


def _day_key(bounds: list[float], labels: list[str]) -> KeyFn:
    """time column -> the local day it falls in (a CASE over the day boundaries; DST-correct)."""
    def key(col):
        return case(*[(col < bounds[i + 1], literal(labels[i])) for i in range(len(labels))], else_=literal(None))
    return key


def report(conn: Connection, *, start_day: date, end_day: date, by: str, now: float, tz: str = "UTC") -> dict:
    """KPI rows over the local days start_day..end_day (inclusive), grouped by queue, agent or day."""
    zone = time_zone(tz)
    days = [start_day + timedelta(days=i) for i in range((end_day - start_day).days + 1)]
    bounds = [local_midnight(d, zone) for d in days] + [local_midnight(end_day + timedelta(days=1), zone)]
    start, end = bounds[0], bounds[-1]
    if by == "queue":
        keyf: KeyFn = lambda _c: T.queue  # noqa: E731
        backlog = {k: v[0] for k, v in backlog_at(conn, [end], T.queue).items()}
    elif by == "agent":
        keyf = lambda _c: T.assignee_id  # noqa: E731
        backlog = {k: v[0] for k, v in backlog_at(conn, [end], T.assignee_id).items()}
    elif by == "day":
        labels = [d.isoformat() for d in days]
        keyf = _day_key(bounds, labels)
        per_day = backlog_at(conn, bounds[1:]).get(ALL, [0] * len(labels))
        backlog = dict(zip(labels, per_day))
    else:
        raise ServiceError(422, "invalid", f"by must be queue, agent or day, not {by!r}.")
    rows = kpi_rows(conn, keyf, start, end, now, backlog)
    if by == "queue":
        names = dict(conn.execute(select(S.queues.c.id, S.queues.c.name)).all())
        order = [q for q, in conn.execute(select(S.queues.c.id).order_by(S.queues.c.position, S.queues.c.id))]
        keys = order + sorted(k for k in rows if k not in names)
        out = [{"key": k, "name": names.get(k, k), **rows.get(k, _zero_row())} for k in keys]
    elif by == "agent":
        names = dict(conn.execute(select(S.agents.c.id, S.agents.c.name)).all())
        keys = sorted((k for k in rows if k is not None), key=lambda k: (names.get(k, ""), k))
        out = [{"key": k, "name": names.get(k, f"#{k}"), **rows[k]} for k in keys]
        if None in rows:
            out.append({"key": None, "name": "(unassigned)", **rows[None]})
    else:
        out = [{"key": d, "name": d, **rows.get(d, _zero_row(backlog.get(d, 0)))} for d in labels]
    total = kpi_rows(conn, _one, start, end, now, {"all": backlog_at(conn, [end]).get(ALL, [0])[0]}).get(ALL, _zero_row())
    return {"from": start_day.isoformat(), "to": end_day.isoformat(), "tz": tz, "by": by,
            "window": {"from": start, "to": end}, "generated_at": now, "rows": out, "total": total}


def _zero_row(backlog: int = 0) -> dict:
    return kpi.finish_row(created=0, escalated=0, solved=0, fcr=0, rated=0, positive=0, backlog=backlog, sla=kpi.empty_sla())


def __getattr__(name: str) -> Any:
    """backend.metrics.router: the routes moved to backend/routers/metrics.py; this name stays for
    the code that mounts them by it (tests, bench/metrics_wall.py)."""
    if name == "router":
        from backend.routers.metrics import router

        return router
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
