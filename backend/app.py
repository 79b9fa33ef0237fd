"""The reference helpdesk server: a FastAPI app documented by its OpenAPI schema (/openapi.json).

Auth is a Bearer token per agent (roles agent, recovery, supervisor). Errors are JSON:
{"error": "<stable code>", "message": "<one line>"}.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import os
import time
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, Optional

import anyio
import orjson
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sse_starlette.sse import EventSourceResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent_tui import vocabulary as V
from backend import fields as F
from backend import schema as S
from backend import service as svc
from backend.service import ServiceError

API = "/api/v1"


def _json(body: Any, status: int = 200, headers: Optional[dict] = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _error(status: int, code: str, message: str, extra: Optional[dict] = None, headers: Optional[dict] = None) -> Response:
    return _json({"error": code, "message": message, **(extra or {})}, status, headers)


# --- request bodies (they are the OpenAPI documentation too) --------------------------------


class TicketPatch(BaseModel):
    status: Optional[V.Status] = None
    priority: Optional[V.Priority] = None
    queue: Optional[F.QueueId] = None
    tags: Optional[F.Tags] = None
    assignee_id: Optional[int] = None
    escalated: Optional[bool] = None


class MessageIn(BaseModel):
    id: Optional[F.ClientId] = Field(None, description="Client-made message id (UUID); the outbox sends its change id.")
    kind: V.AgentMessageKind = Field(description="reply = public reply to the customer; note = internal note")
    body: F.Body
    macro_id: Optional[F.ClientId] = Field(None, description=(
        "The macro the text came from: the server counts one use of it (once per Idempotency-Key). "
        "An unknown or deleted macro is ignored."))
    changes: Optional[TicketPatch] = Field(None, description=(
        "Ticket changes that go out with this message and only with it (a macro's actions), in the same "
        "transaction. Tags are merged as a difference from `base`. If another field no longer has its "
        "`base` value (someone changed it meanwhile) or a change is invalid, the message is still posted "
        "and the answer's `changes_refused` says why; nothing of `changes` is applied then."))
    base: Optional[TicketPatch] = Field(None, description="The values the `changes` fields had in the sender's copy.")


class TicketIn(BaseModel):
    subject: F.Subject
    queue: F.QueueId
    priority: V.Priority = "normal"
    channel: V.Channel = "email"
    requester_id: int
    body: F.Body
    language: F.LanguageCode = "en"
    tags: F.Tags = []


class LedgerRow(BaseModel):
    """One deposit the exchange recorded: `output_index` is the UTXO output or EVM/Tron log index."""

    id: int
    customer_id: int
    txid: str
    network: str
    asset: str
    amount: str
    output_index: Optional[int] = None
    status: str
    created_at: float


class LedgerOut(BaseModel):
    deposits: list[LedgerRow]


TXID_PATTERN = r"^(0[xX])?[0-9a-fA-F]{64}$"
LEDGER_ROW_LIMIT = 1000  # rows one txid may have in the answer (a client takes more as a broken answer)


class PresenceIn(BaseModel):
    presence: V.Presence
    ticket_id: Optional[int] = None


MacroBodies = Annotated[dict[F.LanguageCode, F.Body], Field(
    max_length=50, description=("The macro's text per language code. Empty only for a macro of actions alone "
                                "(no reply text), which the agent applies after a confirm."))]


class MacroIn(BaseModel):
    id: Optional[F.ClientId] = None
    key: F.MacroKey
    title: F.Title
    category: F.Category = ""
    visibility: V.Visibility = "personal"
    shortcut: F.Shortcut = ""
    bodies: MacroBodies
    actions: list[dict] = []

    @model_validator(mode="after")
    def _text_or_actions(self):
        if not self.bodies and not self.actions:
            raise ValueError("a macro needs a text (bodies) or actions")
        return self


class MacroPatch(BaseModel):
    title: Optional[F.Title] = None
    category: Optional[F.Category] = None
    shortcut: Optional[F.Shortcut] = None
    bodies: Optional[MacroBodies] = None
    actions: Optional[list[dict]] = None
    base: Optional[dict[str, Any]] = Field(None, description=(
        "The edited fields as your copy had them. If the version moved only because agents used the macro "
        "(each use is a new version) and these fields are unchanged, the edit is applied despite If-Match."))


class FaultIn(BaseModel):
    path: str = Field(description="Path prefix the fault applies to, e.g. /api/v1/changes")
    kind: Literal["500", "502", "503", "429", "500_unique", "malformed", "garbled_page", "stuck_cursor", "answer",
                  "drop_field", "delay", "reset", "kill"]
    count: int = 1
    after: int = Field(0, description="Let this many matching requests through first")
    body_contains: Optional[str] = Field(None, description="Only requests whose body contains this text")
    retry_after: Optional[float] = None
    delay: float = 0.0
    status: int = Field(200, description="answer: the status to send")
    body: str = Field("", description="answer: the body to send")
    headers: dict[str, str] = Field(default_factory=dict, description="answer: headers to send")
    field: str = Field("", description="drop_field: dotted path of the field left out of the real answer, e.g. ticket.version")


# --- the app --------------------------------------------------------------------------------


class Faults:
    """Faults a test asks for (only when the server was started with faults enabled)."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def take(self, path: str, body: bytes = b"") -> Optional[dict]:
        for f in self.items:
            if f["body_contains"] is not None and f["body_contains"].encode() not in body:
                continue
            if path.startswith(f["path"]) and f["count"] > 0:
                if f["after"] > 0:
                    f["after"] -= 1
                    continue
                f["count"] -= 1
                return f
        return None


def create_app(database_url: str, *, faults: bool = False, simulator: Any = None) -> FastAPI:
    engine = S.make_engine(database_url)
    S.create_schema(engine)
    fault_box = Faults()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        task = None
        if simulator is not None:
            task = asyncio.create_task(simulator.run(engine))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
            engine.dispose()

    app = FastAPI(
        title="agent-tui reference helpdesk",
        version="1",
        description=(
            "The helpdesk server agent-tui syncs with. Times are Unix epoch seconds (UTC). "
            "Pull with GET /api/v1/changes?cursor=; push replies with an Idempotency-Key and edits with If-Match."
        ),
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.faults = fault_box
    from backend.metrics import router as metrics_router

    app.include_router(metrics_router)  # supervisor-only aggregates: /metrics/wall, /metrics/report

    @app.exception_handler(ServiceError)
    async def _service_error(_req: Request, exc: ServiceError):
        return _error(exc.status, exc.code, exc.message, exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        loc = list(first.get("loc", ()))
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]  # where the value came in, not which field
        # the field path, without echoing what was sent (a dict key may be the hostile part)
        where = ".".join(str(x) if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}|\d{1,6}", str(x)) else "…" for x in loc
                         if not str(x).startswith("function-"))
        msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        return _error(422, "invalid", f"{where or 'request'}: {msg}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException):
        return _error(exc.status_code, "http_error", str(exc.detail))

    if faults:
        @app.middleware("http")
        async def inject(request: Request, call_next):
            wanted = any(x["body_contains"] is not None for x in fault_box.items)
            f = fault_box.take(request.url.path, await request.body() if wanted else b"")
            if f is None:
                return await call_next(request)
            kind = f["kind"]
            if kind == "kill":
                os._exit(137)
            if kind == "reset":
                raise ConnectionResetError("fault injected: connection reset")
            if kind == "delay":
                await asyncio.sleep(f["delay"])
                return await call_next(request)
            if kind == "malformed":
                return Response(b'{"tickets": [{"id": 1, "subj', media_type="application/json")
            if kind == "garbled_page":  # looks like a page (cursor headers), body cut short
                return Response(b'{"tickets": [{"id": 1, "subj', media_type="application/json",
                                headers={"X-Next-Cursor": "999999999", "X-Has-More": "false"})
            if kind == "stuck_cursor":  # a feed page that says "more" but hands back the cursor it was asked for
                cursor = request.query_params.get("cursor", "")
                return _json({"tickets": [], "cursor": cursor, "has_more": True},
                             headers={"X-Next-Cursor": cursor, "X-Has-More": "true"})
            if kind == "answer":  # whatever a test wants a broken server or proxy to send
                return Response(f["body"].encode(), status_code=f["status"], headers=f["headers"],
                                media_type="application/json" if f["body"] else None)
            if kind == "drop_field":  # the real work and answer, with one field left out
                resp = await call_next(request)
                raw = b"".join([chunk async for chunk in resp.body_iterator])
                out = orjson.loads(raw)
                *parents, last = f["field"].split(".")
                node = out
                for k in parents:
                    node = node.get(k, {}) if isinstance(node, dict) else {}
                if isinstance(node, dict):
                    node.pop(last, None)
                return _json(out, resp.status_code)
            if kind == "500_unique":  # a failure whose body differs every time (a request id in it)
                return _error(500, "server_error", "Injected server error.", {"request_id": os.urandom(8).hex()})
            if kind == "429":
                return _error(429, "rate_limited", "Too many requests.", headers={"Retry-After": str(f.get("retry_after") or 1)})
            headers = {"Retry-After": str(f["retry_after"])} if f.get("retry_after") is not None else None
            return _error(int(kind), "server_error", "Injected server error.", headers=headers)

        @app.post("/_faults", include_in_schema=False)
        async def add_fault(f: FaultIn):
            fault_box.items.append(f.model_dump())
            return {"ok": True}

        @app.get("/_faults", include_in_schema=False)
        async def list_faults():
            return {"faults": fault_box.items}

        @app.delete("/_faults", include_in_schema=False)
        async def clear_faults():
            fault_box.items.clear()
            return {"ok": True}

    # --- auth -----------------------------------------------------------------------------

    def agent_of(authorization: Optional[str] = Header(None)) -> dict:
        return svc.agent_for(engine, authorization)

    def supervisor(agent: dict = Depends(agent_of)) -> dict:
        if agent["role"] != "supervisor":
            raise ServiceError(403, "forbidden", "This needs a supervisor token.")
        return agent

    # --- idempotency ----------------------------------------------------------------------

    def idempotent(request_key: Optional[str], agent: dict, method: str, path: str, payload: Any, required: bool, work):
        """Run work(conn) -> (status, body) once per key; repeats get the stored first response."""
        if request_key is None:
            if required:
                raise ServiceError(400, "idempotency_key_required", "This endpoint needs an Idempotency-Key header.")
            with svc.write(engine) as conn:
                return work(conn)
        if len(request_key) > 200:
            raise ServiceError(400, "invalid", "Idempotency-Key is longer than 200 characters.")
        digest = hashlib.sha256(orjson.dumps([method, path, payload], option=orjson.OPT_SORT_KEYS)).hexdigest()
        for _attempt in range(3):
            try:
                with svc.write(engine) as conn:
                    stored = conn.execute(
                        select(S.idempotency).where(S.idempotency.c.key == request_key, S.idempotency.c.agent_id == agent["id"])
                    ).first()
                    if stored is not None:
                        if stored.request_hash != digest:
                            raise ServiceError(422, "idempotency_key_reused", "This Idempotency-Key was used with a different request.")
                        return stored.status_code, orjson.loads(stored.body)
                    # Claim the key first: a concurrent twin blocks here until we commit, then replays.
                    conn.execute(S.idempotency.insert().values(
                        key=request_key, agent_id=agent["id"], request_hash=digest, status_code=0, body="null", created_at=time.time()))
                    try:
                        status, body = work(conn)
                    except ServiceError as exc:
                        if exc.status >= 500 or exc.status == 409 and exc.code == "in_flight":
                            raise
                        status, body = exc.status, {"error": exc.code, "message": exc.message, **exc.extra}
                    conn.execute(
                        S.idempotency.update()
                        .where(S.idempotency.c.key == request_key, S.idempotency.c.agent_id == agent["id"])
                        .values(status_code=status, body=orjson.dumps(body).decode())
                    )
                    return status, body
            except IntegrityError:
                continue  # the twin committed first: read its answer
        raise ServiceError(409, "in_flight", "A request with this Idempotency-Key is still being processed; retry shortly.")

    # --- endpoints ------------------------------------------------------------------------

    @app.get(f"{API}/health", tags=["meta"])
    def health():
        return {"ok": True}

    @app.get(f"{API}/me", tags=["meta"])
    def me(agent: dict = Depends(agent_of)):
        return {k: agent[k] for k in ("id", "name", "email", "role", "presence")}

    @app.get(f"{API}/changes", tags=["sync"])
    def changes(cursor: str = Query("", description="Opaque cursor from the previous page; empty for the first"),
                limit: int = Query(1000, ge=1, le=10_000), agent: dict = Depends(agent_of)):
        """The incremental changes feed (like Zendesk's cursor export): everything changed after the
        cursor, oldest first, with tombstones in deleted_tickets. Follow `cursor` until has_more is false."""
        try:
            c = int(cursor) if cursor else 0
        except ValueError:
            raise ServiceError(400, "invalid_cursor", "The cursor is not one this server gave out; sync from the start.") from None
        with engine.connect() as conn:
            page = svc.changes(conn, c, limit, agent_id=agent["id"])
        body = page.body
        body["cursor"] = str(page.cursor)
        body["has_more"] = page.has_more
        # the same two facts as headers: a client can start the next request before decoding this page
        return _json(body, headers={"X-Next-Cursor": str(page.cursor), "X-Has-More": "true" if page.has_more else "false"})

    @app.get(f"{API}/tickets/{{ticket_id}}", tags=["tickets"])
    def ticket(ticket_id: int, agent: dict = Depends(agent_of)):
        with engine.connect() as conn:
            t = svc.get_ticket(conn, ticket_id)
            msgs = conn.execute(select(S.messages).where(S.messages.c.ticket_id == ticket_id).order_by(S.messages.c.created_at)).all()
        return _json({"ticket": svc.ticket_wire(t), "messages": [svc.message_wire(m) for m in msgs]}, headers={"ETag": f'"{t.version}"'})

    @app.post(f"{API}/tickets", status_code=201, tags=["tickets"])
    def create(body: TicketIn, agent: dict = Depends(agent_of), idempotency_key: Optional[str] = Header(None)):
        def work(conn):
            t = svc.create_ticket(conn, subject=body.subject, queue=body.queue, priority=body.priority, channel=body.channel,
                                  requester_id=body.requester_id, body=body.body, language=body.language, tags=body.tags)
            return 201, {"ticket": t}
        status, out = idempotent(idempotency_key, agent, "POST", "/tickets", body.model_dump(), False, work)
        return _json(out, status)

    @app.post(f"{API}/tickets/{{ticket_id}}/messages", status_code=201, tags=["tickets"])
    def post_message(ticket_id: int, body: MessageIn, agent: dict = Depends(agent_of),
                     idempotency_key: Optional[str] = Header(None, description="Required. A repeat returns the first response.")):
        """Post a public reply or an internal note. Idempotency-Key is required: a repeat returns the
        stored first response; the same key with a different payload gets 422."""
        changes = body.changes.model_dump(exclude_unset=True) if body.changes else {}
        base = body.base.model_dump(exclude_unset=True) if body.base else {}

        def work(conn):
            refused = None
            if changes:
                try:
                    svc.validate_changes(conn, changes)
                except ServiceError as exc:
                    refused = exc.message
            before = svc.get_ticket(conn, ticket_id, lock=True) if changes and refused is None else None
            t, m, prev = svc.add_message(conn, ticket_id, kind=body.kind, body=body.body, author_id=agent["id"],
                                         author_name=agent["name"], message_id=body.id)
            if before is not None:
                changed, refused = svc.apply_message_changes(conn, before, changes, base, agent_id=agent["id"])
                t = changed or t
            out = {"ticket": t, "message": m, "previous_version": prev}
            if refused is not None:
                out["changes_refused"] = refused
            used = svc.count_macro_use(conn, body.macro_id, agent["id"])  # same transaction: counted once
            if used is not None:
                out["macro"] = used
            return 201, out
        payload = body.model_dump()
        for key in ("macro_id", "changes", "base"):  # the request hash stays what it was before these existed
            if payload[key] is None:
                del payload[key]
        if changes:
            payload["changes"], payload["base"] = changes, base
        status, out = idempotent(idempotency_key, agent, "POST", f"/tickets/{ticket_id}/messages", payload, True, work)
        return _json(out, status)

    @app.patch(f"{API}/tickets/{{ticket_id}}", tags=["tickets"])
    def patch(ticket_id: int, body: TicketPatch, agent: dict = Depends(agent_of),
              if_match: Optional[str] = Header(None, description="Required: the version you saw. 412 when it changed."),
              idempotency_key: Optional[str] = Header(None)):
        if if_match is None:
            raise ServiceError(428, "if_match_required", "Send If-Match with the ticket version you saw.")
        changes = body.model_dump(exclude_unset=True)

        def work(conn):
            t, prev = svc.update_ticket(conn, ticket_id, changes, if_match=if_match, agent_id=agent["id"])
            return 200, {"ticket": t, "previous_version": prev}
        status, out = idempotent(idempotency_key, agent, "PATCH", f"/tickets/{ticket_id}", [changes, if_match], False, work)
        return _json(out, status)

    @app.post(f"{API}/tickets/{{ticket_id}}/claim", tags=["tickets"])
    def claim(ticket_id: int, agent: dict = Depends(agent_of), if_match: Optional[str] = Header(None),
              idempotency_key: Optional[str] = Header(None)):
        """Claim an unassigned ticket. Atomic: of two agents claiming at once exactly one wins; the other gets 409."""
        def work(conn):
            t, prev = svc.claim_ticket(conn, ticket_id, agent["id"], if_match=if_match)
            return 200, {"ticket": t, "previous_version": prev}
        status, out = idempotent(idempotency_key, agent, "POST", f"/tickets/{ticket_id}/claim", [if_match], False, work)
        return _json(out, status)

    @app.delete(f"{API}/tickets/{{ticket_id}}", tags=["tickets"])
    def delete(ticket_id: int, merged_into: Optional[int] = None, agent: dict = Depends(supervisor)):
        with svc.write(engine) as conn:
            svc.delete_ticket(conn, ticket_id, merged_into)
        return {"ok": True}

    @app.post(f"{API}/presence", tags=["agents"])
    def presence(body: PresenceIn, agent: dict = Depends(agent_of)):
        with svc.write(engine) as conn:
            return svc.set_presence(conn, agent["id"], body.presence, body.ticket_id)

    @app.get(f"{API}/customers/{{customer_id}}", tags=["customers"])
    def customer(customer_id: int, agent: dict = Depends(agent_of)):
        with engine.connect() as conn:
            c = conn.execute(select(S.customers).where(S.customers.c.id == customer_id)).first()
            if c is None:
                raise ServiceError(404, "not_found", f"Customer {customer_id} does not exist.")
            addrs = conn.execute(select(S.deposit_addresses).where(S.deposit_addresses.c.customer_id == customer_id)).all()
        out = svc.plain_wire("customers", c)
        out["addresses"] = [svc.plain_wire("addresses", a) for a in addrs]
        return _json(out)

    @app.get(f"{API}/customers/{{customer_id}}/deposits", tags=["customers"])
    def customer_deposits(customer_id: int, agent: dict = Depends(agent_of)):
        with engine.connect() as conn:
            rows = conn.execute(select(S.deposits).where(S.deposits.c.customer_id == customer_id).order_by(S.deposits.c.created_at.desc())).all()
        return _json({"deposits": [svc.plain_wire("deposits", r) for r in rows]})

    @app.get(f"{API}/ledger", tags=["customers"], response_model=LedgerOut)
    def ledger(txid: str = Query(..., pattern=TXID_PATTERN, description="64 hex characters, 0x-prefixed or not, any case"),
               network: Optional[str] = Query(None, pattern=r"^[A-Za-z0-9_-]{1,32}$", description="Only rows of this network"),
               agent: dict = Depends(agent_of)):
        """The deposit ledger's rows for one transaction, whoever's account they credited: what a look-up
        consults before it calls a deposit uncredited. The txid matches with or without 0x, in any case."""
        bare = txid.lower().removeprefix("0x")
        q = select(S.deposits).where(func.lower(S.deposits.c.txid).in_([bare, "0x" + bare])).limit(LEDGER_ROW_LIMIT)
        if network:
            q = q.where(func.lower(S.deposits.c.network) == network.lower())
        with engine.connect() as conn:
            rows = conn.execute(q.order_by(S.deposits.c.created_at.desc(), S.deposits.c.id)).all()
        return LedgerOut(deposits=[LedgerRow(**svc.plain_wire("deposits", r)) for r in rows])

    @app.get(f"{API}/assets", tags=["config"])
    def asset_config(agent: dict = Depends(agent_of)):
        """The exchange's asset/network configuration: required confirmations, minimum deposits,
        memo rules and listed token contracts, per network."""
        with engine.connect() as conn:
            rows = conn.execute(select(S.assets.c.body).order_by(S.assets.c.network)).all()
        return _json({"networks": [orjson.loads(r[0]) for r in rows]})

    @app.get(f"{API}/sla-policies", tags=["config"])
    def policies(agent: dict = Depends(agent_of)):
        with engine.connect() as conn:
            rows = conn.execute(select(S.sla_policies).order_by(S.sla_policies.c.position)).all()
        return _json({"policies": [orjson.loads(r.body) | {"id": r.id, "name": r.name, "position": r.position} for r in rows]})

    @app.get(f"{API}/macros", tags=["macros"])
    def macros(agent: dict = Depends(agent_of)):
        with engine.connect() as conn:
            rows = conn.execute(select(S.macros).where(S.macros.c.deleted.is_(False))).all()
        visible = [r for r in rows if r.visibility == "shared" or r.owner_id == agent["id"]]
        return _json({"macros": [svc.macro_wire(r) for r in visible]})

    @app.post(f"{API}/macros", status_code=201, tags=["macros"])
    def create_macro(body: MacroIn, agent: dict = Depends(agent_of), idempotency_key: Optional[str] = Header(None)):
        if body.visibility == "shared" and agent["role"] != "supervisor":
            raise ServiceError(403, "forbidden", "Only supervisors manage shared macros; save it as personal.")

        def work(conn):
            return 201, {"macro": svc.create_macro(conn, body.model_dump(), agent["id"])}
        status, out = idempotent(idempotency_key, agent, "POST", "/macros", body.model_dump(), False, work)
        return _json(out, status)

    @app.get(f"{API}/macros/{{macro_id}}", tags=["macros"])
    def one_macro(macro_id: str, agent: dict = Depends(agent_of)):
        with engine.connect() as conn:
            m = svc.get_macro(conn, macro_id, agent)
        return _json({"macro": m}, headers={"ETag": f'"{m["version"]}"'})

    @app.patch(f"{API}/macros/{{macro_id}}", tags=["macros"])
    def patch_macro(macro_id: str, body: MacroPatch, agent: dict = Depends(agent_of),
                    if_match: Optional[str] = Header(None, description="Required: the version you saw. 412 when it changed."),
                    idempotency_key: Optional[str] = Header(None)):
        """Edit a macro: a personal one by its owner, a shared one by a supervisor (403 otherwise)."""
        if if_match is None:
            raise ServiceError(428, "if_match_required", "Send If-Match with the macro version you saw.")
        changes = body.model_dump(exclude_unset=True)
        base = changes.pop("base", None)

        def work(conn):
            m, prev = svc.update_macro(conn, macro_id, changes, agent=agent, if_match=if_match, base=base)
            return 200, {"macro": m, "previous_version": prev}
        status, out = idempotent(idempotency_key, agent, "PATCH", f"/macros/{macro_id}", [changes, if_match, base], False, work)
        return _json(out, status)

    @app.delete(f"{API}/macros/{{macro_id}}", tags=["macros"])
    def delete_macro(macro_id: str, agent: dict = Depends(agent_of), if_match: Optional[str] = Header(None),
                     idempotency_key: Optional[str] = Header(None)):
        """Delete a macro (owner for personal, supervisor for shared). Clients learn it from deleted_macros in the feed."""
        def work(conn):
            prev = svc.delete_macro(conn, macro_id, agent=agent, if_match=if_match)
            return 200, {"deleted": macro_id, "previous_version": prev}
        status, out = idempotent(idempotency_key, agent, "DELETE", f"/macros/{macro_id}", [if_match], False, work)
        return _json(out, status)

    @app.get(f"{API}/events", tags=["sync"])
    async def events(request: Request, agent: dict = Depends(agent_of), last_event_id: Optional[str] = Header(None)):
        """Server-sent events: a `change` poke (id = the newest seq) whenever anything changed.
        The poke is not the data: on a poke, pull the changes feed."""

        def top() -> int:
            with engine.connect() as conn:
                return svc.current_seq(conn)

        async def stream():
            try:
                seen = int(last_event_id) if last_event_id else -1
            except ValueError:
                seen = -1
            idle = 0.0
            while True:
                if await request.is_disconnected():
                    return
                now_seq = await anyio.to_thread.run_sync(top)
                if now_seq != seen:
                    seen = now_seq
                    idle = 0.0
                    yield {"event": "change", "id": str(now_seq), "data": orjson.dumps({"seq": now_seq}).decode()}
                await asyncio.sleep(0.25)
                idle += 0.25
                if idle >= 15:
                    idle = 0.0
                    yield {"comment": "keep-alive"}

        return EventSourceResponse(stream())

    return app
