"""The one retry policy of the client, for the sync engine and the chain look-ups alike: capped
exponential backoff with full jitter, the server's Retry-After (seconds or an HTTP date) when it
gives one, and the loop that tries again (RetryPolicy.run). No HTTP, no Textual: what is worth
retrying is the caller's exception type.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Optional, TypeVar

__all__ = ["Backoff", "RetryPolicy", "parse_retry_after"]

T = TypeVar("T")


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


def _retry_after_of(exc: BaseException) -> Optional[float]:
    value = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, (int, float)) else None


@dataclass
class RetryPolicy:
    """Try a call up to `attempts` times in all, sleeping `backoff` between tries (the failure's own
    `retry_after`, when it has one, wins). A wait longer than `max_wait` is not waited for: the
    failure passes up at once, for the caller to report."""

    attempts: int = 5
    backoff: Backoff = field(default_factory=Backoff)
    max_wait: Optional[float] = None

    async def run(self, once: Callable[[], Awaitable[T]], retry_on: type[BaseException] | tuple[type[BaseException], ...],
                  on_failure: Optional[Callable[[BaseException], None]] = None) -> T:
        """once() until it returns. A `retry_on` failure is told to `on_failure` first (which may
        raise to stop the tries), then retried while tries are left; anything else passes straight up."""
        attempt = 0
        while True:
            try:
                return await once()
            except retry_on as exc:
                if on_failure is not None:
                    on_failure(exc)
                attempt += 1
                if attempt >= self.attempts:
                    raise
                wait = self.backoff.delay(attempt - 1, _retry_after_of(exc))
                if self.max_wait is not None and wait > self.max_wait:
                    raise
                await asyncio.sleep(wait)
