"""Finding txids and addresses in customer messages: table tests on real ids, properties on generated ones."""

from __future__ import annotations

import time

import base58
import bech32
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from agent_tui.chains.addresses import to_checksum_address
from agent_tui.chains.config import default_asset_config, networks_from
from agent_tui.chains.extract import MAX_FOUND, addresses, extract, network_hints, txids

ETH_TX = "0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739"
BTC_TX = "20b984492b5264162a4c92c9a34bc7fa08b67d669de7b4c5982ad3cb28aaecf6"
TRON_TX = "0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99"
XRP_TX = "7C031FD5B710E3C048EEF31254089BEEC505900BCC9A842257A0319453333998"
EVM_ADDR = "0x2ae6d1401af58f9fbe2eda032b8494d519af5813"
EVM_ADDR_CK = to_checksum_address(EVM_ADDR)
TRON_ADDR = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
BTC_BECH32 = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
BTC_TAPROOT = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
BTC_P2PKH = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
LTC_BECH32 = "ltc1qg42tkwuuxefutzxezdkdel39gfstuap288mfea"
XRP_ADDR = "rLNaPoKeeBjZe2qs6x52yVPZpZ8td4dc6w"


def values(found):
    return [(f.kind, f.value) for f in found]


CASES = [
    # (message, expected [(kind, value)] in order)
    ("Hi, I sent 1000 USDT on ethereum two hours ago and it is still not in my account. TxID: " + ETH_TX,
     [("txid", ETH_TX)]),
    ("你好，我通过 tron 网络充值了 12 USDT，但是还没有到账。交易哈希：" + TRON_TX, [("txid", TRON_TX)]),
    ("Здравствуйте, TxID:" + BTC_TX + ", адрес " + BTC_BECH32 + ".", [("txid", BTC_TX), ("address", BTC_BECH32)]),
    ("Hash " + XRP_TX + " to " + XRP_ADDR + " tag 12345", [("txid", XRP_TX.lower()), ("address", XRP_ADDR)]),
    (f"https://etherscan.io/tx/{ETH_TX}?utm=1 and https://tronscan.org/#/transaction/{TRON_TX}",
     [("txid", ETH_TX), ("txid", TRON_TX)]),
    (f"sent to {EVM_ADDR_CK} ({TRON_ADDR}) [{BTC_P2PKH}] <{LTC_BECH32}> {BTC_TAPROOT}",
     [("address", EVM_ADDR), ("address", TRON_ADDR), ("address", BTC_P2PKH), ("address", LTC_BECH32), ("address", BTC_TAPROOT)]),
    # the same txid with and without 0x, upper and lower case: once, as first written
    (f"{ETH_TX} again {ETH_TX[2:].upper()} and 0X{ETH_TX[2:]}", [("txid", ETH_TX)]),
    # the same address in two cases: once
    (f"{EVM_ADDR} / {EVM_ADDR_CK} / {BTC_BECH32.upper()}", [("address", EVM_ADDR), ("address", BTC_BECH32)]),
    # near misses
    ("0x" + "a" * 63, []),  # too short
    ("a" * 65, []),  # a 64-hex run inside a longer one
    ("x" + BTC_TX, []),  # glued to a letter
    (BTC_TX + "g", []),
    ("0x" + "g" * 64, []),
    (EVM_ADDR_CK[:-1] + ("A" if EVM_ADDR_CK[-1].islower() else "a"), []),  # EIP-55 checksum broken by one case flip
    (TRON_ADDR[:-1] + "u", []),  # base58check checksum broken
    (BTC_BECH32[:-1] + "p", []),  # bech32 checksum broken
    ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6", []),  # truncated
    ("USDT TRC20 ERC20 0x 0x0 1234567890 " + "1" * 30, []),
    ("", []),
]


@pytest.mark.parametrize("text,expected", CASES, ids=range(len(CASES)))
def test_table(text, expected):
    found = extract(text)
    assert values(found) == expected
    for f in found:
        assert text[f.start:f.end] == f.text


def test_kinds_and_families():
    assert [f.families for f in txids(f"{ETH_TX} {BTC_TX} {EVM_ADDR}")] == [("evm",), ("bitcoin", "litecoin", "dogecoin", "tron", "xrp", "evm")]
    assert [a.families for a in addresses(f"{EVM_ADDR} {TRON_ADDR} {XRP_ADDR} {LTC_BECH32}")] == [("evm",), ("tron",), ("xrp",), ("litecoin",)]


def test_terminal_escapes_do_not_hide_or_glue_ids():
    text = f"pay \x1b[31m{ETH_TX}\x1b[0m done \x9b1m{BTC_TX}\x1b]52;c;{EVM_ADDR}\x07 end"
    found = extract(text)
    # the OSC 52 payload (a clipboard write) is dropped with its sequence, as textsafe does
    assert values(found) == [("txid", ETH_TX), ("txid", BTC_TX)]
    assert all(text[f.start:f.end] == f.text for f in found)


def test_seeded_message_shapes():
    # as backend/seed.py writes them (EVM with 0x, XRP upper case, others bare)
    assert values(extract(f"Hola, envié 50.00 USDT por bsc y todavía no aparece en mi cuenta. TxID: {ETH_TX}")) == [("txid", ETH_TX)]
    assert values(extract(f"I sent 25.5 XRP without the destination tag. Can you recover it? Hash {XRP_TX}")) == [("txid", XRP_TX.lower())]


@pytest.mark.parametrize("hostile", [
    None, 12, b"\xff\xfe" + BTC_TX.encode(), ["x"], "\x00" * 10_000, "[bold red]" * 10_000, "\u202e" + ETH_TX + "\u202c",
    "a" * 3_000_000, "0x" * 500_000, ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6x " * 40_000), "\x1b]" + "a" * 100_000,
    "\ud800" + BTC_TX,
])
def test_hostile_input_never_raises_and_is_fast(hostile):
    t0 = time.monotonic()
    found = extract(hostile)
    assert isinstance(found, list) and len(found) <= MAX_FOUND
    assert time.monotonic() - t0 < 3.0
    hints = network_hints(hostile)
    assert isinstance(hints, list) and len(hints) == len(set(hints))
    assert set(hints) <= set(networks_from(default_asset_config()))  # only networks the desk knows, each once


def test_bytes_are_decoded():
    assert values(extract(b"\xff tx " + BTC_TX.encode())) == [("txid", BTC_TX)]


def test_many_ids_are_capped():
    many = " ".join("%064x" % i for i in range(1, 1000))
    found = extract(many)
    assert len(found) == MAX_FOUND and found[0].value == "%064x" % 1
    assert len(extract(many, limit=5)) == 5


def test_network_hints():
    assert network_hints("I sent USDT via TRC-20, not ERC20") == ["tron", "ethereum"]
    assert network_hints("envié 50 USDT por bsc") == ["bsc"]
    assert network_hints("USDT") == []
    assert network_hints("tronscan ethereumish") == []  # whole words only
    assert network_hints(None) == []


# --- properties on generated ids -----------------------------------------------------------

b20 = st.binary(min_size=20, max_size=20)
b32 = st.binary(min_size=32, max_size=32)


def evm_address(raw: bytes) -> str:
    return to_checksum_address("0x" + raw.hex())


def tron_address(raw: bytes) -> str:
    return base58.b58encode_check(b"\x41" + raw).decode()


def btc_p2pkh(raw: bytes) -> str:
    return base58.b58encode_check(b"\x00" + raw).decode()


def xrp_address(raw: bytes) -> str:
    return base58.b58encode_check(b"\x00" + raw, alphabet=base58.RIPPLE_ALPHABET).decode()


def segwit(hrp: str, raw: bytes) -> str:
    return bech32.encode(hrp, 0, raw)


@st.composite
def an_id(draw):
    """(text as written, kind, canonical value)"""
    which = draw(st.sampled_from(["evm_tx", "hex_tx", "evm", "tron", "btc", "xrp", "bc1", "ltc1"]))
    if which in ("evm_tx", "hex_tx"):
        h = draw(b32).hex()
        upper = draw(st.booleans())
        shown = h.upper() if upper else h
        return ("0x" + shown, "txid", "0x" + h) if which == "evm_tx" else (shown, "txid", h)
    raw = draw(b20)
    if which == "evm":
        a = evm_address(raw)
        return a, "address", a.lower()
    if which == "bc1":
        a = segwit("bc", raw)
        return a, "address", a
    if which == "ltc1":
        a = segwit("ltc", raw)
        return a, "address", a
    a = {"tron": tron_address, "btc": btc_p2pkh, "xrp": xrp_address}[which](raw)
    return a, "address", a


separators = st.sampled_from([" ", "\n", ": ", " (", ") ", ", ", "：", " 哈希 ", "\t", "/", "\x1b[0m", " — ", "\u200b"])
# no digits or hex letters (they could extend an id), no ESC or C1 (they start escape sequences that swallow what follows)
filler = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="0123456789abcdefABCDEFxX\x1b" + "".join(map(chr, range(0x80, 0xa0)))), max_size=20)


@given(st.lists(an_id(), max_size=6), st.lists(separators, min_size=7, max_size=7), st.lists(filler, min_size=7, max_size=7))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_generated_ids_are_found_in_order_with_spans(ids, seps, fill):
    # filler has no digits or hex letters (so it cannot extend an id), separators no ASCII alphanumerics
    text = "".join(fill[i] + seps[i] + shown + seps[i + 1] for i, (shown, _, _) in enumerate(ids)) + fill[6]
    want, seen = [], set()
    for _, kind, value in ids:
        key = (kind, value.removeprefix("0x") if kind == "txid" else value)
        if key not in seen:
            seen.add(key)
            want.append((kind, value))
    found = extract(text)
    assert values(found) == want
    assert [f.start for f in found] == sorted(f.start for f in found)
    for f in found:
        assert text[f.start:f.end] == f.text


@given(b20, st.integers(min_value=0, max_value=39))
def test_one_case_flip_breaks_an_eip55_address(raw, pos):
    a = evm_address(raw)
    body = a[2:]
    c = body[pos]
    assume(c.isalpha())
    flipped = body[:pos] + (c.lower() if c.isupper() else c.upper()) + body[pos + 1:]
    assume(flipped != flipped.lower() and flipped != flipped.upper())  # still mixed case: checksummed
    assert extract("to 0x" + flipped) == []


@given(b20, st.data())
def test_one_substitution_breaks_a_bech32_address(raw, data):
    a = segwit("bc", raw)
    pos = data.draw(st.integers(min_value=3, max_value=len(a) - 1))
    c = data.draw(st.sampled_from([x for x in bech32.CHARSET if x != a[pos]]))
    assert extract(" " + a[:pos] + c + a[pos + 1:] + " ") == []


@given(st.text(max_size=2000))
@settings(max_examples=300)
def test_any_text_gives_consistent_results(text):
    found = extract(text)
    assert len({(f.kind, f.value.removeprefix("0x")) for f in found}) == len(found)
    for f in found:
        assert text[f.start:f.end] == f.text and f.kind in ("txid", "address")
    network_hints(text)


@given(st.binary(max_size=2000))
def test_any_bytes_never_raise(raw):
    extract(raw)
