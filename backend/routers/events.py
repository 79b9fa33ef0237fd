"""Server-sent events: a poke whenever anything changed (the data itself comes from the changes feed)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Optional

import anyio
import orjson
from fastapi import APIRouter, Header, Request
from sse_starlette.sse import EventSourceResponse

from backend import service as svc
from backend.deps import Agent, Db

API = "/api/v1"
router = APIRouter()


@router.get(f"{API}/events", tags=["sync"])
async def events(request: Request, engine: Db, agent: Agent, last_event_id: Annotated[Optional[str], Header()] = None):
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
