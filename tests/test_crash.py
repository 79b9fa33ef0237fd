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
