"""Providers against the real mainnet fixtures served by a local server that behaves like the real APIs."""

import pytest

from agent_tui.chains import ChainError, default_asset_config, lookup
from agent_tui.chains.addresses import parse_txid
from agent_tui.chains.config import Endpoint, default_networks
from agent_tui.chains.providers import probe
from agent_tui.chains.transport import Http, Limits

from .fixture_server import XRP_TIP

NETS = default_networks()


async def fetch(server, network, txid, path=None):
    ep = server.endpoints()[network]
    ep = Endpoint(ep["url"], ep["kind"]) if isinstance(ep, dict) else Endpoint(path or ep)
    async with Http(Limits(timeout=5)) as http:
        return await probe(http, NETS[network], ep, parse_txid(txid))


# --- EVM ---


async def test_evm_usdt_receipt(fixture_server):
    f = await fetch(fixture_server, "ethereum", "0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739")
    assert f.found and f.status == "confirmed" and f.block == 0x7D7DA1 and f.chain_id == 1
    assert f.confirmations == 0x900000 - 0x7D7DA1 + 1
    (t,) = f.transfers
    assert t.contract == "0xdac17f958d2ee523a2206206994597c13d831ec7" and t.raw_amount == "1000000000"
    assert t.recipient.startswith("0x2ae6d140")


async def test_evm_failed_status_0x0(fixture_server):
    f = await fetch(fixture_server, "ethereum", "0x1a7d89fcbba627f9c82ac8edcf93180c84a5ae754418589787a703ad4a974870")
    assert f.status == "failed" and "0x0" in f.failure_reason


async def test_evm_multi_log(fixture_server):
    f = await fetch(fixture_server, "ethereum", "0x1225049616c8dd5f88b6f68020a1572bba3e3e72f872d5e838a47919b98339bd")
    assert f.status == "confirmed" and len(f.transfers) >= 2
    assert len({t.index for t in f.transfers}) == len(f.transfers)


async def test_evm_pre_byzantium_status_null_is_not_failure(fixture_server):
    f = await fetch(fixture_server, "ethereum", "0xcea6f89720cc1d2f46cc7a935463ae0b99dd5fad9c91bb7357de5421511cee49")
    assert f.status == "confirmed" and f.failure_reason is None
    assert f.transfers[0].recipient == "0x66f183060253cfbe45beff1e6e7ebbe318c81e56" and f.transfers[0].raw_amount == "200000"


async def test_evm_plain_eth_transfer(fixture_server):
    f = await fetch(fixture_server, "ethereum", "0x05287a561f218418892ab053adfb3d919860988b19458c570c5c30f51c146f02")
    (t,) = f.transfers
    assert t.kind == "native" and t.asset == "ETH" and t.amount == "1.53021962"


async def test_evm_unknown_and_wrong_chain(fixture_server):
    f = await fetch(fixture_server, "ethereum", "0x" + "11" * 32)
    assert not f.found
    with pytest.raises(ChainError, match="chain id 1, expected 56"):
        await fetch(fixture_server, "bsc", "0x" + "11" * 32, path=fixture_server.url + "/evm/1")


# --- Esplora ---


async def test_esplora_confirmed_and_unconfirmed(fixture_server):
    f = await fetch(fixture_server, "bitcoin", "20b984492b5264162a4c92c9a34bc7fa08b67d669de7b4c5982ad3cb28aaecf6")
    assert f.status == "confirmed" and f.block == 848136 and f.confirmations == 850005 - 848136 + 1
    assert [t.index for t in f.transfers] == [1, 2]  # the OP_RETURN output pays nobody
    assert f.transfers[1].amount == "0.00023073"
    from .fixture_server import data

    unconfirmed = next(t for t, tx in data().esplora.items() if not tx["status"]["confirmed"])
    u = await fetch(fixture_server, "bitcoin", unconfirmed)
    assert u.found and u.status == "pending" and u.block is None and u.confirmations is None and not u.final
    assert u.transfers  # the outputs are read before it confirms, so a wrong address shows at once


async def test_esplora_not_found_is_404_not_status(fixture_server):
    f = await fetch(fixture_server, "bitcoin", "ff" * 32)
    assert f.found is False


async def test_esplora_unconfirmed_from_mempool_fixture(fixture_server):
    from .fixture_server import data
    unconfirmed = [t for t, tx in data().esplora.items() if not tx["status"]["confirmed"]]
    f = await fetch(fixture_server, "bitcoin", unconfirmed[0])
    assert f.found and f.status == "pending" and f.confirmations is None


# --- Tron ---


async def test_tron_trc20_success(fixture_server):
    f = await fetch(fixture_server, "tron", "0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99")
    assert f.status == "confirmed" and f.block == 69316562
    assert f.final  # at or below the solidified block
    (t,) = f.transfers
    assert t.contract == "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t" and t.recipient == "TXVj38D1XR3TPgSHTCZGC8wkLDAGqF1oqx"
    assert t.raw_amount == str(0x027BF24D)


async def test_tron_finality_without_a_solidity_node_falls_back_to_depth(fixture_server):
    from agent_tui.chains.config import NetworkDef

    tx = "0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99"  # 113 blocks deep
    async with Http(Limits(timeout=5)) as http:
        f = await probe(http, NETS["tron"], Endpoint(fixture_server.url + "/tron-no-solidity"), parse_txid(tx))
        assert (f.confirmations, f.final) == (113, True)  # >= 20
        deeper = NetworkDef(**{**NETS["tron"].__dict__, "final_depth": 200})
        f = await probe(http, deeper, Endpoint(fixture_server.url + "/tron-no-solidity"), parse_txid(tx))
        assert (f.confirmations, f.final) == (113, False)
        f = await probe(http, deeper, Endpoint(fixture_server.url + "/tron"), parse_txid(tx))
        assert f.final  # below the solidified block, whatever the depth setting


async def test_tron_out_of_energy(fixture_server):
    f = await fetch(fixture_server, "tron", "13df06d50a1ff1f4a164e25afc946dd7b05df044894b1073b1e92eef41d8a98a")
    assert f.status == "failed" and f.failure_reason.startswith("OUT_OF_ENERGY") and "Not enough energy" in f.failure_reason


async def test_tron_unknown_is_empty_object(fixture_server):
    assert (await fetch(fixture_server, "tron", "ab" * 32)).found is False


# --- XRP ---


async def test_xrp_partial_payment_uses_delivered_amount(fixture_server):
    f = await fetch(fixture_server, "xrp", "A0A074D10355223CBE2520A42F93A52E3CC8B4D692570EB4841084F9BBB39F7A")
    (t,) = f.transfers
    assert t.amount == "1" and t.asset == "XRP"  # delivered_amount 1000000 drops, not DeliverMax 2000000


async def test_xrp_partial_payment_iou(fixture_server):
    f = await fetch(fixture_server, "xrp", "A0A074D10355223CBE2520A42F93A52E3CC8B4D692570EB4841084F9BBB39F7A", path=fixture_server.url + "/xrp/iou")
    (t,) = f.transfers
    assert t.amount == "9.980039920159681" and t.contract == "USD.rvYAfWj5gh67oV6fW32ZzP3Aw4Eubs59B"


async def test_xrp_v1_layout_with_tag(fixture_server):
    f = await fetch(fixture_server, "xrp", "7C031FD5B710E3C048EEF31254089BEEC505900BCC9A842257A0319453333998")
    assert f.final and f.status == "confirmed" and f.block == 57112010
    assert (f.tip, f.confirmations) == (XRP_TIP, XRP_TIP - 57112010 + 1)  # from the latest validated ledger
    (t,) = f.transfers
    assert t.memo == "1" and t.recipient == "rLNaPoKeeBjZe2qs6x52yVPZpZ8td4dc6w" and t.amount == "499.500387"


async def test_xrp_server_without_the_ledger_method_still_gives_validated_facts(fixture_server):
    f = await fetch(fixture_server, "xrp", "7C031FD5B710E3C048EEF31254089BEEC505900BCC9A842257A0319453333998", path=fixture_server.url + "/xrp/no-ledger")
    assert f.final and f.status == "confirmed" and (f.tip, f.confirmations) == (None, 1)
    v = await lookup("7C031FD5B710E3C048EEF31254089BEEC505900BCC9A842257A0319453333998", address="rLNaPoKeeBjZe2qs6x52yVPZpZ8td4dc6w",
                     memo="1", asset_config=CFG, endpoints={"xrp": fixture_server.url + "/xrp/no-ledger"})
    assert v.code == "check_ledger" and not v.ledger_checked


async def test_xrp_v2_non_payment_and_not_found(fixture_server):
    from .fixture_server import data
    offer = next(h for h, r in data().xrp.items() if r.get("tx_json", {}).get("TransactionType") == "OfferCreate")
    f = await fetch(fixture_server, "xrp", offer)
    assert f.found and f.transfers == []
    assert (await fetch(fixture_server, "xrp", "E08D6E9754025BA2534A78707605E0601F03ACE063687A0CA1BDDACFCD1698C7")).found is False


# --- whole look-ups over the fixtures ---

CFG = default_asset_config()


# no customer context and not signed in: a valid deposit is check_ledger (the ledger was not consulted)
FIXTURE_CASES = [
    ("0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739", dict(network="ethereum", address="0x2ae6d1401af58f9fbe2eda032b8494d519af5813"), "check_ledger"),
    ("0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739", dict(network="ethereum", address="0x66f183060253cfbe45beff1e6e7ebbe318c81e56"), "wrong_address"),
    ("0x1a7d89fcbba627f9c82ac8edcf93180c84a5ae754418589787a703ad4a974870", dict(), "failed"),
    ("0xcea6f89720cc1d2f46cc7a935463ae0b99dd5fad9c91bb7357de5421511cee49", dict(address="0x66f183060253cfbe45beff1e6e7ebbe318c81e56"), "unsupported_token"),
    ("20b984492b5264162a4c92c9a34bc7fa08b67d669de7b4c5982ad3cb28aaecf6", dict(address="bc1qnzw0zfm5l3c9vztpp3aegx0j68zgqajyffr2r6"), "check_ledger"),
    ("0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99", dict(address="TXVj38D1XR3TPgSHTCZGC8wkLDAGqF1oqx"), "check_ledger"),
    ("13df06d50a1ff1f4a164e25afc946dd7b05df044894b1073b1e92eef41d8a98a", dict(network="tron"), "failed"),
    ("7C031FD5B710E3C048EEF31254089BEEC505900BCC9A842257A0319453333998", dict(address="rLNaPoKeeBjZe2qs6x52yVPZpZ8td4dc6w", memo="1"), "check_ledger"),
    ("7C031FD5B710E3C048EEF31254089BEEC505900BCC9A842257A0319453333998", dict(address="rLNaPoKeeBjZe2qs6x52yVPZpZ8td4dc6w", memo="2"), "wrong_memo"),
    ("D" + "0" * 63, dict(address="rLNaPoKeeBjZe2qs6x52yVPZpZ8td4dc6w"), "not_found"),
    # sent on bitcoin, customer claims litecoin: wrong network (found in the fallback round)
    ("20b984492b5264162a4c92c9a34bc7fa08b67d669de7b4c5982ad3cb28aaecf6", dict(network="litecoin"), "wrong_network"),
]


@pytest.mark.parametrize("txid,kw,code", FIXTURE_CASES)
async def test_lookup_over_fixtures(fixture_server, txid, kw, code):
    v = await lookup(txid, asset_config=CFG, endpoints=fixture_server.endpoints(), **kw)
    assert v.code == code, v.explanation


@pytest.mark.parametrize("txid,kw,code", FIXTURE_CASES)
def test_agent_tui_lookup_json_over_fixtures(fixture_server, tmp_path, txid, kw, code):
    """The same cases through the real command, as a specialist runs it: `agent-tui lookup ... --json`."""
    import json

    from click.testing import CliRunner

    from agent_tui.cli import main

    env = {f"AGENT_TUI_RPC_{k.upper()}": (v if isinstance(v, str) else f"{v['kind']}+{v['url']}")
           for k, v in fixture_server.endpoints().items()}
    env.update(AGENT_TUI_CACHE=str(tmp_path / "cache.db"), AGENT_TUI_CONFIG_DIR=str(tmp_path / "cfg"))
    args = ["lookup", txid, "--json"] + [x for k, v in kw.items() for x in (f"--{k}", v)]
    r = CliRunner().invoke(main, args, env=env)
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["code"] == code and out["macro"] == f"deposit_{code}"


async def test_xrp_payment_without_tag_is_missing_memo(fixture_server):
    from .fixture_server import data
    no_tag = [h for h, r in data().xrp.items() if r.get("TransactionType") == "Payment" and "DestinationTag" not in r]
    if not no_tag:
        pytest.skip("fixture has no untagged v1 payment")
    r = data().xrp[no_tag[0]]
    v = await lookup(no_tag[0], network="xrp", address=r["Destination"], memo="5", asset_config=CFG, endpoints=fixture_server.endpoints())
    assert v.code == "missing_memo"


@pytest.mark.parametrize("network,txid,block", [
    ("bitcoin", "20b984492b5264162a4c92c9a34bc7fa08b67d669de7b4c5982ad3cb28aaecf6", 848136),
    ("ethereum", "0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739", 0x7D7DA1),
])
async def test_a_tip_read_just_before_the_transactions_block_arrived_is_no_tip(network, txid, block):
    """Tx and tip are asked in parallel; when the block with the tx arrives between the two answers the tip
    is one below the tx's block. The tx is in that block: the chain is at least that high, 1 confirmation,
    not 0 and a tip under the block."""
    from .fixture_server import FixtureServer

    with FixtureServer(esplora_tip=block - 1, evm_tip=block - 1) as server:
        f = await fetch(server, network, txid)
    assert f.block == block and f.tip == block and f.confirmations == 1
