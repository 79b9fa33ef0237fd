"""Bitcoin family: Esplora REST and Bitcoin Core JSON-RPC (Bitcoin, Litecoin, Dogecoin)."""

from __future__ import annotations

import asyncio
import re

from ..addresses import ParsedTxid, normalize_address
from ..config import NetworkDef, redact
from ..errors import EndpointError, InvalidInput
from ..facts import CONFIRMED, DROPPED, PENDING, ChainFacts, Transfer, confirmations, tip_at_least_block
from ..transport import Http, RpcError, decode_json, jsonrpc
from .common import dict_or_empty, fmt_decimal, fmt_units

_INT = re.compile(rb"^\s*[0-9]{1,12}\s*$")


MAX_INPUT_TXS = 16  # inputs whose funding transactions the Core RPC provider reads to tell change apart


def _mark_change(transfers: list[Transfer], funders: set, family: str) -> None:
    """An output to an address that funded the transaction is the sender's change, not a payment."""
    keys = {normalize_address(a, family) for a in funders if isinstance(a, str)}
    for t in transfers:
        t.change = normalize_address(t.recipient, family) in keys if isinstance(t.recipient, str) else False


def _spk_address(out: dict):
    spk = dict_or_empty(out.get("scriptPubKey"))
    return spk.get("address") or ((spk.get("addresses") or [None])[0])


def _facts(net: NetworkDef, txid: str, *, block, tip, transfers, block_hash=None, dropped: bool = False) -> ChainFacts:
    tip = tip_at_least_block(tip, block)
    confs = confirmations(tip, block)
    status = CONFIRMED if block is not None else (DROPPED if dropped else PENDING)
    return ChainFacts(
        network=net.name, txid=txid, found=True, status=status, block=block, tip=tip,
        confirmations=confs, final=bool(confs is not None and confs >= net.final_depth), transfers=transfers,
        block_hash=block_hash,
    )


async def fetch_esplora(http: Http, net: NetworkDef, url: str, txid: ParsedTxid) -> ChainFacts:
    label, h = net.name, txid.for_family(net.family)
    # /tx/:txid, not /tx/:txid/status: the status endpoint says {"confirmed":false} for unknown txids too
    tx_res, tip_res = await asyncio.gather(
        http.request("GET", f"{url}/tx/{h}", label=label),
        http.request("GET", f"{url}/blocks/tip/height", label=label),
        return_exceptions=True,
    )
    if isinstance(tx_res, BaseException):
        raise tx_res
    status, body = tx_res
    if status == 404:
        return ChainFacts(network=net.name, txid=h, found=False)
    if status == 400:
        raise InvalidInput(f"{label}: the endpoint rejected the txid ({body[:60].decode('utf-8', 'replace')})")
    if status != 200:
        raise EndpointError(f"{label}: {redact(url)} answered HTTP {status}")
    tx = decode_json(body, label=label, url=url)
    if isinstance(tip_res, BaseException):
        raise tip_res
    tip_status, tip_body = tip_res
    if tip_status != 200 or not _INT.match(tip_body):
        raise EndpointError(f"{label}: {redact(url)} gave no usable tip height")
    tip = int(tip_body)
    st = dict_or_empty(tx["status"])
    block = block_hash = None
    if st.get("confirmed") is True:
        block, block_hash = st["block_height"], st.get("block_hash")
        if not isinstance(block, int) or isinstance(block, bool):
            raise ValueError("block_height")
    transfers = []
    for i, out in enumerate(tx["vout"]):
        addr = out.get("scriptpubkey_address")
        value = out["value"]  # every output has a value, OP_RETURN too
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("value")
        if addr is None:
            continue  # OP_RETURN and non-standard outputs pay nobody
        # as given, not str(): the boundary (validate.py) refuses anything that is not an address
        transfers.append(Transfer(recipient=addr, asset=net.native_asset, amount=fmt_units(value, net.decimals),
                                  raw_amount=str(value), index=i, kind="native"))
    _mark_change(transfers, {dict_or_empty(vin.get("prevout")).get("scriptpubkey_address") for vin in tx.get("vin") or []}, net.family)
    return _facts(net, h, block=block, tip=tip, transfers=transfers, block_hash=block_hash)


async def fetch_core_rpc(http: Http, net: NetworkDef, url: str, txid: ParsedTxid) -> ChainFacts:
    label, h = net.name, txid.for_family(net.family)

    async def raw():
        try:
            return await jsonrpc(http, url, "getrawtransaction", [h, True], label=label)
        except RpcError as e:
            if e.code == -5:  # No such mempool or blockchain transaction
                return None
            if e.code == -8:
                raise InvalidInput(f"{label}: the node rejected the txid") from None
            raise

    tx = await raw()
    if tx is None:
        return ChainFacts(network=net.name, txid=h, found=False, tip=await _block_count(http, url, label))
    tx = dict_or_empty(tx)
    # one moment of the chain: the block is the one the node names (blockhash), its height and depth from
    # one getblockheader answer, and the tip from that same answer. (tip - confirmations + 1 from two calls
    # made in parallel was a block off whenever a block arrived between them.)
    block = tip = None
    block_hash = tx.get("blockhash")
    if block_hash is not None:
        header = dict_or_empty(await jsonrpc(http, url, "getblockheader", [block_hash, True], label=label))
        height, depth = header["height"], header["confirmations"]
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (height, depth)):
            raise ValueError("getblockheader")
        if depth >= 1:
            block, tip = height, height + depth - 1
    dropped = False
    if tip is None:
        tip, in_mempool = await asyncio.gather(_block_count(http, url, label), _in_mempool(http, url, label, h))
        # neither in the best chain nor in the mempool (a stale blockhash after a reorganisation whose
        # replacement spent the same coins): not pending, it will never confirm
        dropped = not in_mempool
    transfers = []
    for i, out in enumerate(tx["vout"]):
        addr = _spk_address(out)
        if not addr:
            continue
        amount = fmt_decimal(out["value"])
        n = out.get("n", i)
        transfers.append(Transfer(recipient=addr, asset=net.native_asset, amount=amount,
                                  index=n if isinstance(n, int) else i, kind="native"))
    _mark_change(transfers, await _core_funders(http, url, label, tx), net.family)
    return _facts(net, h, block=block, tip=tip, transfers=transfers, block_hash=block_hash if block is not None else None,
                  dropped=dropped)


async def _in_mempool(http: Http, url: str, label: str, txid: str) -> bool:
    try:
        await jsonrpc(http, url, "getmempoolentry", [txid], label=label)
        return True
    except RpcError as e:
        if e.code == -5:  # Transaction not in mempool
            return False
        raise


async def _block_count(http: Http, url: str, label: str) -> int:
    tip = await jsonrpc(http, url, "getblockcount", [], label=label)
    if not isinstance(tip, int) or isinstance(tip, bool):
        raise ValueError("getblockcount")
    return tip


async def _core_funders(http: Http, url: str, label: str, tx: dict) -> set:
    """The addresses the inputs spend (Core RPC names only the outpoints: read the funding transactions,
    -txindex has them). An input that cannot be read just tells nothing."""
    spent: dict[str, set] = {}
    for vin in tx.get("vin") or []:
        if isinstance(vin, dict) and isinstance(vin.get("txid"), str) and isinstance(vin.get("vout"), int):
            spent.setdefault(vin["txid"], set()).add(vin["vout"])
    ids = list(spent)[:MAX_INPUT_TXS]

    async def one(txid: str):
        try:
            return await jsonrpc(http, url, "getrawtransaction", [txid, True], label=label)
        except RpcError:
            return None

    funders: set = set()
    for txid, prev in zip(ids, await asyncio.gather(*(one(t) for t in ids))):
        if not isinstance(prev, dict) or not isinstance(prev.get("vout"), list):
            continue
        for out in prev["vout"]:
            if isinstance(out, dict) and out.get("n") in spent[txid]:
                funders.add(_spk_address(out))
    return funders
