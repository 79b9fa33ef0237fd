"""Sync with the helpdesk backend: the engine (pull, ordered outbox push, the live loop) in engine.py,
the HTTP client and its errors in client.py, the live event stream in sse.py. The retry policy they
share with the chain look-ups is agent_tui.retry. What callers import from agent_tui.sync is here.
"""

from agent_tui.changes import MACRO_KINDS, describe_change
from agent_tui.errors import SyncError
from agent_tui.retry import Backoff, RetryPolicy, parse_retry_after
from agent_tui.sync.client import API, UNAVAILABLE, BackendClient, BadAnswer, Refused, Transient, Unauthorized
from agent_tui.sync.engine import ServerFailures, SyncEngine, SyncReport
from agent_tui.sync.sse import EventStream

__all__ = [
    "API", "UNAVAILABLE", "MACRO_KINDS", "BackendClient", "Backoff", "BadAnswer", "EventStream", "Refused", "RetryPolicy",
    "ServerFailures", "SyncEngine", "SyncError", "SyncReport", "Transient", "Unauthorized", "describe_change",
    "parse_retry_after",
]
