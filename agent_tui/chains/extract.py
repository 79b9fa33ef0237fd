"""Find transaction ids and deposit addresses in what a customer wrote.

Pure: no I/O, no UI. Every candidate is checked with the parsers in :mod:`.addresses`, so a
checksummed address (EIP-55 mixed case, base58check, bech32/bech32m) only counts when its
checksum holds. Customer text is hostile: any input (huge, binary-ish, not even a ``str``)
gives a list, never an exception.

What is recognised:

* txids: ``0x`` + 64 hex (EVM), bare 64 hex (Bitcoin family, Tron, XRP; maybe EVM without 0x);
* addresses: EVM ``0x`` + 40 hex, Tron ``T...``, Bitcoin/Litecoin (base58 and bech32/bech32m),
  Dogecoin, XRP classic ``r...``.

A token is a maximal run of ASCII letters and digits, so ``TxID:0xabc…``, ``哈希：abc…``,
``…/tx/0xabc…?x=1`` and ``(abc…)`` all work, while a 64-hex run inside a longer one does not count.
Results are in the order of their first appearance, each value once (a txid written with and
without ``0x`` is one txid; addresses compare as the parsers normalise them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Optional

from agent_tui.textsafe import ESCAPE_SEQUENCES

from .addresses import parse_address, parse_txid, txid_families
from .errors import ChainError

__all__ = ["Found", "extract", "txids", "addresses", "network_hints", "MAX_TEXT", "MAX_FOUND"]

MAX_TEXT = 1_000_000  # characters scanned; a message longer than this is scanned up to here
MAX_FOUND = 200  # results returned at most (a pasted dump should not flood the screen)
MAX_TRIES = 5_000  # candidates checked at most (each costs a checksum); bounds the time on a hostile dump

# maximal runs of ASCII alphanumerics; the longest thing we look for is 90 characters (bech32)
_TOKEN = re.compile(r"[0-9A-Za-z]+")
_HEX64 = re.compile(r"(?:0[xX])?[0-9a-fA-F]{64}")
_EVM_ADDR = re.compile(r"0[xX][0-9a-fA-F]{40}")
_BECH32 = re.compile(r"(?:bc|tb|bcrt|ltc|tltc|rltc)1[02-9ac-hj-np-z]{6,87}", re.IGNORECASE)
_B58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]{25,35}")
# terminal escape sequences (agent_tui.textsafe's): "\x1b[31m0xabc…" must not glue "31m" to the txid.
# They are blanked with spaces of the same length so spans still index the original text.
_ESCAPES = ESCAPE_SEQUENCES


@dataclass(frozen=True)
class Found:
    kind: str  # "txid" | "address"
    value: str  # canonical: txid "0x"+hex (EVM) or lower-case hex; address in its normalised form
    text: str  # exactly as written in the message
    start: int  # span in the text: text == source[start:end]
    end: int
    families: tuple[str, ...]  # txid: families it may belong to; address: families it is valid in


def _candidates(text: str) -> Iterator[tuple[str, re.Match]]:
    for m in _TOKEN.finditer(text):
        tok = m.group()
        n = len(tok)
        if n < 25 or n > 90:
            continue
        if (n == 64 or n == 66) and _HEX64.fullmatch(tok):
            yield "txid", m
        elif n == 42 and _EVM_ADDR.fullmatch(tok):
            yield "address", m
        elif _BECH32.fullmatch(tok) or (n <= 35 and _B58.fullmatch(tok)):
            yield "address", m


def _classify(kind: str, tok: str) -> Optional[tuple[str, tuple[str, ...]]]:
    try:
        if kind == "txid":
            p = parse_txid(tok)
            return ("0x" + p.hex if p.kind == "evm" else p.hex), txid_families(p)
        a = parse_address(tok)
        return a.normalized, a.families
    except ChainError:
        return None


def extract(text: object, *, limit: int = MAX_FOUND) -> list[Found]:
    """Every txid and address in `text`, in order of first appearance, de-duplicated. Never raises."""
    if not isinstance(text, str):
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", "replace")
        else:
            return []
    text = text[:MAX_TEXT]
    if "\x1b" in text or re.search(r"[\x90-\x9f]", text):
        text = _ESCAPES.sub(lambda m: " " * len(m.group()), text)
    out: list[Found] = []
    seen: set[tuple[str, str]] = set()
    for tries, (kind, m) in enumerate(_candidates(text)):
        if tries >= MAX_TRIES:
            break
        got = _classify(kind, m.group())
        if got is None:
            continue
        value, families = got
        key = (kind, value[2:] if kind == "txid" and value.startswith("0x") else value)
        if key in seen:
            continue
        seen.add(key)
        out.append(Found(kind, value, m.group(), m.start(), m.end(), families))
        if len(out) >= limit:
            break
    return out


def txids(text: object, *, limit: int = MAX_FOUND) -> list[Found]:
    return [f for f in extract(text, limit=limit) if f.kind == "txid"]


def addresses(text: object, *, limit: int = MAX_FOUND) -> list[Found]:
    return [f for f in extract(text, limit=limit) if f.kind == "address"]


# --- which network the customer says they used --------------------------------------------

# word (lower case, whole word) -> network; token standards name their chain
_NETWORK_WORDS = {
    "bitcoin": "bitcoin", "btc": "bitcoin",
    "litecoin": "litecoin", "ltc": "litecoin",
    "dogecoin": "dogecoin", "doge": "dogecoin",
    "ethereum": "ethereum", "erc20": "ethereum", "erc-20": "ethereum", "eth": "ethereum",
    "bsc": "bsc", "bep20": "bsc", "bep-20": "bsc", "bnb": "bsc",
    "tron": "tron", "trc20": "tron", "trc-20": "tron", "trx": "tron",
    "xrp": "xrp", "ripple": "xrp", "xrpl": "xrp",
    "polygon": "polygon", "matic": "polygon",
    "arbitrum": "arbitrum", "optimism": "optimism", "avalanche": "avalanche",
}
_WORD = re.compile(r"(?<![0-9A-Za-z])(erc-20|bep-20|trc-20|[a-z0-9]{2,12})(?![0-9A-Za-z])", re.IGNORECASE)


def network_hints(text: object, *, scan: int = 20_000) -> list[str]:
    """Networks the text names ("sent via TRC20", "on BSC"), in order of first mention. Never raises.

    A hint for the agent, not a fact: "USDT" alone names no network and is ignored.
    """
    if not isinstance(text, str):
        return []
    out: list[str] = []
    for m in _WORD.finditer(text[:scan]):
        net = _NETWORK_WORDS.get(m.group(1).lower())
        if net and net not in out:
            out.append(net)
    return out
