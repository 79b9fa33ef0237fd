"""What consulting the deposit ledger costs a look-up: median wall time per look-up of one mainnet USDT
transaction (fixture server, no result cache) without a ledger source and with the real backend's
GET /api/v1/ledger (SQLite, seeded, loopback), read before the chain is probed.

Run: python bench/lookup_ledger.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncio  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from agent_tui.chains import default_asset_config, lookup  # noqa: E402
from agent_tui.chains.config import load_endpoints  # noqa: E402
from agent_tui.chains.ledger import server_ledger  # noqa: E402
from tests.chains.conftest import free_port  # noqa: E402
from tests.chains.fixture_server import FixtureServer  # noqa: E402
from tests.conftest import Backend  # noqa: E402

TXID = "0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739"
ADDRESS = "0x2ae6d1401af58f9fbe2eda032b8494d519af5813"
REPEATS = 100


async def run(eps, ledger) -> list[float]:
    out = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        await lookup(TXID, network="ethereum", address=ADDRESS, asset_config=default_asset_config(), endpoints=eps, ledger=ledger)
        out.append(time.perf_counter() - t0)
    return out


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    backend = Backend(f"sqlite:///{tmp / 'backend.db'}", free_port(), tmp / "backend.log").start(fresh=True, seed=300)
    try:
        with FixtureServer() as fx:
            eps = load_endpoints({"ethereum": fx.endpoints()["ethereum"]})
            await run(eps, None)  # warm-up
            without = await run(eps, None)
            with_ledger = await run(eps, server_ledger(backend.url, "demo-agent"))
    finally:
        backend.kill()
    a, b = statistics.median(without), statistics.median(with_ledger)
    print(f"look-ups: {REPEATS} each; median without ledger {a * 1000:.1f} ms, with the server's ledger {b * 1000:.1f} ms "
          f"(+{(b - a) * 1000:.1f} ms)")


if __name__ == "__main__":
    asyncio.run(main())
