"""Idempotency-Key handling: a write runs once per (key, agent); a repeat gets the stored first answer."""

from __future__ import annotations

import hashlib
import time
from typing import Any, Callable, Optional

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from backend import schema as S
from backend import service as svc
from backend.service import ServiceError

Work = Callable[[Connection], tuple[int, Any]]


def idempotent(engine: Engine, request_key: Optional[str], agent: dict, method: str, path: str, payload: Any,
               required: bool, work: Work) -> tuple[int, Any]:
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
