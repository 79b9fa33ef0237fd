"""Providers: one async function per API kind, each returning ChainFacts or raising ChainError."""

from __future__ import annotations

import decimal

from ..addresses import ParsedTxid
from ..config import Endpoint, NetworkDef, redact
from ..errors import ChainError, EndpointError, InvalidChainData
from ..facts import ChainFacts
from ..transport import Http
from . import evm, tron, utxo, validate, xrpl

_BY_KIND = {
    "evm": evm.fetch,
    "esplora": utxo.fetch_esplora,
    "bitcoin_rpc": utxo.fetch_core_rpc,
    "tron": tron.fetch,
    "xrpl": xrpl.fetch,
}

_MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError, decimal.InvalidOperation, OverflowError, RecursionError)


async def probe(http: Http, net: NetworkDef, endpoint: Endpoint, txid: ParsedTxid) -> ChainFacts:
    kind = endpoint.kind or net.kind
    fetch = _BY_KIND.get(kind)
    if fetch is None:
        raise ChainError(f"{net.name}: no provider for kind {kind!r}")
    try:
        facts = await fetch(http, net, endpoint.url.rstrip("/"), txid)
    except ChainError:
        raise
    except _MALFORMED as e:
        raise EndpointError(f"{net.name}: {redact(endpoint.url)} answered malformed data ({e.__class__.__name__})") from None
    # the boundary: nothing the source said is judged until every value in it is one a chain can have
    bad = validate.problem(facts, net)
    if bad:
        raise InvalidChainData(f"{net.name}: {redact(endpoint.url)} answered invalid chain data ({bad}); "
                               "nothing was judged: check the chain source or use another endpoint")
    return facts
