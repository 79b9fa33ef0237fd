"""The live event stream: the server's SSE feed only pokes (the data always comes from the pull),
so every `change` event calls `on_change`. It resumes with Last-Event-ID and reconnects with the
one backoff. No textual.
"""

from __future__ import annotations

import asyncio
from typing import Callable, Optional

import httpx

from agent_tui.retry import Backoff
from agent_tui.sync.client import API, BackendClient, Transient

__all__ = ["EventStream"]


class EventStream:
    def __init__(self, http: BackendClient, backoff: Backoff, on_change: Callable[[], None]):
        self.http = http
        self.backoff = backoff
        self.on_change = on_change
        self.last_event_id: Optional[str] = None

    async def follow(self) -> None:
        """Follow the stream for ever, calling on_change on every poke; reconnect with backoff."""
        from httpx_sse import aconnect_sse

        attempt = 0
        while True:
            headers = {"Last-Event-ID": self.last_event_id} if self.last_event_id else {}
            try:
                async with aconnect_sse(self.http.client, "GET", API + "/events", headers=headers,
                                        timeout=httpx.Timeout(self.http.timeout, read=60.0)) as source:
                    if source.response.status_code != 200:
                        raise Transient(f"event stream refused (HTTP {source.response.status_code})")
                    attempt = 0
                    async for sse in source.aiter_sse():
                        if sse.id:
                            self.last_event_id = sse.id
                        if sse.event == "change":
                            self.on_change()
            except asyncio.CancelledError:
                raise
            except Exception:
                pass
            await asyncio.sleep(self.backoff.delay(attempt))
            attempt = min(attempt + 1, 6)
