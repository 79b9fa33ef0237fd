"""Bitcoin Core JSON-RPC provider against a real litecoind in regtest (-txindex)."""

import pytest

from agent_tui.chains import default_asset_config, lookup

pytestmark = pytest.mark.chain
CFG = default_asset_config()  # litecoin: 6 confirmations, minimum 0.001 LTC


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


def other_p2sh_form(address: str) -> str:
    """The same P2SH script in Litecoin's other base58 version (regtest: Q... <-> 2..., mainnet M... <-> 3...)."""
    import base58

    raw = base58.b58decode_check(address)
    swap = {0x3A: 0xC4, 0xC4: 0x3A, 0x32: 0x05, 0x05: 0x32}
    return base58.b58encode_check(bytes([swap[raw[0]]]) + raw[1:]).decode()


@pytest.mark.parametrize("paid_form", ["node", "other"])
async def test_old_and_new_p2sh_forms_are_one_deposit_address(ltc, paid_form):
    from .conftest import ltc_rpc

    node_form = ltc_rpc(ltc.url, "getnewaddress", "", "p2sh-segwit", wallet="w")
    other = other_p2sh_form(node_form)
    assert {node_form[0], other[0]} in ({"Q", "2"}, {"M", "3"})
    paid, registered = (node_form, other) if paid_form == "node" else (other, node_form)
    txid = ltc.send(paid, "0.75")
    ltc.mine(6)
    v = await run(ltc, txid, registered)
    assert v.code == "needs_manual_credit", v.explanation
    assert v.evidence.amount == "0.75"


async def test_a_bech32_address_registered_in_upper_case_is_the_same(ltc):
    from .conftest import ltc_rpc

    deposit = ltc_rpc(ltc.url, "getnewaddress", "", "bech32", wallet="w")
    txid = ltc.send(deposit, "0.5")
    ltc.mine(6)
    v = await run(ltc, txid, deposit.upper())
    assert v.code == "needs_manual_credit", v.explanation


async def test_wrong_address_names_the_payment_and_the_change_apart(ltc):
    """A sender whose change goes back to the address it spends from, first among the outputs (as many
    wallets do): the evidence is the payment to the stranger, and the change is not listed as a payee."""
    from .conftest import ltc_rpc

    sender, stranger = ltc.new_address(), ltc.new_address()
    fund = ltc.send(sender, "2")
    ltc.mine(1)
    n = ltc.vout_index(fund, sender)
    raw = ltc_rpc(ltc.url, "createrawtransaction", [{"txid": fund, "vout": n}], [{sender: "1.4999"}, {stranger: "0.5"}])
    signed = ltc_rpc(ltc.url, "signrawtransactionwithwallet", raw, wallet="w")
    txid = ltc_rpc(ltc.url, "sendrawtransaction", signed["hex"])
    ltc.mine(6)
    v = await run(ltc, txid, ltc.new_address())
    assert v.code == "wrong_address"
    assert (v.evidence.recipient, v.evidence.amount, v.evidence.index) == (stranger, "0.5", 1)
    assert f"pays 0.5 LTC to {stranger};" in v.explanation
    assert f"1.4999 LTC to {sender} goes back to the sender as change" in v.explanation


async def test_block_and_tip_come_from_one_moment_of_the_chain(ltc):
    """A block is mined between the node's answer about the transaction and any later call: the block
    the transaction is in is still the one the node named (its blockhash), and the confirmations agree."""
    from .conftest import ltc_rpc
    from .rpc_proxy import RpcProxy

    deposit = ltc.new_address()
    txid = ltc.send(deposit, "1.25")
    ltc.mine(2)
    height = ltc_rpc(ltc.url, "getblockheader", ltc_rpc(ltc.url, "getrawtransaction", txid, True)["blockhash"])["height"]
    with RpcProxy(ltc.url, after_getrawtransaction=lambda: ltc.mine(1), hold=("getblockcount",)) as proxy:
        customer = {"addresses": [{"network": "litecoin", "asset": "LTC", "address": deposit, "memo": None}], "ledger": []}
        v = await lookup(txid, network="litecoin", customer=customer, asset_config=CFG, endpoints={"litecoin": "bitcoin_rpc+" + proxy.url})
    assert v.evidence.block == height, proxy.calls
    assert v.evidence.confirmations == v.evidence.tip - height + 1
    assert v.evidence.confirmations in (2, 3)


def double_spend_after_reorg(ltc, deposit: str, amount: str = "1.25") -> str:
    """A deposit mined, its block invalidated (a reorganisation), and a conflicting spend of the same
    coins mined in the replacement block: the deposit is in no block of the best chain and out of the
    mempool, yet the node (-txindex) still returns it, with its stale blockhash and 0 confirmations."""
    from .conftest import ltc_rpc

    txid = ltc.send(deposit, amount)
    ltc.mine(1)
    tx = ltc_rpc(ltc.url, "getrawtransaction", txid, True)
    ltc_rpc(ltc.url, "invalidateblock", tx["blockhash"])
    inputs = [{"txid": i["txid"], "vout": i["vout"]} for i in tx["vin"]]
    value = sum(ltc_rpc(ltc.url, "getrawtransaction", i["txid"], True)["vout"][i["vout"]]["value"] for i in tx["vin"])
    raw = ltc_rpc(ltc.url, "createrawtransaction", inputs, [{ltc.new_address(): f"{value - 0.001:.8f}"}])
    conflict = ltc_rpc(ltc.url, "signrawtransactionwithwallet", raw, wallet="w")["hex"]
    ltc_rpc(ltc.url, "generateblock", ltc.miner, [conflict])
    ltc.mine(1)
    return txid


async def test_a_reorganised_double_spent_deposit_is_dropped_not_pending(ltc):
    from .conftest import ltc_rpc

    deposit = ltc.new_address()
    txid = double_spend_after_reorg(ltc, deposit)
    raw = ltc_rpc(ltc.url, "getrawtransaction", txid, True)
    assert raw.get("blockhash") and not raw.get("confirmations")  # what the node still says about it
    assert txid not in ltc_rpc(ltc.url, "getrawmempool")
    v = await run(ltc, txid, deposit)
    assert v.code == "dropped", v.explanation
    assert v.recoverable is False and v.evidence.status == "dropped" and v.evidence.block is None
    assert "will not arrive" in v.explanation


async def test_a_reorganised_deposit_back_in_the_mempool_is_pending(ltc):
    from .conftest import ltc_rpc

    deposit = ltc.new_address()
    txid = ltc.send(deposit, "1.25")
    ltc.mine(1)
    ltc_rpc(ltc.url, "invalidateblock", ltc_rpc(ltc.url, "getrawtransaction", txid, True)["blockhash"])
    try:
        v = await run(ltc, txid, deposit)
        assert v.code == "pending" and v.evidence.block is None
    finally:
        # back in a block of the new best chain (to another address: the same block again would be the invalid one)
        ltc_rpc(ltc.url, "generatetoaddress", 1, ltc.new_address(), wallet="w")
