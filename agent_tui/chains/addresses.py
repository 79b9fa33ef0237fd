"""Address and txid parsing. Malformed input raises InvalidInput and nothing else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import base58
import bech32
from eth_hash.auto import keccak

from .errors import InvalidInput, clean

MAX_INPUT = 256  # no txid or address is longer; longer input is rejected before any parsing

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_EVM_TX = re.compile(r"^0[xX][0-9a-fA-F]{64}$")
_EVM_ADDR = re.compile(r"^0[xX][0-9a-fA-F]{40}$")
_B58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]+$")

BECH32M_CONST = 0x2BC830A3


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    s = value.strip()
    if not s:
        raise InvalidInput(f"{what} is empty")
    if len(s) > MAX_INPUT:
        raise InvalidInput(f"{what} is too long ({len(s)} characters)")
    return s


# --- txids ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedTxid:
    kind: str  # "evm" (0x + 64 hex) or "hex64" (bare 64 hex: UTXO chains, Tron, XRP; maybe EVM without 0x)
    hex: str  # 64 lower-case hex characters, no prefix

    def for_family(self, family: str) -> str:
        """The txid as that family's API expects it."""
        if family == "evm":
            return "0x" + self.hex
        if family == "xrp":
            return self.hex.upper()
        return self.hex


def parse_txid(value: object) -> ParsedTxid:
    s = _text(value, "txid")
    if _EVM_TX.match(s):
        return ParsedTxid("evm", s[2:].lower())
    if _HEX64.match(s):
        return ParsedTxid("hex64", s.lower())
    raise InvalidInput(f"not a transaction id: {clean(s, 80)!r} (expected 64 hex characters, optionally 0x-prefixed)")


def txid_families(parsed: ParsedTxid) -> tuple[str, ...]:
    if parsed.kind == "evm":
        return ("evm",)
    return ("bitcoin", "litecoin", "dogecoin", "tron", "xrp", "evm")


# --- addresses ------------------------------------------------------------------------------


def to_checksum_address(addr: str) -> str:
    """EIP-55 mixed-case checksum (keccak from eth-hash)."""
    if not _EVM_ADDR.match(addr or ""):
        raise InvalidInput(f"not an EVM address: {clean(addr, 60)!r}")
    low = addr[2:].lower()
    h = keccak(low.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(h[i], 16) >= 8 else c for i, c in enumerate(low))


def _bech32_decode(addr: str) -> Optional[tuple[str, int, bytes]]:
    """(hrp, witness version, program) for a valid bech32/bech32m segwit address, else None."""
    if addr.lower() != addr and addr.upper() != addr:
        return None
    a = addr.lower()
    pos = a.rfind("1")
    if pos < 1 or pos + 7 > len(a) or len(a) > 90:
        return None
    hrp = a[:pos]
    try:
        data = [bech32.CHARSET.index(c) for c in a[pos + 1 :]]
    except ValueError:
        return None
    const = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + data)
    if not data:
        return None
    ver = data[0]
    if ver > 16 or const != (1 if ver == 0 else BECH32M_CONST):
        return None
    prog = bech32.convertbits(data[1:-6], 5, 8, False)
    if prog is None or not (2 <= len(prog) <= 40) or (ver == 0 and len(prog) not in (20, 32)):
        return None
    return hrp, ver, bytes(prog)


def _b58check(addr: str, alphabet: bytes = base58.BITCOIN_ALPHABET) -> Optional[bytes]:
    if not _B58.match(addr) and alphabet == base58.BITCOIN_ALPHABET:
        return None
    try:
        raw = base58.b58decode_check(addr, alphabet=alphabet)
    except Exception:  # the library raises ValueError for a bad checksum, others for odd input
        return None
    return raw


# family -> (segwit hrps, base58 version bytes)
_UTXO = {
    "bitcoin": (("bc", "tb", "bcrt"), {0x00, 0x05, 0x6F, 0xC4}),
    "litecoin": (("ltc", "tltc", "rltc"), {0x30, 0x32, 0x05, 0x6F, 0x3A, 0xC4}),
    "dogecoin": ((), {0x1E, 0x16, 0x71, 0xC4}),
}


# base58 version byte -> the script it encodes. Litecoin has two P2SH versions (the old 3.../2... shared
# with Bitcoin, the new M.../Q...): the same script, so the same deposit address.
_P2PKH = {0x00, 0x6F, 0x30, 0x1E, 0x71}
_P2SH = {0x05, 0xC4, 0x32, 0x3A, 0x16}


def _script_b58(version: int, h160: bytes) -> Optional[bytes]:
    if version in _P2PKH:
        return b"\x76\xa9\x14" + h160 + b"\x88\xac"  # OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG
    if version in _P2SH:
        return b"\xa9\x14" + h160 + b"\x87"  # OP_HASH160 <20> OP_EQUAL
    return None


def _script_segwit(ver: int, prog: bytes) -> bytes:
    return bytes([0 if ver == 0 else 0x50 + ver, len(prog)]) + prog  # OP_n <program>


@dataclass(frozen=True)
class ParsedAddress:
    families: tuple[str, ...]  # address families it is valid in (3... and testnet m/n... are shared)
    normalized: str  # the form to show (EVM and bech32 lower-case, base58 as is)
    key: str = ""  # the form to compare with: every encoding of one script has the same key

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.normalized)


def parse_address(value: object) -> ParsedAddress:
    s = _text(value, "address")
    if _EVM_ADDR.match(s):
        body = s[2:]
        if body != body.lower() and body != body.upper() and to_checksum_address(s) != "0x" + body:
            raise InvalidInput("EVM address has a bad EIP-55 checksum (a typo?)")
        return ParsedAddress(("evm",), "0x" + body.lower())
    seg = _bech32_decode(s)
    if seg is not None:
        fams = tuple(f for f, (hrps, _) in _UTXO.items() if seg[0] in hrps)
        if fams:
            return ParsedAddress(fams, s.lower(), "script:" + _script_segwit(seg[1], seg[2]).hex())
    if s.startswith("r") and 25 <= len(s) <= 35:
        raw = _b58check(s, base58.RIPPLE_ALPHABET)
        if raw is not None and len(raw) == 21 and raw[0] == 0:
            return ParsedAddress(("xrp",), s)
    raw = _b58check(s)
    if raw is not None and len(raw) == 21:
        if raw[0] == 0x41 and s.startswith("T"):
            return ParsedAddress(("tron",), s)
        fams = tuple(f for f, (_, vers) in _UTXO.items() if raw[0] in vers)
        script = _script_b58(raw[0], raw[1:])
        if fams and script is not None:
            return ParsedAddress(fams, s, "script:" + script.hex())
    raise InvalidInput(f"not a recognised deposit address: {clean(s, 80)!r}")


def normalize_address(addr: Optional[str], family: str) -> Optional[str]:
    """The form used for equality: the scriptPubKey on Bitcoin-family networks (so Litecoin's 3.../M...
    forms of one P2SH script, or a bech32 address in upper case, are one address), EVM lower-case (any
    checksum case), Tron base58. Never raises."""
    if not isinstance(addr, str):
        return None
    s = addr.strip()
    if family == "evm":
        return s.lower()
    if family in _UTXO:
        try:
            p = parse_address(s)
        except InvalidInput:
            return s
        return p.key if family in p.families else s
    if family == "tron" and re.match(r"^(41)?[0-9a-fA-F]{40}$", s):
        return tron_hex_to_base58(s)
    return s


def tron_hex_to_base58(hex_addr: str) -> str:
    """41-prefixed (or bare, as in event logs) 20-byte hex -> T... base58check."""
    h = hex_addr.lower().removeprefix("0x")
    if len(h) == 40:
        h = "41" + h
    if not re.match(r"^41[0-9a-f]{40}$", h):
        raise InvalidInput("not a Tron hex address")
    return base58.b58encode_check(bytes.fromhex(h)).decode("ascii")


def tron_base58_to_hex(addr: str) -> str:
    raw = _b58check(addr)
    if raw is None or len(raw) != 21 or raw[0] != 0x41:
        raise InvalidInput(f"not a Tron address: {clean(addr, 60)!r}")
    return raw.hex()
