"""HTTP for the providers: bounded time, bounded size, TLS verified, 429 retried by the one policy
(agent_tui.retry.RetryPolicy) within bounds.

Every failure becomes an EndpointError with one line; callers never see httpx or JSON exceptions.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from dataclasses import dataclass
from typing import Any, Optional

import httpx
import orjson

from agent_tui.retry import Backoff, RetryPolicy, parse_retry_after

from .config import redact
from .errors import EndpointError

USER_AGENT = "agent-tui-chains/0.1"


@dataclass
class Limits:
    timeout: float = 10.0  # whole request, including a slow trickle of bytes
    connect_timeout: float = 5.0
    max_bytes: int = 8 * 1024 * 1024
    retries_429: int = 2
    max_retry_wait: float = 5.0  # a longer Retry-After is reported, not waited for
    verify: bool = True  # TLS verification (keep it on outside tests)


def _retry_after(value: Optional[str]) -> Optional[float]:
    return parse_retry_after(value)


class _RateLimited(Exception):
    """A 429: retried by the policy, within Limits."""

    def __init__(self, retry_after: Optional[float]):
        super().__init__("HTTP 429")
        self.retry_after = retry_after


@functools.lru_cache(maxsize=1)
def verified_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs tens of ms per client."""
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover - certifi comes with httpx
        return ssl.create_default_context()


class Http:
    """A thin wrapper on one httpx.AsyncClient shared by the providers of one look-up."""

    def __init__(self, limits: Optional[Limits] = None, client: Optional[httpx.AsyncClient] = None):
        self.limits = limits or Limits()
        self._own = client is None
        self.client = client or httpx.AsyncClient(
            verify=verified_context() if self.limits.verify else False,
            timeout=httpx.Timeout(self.limits.timeout, connect=self.limits.connect_timeout),
            follow_redirects=False,
            headers={"user-agent": USER_AGENT},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    async def __aenter__(self) -> "Http":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own:
            await self.client.aclose()

    async def request(self, method: str, url: str, *, json_body: Any = None, label: str = "") -> tuple[int, bytes]:
        """(status, body) for any status; raises EndpointError for transport trouble and exhausted 429s."""
        where = f"{label}: " if label else ""
        shown = redact(url)
        content = orjson.dumps(json_body) if json_body is not None else None
        headers = {"content-type": "application/json"} if content is not None else {}
        policy = RetryPolicy(attempts=self.limits.retries_429 + 1, max_wait=self.limits.max_retry_wait,
                             backoff=Backoff(base=0.5, cap=self.limits.max_retry_wait))

        async def once() -> tuple[int, bytes]:
            try:
                async with asyncio.timeout(self.limits.timeout):
                    status, body, retry_after = await self._once(method, url, content, headers, where)
            except (TimeoutError, httpx.TimeoutException):
                raise EndpointError(f"{where}{shown} did not answer within {self.limits.timeout:g} s") from None
            except httpx.ConnectError:
                raise EndpointError(f"{where}cannot connect to {shown}") from None
            except httpx.HTTPError as e:
                raise EndpointError(f"{where}{shown} failed: {e.__class__.__name__}") from None
            if status == 429:
                raise _RateLimited(_retry_after(retry_after))
            return status, body

        try:  # the same policy as the sync engine's, within this look-up's patience
            return await policy.run(once, _RateLimited)
        except _RateLimited as limited:
            if limited.retry_after is not None and limited.retry_after > self.limits.max_retry_wait:
                raise EndpointError(f"{where}{shown} is rate-limiting us (HTTP 429, retry after {limited.retry_after:.0f} s)") from None
            raise EndpointError(f"{where}{shown} is rate-limiting us (HTTP 429); try again later") from None

    async def _once(self, method: str, url: str, content: Optional[bytes], headers: dict, where: str) -> tuple[int, bytes, Optional[str]]:
        async with self.client.stream(method, url, content=content, headers=headers) as resp:
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.limits.max_bytes:
                raise EndpointError(f"{where}{redact(url)} answered {int(declared)} bytes (limit {self.limits.max_bytes})")
            chunks, size = [], 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > self.limits.max_bytes:
                    raise EndpointError(f"{where}{redact(url)} answered more than {self.limits.max_bytes} bytes")
                chunks.append(chunk)
            return resp.status_code, b"".join(chunks), resp.headers.get("retry-after")


def decode_json(body: bytes, *, label: str, url: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise EndpointError(f"{label}: {redact(url)} answered something that is not JSON") from None


async def jsonrpc(http: Http, url: str, method: str, params: list, *, label: str) -> Any:
    """A JSON-RPC 2.0 call: the result, or EndpointError (the caller maps known error codes)."""
    status, body = await http.request("POST", url, json_body={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, label=label)
    data = decode_json(body, label=label, url=url) if body else None
    if isinstance(data, dict) and data.get("error"):
        err = data["error"]
        msg = err.get("message") if isinstance(err, dict) else err
        raise RpcError(f"{label}: {method} failed: {msg}", code=err.get("code") if isinstance(err, dict) else None)
    if status != 200:
        raise EndpointError(f"{label}: {redact(url)} answered HTTP {status} to {method}")
    if not isinstance(data, dict) or "result" not in data:
        raise EndpointError(f"{label}: {redact(url)} answered {method} with malformed JSON-RPC")
    return data["result"]


class RpcError(EndpointError):
    def __init__(self, message: str, code: Any = None):
        super().__init__(message)
        self.code = code if isinstance(code, int) else None
