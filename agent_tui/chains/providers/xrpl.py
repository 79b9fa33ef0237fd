"""XRP Ledger via rippled JSON-RPC `tx` (API v2 `tx_json` layout and the v1 flat layout), and `ledger`
for the latest validated ledger: the tip confirmations are counted from."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from ..addresses import ParsedTxid
from ..config import NetworkDef, redact
from ..errors import ChainError, EndpointError, InvalidInput, clean
from ..facts import CONFIRMED, FAILED, PENDING, ChainFacts, Transfer
from ..transport import Http, decode_json
from .common import dict_or_empty, fmt_decimal, fmt_units

TF_PARTIAL_PAYMENT = 0x00020000  # 131072


async def _tx(http: Http, url: str, h: str, label: str, api_version: Optional[int]) -> dict:
    params: dict[str, Any] = {"transaction": h, "binary": False}
    if api_version:
        params["api_version"] = api_version
    status, raw = await http.request("POST", url, json_body={"method": "tx", "params": [params]}, label=label)
    if status != 200:
        raise EndpointError(f"{label}: {redact(url)} answered HTTP {status}")
    data = dict_or_empty(decode_json(raw, label=label, url=url))
    return dict_or_empty(data.get("result"))


async def _validated_tip(http: Http, url: str, label: str) -> Optional[int]:
    """The latest validated ledger index, or None when the server will not say: finality on the XRP
    Ledger comes from `validated` on the transaction itself, so the tip is evidence, not a verdict."""
    try:
        status, raw = await http.request("POST", url, json_body={"method": "ledger", "params": [{"ledger_index": "validated"}]}, label=label)
        if status != 200:
            return None
        res = dict_or_empty(dict_or_empty(decode_json(raw, label=label, url=url)).get("result"))
    except (ChainError, ValueError):
        return None
    if res.get("validated") is not True:
        return None
    index = res.get("ledger_index", dict_or_empty(res.get("ledger")).get("ledger_index"))
    if isinstance(index, str) and index.isdigit():
        index = int(index)
    return index if isinstance(index, int) and not isinstance(index, bool) and index > 0 else None


def _amount(v: Any, net: NetworkDef) -> tuple[Optional[str], Optional[str], Optional[str], str]:
    """(asset, contract, amount, kind): drops string = XRP, object = issued currency."""
    if isinstance(v, str):
        return net.native_asset, None, fmt_units(int(v), net.decimals), "native"
    v = dict_or_empty(v)
    cur, issuer = str(v["currency"]), str(v.get("issuer") or "")
    return None, clean(f"{cur}.{issuer}", 80), fmt_decimal(v["value"]), "token"


async def fetch(http: Http, net: NetworkDef, url: str, txid: ParsedTxid) -> ChainFacts:
    label, h = net.name, txid.for_family("xrp")
    res, tip = await asyncio.gather(_tx(http, url, h, label, 2), _validated_tip(http, url, label))
    if res.get("error") in ("invalid_API_version", "invalidParams"):
        res = await _tx(http, url, h, label, None)  # servers without API v2
    err = res.get("error")
    if err == "txnNotFound":
        return ChainFacts(network=net.name, txid=h, found=False, tip=tip)
    if err == "notImpl" or err == "invalidTransaction":
        raise InvalidInput(f"{label}: the server rejected the txid ({clean(err, 40)})")
    if err:
        raise EndpointError(f"{label}: tx failed: {clean(res.get('error_message') or err, 120)}")
    tx = dict_or_empty(res["tx_json"]) if "tx_json" in res else res  # v2 nests the tx; v1 is flat
    meta = dict_or_empty(res.get("meta") or res.get("metaData"))
    validated = res.get("validated") is True
    ledger = res.get("ledger_index", tx.get("ledger_index", tx.get("inLedger")))
    if ledger is not None and (not isinstance(ledger, int) or isinstance(ledger, bool)):
        raise ValueError("ledger_index")
    result = meta.get("TransactionResult")
    failure = None
    if validated and result != "tesSUCCESS":
        failure = clean(f"{result}: the transaction is in a ledger but delivered nothing (fee charged)")
    status = FAILED if failure else (CONFIRMED if validated else PENDING)

    transfers = []
    if tx.get("TransactionType") == "Payment" and tx.get("Destination"):
        tag = tx.get("DestinationTag")
        memo = str(tag) if isinstance(tag, int) and not isinstance(tag, bool) else None
        flags = tx.get("Flags") or 0
        partial = isinstance(flags, int) and bool(flags & TF_PARTIAL_PAYMENT)
        if status == FAILED:
            delivered = None
        else:
            # delivered_amount, never Amount/DeliverMax: a partial payment delivers less than it says
            delivered = meta.get("delivered_amount", meta.get("DeliveredAmount"))
            if (delivered is None or delivered == "unavailable") and not partial and status == CONFIRMED:
                delivered = tx.get("DeliverMax", tx.get("Amount"))
            if delivered == "unavailable":
                delivered = None
        if delivered is not None:
            asset, contract, amount, kind = _amount(delivered, net)
        else:
            asset, contract, _, kind = _amount(tx.get("DeliverMax", tx.get("Amount", "0")), net)
            amount = "0" if status == FAILED else None
        transfers.append(Transfer(recipient=tx["Destination"], sender=tx.get("Account") or None,
                                  asset=asset, contract=contract, amount=amount, memo=memo, kind=kind, index=0))
    if not validated:
        confs = 0
    elif tip is not None and ledger is not None:
        confs = max(1, tip - ledger + 1)  # at least 1: the tip was read a moment before the tx
    else:
        confs = 1
    return ChainFacts(
        network=net.name, txid=h, found=True, status=status, block=ledger, tip=tip,
        confirmations=confs, final=validated, transfers=transfers, failure_reason=failure,
    )
