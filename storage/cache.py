"""The local cache: applying pulled pages, queue queries, and local changes with their outbox rows.

What it hands out for display (tickets, threads, customers, agents, queues, macros, refusals,
drafts, queue rows) has every string cleaned (textsafe.scrub): escape sequences with their
payloads, controls and bidi characters are gone, whatever the field. The terminal's own
boundary (agent_tui.render_boundary) makes anything that is drawn inert anyway; this keeps the
payloads of what was stored out of sight. What it sends (the outbox) is as the agent wrote it.

Hot paths (apply_page, queue_page) use raw executemany upserts and Core SQL, never ORM objects.
Every local change is written together with its outbox row in one transaction, before any
network call, so a crash can lose neither.
"""

from __future__ import annotations

import operator
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import orjson
from sqlalchemy import text as _text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from agent_tui.changes import payload_of
from agent_tui.rows import QueueRow
from agent_tui.vocabulary import TICKET_FIELDS, TICKET_JSON_FIELDS
from agent_tui.textsafe import clean, scrub
from storage.db import OpenResult, bulk_indexes, ensure_indexes, open_engine, write_tx
from storage.models import ACTIVE_STATUSES, NO_DUE, PRIORITIES, STATUSES
from storage.wire import BadPage, PageIn, decode_page, message_row, ticket_row

AT_RISK_SECONDS = 15 * 60


def _dumps(v: Any) -> str:
    return orjson.dumps(v).decode()


def new_change_id() -> str:
    return str(uuid.uuid4())


# --- upsert statements: replaying a page after a crash is harmless ------------------------

_TICKET_PLAIN = tuple(f for f in TICKET_FIELDS if f not in TICKET_JSON_FIELDS)
_TICKET_COLS = _TICKET_PLAIN + TICKET_JSON_FIELDS  # the JSON columns last: see ticket_tuple


def _upsert_sql(table: str, cols: Sequence[str], key: str = "id", version: bool = False) -> str:
    sets = ", ".join(f"{c}=excluded.{c}" for c in cols if c != key)
    where = f" WHERE excluded.version > {table}.version" if version else ""
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
        f"ON CONFLICT({key}) DO UPDATE SET {sets}{where}"
    )


TICKET_UPSERT = _upsert_sql("tickets", _TICKET_COLS, version=True)
_MESSAGE_COLS = ("id", "ticket_id", "kind", "author_id", "author_name", "body", "created_at", "pending")
MESSAGE_UPSERT = _upsert_sql("messages", _MESSAGE_COLS)
_CUSTOMER_COLS = ("id", "name", "first_name", "email", "tier", "language", "kyc_status", "updated_at", "version")
CUSTOMER_UPSERT = _upsert_sql("customers", _CUSTOMER_COLS, version=True)
_AGENT_COLS = ("id", "name", "email", "role", "presence", "current_ticket_id", "updated_at")
AGENT_UPSERT = _upsert_sql("agents", _AGENT_COLS)
_QUEUE_COLS = ("id", "name", "position")
QUEUE_UPSERT = _upsert_sql("queues", _QUEUE_COLS)
_ADDRESS_COLS = ("id", "customer_id", "network", "asset", "address", "memo")
ADDRESS_UPSERT = _upsert_sql("deposit_addresses", _ADDRESS_COLS)
_DEPOSIT_COLS = ("id", "customer_id", "txid", "network", "asset", "amount", "output_index", "status", "created_at")
DEPOSIT_UPSERT = _upsert_sql("deposits", _DEPOSIT_COLS)
_MACRO_COLS = (
    "id", "key", "title", "category", "visibility", "owner_id", "shortcut", "bodies", "actions",
    "usage_count", "updated_at", "version",
)
MACRO_UPSERT = _upsert_sql("macros", _MACRO_COLS, version=True)
_MACRO_JSON = ("bodies", "actions")  # JSON text in the cache, structures on the wire
POLICY_UPSERT = _upsert_sql("sla_policies", ("id", "name", "position", "body"))
ASSET_UPSERT = _upsert_sql("asset_config", ("network", "body"), key="network")


_ticket_plain = operator.itemgetter(*_TICKET_PLAIN)


def ticket_tuple(d: dict) -> tuple:
    """A wire ticket as the upsert's parameters; every field is required (the feed sends them all).

    itemgetter picks the plain fields in C; only the two JSON columns are serialised here."""
    return _ticket_plain(d) + (_dumps(d["tags"]), _dumps(d["sla"]))


def _message_tuple(d: dict) -> tuple:
    return (d["id"], d["ticket_id"], d["kind"], d.get("author_id"), d.get("author_name") or "", d["body"], d["created_at"], 0)


def _simple(cols: Sequence[str], json_cols: Iterable[str] = ()):
    jc = set(json_cols)

    def make(d: dict) -> tuple:
        return tuple(_dumps(d.get(c)) if c in jc else d.get(c) for c in cols)

    return make


_macro_tuple = _simple(_MACRO_COLS, json_cols=_MACRO_JSON)


def _macro_dict(r) -> dict:
    d = dict(r)
    for c in _MACRO_JSON:
        d[c] = orjson.loads(d[c])
    return d


def _macro_sets(fields: dict) -> tuple[str, list]:
    """`bodies = ?, title = ?` and its values, for an UPDATE of some editable macro fields."""
    return ", ".join(f"{k} = ?" for k in fields), [_dumps(v) if k in _MACRO_JSON else v for k, v in fields.items()]


_APPLY = (
    # (key in the page, statement, row -> tuple)
    ("queues", QUEUE_UPSERT, _simple(_QUEUE_COLS)),
    ("agents", AGENT_UPSERT, _simple(_AGENT_COLS)),
    ("customers", CUSTOMER_UPSERT, _simple(_CUSTOMER_COLS)),
    ("addresses", ADDRESS_UPSERT, _simple(_ADDRESS_COLS)),
    ("deposits", DEPOSIT_UPSERT, _simple(_DEPOSIT_COLS)),
    ("macros", MACRO_UPSERT, _macro_tuple),
    ("policies", POLICY_UPSERT, lambda d: (d["id"], d["name"], d.get("position", 0), _dumps(d))),
    ("assets", ASSET_UPSERT, lambda d: (d["network"], _dumps(d))),
)


@dataclass
class PageStats:
    tickets: int = 0
    messages: int = 0
    deleted: int = 0
    other: int = 0

    def add(self, other: "PageStats") -> None:
        self.tickets += other.tickets
        self.messages += other.messages
        self.deleted += other.deleted
        self.other += other.other


# --- views of the queue -------------------------------------------------------------------

SORTS = {
    "sla": "t.sla_due ASC, t.id ASC",
    "updated": "t.updated_at DESC, t.id DESC",
    "priority": "CASE t.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, t.sla_due, t.id",
    "created": "t.created_at ASC, t.id ASC",
}

_ACTIVE_IN = "(" + ", ".join(f"'{s}'" for s in ACTIVE_STATUSES) + ")"


@dataclass(frozen=True)
class ViewSpec:
    """A list of tickets the sidebar offers: built-in ones and the user's own from the config."""

    key: str
    title: str
    queue: Optional[str] = None
    statuses: tuple[str, ...] = ACTIVE_STATUSES
    assignee: Optional[str] = None  # "me" | "none" | None (anyone)
    due: Optional[str] = None  # "at_risk" | "breached" | None
    priorities: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    language: Optional[str] = None

    def where(self, me: Optional[int], now: float, at_risk: float) -> tuple[str, dict]:
        parts: list[str] = []
        params: dict[str, Any] = {}
        if self.queue:
            parts.append("t.queue = :queue")
            params["queue"] = self.queue
        if len(self.statuses) == 1:
            parts.append("t.status = :status")
            params["status"] = self.statuses[0]
        elif self.statuses:
            names = [f":st{i}" for i in range(len(self.statuses))]
            parts.append(f"t.status IN ({', '.join(names)})")
            params.update({f"st{i}": s for i, s in enumerate(self.statuses)})
        if self.assignee == "me":
            parts.append("t.assignee_id = :me")
            params["me"] = me if me is not None else -1
        elif self.assignee == "none":
            parts.append("t.assignee_id IS NULL")
        if self.due == "breached":
            parts.append("t.sla_due < :now")
            params["now"] = now
        elif self.due == "at_risk":
            parts.append("t.sla_due >= :now AND t.sla_due < :risk")
            params["now"] = now
            params["risk"] = now + at_risk
        for name, values, col in (("pr", self.priorities, "priority"), ("ch", self.channels, "channel")):
            if values:
                keys = [f":{name}{i}" for i in range(len(values))]
                parts.append(f"t.{col} IN ({', '.join(keys)})")
                params.update({f"{name}{i}": v for i, v in enumerate(values)})
        if self.language:
            parts.append("t.language = :lang")
            params["lang"] = self.language
        return (" AND ".join(parts) or "1=1"), params


def builtin_views(queues: Sequence[tuple[str, str]]) -> list[ViewSpec]:
    views = [
        ViewSpec("mine", "My tickets", assignee="me"),
        ViewSpec("unassigned", "Unassigned", assignee="none", statuses=("new", "open")),
    ]
    views += [ViewSpec(f"queue:{qid}", name, queue=qid) for qid, name in queues]
    views += [
        ViewSpec("at_risk", "At risk", statuses=("new", "open"), due="at_risk"),
        ViewSpec("breached", "Breached", statuses=("new", "open"), due="breached"),
    ]
    return views


def view_from_config(key: str, d: dict) -> ViewSpec:
    """A user view from the config: {"title":..., "queue":..., "statuses": [...], "assignee": "me"|"none", ...}."""
    statuses = tuple(d.get("statuses") or ACTIVE_STATUSES)
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise ValueError(f"view {key!r}: unknown status {bad[0]!r}")
    pri = tuple(d.get("priorities") or ())
    if any(p not in PRIORITIES for p in pri):
        raise ValueError(f"view {key!r}: unknown priority in {list(pri)}")
    return ViewSpec(
        key=f"user:{key}",
        title=str(d.get("title") or key),
        queue=d.get("queue"),
        statuses=statuses,
        assignee=d.get("assignee"),
        due=d.get("due"),
        priorities=pri,
        channels=tuple(d.get("channels") or ()),
        language=d.get("language"),
    )


_ROW_SELECT = (
    "SELECT t.id, t.subject, t.queue, t.status, t.priority, t.channel, t.language, "
    "COALESCE(c.name, ''), COALESCE(c.tier, 'standard'), t.assignee_id, COALESCE(a.name, ''), "
    "t.sla_due, t.sla, t.updated_at, t.version "
    "FROM tickets t LEFT JOIN customers c ON c.id = t.requester_id LEFT JOIN agents a ON a.id = t.assignee_id "
)


def _paused(sla_json: str, due: float) -> bool:
    if due < NO_DUE or sla_json in ("[]", ""):
        return False
    return any(m.get("stage") == "paused" for m in orjson.loads(sla_json))


def _row(r) -> QueueRow:
    return QueueRow(
        id=r[0], subject=clean(r[1]), queue=clean(r[2]), status=clean(r[3]), priority=clean(r[4]), channel=clean(r[5]),
        language=clean(r[6]), customer_name=clean(r[7]), customer_tier=clean(r[8]), assignee_id=r[9],
        assignee_name=clean(r[10]), sla_due=r[11],
        sla_paused=_paused(r[12], r[11]), updated_at=r[13], version=r[14],
    )


class Cache:
    """The app's local SQLite cache. Thread-safe: every call takes its own pooled connection."""

    def __init__(self, opened: OpenResult):
        self.engine: Engine = opened.engine
        self.path: Path = opened.path
        self.notes = opened.notes

    @classmethod
    def open(cls, path: Path | str) -> "Cache":
        return cls(open_engine(Path(path)))

    def close(self) -> None:
        self.engine.dispose()

    # --- sync state ------------------------------------------------------------------------

    def get_state(self, key: str, default: str = "") -> str:
        with self.engine.connect() as conn:
            v = conn.exec_driver_sql("SELECT value FROM sync_state WHERE key = ?", (key,)).scalar()
        return default if v is None else v

    def set_state(self, key: str, value: str, conn: Connection | None = None) -> None:
        sql = "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        if conn is not None:
            conn.exec_driver_sql(sql, (key, value))
            return
        with write_tx(self.engine) as c:
            c.exec_driver_sql(sql, (key, value))

    @property
    def cursor(self) -> str:
        return self.get_state("cursor", "")

    # --- applying a pulled page (the hot path) ----------------------------------------------

    def apply_page(self, page: PageIn | dict | bytes, cursor: Optional[str]) -> PageStats:
        """Upsert everything in one pulled page and save the cursor in the same transaction.

        `page` is the decoded feed page (storage.wire.PageIn), its raw JSON, or a plain dict."""
        if not isinstance(page, PageIn):
            page = decode_page(page if isinstance(page, (bytes, str)) else orjson.dumps(page))
        stats = PageStats()
        try:
            with write_tx(self.engine, durable=False) as conn:
                self._apply(conn, page, stats)
                if cursor is not None:
                    self.set_state("cursor", cursor, conn)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise BadPage(f"a record lacks or garbles {exc}") from None
        except IntegrityError as exc:
            raise BadPage(f"a record breaks the cache's rules ({str(exc.orig)[:120]})") from None
        return stats

    def _apply(self, conn: Connection, page: PageIn, stats: PageStats) -> None:
        for key, sql, make in _APPLY:
            rows = getattr(page, key)
            if rows:
                conn.exec_driver_sql(sql, [make(d) for d in rows])
                stats.other += len(rows)
        if page.tickets:
            conn.exec_driver_sql(TICKET_UPSERT, [ticket_row(t) for t in page.tickets])
            stats.tickets += len(page.tickets)
        if page.messages:
            conn.exec_driver_sql(MESSAGE_UPSERT, [message_row(m) for m in page.messages])
            stats.messages += len(page.messages)
        if page.deleted_tickets:
            ids = [(i,) for i in page.deleted_tickets]
            conn.exec_driver_sql("DELETE FROM tickets WHERE id = ?", ids)
            conn.exec_driver_sql("DELETE FROM messages WHERE ticket_id = ?", ids)
            conn.exec_driver_sql("DELETE FROM drafts WHERE ticket_id = ?", ids)
            stats.deleted += len(ids)
        if page.deleted_macros:
            conn.exec_driver_sql("DELETE FROM macros WHERE id = ?", [(i,) for i in page.deleted_macros])
        if page.macros:
            _replay_macro_edits(conn)

    def begin_bulk_load(self) -> bool:
        """Before a first sync into an empty cache: drop the secondary indexes of tickets and
        messages, so each page is appended without index upkeep; end_bulk_load builds them once,
        from sorted data (measured about twice as fast at 100k tickets). Queries still work in
        between, by scanning. A crash in between is repaired when the cache is next opened.
        Returns False (and drops nothing) when the cache already holds tickets."""
        with write_tx(self.engine, durable=False) as conn:
            if conn.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM tickets)").scalar():
                return False
            for idx in bulk_indexes():
                conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{idx.name}"')
        return True

    def end_bulk_load(self) -> int:
        """Build the indexes begin_bulk_load dropped (and any other missing one)."""
        with write_tx(self.engine, durable=False) as conn:
            built = ensure_indexes(conn)
        return built

    def put_ticket(self, ticket: dict, message: Optional[dict] = None, force: bool = False) -> None:
        """Store the server's copy of one ticket (after a confirmed change or a conflict)."""
        with write_tx(self.engine) as conn:
            if force:
                conn.exec_driver_sql("DELETE FROM tickets WHERE id = ?", (ticket["id"],))
            conn.exec_driver_sql(TICKET_UPSERT, [ticket_tuple(ticket)])
            if message:
                conn.exec_driver_sql(MESSAGE_UPSERT, [_message_tuple(message)])

    # --- queue queries ---------------------------------------------------------------------

    def queue_page(
        self, view: ViewSpec, offset: int, limit: int, *, me: Optional[int] = None, now: Optional[float] = None,
        sort: str = "sla", text: str = "", at_risk: float = AT_RISK_SECONDS,
    ) -> list[QueueRow]:
        source, params = _filtered(view, me, now, text, at_risk)
        # Page the ids on the index alone, then join names for just this page: OFFSET over the
        # joined rows would evaluate the joins for every skipped row (10 ms at offset 5,000).
        inner = f"SELECT t.id {source} ORDER BY {SORTS[sort]} LIMIT :limit OFFSET :offset"
        sql = f"{_ROW_SELECT} WHERE t.id IN ({inner}) ORDER BY {SORTS[sort]}"
        params.update(limit=limit, offset=offset)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(_text(sql), params)]

    def queue_count(
        self, view: ViewSpec, *, me: Optional[int] = None, now: Optional[float] = None, text: str = "",
        at_risk: float = AT_RISK_SECONDS,
    ) -> int:
        source, params = _filtered(view, me, now, text, at_risk)
        with self.engine.connect() as conn:
            return int(conn.execute(_text(f"SELECT count(*) {source}"), params).scalar() or 0)

    def view_counts(self, views: Sequence[ViewSpec], *, me: Optional[int], now: float, at_risk: float = AT_RISK_SECONDS) -> dict[str, int]:
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for v in views:
                where, params = v.where(me, now, at_risk)
                out[v.key] = int(conn.execute(_text(f"SELECT count(*) FROM tickets t WHERE {where}"), params).scalar() or 0)
        return out

    def rows(self, view: ViewSpec, *, me: Optional[int], now: float, text: str = "", sort: str = "sla",
             at_risk: float = AT_RISK_SECONDS) -> "CacheRowSource":
        """A view as the queue list reads it (a RowSource): indexed count and pages, nothing loaded whole."""
        return CacheRowSource(self, view, me=me, now=now, text=text, sort=sort, at_risk=at_risk)

    def at_risk_page(self, *, now: float, window: float, limit: int) -> list[QueueRow]:
        """Open work whose SLA clock runs out within `window` seconds (the wall's about-to-breach list)."""
        return self.queue_page(AT_RISK_VIEW, 0, limit, now=now, at_risk=window)

    def queues(self) -> list[tuple[str, str]]:
        with self.engine.connect() as conn:
            # the id stays as stored: views filter tickets by it; the name is for display
            return [(r[0], clean(r[1])) for r in conn.exec_driver_sql("SELECT id, name FROM queues ORDER BY position, id")]

    # --- one ticket ------------------------------------------------------------------------

    def ticket(self, ticket_id: int) -> Optional[dict]:
        with self.engine.connect() as conn:
            r = conn.exec_driver_sql("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).mappings().first()
        if r is None:
            return None
        d = dict(r)
        d["tags"] = orjson.loads(d["tags"])
        d["sla"] = orjson.loads(d["sla"])
        return scrub(d)

    def thread(self, ticket_id: int) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT * FROM messages WHERE ticket_id = ? ORDER BY created_at, id", (ticket_id,)
            ).mappings().all()
        return scrub([dict(r) for r in rows])

    def customer(self, customer_id: int) -> Optional[dict]:
        with self.engine.connect() as conn:
            c = conn.exec_driver_sql("SELECT * FROM customers WHERE id = ?", (customer_id,)).mappings().first()
            if c is None:
                return None
            d = dict(c)
            d["addresses"] = [
                dict(r) for r in conn.exec_driver_sql(
                    "SELECT network, asset, address, memo FROM deposit_addresses WHERE customer_id = ? ORDER BY network, id",
                    (customer_id,),
                ).mappings()
            ]
            d["deposits"] = [
                dict(r) for r in conn.exec_driver_sql(
                    "SELECT txid, network, asset, amount, output_index, status, created_at FROM deposits "
                    "WHERE customer_id = ? ORDER BY created_at DESC LIMIT 20",
                    (customer_id,),
                ).mappings()
            ]
        return scrub(d)

    def agents(self) -> dict[int, dict]:
        with self.engine.connect() as conn:
            return {r["id"]: scrub(dict(r)) for r in conn.exec_driver_sql("SELECT * FROM agents").mappings()}

    def macros(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT * FROM macros ORDER BY title").mappings().all()
        return scrub([_macro_dict(r) for r in rows])

    def policies(self) -> list[dict]:
        with self.engine.connect() as conn:
            return scrub([orjson.loads(r[0]) for r in conn.exec_driver_sql("SELECT body FROM sla_policies ORDER BY position")])

    def asset_config(self) -> dict:
        with self.engine.connect() as conn:
            return {"networks": [orjson.loads(r[0]) for r in conn.exec_driver_sql("SELECT body FROM asset_config ORDER BY network")]}

    def stats(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            one = lambda sql: int(conn.exec_driver_sql(sql).scalar() or 0)  # noqa: E731
            return {
                "tickets": one("SELECT count(*) FROM tickets"),
                "messages": one("SELECT count(*) FROM messages"),
                "customers": one("SELECT count(*) FROM customers"),
                "outbox": one("SELECT count(*) FROM outbox"),
                "rejections": one("SELECT count(*) FROM rejections WHERE acknowledged = 0"),
            }

    # --- drafts ----------------------------------------------------------------------------

    def save_draft(self, ticket_id: int, body: str, internal: bool = False, macro_id: Optional[str] = None,
                   actions: Optional[dict] = None) -> None:
        """Keep the reply box; `macro_id` is the macro its text came from, so a crash between
        applying and sending keeps the attribution (the use is counted when it is sent), and
        `actions` ({"macro": title, "actions": [...]}) the macro's ticket actions that wait for the
        reply: they go out with it, or not at all. An empty box keeps nothing."""
        pending = _dumps(actions) if actions and actions.get("actions") else ""
        with write_tx(self.engine) as conn:
            if body.strip():
                conn.exec_driver_sql(
                    "INSERT INTO drafts (ticket_id, body, internal, updated_at, macro_id, actions) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(ticket_id) DO UPDATE SET body = excluded.body, internal = excluded.internal, "
                    "updated_at = excluded.updated_at, macro_id = excluded.macro_id, actions = excluded.actions",
                    (ticket_id, body, int(internal), time.time(), macro_id, pending),
                )
            else:
                conn.exec_driver_sql("DELETE FROM drafts WHERE ticket_id = ?", (ticket_id,))

    def draft(self, ticket_id: int) -> Optional[dict]:
        with self.engine.connect() as conn:
            r = conn.exec_driver_sql("SELECT body, internal, macro_id, actions FROM drafts WHERE ticket_id = ?", (ticket_id,)).first()
        if r is None:
            return None
        return {"body": clean(r[0]), "internal": bool(r[1]), "macro_id": r[2], "actions": _pending_actions(r[3])}

    # --- local changes: the change and its outbox row in one transaction -------------------

    def _enqueue(self, conn: Connection, kind: str, ticket_id: int, payload: dict, base_version: Optional[int], change_id: str) -> None:
        conn.exec_driver_sql(
            "INSERT INTO outbox (change_id, kind, ticket_id, payload, base_version, created_at, attempts, next_attempt_at, last_error) "
            "VALUES (?, ?, ?, ?, ?, ?, 0, 0, '')",
            (change_id, kind, ticket_id, _dumps(payload), base_version, time.time()),
        )

    def _version(self, conn: Connection, ticket_id: int) -> int:
        v = conn.exec_driver_sql("SELECT version FROM tickets WHERE id = ?", (ticket_id,)).scalar()
        if v is None:
            raise LookupError(f"ticket {ticket_id} is not in the cache")
        return int(v)

    def queue_reply(self, ticket_id: int, body: str, *, internal: bool, agent_id: Optional[int], agent_name: str,
                    macro_id: Optional[str] = None, changes: Optional[dict] = None) -> str:
        """Write a reply (or internal note) locally, queue it and drop the draft: one transaction.

        With `macro_id` (the macro the text came from) the server counts one use of that macro;
        the cached count goes up at once and the server's row (a higher version) replaces it.

        With `changes` (a macro's ticket actions, as `macros.store.plan_changes` made them) the
        fields change here at once and travel in the same outbox row as the reply, with `base`:
        the values they had in this copy. The server applies them with the message, or, if someone
        changed one of those fields meanwhile, posts the message alone and says why."""
        if not body.strip():
            raise ValueError("the reply is empty")
        if changes:
            self._check_changes(changes)
        change_id = new_change_id()
        kind = "note" if internal else "reply"
        now = time.time()
        payload: dict[str, Any] = {"id": change_id, "kind": kind, "body": body}
        if macro_id:
            payload["macro_id"] = macro_id
        with write_tx(self.engine) as conn:
            version = self._version(conn, ticket_id)
            conn.exec_driver_sql(
                MESSAGE_UPSERT,
                [(change_id, ticket_id, kind, agent_id, agent_name, body, now, 1)],
            )
            if changes:
                payload["changes"] = dict(changes)
                payload["base"] = self._fields(conn, ticket_id, changes)
                self._set_fields(conn, ticket_id, changes)
            self._enqueue(conn, kind, ticket_id, payload, version, change_id)
            conn.exec_driver_sql("DELETE FROM drafts WHERE ticket_id = ?", (ticket_id,))
            if macro_id:  # optimistic; the version stays, so the server's counted row wins on the next pull
                conn.exec_driver_sql("UPDATE macros SET usage_count = usage_count + 1 WHERE id = ?", (macro_id,))
        return change_id

    UPDATABLE = ("status", "priority", "queue", "tags", "assignee_id")

    def _check_changes(self, changes: dict) -> None:
        bad = [k for k in changes if k not in self.UPDATABLE]
        if bad:
            raise ValueError(f"cannot change {bad[0]!r} on a ticket")
        if "status" in changes and changes["status"] not in STATUSES:
            raise ValueError(f"unknown status {changes['status']!r}")
        if "priority" in changes and changes["priority"] not in PRIORITIES:
            raise ValueError(f"unknown priority {changes['priority']!r}")

    def _fields(self, conn: Connection, ticket_id: int, changes: dict) -> dict:
        """The current local values of the fields `changes` names (the base a change was made on)."""
        row = conn.exec_driver_sql(f"SELECT {', '.join(changes)} FROM tickets WHERE id = ?", (ticket_id,)).mappings().one()
        return {k: (orjson.loads(row[k] or "[]") if k == "tags" else row[k]) for k in changes}

    def _set_fields(self, conn: Connection, ticket_id: int, changes: dict) -> None:
        sets = ", ".join(f"{k} = :{k}" for k in changes)
        values = {k: (_dumps(v) if k == "tags" else v) for k, v in changes.items()}
        conn.execute(_text(f"UPDATE tickets SET {sets}, updated_at = :now WHERE id = :id"), {**values, "now": time.time(), "id": ticket_id})

    def queue_update(self, ticket_id: int, changes: dict) -> str:
        self._check_changes(changes)
        change_id = new_change_id()
        with write_tx(self.engine) as conn:
            version = self._version(conn, ticket_id)
            self._set_fields(conn, ticket_id, changes)
            self._enqueue(conn, "update", ticket_id, dict(changes), version, change_id)
        return change_id

    def lookup_cache(self, pending_ttl: float = 60.0):
        """The deposit look-up's result cache on this database (storage.lookups.LookupCache)."""
        from storage.lookups import LookupCache

        return LookupCache(self.engine, pending_ttl=pending_ttl)

    def recent_lookups(self, limit: int = 500) -> list[dict]:
        """Cached look-up results, newest first: key, txid, network, body (JSON text), final, fetched_at."""
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT key, txid, network, body, final, fetched_at FROM lookup_results ORDER BY fetched_at DESC LIMIT ?",
                (int(limit),)).mappings().all()
        return [dict(r) for r in rows]

    def latest_lookup(self, txids: Sequence[str]) -> Optional[dict]:
        """The newest cached look-up verdict (its JSON as a dict) for any of these txids, or None."""
        keys = [str(t).lower() for t in txids][:500]
        if not keys:
            return None
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql(
                f"SELECT body FROM lookup_results WHERE lower(txid) IN ({', '.join('?' * len(keys))}) "
                "ORDER BY fetched_at DESC LIMIT 1", tuple(keys)).first()
        if row is None:
            return None
        try:
            body = orjson.loads(row[0])
        except orjson.JSONDecodeError:
            return None
        return body if isinstance(body, dict) else None

    def hold_change(self, change_id: str, until: float) -> None:
        """Keep a queued change from being sent before `until` (an undo window)."""
        with write_tx(self.engine) as conn:
            conn.exec_driver_sql("UPDATE outbox SET next_attempt_at = max(next_attempt_at, ?) WHERE change_id = ?",
                                 (until, change_id))

    def undo_update(self, change_id: str, ticket_id: int, changes: dict, previous: dict) -> Optional[dict]:
        """Take back a queued ticket change before it was sent: delete its outbox row and put back
        `previous` for each field that still holds what the change set, while the ticket still has
        the version the change was based on (a pulled server copy is already right). One
        transaction. Returns the fields restored, or None if the change already left the outbox."""
        restored: dict[str, Any] = {}
        self._check_changes(changes)  # the field names go into the SQL below
        with write_tx(self.engine) as conn:
            row = conn.exec_driver_sql("SELECT seq, base_version FROM outbox WHERE change_id = ?", (change_id,)).first()
            if row is None:
                return None
            conn.exec_driver_sql("DELETE FROM outbox WHERE change_id = ?", (change_id,))
            if not changes:
                return restored
            current = conn.exec_driver_sql(
                f"SELECT version, {', '.join(changes)} FROM tickets WHERE id = ?", (ticket_id,)).mappings().first()
            if current is not None and (row[1] is None or current["version"] == row[1]):
                for key, value in changes.items():
                    now_value = orjson.loads(current[key]) if key == "tags" else current[key]
                    if now_value == value:
                        restored[key] = previous.get(key)
                if restored:
                    self._set_fields(conn, ticket_id, restored)
        return restored

    def queue_claim(self, ticket_id: int, agent_id: int) -> str:
        change_id = new_change_id()
        with write_tx(self.engine) as conn:
            version = self._version(conn, ticket_id)
            conn.exec_driver_sql("UPDATE tickets SET assignee_id = ? WHERE id = ?", (agent_id, ticket_id))
            self._enqueue(conn, "claim", ticket_id, {}, version, change_id)
        return change_id

    def queue_macro(self, macro: dict, owner_id: Optional[int]) -> str:
        """A personal macro made here: usable at once, synced as personal through the outbox."""
        change_id = new_change_id()
        row = {"category": "", "shortcut": "", "actions": [], **macro, "id": macro.get("id") or change_id, "visibility": "personal", "owner_id": owner_id,
               "usage_count": 0, "updated_at": time.time(), "version": 1}
        with write_tx(self.engine) as conn:
            conn.exec_driver_sql(MACRO_UPSERT, [_macro_tuple(row)])
            payload = {k: row[k] for k in ("id", "key", "title", "category", "visibility", "shortcut", "bodies", "actions")}
            self._enqueue(conn, "macro", 0, payload, None, change_id)
        return change_id

    MACRO_EDITABLE = ("title", "category", "shortcut", "bodies", "actions")

    def macro(self, macro_id: str) -> Optional[dict]:
        with self.engine.connect() as conn:
            r = conn.exec_driver_sql("SELECT * FROM macros WHERE id = ?", (macro_id,)).mappings().first()
        return None if r is None else scrub(_macro_dict(r))

    def _macro_version(self, conn: Connection, macro_id: str) -> tuple[int, str]:
        r = conn.exec_driver_sql("SELECT version, title FROM macros WHERE id = ?", (macro_id,)).first()
        if r is None:
            raise LookupError(f"macro {macro_id} is not in the cache (deleted meanwhile?)")
        return int(r[0]), r[1]

    def queue_macro_update(self, macro_id: str, changes: dict) -> str:
        """Edit a macro here at once and queue the edit (If-Match: the version it was based on)."""
        bad = [k for k in changes if k not in self.MACRO_EDITABLE]
        if bad:
            raise ValueError(f"cannot change {bad[0]!r} on a macro")
        if not changes:
            raise ValueError("nothing to change")
        change_id = new_change_id()
        with write_tx(self.engine) as conn:
            version, _title = self._macro_version(conn, macro_id)
            old = conn.exec_driver_sql(f"SELECT {', '.join(changes)} FROM macros WHERE id = ?", (macro_id,)).mappings().one()
            base = {k: (orjson.loads(old[k]) if k in _MACRO_JSON and old[k] else old[k]) for k in changes}
            sets, values = _macro_sets(changes)
            conn.exec_driver_sql(f"UPDATE macros SET {sets}, updated_at = ? WHERE id = ?", (*values, time.time(), macro_id))
            # base: the fields as this copy had them, so uses by other agents meanwhile are no conflict
            self._enqueue(conn, "macro_update", 0, {"id": macro_id, **changes, "base": base}, version, change_id)
        return change_id

    def queue_macro_delete(self, macro_id: str) -> str:
        """Delete a macro here at once and queue the deletion (the server's copy comes back if it refuses)."""
        change_id = new_change_id()
        with write_tx(self.engine) as conn:
            version, title = self._macro_version(conn, macro_id)
            conn.exec_driver_sql("DELETE FROM macros WHERE id = ?", (macro_id,))
            self._enqueue(conn, "macro_delete", 0, {"id": macro_id, "title": title}, version, change_id)
        return change_id

    # --- the outbox, as the sync engine drains it ------------------------------------------

    def outbox(self, limit: Optional[int] = None, after: int = 0) -> list[dict]:
        """The queued changes, oldest first (`limit`: only the first few after seq `after`, as the
        push loop reads them)."""
        sql = "SELECT * FROM outbox WHERE seq > ? ORDER BY seq" + ("" if limit is None else f" LIMIT {int(limit)}")
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(sql, (int(after),)).mappings().all()
        out = []
        for r in rows:
            d = dict(r)
            d["payload"] = orjson.loads(d["payload"])
            out.append(d)
        return out

    def pending_counts(self) -> tuple[int, int]:
        """(changes waiting in the outbox, refusals not yet acknowledged): the status strip's
        figures, from two small tables, so it never counts the tickets or messages."""
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM rejections WHERE acknowledged = 0)").one()
        return int(row[0]), int(row[1])

    def outbox_depth(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar() or 0)

    def confirm(self, change: dict, ticket: Optional[dict], message: Optional[dict], previous_version: Optional[int],
                macro: Optional[dict] = None, changes_refused: Optional[str] = None) -> None:
        """The server applied a change: store its answer and drop the outbox row, atomically.

        `changes_refused` (the server's one-line reason) means a reply went out but the ticket
        changes that travelled with it did not: they are kept as a refusal the agent sees (R),
        with the changes, and the ticket takes the server's state.

        Later queued changes to the same ticket were based on the version this change started
        from; if the server moved exactly from there, they move along with it (our own change
        must not make our next one look stale)."""
        with write_tx(self.engine) as conn:
            if ticket is not None:
                conn.exec_driver_sql(TICKET_UPSERT, [ticket_tuple(ticket)])
                if previous_version is not None and previous_version == change.get("base_version"):
                    conn.exec_driver_sql(
                        "UPDATE outbox SET base_version = ? WHERE ticket_id = ? AND base_version = ? AND seq > ?",
                        (ticket["version"], change["ticket_id"], previous_version, change["seq"]),
                    )
            if message is not None:
                conn.exec_driver_sql(MESSAGE_UPSERT, [_message_tuple(message)])
            if macro is not None:
                conn.exec_driver_sql(MACRO_UPSERT, [_macro_tuple(macro)])
                # Every server change to a macro adds one to its version. Our own edits or deletes of
                # it queued after this change were based on the version before it: move them along
                # (counting a use must not make our next edit of the macro look stale).
                conn.exec_driver_sql(
                    "UPDATE outbox SET base_version = ? WHERE kind IN ('macro_update', 'macro_delete') "
                    "AND json_extract(payload, '$.id') = ? AND base_version = ? AND seq > ?",
                    (macro["version"], macro["id"], macro["version"] - 1, change["seq"]),
                )
            if change["kind"] == "macro_delete":  # a pull in between may have brought it back
                conn.exec_driver_sql("DELETE FROM macros WHERE id = ?", (change["payload"].get("id"),))
            if changes_refused and change["payload"].get("changes"):
                conn.exec_driver_sql(
                    "INSERT INTO rejections (change_id, kind, ticket_id, payload, status_code, reason, at, acknowledged) "
                    "VALUES (?, 'update', ?, ?, 409, ?, ?, 0)",
                    (change["change_id"] + ":changes", change["ticket_id"], _dumps(change["payload"]["changes"]),
                     "the reply was sent, its macro actions were not: " + str(changes_refused)[:400], time.time()),
                )
            conn.exec_driver_sql("DELETE FROM outbox WHERE seq = ?", (change["seq"],))
            if macro is not None:
                _replay_macro_edits(conn)

    def reject(self, change: dict, status_code: int, reason: str, ticket: Optional[dict], macro: Optional[dict] = None) -> None:
        """The server refused a change: keep it for the agent to see and take the server's state
        (`ticket`, or for a macro edit or delete `macro`: the server's copy, None if it has none)."""
        with write_tx(self.engine) as conn:
            conn.exec_driver_sql(
                "INSERT INTO rejections (change_id, kind, ticket_id, payload, status_code, reason, at, acknowledged) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (change["change_id"], change["kind"], change["ticket_id"], _dumps(change["payload"]), status_code, reason, time.time()),
            )
            conn.exec_driver_sql("DELETE FROM outbox WHERE seq = ?", (change["seq"],))
            if change["kind"] in ("reply", "note"):
                # the message never reached the server: it stays visible as rejected text, not as sent
                conn.exec_driver_sql("DELETE FROM messages WHERE id = ? AND pending = 1", (change["change_id"],))
                if change["payload"].get("macro_id"):  # the use was counted here in advance: take it back
                    conn.exec_driver_sql("UPDATE macros SET usage_count = max(0, usage_count - 1) WHERE id = ?",
                                         (change["payload"]["macro_id"],))
            if change["kind"] in ("macro", "macro_update", "macro_delete"):
                # our local edit is void: the server's copy replaces it (even at the same version), or it is gone
                conn.exec_driver_sql("DELETE FROM macros WHERE id = ?", (change["payload"].get("id"),))
                if macro is not None and change["kind"] != "macro":
                    conn.exec_driver_sql(MACRO_UPSERT, [_macro_tuple(macro)])
            if ticket is not None:
                conn.exec_driver_sql("DELETE FROM tickets WHERE id = ?", (ticket["id"],))
                conn.exec_driver_sql(TICKET_UPSERT, [ticket_tuple(ticket)])

    def defer(self, change: dict, error: str, next_attempt_at: float, attempts: Optional[int] = None,
              last_failure: str = "") -> None:
        """A change must wait: note why and when to try again (`attempts`: the failures that count
        against it so far, by default one more; `last_failure`: the digest of the server's failing
        answer to this attempt, '' if it did not fail on the server's side). Its `tries` go up by one."""
        with write_tx(self.engine) as conn:
            conn.exec_driver_sql(
                "UPDATE outbox SET attempts = coalesce(?, attempts + 1), last_error = ?, next_attempt_at = ?, last_failure = ?, "
                "tries = tries + 1 "
                "WHERE seq = ?",
                (attempts, error[:500], next_attempt_at, last_failure[:64], change["seq"]),
            )

    def outbox_waiting(self, limit: int = 3) -> list[dict]:
        """The first few queued changes that failed before and wait for a retry, oldest first; each
        row's `failed` is how many such changes there are in all."""
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT seq, change_id, kind, ticket_id, payload, attempts, last_error, next_attempt_at, "
                "count(*) OVER () AS failed FROM outbox WHERE last_error != '' ORDER BY seq LIMIT ?", (int(limit),)).mappings().all()
        return scrub([{**r, "payload": orjson.loads(r["payload"])} for r in rows])

    def rejections(self, include_acknowledged: bool = False) -> list[dict]:
        sql = "SELECT * FROM rejections" + ("" if include_acknowledged else " WHERE acknowledged = 0") + " ORDER BY id"
        with self.engine.connect() as conn:
            return scrub([dict(r) for r in conn.exec_driver_sql(sql).mappings()])

    def _rejection(self, rejection_id: int) -> dict:
        with self.engine.connect() as conn:
            r = conn.exec_driver_sql("SELECT * FROM rejections WHERE id = ? AND acknowledged = 0", (rejection_id,)).mappings().first()
        if r is None:
            raise LookupError("that refusal was already dealt with")
        d = dict(r)
        return {**d, "payload": payload_of(d)}

    def edit_rejection(self, rejection_id: int) -> int:
        """A refused reply or note goes back into its ticket's reply box to be edited and sent again:
        the draft gets its text (after what the box already holds, as its own paragraph), its macro
        and the ticket changes it carried, and the refusal is dealt with. Returns the ticket id."""
        from agent_tui.macros.compose import paragraph_insert

        r = self._rejection(rejection_id)
        if r["kind"] not in ("reply", "note"):
            raise ValueError("only a refused reply or note can be edited; resend the others (s)")
        p = r["payload"]
        body = str(p.get("body") or "")
        draft = self.draft(r["ticket_id"])
        if draft and draft["body"].strip():
            index, insertion, _ = paragraph_insert(draft["body"], len(draft["body"]), body)
            body = draft["body"][:index] + insertion + draft["body"][index:]
        changes = p.get("changes") if isinstance(p.get("changes"), dict) else None
        actions = None
        if changes:  # as actions again, so the box shows them and the agent can drop them
            actions = {"macro": "the refused reply", "actions": _actions_for(changes)}
        self.save_draft(r["ticket_id"], body, r["kind"] == "note", p.get("macro_id") if isinstance(p.get("macro_id"), str) else None,
                        actions)
        self.acknowledge(rejection_id)
        return int(r["ticket_id"])

    def resend_rejection(self, rejection_id: int, *, agent_id: Optional[int], agent_name: str) -> str:
        """Queue a refused change again, as a new change based on what this copy holds now (the
        ticket's or macro's current version), and deal with the refusal. Returns the new change id.
        Raises LookupError or ValueError (one line) when it cannot be queued as it was."""
        r = self._rejection(rejection_id)
        kind, p, tid = r["kind"], r["payload"], r["ticket_id"]
        if kind in ("reply", "note"):
            changes = p.get("changes") if isinstance(p.get("changes"), dict) else None
            new = self.queue_reply(tid, str(p.get("body") or ""), internal=kind == "note", agent_id=agent_id, agent_name=agent_name,
                                   macro_id=p.get("macro_id") if isinstance(p.get("macro_id"), str) else None, changes=changes)
        elif kind == "update":
            new = self.queue_update(tid, {k: v for k, v in p.items() if k in self.UPDATABLE})
        elif kind == "claim":
            if agent_id is None:
                raise ValueError("sign in first: a claim needs your agent id")
            new = self.queue_claim(tid, agent_id)
        elif kind == "macro":
            new = self.queue_macro({k: v for k, v in p.items() if k in ("id", "key", "title", "category", "shortcut", "bodies", "actions")},
                                   agent_id)
        elif kind == "macro_update":
            new = self.queue_macro_update(str(p.get("id")), {k: v for k, v in p.items() if k in self.MACRO_EDITABLE})
        elif kind == "macro_delete":
            new = self.queue_macro_delete(str(p.get("id")))
        else:
            raise ValueError(f"a refused {kind!r} change cannot be sent again")
        self.acknowledge(rejection_id)
        return new

    def acknowledge(self, rejection_id: int) -> None:
        with write_tx(self.engine) as conn:
            conn.exec_driver_sql("UPDATE rejections SET acknowledged = 1 WHERE id = ?", (rejection_id,))


def _actions_for(changes: dict) -> list[dict]:
    """Macro actions that make these ticket changes again (tags as one add and one remove are not
    known any more: the whole tag list is set by adding what it holds)."""
    out: list[dict] = []
    for key, kind in (("status", "set_status"), ("priority", "set_priority"), ("queue", "set_queue")):
        if key in changes:
            out.append({"type": kind, "value": changes[key]})
    if changes.get("tags"):
        out.append({"type": "add_tags", "value": list(changes["tags"])})
    if changes.get("assignee_id") is not None:
        out.append({"type": "assign_me"})
    return out


def _pending_actions(stored: Optional[str]) -> Optional[dict]:
    """A draft's waiting macro actions, or None (nothing stored, or unreadable: then nothing waits)."""
    if not stored:
        return None
    try:
        value = orjson.loads(stored)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("actions"), list) or not value["actions"]:
        return None
    return scrub({"macro": str(value.get("macro") or ""), "actions": [a for a in value["actions"] if isinstance(a, dict)]})


AT_RISK_VIEW = ViewSpec(key="at_risk", title="At risk", statuses=("new", "open"), due="at_risk")


class CacheRowSource:
    """A view of the cache as the queue list reads it: indexed count and pages, nothing loaded whole."""

    def __init__(self, cache: Cache, view: ViewSpec, *, me: Optional[int], now: float, text: str = "", sort: str = "sla",
                 at_risk: float = AT_RISK_SECONDS):
        self.cache, self.view, self.me, self.text, self.sort, self.at_risk = cache, view, me, text, sort, at_risk
        self.now = now  # fixed per source: at-risk/breached views don't shift under the cursor

    def count(self) -> int:
        return self.cache.queue_count(self.view, me=self.me, now=self.now, text=self.text, at_risk=self.at_risk)

    def page(self, offset: int, limit: int) -> list[QueueRow]:
        return self.cache.queue_page(self.view, offset, limit, me=self.me, now=self.now, sort=self.sort,
                                     text=self.text, at_risk=self.at_risk)


def _replay_macro_edits(conn: Connection) -> None:
    """A server copy of a macro just landed: our edits and deletes still in the outbox stay in
    effect on top of it (the agent keeps seeing what they did until the server answers)."""
    for kind, payload in conn.exec_driver_sql(
        "SELECT kind, payload FROM outbox WHERE kind IN ('macro_update', 'macro_delete') ORDER BY seq"
    ).all():
        p = orjson.loads(payload)
        if kind == "macro_delete":
            conn.exec_driver_sql("DELETE FROM macros WHERE id = ?", (p.get("id"),))
            continue
        fields = {k: v for k, v in p.items() if k in Cache.MACRO_EDITABLE}
        if fields:
            sets, values = _macro_sets(fields)
            conn.exec_driver_sql(f"UPDATE macros SET {sets} WHERE id = ?", (*values, p.get("id")))


def _filtered(view: ViewSpec, me: Optional[int], now: Optional[float], text: str, at_risk: float) -> tuple[str, dict]:
    """`FROM tickets t ... WHERE ...` of a view with the filter-as-you-type text, and its parameters."""
    where, params = _with_text(*view.where(me, now if now is not None else time.time(), at_risk), text)
    join = " LEFT JOIN customers c ON c.id = t.requester_id" if text.strip() else ""
    return f"FROM tickets t{join} WHERE {where}", params


def _with_text(where: str, params: dict, text: str) -> tuple[str, dict]:
    text = text.strip()
    if not text:
        return where, params
    params = dict(params)
    clause = "(t.subject LIKE :q ESCAPE '\\' OR c.name LIKE :q ESCAPE '\\' OR t.tags LIKE :q ESCAPE '\\'"
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params["q"] = f"%{escaped}%"
    digits = text.lstrip("#")
    if digits.isdigit():
        clause += " OR t.id = :qid"
        params["qid"] = int(digits)
    return f"{where} AND {clause})", params


