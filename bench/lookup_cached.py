"""A repeated look-up served from the SQLite result cache: median wall time per look-up.

Run: python bench/lookup_cached.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncio  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from sqlalchemy import create_engine  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import storage.models  # noqa: E402,F401
from agent_tui.chains import default_asset_config, lookup  # noqa: E402
from agent_tui.chains.config import load_endpoints  # noqa: E402
from storage.lookups import LookupCache  # noqa: E402
from tests.chains.fixture_server import FixtureServer  # noqa: E402

TXID = "0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739"  # USDT transfer, mainnet receipt
ADDRESS = "0x2ae6d1401af58f9fbe2eda032b8494d519af5813"
REPEATS = 200


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, FixtureServer(latency=0.05) as server:
        engine = create_engine(f"sqlite:///{tmp}/cache.db")
        SQLModel.metadata.create_all(engine)
        cache = LookupCache(engine)
        eps = load_endpoints({"ethereum": f"{server.url}/evm/1", "bsc": f"{server.url}/evm/56"}, env={})
        cfg = default_asset_config()
        t0 = time.perf_counter()
        first = await lookup(TXID, network="ethereum", address=ADDRESS, asset_config=cfg, endpoints=eps, cache=cache)
        print(f"first look-up (network, 50 ms latency): {(time.perf_counter() - t0) * 1000:.1f} ms -> {first.code}, final={first.final}")
        hits = server.httpd.hits
        times = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            v = await lookup(TXID, network="ethereum", address=ADDRESS, asset_config=cfg, endpoints=eps, cache=cache)
            times.append((time.perf_counter() - t0) * 1000)
        assert v.to_dict() == first.to_dict() and server.httpd.hits == hits, "cache was not used"
        print(f"{REPEATS} cached repeats: p90 {sorted(times)[int(REPEATS * 0.9)]:.2f} ms, max {max(times):.2f} ms, no request sent")
        print(f"lookup_cached: {statistics.median(times):.2f} ms (goal <= 5)")
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
