"""The provider boundary: every value a chain source answered is checked before anything judges it.

A source can be broken or hostile and still answer the right JSON shape: a recipient of markup and
5,000 characters, a negative amount or height, a block hash that is not hex. `problem()` names the
first such value (in words that quote none of it), or returns None when the facts are plausible.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from ..addresses import parse_address
from ..config import NetworkDef
from ..errors import ChainError
from ..facts import CONFIRMED, DROPPED, FAILED, PENDING, ChainFacts, Transfer

MAX_HEIGHT = 10**12  # no chain is near this; a height above it (or below 0) is not a height
MAX_DIGITS = 78  # a uint256 has at most 78 decimal digits
_HASH = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_DIGITS = re.compile(r"^[0-9]{1,%d}$" % MAX_DIGITS)
_AMOUNT = re.compile(r"^[0-9]{1,%d}(\.[0-9]{1,40})?$" % MAX_DIGITS)
_MEMO = re.compile(r"^[\x21-\x7e]{1,64}$")  # printable ASCII, no spaces: tags, memos
_XRP_CURRENCY = re.compile(r"^([A-Za-z0-9?!@#$%^&*<>(){}\[\]|]{3}|[0-9A-Fa-f]{40})$")
_TOKEN_NAME = re.compile(r"^[\w .:-]{1,40}$")  # a TRC-10 asset name, as the Tron provider reads it


def _height(v: Any) -> bool:
    return v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_HEIGHT)


def _address_of(value: Any, family: str) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return family in parse_address(value).families
    except ChainError:
        return False


def _contract(value: Optional[str], family: str) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    if family == "evm":
        return _address_of(value, "evm")
    if family == "tron":
        return _address_of(value, "tron") or bool(_TOKEN_NAME.match(value))
    if family == "xrp":
        cur, _, issuer = value.partition(".")
        return bool(_XRP_CURRENCY.match(cur)) and _address_of(issuer, "xrp")
    return False  # Bitcoin-family outputs carry no token


def _transfer_problem(t: Transfer, i: int, family: str) -> Optional[str]:
    where = f"transfer {t.index if isinstance(t.index, int) else i}"
    if not _address_of(t.recipient, family):
        return f"the recipient of {where} is not a valid {family} address"
    if t.sender is not None and not _address_of(t.sender, family):
        return f"the sender of {where} is not a valid {family} address"
    if t.amount is not None and not (isinstance(t.amount, str) and _AMOUNT.match(t.amount)):
        return f"the amount of {where} is not a non-negative number"
    if t.raw_amount is not None and not (isinstance(t.raw_amount, str) and _DIGITS.match(t.raw_amount)):
        return f"the raw amount of {where} is not a non-negative integer"
    if t.amount is not None:
        try:
            Decimal(t.amount)
        except InvalidOperation:
            return f"the amount of {where} is not a number"
    if not _contract(t.contract, family):
        return f"the token contract of {where} is not a valid {family} contract"
    if t.memo is not None and not (isinstance(t.memo, str) and _MEMO.match(t.memo)):
        return f"the memo of {where} is not a plain tag"
    if t.index is not None and not (isinstance(t.index, int) and not isinstance(t.index, bool) and 0 <= t.index <= MAX_HEIGHT):
        return f"the output/log index of {where} is not a non-negative integer"
    return None


def problem(f: ChainFacts, net: NetworkDef) -> Optional[str]:
    """What is invalid in these facts (no value quoted), or None."""
    if not isinstance(f.txid, str) or not _HASH.match(f.txid):
        return "the transaction id is not a 64-hex hash"
    for name in ("block", "tip", "confirmations"):
        if not _height(getattr(f, name)):
            return f"the {name} height is not a non-negative integer"
    if f.block_hash is not None and not (isinstance(f.block_hash, str) and _HASH.match(f.block_hash)):
        return "the block hash is not a 64-hex hash"
    if f.status not in (None, PENDING, CONFIRMED, FAILED, DROPPED):
        return "the transaction status is unknown"
    for i, t in enumerate(f.transfers):
        p = _transfer_problem(t, i, net.family)
        if p:
            return p
    return None
