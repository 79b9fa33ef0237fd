"""The JSON answers every route and handler sends: orjson bodies, and errors as
{"error": "<stable code>", "message": "<one line>"}."""

from __future__ import annotations

from typing import Any, Optional

import orjson
from fastapi.responses import Response


def json_response(body: Any, status: int = 200, headers: Optional[dict] = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def error_response(status: int, code: str, message: str, extra: Optional[dict] = None,
                   headers: Optional[dict] = None) -> Response:
    return json_response({"error": code, "message": message, **(extra or {})}, status, headers)
