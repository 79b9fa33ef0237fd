"""EVM provider and look-up against anvil, a real EVM node (chain id 1, and chain id 56 for wrong-network).

A tiny Transfer-emitting token is put at the real USDT address with anvil_setCode (as in
shared/fixtures/chains/synthetic_local_anvil/make_anvil_usdt_scenarios.py); dev accounts are unlocked, so
plain JSON-RPC eth_sendTransaction does the sending.
"""


import httpx
import pytest

from agent_tui.chains import default_asset_config, lookup

pytestmark = pytest.mark.chain

USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
BSC_USDT = "0x55d398326f99059ff775485246999027b3197955"
FAKE = "0x9999999999999999999999999999999999999999"
TOPIC = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
# calldataload(0x24) (the amount); revert if 0, else LOG3(Transfer, caller, to) and return true
TOKEN_CODE = "0x6024358015603f57600052600435337f" + TOPIC + "60206000a36001600052602060" + "00f35b600080fd"
CUSTOMER = "0x2ae6d1401af58f9fbe2eda032b8494d519af5813"
STRANGER = "0x1234567890123456789012345678901234567890"
CFG = default_asset_config()


def rpc(url, method, *params):
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=10, trust_env=False)
    body = r.json()
    assert "error" not in body, body
    return body["result"]


class Chain:
    def __init__(self, url, token_addresses):
        self.url = url
        for a in token_addresses:
            rpc(url, "anvil_setCode", a, TOKEN_CODE)
        self.sender = rpc(url, "eth_accounts")[0]

    def transfer(self, token, to, amount, gas=None):
        data = "0xa9059cbb" + to[2:].rjust(64, "0") + format(amount, "x").rjust(64, "0")
        tx = {"from": self.sender, "to": token, "data": data}
        if gas:
            tx["gas"] = gas
        return rpc(self.url, "eth_sendTransaction", tx)

    def send_native(self, to, wei):
        return rpc(self.url, "eth_sendTransaction", {"from": self.sender, "to": to, "value": hex(wei)})

    def mine(self, n):
        rpc(self.url, "anvil_mine", hex(n))


@pytest.fixture(scope="module")
def eth(anvil_eth):
    return Chain(anvil_eth, [USDT, FAKE])


@pytest.fixture(scope="module")
def bsc(anvil_bsc):
    return Chain(anvil_bsc, [BSC_USDT])


def customer(ledger=()):
    return {"addresses": [{"network": "ethereum", "asset": "USDT", "address": CUSTOMER, "memo": None}], "ledger": list(ledger)}


async def find(txid, chain_urls, **kw):
    kw.setdefault("customer", customer())
    return await lookup(txid, asset_config=CFG, endpoints=chain_urls, **kw)


@pytest.fixture
def endpoints(eth):
    return {"ethereum": eth.url}


async def test_credited_erc20_deposit(eth, endpoints):
    h = eth.transfer(USDT, CUSTOMER, 1000_000000)
    eth.mine(12)
    v = await find(h, endpoints, network="ethereum")
    assert v.code == "needs_manual_credit", v.explanation
    e = v.evidence
    assert (e.asset, e.amount, e.recipient, e.contract, e.required_confirmations) == ("USDT", "1000", CUSTOMER, USDT, 12)
    assert e.confirmations == 13 and e.index == 0
    ledger = [{"txid": h, "network": "ethereum", "asset": "USDT", "amount": "1000", "output_index": 0, "status": "credited"}]
    v = await find(h, endpoints, network="ethereum", customer=customer(ledger))
    assert v.code == "credited" and v.macro == "deposit_credited"


async def test_native_eth_deposit(eth, endpoints):
    h = eth.send_native(CUSTOMER, 2 * 10**18)
    eth.mine(12)
    v = await find(h, endpoints)
    assert v.code == "needs_manual_credit" and v.evidence.asset == "ETH" and v.evidence.amount == "2"


async def test_reverted_transfer(eth, endpoints):
    h = eth.transfer(USDT, CUSTOMER, 0, gas="0x30000")
    v = await find(h, endpoints, network="ethereum")
    assert v.code == "failed" and "0x0" in v.evidence.failure_reason
    assert v.evidence.recipient == CUSTOMER  # the intended transfer, from calldata


async def test_pending(eth, endpoints):
    rpc(eth.url, "evm_setAutomine", False)
    try:
        h = eth.transfer(USDT, CUSTOMER, 50_000000)
        v = await find(h, endpoints, network="ethereum")
        assert v.code == "pending", v.explanation
        assert v.evidence.block is None and v.evidence.amount == "50"
        assert not v.final
    finally:
        rpc(eth.url, "evm_setAutomine", True)
        eth.mine(1)


async def test_too_few_confirmations(eth, endpoints):
    h = eth.transfer(USDT, CUSTOMER, 500_000000)
    eth.mine(2)
    v = await find(h, endpoints, network="ethereum")
    assert v.code == "insufficient_confirmations"
    assert (v.evidence.confirmations, v.evidence.required_confirmations) == (3, 12)


async def test_wrong_recipient(eth, endpoints):
    h = eth.transfer(USDT, STRANGER, 1000_000000)
    eth.mine(12)
    v = await find(h, endpoints, network="ethereum")
    assert v.code == "wrong_address" and v.evidence.recipient == STRANGER


async def test_unlisted_token(eth, endpoints):
    h = eth.transfer(FAKE, CUSTOMER, 1000_000000)
    eth.mine(12)
    v = await find(h, endpoints, network="ethereum")
    assert v.code == "unsupported_token" and v.evidence.contract == FAKE


async def test_wrong_network(eth, bsc):
    h = bsc.transfer(BSC_USDT, CUSTOMER, 1000 * 10**18)
    bsc.mine(20)
    v = await find(h, {"ethereum": eth.url, "bsc": bsc.url}, network="ethereum")
    assert v.code == "wrong_network" and v.network == "bsc" and v.evidence.chain_id == 56
    assert v.probes == {"ethereum": "not_found", "bsc": "found"}


async def test_not_found(eth, bsc):
    v = await find("0x" + "42" * 32, {"ethereum": eth.url, "bsc": bsc.url}, network="ethereum")
    assert v.code == "not_found" and v.macro == "deposit_not_found"


async def test_a_transaction_replaced_with_the_same_nonce_is_dropped_not_pending(eth):
    """A USDT deposit sent with a low fee, then replaced by the sender (same nonce, higher fee) with a
    payment elsewhere: the deposit has no receipt and its nonce is used by a mined transaction. It will
    never arrive, so it is not pending, even from a provider that still returns it."""
    from .rpc_proxy import RememberingEvmProxy

    nonce = rpc(eth.url, "eth_getTransactionCount", eth.sender, "pending")
    data = "0xa9059cbb" + CUSTOMER[2:].rjust(64, "0") + format(70_000000, "x").rjust(64, "0")
    rpc(eth.url, "evm_setAutomine", False)
    try:
        with RememberingEvmProxy(eth.url) as proxy:
            h = rpc(eth.url, "eth_sendTransaction", {"from": eth.sender, "to": USDT, "data": data, "nonce": nonce, "gasPrice": hex(2 * 10**9)})
            v = await find(h, {"ethereum": proxy.url}, network="ethereum")
            assert v.code == "pending" and v.evidence.amount == "70"  # still waiting: it may yet be mined
            rpc(eth.url, "eth_sendTransaction", {"from": eth.sender, "to": STRANGER, "value": "0x1", "nonce": nonce, "gasPrice": hex(9 * 10**9)})
            eth.mine(1)
            v = await find(h, {"ethereum": proxy.url}, network="ethereum")
            assert v.code == "dropped", v.explanation
            assert v.recoverable is False and v.evidence.status == "dropped" and v.evidence.recipient == CUSTOMER
            v = await find(h, {"ethereum": eth.url}, network="ethereum")  # the node itself forgot it
            assert v.code == "not_found"
    finally:
        rpc(eth.url, "evm_setAutomine", True)
