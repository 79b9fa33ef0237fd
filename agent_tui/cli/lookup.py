"""Headless deposit look-up: `agent-tui lookup TXID [--network N] [--address A] [--memo M] [--customer ID] [--json]`.

Exit 0 with a verdict; exit 1 with one line on stderr when no verdict could be reached (endpoint
unreachable, rate-limited, malformed answers), exit 2 for bad input (txid, address, network).
Endpoints: AGENT_TUI_RPC_<NETWORK> environment variables, or a JSON file named by AGENT_TUI_CHAINS_CONFIG
({"endpoints": {"ethereum": "https://...", ...}}), else the config file's [rpc] table.

`make_lookup_command` is the command alone, its sources given as hooks; `commands()` wires it to the
config (endpoints), the backend (customer, ledger) and the local cache (asset configuration, results).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Callable, Mapping, Optional

import click

from agent_tui.auth import AuthError, server_and_token
from agent_tui.chains.config import default_asset_config, load_endpoints
from agent_tui.chains.errors import ChainError, InvalidInput, clean
from agent_tui.chains.lookup import lookup
from agent_tui.cli import root
from agent_tui.errors import ConfigError
from agent_tui.textsafe import json_text

CONFIG_ENV = "AGENT_TUI_CHAINS_CONFIG"


def _no_backend(customer_id: str) -> Mapping[str, Any]:
    raise ChainError("customer look-up needs a backend; use --address")


def render_text(v) -> str:
    """Plain text (no Rich markup anywhere); every chain-derived string is already cleaned."""
    e = v.evidence
    lines = [f"verdict: {v.code}", f"  {v.explanation}"]
    def row(label, value):
        if value is not None and value != "":
            lines.append(f"  {label:<14} {clean(value, 120)}")
    row("network", e.network)
    row("block", e.block)
    if e.confirmations is not None:
        row("confirmations", f"{e.confirmations}" + (f" of {e.required_confirmations} required" if e.required_confirmations else ""))
    row("asset", e.asset)
    row("contract", e.contract)
    row("amount", e.amount)
    row("recipient", e.recipient)
    row("memo", e.memo)
    row("failure", e.failure_reason)
    lines.append(f"  {'recoverable':<14} {'yes' if v.recoverable else 'no'}: {v.recoverable_note}")
    if v.ledger_checked:
        lines.append(f"  {'ledger':<14} checked" + (f" ({clean(v.ledger_note, 200)})" if v.ledger_note else ""))
    else:
        lines.append(f"  {'ledger':<14} NOT checked" + (f" ({clean(v.ledger_note, 200)})" if v.ledger_note else "")
                     + ": check the back office before crediting anything")
    lines.append(f"  {'macro':<14} {v.macro}")
    return "\n".join(lines)


def make_lookup_command(
    customer_loader: Callable[[str], Mapping[str, Any]] = _no_backend,
    asset_config_loader: Callable[[], Mapping[str, Any]] = default_asset_config,
    endpoints_loader: Optional[Callable[[], Any]] = None,
    cache_factory: Optional[Callable[[], Any]] = None,
    ledger_loader: Optional[Callable[[], Any]] = None,
) -> click.Command:
    """The `lookup` command; the hooks let the main CLI wire the backend, the listing and the cache."""

    @click.command("lookup")
    @click.argument("txid")
    @click.option("--network", "-n", default=None, help="Network the customer says they used (ethereum, bsc, tron, xrp, bitcoin...).")
    @click.option("--address", "-a", default=None, help="The customer's deposit address.")
    @click.option("--memo", "-m", default=None, help="The customer's memo / destination tag.")
    @click.option("--customer", "-c", "customer_id", default=None, help="Customer id: deposit addresses and ledger from the backend.")
    @click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON (schema in README).")
    def lookup_cmd(txid: str, network: Optional[str], address: Optional[str], memo: Optional[str], customer_id: Optional[str], as_json: bool) -> None:
        """Investigate a deposit that never arrived: on-chain facts and a verdict with evidence."""
        try:
            customer = customer_loader(customer_id) if customer_id else None
            endpoints = endpoints_loader() if endpoints_loader else load_endpoints(os.environ.get(CONFIG_ENV) or None)
            cache = cache_factory() if cache_factory else None
            ledger = ledger_loader() if ledger_loader else None  # signed in: the backend's ledger
            verdict = asyncio.run(lookup(txid, network=network, address=address, memo=memo, customer=customer,
                                         asset_config=asset_config_loader(), endpoints=endpoints, cache=cache, ledger=ledger))
        except InvalidInput as e:
            click.echo(f"error: {e}", err=True)
            raise SystemExit(2) from None
        except ChainError as e:
            click.echo(f"error: {e}", err=True)
            raise SystemExit(1) from None
        except ConfigError as e:  # the config or the cache file: its own one line says what to fix
            click.echo(f"error: {clean(str(e), 300)}", err=True)
            raise SystemExit(2) from None
        except Exception as e:  # never a traceback to the user; the details go to the crash log
            from agent_tui.crash import crash_log

            click.echo(f"error: look-up failed unexpectedly ({clean(e.__class__.__name__, 60)}); details in {crash_log(e)}",
                       err=True)
            raise SystemExit(1) from None
        if as_json:
            click.echo(json_text(verdict.to_dict()))
        else:
            click.echo(render_text(verdict))

    return lookup_cmd



def commands() -> list[click.Command]:
    """`agent-tui lookup`, wired to the config (endpoints), the backend (customer, ledger, asset
    configuration) and the cache (look-up results)."""

    def customer(customer_id: str) -> dict:
        import httpx

        try:
            cid = int(customer_id)
        except ValueError:
            raise ChainError(f"customer id {customer_id!r} is not a number") from None
        local = root._cache().customer(cid)
        if local is not None and local.get("addresses"):
            ledger = [dict(d, customer_id=cid) for d in local["deposits"]]
            return {"id": cid, "addresses": local["addresses"], "ledger": ledger}
        try:
            url, token = server_and_token(root._settings())
        except (AuthError, ConfigError) as exc:
            raise ChainError(f"customer {cid} is not in the cache and the backend is not reachable: {exc}") from None
        headers = {"Authorization": f"Bearer {token}"}
        try:
            c = httpx.get(f"{url}/api/v1/customers/{cid}", headers=headers, timeout=10)
            d = httpx.get(f"{url}/api/v1/customers/{cid}/deposits", headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            raise ChainError(f"cannot reach {url} for customer {cid} ({type(exc).__name__}); use --address") from None
        if c.status_code == 404:
            raise ChainError(f"customer {cid} does not exist on {url}")
        if c.status_code != 200 or d.status_code != 200:
            raise ChainError(f"{url} answered HTTP {c.status_code} for customer {cid}; use --address")
        return {"id": cid, "addresses": c.json()["addresses"], "ledger": d.json()["deposits"]}

    def asset_config() -> dict:
        cfg = root._reader().asset_config()
        return cfg if cfg["networks"] else default_asset_config()

    def endpoints():
        configured = dict(root._settings().rpc)
        path = os.environ.get(CONFIG_ENV)
        if path:
            return load_endpoints(path)
        return load_endpoints(configured or None)

    def ledger():
        from agent_tui.chains.ledger import server_ledger

        try:
            url, token = server_and_token(root._settings())
        except (AuthError, ConfigError):
            return None  # not signed in: the verdict says the ledger was not checked
        return server_ledger(url, token)

    return [make_lookup_command(customer_loader=customer, asset_config_loader=asset_config, endpoints_loader=endpoints,
                                cache_factory=lambda: root._reader().lookup_cache(), ledger_loader=ledger)]
