"""The real program in a real terminal (tmux), driven as a person would: `agent-tui demo`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import IN_CI, REPO


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_for(session: str, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = screen(session)
        if text in out:
            return out
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never appeared; screen:\n{screen(session)}")


@pytest.fixture
def demo(tmp_path):
    if not shutil.which("tmux"):
        if IN_CI:
            pytest.fail("tmux is missing; .ci/run installs it")
        pytest.skip("tmux is not installed")
    session = f"agent-tui-{os.getpid()}"
    exe = Path(sys.executable).with_name("agent-tui")
    cmd = f"{exe} demo --tickets 400 --rate 60; echo EXITED $?; sleep 60"
    # pytest exports COLUMNS/LINES, and Textual would take them over the real terminal size
    (tmp_path / "tmp").mkdir()
    env = (f"AGENT_TUI_CONFIG_DIR={tmp_path}/cfg AGENT_TUI_DATA_DIR={tmp_path}/data AGENT_TUI_LOG_DIR={tmp_path}/log "
           f"TMPDIR={tmp_path}/tmp PYTHONPATH={REPO}")  # this checkout, whichever one the console script was installed from
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "45", f"cd {REPO} && env -u COLUMNS -u LINES {env} {cmd}")
    tmux("set-option", "-t", session, "window-size", "manual")
    tmux("resize-window", "-t", session, "-x", "160", "-y", "45")
    yield session
    tmux("kill-session", "-t", session)


def test_an_agent_works_the_demo_in_a_real_terminal(demo):
    s = demo
    wait_for(s, "● online")
    wait_for(s, "Deposits & withdrawals")
    tmux("send-keys", "-t", s, "Enter")
    wait_for(s, "Public reply to the customer")
    tmux("send-keys", "-t", s, "c")
    wait_for(s, "Claimed 1 ticket")
    tmux("send-keys", "-t", s, "r")
    wait_for(s, "^s Send")  # the box has focus (its keys are in the footer): the text goes into it, not to the screen
    tmux("send-keys", "-t", s, "-l", "Hello, we are checking this now.")
    time.sleep(0.5)  # the draft box has it
    tmux("send-keys", "-t", s, "C-s")
    out = wait_for(s, "Alex Morgan · reply")  # in the thread: queued, then sent
    assert "Hello, we are checking this now." in out and "\x1b" not in out
    wait_for(s, "outbox 0")
    tmux("send-keys", "-t", s, "Escape")
    wait_for(s, "r Reply")  # the box is left (the ticket's keys are in the footer): p is not typed into it
    tmux("send-keys", "-t", s, "p")
    wait_for(s, "pending ·")
    tmux("send-keys", "-t", s, "?")
    wait_for(s, "Keys (single-key shortcuts are ignored while you type)")
    tmux("send-keys", "-t", s, "Escape")
    tmux("send-keys", "-t", s, "C-q")
    wait_for(s, "EXITED 0")


def test_the_demo_removes_its_temporary_folder_after_a_clean_quit(demo, tmp_path):
    wait_for(demo, "● online")
    assert [p.name.startswith("agent-tui-demo-") for p in (tmp_path / "tmp").iterdir()] == [True]  # there while it runs
    tmux("send-keys", "-t", demo, "C-q")
    wait_for(demo, "EXITED 0")
    assert list((tmp_path / "tmp").iterdir()) == []
