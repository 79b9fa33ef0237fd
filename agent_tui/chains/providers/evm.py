"""EVM JSON-RPC: eth_getTransactionByHash, eth_getTransactionReceipt, eth_blockNumber, eth_chainId."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from ..addresses import ParsedTxid
from ..config import NetworkDef, redact
from ..errors import EndpointError
from ..facts import CONFIRMED, DROPPED, FAILED, PENDING, ChainFacts, Transfer, confirmations, tip_at_least_block
from ..transport import Http, RpcError, jsonrpc
from .common import TRANSFER_SELECTOR, TRANSFER_TOPIC, dict_or_empty, fmt_units, hexint, opt_qty, qty


def _addr(v: Any) -> Optional[str]:
    if v is None:
        return None
    if not isinstance(v, str) or len(v) != 42 or not v.startswith("0x"):
        raise ValueError("bad address")
    hexint(v)
    return v.lower()


def _calldata_transfer(tx: dict) -> Optional[Transfer]:
    """transfer(address,uint256) calldata: the intended token transfer (pending or failed txs)."""
    data = tx.get("input") or tx.get("data") or ""
    if not isinstance(data, str):
        raise ValueError("bad input")
    body = data[2:] if data.startswith("0x") else data
    if not body.lower().startswith(TRANSFER_SELECTOR) or len(body) < 8 + 128 or tx.get("to") is None:
        return None
    word1, word2 = body[8:72], body[72:136]
    return Transfer(
        recipient="0x" + word1[-40:].lower(),
        contract=_addr(tx.get("to")),
        raw_amount=str(hexint(word2)),
        sender=_addr(tx.get("from")),
        kind="token",
    )


def _native(tx: dict, net: NetworkDef) -> Optional[Transfer]:
    value = qty(tx.get("value", "0x0"))
    if value <= 0 or tx.get("to") is None:
        return None
    return Transfer(
        recipient=_addr(tx["to"]),
        asset=net.native_asset,
        amount=fmt_units(value, net.decimals),
        raw_amount=str(value),
        sender=_addr(tx.get("from")),
        kind="native",
    )


def _log_transfers(receipt: dict) -> list[Transfer]:
    out = []
    logs = receipt.get("logs") or []
    if not isinstance(logs, list):
        raise TypeError("logs")
    for pos, log in enumerate(logs):
        topics = log.get("topics") or []
        # ERC-20 Transfer has exactly 3 topics; ERC-721 (4 topics) moves an NFT, not an amount
        if len(topics) != 3 or str(topics[0]).lower().removeprefix("0x") != TRANSFER_TOPIC:
            continue
        idx = log.get("logIndex")
        out.append(
            Transfer(
                recipient="0x" + str(topics[2])[-40:].lower(),
                sender="0x" + str(topics[1])[-40:].lower(),
                contract=_addr(log.get("address")),
                raw_amount=str(hexint(log.get("data") or "0x0")),
                index=qty(idx) if idx is not None else pos,
                kind="token",
            )
        )
    return out


async def _nonce_used(http: Http, url: str, label: str, tx: dict) -> bool:
    """A transaction without a receipt whose sender's mined nonce count is past its nonce was replaced
    (same nonce, another transaction mined): not pending, it will not arrive."""
    sender, nonce = _addr(tx.get("from")), opt_qty(tx.get("nonce"))
    if sender is None or nonce is None:
        return False
    try:
        mined = qty(await jsonrpc(http, url, "eth_getTransactionCount", [sender, "latest"], label=label))
    except RpcError:  # a node that will not say: the transaction stays pending, as it may well be
        return False
    return mined > nonce


async def fetch(http: Http, net: NetworkDef, url: str, txid: ParsedTxid) -> ChainFacts:
    label = net.name
    h = txid.for_family("evm")
    tx, receipt, tip_hex, chain_hex = await asyncio.gather(
        jsonrpc(http, url, "eth_getTransactionByHash", [h], label=label),
        jsonrpc(http, url, "eth_getTransactionReceipt", [h], label=label),
        jsonrpc(http, url, "eth_blockNumber", [], label=label),
        jsonrpc(http, url, "eth_chainId", [], label=label),
    )
    chain_id = qty(chain_hex)
    if net.chain_id is not None and chain_id != net.chain_id:
        raise EndpointError(f"{label}: {redact(url)} is chain id {chain_id}, expected {net.chain_id}; check the endpoint config")
    tip = qty(tip_hex)
    tx = dict_or_empty(tx)
    receipt = dict_or_empty(receipt)
    if not tx and not receipt:
        return ChainFacts(network=net.name, txid=h, found=False, tip=tip, chain_id=chain_id)

    block = opt_qty(receipt.get("blockNumber")) if receipt else None
    if block is None and tx:
        block = opt_qty(tx.get("blockNumber"))
    failure = None
    if not receipt or block is None:
        status, block = PENDING, None
        if await _nonce_used(http, url, label, tx):
            status = DROPPED  # its nonce went to another transaction: this one can never be mined
    elif receipt.get("status") is not None and qty(receipt["status"]) == 0:  # pre-Byzantium: status null + root, not a failure
        status, failure = FAILED, "reverted (receipt status 0x0)"
    else:
        status = CONFIRMED
    native = _native(tx, net) if tx else None
    transfers: list[Transfer] = [native] if native else []
    if status == CONFIRMED:
        transfers.extend(_log_transfers(receipt))
    else:  # no logs (pending) or none that count (reverted): the intended transfer from the calldata
        ct = _calldata_transfer(tx) if tx else None
        if ct:
            transfers.append(ct)
    tip = tip_at_least_block(tip, block)
    confs = confirmations(tip, block)
    return ChainFacts(
        network=net.name,
        txid=h,
        found=True,
        status=status,
        block=block,
        tip=tip,
        confirmations=confs,
        final=bool(status != PENDING and confs is not None and confs >= net.final_depth),
        transfers=transfers,
        failure_reason=failure,
        chain_id=chain_id,
    )
