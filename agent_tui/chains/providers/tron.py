"""Tron via TronGrid HTTP: /wallet/gettransactionbyid, /wallet/gettransactioninfobyid, /wallet/getnowblock,
and /walletsolidity/getnowblock (the latest solidified block: a transaction at or below it is final)."""

from __future__ import annotations

import asyncio
from typing import Optional

from ..addresses import ParsedTxid, tron_hex_to_base58
from ..config import NetworkDef, redact
from ..errors import ChainError, EndpointError, clean
from ..facts import CONFIRMED, FAILED, PENDING, ChainFacts, Transfer, confirmations, tip_at_least_block
from ..transport import Http, decode_json
from .common import TRANSFER_SELECTOR, TRANSFER_TOPIC, dict_or_empty, fmt_units, hexint


async def _post(http: Http, url: str, path: str, body: dict, label: str):
    status, raw = await http.request("POST", f"{url}{path}", json_body=body, label=label)
    if status != 200:
        raise EndpointError(f"{label}: {redact(url)} answered HTTP {status} to {path}")
    data = decode_json(raw, label=label, url=url)
    data = dict_or_empty(data)
    if data.get("Error"):
        raise EndpointError(f"{label}: {path} failed: {clean(data['Error'], 120)}")
    return data


async def _solid_tip(http: Http, url: str, label: str) -> Optional[int]:
    """The latest solidified block, or None when the endpoint has no solidity node (finality then
    falls back to the confirmation depth)."""
    try:
        block = await _post(http, url, "/walletsolidity/getnowblock", {}, label)
        number = block["block_header"]["raw_data"]["number"]
    except (ChainError, ValueError, KeyError, TypeError):
        return None
    return number if isinstance(number, int) and not isinstance(number, bool) and number > 0 else None


def _hexmsg(v) -> str:
    if not isinstance(v, str):
        return ""
    try:
        return clean(bytes.fromhex(v).decode("utf-8", "replace"), 160)
    except ValueError:
        return clean(v, 160)


async def fetch(http: Http, net: NetworkDef, url: str, txid: ParsedTxid) -> ChainFacts:
    label, h = net.name, txid.for_family("tron")
    tx, info, now, solid = await asyncio.gather(
        _post(http, url, "/wallet/gettransactionbyid", {"value": h}, label),
        _post(http, url, "/wallet/gettransactioninfobyid", {"value": h}, label),
        _post(http, url, "/wallet/getnowblock", {}, label),
        _solid_tip(http, url, label),
    )
    tip = now["block_header"]["raw_data"]["number"]
    if not isinstance(tip, int):
        raise ValueError("tip")
    if not tx and not info:  # TronGrid answers {} for an unknown txid
        return ChainFacts(network=net.name, txid=h, found=False, tip=tip)

    block = info.get("blockNumber") if info else None
    if block is not None and not isinstance(block, int):
        raise ValueError("blockNumber")
    receipt = dict_or_empty(info.get("receipt"))
    ret = (tx.get("ret") or [{}])[0] if tx else {}
    contract_ret = ret.get("contractRet")
    failure = None
    if info.get("result") == "FAILED" or receipt.get("result") not in (None, "SUCCESS") or contract_ret not in (None, "SUCCESS"):
        reason = receipt.get("result") or contract_ret or "FAILED"
        msg = _hexmsg(info.get("resMessage"))
        failure = clean(f"{reason}: {msg}" if msg else reason)
    status = FAILED if failure else (CONFIRMED if block is not None else PENDING)

    transfers: list[Transfer] = []
    for pos, log in enumerate(info.get("log") or []):
        topics = log.get("topics") or []
        if len(topics) != 3 or str(topics[0]).lower() != TRANSFER_TOPIC:
            continue
        transfers.append(Transfer(
            recipient=tron_hex_to_base58(str(topics[2])[-40:]),
            sender=tron_hex_to_base58(str(topics[1])[-40:]),
            contract=tron_hex_to_base58(log["address"]),
            raw_amount=str(hexint(log.get("data") or "0")),
            index=pos, kind="token",
        ))
    contracts = ((tx.get("raw_data") or {}).get("contract") or []) if tx else []
    for c in contracts[:1]:
        ctype = c.get("type")
        value = dict_or_empty(dict_or_empty(c.get("parameter")).get("value"))
        if ctype == "TransferContract":
            amount = value["amount"]
            if not isinstance(amount, int):
                raise ValueError("amount")
            transfers.append(Transfer(recipient=tron_hex_to_base58(value["to_address"]), sender=tron_hex_to_base58(value["owner_address"]),
                                      asset=net.native_asset, amount=fmt_units(amount, net.decimals), raw_amount=str(amount), kind="native"))
        elif ctype == "TransferAssetContract":  # TRC-10: never a listed asset here, but show it
            transfers.append(Transfer(recipient=tron_hex_to_base58(value["to_address"]), contract=clean(_hexmsg(value.get("asset_name")), 40),
                                      raw_amount=str(int(value["amount"])), kind="token"))
        elif ctype == "TriggerSmartContract" and not transfers:
            # no Transfer log (pending or failed): the intended transfer from calldata. The recipient
            # word carries a 41 byte in its padding: take the last 40 hex characters.
            data = str(value.get("data") or "")
            if data.lower().startswith(TRANSFER_SELECTOR) and len(data) >= 8 + 128:
                transfers.append(Transfer(recipient=tron_hex_to_base58(data[8:72][-40:]), sender=tron_hex_to_base58(value["owner_address"]),
                                          contract=tron_hex_to_base58(value["contract_address"]), raw_amount=str(hexint(data[72:136])), kind="token"))
    tip = tip_at_least_block(tip, block)
    confs = confirmations(tip, block)
    if status == PENDING or block is None:
        final = False
    elif solid is not None:
        final = block <= solid  # solidified: irreversible
    else:
        final = confs is not None and confs >= net.final_depth
    return ChainFacts(
        network=net.name, txid=h, found=True, status=status, block=block, tip=tip, confirmations=confs,
        final=final, transfers=transfers, failure_reason=failure,
    )
