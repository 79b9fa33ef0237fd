"""First sync of 100,000 tickets from the real backend over loopback, beside a raw sqlite3 upsert.

python bench/sync_first.py [--tickets N]

The backend runs as its own process (SQLite, seeded here), so client and server don't share a GIL.
The baseline is a raw sqlite3 executemany upsert of the very same ticket rows into an empty cache
file with the same schema and pragmas, measured in the same run. Figure: sync rate / raw rate.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import orjson  # noqa: E402

from agent_tui.sync import SyncEngine  # noqa: E402
from backend.schema import make_engine  # noqa: E402
from backend.seed import seed  # noqa: E402
from storage.cache import TICKET_UPSERT, Cache, ticket_tuple  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_backend(db_url: str, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "backend", "--db", db_url, "--port", str(port)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("backend did not start")


async def first_sync(url: str, cache_path: Path, limit: int) -> tuple[float, int]:
    cache = Cache.open(cache_path)
    engine = SyncEngine(cache, url, "demo-agent", page_limit=limit, timeout=60)
    t0 = time.perf_counter()
    report = await engine.pull()
    elapsed = time.perf_counter() - t0
    await engine.aclose()
    n = report.pulled.tickets
    cache.close()
    return elapsed, n


def raw_upsert(rows: list[tuple], path: Path) -> float:
    Cache.open(path).close()  # same schema, indexes and pragmas as the real cache
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    t0 = time.perf_counter()
    con.execute("BEGIN")
    con.executemany(TICKET_UPSERT, rows)
    con.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--page", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    db_url = f"sqlite:///{work / 'backend.db'}"
    t0 = time.perf_counter()
    eng = make_engine(db_url)
    seed(eng, tickets=a.tickets, customers=2000, messages=False, hostile=False)
    eng.dispose()
    print(f"seeded {a.tickets} tickets in {time.perf_counter() - t0:.1f} s")
    port = free_port()
    proc = start_backend(db_url, port)
    url = f"http://127.0.0.1:{port}"
    try:
        # the exact rows the sync will store, for the baseline
        rows, cursor = [], ""
        while True:
            body = orjson.loads(httpx.get(f"{url}/api/v1/changes", params={"cursor": cursor, "limit": 10000},
                                          headers={"Authorization": "Bearer demo-agent"}, timeout=60).content)
            rows += [ticket_tuple(t) for t in body.get("tickets", [])]
            cursor = body["cursor"]
            if not body["has_more"]:
                break
        sync_rates, raw_rates = [], []
        for i in range(a.runs):
            elapsed, n = asyncio.run(first_sync(url, work / f"cache{i}.db", a.page))
            assert n == a.tickets, (n, a.tickets)
            sync_rates.append(n / elapsed)
            raw_rates.append(len(rows) / raw_upsert(rows, work / f"raw{i}.db"))
            print(f"run {i + 1}: sync {sync_rates[-1]:,.0f} tickets/s   raw executemany {raw_rates[-1]:,.0f} rows/s")
    finally:
        proc.kill()
    sync_rate = statistics.median(sync_rates)
    raw_rate = statistics.median(raw_rates)
    print(f"sync_first_rate: {sync_rate:,.0f} tickets/s (goal none; context)")
    print(f"sync_first_raw_rate: {raw_rate:,.0f} rows/s (goal none; baseline)")
    print(f"sync_first_ratio: {sync_rate / raw_rate:.2f} ratio (goal >= 0.5)")


if __name__ == "__main__":
    main()
