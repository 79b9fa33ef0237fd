"""The incremental changes feed a client syncs from."""

from __future__ import annotations

from fastapi import APIRouter, Query

from backend import service as svc
from backend.deps import Agent, Db
from backend.responses import json_response
from backend.service import ServiceError

API = "/api/v1"
router = APIRouter()


@router.get(f"{API}/changes", tags=["sync"])
def changes(engine: Db, agent: Agent,
            cursor: str = Query("", description="Opaque cursor from the previous page; empty for the first"),
            limit: int = Query(1000, ge=1, le=10_000)):
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
    return json_response(body, headers={"X-Next-Cursor": str(page.cursor), "X-Has-More": "true" if page.has_more else "false"})
