"""/_faults: tests ask a server started with faults enabled to fail in a chosen way (not in the OpenAPI)."""

from __future__ import annotations

from typing import Literal, Optional

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

router = APIRouter()


class FaultIn(BaseModel):
    path: str = Field(description="Path prefix the fault applies to, e.g. /api/v1/changes")
    kind: Literal["500", "502", "503", "429", "500_unique", "malformed", "garbled_page", "stuck_cursor", "answer",
                  "drop_field", "delay", "reset", "kill"]
    count: int = 1
    after: int = Field(0, description="Let this many matching requests through first")
    body_contains: Optional[str] = Field(None, description="Only requests whose body contains this text")
    retry_after: Optional[float] = None
    delay: float = 0.0
    status: int = Field(200, description="answer: the status to send")
    body: str = Field("", description="answer: the body to send")
    headers: dict[str, str] = Field(default_factory=dict, description="answer: headers to send")
    field: str = Field("", description="drop_field: dotted path of the field left out of the real answer, e.g. ticket.version")


@router.post("/_faults", include_in_schema=False)
async def add_fault(f: FaultIn, request: Request):
    request.app.state.faults.items.append(f.model_dump())
    return {"ok": True}


@router.get("/_faults", include_in_schema=False)
async def list_faults(request: Request):
    return {"faults": request.app.state.faults.items}


@router.delete("/_faults", include_in_schema=False)
async def clear_faults(request: Request):
    request.app.state.faults.items.clear()
    return {"ok": True}
