"""A bug that reaches the top of the app: one line for the agent, the traceback in the crash log."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.conftest import REPO

SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from types import SimpleNamespace
    from agent_tui.app import AgentApp, Identity
    from storage.cache import Cache

    class Buggy(AgentApp):
        def action_sync_now(self):
            raise RuntimeError("boom in a handler")

    cache = Cache.open({db!r})
    cache.apply_page({{"tickets": [], "queues": [{{"id": "q", "name": "Q", "position": 0}}]}}, None)
    cache.save_draft(1, "half a reply")

    async def auto(pilot):
        await pilot.pause(0.2)
        await pilot.press("ctrl+r")

    app = Buggy(cache=cache, server_url="http://127.0.0.1:9", token="-", sync_enabled=False,
                identity=Identity(1, "A", "agent"), settings=SimpleNamespace(theme="agent-dark", at_risk_minutes=15, views={{}}, keymap={{}}))
    app.run(headless=True, auto_pilot=auto)
    sys.exit(app.return_code or 0)
""")


def test_a_crash_is_one_line_and_loses_no_draft(tmp_path):
    db = str(tmp_path / "c.db")
    env = {**os.environ, "AGENT_TUI_LOG_DIR": str(tmp_path / "log")}
    p = subprocess.run([sys.executable, "-c", SCRIPT.format(repo=str(REPO), db=db)], capture_output=True, text=True,
                       timeout=120, env=env)
    out = p.stdout + p.stderr
    assert p.returncode == 1
    assert "Traceback" not in out and "boom in a handler" in out
    lines = [ln for ln in out.splitlines() if "unexpected error" in ln]
    assert len(lines) == 1 and "RuntimeError" in lines[0] and "crash.log" in lines[0]
    log = (tmp_path / "log" / "crash.log").read_text()
    assert "Traceback" in log and "boom in a handler" in log
    from storage.cache import Cache

    assert Cache.open(db).draft(1)["body"] == "half a reply"


def test_the_crash_line_is_one_inert_line(tmp_path):
    from agent_tui.crash import one_line

    line = one_line(ValueError("customer said:\n\x1b]52;c;ZXZpbA==\x07 hi\r\n\x1b[2Jbye"), tmp_path / "crash.log")
    assert "\n" not in line and "\x1b" not in line and "\x07" not in line
    assert line.startswith("agent-tui stopped on an unexpected error (ValueError: customer said: hi bye)")


def test_highlighting_a_macro_that_cannot_render_keeps_the_real_program_running(tmp_path):
    """The real `agent-tui` on a pty: a shared macro whose template fails while rendering (a filter's
    AttributeError) is highlighted in the picker; the preview names the error and the program runs on."""
    from backend.schema import make_engine
    from backend.seed import seed
    from tests.conftest import Backend, free_port
    from tests.terminal import Terminal

    url = f"sqlite:///{tmp_path / 'backend.db'}"
    engine = make_engine(url)
    seed(engine, tickets=20)
    engine.dispose()
    backend = Backend(url, free_port(), tmp_path / "backend.log").start()
    try:
        r = backend.api("POST", "/macros", token="demo-supervisor",
                        json={"key": "zz_broken", "title": "Zz broken tags", "visibility": "shared",
                              "bodies": {"en": "Tags: {{ ticket.tags|dictsort }}", "es": "{{ ticket.tags|dictsort }}",
                                         "de": "{{ ticket.tags|dictsort }}", "pt": "{{ ticket.tags|dictsort }}"}})
        assert r.status_code in (200, 201), r.text
        env = {"AGENT_TUI_CONFIG_DIR": str(tmp_path / "cfg"), "AGENT_TUI_DATA_DIR": str(tmp_path / "data"),
               "AGENT_TUI_LOG_DIR": str(tmp_path / "log"), "AGENT_TUI_SERVER_URL": backend.url,
               "AGENT_TUI_TOKEN": "demo-agent", "AGENT_TUI_CACHE": str(tmp_path / "cache.db")}
        term = Terminal([sys.executable, "-m", "agent_tui.cli"], cols=120, rows=40, env=env, cwd=str(REPO))
        try:
            term.wait_for("online")
            term.press("enter")
            term.wait_for("Public reply")
            term.press("m")
            term.wait_for("enter insert")
            term.type("Zz broken")
            screen = term.wait_for("cannot be rendered")
            assert "zz_broken" in screen
            term.settle()
            assert term.proc.poll() is None, term.text()
            term.press("escape")
            term.wait_for("Public reply")
            term.press("escape")
            term.wait_for("Views")
            term.press("ctrl+q")
            term.proc.wait(30)
        finally:
            code = term.close()
        assert code == 0, f"agent-tui exited with {code}; screen:\n{term.text()}"
        assert not (tmp_path / "log" / "crash.log").exists()
    finally:
        backend.kill()


RUN_APP = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from types import SimpleNamespace
    import agent_tui.app as app_module
    from storage.cache import Cache

    class Buggy(app_module.AgentApp):
        def action_sync_now(self):
            raise RuntimeError("boom in a handler")

    app_module.AgentApp = Buggy  # the bug; everything else is the real start-up path
    cache = Cache.open({db!r})
    cache.apply_page({{"tickets": [], "queues": [{{"id": "q", "name": "Q", "position": 0}}]}}, None)
    app_module.run_app(settings=SimpleNamespace(theme="agent-dark", at_risk_minutes=15, views={{}}, keymap={{}}),
                       cache=cache, server_url="http://127.0.0.1:9", token="-")
    print("after run_app")
""")


def test_the_program_exits_non_zero_when_it_stopped_on_a_crash(tmp_path):
    from tests.terminal import Terminal

    env = {"AGENT_TUI_LOG_DIR": str(tmp_path / "log"), "AGENT_TUI_DATA_DIR": str(tmp_path / "data"),
           "AGENT_TUI_CONFIG_DIR": str(tmp_path / "cfg")}
    term = Terminal([sys.executable, "-c", RUN_APP.format(repo=str(REPO), db=str(tmp_path / "c.db"))], env=env,
                    cwd=str(REPO))
    try:
        term.wait_for("Q")
        term.settle()
        term.press("ctrl+r")
        term.proc.wait(60)
    finally:
        code = term.close()
    assert code == 1, f"exit {code}; screen:\n{term.text()}"
    assert "boom in a handler" in term.text() and "after run_app" not in term.text()


TYPED_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from types import SimpleNamespace
    from agent_tui.app import AgentApp, Identity
    from storage.cache import Cache

    class Buggy(AgentApp):
        def action_sync_now(self):
            raise RuntimeError("boom while typing")

    cache = Cache.open({db!r})
    t = {{"id": 1, "subject": "s", "queue": "q", "status": "open", "priority": "normal", "channel": "email",
          "requester_id": 1, "assignee_id": None, "tags": [], "language": "en", "created_at": 1.0, "updated_at": 1.0,
          "version": 1, "first_reply_at": None, "solved_at": None, "sla_due": 9e9, "sla": []}}
    cache.apply_page({{"tickets": [t], "queues": [{{"id": "q", "name": "Q", "position": 0}}]}}, None)

    async def auto(pilot):
        await pilot.pause(0.3)
        pilot.app.open_ticket(1)
        await pilot.pause(0.3)
        await pilot.press("r", *"typed just before the crash")
        await pilot.press("ctrl+r")  # within the draft timer's 0.4 s

    app = Buggy(cache=cache, server_url="http://127.0.0.1:9", token="-", sync_enabled=False,
                identity=Identity(1, "A", "agent"), settings=SimpleNamespace(theme="agent-dark", at_risk_minutes=15, views={{}}, keymap={{}}))
    app.run(headless=True, auto_pilot=auto)
    sys.exit(app.return_code or 0)
""")


def test_text_typed_just_before_a_crash_is_kept_as_the_draft(tmp_path):
    db = str(tmp_path / "c.db")
    env = {**os.environ, "AGENT_TUI_LOG_DIR": str(tmp_path / "log")}
    p = subprocess.run([sys.executable, "-c", TYPED_SCRIPT.format(repo=str(REPO), db=db)], capture_output=True, text=True,
                       timeout=120, env=env)
    out = p.stdout + p.stderr
    assert p.returncode == 1 and "Traceback" not in out and "RuntimeError: boom while typing" in out, out[-2000:]
    from storage.cache import Cache

    assert Cache.open(db).draft(1)["body"] == "typed just before the crash"


def _rendered(exc_raiser) -> str:
    """A traceback as Textual renders it at exit (rich, with locals), as plain text."""
    import io

    from rich.console import Console
    from rich.traceback import Traceback

    console = Console(file=io.StringIO(), width=400, color_system=None)
    try:
        exc_raiser()
    except Exception:
        console.print(Traceback(show_locals=True, width=None))
    return console.file.getvalue()


def _chained():
    try:
        raise ValueError("inner cause")
    except ValueError:
        assert False  # noqa: B011  (a message-less exception raised while handling another)


def _two_lines():
    raise RuntimeError("bad row\nHint: retry later")


def test_the_crash_line_names_the_exception_raised_last_even_without_a_message(tmp_path, monkeypatch):
    from agent_tui.crash import crash_report_line

    monkeypatch.setenv("AGENT_TUI_LOG_DIR", str(tmp_path / "log"))
    assert "(AssertionError" in crash_report_line(_rendered(_chained))  # not the ValueError it was handling
    assert "(RuntimeError: bad row)" in crash_report_line(_rendered(_two_lines))
