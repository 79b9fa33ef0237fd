"""The reference helpdesk server's tables (SQLAlchemy Core): SQLite by default, PostgreSQL by URL.

Every row that clients sync carries `seq`, taken from one counter row inside the writing
transaction. The counter's row lock serialises writers until commit, so seq order is commit
order and a reader paging `seq > cursor` can never skip a row that commits late.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    event,
)
from sqlalchemy import create_engine as _create_engine
from sqlalchemy.engine import Engine

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


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.close()


def _sqlite_begin(conn) -> None:
    # Writers take the lock up front: no SQLITE_BUSY_SNAPSHOT when a read turns into a write.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = _create_engine(url, connect_args={"check_same_thread": False, "timeout": 15}, pool_size=8, max_overflow=8)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        engine = _create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    return engine


def create_schema(engine: Engine, reset: bool = False) -> None:
    with engine.execution_options(write=True).begin() as conn:
        if reset:
            metadata.drop_all(conn)
        metadata.create_all(conn)
        if conn.execute(counters.select().where(counters.c.name == "seq")).first() is None:
            conn.execute(counters.insert().values(name="seq", value=0))


SYNCED = {
    # feed key -> table
    "queues": queues,
    "agents": agents,
    "customers": customers,
    "addresses": deposit_addresses,
    "deposits": deposits,
    "policies": sla_policies,
    "assets": assets,
    "macros": macros,
    "tickets": tickets,
    "messages": messages,
}
