"""Orchestration: candidate networks probed in parallel, then the pure diagnosis."""

from __future__ import annotations

import asyncio
from typing import Any, Mapping, Optional

from .addresses import parse_address
from .cache import ResultCache, cache_key
from .candidates import candidate_networks
from .config import Endpoint, load_endpoints, networks_from
from .diagnose import Verdict, diagnose
from .errors import ChainError, EndpointError, InvalidChainData
from .facts import ChainFacts
from .ledger import LedgerSource
from .providers import probe
from .transport import Http, Limits


def customer_from_cli(address: Optional[str], memo: Optional[str], network: Optional[str]) -> Optional[dict]:
    """--address/--memo stand for the customer's deposit address; the ledger is unknown (None)."""
    if not address:
        return None
    parse_address(address)  # InvalidInput for a malformed one
    return {"addresses": [{"network": network or None, "asset": None, "address": address.strip(),
                           "memo": memo.strip() if isinstance(memo, str) and memo.strip() else None}], "ledger": None}


async def probe_all(names: tuple[str, ...], txid, networks, endpoints: Mapping[str, Endpoint], http: Http) -> dict[str, ChainFacts]:
    async def one(name: str) -> ChainFacts:
        try:
            return await probe(http, networks[name], endpoints[name], txid)
        except ChainError as e:
            return ChainFacts(network=name, txid=txid.for_family(networks[name].family), found=False, error=str(e),
                              invalid_data=isinstance(e, InvalidChainData))

    results = await asyncio.gather(*(one(n) for n in names))
    return dict(zip(names, results))


async def lookup(
    txid: str,
    *,
    network: Optional[str] = None,
    address: Optional[str] = None,
    memo: Optional[str] = None,
    customer: Optional[Mapping[str, Any]] = None,
    asset_config: Mapping[str, Any],
    endpoints: Any = None,
    cache: Optional[ResultCache] = None,
    limits: Optional[Limits] = None,
    http: Optional[Http] = None,
    ledger: Optional[LedgerSource] = None,
) -> Verdict:
    """Raises ChainError (one line) when no verdict can be reached: bad input, endpoints unreachable.

    `ledger` (signed in: the backend's ledger by txid) is consulted first and replaces the customer
    context's ledger (a copy from the cache, or None: not checked). When it cannot be read the verdict
    rests on the cached copy, or says the ledger was not checked; `ledger_note` says which."""
    if network is not None:  # once, here: candidates, cache key, customer context and diagnosis compare it as is
        network = str(network).strip().lower()
    networks = networks_from(asset_config)
    eps = endpoints if isinstance(endpoints, Mapping) and all(isinstance(v, Endpoint) for v in endpoints.values()) else load_endpoints(endpoints)
    if customer is None:
        customer = customer_from_cli(address, memo, network)
    elif address:
        customer = {**customer, "addresses": list(customer.get("addresses") or []) + (customer_from_cli(address, memo, network) or {}).get("addresses", [])}
    cands = candidate_networks(txid, networks, claimed=network, address=address, available=[n for n in eps if n in networks])
    cached_ledger = (customer or {}).get("ledger") is not None
    note = "from the local cache (as of the last sync)" if cached_ledger else "no ledger here (not signed in, no customer)"
    if ledger is not None:
        try:
            customer = {**(customer or {}), "ledger": await ledger(cands.txid.hex)}
            note = "from the server"
        except ChainError as e:
            note = f"{e}; " + ("used the local cache's copy (as of the last sync)" if cached_ledger else "not checked")

    key = cache_key(cands.txid.hex, network, customer)
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            return hit

    own_http = http is None
    http = http or Http(limits)
    try:
        facts = await probe_all(cands.primary, cands.txid, networks, eps, http)
        if not any(f.found for f in facts.values()) and cands.fallback:
            facts.update(await probe_all(cands.fallback, cands.txid, networks, eps, http))
    finally:
        if own_http:
            await http.aclose()

    found = [f for f in facts.values() if f.found]
    invalid = [f.error for f in facts.values() if f.invalid_data]
    if not found and invalid:
        # a source answered something no chain has: no verdict (not even not_found) rests on it
        raise InvalidChainData(invalid[0] + (f" (and {len(invalid) - 1} more network(s))" if len(invalid) > 1 else ""))
    errors = {n: f.error for n, f in facts.items() if f.error}
    claimed_err = errors.get(network) if network else None
    if not found and (claimed_err or len(errors) == len(facts)):
        # cannot say "not found" when the network that matters did not answer
        msg = claimed_err or next(iter(errors.values()))
        extra = f" (and {len(errors) - 1} more network(s) failed)" if len(errors) > 1 else ""
        raise EndpointError(f"{msg}{extra}")
    verdict = diagnose(facts, asset_config, customer, network)
    verdict.ledger_note = note
    if cache is not None:
        cache.put(key, verdict)
    return verdict
