"""Bitcoin Core JSON-RPC provider against a real litecoind in regtest (-txindex)."""

import time

import httpx
import pytest

from agent_tui.chains import default_asset_config, lookup

pytestmark = pytest.mark.chain
CFG = default_asset_config()  # litecoin: 6 confirmations, minimum 0.001 LTC


def rpc(url, method, *params, wallet=None):
    u = httpx.URL(url)
    target = f"http://{u.host}:{u.port}/" + (f"wallet/{wallet}" if wallet else "")
    r = httpx.post(target, json={"jsonrpc": "1.0", "id": 1, "method": method, "params": list(params)}, auth=(u.username, u.password),
                   timeout=30, trust_env=False)
    body = r.json()
    if body.get("error"):
        raise RuntimeError(f"{method}: {body['error']}")
    return body["result"]


@pytest.fixture(scope="module")
def ltc(litecoind):
    deadline = time.time() + 60
    while True:
        try:
            rpc(litecoind, "getblockcount")
            break
        except (RuntimeError, httpx.HTTPError, ValueError):
            if time.time() > deadline:
                raise
            time.sleep(0.3)
    rpc(litecoind, "createwallet", "w")
    miner = rpc(litecoind, "getnewaddress", wallet="w")
    rpc(litecoind, "generatetoaddress", 101, miner, wallet="w")

    class L:
        url = litecoind
        endpoints = {"litecoin": "bitcoin_rpc+" + litecoind}

        def new_address(self):
            return rpc(litecoind, "getnewaddress", wallet="w")

        def send(self, to, amount):
            return rpc(litecoind, "sendtoaddress", to, amount, wallet="w")

        def mine(self, n):
            rpc(litecoind, "generatetoaddress", n, miner, wallet="w")

        def vout_index(self, txid, address):
            tx = rpc(litecoind, "getrawtransaction", txid, True)
            spk = lambda o: o["scriptPubKey"].get("address") or (o["scriptPubKey"].get("addresses") or [None])[0]
            return next(o["n"] for o in tx["vout"] if spk(o) == address)

    return L()


async def run(ltc, txid, address, ledger=None, network="litecoin"):
    customer = {"addresses": [{"network": "litecoin", "asset": "LTC", "address": address, "memo": None}], "ledger": ledger or []}
    return await lookup(txid, network=network, customer=customer, asset_config=CFG, endpoints=ltc.endpoints)


async def test_pending_then_confirming_then_credited(ltc):
    deposit = ltc.new_address()
    txid = ltc.send(deposit, "1.25")
    v = await run(ltc, txid, deposit)
    assert v.code == "pending" and v.evidence.amount == "1.25" and v.evidence.recipient == deposit

    ltc.mine(2)
    v = await run(ltc, txid, deposit)
    assert v.code == "insufficient_confirmations"
    assert (v.evidence.confirmations, v.evidence.required_confirmations) == (2, 6)
    assert v.evidence.block == v.evidence.tip - 1

    ltc.mine(4)
    v = await run(ltc, txid, deposit)
    assert v.code == "needs_manual_credit" and v.evidence.confirmations == 6
    n = ltc.vout_index(txid, deposit)
    assert v.evidence.index == n
    ledger = [{"txid": txid, "network": "litecoin", "asset": "LTC", "amount": "1.25", "output_index": n, "status": "credited"}]
    v = await run(ltc, txid, deposit, ledger)
    assert v.code == "credited"


async def test_wrong_address(ltc):
    txid = ltc.send(ltc.new_address(), "0.5")
    ltc.mine(6)
    v = await run(ltc, txid, ltc.new_address())
    assert v.code == "wrong_address"


async def test_below_minimum(ltc):
    deposit = ltc.new_address()
    txid = ltc.send(deposit, "0.0005")
    ltc.mine(6)
    v = await run(ltc, txid, deposit)
    assert v.code == "below_minimum" and v.evidence.amount == "0.0005" and v.evidence.min_deposit == "0.001"


async def test_not_found(ltc):
    v = await run(ltc, "ab" * 32, ltc.new_address())
    assert v.code == "not_found" and v.probes == {"litecoin": "not_found"}


async def test_wrong_credentials_is_one_clear_error(ltc):
    from agent_tui.chains import EndpointError
    bad = ltc.url.replace("u:p@", "u:wrong@")
    with pytest.raises(EndpointError) as ei:
        await lookup("ab" * 32, network="litecoin", asset_config=CFG, endpoints={"litecoin": "bitcoin_rpc+" + bad})
    assert "401" in str(ei.value) and "wrong" not in str(ei.value)
