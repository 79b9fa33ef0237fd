"""The queue query over 100,000 cached tickets: one queue, open, sorted by SLA due, 200 rows.

python bench/queue_query.py

Measures Cache.queue_page (the app's real query: joins customer and agent names, builds QueueRows)
and, as the baseline in the same run, the bare indexed SELECT of the same 200 ids through sqlite3.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from storage.cache import Cache, ViewSpec  # noqa: E402
from storage.models import NO_DUE  # noqa: E402

QUEUES = ["deposits", "security", "kyc", "trading", "vip"]
STATUSES = ["new", "open", "open", "pending", "on_hold", "solved", "closed"]


def fill(cache: Cache, n: int) -> None:
    rng = random.Random(1)
    now = time.time()
    customers = [{"id": i, "name": f"Customer {i}", "first_name": "C", "email": "", "tier": rng.choice(["standard", "vip"]),
                  "language": "en", "kyc_status": "verified", "updated_at": now, "version": 1} for i in range(1, 5001)]
    agents = [{"id": i, "name": f"Agent {i}", "email": "", "role": "agent", "presence": "online", "current_ticket_id": None,
               "updated_at": now} for i in range(1, 31)]
    cache.apply_page({"customers": customers, "agents": agents}, None)
    batch = []
    for i in range(1, n + 1):
        status = rng.choice(STATUSES)
        batch.append({
            "id": i, "subject": f"Deposit not credited #{i} " + "x" * rng.randint(10, 50), "queue": rng.choice(QUEUES),
            "status": status, "priority": rng.choice(["low", "normal", "high", "urgent"]), "channel": "chat",
            "requester_id": rng.randint(1, 5000), "assignee_id": rng.choice([None, rng.randint(1, 30)]), "tags": ["deposit"],
            "language": "en", "created_at": now - rng.uniform(0, 86400), "updated_at": now, "version": 1,
            "sla_due": now + rng.uniform(-7200, 86400) if status in ("new", "open") else NO_DUE,
            "sla": [{"metric": "first_reply", "stage": "active"}],
        })
        if len(batch) == 10_000:
            cache.apply_page({"tickets": batch}, None)
            batch = []
    if batch:
        cache.apply_page({"tickets": batch}, None)


def median_ms(fn, runs: int = 300) -> float:
    for _ in range(20):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    n = 100_000
    path = Path(tempfile.mkdtemp(prefix="bench-queue-")) / "cache.db"
    cache = Cache.open(path)
    fill(cache, n)
    view = ViewSpec("queue:deposits", "Deposits", queue="deposits", statuses=("open",))
    rows = cache.queue_page(view, 0, 200)
    assert len(rows) == 200 and all(a.sla_due <= b.sla_due for a, b in zip(rows, rows[1:]))
    app_ms = median_ms(lambda: cache.queue_page(view, 0, 200))
    deep_ms = median_ms(lambda: cache.queue_page(view, 5000, 200), runs=100)
    con = sqlite3.connect(path)
    raw_ms = median_ms(lambda: con.execute(
        "SELECT id FROM tickets WHERE queue = ? AND status = ? ORDER BY sla_due LIMIT 200", ("deposits", "open")).fetchall())
    print(f"{n} cached tickets; queue 'deposits', status open: {cache.queue_count(view)} rows")
    print(f"queue_query_raw_ids: {raw_ms:.2f} ms (goal none; baseline)")
    print(f"queue_query_page_at_5000: {deep_ms:.2f} ms (goal none; context)")
    print(f"queue_query_over_raw: {app_ms / raw_ms:.1f} x (goal none; context)")
    print(f"queue_query: {app_ms:.2f} ms (goal <= 2)")


if __name__ == "__main__":
    main()
