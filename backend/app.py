"""The reference helpdesk server: a FastAPI app documented by its OpenAPI schema (/openapi.json).

Auth is a Bearer token per agent (roles agent, recovery, supervisor). Errors are JSON:
{"error": "<stable code>", "message": "<one line>"}.

This module is the app factory: the engine, the lifespan (the simulator), the exception handlers,
the fault middleware and the routers. The routes live in backend/routers/, one module per resource;
what they share (engine, caller, If-Match, Idempotency-Key) in backend/deps.py.
"""

from __future__ import annotations

import asyncio
import re
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend import faults as fault_injection
from backend import schema as S
from backend.faults import Faults
from backend.routers.metrics import router as metrics_router
from backend.responses import error_response
from backend.routers import agents, changes, config, customers, events, ledger, macros, messages, meta, tickets
from backend.routers import faults as faults_router
from backend.service import ServiceError

API = "/api/v1"

# In this order: it is the order of the OpenAPI document's paths.
ROUTERS = [metrics_router,  # supervisor-only aggregates: /metrics/wall, /metrics/report
           meta.router, changes.router, tickets.router, messages.router, agents.router, customers.router,
           ledger.router, config.router, macros.router, events.router]


def create_app(database_url: str, *, faults: bool = False, simulator: Any = None) -> FastAPI:
    engine = S.make_engine(database_url)
    S.create_schema(engine)

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
    app.state.faults = Faults()

    @app.exception_handler(ServiceError)
    async def _service_error(_req: Request, exc: ServiceError):
        return error_response(exc.status, exc.code, exc.message, exc.extra)

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
        return error_response(422, "invalid", f"{where or 'request'}: {msg}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException):
        return error_response(exc.status_code, "http_error", str(exc.detail))

    if faults:
        app.middleware("http")(fault_injection.inject)
        app.include_router(faults_router.router)
    for router in ROUTERS:
        app.include_router(router)
    return app
