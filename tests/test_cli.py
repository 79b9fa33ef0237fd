"""The `agent-tui` command as a user runs it: real processes, real backend, real keyring where there is one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from storage.cache import Cache
from tests.conftest import IN_CI, REPO


def run(*args: str, env: dict | None = None, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "agent_tui.cli", *args], cwd=REPO, capture_output=True, text=True,
                          env=full_env, input=stdin, timeout=timeout)


def one_clear_line(p: subprocess.CompletedProcess) -> str:
    assert p.returncode != 0
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_sync_against_serve_pulls_and_pushes(sqlite_backend, tmp_path):
    env = {"AGENT_TUI_SERVER_URL": sqlite_backend.url, "AGENT_TUI_TOKEN": "demo-agent", "AGENT_TUI_CACHE": str(tmp_path / "c.db")}
    p = run("sync", env=env)
    assert p.returncode == 0, p.stderr
    assert "pulled 300 tickets" in p.stdout
    cache = Cache.open(tmp_path / "c.db")
    with cache.engine.connect() as c:
        tid = c.exec_driver_sql("SELECT id FROM tickets WHERE status='open' LIMIT 1").scalar()
    cache.queue_reply(tid, "Sent from a headless sync.", internal=False, agent_id=1, agent_name="Alex")
    cache.close()
    p = run("sync", env=env)
    assert p.returncode == 0 and "pushed 1 changes" in p.stdout and "0 waiting" in p.stdout, p.stdout + p.stderr
    bodies = [m["body"] for m in sqlite_backend.api("GET", f"/tickets/{tid}").json()["messages"]]
    assert bodies.count("Sent from a headless sync.") == 1
    p = run("status", env=env)
    assert p.returncode == 0
    assert "online, signed in as Alex Morgan" in p.stdout and "outbox:     0" in p.stdout and "300 tickets" in p.stdout


def test_sync_with_the_backend_down_is_one_line_and_nonzero(tmp_path):
    env = {"AGENT_TUI_SERVER_URL": "http://127.0.0.1:9", "AGENT_TUI_TOKEN": "x", "AGENT_TUI_CACHE": str(tmp_path / "c.db")}
    line = one_clear_line(run("sync", env=env))
    assert "cannot connect" in line and "changes stay queued" in line


@pytest.mark.parametrize("args,needle", [
    (("sync",), "no server configured"),
    (("login", "not-a-url", "--token-stdin"), "is not a URL"),
    (("serve", "--db", "postgresql://nobody@127.0.0.1:1/none", "--port", "8999"), "cannot open the database"),
    (("lookup", "0xnot-a-txid"), "not a transaction id"),
])
def test_user_errors_are_one_line(args, needle):
    line = one_clear_line(run(*args, stdin=""))
    assert needle in line


def test_login_without_a_keyring_says_what_to_do(sqlite_backend):
    p = run("login", sqlite_backend.url, "--token-stdin", stdin="demo-agent\n",
            env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    line = one_clear_line(p)
    assert "No OS keyring" in line and "AGENT_TUI_TOKEN" in line


def test_login_without_a_keyring_saves_the_url_and_agent_tui_token_then_works(sqlite_backend, tmp_path):
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    line = one_clear_line(run("login", sqlite_backend.url, "--token-stdin", stdin="demo-agent\n", env=no_keyring))
    assert "AGENT_TUI_TOKEN" in line and f"AGENT_TUI_SERVER_URL={sqlite_backend.url}" in line and "saved" in line
    config = (tmp_path / "config" / "config.toml").read_text()
    assert sqlite_backend.url in config and "demo-agent" not in config
    p = run("sync", env={**no_keyring, "AGENT_TUI_TOKEN": "demo-agent", "AGENT_TUI_CACHE": str(tmp_path / "c.db")})
    assert p.returncode == 0 and "pulled 300 tickets" in p.stdout, p.stderr


def test_macro_render_with_agent_tui_token_signs_as_the_token_s_agent(sqlite_backend, tmp_path):
    env = {"AGENT_TUI_SERVER_URL": sqlite_backend.url, "AGENT_TUI_TOKEN": "demo-agent", "AGENT_TUI_CACHE": str(tmp_path / "c.db")}
    assert run("sync", env=env).returncode == 0
    cache = Cache.open(tmp_path / "c.db")
    with cache.engine.connect() as c:
        tid = c.exec_driver_sql("SELECT id FROM tickets WHERE assignee_id IS NULL LIMIT 1").scalar()
    cache.close()
    p = run("macro", "render", "close_solved", "--ticket", str(tid), env=env)
    assert "Alex Morgan" in p.stdout and "agent.name" not in p.stdout, p.stdout + p.stderr
    p = run("macro", "render", "close_solved", "--ticket", str(tid),
            env={**env, "AGENT_TUI_SERVER_URL": "http://127.0.0.1:9"})  # offline: renders, and says why unsigned
    assert "Traceback" not in p.stderr and "cannot ask http://127.0.0.1:9 who signs the reply" in p.stderr
    assert "agent.name" in p.stdout


def _secret_service_available() -> bool:
    p = subprocess.run([sys.executable, "-c", "import keyring; print(type(keyring.get_keyring()).__module__)"],
                       capture_output=True, text=True, timeout=60)
    return "SecretService" in p.stdout


def test_login_stores_the_token_in_the_keyring_only(sqlite_backend, tmp_path):
    if not _secret_service_available():
        if IN_CI:
            pytest.fail("CI must run the keyring tests against a real Secret Service (gnome-keyring)")
        pytest.skip("no Secret Service running (run under dbus-run-session with gnome-keyring, as .ci/run does)")
    p = run("login", sqlite_backend.url, "--token-stdin", stdin="demo-supervisor\n")
    assert p.returncode == 0, p.stderr
    assert "as Sam Okafor (supervisor)" in p.stdout
    config = (tmp_path / "config" / "config.toml").read_text()
    assert sqlite_backend.url in config and "demo-supervisor" not in config
    env = {"AGENT_TUI_CACHE": str(tmp_path / "c.db")}
    p = run("sync", env=env)  # the token comes from the keyring now
    assert p.returncode == 0 and "pulled 300 tickets" in p.stdout, p.stderr
    assert run("logout").returncode == 0
    line = one_clear_line(run("sync", env=env))
    assert "not signed in" in line
    for f in (tmp_path / "log").glob("*"):
        assert "demo-supervisor" not in f.read_text()


def test_demo_on_a_port_in_use_is_one_line():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = run("demo", "--tickets", "100", "--rate", "0", "--port", str(port))
    assert p.returncode != 0 and "Traceback" not in p.stderr and "ERROR" not in p.stderr
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("agent-tui:")]  # besides the progress lines
    assert len(errors) == 1 and "cannot start the demo backend" in errors[0] and "--port 0" in errors[0]


def test_the_demo_says_where_its_files_are_and_removes_them_after_an_error(tmp_path):
    import socket

    (tmp_path / "tmp").mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        p = run("demo", "--tickets", "100", "--rate", "0", "--port", str(s.getsockname()[1]),
                env={"TMPDIR": str(tmp_path / "tmp")})
    assert p.returncode != 0 and f"{tmp_path / 'tmp'}/agent-tui-demo-" in p.stderr
    assert list((tmp_path / "tmp").iterdir()) == []


def test_an_unexpected_cli_error_is_one_inert_line_and_logged(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from agent_tui.cli import root as cli

    monkeypatch.setenv("AGENT_TUI_LOG_DIR", str(tmp_path / "log"))

    def boom():
        raise RuntimeError("two\nlines \x1b[2J with an escape")

    monkeypatch.setattr(cli, "_settings", boom)
    r = CliRunner().invoke(cli.main, ["logout"])
    assert r.exit_code == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "\x1b" not in lines[0] and "RuntimeError: two lines with an escape" in lines[0]
    assert "crash.log" in lines[0] and "Traceback" in (tmp_path / "log" / "crash.log").read_text()


def test_a_malformed_report_answer_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from agent_tui import cli, report

    monkeypatch.setenv("AGENT_TUI_LOG_DIR", str(tmp_path / "log"))
    monkeypatch.setattr(report, "_server_and_token", lambda: ("http://desk.example", "t", 10.0))
    monkeypatch.setattr(report, "fetch", lambda *a, **k: {"rows": [{"key": "q"}], "total": {}})
    r = CliRunner().invoke(cli.main, ["report", "--from", "2026-01-01", "--to", "2026-01-02"])
    assert r.exit_code == 1 and r.stdout == ""
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("agent-tui: unexpected error (KeyError") and "crash.log" in lines[0]


def _synced_env(backend, tmp_path) -> tuple[dict, list[int]]:
    env = {"AGENT_TUI_SERVER_URL": backend.url, "AGENT_TUI_TOKEN": "demo-agent", "AGENT_TUI_CACHE": str(tmp_path / "c.db")}
    assert run("sync", env=env).returncode == 0
    cache = Cache.open(tmp_path / "c.db")
    with cache.engine.connect() as c:
        ids = list(c.exec_driver_sql("SELECT id FROM tickets WHERE status='open' ORDER BY id LIMIT 2").scalars())
    cache.close()
    return env, ids


def test_sync_with_a_change_the_server_always_fails_on_is_nonzero_and_says_so(sqlite_backend, tmp_path):
    env, (a, b) = _synced_env(sqlite_backend, tmp_path)
    cache = Cache.open(tmp_path / "c.db")
    cache.queue_reply(a, "POISON reply.", internal=False, agent_id=1, agent_name="Alex")
    for i in range(3):
        cache.queue_reply(b, f"Fine reply {i}.", internal=False, agent_id=1, agent_name="Alex")
    cache.close()
    sqlite_backend.fault(f"/api/v1/tickets/{a}/messages", "500", count=1000, body_contains="POISON")
    for _run in range(2):  # and again: it stays visible until the agent has looked at it
        p = run("sync", env=env)
        line = one_clear_line(p)
        assert "1 change refused by the server" in line and "press R" in line, line
        assert "0 waiting" in p.stdout
    bodies = [m["body"] for m in sqlite_backend.api("GET", f"/tickets/{b}").json()["messages"]]
    assert [f"Fine reply {i}." in bodies for i in range(3)] == [True] * 3


def test_sync_with_a_change_waiting_for_a_retry_is_nonzero_and_says_so(sqlite_backend, tmp_path):
    env, (a, b) = _synced_env(sqlite_backend, tmp_path)
    cache = Cache.open(tmp_path / "c.db")
    cache.queue_reply(a, "Waits for its retry.", internal=False, agent_id=1, agent_name="Alex")
    cache.queue_update(a, {"priority": "high"})
    cache.queue_reply(b, "Goes out now.", internal=False, agent_id=1, agent_name="Alex")
    with cache.engine.begin() as c:  # as an earlier run left it: the server failed on it, retry later
        c.exec_driver_sql("UPDATE outbox SET attempts = 2, last_error = 'the server failed (HTTP 500)', "
                          "next_attempt_at = 4102444800 WHERE seq = (SELECT min(seq) FROM outbox)")
    cache.close()
    p = run("sync", env=env)
    line = one_clear_line(p)
    assert f"reply on #{a}" in line and "waiting for a retry" in line and "1 more" in line, line
    assert "agent-tui sync" in line
    assert "Goes out now." in [m["body"] for m in sqlite_backend.api("GET", f"/tickets/{b}").json()["messages"]]


def test_sync_against_a_feed_that_does_not_move_on_stops_with_one_line(sqlite_backend, tmp_path):
    env, _ids = _synced_env(sqlite_backend, tmp_path)
    sqlite_backend.fault("/api/v1/changes", "stuck_cursor", count=100_000)
    line = one_clear_line(run("sync", env=env, timeout=60))
    assert "did not move on" in line and "changes stay queued" in line, line


def test_sync_with_a_partial_ticket_in_the_answer_is_one_line_and_keeps_the_reply(sqlite_backend, tmp_path):
    env, (a, _b) = _synced_env(sqlite_backend, tmp_path)
    cache = Cache.open(tmp_path / "c.db")
    change = cache.queue_reply(a, "Half an answer comes back.", internal=False, agent_id=1, agent_name="Alex")
    cache.close()
    sqlite_backend.fault(f"/api/v1/tickets/{a}/messages", "drop_field", field="ticket.version")
    line = one_clear_line(run("sync", env=env))
    assert "HTTP 201" in line and "missing field ticket.version" in line and "changes stay queued" in line, line
    assert [r["change_id"] for r in Cache.open(tmp_path / "c.db").outbox()] == [change]


def test_help_lists_the_lazy_commands_as_they_describe_themselves_without_loading_them():
    """`agent-tui --help` names every command with its own first line, and starts without importing the
    look-up, macro and report code (that is what makes it fast: bench/cli_start.py measures it)."""
    import click

    code = ("import sys; from click.testing import CliRunner; from agent_tui.cli import main; "
            "r = CliRunner().invoke(main, ['--help']); print(r.output); "
            "print('LOADED', sorted(m for m in sys.modules if m.startswith(('agent_tui.chains', 'agent_tui.macros', "
            "'agent_tui.report', 'storage', 'sqlalchemy', 'textual'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60).stdout
    assert out.strip().endswith("LOADED []"), out[-600:]
    from agent_tui.cli import LAZY, main

    ctx = click.Context(main)
    for name, (_load, listed) in LAZY.items():
        assert name in out
        assert main.get_command(ctx, name).get_short_help_str(1000) == listed  # the listing does not drift


def test_a_cached_lookup_is_answered_without_loading_the_orm(tmp_path):
    """The second `agent-tui lookup` of a settled deposit reads the cache file directly (storage.quick):
    the same verdict, no request to the chain, and SQLAlchemy never imported (bench/cli_start.py times it)."""
    from tests.chains.fixture_server import FixtureServer

    txid, address = "0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739", "0x2ae6d1401af58f9fbe2eda032b8494d519af5813"
    with FixtureServer() as server:
        env = {**os.environ, "AGENT_TUI_CONFIG_DIR": str(tmp_path / "cfg"), "AGENT_TUI_DATA_DIR": str(tmp_path / "data"),
               "AGENT_TUI_LOG_DIR": str(tmp_path / "log"), "AGENT_TUI_RPC_ETHEREUM": f"{server.url}/evm/1"}
        env.pop("AGENT_TUI_TOKEN", None)
        env.pop("AGENT_TUI_SERVER_URL", None)
        code = ("import sys; from agent_tui.cli import main\n"
                "try:\n    main()\nexcept SystemExit:\n    pass\n"
                "print('ORM', 'sqlalchemy' in sys.modules, file=sys.stderr)")
        args = [sys.executable, "-c", code, "lookup", txid, "--network", "ethereum", "--address", address, "--json"]
        first = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        hits = server.httpd.hits
        again = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert first.stdout and first.stdout == again.stdout, (first.stderr, again.stderr)
    assert server.httpd.hits == hits  # from the cache
    assert "ORM True" in first.stderr and "ORM False" in again.stderr


def test_the_fast_cache_reader_opens_the_file_named_even_with_uri_characters(tmp_path):
    """storage.quick and storage.lookups open the cache by a file: URI built from the path: a '?', '#'
    or '%' in a directory name must not open (or create) another file."""
    from storage.cache import Cache
    from storage.quick import QuickCache

    odd = tmp_path / "a?b#c%41" / "cache.db"
    Cache.open(odd).close()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    quick = QuickCache.open_if_current(odd)
    assert quick is not None and quick.asset_config() == {"networks": []}
    assert quick.lookup_cache().get("nothing|x|y") is None
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing else was created
    assert QuickCache.open_if_current(tmp_path / "missing.db") is None and not (tmp_path / "missing.db").exists()


def test_a_lookup_with_a_broken_config_says_what_to_fix(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "config.toml").write_text("rpc = [broken\n")
    env = {**os.environ, "AGENT_TUI_CONFIG_DIR": str(cfg), "AGENT_TUI_DATA_DIR": str(tmp_path / "data"),
           "AGENT_TUI_LOG_DIR": str(tmp_path / "log")}
    env.pop("AGENT_TUI_TOKEN", None)
    p = subprocess.run([sys.executable, "-m", "agent_tui.cli", "lookup", "ab" * 32, "--network", "bitcoin", "--json"],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert p.returncode != 0 and p.stdout == "" and len(lines) == 1, p.stderr
    assert "config" in lines[0].lower() and "Traceback" not in p.stderr and "(ConfigError)" not in lines[0]
