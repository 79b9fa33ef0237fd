"""Fault injection for tests (only when the server was started with faults enabled): the faults a
test asked for (POST /_faults, backend.routers.faults) and the middleware that plays them."""

from __future__ import annotations

import asyncio
import os
from typing import Optional

import orjson
from fastapi import Request
from fastapi.responses import Response

from backend.responses import error_response, json_response


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


async def inject(request: Request, call_next):
    """HTTP middleware: answer with the first matching fault of app.state.faults, or pass the request on."""
    fault_box: Faults = request.app.state.faults
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
        return json_response({"tickets": [], "cursor": cursor, "has_more": True},
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
        return json_response(out, resp.status_code)
    if kind == "500_unique":  # a failure whose body differs every time (a request id in it)
        return error_response(500, "server_error", "Injected server error.", {"request_id": os.urandom(8).hex()})
    if kind == "429":
        return error_response(429, "rate_limited", "Too many requests.", headers={"Retry-After": str(f.get("retry_after") or 1)})
    headers = {"Retry-After": str(f["retry_after"])} if f.get("retry_after") is not None else None
    return error_response(int(kind), "server_error", "Injected server error.", headers=headers)
