"""Health and who the token belongs to."""

from __future__ import annotations

from fastapi import APIRouter

from backend.deps import Agent

API = "/api/v1"
router = APIRouter()


@router.get(f"{API}/health", tags=["meta"])
def health():
    return {"ok": True}


@router.get(f"{API}/me", tags=["meta"])
def me(agent: Agent):
    return {k: agent[k] for k in ("id", "name", "email", "role", "presence")}
