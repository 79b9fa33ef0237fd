"""Fixtures for the chain look-up tests: the fixture server, anvil and litecoind (real nodes)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from .fixture_server import FixtureServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fixture_server():
    with FixtureServer(hang_seconds=5.0, huge_bytes=2 * 1024 * 1024) as s:
        yield s


@pytest.fixture
def sqlite_engine(tmp_path):
    from sqlalchemy import create_engine
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (registers the tables)

    engine = create_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing_binary(what: str, hint: str):
    """FAIL in CI (the binary must be installed there), skip on a developer machine."""
    msg = f"{what} not found; install it with: {hint}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


def find_anvil() -> str | None:
    for cand in (REPO / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil",
                 REPO / "node_modules" / "@foundry-rs" / "anvil-linux-arm64" / "bin" / "anvil"):
        if cand.exists() and os.access(cand, os.X_OK):
            return str(cand)
    found = list((REPO / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")) if (REPO / "node_modules").exists() else []
    if found:
        return str(found[0])
    return shutil.which("anvil")


def wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not open port {port} within {timeout:g} s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _start_anvil(chain_id: int):
    binary = find_anvil()
    if not binary:
        missing_binary("anvil", "npm install --no-save @foundry-rs/anvil (in the repo root)")
    port = free_port()
    proc = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id), "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc, "anvil")
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def anvil_eth():
    proc, url = _start_anvil(1)
    yield url
    _stop(proc)


@pytest.fixture(scope="session")
def anvil_bsc():
    proc, url = _start_anvil(56)
    yield url
    _stop(proc)


@pytest.fixture(scope="session")
def litecoind():
    binary = shutil.which("litecoind")
    if not binary:
        missing_binary("litecoind", "apt-get update && apt-get install -y litecoind")
    rpc, p2p = free_port(), free_port()
    datadir = tempfile.mkdtemp(prefix="ltc-regtest-")
    proc = subprocess.Popen([binary, "-regtest", "-txindex", "-server", "-listen=0", "-rpcbind=127.0.0.1", "-rpcallowip=127.0.0.1",
                             f"-rpcport={rpc}", f"-port={p2p}", "-rpcuser=u", "-rpcpassword=p", f"-datadir={datadir}",
                             "-fallbackfee=0.0001", "-printtoconsole=0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(rpc, proc, "litecoind")
        yield f"http://u:p@127.0.0.1:{rpc}"
    finally:
        _stop(proc)
        shutil.rmtree(datadir, ignore_errors=True)


def ltc_rpc(url, method, *params, wallet=None):
    """One Core JSON-RPC call to litecoind (the URL carries user:password)."""
    u = httpx.URL(url)
    target = f"http://{u.host}:{u.port}/" + (f"wallet/{wallet}" if wallet else "")
    r = httpx.post(target, json={"jsonrpc": "1.0", "id": 1, "method": method, "params": list(params)}, auth=(u.username, u.password),
                   timeout=30, trust_env=False)
    body = r.json()
    if body.get("error"):
        raise RuntimeError(f"{method}: {body['error']}")
    return body["result"]


class Litecoin:
    """litecoind in regtest with a funded wallet: new addresses, sends, mining."""

    def __init__(self, url: str):
        self.url = url
        self.endpoints = {"litecoin": "bitcoin_rpc+" + url}
        deadline = time.time() + 60
        while True:
            try:
                ltc_rpc(url, "getblockcount")
                break
            except (RuntimeError, httpx.HTTPError, ValueError):
                if time.time() > deadline:
                    raise
                time.sleep(0.3)
        ltc_rpc(url, "createwallet", "w")
        self.miner = self.new_address()
        self.mine(101)  # coinbase outputs mature after 100 blocks

    def new_address(self) -> str:
        return ltc_rpc(self.url, "getnewaddress", wallet="w")

    def send(self, to: str, amount: str) -> str:
        return ltc_rpc(self.url, "sendtoaddress", to, amount, wallet="w")

    def mine(self, n: int) -> None:
        ltc_rpc(self.url, "generatetoaddress", n, self.miner, wallet="w")

    def vout_index(self, txid: str, address: str) -> int:
        tx = ltc_rpc(self.url, "getrawtransaction", txid, True)
        spk = lambda o: o["scriptPubKey"].get("address") or (o["scriptPubKey"].get("addresses") or [None])[0]
        return next(o["n"] for o in tx["vout"] if spk(o) == address)


@pytest.fixture(scope="session")
def ltc(litecoind):
    return Litecoin(litecoind)
