"""The backend's HTTP client: one httpx client with the token and User-Agent, one request with its
answer checked at the boundary, and the errors a request ends in. Retries follow the one policy
(agent_tui.retry): connection errors, timeouts, 5xx, 429 and the in-flight 409 are Transient and
tried again with capped exponential backoff and full jitter, honouring Retry-After; a 4xx is Refused
and a 401 Unauthorized at once; an answer this client cannot use is a BadAnswer. No textual.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import httpx
import orjson

from agent_tui.errors import SyncError
from agent_tui.retry import Backoff, RetryPolicy, parse_retry_after
from storage.wire import BadPage, NotJson, WrongShape, decode_answer, decode_page, decode_refusal

__all__ = ["API", "UNAVAILABLE", "BackendClient", "BadAnswer", "Refused", "SyncError", "Transient", "Unauthorized"]

API = "/api/v1"

# 5xx that say the server (or a proxy in front of it) is down or overloaded, not that this request is bad
UNAVAILABLE = (502, 503, 504)


class Unauthorized(SyncError):
    pass


class Transient(Exception):
    """Worth retrying: connection trouble, timeouts, 5xx, 429, in-flight 409, a garbled body.

    `status` and `body` are the server's answer, when there was one."""

    def __init__(self, message: str, retry_after: Optional[float] = None, status: Optional[int] = None, body: bytes = b""):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
        self.body = body

    @property
    def server_failed(self) -> bool:
        """The server answered this very request with a failure of its own (a 500, not a 503 or a
        timeout): the kind of failure a change can cause, so it counts against that change."""
        return self.status is not None and self.status >= 500 and self.status not in UNAVAILABLE


class Refused(Exception):
    """The server said no (4xx): retrying the same request cannot help."""

    def __init__(self, status: int, code: str, message: str, body: dict):
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = body


class BadAnswer(Exception):
    """The server answered, but with something this client cannot use (a feed that does not move
    on, a redirect, a body of the wrong shape): retrying will not help and nothing is stored."""


def quoted(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _retry_after(resp: httpx.Response) -> Optional[float]:
    return parse_retry_after(resp.headers.get("Retry-After"))


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "the server did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect to the server"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server dropped the connection"
    if isinstance(exc, httpx.TransportError):
        return f"network error ({type(exc).__name__})"
    return str(exc)


class BackendClient:
    """The helpdesk backend's API over one httpx.AsyncClient, made on first use."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0, retry: Optional[RetryPolicy] = None,
                 transport: Optional[httpx.AsyncBaseTransport] = None):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retry = retry or RetryPolicy(backoff=Backoff())
        self._transport = transport
        self._client: Optional[httpx.AsyncClient] = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.base_url, timeout=httpx.Timeout(self.timeout, connect=min(5.0, self.timeout)),
                headers={"Authorization": f"Bearer {self.token}", "User-Agent": "agent-tui"}, transport=self._transport,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def once(self, method: str, path: str, page: bool = False, need: Optional[tuple[str, ...]] = None, **kw) -> Any:
        """One request. Its answer is checked here, at the boundary: a page must come with a 200; an
        answer to a change (`need`: the fields it must have, e.g. ticket and message) must fit what
        the cache stores; a redirect or an informational status is no answer at all (BadAnswer)."""
        try:
            resp = await self.client.request(method, API + path, **kw)
        except httpx.TransportError as exc:
            raise Transient(_describe(exc)) from None
        status, asked = resp.status_code, f"{method} {path}"
        if status < 200 or 300 <= status < 400:
            location = resp.headers.get("Location")
            raise BadAnswer(f"the server answered {asked} with HTTP {status}"
                            f"{f' (a redirect to {quoted(location)})' if location else ''} instead of data; "
                            "check the server URL (`agent-tui login URL`)")
        if page and 200 < status < 300:
            raise BadAnswer(f"the server answered {asked} with HTTP {status} instead of a page of changes")
        if need is not None and 200 <= status < 300:
            if not resp.content:
                if need:
                    raise BadAnswer(f"the server answered {asked} with HTTP {status} and an empty body (missing field {need[0]})")
                return {}
            try:
                return decode_answer(resp.content, need)
            except NotJson:
                raise Transient(f"the server sent a garbled answer (HTTP {status})") from None
            except WrongShape as exc:
                raise BadAnswer(f"the server answered {asked} with HTTP {status} and an answer this client cannot store "
                                f"({exc})") from None
        if page and resp.status_code == 200:
            cursor = resp.headers.get("X-Next-Cursor")
            if cursor is not None:  # decoded later, with the write, off the event loop
                return resp.content, cursor, resp.headers.get("X-Has-More") == "true"
            try:  # a server without the headers: decode here for the cursor
                decoded = decode_page(resp.content)
            except BadPage as exc:
                raise Transient(f"the server sent a garbled page: {exc}") from None
            if decoded.cursor is None:
                raise Transient("the server's page has no cursor")
            return decoded, decoded.cursor, decoded.has_more
        if resp.status_code == 401:
            raise Unauthorized("The server refused the token (401); sign in again with `agent-tui login URL`.")
        failed: dict[str, Any] = dict(status=resp.status_code, body=resp.content) if resp.status_code >= 500 else {}
        try:
            body = orjson.loads(resp.content) if resp.content else {}
        except orjson.JSONDecodeError:
            if resp.status_code < 300 or resp.status_code >= 500:
                raise Transient(f"the server sent a garbled answer (HTTP {resp.status_code})", **failed) from None
            body = {}
        if not isinstance(body, dict):
            raise Transient(f"the server sent an unexpected answer (HTTP {resp.status_code})", **failed)
        if resp.status_code in (429, 503) or resp.status_code >= 500:
            raise Transient(f"the server is busy or failing (HTTP {resp.status_code})", _retry_after(resp), **failed)
        if resp.status_code == 409 and body.get("error") == "in_flight":
            raise Transient("the server is still processing this change", _retry_after(resp))
        if resp.status_code >= 400:  # the server's copies in it only as far as they fit
            raise Refused(resp.status_code, str(body.get("error", "")), str(body.get("message") or f"HTTP {resp.status_code}"),
                          {**body, **decode_refusal(resp.content)})
        return body

    async def request(self, method: str, path: str, *, on_failure: Optional[Callable[[Transient], None]] = None, **kw) -> Any:
        """One API call, retried by the policy for transient trouble; Refused, Unauthorized and
        BadAnswer pass straight up. `on_failure` hears of every Transient first (and may raise)."""
        def told(exc: BaseException) -> None:
            if on_failure is not None and isinstance(exc, Transient):
                on_failure(exc)

        return await self.retry.run(lambda: self.once(method, path, **kw), Transient, told)
