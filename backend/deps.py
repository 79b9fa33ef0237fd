"""What the routers share: the database engine, the caller's agent, and the request headers that
several resources read (If-Match, Idempotency-Key).

The engine is the one create_app put in ``app.state.engine``; routers never build their own.
"""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import Depends, Header, Request
from sqlalchemy.engine import Engine

from backend import service as svc
from backend.service import ServiceError


async def engine_of(request: Request) -> Engine:
    """The app's engine (async: it only reads app.state, so it needs no worker thread)."""
    return request.app.state.engine


def agent_of(request: Request, authorization: Optional[str] = Header(None)) -> dict:
    """The caller's agent row; 401 without a valid Bearer token."""
    return svc.agent_for(request.app.state.engine, authorization)


def supervisor(agent: dict = Depends(agent_of)) -> dict:
    """The caller's agent row, 403 unless a supervisor."""
    if agent["role"] != "supervisor":
        raise ServiceError(403, "forbidden", "This needs a supervisor token.")
    return agent


Db = Annotated[Engine, Depends(engine_of)]
Agent = Annotated[dict, Depends(agent_of)]
Supervisor = Annotated[dict, Depends(supervisor)]

IdempotencyKey = Annotated[Optional[str], Header()]
IfMatch = Annotated[Optional[str], Header()]
# An edit must say which version it was made on: the header is documented as required, and
# require_if_match answers 428 without it (in the handler, so a bad body is still a 422 first).
IfMatchRequired = Annotated[Optional[str], Header(description="Required: the version you saw. 412 when it changed.")]


def require_if_match(if_match: Optional[str], what: str) -> str:
    """The If-Match value of an edit; 428 when the client sent none."""
    if if_match is None:
        raise ServiceError(428, "if_match_required", f"Send If-Match with the {what} version you saw.")
    return if_match
