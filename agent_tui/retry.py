"""The one retry policy of the client, for the sync engine and the chain look-ups alike: capped
exponential backoff with full jitter, and the server's Retry-After (seconds or an HTTP date) when it
gives one. Pure: no HTTP, no Textual.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass, field
from typing import Optional

__all__ = ["Backoff", "parse_retry_after"]


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None if absent or
    unreadable. Never negative."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if dt is None:
        return None
    return max(0.0, dt.timestamp() - (time.time() if now is None else now))


@dataclass
class Backoff:
    """Capped exponential backoff with full jitter: sleep = uniform(0, min(cap, base * 2**attempt)),
    or the server's Retry-After held under `max_retry_after`."""

    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: Optional[float] = None) -> float:
        if retry_after is not None:
            return min(max(0.0, retry_after), self.max_retry_after)
        return self.rng.uniform(0, min(self.cap, self.base * (2 ** attempt)))
