"""The demo chain (SIMULATED): every seeded deposit ticket's txid leads the real look-up, over the real
wire protocols on 127.0.0.1, to the verdict its story was written for; the tips follow the clock."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from agent_tui.chains import lookup
from agent_tui.chains.config import default_asset_config, load_endpoints
from agent_tui.chains.diagnose import CODES, MACROS
from agent_tui.chains.extract import network_hints, txids
from backend import schema as S
from backend.app import create_app as create_backend_app
from backend.demo_chain import (
    CHAIN_TIME,
    ROTATION,
    DemoChain,
    DepositTicket,
    create_app,
    endpoint_env,
    height_at,
    make_demo_chain,
    time_of,
)
from backend.seed import seed
from backend.server import ServerThread
from tests.conftest import REPO

# The demo is signed in (every look-up reads the server's ledger, so check_ledger cannot happen) and its
# simulated chain has no reorganisations or replaced transactions (dropped is reached on litecoind and
# anvil in tests/chains/test_every_verdict.py): its stories cover every other code.
DEMO_CODES = tuple(c for c in CODES if c not in ("check_ledger", "dropped"))

NOW = 1_760_000_000.0  # the seed's "now"; the chain's clock starts here


class Clock:
    def __init__(self) -> None:
        self.t = NOW

    def __call__(self) -> float:
        return self.t


@dataclass
class Desk:
    engine: object
    db_url: str
    counts: dict
    clock: Clock
    chain_url: str
    backend_url: str

    @property
    def stories(self):
        return self.counts["stories"]

    def env(self) -> dict:
        return endpoint_env(self.chain_url)

    def api(self, path: str) -> dict:
        r = httpx.get(f"{self.backend_url}/api/v1{path}", headers={"Authorization": "Bearer demo-recovery"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def customer(self, cid: int) -> dict:
        """The look-up's customer context from the backend: deposit addresses and the ledger."""
        return {"addresses": self.api(f"/customers/{cid}")["addresses"], "ledger": self.api(f"/customers/{cid}/deposits")["deposits"]}

    def pasted(self, ticket_id: int) -> tuple[str, list[str]]:
        """The txid in the customer's message, and the networks it names (as the look-up screen reads them)."""
        first = next(m for m in self.api(f"/tickets/{ticket_id}")["messages"] if m["kind"] == "customer")
        found = txids(first["body"])
        assert len(found) == 1, first["body"]
        return found[0].text, network_hints(first["body"])


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo-desk")
    db_url = f"sqlite:///{d / 'backend.db'}"
    engine = S.make_engine(db_url)
    counts = seed(engine, tickets=300, now=NOW, demo_chain=DemoChain())
    clock = Clock()
    chain = DemoChain.load(engine, clock=clock)  # what was persisted, as a separate demo server would read it
    assert len(chain) == counts["demo_transactions"] > 50
    chain_server = ServerThread(create_app(chain)).start()
    backend = ServerThread(create_backend_app(db_url)).start()
    yield Desk(engine, db_url, counts, clock, chain_server.url, backend.url)
    backend.stop()
    chain_server.stop()
    engine.dispose()


@pytest.fixture
def chain_at_seed_time(desk):
    desk.clock.t = NOW
    yield desk
    desk.clock.t = NOW


def look_up(desk: Desk, txid: str, network, customer: dict):
    return asyncio.run(lookup(txid, network=network, customer=customer, asset_config=default_asset_config(),
                              endpoints=load_endpoints(env=desk.env())))


def test_the_stories_cover_every_verdict_code(desk):
    codes = collections.Counter(s.code for s in desk.stories)
    assert set(codes) == set(DEMO_CODES), codes
    assert min(codes.values()) >= 3
    networks = {s.network for s in desk.stories}
    assert networks == {"bitcoin", "ethereum", "bsc", "tron", "xrp", None}


@pytest.mark.parametrize("code", DEMO_CODES)
def test_the_real_look_up_reaches_each_story_s_verdict(chain_at_seed_time, code):
    desk = chain_at_seed_time
    stories = [s for s in desk.stories if s.code == code]
    assert stories
    listing = {n["network"]: n for n in default_asset_config()["networks"]}
    for s in stories:
        txid, hints = desk.pasted(s.ticket_id)
        assert txid.removeprefix("0x").lower() == s.txid.removeprefix("0x").lower()
        assert hints == [s.claimed]
        customer = desk.customer(s.customer_id)
        # as the look-up screen does it (the network the customer names is the claim), and without a claim
        for claim in (hints[0], None):
            v = look_up(desk, txid, claim, customer)
            assert v.code == code, (s, claim, v.explanation)
            assert v.macro == MACROS[code] == f"deposit_{code}"
            e = v.evidence
            if code == "not_found":
                assert v.network is None and set(v.probes.values()) == {"not_found"}
                continue
            assert v.network == s.network and e.network == s.network
            assert set(v.probes.values()) <= {"found", "not_found"}  # every endpoint answered
            required = listing[s.network]["required_confirmations"]
            if code == "insufficient_confirmations":
                assert 1 <= e.confirmations < required
            if code == "pending":
                assert e.status == "pending" and e.confirmations is None and e.block is None
            if code in ("credited", "needs_manual_credit", "wrong_network", "unsupported_token", "below_minimum",
                        "missing_memo", "wrong_memo", "wrong_address"):
                assert e.status == "confirmed" and e.confirmations >= required
            if code == "credited":
                assert e.ledger_status == "credited" and e.amount == s.amount and e.asset == s.asset
            if code == "needs_manual_credit":
                assert e.ledger_status in (None, "pending") and e.amount == s.amount
            if code == "failed":
                assert e.status == "failed" and e.failure_reason
            if code == "wrong_network":
                assert s.network != s.claimed and s.claimed in v.explanation
            if code == "missing_memo":
                assert e.memo is None and e.expected_memo
            if code == "wrong_memo":
                assert e.memo and e.expected_memo and e.memo != e.expected_memo
            if code == "below_minimum":
                from decimal import Decimal

                assert Decimal(e.amount) < Decimal(e.min_deposit)
            if code == "unsupported_token":
                listed = {a["contract"] for a in listing[s.network]["assets"] if a["contract"]}
                assert e.contract not in listed


def test_the_tips_follow_the_clock(chain_at_seed_time):
    desk = chain_at_seed_time
    listing = {n["network"]: n for n in default_asset_config()["networks"]}
    waiting = [s for s in desk.stories if s.code == "insufficient_confirmations"]
    assert {s.network for s in waiting} >= {"ethereum", "bitcoin", "tron", "bsc"}
    # an hour of simulated time later every one of them has its confirmations (ethereum: 12 x 12 s)
    desk.clock.t = NOW + 3600
    for s in waiting:
        v = look_up(desk, s.txid, s.claimed, desk.customer(s.customer_id))
        assert v.code in ("credited", "needs_manual_credit"), (s, v.explanation)
        assert v.evidence.confirmations >= listing[s.network]["required_confirmations"]
        assert v.evidence.ledger_status == "pending"  # the exchange saw it and waited: now it needs a hand

    # and exactly when: the block of the required confirmation
    s = next(s for s in waiting if s.network == "ethereum")
    customer = desk.customer(s.customer_id)
    desk.clock.t = NOW
    first = look_up(desk, s.txid, "ethereum", customer)
    block, required = first.evidence.block, listing["ethereum"]["required_confirmations"]
    desk.clock.t = time_of("ethereum", block + required - 2)
    assert look_up(desk, s.txid, "ethereum", customer).evidence.confirmations == required - 1
    desk.clock.t = time_of("ethereum", block + required - 1)
    assert look_up(desk, s.txid, "ethereum", customer).code == "needs_manual_credit"


def test_pending_deposits_are_mined_into_the_demo_or_stay_stuck(chain_at_seed_time):
    desk = chain_at_seed_time
    pending = [s for s in desk.stories if s.code == "pending"]
    chain = DemoChain.load(desk.engine)
    later = [s for s in pending if chain.get(s.network, s.txid).block is not None]
    stuck = [s for s in pending if chain.get(s.network, s.txid).block is None]
    assert later and stuck
    for s in later:
        block = chain.get(s.network, s.txid).block
        assert block > height_at(s.network, NOW)  # beyond the tip at seed time: in the mempool
        customer = desk.customer(s.customer_id)
        desk.clock.t = time_of(s.network, block)  # its block arrives
        v = look_up(desk, s.txid, s.claimed, customer)
        assert v.code == "insufficient_confirmations" and v.evidence.confirmations == 1
        desk.clock.t = NOW + 6 * 3600
        assert look_up(desk, s.txid, s.claimed, customer).code == "needs_manual_credit"
    desk.clock.t = NOW + 86400
    for s in stuck:
        assert look_up(desk, s.txid, s.claimed, desk.customer(s.customer_id)).code == "pending"


def run_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent_tui.cli", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


@pytest.mark.parametrize("code", DEMO_CODES)
def test_agent_tui_lookup_with_a_customer_id_returns_the_story_s_code(chain_at_seed_time, tmp_path, code):
    desk = chain_at_seed_time
    s = next(s for s in desk.stories if s.code == code)
    env = {**desk.env(), "AGENT_TUI_SERVER_URL": desk.backend_url, "AGENT_TUI_TOKEN": "demo-recovery",
           "AGENT_TUI_CACHE": str(tmp_path / "cache.db")}
    p = run_cli("lookup", s.txid, "--customer", str(s.customer_id), "--json", env=env)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["code"] == code and out["macro"] == f"deposit_{code}" and out["schema_version"] == 1
    assert out["network"] == s.network


@pytest.fixture(scope="module")
def desk_cache(desk, tmp_path_factory):
    from storage.cache import Cache
    from tests.desk import pull_into

    cache = Cache.open(tmp_path_factory.mktemp("demo-cache") / "cache.db")
    pull_into(desk.engine, cache)
    yield cache
    cache.close()


@pytest.mark.parametrize("code", DEMO_CODES)
async def test_in_the_app_l_reaches_the_story_s_verdict(chain_at_seed_time, desk_cache, code):
    from types import SimpleNamespace

    from agent_tui.app import AgentApp, Identity
    from agent_tui.screens.lookup import LookupScreen

    desk = chain_at_seed_time
    s = next(s for s in desk.stories if s.code == code)
    rpc = {k[len("AGENT_TUI_RPC_"):].lower(): v for k, v in desk.env().items() if k.startswith("AGENT_TUI_RPC_")}
    app = AgentApp(cache=desk_cache, server_url=desk.backend_url, token="-", sync_enabled=False, clock=lambda: NOW,
                   identity=Identity(2, "Riya Patel", "recovery"),
                   settings=SimpleNamespace(theme="agent-dark", at_risk_minutes=15, views={}, keymap={}, rpc=rpc))
    async with app.run_test(size=(160, 45)) as pilot:
        app.open_ticket(s.ticket_id)
        await pilot.pause(0.2)
        await pilot.press("l")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, LookupScreen)
        await pilot.press("enter")
        for _ in range(150):
            if screen.verdict is not None or screen.error:
                break
            await pilot.pause(0.1)
        assert screen.error in (None, ""), screen.error
        assert screen.verdict.code == code and app.last_verdicts[s.ticket_id]["macro"] == f"deposit_{code}"


# --- the wire protocols ----------------------------------------------------------------------


def test_health_says_it_is_simulated(desk):
    h = httpx.get(desk.chain_url + "/health", timeout=5).json()
    assert h["simulated"] is True and "SIMULATED" in h["service"] and "not a real blockchain" in h["service"]
    assert set(h["networks"]) == {"bitcoin", "ethereum", "bsc", "tron", "xrp"}
    assert h["networks"]["ethereum"]["tip"] == height_at("ethereum", NOW)


def test_unknown_and_malformed_txids_answer_as_the_real_apis(desk):
    u, unknown = desk.chain_url, "ab" * 32
    r = httpx.get(f"{u}/esplora/bitcoin/tx/{unknown}")
    assert (r.status_code, r.text) == (404, "Transaction not found")
    r = httpx.get(f"{u}/esplora/bitcoin/tx/nothex")
    assert (r.status_code, r.text) == (400, "Invalid hex string")
    assert httpx.get(f"{u}/esplora/bitcoin/tx/{unknown}/status").json() == {"confirmed": False}  # electrs' gotcha
    assert httpx.get(f"{u}/esplora/bitcoin/blocks/tip/height").text == str(height_at("bitcoin", NOW))
    for path in ("gettransactionbyid", "gettransactioninfobyid"):
        assert httpx.post(f"{u}/tron/wallet/{path}", json={"value": unknown}).json() == {}
    assert httpx.post(f"{u}/tron/wallet/getnowblock", json={}).json()["block_header"]["raw_data"]["number"] == height_at("tron", NOW)
    solid = httpx.post(f"{u}/tron/walletsolidity/getnowblock", json={}).json()["block_header"]["raw_data"]["number"]
    assert solid == height_at("tron", NOW) - 19
    assert httpx.post(f"{u}/tron/walletsolidity/gettransactionbyid", json={"value": unknown}).status_code == 404
    res = httpx.post(f"{u}/xrp", json={"method": "tx", "params": [{"transaction": unknown.upper(), "api_version": 2}]}).json()["result"]
    assert res["error"] == "txnNotFound" and res["error_code"] == 29 and res["status"] == "error"
    res = httpx.post(f"{u}/xrp", json={"method": "ledger", "params": [{"ledger_index": "validated"}]}).json()["result"]
    assert res["validated"] is True and res["ledger_index"] == height_at("xrp", NOW) == int(res["ledger"]["ledger_index"])
    for chain_id in (1, 56):
        rpc = lambda m, p, c=chain_id: httpx.post(f"{u}/evm/{c}", json={"jsonrpc": "2.0", "id": 7, "method": m, "params": p}).json()
        assert rpc("eth_chainId", []) == {"jsonrpc": "2.0", "id": 7, "result": hex(chain_id)}
        assert rpc("eth_getTransactionByHash", ["0x" + unknown])["result"] is None
        assert rpc("eth_getTransactionReceipt", ["0x" + unknown])["result"] is None
        assert rpc("eth_call", [])["error"]["code"] == -32601
    assert httpx.post(f"{u}/evm/137", json={}).status_code == 404


def test_transactions_look_like_their_chain_s(chain_at_seed_time):
    desk = chain_at_seed_time
    u = desk.chain_url
    by = {(s.network, s.code): s for s in desk.stories}
    # ERC-20 Transfer log, status 0x1, block fields once mined
    s = by[("ethereum", "credited")] if ("ethereum", "credited") in by else by[("ethereum", "needs_manual_credit")]
    receipt = httpx.post(f"{u}/evm/1", json={"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionReceipt", "params": [s.txid]}).json()["result"]
    assert receipt["status"] == "0x1" and receipt["blockNumber"].startswith("0x") and receipt["transactionHash"] == s.txid
    log = receipt["logs"][0]
    assert log["topics"][0] == "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef" and len(log["topics"]) == 3
    assert log["address"] == "0xdac17f958d2ee523a2206206994597c13d831ec7" and log["blockNumber"] == receipt["blockNumber"]
    # the XRPL v2 layout: tx_json, DeliverMax, delivered_amount, validated; v1 is flat with Amount
    s = by[("xrp", "missing_memo")]
    v2 = httpx.post(f"{u}/xrp", json={"method": "tx", "params": [{"transaction": s.txid, "binary": False, "api_version": 2}]}).json()["result"]
    assert v2["validated"] is True and v2["tx_json"]["TransactionType"] == "Payment" and "DestinationTag" not in v2["tx_json"]
    assert v2["meta"]["delivered_amount"] == v2["tx_json"]["DeliverMax"] and v2["ledger_index"] == v2["tx_json"]["ledger_index"]
    v1 = httpx.post(f"{u}/xrp", json={"method": "tx", "params": [{"transaction": s.txid}]}).json()["result"]
    assert "tx_json" not in v1 and v1["Amount"] == v2["tx_json"]["DeliverMax"] and v1["inLedger"] == v2["ledger_index"]
    # Tron: OUT_OF_ENERGY in the info, the calldata naming the customer's address
    s = by[("tron", "failed")]
    info = httpx.post(f"{u}/tron/wallet/gettransactioninfobyid", json={"value": s.txid}).json()
    assert info["result"] == "FAILED" and info["receipt"]["result"] == "OUT_OF_ENERGY" and "log" not in info
    # Esplora: the customer's output in vout, status with the block
    s = by[("bitcoin", "credited")] if ("bitcoin", "credited") in by else next(x for x in desk.stories if x.network == "bitcoin" and x.code == "needs_manual_credit")
    tx = httpx.get(f"{u}/esplora/bitcoin/tx/{s.txid}").json()
    assert tx["txid"] == s.txid and tx["status"]["confirmed"] is True and len(tx["vout"]) == 2
    assert all(o["scriptpubkey"] == "0014" + o["scriptpubkey"][4:] and o["scriptpubkey_type"] == "v0_p2wpkh" for o in tx["vout"])


# --- the scenarios and the seed ------------------------------------------------------------------


def _tickets(n: int) -> list[DepositTicket]:
    from backend.seed import make_address

    rng = random.Random(3)
    out = []
    for i in range(n):
        addrs = [(net, asset, *make_address(rng, net)) for net, asset in
                 (("bitcoin", "BTC"), ("ethereum", "USDT"), ("bsc", "USDT"), ("tron", "USDT"), ("xrp", "XRP"))]
        out.append(DepositTicket(i + 1, i + 1, addrs, "deposit", NOW - 3600))
    return out


def test_make_demo_chain_is_pure_and_takes_the_codes_in_turn():
    tickets = _tickets(len(ROTATION))
    a_chain, a = make_demo_chain(tickets, random.Random(5), NOW)
    b_chain, b = make_demo_chain(tickets, random.Random(5), NOW)
    assert [s.to_dict() for s in a] == [s.to_dict() for s in b] and a_chain.rows() == b_chain.rows()
    assert [s.code for s in a] == list(ROTATION)
    assert len(a_chain) == len(ROTATION) - 1  # not_found puts nothing on the chain
    assert all(n in CHAIN_TIME for n in {t.network for t in a_chain.txs.values()})
    _, c = make_demo_chain(tickets, random.Random(6), NOW)
    assert [s.txid for s in c] != [s.txid for s in a]


def test_the_seed_with_a_demo_chain_is_deterministic_and_leaves_the_rest_of_the_desk_alone(tmp_path):
    def desk(name: str, chain: bool):
        engine = S.make_engine(f"sqlite:///{tmp_path / name}")
        counts = seed(engine, tickets=150, now=NOW, demo_chain=DemoChain() if chain else None)
        with engine.connect() as c:
            tables = {t.name: [tuple(r) for r in c.execute(select(t).order_by(*t.primary_key.columns))]
                      for t in (S.customers, S.deposit_addresses, S.agents, S.demo_chain_txs, S.deposits)}
            tickets = {r.id: r for r in c.execute(select(S.tickets))}
        engine.dispose()
        return counts, tables, tickets

    c1, t1, k1 = desk("a.db", True)
    c2, t2, _ = desk("b.db", True)
    c0, t0, k0 = desk("c.db", False)
    assert [s.to_dict() for s in c1["stories"]] == [s.to_dict() for s in c2["stories"]] and t1 == t2
    assert "stories" not in c0 and t0["demo_chain_txs"] == []
    strip = lambda rows: [r[:-1] for r in rows]  # without seq
    for name in ("customers", "deposit_addresses", "agents"):
        assert strip(t0[name]) == strip(t1[name])
    told = {s.ticket_id for s in c1["stories"]}
    for tid, row in k0.items():
        other = k1[tid]
        same = {k: v for k, v in row._mapping.items() if k not in ("seq", "tags")}
        assert same == {k: v for k, v in other._mapping.items() if k not in ("seq", "tags")}
        if tid not in told:
            assert row.tags == other.tags
    # the ledger holds what the stories say, nothing else
    assert len(t1["deposits"]) == sum(1 for s in c1["stories"] if s.ledger)


def test_the_simulator_s_new_deposit_tickets_tell_stories_on_the_served_chain(tmp_path):
    """Live traffic in the demo: a new deposit ticket's txid is on the chain the demo serves (or
    deliberately nowhere), with its ledger row, so `l` on it reaches its story's verdict."""
    from backend.simulator import Simulator

    engine = S.make_engine(f"sqlite:///{tmp_path / 'backend.db'}")
    seed(engine, tickets=60, now=NOW, demo_chain=DemoChain())
    clock = Clock()
    chain = DemoChain.load(engine, clock=clock)
    before = len(chain)
    server = ServerThread(create_app(chain)).start()
    try:
        sim = Simulator(60, seed_value=3, chain=chain)
        for _ in range(400):
            sim.step(engine, now=NOW)
        assert len({s.code for s in sim.stories}) >= 8, [s.code for s in sim.stories]
        assert len(chain) > before
        with engine.connect() as c:
            for story in sim.stories:
                body = c.execute(select(S.messages.c.body).where(S.messages.c.ticket_id == story.ticket_id)
                                 .order_by(S.messages.c.seq)).scalars().first()
                found = txids(body)
                assert [t.text for t in found] == [story.txid] and network_hints(body) == [story.claimed], body
                addresses = [r._asdict() for r in c.execute(
                    select(S.deposit_addresses.c.network, S.deposit_addresses.c.asset, S.deposit_addresses.c.address, S.deposit_addresses.c.memo)
                    .where(S.deposit_addresses.c.customer_id == story.customer_id))]
                ledger = [r._asdict() for r in c.execute(
                    select(S.deposits.c.txid, S.deposits.c.network, S.deposits.c.asset, S.deposits.c.amount, S.deposits.c.output_index,
                           S.deposits.c.status).where(S.deposits.c.customer_id == story.customer_id))]
                v = asyncio.run(lookup(story.txid, network=story.claimed, customer={"addresses": addresses, "ledger": ledger},
                                       asset_config=default_asset_config(), endpoints=load_endpoints(env=endpoint_env(server.url))))
                assert v.code == story.code, (story, v.explanation)
        # stored too: a demo chain started again from the database serves them
        assert len(DemoChain.load(engine)) == len(chain)
    finally:
        server.stop()
        engine.dispose()


# --- the demo itself, in a real terminal ---------------------------------------------------------


def test_agent_tui_demo_looks_a_deposit_up_offline_in_a_real_terminal(tmp_path):
    """`agent-tui demo` starts the demo chain and points the app at it: `l` on a deposit ticket gets a verdict."""
    import re
    import shutil
    import time
    from pathlib import Path

    from tests.conftest import IN_CI

    if not shutil.which("tmux"):
        if IN_CI:
            pytest.fail("tmux is missing; .ci/run installs it")
        pytest.skip("tmux is not installed")
    # the demo seeds 400 tickets with seed 7: the same stories (only the heights follow the clock)
    engine = S.make_engine(f"sqlite:///{tmp_path / 'same.db'}")
    stories = seed(engine, tickets=400, demo_chain=DemoChain())["stories"]
    with engine.connect() as c:
        new = {r.id for r in c.execute(select(S.tickets.c.id).where(S.tickets.c.status == "new", S.tickets.c.queue == "deposits"))}
    engine.dispose()
    story = next(s for s in stories if s.code == "needs_manual_credit" and s.ticket_id in new)  # unassigned: in the first view

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30).stdout

    def wait_for(text, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = tmux("capture-pane", "-p", "-t", session)
            if (text.search(out) if isinstance(text, re.Pattern) else text in out):
                return out
            time.sleep(0.3)
        raise AssertionError(f"{text!r} never appeared; screen:\n{tmux('capture-pane', '-p', '-t', session)}")

    session = f"agent-tui-chain-{os.getpid()}"
    exe = Path(sys.executable).with_name("agent-tui")
    env = (f"AGENT_TUI_CONFIG_DIR={tmp_path}/cfg AGENT_TUI_DATA_DIR={tmp_path}/data AGENT_TUI_LOG_DIR={tmp_path}/log "
           "AGENT_TUI_RPC_ETHEREUM=https://unreachable.invalid/")  # the demo's chain wins over the user's endpoints
    tmux("new-session", "-d", "-s", session, "-x", "180", "-y", "50",
         f"cd {REPO} && env -u COLUMNS -u LINES {env} {exe} demo --tickets 400 --rate 0; echo EXITED $?; sleep 60")
    try:
        wait_for("● online")
        wait_for(re.compile(r"Unassigned · [1-9][0-9]* tickets"))  # synced
        tmux("send-keys", "-t", session, "/")
        time.sleep(0.5)
        tmux("send-keys", "-t", session, "-l", f"#{story.ticket_id}")
        wait_for("1 tickets")
        tmux("send-keys", "-t", session, "Enter")
        time.sleep(0.5)
        tmux("send-keys", "-t", session, "Enter")
        wait_for("Public reply to the customer")
        tmux("send-keys", "-t", session, "l")
        wait_for("Pick a txid and press enter")
        tmux("send-keys", "-t", session, "Enter")
        out = wait_for("Suggested macro: deposit_needs_manual_credit")
        assert "needs_manual_credit" in out and f"on {story.network}" in out and "error" not in out.lower()
        # and answer with the macro the verdict suggests, in a few keys: back, m, enter, ctrl+s
        tmux("send-keys", "-t", session, "Escape")
        wait_for("Public reply to the customer")
        tmux("send-keys", "-t", session, "m")
        out = wait_for("crediting manually")
        tmux("send-keys", "-t", session, "Enter")
        out = wait_for("On send:")  # the text in the box, its actions waiting for the reply
        assert "⟦" not in out  # every placeholder filled from the ticket, the customer and the verdict
        tmux("send-keys", "-t", session, "C-s")
        wait_for("Alex Morgan · reply")
    finally:
        tmux("kill-session", "-t", session)
