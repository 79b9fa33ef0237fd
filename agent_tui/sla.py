"""The SLA engine: one module, used by the backend and the app. Never imports textual.

(Being written: policies, calendars and metric evaluation go here. The display helpers
below are final and used by the queue widget.)
"""

from __future__ import annotations

from storage.models import NO_DUE

AT_RISK_SECONDS = 15 * 60  # Zendesk's amber threshold; configurable per policy


def format_countdown(seconds: float) -> str:
    """`12m 04s`, `3h 05m`, `2d 04h`; negative once breached: `-3m 10s`."""
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    if d:
        return f"{sign}{d}d {h:02d}h"
    if h:
        return f"{sign}{h}h {m:02d}m"
    return f"{sign}{m}m {sec:02d}s"


def countdown_state(due: float, paused: bool, now: float, at_risk_seconds: float = AT_RISK_SECONDS) -> str:
    """One of none, paused, ok, at_risk, breached, for colour and glyph."""
    if paused:
        return "paused"
    if due >= NO_DUE:
        return "none"
    left = due - now
    if left < 0:
        return "breached"
    if left <= at_risk_seconds:
        return "at_risk"
    return "ok"
