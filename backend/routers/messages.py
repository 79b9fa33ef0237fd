"""Replies and internal notes on a ticket, with the macro actions that travel with them."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field

from agent_tui import vocabulary as V
from backend import fields as F
from backend import service as svc
from backend.deps import Agent, Db
from backend.idempotency import idempotent
from backend.responses import json_response
from backend.routers.tickets import TicketPatch
from backend.service import ServiceError

API = "/api/v1"
router = APIRouter()


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


@router.post(f"{API}/tickets/{{ticket_id}}/messages", status_code=201, tags=["tickets"])
def post_message(ticket_id: int, body: MessageIn, engine: Db, agent: Agent,
                 idempotency_key: Annotated[Optional[str], Header(
                     description="Required. A repeat returns the first response.")] = None):
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
    status, out = idempotent(engine, idempotency_key, agent, "POST", f"/tickets/{ticket_id}/messages", payload, True, work)
    return json_response(out, status)
