"""The server refuses what no field should hold (with a 422 naming the field), on SQLite and PostgreSQL.

Names, tags and language codes are synced to every agent's terminal: before this, a tag set by
any agent through PATCH (checked only for length) carried an OSC 52 clipboard write to everyone
who opened the ticket, and a ticket's free-text language did the same.
"""

from __future__ import annotations

import json

import pytest

from tests.hostile import PAYLOADS

HOSTILE_CODES = [make("x") for _, make in PAYLOADS] + ["a b", "", "x" * 65, "\u202eadmin", "en\x00", "tag\u200b"]


def _version(backend, tid: int) -> str:
    return str(backend.api("GET", f"/tickets/{tid}").json()["ticket"]["version"])


def _patch(backend, tid: int, body: dict):
    return backend.api("PATCH", f"/tickets/{tid}", json=body, headers={"If-Match": _version(backend, tid)})


def _new_ticket(backend, **over):
    body = {"subject": "Deposit missing", "queue": "deposits", "requester_id": 1, "body": "Where is my USDT?", **over}
    return backend.api("POST", "/tickets", json=body)


def _is_refusal(r, field: str) -> None:
    assert r.status_code == 422, (r.status_code, r.text[:300])
    err = r.json()
    assert err["error"] == "invalid" and field in err["message"] and "\n" not in err["message"]


def test_hostile_tags_language_and_subjects_are_refused(backend):
    for bad in HOSTILE_CODES:
        _is_refusal(_patch(backend, 3, {"tags": ["vip", bad]}), "tags")
        _is_refusal(_new_ticket(backend, language=bad or "x"), "language")
        _is_refusal(_new_ticket(backend, tags=[bad]), "tags")
    for bad in [make("s") for name, make in PAYLOADS if name not in ("markup", "long")] + ["  ", "line\nbreak"]:
        _is_refusal(_new_ticket(backend, subject=bad), "subject")
    _is_refusal(_patch(backend, 3, {"tags": ["t"] * 51}), "tags")
    _is_refusal(_patch(backend, 3, {"tags": ["x" * 10_000_000]}), "tags")
    _is_refusal(_patch(backend, 3, {"queue": "Deposits\x1b[2J"}), "queue")
    # the ticket is untouched by all of it
    tags = backend.api("GET", "/tickets/3").json()["ticket"]["tags"]
    assert all(t.isprintable() and len(t) <= 64 for t in tags)


def test_ordinary_values_still_pass(backend):
    r = _patch(backend, 3, {"tags": ["vip-watch", "reminder:2026-11-23T01:00Z", "депозит", "入金", "kyc/2"]})
    assert r.status_code == 200, r.text
    r = _new_ticket(backend, subject="Депозит USDT не пришёл 🙁 — ‏مرحبا", language="pt-BR", tags=["deposit"],
                    body="Olá,\n\tmeu depósito não chegou.\r\nObrigado")
    assert r.status_code == 201, r.text
    assert r.json()["ticket"]["language"] == "pt-BR"


def test_text_without_nul_controls_or_lone_surrogates(backend):
    tid = 5
    for bad in ("nul\x00byte", "bell\x07", "c1\x9b2J"):
        r = backend.api("POST", f"/tickets/{tid}/messages", json={"kind": "reply", "body": bad},
                        headers={"Idempotency-Key": f"k-{ord(bad[-1])}-{len(bad)}"})
        _is_refusal(r, "body")
    # a lone surrogate cannot be stored in any database (a 500 before): JSON can carry one escaped
    raw = b'{"key": "k1", "title": "caf\\ud800", "bodies": {"en": "hi"}}'
    r = backend.api("POST", "/macros", content=raw, headers={"Content-Type": "application/json"})
    _is_refusal(r, "title")
    raw = b'{"key": "k2", "title": "ok", "bodies": {"en": "x\\udfff"}}'
    r = backend.api("POST", "/macros", content=raw, headers={"Content-Type": "application/json"})
    _is_refusal(r, "bodies")


@pytest.mark.parametrize("body", [
    {"key": "k", "title": "T", "bodies": {}},  # a macro with no text in any language
    {"key": "k", "title": "T\x1b]52;c;eA==\x07", "bodies": {"en": "x"}},
    {"key": "k", "title": "T", "bodies": {"en\x1b[2J": "x"}},
    {"key": "k", "title": "T", "shortcut": "Bad Shortcut", "bodies": {"en": "x"}},
    {"key": "k", "title": "T", "category": "c\u202e", "bodies": {"en": "x"}},
    {"key": "k" * 101, "title": "T", "bodies": {"en": "x"}},
    {"id": "i" * 65, "key": "k", "title": "T", "bodies": {"en": "x"}},
])
def test_macro_fields(sqlite_backend, body):
    r = sqlite_backend.api("POST", "/macros", json=body)
    assert r.status_code == 422, r.text
    assert "\n" not in r.json()["message"]


def test_the_limits_are_in_the_openapi_schema(sqlite_backend):
    import httpx

    spec = httpx.get(sqlite_backend.url + "/openapi.json").json()["components"]["schemas"]
    tags = spec["TicketPatch"]["properties"]["tags"]["anyOf"][0]
    assert tags["maxItems"] == 50 and tags["items"]["maxLength"] == 64 and "pattern" in tags["items"]
    assert "pattern" in spec["TicketIn"]["properties"]["language"]
    assert spec["MacroIn"]["properties"]["bodies"]["maxProperties"] == 50  # empty only for a macro of actions alone
    json.dumps(spec)  # plain JSON
