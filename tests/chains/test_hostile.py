"""Hostile endpoints and input: each gives one clear ChainError, never a crash or a hang."""

import time

import pytest

from agent_tui.chains import ChainError, EndpointError, InvalidInput, default_asset_config, lookup
from agent_tui.chains.transport import Limits

CFG = default_asset_config()
ETH_TX = "0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739"
BTC_TX = "20b984492b5264162a4c92c9a34bc7fa08b67d669de7b4c5982ad3cb28aaecf6"
TRON_TX = "0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99"
XRP_TX = "7C031FD5B710E3C048EEF31254089BEEC505900BCC9A842257A0319453333998"

FAST = Limits(timeout=0.5, connect_timeout=0.5, max_bytes=256 * 1024, retries_429=2, max_retry_wait=1.0)


def eps(server, behaviour, network, path):
    return {network: f"{server.url}/{behaviour}{path}" if behaviour else f"{server.url}{path}"}


CASES = [("ethereum", ETH_TX, "/evm/1"), ("bitcoin", BTC_TX, "/esplora/bitcoin"), ("tron", TRON_TX, "/tron"), ("xrp", XRP_TX, "/xrp")]


@pytest.mark.parametrize("behaviour", ["hang", "huge", "hugecl", "notjson", "deep", "odd", "oddtypes", "429long"])
@pytest.mark.parametrize("network,txid,path", CASES, ids=[c[0] for c in CASES])
async def test_hostile_endpoint_gives_one_clear_error(fixture_server, behaviour, network, txid, path):
    t0 = time.monotonic()
    with pytest.raises(ChainError) as ei:
        await lookup(txid, network=network, asset_config=CFG, endpoints=eps(fixture_server, behaviour, network, path), limits=FAST)
    assert time.monotonic() - t0 < 3.0
    msg = str(ei.value)
    assert "\n" not in msg and 0 < len(msg) <= 300 and "Traceback" not in msg
    assert network in msg


@pytest.mark.parametrize("network,txid,path", CASES, ids=[c[0] for c in CASES])
async def test_429_with_short_retry_after_is_retried(fixture_server, network, txid, path):
    v = await lookup(txid, network=network, asset_config=CFG, endpoints={network: f"{fixture_server.url}/429x1{path}"}, limits=FAST)
    assert v.code != "not_found"


async def test_unreachable_endpoint(fixture_server):
    from .conftest import free_port
    with pytest.raises(EndpointError, match="cannot connect"):
        await lookup(ETH_TX, network="ethereum", asset_config=CFG, endpoints={"ethereum": f"http://127.0.0.1:{free_port()}"}, limits=FAST)


async def test_credentials_never_shown(fixture_server):
    from .conftest import free_port
    with pytest.raises(EndpointError) as ei:
        await lookup(BTC_TX, network="bitcoin", asset_config=CFG,
                     endpoints={"bitcoin": f"bitcoin_rpc+http://user:s3cret@127.0.0.1:{free_port()}/?apikey=k"}, limits=FAST)
    assert "s3cret" not in str(ei.value) and "apikey" not in str(ei.value)


@pytest.mark.parametrize("txid", ["", "   ", "0x123", "zz" * 32, "0x" + "g" * 64, "a" * 10_000, "\x00" * 64, "0x" + "ab" * 32 + "\n; rm -rf /",
                                  "[bold red]hi[/]", "١٢٣" * 22])
async def test_malformed_txid(fixture_server, txid):
    with pytest.raises(InvalidInput):
        await lookup(txid, asset_config=CFG, endpoints=fixture_server.endpoints())


async def test_malformed_address_and_network(fixture_server):
    with pytest.raises(InvalidInput, match="address"):
        await lookup(ETH_TX, address="0xnothex", asset_config=CFG, endpoints=fixture_server.endpoints())
    with pytest.raises(InvalidInput, match="checksum"):
        await lookup(ETH_TX, address="0x2Ae6d1401af58f9fbe2eda032b8494d519af5813", asset_config=CFG, endpoints=fixture_server.endpoints())
    with pytest.raises(InvalidInput, match="unknown network"):
        await lookup(ETH_TX, network="moonchain", asset_config=CFG, endpoints=fixture_server.endpoints())
    with pytest.raises(InvalidInput, match="AGENT_TUI_RPC_POLYGON"):
        await lookup(ETH_TX, network="polygon", asset_config=CFG, endpoints=fixture_server.endpoints())


async def test_partial_outage_still_answers_when_the_claimed_network_does(fixture_server):
    e = fixture_server.endpoints()
    e["bsc"] = f"{fixture_server.url}/hang/evm/56"
    v = await lookup(ETH_TX, network="ethereum", address="0x2ae6d1401af58f9fbe2eda032b8494d519af5813", asset_config=CFG, endpoints=e, limits=FAST)
    assert v.code == "check_ledger" and v.probes["bsc"].startswith("error:")


# Chain data is hostile input too: a source that answers the real shape with an invalid field (a
# recipient that is no address, a negative amount or height, a block hash that is not hex) gives one
# clear error saying the chain source answered something invalid, never a verdict judged on it.
BTC_PAYEE = "bc1q3fwytn8u98fqn9qdj3f9utkmwap6rtv2ym33zm"
CORRUPT_CASES = [
    ("recipient", "bitcoin", BTC_TX, "/esplora/bitcoin"),
    ("amount", "bitcoin", BTC_TX, "/esplora/bitcoin"),
    ("height", "bitcoin", BTC_TX, "/esplora/bitcoin"),
    ("hash", "bitcoin", BTC_TX, "/esplora/bitcoin"),
    ("recipient", "xrp", XRP_TX, "/xrp"),
]


@pytest.mark.parametrize("what,network,txid,path", CORRUPT_CASES, ids=[f"{c[1]}-{c[0]}" for c in CORRUPT_CASES])
@pytest.mark.parametrize("claimed", [True, False], ids=["claimed", "unclaimed"])
async def test_invalid_chain_data_is_an_error_not_a_verdict(fixture_server, what, network, txid, path, claimed):
    from agent_tui.chains.errors import InvalidChainData

    e = fixture_server.endpoints()
    e[network] = f"{fixture_server.url}/corrupt-{what}{path}"
    with pytest.raises(InvalidChainData) as ei:
        await lookup(txid, network=network if claimed else None, asset_config=CFG, endpoints=e, limits=FAST)
    msg = str(ei.value)
    assert "\n" not in msg and len(msg) <= 300 and network in msg and "invalid" in msg
    assert "phish" not in msg and "AAAAAAAAAA" not in msg and "<" not in msg


async def test_a_valid_answer_of_the_same_source_still_gives_its_verdict(fixture_server):
    v = await lookup(BTC_TX, network="bitcoin", asset_config=CFG, endpoints=fixture_server.endpoints(), limits=FAST)
    assert v.code != "not_found" and all(len(t["recipient"]) < 100 for t in v.transfers)
