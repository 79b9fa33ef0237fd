from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Optional

_HEXQ = re.compile(r"^0x[0-9a-fA-F]{1,64}$")
_HEX = re.compile(r"^[0-9a-fA-F]{0,128}$")

TRANSFER_TOPIC = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
TRANSFER_SELECTOR = "a9059cbb"


def qty(v: Any) -> int:
    """A JSON-RPC QUANTITY ("0x1b4"); anything else is malformed."""
    if not isinstance(v, str) or not _HEXQ.match(v):
        raise ValueError("bad quantity")
    return int(v, 16)


def opt_qty(v: Any) -> Optional[int]:
    return None if v is None else qty(v)


def hexint(v: Any) -> int:
    """256-bit word as hex with or without 0x (log data / topics)."""
    if not isinstance(v, str):
        raise ValueError("bad hex")
    s = v[2:] if v[:2] in ("0x", "0X") else v
    if not s or not _HEX.match(s):
        raise ValueError("bad hex")
    return int(s, 16)


def _plain(d: Decimal) -> str:
    """No exponent, no trailing zeros."""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def fmt_units(raw: int, decimals: int) -> str:
    """Integer base units -> whole-unit Decimal string, no exponent, no trailing zeros."""
    return _plain(Decimal(raw).scaleb(-decimals))


def fmt_decimal(v: Any) -> str:
    """A decimal amount given as string or JSON number (Core RPC) -> plain string."""
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise ValueError("bad amount")
    d = Decimal(str(v))
    if not d.is_finite():
        raise ValueError("bad amount")
    return _plain(d)


def dict_or_empty(v: Any) -> dict:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise TypeError("expected an object")
    return v
