"""Bitcoin family: Esplora REST and Bitcoin Core JSON-RPC (Bitcoin, Litecoin, Dogecoin)."""

from __future__ import annotations

import asyncio
import re

from ..addresses import ParsedTxid
from ..config import NetworkDef, redact
from ..errors import EndpointError, InvalidInput
from ..facts import CONFIRMED, PENDING, ChainFacts, Transfer, confirmations
from ..transport import Http, RpcError, decode_json, jsonrpc
from .common import dict_or_empty, fmt_decimal, fmt_units

_INT = re.compile(rb"^\s*[0-9]{1,12}\s*$")


def _facts(net: NetworkDef, txid: str, *, block, tip, transfers, block_hash=None) -> ChainFacts:
    confs = confirmations(tip, block)
    status = CONFIRMED if block is not None else PENDING
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

    tx, tip = await asyncio.gather(raw(), jsonrpc(http, url, "getblockcount", [], label=label))
    if not isinstance(tip, int) or isinstance(tip, bool):
        raise ValueError("getblockcount")
    if tx is None:
        return ChainFacts(network=net.name, txid=h, found=False, tip=tip)
    tx = dict_or_empty(tx)
    confs = tx.get("confirmations") or 0
    if not isinstance(confs, int):
        raise ValueError("confirmations")
    block = tip - confs + 1 if confs > 0 and tx.get("blockhash") else None
    transfers = []
    for i, out in enumerate(tx["vout"]):
        spk = dict_or_empty(out.get("scriptPubKey"))
        addr = spk.get("address") or ((spk.get("addresses") or [None])[0])
        if not addr:
            continue
        amount = fmt_decimal(out["value"])
        n = out.get("n", i)
        transfers.append(Transfer(recipient=addr, asset=net.native_asset, amount=amount,
                                  index=n if isinstance(n, int) else i, kind="native"))
    return _facts(net, h, block=block, tip=tip, transfers=transfers, block_hash=tx.get("blockhash"))
