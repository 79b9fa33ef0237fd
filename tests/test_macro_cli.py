"""`macro list|render` and `check-reply` as a user runs them, on a cache filled from the seeded backend."""

from __future__ import annotations

import json
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner

from agent_tui.config import ConfigError, Settings
from agent_tui.cli.macros import EXIT_BLOCKED, EXIT_ERROR, EXIT_OK, EXIT_WARNINGS, make_macro_commands
from tests.desk import seeded_cache

ALLOWED = ["desk.example", "exchange.example"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    c = seeded_cache(tmp_path_factory.mktemp("cli"))
    yield c
    c.close()


def cli(cache, settings=None) -> click.Group:
    group, check = make_macro_commands(lambda: cache, lambda: settings or Settings(allowed_domains=ALLOWED))

    @click.group()
    def main() -> None:
        pass

    main.add_command(group)
    main.add_command(check)
    return main


def run(cache, *args, input=None, settings=None):
    return CliRunner().invoke(cli(cache, settings), list(args), input=input)


def ticket_in(cache, lang: str) -> dict:
    for tid in range(1, 201):
        t = cache.ticket(tid)
        if t and cache.customer(t["requester_id"])["language"] == lang:
            return t
    raise AssertionError(lang)


# --- macro list ---------------------------------------------------------------------------------------


def test_list_shows_every_shared_macro(cache):
    r = run(cache, "macro", "list")
    assert r.exit_code == 0, r.output
    assert "greeting_ack" in r.output and "::ack" in r.output and "19 macro(s)" in r.output


def test_list_has_a_header_row(cache):
    r = run(cache, "macro", "list")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0].split() == ["KEY", "SHORTCUT", "LANGUAGES", "USES", "TITLE"]


def test_list_json(cache):
    r = run(cache, "macro", "list", "--json")
    data = json.loads(r.output)
    assert len(data) == 19 and {"key", "title", "bodies", "actions", "shortcut"} <= set(data[0])


# --- macro render ---------------------------------------------------------------------------------------


def test_render_prints_text_actions_changes_and_the_guard(cache):
    t = ticket_in(cache, "es")
    r = run(cache, "macro", "render", "close_solved", "--ticket", str(t["id"]), "--agent", "1")
    assert r.exit_code == EXIT_OK, r.output
    assert "Alex Morgan" in r.output and f"{t['id']}" in r.output
    assert "[es]" in r.output and "actions: status → solved" in r.output and "guard: ok" in r.output


def test_render_missing_fields_are_warnings_and_fill_fixes_them(cache):
    t = ticket_in(cache, "en")
    r = run(cache, "macro", "render", "::dconf", "--ticket", str(t["id"]), "--agent", "Alex Morgan")
    assert r.exit_code == EXIT_WARNINGS, r.output
    assert "⟦deposit.txid⟧" in r.output and "missing: deposit.txid" in r.output
    assert "unfilled_placeholder" in r.output
    r = run(cache, "macro", "render", "::dconf", "--ticket", str(t["id"]), "--agent", "1",
            "--fill", "deposit.txid=0xfeed", "--fill", "deposit.network=tron", "--fill", "deposit.confirmations=3",
            "--fill", "deposit.required_confirmations=20")
    assert r.exit_code == EXIT_OK, r.output
    assert "0xfeed" in r.output and "3 of the 20" in r.output


def test_render_reads_a_verdict_file_and_prints_json(cache, tmp_path):
    t = ticket_in(cache, "en")
    verdict = {"code": "not_found", "macro": "deposit_not_found", "txid": "0x" + "ab" * 32, "network": None,
               "claimed_network": "bsc", "evidence": {}}
    path = tmp_path / "v.json"
    path.write_text(json.dumps(verdict))
    r = run(cache, "macro", "render", "deposit_not_found", "--ticket", str(t["id"]), "--agent", "1",
            "--verdict", str(path), "--json", "--lang", "en")
    data = json.loads(r.output)
    assert r.exit_code == EXIT_OK and data["exit"] == 0, r.output
    assert data["language"] == "en" and verdict["txid"] in data["text"] and data["missing"] == []
    assert data["changes"]["status"] == "pending" and data["changes"]["tags"][-1].startswith("reminder:")
    assert data["guard"]["ok"] is True


def test_render_routes_memo_cases_to_the_recovery_queue(cache):
    t = ticket_in(cache, "en")
    r = run(cache, "macro", "render", "deposit_missing_memo", "--ticket", str(t["id"]), "--agent", "1", "--json")
    data = json.loads(r.output)
    assert data["changes"]["queue"] == "recovery" and not data.get("skipped")


def test_render_errors_are_one_line(cache, tmp_path):
    for args, needle in [
        (["macro", "render", "nope", "--ticket", "1"], "no macro 'nope'"),
        (["macro", "render", "close_solved", "--ticket", "99999"], "ticket 99999 is not in the local cache"),
        (["macro", "render", "close_solved", "--ticket", "1", "--fill", "oops"], "expected PATH=VALUE"),
        (["macro", "render", "close_solved", "--ticket", "1", "--verdict", str(tmp_path / "none.json")], "cannot read"),
        (["macro", "render", "close_solved", "--ticket", "1", "--agent", "999"], "no agent with id 999"),
    ]:
        r = CliRunner().invoke(cli(cache), args)
        assert r.exit_code == EXIT_ERROR, (args, r.output)
        assert needle in r.output and r.output.count("\n") == 1 and "Traceback" not in r.output, r.output


# --- check-reply -------------------------------------------------------------------------------------------


def test_check_reply_ok(cache, tmp_path):
    f = tmp_path / "reply.txt"
    f.write_text("Your deposit is confirmed. See https://desk.example/help for details.", encoding="utf-8")
    r = run(cache, "check-reply", "--ticket", "1", str(f))
    assert r.exit_code == EXIT_OK and "guard: ok" in r.output


def test_check_reply_blocks_a_request_for_a_secret_from_stdin(cache):
    r = run(cache, "check-reply", "--ticket", "1", "-", input="To verify, please send us your 12-word seed phrase.")
    assert r.exit_code == EXIT_BLOCKED, r.output
    assert "BLOCK asks_for_seed_phrase" in r.output and "BLOCKED" in r.output


def test_check_reply_warns_on_a_lookalike_link_and_a_foreign_address(cache):
    other = cache.customer(2)["addresses"]
    t = next(cache.ticket(i) for i in range(1, 201) if cache.ticket(i)["requester_id"] != 2)
    evm = next(a["address"] for a in other if a["network"] == "ethereum")
    r = run(cache, "check-reply", "--ticket", str(t["id"]), "-", "--json",
            input=f"Log in at https://desk-example.com/login and send it to {evm}.")
    data = json.loads(r.output)
    assert r.exit_code == EXIT_WARNINGS and data["exit"] == EXIT_WARNINGS
    assert data["codes"] == ["lookalike_domain", "unknown_address"] and not data["blocked"]


def test_check_reply_knows_the_customers_own_address(cache):
    t = cache.ticket(1)
    mine = cache.customer(t["requester_id"])["addresses"][0]["address"]
    r = run(cache, "check-reply", "--ticket", "1", "-", input=f"Your deposit address is {mine}.")
    assert r.exit_code == EXIT_OK, r.output


def test_check_reply_uses_the_allowed_domains_setting(cache):
    text = "Details at https://status.partner.example/incident"
    assert run(cache, "check-reply", "--ticket", "1", "-", input=text).exit_code == EXIT_WARNINGS
    r = run(cache, "check-reply", "--ticket", "1", "-", input=text, settings=Settings(allowed_domains=["partner.example"]))
    assert r.exit_code == EXIT_OK, r.output


def test_check_reply_errors_are_one_line(cache, tmp_path):
    bad = tmp_path / "bin.txt"
    bad.write_bytes(b"\xff\xfe\x00bad")
    cases = [
        (["check-reply", "--ticket", "99999", "-"], "hello", "not in the local cache"),
        (["check-reply", "--ticket", "1", str(tmp_path / "missing.txt")], None, "cannot read"),
        (["check-reply", "--ticket", "1", str(bad)], None, "not UTF-8"),
        (["check-reply", "--ticket", "1", "-"], "   ", "the reply is empty"),
    ]
    for args, stdin, needle in cases:
        r = CliRunner().invoke(cli(cache), args, input=stdin)
        assert r.exit_code == EXIT_ERROR, (args, r.output)
        assert needle in r.output and r.output.count("\n") == 1, r.output


def test_a_config_or_cache_problem_is_one_line(cache):
    def bad_settings():
        raise ConfigError("Config setting 'allowed_domains': Input should be a valid list. Fix it in /x/config.toml.")

    group, check = make_macro_commands(lambda: cache, bad_settings)
    r = CliRunner().invoke(check, ["--ticket", "1", "-"], input="hello")
    assert r.exit_code == EXIT_ERROR and r.output.startswith("error: Config setting") and r.output.count("\n") == 1

    def no_cache():
        raise OSError("unable to open database file")

    group, check = make_macro_commands(no_cache, lambda: SimpleNamespace(allowed_domains=[]))
    r = CliRunner().invoke(group, ["list"])
    assert r.exit_code == EXIT_ERROR and "cannot open the local cache" in r.output and r.output.count("\n") == 1


def test_an_unexpected_error_is_one_line_naming_the_crash_log(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENT_TUI_LOG_DIR", str(tmp_path / "log"))

    def broken_macros():
        raise RuntimeError("bad\nrow \x1b[2J")

    broken = SimpleNamespace(agents=lambda: {}, macros=broken_macros)
    group, check = make_macro_commands(lambda: broken, lambda: SimpleNamespace(allowed_domains=[]))
    r = CliRunner().invoke(group, ["list"])
    assert r.exit_code == EXIT_ERROR and r.output.count("\n") == 1 and "\x1b" not in r.output
    assert r.output.startswith("error: bad row (RuntimeError); details in ") and "crash.log" in r.output


# --- JSON output is inert ----------------------------------------------------------------------------------

RAW_HOSTILE = ("\x1b", "\x9b", "\x9d", "\x85", "\u202e", "\u2066", "\u200b", "\u2028")


@pytest.fixture()
def hostile_cache(tmp_path):
    c = seeded_cache(tmp_path, tickets=20, name="hostile")
    # Jinja decodes escapes in string literals, so a body the cache holds clean renders raw controls
    c.queue_macro({"key": "sneaky", "title": "Sneaky", "shortcut": "sneaky",
                   "bodies": {"en": "pay {{ '\\x9b31m' }}{{ '\\u202e' }}exe.txt{{ '\\x1b]52;c;ZXZpbA==\\x07' }} "
                                    "{{ deposit.txid }}"}}, owner_id=1)
    yield c
    c.close()


def _assert_inert_json(raw: bytes):
    text = raw.decode("utf-8")
    found = [ch for ch in RAW_HOSTILE if ch in text]
    assert not found, found
    return json.loads(text)


def test_render_json_escapes_controls_and_bidi_from_the_body_and_the_verdict(hostile_cache, tmp_path):
    verdict = tmp_path / "v.json"
    verdict.write_text(json.dumps({"code": "not_found", "txid": "0xab\x85\u2066cd"}), encoding="utf-8")
    r = CliRunner().invoke(cli(hostile_cache), ["macro", "render", "sneaky", "--ticket", "1", "--agent", "1",
                                                "--verdict", str(verdict), "--json"])
    assert r.exit_code in (EXIT_OK, EXIT_WARNINGS), r.output
    data = _assert_inert_json(r.stdout_bytes)
    # the text is the rendered macro as it is (the context cleans the verdict's fields itself)
    assert data["text"].startswith("pay \x9b31m\u202eexe.txt\x1b]52;c;ZXZpbA==\x07 0xab")


def test_list_and_check_reply_json_are_inert(hostile_cache, tmp_path):
    r = CliRunner().invoke(cli(hostile_cache), ["macro", "list", "--agent", "1", "--json"])
    assert r.exit_code == EXIT_OK, r.output
    assert any(m["key"] == "sneaky" for m in _assert_inert_json(r.stdout_bytes))
    reply = tmp_path / "reply.txt"
    reply.write_text("send it to https://desk.example\u202e.evil.example/\x9b2J now", encoding="utf-8")
    r = CliRunner().invoke(cli(hostile_cache), ["check-reply", "--ticket", "1", str(reply), "--json"])
    _assert_inert_json(r.stdout_bytes)
