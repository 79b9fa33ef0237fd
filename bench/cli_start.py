"""How fast the command line answers, end to end, as a shell starts it: `agent-tui --help`, and a
look-up whose verdict is already in the local cache (`agent-tui lookup TXID ... --json`), each beside
`python -c pass` measured in the same run on the same machine.

Run: python bench/cli_start.py
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.chains.fixture_server import FixtureServer  # noqa: E402

TXID = "0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739"  # USDT transfer, mainnet receipt
ADDRESS = "0x2ae6d1401af58f9fbe2eda032b8494d519af5813"
RUNS = 9


def agent_tui() -> list[str]:
    script = Path(sys.executable).with_name("agent-tui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "agent_tui.cli"]


def timed(cmd: list[str], env: dict, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr[-500:]}")
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, FixtureServer() as server:
        env = {**os.environ, "AGENT_TUI_CONFIG_DIR": f"{tmp}/cfg", "AGENT_TUI_DATA_DIR": f"{tmp}/data",
               "AGENT_TUI_LOG_DIR": f"{tmp}/log", "AGENT_TUI_RPC_ETHEREUM": f"{server.url}/evm/1",
               "PYTHONPATH": str(REPO)}  # this checkout, whichever one the console script was installed from
        for var in ("AGENT_TUI_TOKEN", "AGENT_TUI_SERVER_URL"):
            env.pop(var, None)
        baseline = timed([sys.executable, "-c", "pass"], env)
        help_s = timed([*agent_tui(), "--help"], env)
        lookup = [*agent_tui(), "lookup", TXID, "--network", "ethereum", "--address", ADDRESS, "--json"]
        subprocess.run(lookup, env=env, cwd=REPO, capture_output=True, timeout=60, check=True)  # the first one fills the cache
        hits = server.httpd.hits
        lookup_s = timed(lookup, env)
        assert server.httpd.hits == hits, "the repeated look-ups were not served from the cache"
    print(f"python -c pass: {baseline * 1000:.0f} ms; agent-tui --help: {help_s * 1000:.0f} ms; "
          f"cached lookup --json: {lookup_s * 1000:.0f} ms (medians of {RUNS} runs)")
    print(f"cli_start_help: {help_s:.3f} s (goal <= 0.25)")
    print(f"cli_start_help_over_python: {help_s / baseline:.1f} x (goal informational)")
    print(f"cli_start_lookup_cached: {lookup_s:.3f} s (goal <= 0.4)")


if __name__ == "__main__":
    main()
