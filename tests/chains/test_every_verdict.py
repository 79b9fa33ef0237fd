"""Every verdict code, reached against real things, through both front doors.

Each case is a deposit a customer writes in about. The chain side is real: a transaction made on
anvil (a real EVM node; chain ids 1 and 56), on litecoind in regtest (Bitcoin Core RPC), or a real
mainnet answer served like the real API (the fixture server). The desk side is real too: a seeded
backend with the customer's deposit addresses and ledger, pulled into a cache, and a ticket whose
first message carries the txid and names the network the customer claims.

Every case is looked up twice, and both must reach the same code:
1. `agent-tui lookup TXID [--network N] --customer ID --json`, the real command in a child
   process, reading the customer's addresses and ledger from its own copy of the synced cache;
2. in the agent app: the ticket open, `l`, enter (Pilot), on another copy of that cache.
The two copies never share a look-up cache, so each one really asks the node.
Together the cases cover every code (the last test checks that).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable, Iterator, Optional

import pytest

from agent_tui.chains.diagnose import CODES, MACROS
from storage.cache import Cache
from tests.chains.test_anvil import BSC_USDT, FAKE, STRANGER, USDT, Chain
from tests.chains.test_anvil import rpc as evm_rpc
from tests.desk import FROZEN, add_address, add_customer, add_ledger, make_desk, new_ticket

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CUSTOMER_EVM = "0x2ae6d1401af58f9fbe2eda032b8494d519af5813"


@dataclass
class Deposit:
    """What the customer says and what the desk knows: the ticket's txid, the claimed network, the
    customer's deposit addresses (network, asset, address, memo) and ledger rows."""

    txid: str
    claimed: Optional[str]
    addresses: list[tuple[str, str, str, Optional[str]]]
    endpoints: dict[str, str]
    ledger: list[dict] = field(default_factory=list)
    words: str = "my deposit"


# --- the chains ------------------------------------------------------------------------------


def evm_chains(request) -> tuple[Chain, Chain]:
    eth = Chain(request.getfixturevalue("anvil_eth"), [USDT, FAKE])
    bsc = Chain(request.getfixturevalue("anvil_bsc"), [BSC_USDT])
    return eth, bsc


def evm_deposit(eth: Chain, bsc: Chain, txid: str, claimed: Optional[str] = "ethereum", **kw) -> Deposit:
    return Deposit(txid, claimed, [("ethereum", "USDT", CUSTOMER_EVM, None)], {"ethereum": eth.url, "bsc": bsc.url}, **kw)


@contextlib.contextmanager
def anvil_case(request, code: str) -> Iterator[Deposit]:
    eth, bsc = evm_chains(request)
    if code == "pending":
        evm_rpc(eth.url, "evm_setAutomine", False)
        try:
            yield evm_deposit(eth, bsc, eth.transfer(USDT, CUSTOMER_EVM, 50 * 10**6), words="50 USDT")
        finally:
            evm_rpc(eth.url, "evm_setAutomine", True)
            eth.mine(1)
        return
    if code in ("credited", "needs_manual_credit"):
        tx = eth.transfer(USDT, CUSTOMER_EVM, 1000 * 10**6)
        eth.mine(12)
        ledger = [dict(txid=tx, network="ethereum", asset="USDT", amount="1000", output_index=0, status="credited")] if code == "credited" else []
        yield evm_deposit(eth, bsc, tx, ledger=ledger, words="1000 USDT")
    elif code == "failed":  # the token reverts a zero transfer; gas is given so the node mines it
        tx = eth.transfer(USDT, CUSTOMER_EVM, 0, gas="0x30000")
        eth.mine(12)
        yield evm_deposit(eth, bsc, tx)
    elif code == "insufficient_confirmations":
        tx = eth.transfer(USDT, CUSTOMER_EVM, 500 * 10**6)
        eth.mine(2)
        yield evm_deposit(eth, bsc, tx, words="500 USDT")
    elif code == "wrong_address":
        tx = eth.transfer(USDT, STRANGER, 1000 * 10**6)
        eth.mine(12)
        yield evm_deposit(eth, bsc, tx)
    elif code == "unsupported_token":
        tx = eth.transfer(FAKE, CUSTOMER_EVM, 1000 * 10**6)
        eth.mine(12)
        yield evm_deposit(eth, bsc, tx)
    elif code == "wrong_network":  # sent on BSC (chain id 56), the customer says ethereum
        tx = bsc.transfer(BSC_USDT, CUSTOMER_EVM, 1000 * 10**18)
        bsc.mine(20)
        yield evm_deposit(eth, bsc, tx)
    elif code == "below_minimum":  # the listing's minimum for USDT on ethereum is 10
        tx = eth.transfer(USDT, CUSTOMER_EVM, 3 * 10**6)
        eth.mine(12)
        yield evm_deposit(eth, bsc, tx, words="3 USDT")
    elif code == "not_found":
        yield evm_deposit(eth, bsc, "0x" + "42" * 32)
    else:
        raise AssertionError(code)


@contextlib.contextmanager
def litecoind_case(request, code: str) -> Iterator[Deposit]:
    node = request.getfixturevalue("ltc")
    deposit = node.new_address()

    def case(txid: str, ledger=()) -> Deposit:
        return Deposit(txid, "litecoin", [("litecoin", "LTC", deposit, None)], dict(node.endpoints), list(ledger), words="LTC")

    if code == "not_found":
        yield case("ab" * 32)
        return
    if code == "dropped":  # mined, reorganised out, its coins spent by a conflicting transaction
        from tests.chains.test_litecoind import double_spend_after_reorg
        yield case(double_spend_after_reorg(node, deposit))
        return
    if code == "wrong_address":
        txid = node.send(node.new_address(), "0.5")
    else:
        txid = node.send(deposit, "0.0005" if code == "below_minimum" else "1.25")
    mined = {"pending": 0, "insufficient_confirmations": 2}.get(code, 6)
    if mined:
        node.mine(mined)
    ledger = []
    if code == "credited":
        ledger = [dict(txid=txid, network="litecoin", asset="LTC", amount="1.25", output_index=node.vout_index(txid, deposit), status="credited")]
    yield case(txid, ledger)


ETH_USDT_TX = "0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739"  # 1000 USDT to CUSTOMER_EVM, 73rd log
FIXTURE_CASES: dict[str, Callable[[], tuple]] = {
    # code: (txid, claimed, addresses, ledger)
    "credited": lambda: (ETH_USDT_TX, "ethereum", [("ethereum", "USDT", CUSTOMER_EVM, None)],
                         [dict(txid=ETH_USDT_TX, network="ethereum", asset="USDT", amount="1000", output_index=73, status="credited")]),
    "needs_manual_credit": lambda: ("0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99", "tron",
                                    [("tron", "USDT", "TXVj38D1XR3TPgSHTCZGC8wkLDAGqF1oqx", None)], []),
    "pending": lambda: ("8e89b20f8a7fadb0e4cdbe57a00eee224f5076bac5387fc276916724e7c4a16a", "bitcoin",
                        [("bitcoin", "BTC", "bc1q3fwytn8u98fqn9qdj3f9utkmwap6rtv2ym33zm", None)], []),
    "failed": lambda: ("13df06d50a1ff1f4a164e25afc946dd7b05df044894b1073b1e92eef41d8a98a", "tron",
                       [("tron", "USDT", "TXVj38D1XR3TPgSHTCZGC8wkLDAGqF1oqx", None)], []),
    "wrong_address": lambda: ("20b984492b5264162a4c92c9a34bc7fa08b67d669de7b4c5982ad3cb28aaecf6", "bitcoin",
                              [("bitcoin", "BTC", "bc1q3fwytn8u98fqn9qdj3f9utkmwap6rtv2ym33zm", None)], []),
    "unsupported_token": lambda: ("0xcea6f89720cc1d2f46cc7a935463ae0b99dd5fad9c91bb7357de5421511cee49", "ethereum",
                                  [("ethereum", "USDT", "0x66f183060253cfbe45beff1e6e7ebbe318c81e56", None)], []),
    "missing_memo": lambda: ("D58864C16344ADCC15995C7986CFC607CB693E88F84D2E019F0A35FB29749202", "xrp",
                             [("xrp", "XRP", "r9dU6Z7P2i7MrDi1VUZ7uyq6J77eg86YtB", "5")], []),
    "wrong_memo": lambda: ("7C031FD5B710E3C048EEF31254089BEEC505900BCC9A842257A0319453333998", "xrp",
                           [("xrp", "XRP", "rLNaPoKeeBjZe2qs6x52yVPZpZ8td4dc6w", "2")], []),
    "not_found": lambda: ("E08D6E9754025BA2534A78707605E0601F03ACE063687A0CA1BDDACFCD1698C7", "xrp",
                          [("xrp", "XRP", "rLNaPoKeeBjZe2qs6x52yVPZpZ8td4dc6w", "1")], []),
}


@contextlib.contextmanager
def fixtures_case(request, code: str) -> Iterator[Deposit]:
    server = request.getfixturevalue("fixture_server")
    txid, claimed, addresses, ledger = FIXTURE_CASES[code]()
    eps = {k: (v if isinstance(v, str) else f"{v['kind']}+{v['url']}") for k, v in server.endpoints().items()}
    yield Deposit(txid, claimed, addresses, eps, ledger)


ANVIL = ["credited", "needs_manual_credit", "pending", "insufficient_confirmations", "failed", "wrong_address",
         "unsupported_token", "wrong_network", "below_minimum", "not_found"]
LITECOIND = ["credited", "needs_manual_credit", "pending", "insufficient_confirmations", "wrong_address", "below_minimum", "not_found",
             "dropped"]
SOURCES = {"anvil": (anvil_case, ANVIL), "litecoind": (litecoind_case, LITECOIND), "fixtures": (fixtures_case, list(FIXTURE_CASES))}
CASES = [pytest.param(src, code, id=f"{src}-{code}", marks=[pytest.mark.chain] if src != "fixtures" else [])
         for src, (_, codes) in SOURCES.items() for code in codes]


# --- the desk --------------------------------------------------------------------------------


def desk_for(tmp_path, d: Deposit) -> tuple[int, int]:
    """The seeded backend with this customer, addresses, ledger and ticket, pulled into cache.db.
    Returns (ticket id, customer id)."""
    network_words = f" on {d.claimed}" if d.claimed else ""

    def change(conn, made):
        cid = add_customer(conn)
        for network, asset, address, memo in d.addresses:
            add_address(conn, cid, network, address, memo, asset=asset)
        for row in d.ledger:
            add_ledger(conn, cid, row["txid"], row["network"], row["amount"], row["output_index"], row["status"], asset=row["asset"])
        made["cid"] = cid
        made["tid"] = new_ticket(conn, f"Hello, I sent {d.words}{network_words} and it is not in my account. TxID: {d.txid}", customer_id=cid)

    cache, made = make_desk(tmp_path, change)
    cache.close()
    return made["tid"], made["cid"]


def run_cli(cache_path, d: Deposit, customer_id: int) -> dict:
    env = {**os.environ, "AGENT_TUI_CACHE": str(cache_path)}
    env.update({f"AGENT_TUI_RPC_{k.upper()}": v for k, v in d.endpoints.items()})
    args = [sys.executable, "-m", "agent_tui.cli", "lookup", d.txid, "--customer", str(customer_id), "--json"]
    if d.claimed:
        args += ["--network", d.claimed]
    p = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    return json.loads(p.stdout)


async def run_in_app(cache_path, d: Deposit, ticket_id: int):
    from agent_tui.app import AgentApp, Identity
    from agent_tui.screens.lookup import LookupScreen

    cache = Cache.open(cache_path)
    app = AgentApp(cache=cache, server_url="http://127.0.0.1:9", token="-", sync_enabled=False, clock=lambda: FROZEN,
                   identity=Identity(1, "Alex Morgan", "agent"),
                   settings=SimpleNamespace(theme="agent-dark", at_risk_minutes=15, views={}, keymap={}, rpc=dict(d.endpoints)))
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            app.open_ticket(ticket_id)
            await pilot.pause(0.1)
            await pilot.press("l")
            await pilot.pause(0.1)
            screen = app.screen
            assert isinstance(screen, LookupScreen)
            assert screen.choices[0][0].lower().removeprefix("0x") == d.txid.lower().removeprefix("0x")
            assert screen.claimed_network() == d.claimed  # named in the message, as the customer wrote it
            await pilot.press("enter")
            deadline = time.monotonic() + 30
            while screen.verdict is None and not screen.error and time.monotonic() < deadline:
                await pilot.pause(0.05)
            assert screen.error == "", screen.error
            assert screen.verdict is not None, "no verdict in 30 s"
            v = screen.verdict
            assert app.last_verdicts[ticket_id]["code"] == v.code  # what the macro picker offers first
            svg = app.export_screenshot()  # what the agent sees: the code and the macro to answer with
            assert v.code in svg and MACROS[v.code] in svg
            return v
    finally:
        cache.close()


@pytest.mark.parametrize("source,code", CASES)
async def test_the_verdict_in_the_app_and_from_the_command(request, tmp_path, source, code):
    make, _ = SOURCES[source]
    with make(request, code) as d:
        tid, cid = desk_for(tmp_path, d)
        shutil.copy(tmp_path / "cache.db", tmp_path / "cli.db")  # closed: the WAL is folded in

        out = run_cli(tmp_path / "cli.db", d, cid)
        assert out["code"] == code, out["explanation"]
        assert out["macro"] == MACROS[code] and out["schema_version"] == 1
        assert out["probes"], out  # it asked the chain

        v = await run_in_app(tmp_path / "cache.db", d, tid)
        assert v.code == code, v.explanation
        assert v.macro == out["macro"] and v.network == out["network"] and v.recoverable == out["recoverable"]
        ev = out["evidence"]
        assert (v.evidence.block, v.evidence.confirmations, v.evidence.amount, v.evidence.recipient, v.evidence.memo) == (
            ev["block"], ev["confirmations"], ev["amount"], ev["recipient"], ev["memo"])


# reached only where no ledger is consulted (no customer, not signed in): tests/test_ledger_lookups.py takes
# it through the command, the ticket look-up and the recovery batch
WITHOUT_A_DESK = {"check_ledger"}


def test_the_cases_cover_every_code_on_every_front_door():
    assert set(CODES) - WITHOUT_A_DESK == {code for _, codes in SOURCES.values() for code in codes}
    assert set(ANVIL) | set(LITECOIND) | set(FIXTURE_CASES) == set(CODES) - WITHOUT_A_DESK
