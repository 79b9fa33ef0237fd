"""Property tests: the txid/address parsers and candidate detection never raise anything but InvalidInput."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_tui.chains import InvalidInput, candidate_networks, default_networks, parse_address, parse_txid, to_checksum_address
from agent_tui.chains.addresses import tron_base58_to_hex, tron_hex_to_base58

NETS = default_networks()
HEX = "0123456789abcdefABCDEF"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

junk = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=HEX + "xX0 \t\n", max_size=80),
    st.text(alphabet=B58, min_size=20, max_size=50).map(lambda s: "T" + s),
    st.text(alphabet=B58, min_size=20, max_size=40).map(lambda s: "r" + s),
    st.text(alphabet="qpzry9x8gf2tvdw0s3jn54khce6mua7l", min_size=6, max_size=80).map(lambda s: "bc1" + s),
    st.text(alphabet="qpzry9x8gf2tvdw0s3jn54khce6mua7l", min_size=6, max_size=80).map(lambda s: "ltc1" + s),
    st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
    st.integers(), st.none(), st.lists(st.integers(), max_size=3),
)


@settings(max_examples=400, deadline=None)
@given(junk)
def test_parse_txid_only_raises_invalid_input(value):
    try:
        p = parse_txid(value)
    except InvalidInput as e:
        assert "\n" not in str(e)
        return
    assert len(p.hex) == 64 and all(c in "0123456789abcdef" for c in p.hex)


@settings(max_examples=400, deadline=None)
@given(junk)
def test_parse_address_only_raises_invalid_input(value):
    try:
        a = parse_address(value)
    except InvalidInput as e:
        assert "\n" not in str(e)
        return
    assert a.families


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.booleans())
def test_any_64_hex_parses(raw, prefix):
    s = ("0x" if prefix else "") + raw.hex()
    p = parse_txid(s.upper() if not prefix else s)
    assert p.hex == raw.hex() and p.kind == ("evm" if prefix else "hex64")


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=20, max_size=20))
def test_evm_checksum_roundtrip(raw):
    cs = to_checksum_address("0x" + raw.hex())
    assert parse_address(cs).normalized == "0x" + raw.hex()
    assert to_checksum_address(cs.lower()) == cs


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=20, max_size=20))
def test_tron_roundtrip(raw):
    t = tron_hex_to_base58(raw.hex())
    assert t.startswith("T") and parse_address(t).families == ("tron",)
    assert tron_base58_to_hex(t) == "41" + raw.hex()


@settings(max_examples=300, deadline=None)
@given(junk, st.one_of(st.none(), st.sampled_from(sorted(NETS)), st.text(max_size=20)), st.one_of(st.none(), junk))
def test_candidates_only_raise_invalid_input(txid, network, address):
    try:
        c = candidate_networks(txid, NETS, claimed=network, address=address)
    except InvalidInput:
        return
    assert c.primary and not set(c.primary) & set(c.fallback)


def test_eip55_known_vectors():
    for a in ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
              "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"):
        assert to_checksum_address(a.lower()) == a


@pytest.mark.parametrize("addr,fams", [
    ("0x2ae6d1401af58f9fbe2eda032b8494d519af5813", ("evm",)),
    ("TXVj38D1XR3TPgSHTCZGC8wkLDAGqF1oqx", ("tron",)),
    ("rLNaPoKeeBjZe2qs6x52yVPZpZ8td4dc6w", ("xrp",)),
    ("bc1qnzw0zfm5l3c9vztpp3aegx0j68zgqajyffr2r6", ("bitcoin",)),
    ("bc1p6uwxc048hflxaerh5zlastpqc7ye0zpvq7gq2a", ("bitcoin",)),  # taproot, bech32m
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", ("bitcoin",)),
    ("LVg2kJoFNg45Nbpy53h7Fe1wKyeXVRhMH9", ("litecoin",)),
    ("ltc1qg42tkwuuxefutzxezdkdel39gfstuap288mfea", ("litecoin",)),
    ("DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", ("dogecoin",)),
])
def test_address_families(addr, fams):
    assert parse_address(addr).families == fams


def test_candidates_narrowing():
    h = "ab" * 32
    c = candidate_networks("0x" + h, NETS, claimed="ethereum")
    assert c.primary[0] == "ethereum" and "bsc" in c.primary and not c.fallback
    c = candidate_networks(h, NETS, address="TXVj38D1XR3TPgSHTCZGC8wkLDAGqF1oqx")
    assert c.primary == ("tron",) and "bitcoin" in c.fallback and "ethereum" not in c.fallback
    c = candidate_networks(h, NETS)
    assert set(c.primary) == {"bitcoin", "litecoin", "dogecoin", "tron", "xrp"}
    c = candidate_networks(h, NETS, address="0x2ae6d1401af58f9fbe2eda032b8494d519af5813")
    assert "ethereum" in c.primary and "tron" in c.fallback
    c = candidate_networks(h, NETS, claimed="litecoin", address="bc1qnzw0zfm5l3c9vztpp3aegx0j68zgqajyffr2r6")
    assert set(c.primary) == {"litecoin", "bitcoin"}
