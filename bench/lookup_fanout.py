"""One look-up fanned out over 5 candidate networks, each a local server with its own injected latency.

Prints the total look-up time against the slowest single endpoint measured in the same run. A bare
64-hex txid with no network and no address is a candidate on bitcoin, litecoin, dogecoin, tron and xrp.
Run: python bench/lookup_fanout.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncio  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from agent_tui.chains import default_asset_config, lookup  # noqa: E402
from agent_tui.chains.addresses import parse_txid  # noqa: E402
from agent_tui.chains.config import default_networks, load_endpoints  # noqa: E402
from agent_tui.chains.providers import probe  # noqa: E402
from agent_tui.chains.transport import Http  # noqa: E402
from tests.chains.fixture_server import FixtureServer  # noqa: E402

TXID = "20b984492b5264162a4c92c9a34bc7fa08b67d669de7b4c5982ad3cb28aaecf6"  # a Bitcoin mainnet tx
LATENCY = {"bitcoin": 0.05, "litecoin": 0.10, "dogecoin": 0.15, "tron": 0.20, "xrp": 0.25}
ROUNDS = 5


async def main() -> None:
    servers = {n: FixtureServer(latency=lat) for n, lat in LATENCY.items()}
    for s in servers.values():
        s.start()
    try:
        eps = load_endpoints({
            "bitcoin": f"{servers['bitcoin'].url}/esplora/bitcoin",
            "litecoin": f"{servers['litecoin'].url}/esplora/litecoin",
            "dogecoin": {"url": f"{servers['dogecoin'].url}/esplora/dogecoin", "kind": "esplora"},
            "tron": f"{servers['tron'].url}/tron",
            "xrp": f"{servers['xrp'].url}/xrp",
        }, env={})
        nets, cfg, parsed = default_networks(), default_asset_config(), parse_txid(TXID)

        async def single(name: str) -> float:
            async with Http() as http:
                t0 = time.perf_counter()
                await probe(http, nets[name], eps[name], parsed)
                return time.perf_counter() - t0

        async def full() -> tuple[float, object]:
            t0 = time.perf_counter()
            v = await lookup(TXID, asset_config=cfg, endpoints=eps)
            return time.perf_counter() - t0, v

        await full()  # warm-up (imports, first connections)
        ratios = []
        for r in range(ROUNDS):
            singles = {n: await single(n) for n in LATENCY}
            total, v = await full()
            slowest = max(singles.values())
            ratios.append(total / slowest)
            print(f"round {r + 1}: look-up {total * 1000:.0f} ms over {len(singles)} networks ({v.code} on {v.network}); "
                  f"slowest single endpoint {max(singles, key=singles.get)} {slowest * 1000:.0f} ms; "
                  f"singles " + ", ".join(f"{n} {t * 1000:.0f}" for n, t in singles.items()))
        print(f"lookup_fanout: {statistics.median(ratios):.2f} x (goal <= 1.2)")
    finally:
        for s in servers.values():
            s.stop()


if __name__ == "__main__":
    asyncio.run(main())
