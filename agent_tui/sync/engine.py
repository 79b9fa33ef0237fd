"""The sync engine: cursor pull, ordered outbox push, conflicts, and the loop that runs them on
every poke. The HTTP client and its errors are in client.py, the live stream in sse.py, the retry
policy in agent_tui.retry. No textual.

Rules (../shared/notes/storage-and-sync.md):
- Pull with a cursor saved in the same SQLite transaction as the page; upserts by version make a
  replayed page harmless.
- Every local change is already in the outbox (written with the change). Changes go out in order,
  each with its change id as Idempotency-Key, and leave the outbox only after a 2xx.
- Retry connection errors, timeouts, 5xx, 429 and the in-flight 409 with capped exponential
  backoff and full jitter, honouring Retry-After. No other 4xx is retried: the server is the
  authority, so a refused change becomes a visible rejection and the local row takes the server's state.
- A change the server itself fails on (a 5xx other than 502/503/504) is refused too, at once when
  the same answer comes twice in a row, else after `max_failures` failures over all rounds, but only
  if the server still answers a read of the same ticket (or macro): a server failing on everything
  (its database down) refuses nothing. While a change waits for its retry, only the later changes of
  the same ticket (or macro) wait behind it.
- The SSE stream only pokes; the data always comes from the pull. Periodic pull is the fallback.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Optional
from urllib.parse import quote

import httpx
import orjson

from agent_tui.changes import MACRO_KINDS, describe_change
from agent_tui.errors import SyncError
from agent_tui.retry import Backoff, RetryPolicy
from agent_tui.sync.client import BackendClient, BadAnswer, Refused, Transient, Unauthorized, quoted
from agent_tui.sync.sse import EventStream
from storage.cache import Cache, PageStats
from storage.wire import BadPage

__all__ = ["ServerFailures", "SyncEngine", "SyncReport"]


def _advances(old: str, new: str) -> bool:
    """Does the feed's cursor move on? Cursors are opaque, but when both are integers (as this
    server's are) the new one must be greater; otherwise at least different."""
    if old.isdigit() and new.isdigit():
        return int(new) > int(old)
    return new != old


def _digest(status: Optional[int], body: bytes) -> str:
    return hashlib.blake2b(str(status).encode() + b"\0" + body, digest_size=16).hexdigest()


class ServerFailures:
    """The failures the server answered one change with, over all its attempts in every sync round
    (the outbox row's `attempts` counts them, its `last_failure` keeps the last attempt's answer).
    The change is refused (Refused, so it is shown to the agent and the changes behind it go on)
    when the server gives the same failing answer to two attempts in a row, in one round or in two,
    which it will give every time, or after `limit` failures in all. Unavailability (502/503/504,
    429, timeouts, no connection) never counts: it says nothing about the change, and the attempt
    after it does not follow a failure."""

    def __init__(self, count: int, limit: int, previous: str = ""):
        self.count = count
        self.limit = limit
        self.previous = previous  # the digest of the last attempt's failing answer; '' if it did not fail on the server's side

    def note(self, exc: Transient) -> None:
        if not exc.server_failed:
            self.previous = ""
            return
        self.count += 1
        answer = _digest(exc.status, exc.body)
        if answer == self.previous:
            why = "the same way twice in a row"
        elif self.count >= self.limit:
            why = f"{self.count} times"
        else:
            self.previous = answer
            return
        said = _server_message(exc.body)
        raise Refused(exc.status or 500, "server_failure",
                      f"the server fails on this change every time (HTTP {exc.status}{': ' + said if said else ''}; "
                      f"failed {why}); edit it and send it again, or tell the server's admin", {})


def _server_message(body: bytes) -> str:
    try:
        decoded = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return ""
    message = decoded.get("message") if isinstance(decoded, dict) else None
    return " ".join(str(message).split())[:200] if message else ""


@dataclass
class SyncReport:
    pulled: PageStats = field(default_factory=PageStats)
    pages: int = 0
    pushed: int = 0
    rejected: list[str] = field(default_factory=list)
    outbox: int = 0
    waiting: list[dict] = field(default_factory=list)  # the first few queued changes waiting for a retry
    deferred: set[str] = field(default_factory=set, repr=False)  # change ids that failed this round: not tried again in it
    bad_answer: str = ""  # the first answer to a change this client could not store: the round says so at its end

    def line(self) -> str:
        p = self.pulled
        parts = [f"pulled {p.tickets} tickets, {p.messages} messages, {p.other} other records in {self.pages} pages"]
        if p.deleted:
            parts.append(f"{p.deleted} tickets removed")
        parts.append(f"pushed {self.pushed} changes")
        if self.rejected:
            parts.append(f"{len(self.rejected)} refused by the server")
        parts.append(f"{self.outbox} waiting in the outbox")
        return "; ".join(parts)

    def held_back(self, refusals: int) -> str:
        """One line on what is held back and what to do, or "" when nothing is: changes waiting for a
        retry (and those queued behind them), and `refusals` the agent has not looked at yet."""
        parts = []
        if self.waiting:
            first = self.waiting[0]
            reason = first["last_error"].rstrip(".")
            line = f"{describe_change(first)} is waiting for a retry ({reason})"
            failed = int(first.get("failed") or len(self.waiting))
            if failed > 1:
                line += f", and {failed - 1} more that failed"
            if self.outbox > failed:
                line += f", {self.outbox - failed} more still queued"
            parts.append(line + "; run `agent-tui sync` again later")
        elif self.outbox:
            parts.append(f"{_changes(self.outbox)} still queued; run `agent-tui sync` again")
        if refusals:
            parts.append(f"{_changes(refusals)} refused by the server: open the app and press R to review "
                         f"{'it' if refusals == 1 else 'them'}")
        return "; ".join(parts)


def _changes(n: int) -> str:
    return f"{n} change" if n == 1 else f"{n} changes"


def _touches(change: dict) -> tuple[set, set]:
    """(what a queued change builds on, what it changes): the ticket or macro it is about, and for a
    reply with a macro applied that macro, which an earlier queued change may be creating."""
    payload = change.get("payload") or {}
    if change.get("kind") in MACRO_KINDS:
        return set(), {("macro", payload.get("id"))}
    reads = {("macro", payload["macro_id"])} if payload.get("macro_id") else set()
    return reads, {("ticket", change.get("ticket_id"))}


class SyncEngine:
    def __init__(
        self, cache: Cache, base_url: str, token: str, *, timeout: float = 10.0, page_limit: int = 5000,
        attempts: int = 5, backoff: Optional[Backoff] = None, transport: Optional[httpx.AsyncBaseTransport] = None,
        pull_interval: float = 30.0, max_failures: int = 5,
    ):
        self.cache = cache
        self.page_limit = page_limit
        self.attempts = attempts  # tries per request in one round
        self.max_failures = max_failures  # server failures on one change, over all rounds, before it is refused
        self.backoff = backoff or Backoff()
        self.pull_interval = pull_interval
        self.http = BackendClient(base_url, token, timeout=timeout, retry=RetryPolicy(attempts, self.backoff),
                                  transport=transport)
        self.events = EventStream(self.http, self.backoff, self.kick)
        self._poke = asyncio.Event()
        self._lock = asyncio.Lock()
        self.state = "offline"  # online | offline | syncing | unauthorized
        self.last_error = ""
        self.last_sync_at: Optional[float] = None

    # --- plumbing -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.http.base_url

    @property
    def client(self) -> httpx.AsyncClient:
        return self.http.client

    @property
    def last_event_id(self) -> Optional[str]:
        return self.events.last_event_id

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(self, method: str, path: str, *, failures: Optional[ServerFailures] = None, **kw) -> Any:
        """One API call with retries for transient trouble; Refused and Unauthorized pass straight up.
        With `failures`, a failure that is the request's own is counted there (and may refuse it)."""
        return await self.http.request(method, path, on_failure=failures.note if failures else None, **kw)

    # --- pull -----------------------------------------------------------------------------

    async def _page(self, cursor: str) -> tuple[Any, str, bool]:
        """One feed page: (raw JSON or decoded page, next cursor, more to come)."""
        return await self.request("GET", "/changes", params={"cursor": cursor, "limit": self.page_limit}, page=True)

    async def pull(self, report: Optional[SyncReport] = None) -> SyncReport:
        """Follow the cursor to the end. The next page is fetched while this one is written, so the
        server's work and ours overlap; each page commits together with its cursor."""
        report = report or SyncReport()
        cursor = await asyncio.to_thread(lambda: self.cache.cursor)
        fetch = asyncio.create_task(self._page(cursor))
        garbled = 0
        bulk = False
        try:
            while True:
                body, new_cursor, has_more = await fetch
                if has_more and not _advances(cursor, new_cursor):  # following it would ask for ever
                    raise BadAnswer(f"the server's changes feed did not move on (it says there is more, but the cursor went "
                                    f"from {quoted(cursor)} to {quoted(new_cursor)})")
                if has_more:
                    fetch = asyncio.create_task(self._page(new_cursor))
                    if not cursor and not bulk and report.pages == 0:  # a first sync of more than one page
                        bulk = await asyncio.to_thread(self.cache.begin_bulk_load)
                try:
                    stats = await asyncio.to_thread(self.cache.apply_page, body, new_cursor)
                except BadPage as exc:  # garbled in transit or by the server: ask for the same page again
                    garbled += 1
                    if garbled >= self.attempts:
                        raise Transient(f"the server keeps sending a page this client cannot store: {exc}") from None
                    if not fetch.done():
                        fetch.cancel()
                    await asyncio.gather(fetch, return_exceptions=True)
                    await asyncio.sleep(self.backoff.delay(garbled))
                    fetch = asyncio.create_task(self._page(cursor))
                    continue
                cursor = new_cursor
                report.pulled.add(stats)
                report.pages += 1
                if not has_more:
                    return report
        finally:
            if not fetch.done():
                fetch.cancel()
            await asyncio.gather(fetch, return_exceptions=True)  # never leave its error unretrieved
            if bulk:
                await asyncio.to_thread(self.cache.end_bulk_load)

    # --- push -----------------------------------------------------------------------------

    # what the answer to each kind of change must carry (the cache stores these)
    ANSWER_NEEDS = {"reply": ("ticket", "message"), "note": ("ticket", "message"), "update": ("ticket",),
                    "claim": ("ticket",), "macro": ("macro",), "macro_update": ("macro",), "macro_delete": ()}

    def _call_for(self, change: dict) -> tuple[str, str, dict]:
        tid = change["ticket_id"]
        headers = {"Idempotency-Key": change["change_id"]}
        kind = change["kind"]
        if kind not in self.ANSWER_NEEDS:
            raise ValueError(f"unknown outbox change kind {kind!r}")
        kw: dict[str, Any] = {"headers": headers, "need": self.ANSWER_NEEDS[kind]}
        if kind in ("reply", "note"):
            return "POST", f"/tickets/{tid}/messages", {**kw, "json": change["payload"]}
        if kind == "update":
            headers["If-Match"] = f'"{change["base_version"]}"'
            return "PATCH", f"/tickets/{tid}", {**kw, "json": change["payload"]}
        if kind == "claim":
            return "POST", f"/tickets/{tid}/claim", kw
        if kind == "macro":
            return "POST", "/macros", {**kw, "json": change["payload"]}
        macro_path = f"/macros/{quote(change['payload']['id'], safe='')}"
        if kind == "macro_update":
            headers["If-Match"] = f'"{change["base_version"]}"'
            return "PATCH", macro_path, {**kw, "json": {k: v for k, v in change["payload"].items() if k != "id"}}
        return "DELETE", macro_path, kw

    async def push(self, report: Optional[SyncReport] = None) -> SyncReport:
        """Send queued changes oldest first.

        A change that must wait (its retry is not due yet, or the server failed on it this round)
        holds back the later changes of the same ticket or macro, which may build on it; the changes
        of other tickets and macros go on. A change the server keeps failing on is refused after a
        while (ServerFailures), like a 4xx: the agent sees it, and what was behind it goes on. Trouble
        with the server or the network as a whole (no connection, 502/503/504, 429) ends the round."""
        report = report or SyncReport()
        held: set[tuple[str, Any]] = set()  # tickets and macros with an earlier change still waiting
        after = 0
        while True:
            pending = await asyncio.to_thread(self.cache.outbox, 1, after)  # one row at a time: order matters
            if not pending:
                return report
            change = pending[0]
            after = change["seq"]
            reads, writes = _touches(change)
            if held & (reads | writes) or change["next_attempt_at"] > time.time() or change["change_id"] in report.deferred:
                held |= writes
                continue
            method, path, kw = self._call_for(change)
            failures = ServerFailures(change["attempts"], self.max_failures, change.get("last_failure") or "")
            tries = int(change.get("tries") or 0) + 1  # the rounds it will have waited after this one: its wait grows with them
            try:
                body = await self.request(method, path, failures=failures, **kw)
            except Transient as exc:
                wait = self.backoff.delay(tries, exc.retry_after)
                await asyncio.to_thread(self.cache.defer, change, str(exc), time.time() + wait, failures.count, failures.previous)
                report.deferred.add(change["change_id"])
                if not exc.server_failed:
                    raise
                held |= writes
                continue
            except BadAnswer as exc:
                # an answer this client cannot store (a redirect, a partial ticket): the change stays
                # queued and waits, the changes of other tickets go on, and the round ends with the line
                wait = self.backoff.delay(tries)
                await asyncio.to_thread(self.cache.defer, change, str(exc), time.time() + wait, failures.count)
                report.deferred.add(change["change_id"])
                report.bad_answer = report.bad_answer or str(exc)
                held |= writes
                continue
            except Refused as exc:
                is_macro = change["kind"] in MACRO_KINDS
                try:
                    server_copy = await self._server_copy(change, exc)
                except Transient as down:
                    # the server fails on more than this change (its database is down, say): the change
                    # is not to blame, so it waits for a retry, and so does everything else (the round ends)
                    wait = self.backoff.delay(tries, down.retry_after)
                    await asyncio.to_thread(self.cache.defer, change, str(down), time.time() + wait, failures.count,
                                        failures.previous)
                    report.deferred.add(change["change_id"])
                    raise Transient(f"the server fails on every request, not only on this change (HTTP {exc.status})",
                                    down.retry_after) from None
                ticket, macro = (None, server_copy) if is_macro else (server_copy, None)
                await asyncio.to_thread(self.cache.reject, change, exc.status, str(exc), ticket, macro)
                report.rejected.append(f"{describe_change(change)}: {exc}")
                continue
            await asyncio.to_thread(
                self.cache.confirm, change, body.get("ticket"), body.get("message"), body.get("previous_version"),
                body.get("macro"), body.get("changes_refused"),
            )
            report.pushed += 1
            if body.get("changes_refused") and change["payload"].get("changes"):
                report.rejected.append(f"{describe_change(change)} was sent; its macro actions were not: {body['changes_refused']}")

    async def _server_copy(self, change: dict, exc: Refused) -> Optional[dict]:
        """The server's state of what a refused change was about (the ticket, or the macro; a new
        macro has none), from the refusal or fetched. For a change refused because the server failed
        on it, this is also the proof that the server works otherwise: if it fails here too, the
        Transient passes up and the change is not refused."""
        is_macro = change["kind"] in MACRO_KINDS
        what = "macro" if is_macro else "ticket"
        failed = exc.code == "server_failure"
        copy = exc.body.get(what)
        if copy is not None or exc.status == 404:
            return copy
        if change["kind"] == "macro":  # nothing to fetch; ask the server something it needs its database for
            if failed:
                try:
                    await self.request("GET", "/me")
                except (Refused, BadAnswer):
                    pass  # it answers, so it works: the change is to blame
            return None
        path = f"/macros/{quote(change['payload']['id'], safe='')}" if is_macro else f"/tickets/{change['ticket_id']}"
        try:
            return (await self.request("GET", path, need=(what,))).get(what)
        except Transient:
            if failed:
                raise
            return None
        except (Refused, BadAnswer):
            return None

    # --- both, and the live loop ----------------------------------------------------------

    async def sync_once(self) -> SyncReport:
        """Push what is queued, then pull what changed. Raises SyncError with one clear line."""
        async with self._lock:
            report = SyncReport()
            self.state = "syncing"
            try:
                await self.push(report)
                await self.pull(report)
                await self.push(report)  # anything queued while we pulled
                if report.bad_answer:
                    raise BadAnswer(report.bad_answer)
            except Unauthorized as exc:
                self.state, self.last_error = "unauthorized", str(exc)
                raise
            except Transient as exc:
                self.state = "offline"
                self.last_error = f"Sync failed: {exc}. Working from the cache; changes stay queued."
                raise SyncError(self.last_error) from None
            except Refused as exc:
                self.state = "offline"
                self.last_error = f"Sync failed: the server refused the request ({exc.status} {exc})."
                raise SyncError(self.last_error) from None
            except BadAnswer as exc:
                self.state = "offline"
                self.last_error = (f"Sync stopped: {exc}. Working from the cache; changes stay queued. "
                                   "If this goes on, tell the server's admin.")
                raise SyncError(self.last_error) from None
            self.state, self.last_error, self.last_sync_at = "online", "", time.time()
            report.outbox = await asyncio.to_thread(self.cache.outbox_depth)
            if report.outbox:
                report.waiting = await asyncio.to_thread(self.cache.outbox_waiting)
            return report

    def kick(self) -> None:
        """Something changed locally or remotely: sync soon."""
        self._poke.set()

    async def listen(self) -> None:
        """Follow the server's SSE stream and kick a sync on every poke; reconnect with backoff."""
        await self.events.follow()

    async def run(self, on_report: Callable[[Optional[SyncReport], "SyncEngine"], Any]) -> None:
        """Sync now, then on every poke or every pull_interval; tell on_report after each round."""
        listener = asyncio.create_task(self.listen())
        failures = 0
        try:
            while True:
                self._poke.clear()
                try:
                    report = await self.sync_once()
                    failures = 0
                except SyncError:
                    report = None
                    failures += 1
                result = on_report(report, self)
                if isinstance(result, Awaitable):
                    await result
                if self.state == "unauthorized":
                    return
                wait = self.pull_interval if failures == 0 else self.backoff.delay(min(failures, 6))
                try:
                    await asyncio.wait_for(self._poke.wait(), timeout=max(0.2, wait))
                except asyncio.TimeoutError:
                    pass
        finally:
            listener.cancel()
            try:
                await listener
            except (asyncio.CancelledError, Exception):
                pass
