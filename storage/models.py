"""The local cache's tables (SQLModel). The vocabulary they use (statuses, priorities, ...) is
agent_tui.vocabulary's, shared with the sync engine, the SLA engine and the backend; it is
re-exported here for the cache's callers.

Times are Unix epoch seconds (float, UTC) everywhere: on the wire, in the cache and on the server.
That keeps applying a sync page free of per-row parsing (see ../shared/notes/storage-and-sync.md).

This module never imports textual, widgets or themes.
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

from agent_tui.vocabulary import (  # noqa: F401  (re-exported: the cache's callers read them here)
    ACTIVE_STATUSES,
    CHANNELS,
    KYC_STATUSES,
    MESSAGE_KINDS,
    NO_DUE,
    PRESENCE,
    PRIORITIES,
    PRIORITY_RANK,
    ROLES,
    STATUSES,
    TIERS,
)

from storage.paths import SCHEMA_VERSION  # noqa: F401  (the layout version: see storage/paths.py)


# --- tables ---------------------------------------------------------------------------------


class Queue(SQLModel, table=True):
    __tablename__ = "queues"
    id: str = Field(primary_key=True)  # a stable key such as "deposits"
    name: str
    position: int = 0


class Agent(SQLModel, table=True):
    __tablename__ = "agents"
    id: int = Field(primary_key=True)
    name: str
    email: str = ""
    role: str = "agent"
    presence: str = "offline"
    current_ticket_id: Optional[int] = None
    updated_at: float = 0.0


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    id: int = Field(primary_key=True)
    name: str
    first_name: str = ""
    email: str = ""
    tier: str = "standard"
    language: str = "en"
    kyc_status: str = "none"
    updated_at: float = 0.0
    version: int = 1


class DepositAddress(SQLModel, table=True):
    __tablename__ = "deposit_addresses"
    id: int = Field(primary_key=True)
    customer_id: int = Field(index=True)
    network: str
    asset: str = ""
    address: str
    memo: Optional[str] = None


class Deposit(SQLModel, table=True):
    """The exchange's deposit ledger, as far as it concerns the cached customers."""

    __tablename__ = "deposits"
    id: int = Field(primary_key=True)
    customer_id: int = Field(index=True)
    txid: str = Field(index=True)
    network: str
    asset: str
    amount: str  # decimal as text: never a float for money
    output_index: Optional[int] = None  # vout or log index
    status: str = "credited"  # credited | pending | rejected
    created_at: float = 0.0


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue_status_due", "queue", "status", "sla_due"),
        Index("ix_tickets_assignee_status_due", "assignee_id", "status", "sla_due"),
        Index("ix_tickets_status_due", "status", "sla_due"),
    )
    id: int = Field(primary_key=True)
    subject: str
    queue: str
    status: str = "new"
    priority: str = "normal"
    channel: str = "email"
    requester_id: int
    assignee_id: Optional[int] = None
    tags: str = "[]"  # JSON list
    language: str = "en"
    created_at: float
    updated_at: float
    version: int = 1
    first_reply_at: Optional[float] = None
    solved_at: Optional[float] = None
    sla_due: float = NO_DUE  # the earliest deadline of an active metric
    sla: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))  # JSON per metric


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    id: str = Field(primary_key=True)  # client-made for our replies, server-made otherwise
    ticket_id: int = Field(index=True)
    kind: str  # customer | reply | note
    author_id: Optional[int] = None
    author_name: str = ""
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: float
    pending: bool = False  # written locally, not yet confirmed by the server


class SlaPolicy(SQLModel, table=True):
    __tablename__ = "sla_policies"
    id: int = Field(primary_key=True)
    name: str
    position: int = 0
    body: str = Field(sa_column=Column(Text, nullable=False))  # JSON, see agent_tui.sla


class Macro(SQLModel, table=True):
    __tablename__ = "macros"
    id: str = Field(primary_key=True)
    key: str = Field(index=True)
    title: str
    category: str = ""
    visibility: str = "shared"  # shared | personal
    owner_id: Optional[int] = None
    shortcut: str = ""
    bodies: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))  # JSON lang -> text
    actions: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))  # JSON list
    usage_count: int = 0
    updated_at: float = 0.0
    version: int = 1


class AssetConfig(SQLModel, table=True):
    """The exchange's asset/network configuration, one JSON document per network."""

    __tablename__ = "asset_config"
    network: str = Field(primary_key=True)
    body: str = Field(sa_column=Column(Text, nullable=False))


class LookupResult(SQLModel, table=True):
    __tablename__ = "lookup_results"
    key: str = Field(primary_key=True)  # txid|network|customer
    txid: str = Field(index=True)
    network: str = ""
    body: str = Field(sa_column=Column(Text, nullable=False))  # JSON verdict
    final: bool = False
    fetched_at: float = 0.0


class Outbox(SQLModel, table=True):
    """Local changes waiting for the server, oldest first. Written in the same transaction as the change."""

    __tablename__ = "outbox"
    seq: Optional[int] = Field(default=None, primary_key=True)  # send order
    change_id: str = Field(unique=True)  # client-made id; also the Idempotency-Key
    kind: str  # reply | note | update | claim | macro | macro_update | macro_delete
    ticket_id: int = Field(index=True)  # 0 for the macro kinds
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    base_version: Optional[int] = None  # If-Match
    created_at: float
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str = ""
    # a digest of the server's failing answer to the change's last attempt ('' when that attempt did not
    # fail on the server's side): the same answer on the next attempt, in any round, refuses the change
    last_failure: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # the rounds this change was deferred in, whatever the reason (a server down counts too): its retry
    # wait grows with them, where `attempts` counts only the failures that are the change's own
    tries: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class Rejection(SQLModel, table=True):
    """A change the server refused: shown to the agent until acknowledged, never dropped silently."""

    __tablename__ = "rejections"
    id: Optional[int] = Field(default=None, primary_key=True)
    change_id: str
    kind: str
    ticket_id: int
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status_code: int = 0
    reason: str = ""
    at: float = 0.0
    acknowledged: bool = False


class Draft(SQLModel, table=True):
    __tablename__ = "drafts"
    ticket_id: int = Field(primary_key=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    internal: bool = False
    updated_at: float = 0.0
    macro_id: Optional[str] = None  # the macro last applied to the box: its use is counted when sent
    # the macro's ticket actions that go out with the reply, JSON {"macro": title, "actions": [...]}; '' = none
    actions: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class SyncState(SQLModel, table=True):
    __tablename__ = "sync_state"
    key: str = Field(primary_key=True)
    value: str = ""
