"""GET /api/v1/ledger: the deposit ledger's rows for one txid, on SQLite and PostgreSQL (the real backend)."""

from __future__ import annotations


def a_seeded_deposit(backend) -> dict:
    for cid in range(1, 200):
        r = backend.api("GET", f"/customers/{cid}/deposits")
        if r.status_code == 200 and r.json()["deposits"]:
            return r.json()["deposits"][0]
    raise AssertionError("the seed has no deposits")


def test_ledger_rows_by_txid_in_any_form(backend):
    d = a_seeded_deposit(backend)
    bare = d["txid"].lower().removeprefix("0x")
    for form in (d["txid"], bare.upper(), "0x" + bare, "0X" + bare.upper()):
        r = backend.api("GET", "/ledger", params={"txid": form})
        assert r.status_code == 200, r.text
        rows = r.json()["deposits"]
        assert d["id"] in [x["id"] for x in rows]
        assert all(x["txid"].lower().removeprefix("0x") == bare for x in rows)
        row = next(x for x in rows if x["id"] == d["id"])
        assert row == d  # the same fields as the customer's deposits

    by_net = backend.api("GET", "/ledger", params={"txid": d["txid"], "network": d["network"].upper()}).json()["deposits"]
    assert d["id"] in [x["id"] for x in by_net]
    other = "tron" if d["network"].lower() != "tron" else "bitcoin"
    assert backend.api("GET", "/ledger", params={"txid": d["txid"], "network": other}).json()["deposits"] == []
    assert backend.api("GET", "/ledger", params={"txid": "ab" * 32}).json() == {"deposits": []}


def test_ledger_refuses_what_is_no_txid_and_needs_a_token(backend):
    for bad in ("", "0x123", "zz" * 32, "ab" * 32 + "'; drop table deposits; --", "[b]x"):
        r = backend.api("GET", "/ledger", params={"txid": bad})
        assert r.status_code == 422 and r.json()["error"], r.text
    assert backend.api("GET", "/ledger", params={"txid": "ab" * 32, "network": "eth\x1b[2J"}).status_code == 422
    assert backend.api("GET", "/ledger", token="wrong", params={"txid": "ab" * 32}).status_code == 401
