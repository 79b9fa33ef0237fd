"""Endpoint config, the SQLite result cache and the headless CLI (click CliRunner)."""

import json

import pytest
from click.testing import CliRunner

from agent_tui.chains import ChainError, default_asset_config, load_endpoints, lookup
from agent_tui.chains.config import Endpoint, networks_from
from agent_tui.cli.lookup import make_lookup_command
from storage.lookups import LookupCache

ETH_TX = "0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739"
CUST_ADDR = "0x2ae6d1401af58f9fbe2eda032b8494d519af5813"


def test_endpoints_from_dict_file_and_env(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"endpoints": {"ethereum": "https://eth.example", "litecoin": {"url": "http://u:p@h:1/", "kind": "bitcoin_rpc"}}}))
    eps = load_endpoints(str(f), env={"AGENT_TUI_RPC_ETHEREUM": "https://override.example", "AGENT_TUI_RPC_BSC": "esplora+http://x", "OTHER": "1"})
    assert eps["ethereum"] == Endpoint("https://override.example")
    assert eps["litecoin"] == Endpoint("http://u:p@h:1/", "bitcoin_rpc")
    assert eps["bsc"].kind == "esplora"
    with pytest.raises(ChainError):
        load_endpoints({"ethereum": "ftp://nope"}, env={})
    with pytest.raises(ChainError):
        load_endpoints(str(tmp_path / "missing.json"), env={})


def test_asset_config_networks():
    nets = networks_from(default_asset_config())
    assert nets["ethereum"].chain_id == 1 and nets["bsc"].chain_id == 56 and nets["xrp"].kind == "xrpl"
    assert {"polygon", "arbitrum", "base"} <= set(nets)
    nets = networks_from({"networks": [{"network": "sepolia", "kind": "evm", "chain_id": 11155111, "native_asset": "ETH", "decimals": 18}]})
    assert nets["sepolia"].family == "evm" and nets["sepolia"].chain_id == 11155111


async def test_cache_final_kept_pending_expires(fixture_server, sqlite_engine):
    now = [1000.0]
    cache = LookupCache(sqlite_engine, pending_ttl=60, clock=lambda: now[0])
    cfg, eps = default_asset_config(), fixture_server.endpoints()
    v1 = await lookup(ETH_TX, network="ethereum", address=CUST_ADDR, asset_config=cfg, endpoints=eps, cache=cache)
    assert v1.final
    hits = fixture_server.httpd.hits
    now[0] += 10 * 365 * 86400
    v2 = await lookup(ETH_TX, network="ethereum", address=CUST_ADDR, asset_config=cfg, endpoints=eps, cache=cache)
    assert v2.to_dict() == v1.to_dict() and fixture_server.httpd.hits == hits  # served from SQLite, no request
    # a non-final verdict is kept briefly only
    from .fixture_server import data
    pending = next(t for t, tx in data().esplora.items() if not tx["status"]["confirmed"])
    p1 = await lookup(pending, network="bitcoin", asset_config=cfg, endpoints=eps, cache=cache)
    assert not p1.final and p1.evidence.status == "pending", (p1.code, p1.final)  # what the TTL below is about
    hits = fixture_server.httpd.hits
    await lookup(pending, network="bitcoin", asset_config=cfg, endpoints=eps, cache=cache)
    assert fixture_server.httpd.hits == hits
    now[0] += 61
    await lookup(pending, network="bitcoin", asset_config=cfg, endpoints=eps, cache=cache)
    assert fixture_server.httpd.hits > hits
    # a different customer context is a different key
    hits = fixture_server.httpd.hits
    await lookup(ETH_TX, network="ethereum", address=CUST_ADDR, memo="x", asset_config=cfg, endpoints=eps, cache=cache)
    assert fixture_server.httpd.hits > hits


async def test_the_claimed_network_is_normalised_once(fixture_server):
    cfg, eps = default_asset_config(), fixture_server.endpoints()
    plain = await lookup(ETH_TX, network="ethereum", asset_config=cfg, endpoints=eps)
    padded = await lookup(ETH_TX, network="  Ethereum ", asset_config=cfg, endpoints=eps)
    assert padded.to_dict() == plain.to_dict() and padded.claimed_network == "ethereum" and padded.code != "wrong_network"


def runner_env(server):
    return {f"AGENT_TUI_RPC_{k.upper()}": (v if isinstance(v, str) else f"{v['kind']}+{v['url']}") for k, v in server.endpoints().items()}


def test_cli_text_and_json(fixture_server):
    cmd = make_lookup_command()
    r = CliRunner().invoke(cmd, [ETH_TX, "--network", "ethereum", "--address", CUST_ADDR], env=runner_env(fixture_server))
    assert r.exit_code == 0, r.output
    assert "verdict: check_ledger" in r.output and "macro" in r.output  # --address alone: no ledger consulted
    assert "ledger         NOT checked" in r.output and "recoverable    no" in r.output
    r = CliRunner().invoke(cmd, [ETH_TX, "--network", "ethereum", "--address", CUST_ADDR, "--json"], env=runner_env(fixture_server))
    d = json.loads(r.output)
    assert d["code"] == "check_ledger" and d["macro"] == "deposit_check_ledger" and d["schema_version"] == 1
    assert d["ledger_checked"] is False and d["recoverable"] is False
    assert d["evidence"]["amount"] == "1000" and d["evidence"]["asset"] == "USDT"


def test_cli_errors_are_one_line_no_traceback(fixture_server):
    cmd = make_lookup_command()
    r = CliRunner().invoke(cmd, ["not-a-txid"], env=runner_env(fixture_server))
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "Traceback" not in r.output and r.output.startswith("error:")
    from .conftest import free_port
    r = CliRunner().invoke(cmd, [ETH_TX, "--network", "ethereum"], env={"AGENT_TUI_RPC_ETHEREUM": f"http://127.0.0.1:{free_port()}"})
    assert r.exit_code == 1 and "cannot connect" in r.output and r.output.count("\n") == 1
    r = CliRunner().invoke(cmd, [ETH_TX, "--customer", "42"], env=runner_env(fixture_server))
    assert r.exit_code == 1 and "customer look-up needs a backend; use --address" in r.output


def test_cli_customer_hook(fixture_server):
    ledger = [{"txid": ETH_TX, "network": "ethereum", "asset": "USDT", "amount": "1000", "output_index": 0x49, "status": "credited"}]  # the log index
    seen = []

    def loader(cid):
        seen.append(cid)
        return {"addresses": [{"network": "ethereum", "asset": "USDT", "address": CUST_ADDR, "memo": None}], "ledger": ledger}

    r = CliRunner().invoke(make_lookup_command(customer_loader=loader), [ETH_TX, "--customer", "42", "--json"], env=runner_env(fixture_server))
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["code"] == "credited" and seen == ["42"]


def test_expired_pending_verdicts_are_purged_so_the_table_stays_bounded(sqlite_engine):
    from agent_tui.chains import Verdict

    now = [1000.0]
    cache = LookupCache(sqlite_engine, pending_ttl=60, clock=lambda: now[0])

    def verdict(txid: str, final: bool) -> Verdict:
        return Verdict.from_dict({"code": "pending" if not final else "credited", "explanation": "", "evidence": {},
                                  "recoverable": False, "recoverable_note": "", "macro": "", "txid": txid, "final": final})

    for i in range(50):
        cache.put(f"p{i}|bitcoin|x", verdict(f"p{i}", False))
    cache.put("f|bitcoin|x", verdict("f", True))
    now[0] += 61
    cache.put("new|bitcoin|x", verdict("new", False))  # the next write purges what expired
    with sqlite_engine.connect() as conn:
        keys = {r[0] for r in conn.exec_driver_sql("SELECT key FROM lookup_results")}
    assert keys == {"f|bitcoin|x", "new|bitcoin|x"}
