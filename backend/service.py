"""The helpdesk's rules, on the database: shared by the HTTP API, the seeder and the simulator."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, Sequence

import orjson
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from agent_tui import sla as sla_engine
from backend import schema as S
from agent_tui.vocabulary import NO_DUE, PRIORITIES, STATUSES, TICKET_FIELDS, TICKET_JSON_FIELDS


class ServiceError(Exception):
    """A refusal the API turns into a JSON error: status, stable code, one-line message."""

    def __init__(self, status: int, code: str, message: str, extra: Optional[dict] = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}


def write(engine: Engine):
    return engine.execution_options(write=True).begin()


def next_seq(conn: Connection, n: int = 1) -> int:
    """Reserve n sequence numbers; returns the last. Holds the counter's row lock until commit."""
    value = conn.execute(
        update(S.counters).where(S.counters.c.name == "seq").values(value=S.counters.c.value + n).returning(S.counters.c.value)
    ).scalar_one()
    return int(value)


def _loads(v: Any) -> Any:
    return orjson.loads(v) if isinstance(v, (str, bytes)) else v


def ticket_wire(r) -> dict:
    m = r._mapping if hasattr(r, "_mapping") else r
    return {f: (_loads(m[f]) if f in TICKET_JSON_FIELDS else m[f]) for f in TICKET_FIELDS}


def message_wire(r) -> dict:
    m = r._mapping if hasattr(r, "_mapping") else r
    return {k: m[k] for k in ("id", "ticket_id", "kind", "author_id", "author_name", "body", "created_at")}


_PLAIN = {
    "queues": ("id", "name", "position"),
    "agents": ("id", "name", "email", "role", "presence", "current_ticket_id", "updated_at"),
    "customers": ("id", "name", "first_name", "email", "tier", "language", "kyc_status", "updated_at", "version"),
    "addresses": ("id", "customer_id", "network", "asset", "address", "memo"),
    "deposits": ("id", "customer_id", "txid", "network", "asset", "amount", "output_index", "status", "created_at"),
}


def _macro_wire(m) -> dict:
    d = {k: m[k] for k in ("id", "key", "title", "category", "visibility", "owner_id", "shortcut", "usage_count", "updated_at", "version")}
    d["bodies"] = _loads(m["bodies"])
    d["actions"] = _loads(m["actions"])
    return d


# --- SLA ------------------------------------------------------------------------------------


class Policies:
    """The SLA policies, loaded once and reloaded when they change."""

    def __init__(self) -> None:
        self._loaded_seq = -1
        self.items: list[sla_engine.Policy] = []

    def get(self, conn: Connection) -> list[sla_engine.Policy]:
        top = conn.execute(select(func.max(S.sla_policies.c.seq))).scalar() or 0
        if top != self._loaded_seq:
            rows = conn.execute(select(S.sla_policies.c.body).order_by(S.sla_policies.c.position)).all()
            self.items = [sla_engine.policy_from_dict(orjson.loads(r[0])) for r in rows]
            self._loaded_seq = top
        return self.items


POLICIES = Policies()


def evaluate_sla(policies: list, queue: str, priority: str, channel: str, events: Iterable[tuple], now: float) -> tuple[float, str]:
    policy = sla_engine.match_policy(policies, queue, priority, channel)
    evs = [sla_engine.TicketEvent(at=at, kind=kind, status=status) for at, kind, status in events]
    result = sla_engine.evaluate(policy, evs, now)
    due = result.next_due if result.next_due is not None else NO_DUE
    # compact on the wire and in both databases: times to the millisecond, unset fields left out
    compact = [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in m.items() if v is not None} for m in result.to_dicts()]
    return due, orjson.dumps(compact).decode()


def recompute_sla(conn: Connection, ticket_id: int, now: float) -> dict:
    """The ticket's SLA state as of `now`: returns the tickets values to write (sla_due, sla) and
    rewrites its ticket_sla rows (the metrics' plain-column copy of sla) in the same transaction."""
    t = conn.execute(select(S.tickets.c.queue, S.tickets.c.priority, S.tickets.c.channel, S.tickets.c.created_at)
                     .where(S.tickets.c.id == ticket_id)).one()
    events = conn.execute(
        select(S.ticket_events.c.at, S.ticket_events.c.kind, S.ticket_events.c.status)
        .where(S.ticket_events.c.ticket_id == ticket_id)
        .order_by(S.ticket_events.c.at, S.ticket_events.c.id)
    ).all()
    due, sla_json = evaluate_sla(POLICIES.get(conn), t.queue, t.priority, t.channel, [tuple(e) for e in events], now)
    S.write_ticket_sla(conn, ticket_id, t.created_at, sla_json)
    return {"sla_due": due, "sla": sla_json}


def _event(conn: Connection, ticket_id: int, at: float, kind: str, status: Optional[str] = None, agent_id: Optional[int] = None) -> None:
    conn.execute(S.ticket_events.insert().values(ticket_id=ticket_id, at=at, kind=kind, status=status, agent_id=agent_id))


# --- agents ---------------------------------------------------------------------------------


def agent_for(engine: Engine, authorization: Optional[str]) -> dict:
    """The agent row of an `Authorization: Bearer <token>` header; 401 without a valid token."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ServiceError(401, "unauthorized", "Missing bearer token; sign in with `agent-tui login URL`.")
    token = authorization[7:].strip()
    with engine.connect() as conn:
        row = conn.execute(select(S.agents).where(S.agents.c.token == token)).first()
    if row is None:
        raise ServiceError(401, "unauthorized", "The token is not valid; sign in again with `agent-tui login URL`.")
    return dict(row._mapping)


# --- tickets --------------------------------------------------------------------------------


def get_ticket(conn: Connection, ticket_id: int, *, lock: bool = False):
    q = select(S.tickets).where(S.tickets.c.id == ticket_id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None or row.deleted:
        raise ServiceError(404, "not_found", f"Ticket #{ticket_id} does not exist.")
    return row


def create_ticket(
    conn: Connection, *, subject: str, queue: str, priority: str, channel: str, requester_id: int,
    body: str, language: str = "en", tags: Iterable[str] = (), now: Optional[float] = None,
    author_name: str = "",
) -> dict:
    now = time.time() if now is None else now
    if priority not in PRIORITIES:
        raise ServiceError(422, "invalid", f"Unknown priority {priority!r}.")
    if conn.execute(select(S.queues.c.id).where(S.queues.c.id == queue)).first() is None:
        raise ServiceError(422, "invalid", f"Unknown queue {queue!r}.")
    seq = next_seq(conn, 2)
    tid = conn.execute(
        S.tickets.insert().values(
            subject=subject, queue=queue, status="new", priority=priority, channel=channel, requester_id=requester_id,
            tags=orjson.dumps(list(tags)).decode(), language=language, created_at=now, updated_at=now, version=1,
            sla_due=NO_DUE, sla="[]", seq=seq,
        ).returning(S.tickets.c.id)
    ).scalar_one()
    _event(conn, tid, now, "created", "new")
    _event(conn, tid, now, "customer_message")
    conn.execute(S.messages.insert().values(
        id=str(uuid.uuid4()), ticket_id=tid, kind="customer", author_id=None, author_name=author_name,
        body=body, created_at=now, seq=seq - 1,
    ))
    conn.execute(update(S.tickets).where(S.tickets.c.id == tid).values(**recompute_sla(conn, tid, now)))
    return ticket_wire(get_ticket(conn, tid))


def add_message(
    conn: Connection, ticket_id: int, *, kind: str, body: str, author_id: Optional[int], author_name: str,
    message_id: Optional[str] = None, now: Optional[float] = None,
) -> tuple[dict, dict, int]:
    """Append a customer message, public reply or internal note. Returns (ticket, message, previous version)."""
    now = time.time() if now is None else now
    if kind not in ("customer", "reply", "note"):
        raise ServiceError(422, "invalid", f"Unknown message kind {kind!r}: use reply or note.")
    if not body or not body.strip():
        raise ServiceError(422, "invalid", "The message body is empty.")
    if len(body) > 64_000:
        raise ServiceError(422, "invalid", "The message is longer than 64,000 characters.")
    t = get_ticket(conn, ticket_id, lock=True)
    seq = next_seq(conn, 2)
    mid = message_id or str(uuid.uuid4())
    if conn.execute(select(S.messages.c.id).where(S.messages.c.id == mid)).first() is not None:
        raise ServiceError(409, "duplicate_id", f"A message with id {mid} already exists.")
    conn.execute(S.messages.insert().values(
        id=mid, ticket_id=ticket_id, kind=kind, author_id=author_id, author_name=author_name, body=body, created_at=now, seq=seq - 1,
    ))
    values: dict[str, Any] = {"version": t.version + 1, "updated_at": now, "seq": seq}
    if kind == "reply":
        _event(conn, ticket_id, now, "agent_reply", agent_id=author_id)
        values["agent_replies"] = t.agent_replies + 1
        if t.first_reply_at is None:
            values["first_reply_at"] = now
        if t.status == "new":
            values["status"] = "open"
            _event(conn, ticket_id, now, "status", "open", author_id)
    elif kind == "note":
        _event(conn, ticket_id, now, "internal_note", agent_id=author_id)
    else:
        _event(conn, ticket_id, now, "customer_message")
        if t.status in ("pending", "solved", "closed", "on_hold"):
            values["status"] = "open"
            if t.status in ("solved", "closed"):
                values["reopens"] = t.reopens + 1
                values["solved_at"] = None
            _event(conn, ticket_id, now, "status", "open")
    values.update(recompute_sla(conn, ticket_id, now))  # from the events just added; queue, priority and channel stay
    conn.execute(update(S.tickets).where(S.tickets.c.id == ticket_id).values(**values))
    msg = message_wire(conn.execute(select(S.messages).where(S.messages.c.id == mid)).one())
    return ticket_wire(get_ticket(conn, ticket_id)), msg, t.version


def require_version(current: int, if_match: Optional[str], what: str, server_copy: Callable[[], dict]) -> None:
    """412 with the server's copy when If-Match names another version than `current` (no header: no check)."""
    if if_match is None:
        return
    want = if_match.strip().strip('"').removeprefix("W/").strip('"')
    if str(current) != want:
        raise ServiceError(412, "version_mismatch", f"{what} changed on the server (now version {current}, yours {want}).",
                           server_copy())


def check_version(t, if_match: Optional[str]) -> None:
    require_version(t.version, if_match, f"Ticket #{t.id}", lambda: {"ticket": ticket_wire(t)})


def validate_changes(conn: Connection, changes: dict) -> None:
    """ServiceError (422, one line) unless every field of a ticket change is known and valid here."""
    allowed = {"status", "priority", "queue", "tags", "assignee_id", "escalated", "csat"}
    bad = [k for k in changes if k not in allowed]
    if bad:
        raise ServiceError(422, "invalid", f"Field {bad[0]!r} cannot be changed.")
    if not changes:
        raise ServiceError(422, "invalid", "Nothing to change.")
    if "status" in changes and changes["status"] not in STATUSES:
        raise ServiceError(422, "invalid", f"Unknown status {changes['status']!r}.")
    if "priority" in changes and changes["priority"] not in PRIORITIES:
        raise ServiceError(422, "invalid", f"Unknown priority {changes['priority']!r}.")
    if "queue" in changes and conn.execute(select(S.queues.c.id).where(S.queues.c.id == changes["queue"])).first() is None:
        raise ServiceError(422, "invalid", f"Unknown queue {changes['queue']!r}.")
    if "tags" in changes:
        tags = changes["tags"]
        if not isinstance(tags, list) or not all(isinstance(x, str) and 0 < len(x) <= 64 for x in tags):
            raise ServiceError(422, "invalid", "Tags must be a list of short strings.")
    if changes.get("assignee_id") is not None:
        if conn.execute(select(S.agents.c.id).where(S.agents.c.id == changes["assignee_id"])).first() is None:
            raise ServiceError(422, "invalid", f"No agent with id {changes['assignee_id']}.")


def apply_message_changes(conn: Connection, before, changes: dict, base: dict, *, agent_id: Optional[int],
                          now: Optional[float] = None) -> tuple[Optional[dict], Optional[str]]:
    """Apply the (validated) ticket changes that came with a message, given the ticket row from
    before the message and the values the sender saw (`base`).

    Returns (ticket, None) when applied (ticket None: nothing was left to change), or (None, reason)
    when a field the changes set was changed by someone else meanwhile: then nothing is applied.
    Tags never conflict: the sender's additions and removals against `base` apply to the current tags."""
    stale = []
    for key, target in changes.items():
        if key == "tags" or key not in base:
            continue
        current = getattr(before, key)
        if current != base[key] and current != target:
            stale.append(f"{key} is now {current!r} (you saw {base[key]!r})")
    if stale:
        return None, f"ticket #{before.id} changed meanwhile: {'; '.join(stale)}"
    effective = {k: v for k, v in changes.items() if k != "tags" and getattr(before, k) != v}
    if "tags" in changes:
        current_tags = list(_loads(before.tags) or [])
        seen = list(base["tags"] if base.get("tags") is not None else current_tags)
        added = [x for x in changes["tags"] if x not in seen]
        removed = {x for x in seen if x not in changes["tags"]}
        merged = [x for x in current_tags if x not in removed] + [x for x in added if x not in current_tags]
        if sorted(set(merged)) != sorted(set(current_tags)):
            effective["tags"] = merged
    if not effective:
        return None, None
    ticket, _prev = update_ticket(conn, before.id, effective, if_match=None, agent_id=agent_id, now=now)
    return ticket, None


def update_ticket(
    conn: Connection, ticket_id: int, changes: dict, *, if_match: Optional[str], agent_id: Optional[int],
    now: Optional[float] = None,
) -> tuple[dict, int]:
    now = time.time() if now is None else now
    validate_changes(conn, changes)
    t = get_ticket(conn, ticket_id, lock=True)
    check_version(t, if_match)
    values: dict[str, Any] = dict(changes)
    if "tags" in values:
        values["tags"] = orjson.dumps(sorted(set(values["tags"]))).decode()
    if "status" in changes and changes["status"] != t.status:
        new = changes["status"]
        _event(conn, ticket_id, now, "status", new, agent_id)
        if new in ("solved", "closed") and t.solved_at is None:
            values["solved_at"] = now
        if new in ("new", "open", "pending", "on_hold") and t.status in ("solved", "closed"):
            values["reopens"] = t.reopens + 1
            values["solved_at"] = None
    values.update(version=t.version + 1, updated_at=now, seq=next_seq(conn))
    conn.execute(update(S.tickets).where(S.tickets.c.id == ticket_id).values(**values))
    if {"status", "priority", "queue"} & set(changes):
        conn.execute(update(S.tickets).where(S.tickets.c.id == ticket_id).values(**recompute_sla(conn, ticket_id, now)))
    return ticket_wire(get_ticket(conn, ticket_id)), t.version


def claim_ticket(conn: Connection, ticket_id: int, agent_id: int, *, if_match: Optional[str] = None, now: Optional[float] = None) -> tuple[dict, int]:
    """Atomic: of two agents claiming one ticket, exactly one wins; the other gets 409."""
    now = time.time() if now is None else now
    t = get_ticket(conn, ticket_id)
    check_version(t, if_match)
    seq = next_seq(conn)
    result = conn.execute(
        update(S.tickets)
        .where(and_(S.tickets.c.id == ticket_id, S.tickets.c.deleted.is_(False),
                    or_(S.tickets.c.assignee_id.is_(None), S.tickets.c.assignee_id == agent_id)))
        .values(assignee_id=agent_id, version=S.tickets.c.version + 1, updated_at=now, seq=seq)
        .returning(S.tickets.c.version)
    ).first()
    if result is None:
        holder = conn.execute(
            select(S.agents.c.name).select_from(S.tickets.join(S.agents, S.agents.c.id == S.tickets.c.assignee_id))
            .where(S.tickets.c.id == ticket_id)
        ).scalar()
        raise ServiceError(409, "already_claimed", f"Ticket #{ticket_id} is already claimed by {holder or 'another agent'}.")
    _event(conn, ticket_id, now, "claim", agent_id=agent_id)
    return ticket_wire(get_ticket(conn, ticket_id)), result.version - 1


def delete_ticket(conn: Connection, ticket_id: int, merged_into: Optional[int] = None) -> None:
    get_ticket(conn, ticket_id)
    conn.execute(update(S.tickets).where(S.tickets.c.id == ticket_id).values(deleted=True, merged_into=merged_into, seq=next_seq(conn)))


def set_presence(conn: Connection, agent_id: int, presence: str, ticket_id: Optional[int], now: Optional[float] = None) -> dict:
    if presence not in ("online", "away", "offline"):
        raise ServiceError(422, "invalid", f"Unknown presence {presence!r}.")
    now = time.time() if now is None else now
    conn.execute(update(S.agents).where(S.agents.c.id == agent_id).values(
        presence=presence, current_ticket_id=ticket_id, updated_at=now, seq=next_seq(conn)))
    row = conn.execute(select(S.agents).where(S.agents.c.id == agent_id)).one()
    return {k: row._mapping[k] for k in _PLAIN["agents"]}


# --- the changes feed -----------------------------------------------------------------------


@dataclass
class Page:
    body: dict
    cursor: int
    has_more: bool


# feed key -> (table, wire columns, JSON-text columns passed through untouched, tombstone column)
_FEED = {
    "queues": ("queues", _PLAIN["queues"], (), None),
    "agents": ("agents", _PLAIN["agents"], (), None),
    "customers": ("customers", _PLAIN["customers"], (), None),
    "addresses": ("deposit_addresses", _PLAIN["addresses"], (), None),
    "deposits": ("deposits", _PLAIN["deposits"], (), None),
    "policies": ("sla_policies", ("id", "name", "position", "body"), ("body",), None),
    "assets": ("assets", ("network", "body"), ("body",), None),
    "macros": ("macros", ("id", "key", "title", "category", "visibility", "owner_id", "shortcut", "usage_count",
                          "updated_at", "version", "bodies", "actions"), ("bodies", "actions"), "deleted"),
    "tickets": ("tickets", TICKET_FIELDS, TICKET_JSON_FIELDS, "deleted"),
    "messages": ("messages", ("id", "ticket_id", "kind", "author_id", "author_name", "body", "created_at"), (), None),
}


def _row_json(dialect: str, cols: Sequence[str], json_cols: Iterable[str]) -> str:
    """SQL that renders one row as a JSON object in the database itself (no Python dict per row)."""
    jc = set(json_cols)
    if dialect == "postgresql":
        parts = ", ".join(f"'{c}', " + (f"{c}::json" if c in jc else c) for c in cols)
        return f"json_build_object({parts})::text"
    parts = ", ".join(f"'{c}', " + (f"json({c})" if c in jc else c) for c in cols)
    return f"json_object({parts})"


def changes(conn: Connection, cursor: int, limit: int, agent_id: Optional[int] = None) -> Page:
    """Everything with seq > cursor, oldest first, at most `limit` rows across all kinds. With an
    agent_id, other agents' personal macros are left out (the page may then carry fewer rows; the
    cursor still moves past them).

    The hot path of a first sync: the page's last seq is found on the seq indexes first, so the
    database renders as JSON text only the rows the page carries (rendering `limit` rows of every
    table and keeping `limit` of them cost 40% more at 100k tickets), and Python only splices those
    texts into the page as orjson Fragments."""
    dialect = conn.dialect.name
    pyformat = conn.dialect.paramstyle == "pyformat"
    ph = ("%(c)s", "%(n)s", "%(o)s", "%(e)s") if pyformat else (":c", ":n", ":o", ":e")
    # First the page's last seq, from the seq indexes alone (nothing rendered yet): the limit-th
    # smallest seq over every table, and whether one more exists.
    firsts = " UNION ALL ".join(f"SELECT seq FROM (SELECT seq FROM {table} WHERE seq > {ph[0]} ORDER BY seq LIMIT {ph[1]}) AS {table}_s"
                                for table, *_ in _FEED.values())
    edge = conn.exec_driver_sql(f"SELECT seq FROM ({firsts}) AS s ORDER BY seq LIMIT 2 OFFSET {ph[2]}",
                                {"c": cursor, "n": limit + 1, "o": limit - 1}).scalars().all()
    has_more = len(edge) == 2
    end = edge[0] if edge else conn.exec_driver_sql(f"SELECT max(seq) FROM ({firsts}) AS s", {"c": cursor, "n": limit + 1}).scalar()
    # Then render just those rows: seq in (cursor, end]
    picked: list[tuple] = []
    params = {"c": cursor, "e": end, "a": agent_id}
    mine = f" AND (visibility = 'shared' OR owner_id = {'%(a)s' if pyformat else ':a'})" if agent_id is not None else ""
    for key, (table, cols, json_cols, tomb) in _FEED.items():
        tomb_sql = f", {tomb}, id" if tomb else ""
        only = mine if key == "macros" else ""
        rows = conn.exec_driver_sql(
            f"SELECT seq, {_row_json(dialect, cols, json_cols)}{tomb_sql} FROM {table} "
            f"WHERE seq > {ph[0]} AND seq <= {ph[3]}{only} ORDER BY seq",
            params,
        ).all()
        picked.extend((r[0], key, r) for r in rows)
    picked.sort(key=lambda x: x[0])
    body: dict[str, list] = {}
    deleted: dict[str, list] = {"tickets": [], "macros": []}
    frag = orjson.Fragment
    for _seq, key, r in picked:
        if _FEED[key][3] and r[2]:
            deleted[key].append(r[3])
            continue
        if key == "policies":  # the policy document, with its row's id, name and position
            d = orjson.loads(r[1])
            body.setdefault(key, []).append(d.pop("body") | d)
        elif key == "assets":  # the network's document itself
            body.setdefault(key, []).append(orjson.loads(r[1])["body"])
        else:
            body.setdefault(key, []).append(frag(r[1]))
    if deleted["tickets"]:
        body["deleted_tickets"] = deleted["tickets"]
    if deleted["macros"]:
        body["deleted_macros"] = deleted["macros"]
    new_cursor = end if end is not None else cursor
    return Page(body=body, cursor=new_cursor, has_more=has_more)


def current_seq(conn: Connection) -> int:
    return int(conn.execute(select(S.counters.c.value).where(S.counters.c.name == "seq")).scalar() or 0)


def macro_wire(m) -> dict:
    return _macro_wire(m._mapping if hasattr(m, "_mapping") else m)


def plain_wire(key: str, r) -> dict:
    m = r._mapping if hasattr(r, "_mapping") else r
    return {k: m[k] for k in _PLAIN[key]}


# --- macros ---------------------------------------------------------------------------------

MACRO_EDITABLE = ("title", "category", "shortcut", "bodies", "actions")


def _macro_row(conn: Connection, macro_id: str, *, lock: bool = False):
    q = select(S.macros).where(S.macros.c.id == macro_id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    return conn.execute(q).first()


def create_macro(conn: Connection, macro: dict, owner_id: int, now: Optional[float] = None) -> dict:
    """A new macro (`macro`: id (optional), key, title, category, visibility, shortcut, bodies, actions)."""
    now = time.time() if now is None else now
    mid = macro.get("id") or str(uuid.uuid4())
    conn.execute(S.macros.insert().values(
        id=mid, key=macro["key"], title=macro["title"], category=macro["category"], visibility=macro["visibility"],
        owner_id=owner_id, shortcut=macro["shortcut"], bodies=orjson.dumps(macro["bodies"]).decode(),
        actions=orjson.dumps(macro["actions"]).decode(), usage_count=0, updated_at=now, version=1,
        deleted=False, seq=next_seq(conn)))
    return macro_wire(_macro_row(conn, mid))


def count_macro_use(conn: Connection, macro_id: Optional[str], agent_id: Optional[int], now: Optional[float] = None) -> Optional[dict]:
    """One use of a macro, counted with the message that used it (same transaction): usage_count + 1,
    a new version and seq so every client pulls the new count. A macro that is unknown, deleted or
    someone else's personal one is ignored (returns None): it never fails the reply."""
    if not macro_id or not isinstance(macro_id, str):
        return None
    seq = next_seq(conn)
    row = conn.execute(
        update(S.macros)
        .where(and_(S.macros.c.id == macro_id, S.macros.c.deleted.is_(False),
                    or_(S.macros.c.visibility == "shared", S.macros.c.owner_id == agent_id)))
        .values(usage_count=S.macros.c.usage_count + 1, version=S.macros.c.version + 1, seq=seq)
        .returning(S.macros.c.id)
    ).first()
    if row is None:
        return None
    return macro_wire(_macro_row(conn, macro_id))


def may_manage_macro(row, agent: dict) -> Optional[str]:
    """None if the agent may edit or delete the macro, else the one-line reason."""
    if row.visibility == "personal":
        if row.owner_id != agent["id"]:
            return "This is another agent's personal macro; only its owner can change it."
        return None
    if agent.get("role") != "supervisor":
        return "Only supervisors manage shared macros; save your own version as a personal macro."
    return None


def _macro_content(row, field: str) -> Any:
    value = getattr(row, field)
    return orjson.loads(value) if field in ("bodies", "actions") and isinstance(value, str) else value


def _managed_macro(conn: Connection, macro_id: str, agent: dict, if_match: Optional[str], base: Optional[dict] = None):
    """The macro row, locked, if this agent may change it and their copy is current. `base`: the
    edited fields as the client's copy had them; when the version moved only because agents used the
    macro (every use is a new version), those fields are still what the client saw, and the edit goes
    through instead of failing on a popular macro."""
    row = _macro_row(conn, macro_id, lock=True)
    if row is None or row.deleted:
        raise ServiceError(404, "not_found", f"Macro {macro_id} does not exist (deleted on the server?).")
    why = may_manage_macro(row, agent)
    if why:
        raise ServiceError(403, "forbidden", why, {"macro": macro_wire(row)})
    unchanged = bool(base) and all(k in MACRO_EDITABLE and _macro_content(row, k) == v for k, v in (base or {}).items())
    if not unchanged:
        require_version(row.version, if_match, f"Macro {row.title!r}", lambda: {"macro": macro_wire(row)})
    return row


def update_macro(conn: Connection, macro_id: str, changes: dict, *, agent: dict, if_match: Optional[str],
                 now: Optional[float] = None, base: Optional[dict] = None) -> tuple[dict, int]:
    """Edit a macro: personal ones by their owner, shared ones by supervisors. Returns (macro, previous version).
    `base`: the edited fields as the client saw them (see _managed_macro)."""
    now = time.time() if now is None else now
    bad = [k for k in changes if k not in MACRO_EDITABLE]
    if bad:
        raise ServiceError(422, "invalid", f"Field {bad[0]!r} of a macro cannot be changed.")
    if not changes:
        raise ServiceError(422, "invalid", "Nothing to change.")
    if "title" in changes and not str(changes["title"] or "").strip():
        raise ServiceError(422, "invalid", "A macro needs a title.")
    if "bodies" in changes:
        b = changes["bodies"]
        if not isinstance(b, dict) or not all(isinstance(v, str) and v.strip() for v in b.values()):
            raise ServiceError(422, "invalid", "bodies must map language codes to non-empty text.")
    row = _managed_macro(conn, macro_id, agent, if_match, base)
    bodies = changes["bodies"] if "bodies" in changes else _loads(row.bodies)
    actions = changes["actions"] if "actions" in changes else _loads(row.actions)
    if not bodies and not actions:
        raise ServiceError(422, "invalid", "A macro needs a text (bodies) or actions.")
    values: dict[str, Any] = {k: (orjson.dumps(v).decode() if k in ("bodies", "actions") else v) for k, v in changes.items()}
    values.update(version=row.version + 1, updated_at=now, seq=next_seq(conn))
    conn.execute(update(S.macros).where(S.macros.c.id == macro_id).values(**values))
    return macro_wire(_macro_row(conn, macro_id)), row.version


def delete_macro(conn: Connection, macro_id: str, *, agent: dict, if_match: Optional[str] = None,
                 now: Optional[float] = None) -> int:
    """Delete a macro (a tombstone the changes feed sends as deleted_macros). Returns the previous version."""
    now = time.time() if now is None else now
    row = _managed_macro(conn, macro_id, agent, if_match)
    conn.execute(update(S.macros).where(S.macros.c.id == macro_id).values(
        deleted=True, version=row.version + 1, updated_at=now, seq=next_seq(conn)))
    return row.version


def get_macro(conn: Connection, macro_id: str, agent: dict) -> dict:
    row = _macro_row(conn, macro_id)
    if row is None or row.deleted or (row.visibility == "personal" and row.owner_id != agent["id"]):
        raise ServiceError(404, "not_found", f"Macro {macro_id} does not exist.")
    return macro_wire(row)
