"""The reference helpdesk server's tables (SQLAlchemy Core): SQLite by default, PostgreSQL by URL.

Every row that clients sync carries `seq`, taken from one counter row inside the writing
transaction. The counter's row lock serialises writers until commit, so seq order is commit
order and a reader paging `seq > cursor` can never skip a row that commits late.
"""

from __future__ import annotations

from typing import Optional

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy import create_engine as _create_engine
from sqlalchemy import inspect as _inspect
from sqlalchemy import select
from sqlalchemy.engine import Engine, make_url

from agent_tui import sqlite_setup

metadata = MetaData()

counters = Table("counters", metadata, Column("name", String(32), primary_key=True), Column("value", BigInteger, nullable=False))

agents = Table(
    "agents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("email", String(200), nullable=False, default=""),
    Column("role", String(20), nullable=False, default="agent"),
    Column("token", String(100), nullable=False, unique=True),
    Column("presence", String(20), nullable=False, default="offline"),
    Column("current_ticket_id", Integer),
    Column("updated_at", Float, nullable=False, default=0.0),
    Column("seq", BigInteger, nullable=False, index=True),
)

queues = Table(
    "queues", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("seq", BigInteger, nullable=False, index=True),
)

customers = Table(
    "customers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("first_name", String(100), nullable=False, default=""),
    Column("email", String(200), nullable=False, default=""),
    Column("tier", String(20), nullable=False, default="standard"),
    Column("language", String(10), nullable=False, default="en"),
    Column("kyc_status", String(20), nullable=False, default="none"),
    Column("updated_at", Float, nullable=False, default=0.0),
    Column("version", Integer, nullable=False, default=1),
    Column("seq", BigInteger, nullable=False, index=True),
)

deposit_addresses = Table(
    "deposit_addresses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", Integer, nullable=False, index=True),
    Column("network", String(32), nullable=False),
    Column("asset", String(32), nullable=False, default=""),
    Column("address", String(128), nullable=False, index=True),
    Column("memo", String(64)),
    Column("seq", BigInteger, nullable=False, index=True),
)

deposits = Table(
    "deposits", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", Integer, nullable=False, index=True),
    Column("txid", String(128), nullable=False, index=True),
    Column("network", String(32), nullable=False),
    Column("asset", String(32), nullable=False),
    Column("amount", String(64), nullable=False),
    Column("output_index", Integer),
    Column("status", String(20), nullable=False, default="credited"),
    Column("created_at", Float, nullable=False),
    Column("seq", BigInteger, nullable=False, index=True),
)

tickets = Table(
    "tickets", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(500), nullable=False),
    Column("queue", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("priority", String(20), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("requester_id", Integer, nullable=False, index=True),
    Column("assignee_id", Integer),
    Column("tags", Text, nullable=False, default="[]"),
    Column("language", String(10), nullable=False, default="en"),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("first_reply_at", Float),
    Column("solved_at", Float),
    Column("sla_due", Float, nullable=False),
    Column("sla", Text, nullable=False, default="[]"),
    Column("agent_replies", Integer, nullable=False, default=0),
    Column("reopens", Integer, nullable=False, default=0),
    Column("escalated", Boolean, nullable=False, default=False),
    Column("csat", Integer),  # 1..5 once the customer rated
    Column("deleted", Boolean, nullable=False, default=False),
    Column("merged_into", Integer),
    Column("seq", BigInteger, nullable=False, index=True),
    Index("ix_srv_tickets_queue_status_due", "queue", "status", "sla_due"),
    Index("ix_srv_tickets_assignee_status", "assignee_id", "status"),
    Index("ix_srv_tickets_status_due", "status", "sla_due"),
    Index("ix_srv_tickets_created", "created_at"),
    Index("ix_srv_tickets_first_reply", "first_reply_at"),  # metrics: FRT of a window
    Index("ix_srv_tickets_solved", "solved_at"),  # metrics: resolution, FCR, CSAT, handled of a window
)

# The metrics wall's covering indexes (live tickets only): each of its aggregates reads one
# narrow index range instead of the wide ticket rows. Older databases get them from create_schema.
_live = tickets.c.deleted.is_(False)
for _name, *_cols in (
    ("ix_srv_tickets_wall_backlog", "status", "queue", "assignee_id", "sla_due", "created_at"),  # per queue / agent
    ("ix_srv_tickets_wall_created", "created_at", "escalated"),  # created today, backlog trend
    ("ix_srv_tickets_wall_solved", "solved_at", "created_at", "assignee_id", "agent_replies", "reopens", "csat"),
    ("ix_srv_tickets_wall_first_reply", "first_reply_at", "created_at", "queue", "assignee_id"),  # FRT
):
    # deleted last too: SQLite counts a partial index as covering only if it holds every column used
    Index(_name, *(tickets.c[c] for c in (*_cols, "deleted")), postgresql_where=_live, sqlite_where=_live)
# deleted tickets, few: the SLA aggregate leaves their ticket_sla rows out without a join
Index("ix_srv_tickets_deleted", tickets.c.id, postgresql_where=tickets.c.deleted.is_(True), sqlite_where=tickets.c.deleted.is_(True))

# Each ticket's SLA outcome per metric in plain columns, one narrow row per ticket: derived from
# tickets.sla (which clients sync and which stays the source) and rewritten with it by
# service.recompute_sla and the bulk seeds, so SLA compliance of a window is one aggregate over
# these rows instead of a JSON unnest. created_at is the ticket's, so a window needs no join.
# Per metric (kpi.SLA_METRICS; agent_tui.sla reports each at most once per ticket):
#   <metric>      SLA_MET, SLA_MISSED, SLA_RUNNING or SLA_OPEN (kpi.sla_outcome), NULL: not tracked
#   <metric>_due  the deadline while SLA_RUNNING: missed from the moment due < now, with no write
SLA_OPEN, SLA_MET, SLA_MISSED, SLA_RUNNING = 0, 1, 2, 3
SLA_METRIC_COLUMNS = ("first_reply", "next_reply", "periodic_update", "resolution")
ticket_sla = Table(
    "ticket_sla_outcome", metadata,
    Column("ticket_id", Integer, primary_key=True, autoincrement=False),
    Column("created_at", Float, nullable=False),
    *(c for m in SLA_METRIC_COLUMNS for c in (Column(m, SmallInteger), Column(f"{m}_due", Float))),
    Index("ix_srv_ticket_sla_outcome_window", "created_at", *(c for m in SLA_METRIC_COLUMNS for c in (m, f"{m}_due")), "ticket_id"),
)


def sla_outcome_code(m: dict) -> tuple[int, Optional[float]]:
    """(code, deadline) of one element of tickets.sla: kpi.sla_outcome without the clock."""
    if m.get("breached_at") is not None:
        return SLA_MISSED, None
    if m.get("stage") == "active" and m.get("due_at") is not None:
        return SLA_RUNNING, m["due_at"]
    if m.get("stage") == "achieved":
        return SLA_MET, None
    return SLA_OPEN, None


def ticket_sla_rows(ticket_id: int, created_at: float, sla) -> list[dict]:
    """The ticket's ticket_sla row (none without a tracked metric) from its sla value (the JSON text
    or the list of metric dicts)."""
    items = orjson.loads(sla) if isinstance(sla, (str, bytes)) else (sla or [])
    row: dict = {}
    for m in items:
        name = m.get("metric")
        if name in SLA_METRIC_COLUMNS and name not in row:
            row[name], row[f"{name}_due"] = sla_outcome_code(m)
    if not row:
        return []
    return [{"ticket_id": ticket_id, "created_at": created_at,
             **{c: row.get(c) for m in SLA_METRIC_COLUMNS for c in (m, f"{m}_due")}}]


def write_ticket_sla(conn, ticket_id: int, created_at: float, sla) -> None:
    """Replace the ticket's ticket_sla row (inside the transaction that writes tickets.sla)."""
    conn.execute(ticket_sla.delete().where(ticket_sla.c.ticket_id == ticket_id))
    rows = ticket_sla_rows(ticket_id, created_at, sla)
    if rows:
        conn.execute(ticket_sla.insert(), rows)


def _backfill_ticket_sla(conn) -> None:
    """A database from before ticket_sla: derive its rows from every ticket's sla JSON, once."""
    last = 0
    while True:
        chunk = conn.execute(select(tickets.c.id, tickets.c.created_at, tickets.c.sla)
                             .where(tickets.c.id > last).order_by(tickets.c.id).limit(5000)).all()
        if not chunk:
            return
        rows = [r for tid, created, sla in chunk for r in ticket_sla_rows(tid, created, sla)]
        if rows:
            conn.execute(ticket_sla.insert(), rows)
        last = chunk[-1][0]


messages = Table(
    "messages", metadata,
    Column("id", String(64), primary_key=True),
    Column("ticket_id", Integer, nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("author_id", Integer),
    Column("author_name", String(200), nullable=False, default=""),
    Column("body", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("seq", BigInteger, nullable=False, index=True),
)

ticket_events = Table(
    "ticket_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(20)),
    Column("agent_id", Integer),
)

sla_policies = Table(
    "sla_policies", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("body", Text, nullable=False),
    Column("seq", BigInteger, nullable=False, index=True),
)

macros = Table(
    "macros", metadata,
    Column("id", String(64), primary_key=True),
    Column("key", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    Column("category", String(100), nullable=False, default=""),
    Column("visibility", String(20), nullable=False, default="shared"),
    Column("owner_id", Integer),
    Column("shortcut", String(64), nullable=False, default=""),
    Column("bodies", Text, nullable=False, default="{}"),
    Column("actions", Text, nullable=False, default="[]"),
    Column("usage_count", Integer, nullable=False, default=0),
    Column("updated_at", Float, nullable=False, default=0.0),
    Column("version", Integer, nullable=False, default=1),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("seq", BigInteger, nullable=False, index=True),
)

assets = Table(
    "assets", metadata,
    Column("network", String(32), primary_key=True),
    Column("body", Text, nullable=False),
    Column("seq", BigInteger, nullable=False, index=True),
)

idempotency = Table(
    "idempotency_keys", metadata,
    Column("key", String(200), nullable=False),
    Column("agent_id", Integer, nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("key", "agent_id"),
)

# The SIMULATED demo chain (backend/demo_chain.py): one row per transaction of `agent-tui demo`'s
# stand-in for the public chain APIs. Not synced to clients and never a record of a real chain.
demo_chain_txs = Table(
    "demo_chain_txs", metadata,
    Column("network", String(32), nullable=False),
    Column("txid", String(128), nullable=False),
    Column("body", Text, nullable=False),  # the transaction as its chain's API shows it, without block fields
    Column("block", BigInteger),  # height it is mined at; null: never mined (stuck in the mempool)
    PrimaryKeyConstraint("network", "txid"),
)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # writers say execution_options(write=True) (service.write, create_schema): BEGIN IMMEDIATE.
        # private: the file (and so its -wal and -shm) is 0600, like the client's cache: it holds tokens.
        return sqlite_setup.make_engine(make_url(url).database or None, busy_timeout=15, synchronous="NORMAL",
                                        writer_option="write", private=True, pool_size=8, max_overflow=8)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return _create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def create_schema(engine: Engine, reset: bool = False) -> None:
    with engine.execution_options(write=True).begin() as conn:
        if reset:
            metadata.drop_all(conn)
        had_ticket_sla = _inspect(conn).has_table(ticket_sla.name)
        metadata.create_all(conn)
        if not had_ticket_sla:
            _backfill_ticket_sla(conn)
        for ix in tickets.indexes:  # create_all adds no index to a table that already exists
            ix.create(conn, checkfirst=True)
        if conn.execute(counters.select().where(counters.c.name == "seq")).first() is None:
            conn.execute(counters.insert().values(name="seq", value=0))
