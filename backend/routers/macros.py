"""Macros: the shared ones and the caller's personal ones; edits with If-Match."""

from __future__ import annotations

from typing import Annotated, Any, Optional

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select

from agent_tui import vocabulary as V
from backend import fields as F
from backend import schema as S
from backend import service as svc
from backend.deps import Agent, Db, IdempotencyKey, IfMatch, IfMatchRequired, require_if_match
from backend.idempotency import idempotent
from backend.responses import json_response
from backend.service import ServiceError

API = "/api/v1"
router = APIRouter()

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


@router.get(f"{API}/macros", tags=["macros"])
def macros(engine: Db, agent: Agent):
    with engine.connect() as conn:
        rows = conn.execute(select(S.macros).where(S.macros.c.deleted.is_(False))).all()
    visible = [r for r in rows if r.visibility == "shared" or r.owner_id == agent["id"]]
    return json_response({"macros": [svc.macro_wire(r) for r in visible]})


@router.post(f"{API}/macros", status_code=201, tags=["macros"])
def create_macro(body: MacroIn, engine: Db, agent: Agent, idempotency_key: IdempotencyKey = None):
    if body.visibility == "shared" and agent["role"] != "supervisor":
        raise ServiceError(403, "forbidden", "Only supervisors manage shared macros; save it as personal.")

    def work(conn):
        return 201, {"macro": svc.create_macro(conn, body.model_dump(), agent["id"])}
    status, out = idempotent(engine, idempotency_key, agent, "POST", "/macros", body.model_dump(), False, work)
    return json_response(out, status)


@router.get(f"{API}/macros/{{macro_id}}", tags=["macros"])
def one_macro(macro_id: str, engine: Db, agent: Agent):
    with engine.connect() as conn:
        m = svc.get_macro(conn, macro_id, agent)
    return json_response({"macro": m}, headers={"ETag": f'"{m["version"]}"'})


@router.patch(f"{API}/macros/{{macro_id}}", tags=["macros"])
def patch_macro(macro_id: str, body: MacroPatch, engine: Db, agent: Agent, if_match: IfMatchRequired = None,
                idempotency_key: IdempotencyKey = None):
    """Edit a macro: a personal one by its owner, a shared one by a supervisor (403 otherwise)."""
    version = require_if_match(if_match, "macro")
    changes = body.model_dump(exclude_unset=True)
    base = changes.pop("base", None)

    def work(conn):
        m, prev = svc.update_macro(conn, macro_id, changes, agent=agent, if_match=version, base=base)
        return 200, {"macro": m, "previous_version": prev}
    status, out = idempotent(engine, idempotency_key, agent, "PATCH", f"/macros/{macro_id}", [changes, version, base], False, work)
    return json_response(out, status)


@router.delete(f"{API}/macros/{{macro_id}}", tags=["macros"])
def delete_macro(macro_id: str, engine: Db, agent: Agent, if_match: IfMatch = None, idempotency_key: IdempotencyKey = None):
    """Delete a macro (owner for personal, supervisor for shared). Clients learn it from deleted_macros in the feed."""
    def work(conn):
        prev = svc.delete_macro(conn, macro_id, agent=agent, if_match=if_match)
        return 200, {"deleted": macro_id, "previous_version": prev}
    status, out = idempotent(engine, idempotency_key, agent, "DELETE", f"/macros/{macro_id}", [if_match], False, work)
    return json_response(out, status)
