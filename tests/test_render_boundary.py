"""Nothing hostile reaches the terminal: the real program, every screen, every field hostile.

A real backend serves a desk whose every text field (tests/hostile.py, made from the schema's
metadata, so a new column is covered too) carries terminal payloads: OSC 52 clipboard writes,
OSC 8 links, CSI 2J, DCS/APC, 8-bit C1 controls, bidi overrides, zero-width characters, Rich
markup with links and click actions, 10,000-character lines. A chain node answers with hostile
JSON too, and the local cache holds a hostile refusal. The real `agent-tui` runs on a
pseudo-terminal and is driven through its screens as an agent and as a supervisor; every byte it
writes is kept and scanned, and replayed by pyte to wait for what a person would see.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backend.schema import make_engine
from backend.seed import seed
from tests.conftest import REPO, Backend, free_port
from tests.hostile import PAYLOADS, TXID, make_hostile, payload, scan
from tests.terminal import Terminal


class HostileEsplora:
    """An Esplora-shaped chain API whose every string is a payload."""

    def __init__(self) -> None:
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                if self.path.endswith("/blocks/tip/height"):
                    body, ctype = b"850010", "text/plain"
                else:
                    body, ctype = json.dumps(outer.tx()).encode(), "application/json"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def tx() -> dict:
        return {
            "txid": TXID, "version": 2, "locktime": 0, "size": 200, "weight": 800, "fee": 1000,
            "vin": [{"txid": "ab" * 32, "vout": 0, "prevout": {"scriptpubkey_address": payload(0, "chain.vin"), "value": 5000}}],
            "vout": [{"scriptpubkey_address": payload(k, f"chain.vout{k}"), "scriptpubkey": payload(k + 3, f"chain.spk{k}"),
                      "value": 1000 + k} for k in range(10)],
            "status": {"confirmed": True, "block_height": 850000, "block_hash": payload(5, "chain.hash"),
                       "block_time": 1700000000},
        }

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def hostile_desk(tmp_path):
    url = f"sqlite:///{tmp_path / 'backend.db'}"
    engine = make_engine(url)
    seed(engine, tickets=60)
    make_hostile(engine)
    engine.dispose()
    b = Backend(url, free_port(), tmp_path / "backend.log").start()
    chain = HostileEsplora()
    yield b, chain
    chain.close()
    b.kill()


def _hostile_refusal(cache_path) -> None:
    from storage.cache import Cache

    cache = Cache.open(cache_path)
    change = {"change_id": "c-hostile", "kind": "reply", "ticket_id": 1, "seq": -1,
              "payload": {"id": "c-hostile", "kind": "reply", "body": payload(0, "cache.rejection.body")}}
    cache.reject(change, 422, payload(1, "cache.rejection.reason"), None)
    cache.close()


def _run(tmp_path, backend, chain, token: str, size: tuple[int, int], drive) -> tuple[bytes, list[str]]:
    name = f"{token}-{size[0]}x{size[1]}"
    cache_path = tmp_path / name / "cache.db"
    _hostile_refusal(cache_path)
    env = {"AGENT_TUI_CONFIG_DIR": str(tmp_path / name / "cfg"), "AGENT_TUI_DATA_DIR": str(tmp_path / name / "data"),
           "AGENT_TUI_LOG_DIR": str(tmp_path / name / "log"), "AGENT_TUI_SERVER_URL": backend.url,
           "AGENT_TUI_TOKEN": token, "AGENT_TUI_CACHE": str(cache_path),
           "AGENT_TUI_RPC_BITCOIN": f"esplora+{chain.url}/esplora"}
    term = Terminal([sys.executable, "-m", "agent_tui.cli"], cols=size[0], rows=size[1], env=env, cwd=str(REPO))
    screens: list[str] = []
    try:
        drive(term, screens)
        term.press("ctrl+q")
        term.proc.wait(30)
    finally:
        code = term.close()
    assert code == 0, f"agent-tui exited with {code}; screen:\n{term.text()}"
    return bytes(term.raw), screens


def _agent(term: Terminal, screens: list[str]) -> None:
    def look() -> None:
        term.settle()
        screens.append(term.text())

    term.wait_for("online")
    look()
    term.press("]", "]")  # other views: queue names, other rows
    look()
    term.press("[", "[")
    term.press("enter")
    term.wait_for("Public reply")
    look()
    term.press("l")
    term.wait_for("Deposit look-up")
    term.press("enter")  # look the first txid up: the chain's answer is hostile
    look()
    term.press("escape")
    term.wait_for("Public reply")
    term.press("m")
    term.wait_for("enter insert")
    for _ in range(4):  # each highlighted macro renders its (hostile) preview
        term.press("down")
        look()
    term.press("escape")
    term.press("?")
    term.wait_for("Keys")
    look()
    term.press("escape")
    term.press("R")
    look()
    term.press("escape")
    term.press("b")
    look()
    term.press("escape", "escape")  # out of the batch box, off the recovery desk
    term.wait_for("Public reply")
    term.press("escape")  # back to the queue
    term.wait_for("Views")


def _supervisor(term: Terminal, screens: list[str]) -> None:
    term.wait_for("online")
    term.wait_for("Agents:")
    term.settle(1.0)
    screens.append(term.text())
    term.press("escape")  # the queues under the wall
    term.settle()
    screens.append(term.text())


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_every_field_of_every_screen_reaches_the_terminal_inert(hostile_desk, tmp_path, size):
    backend, chain = hostile_desk
    raw, screens = _run(tmp_path, backend, chain, "demo-agent", size, _agent)
    raw_sup, screens_sup = _run(tmp_path, backend, chain, "demo-supervisor", size, _supervisor)
    problems = scan(raw) + scan(raw_sup)
    assert not problems, f"{len(problems)} hostile sequences reached the terminal, e.g.:\n" + "\n".join(problems[:15])
    seen = "\n".join(screens + screens_sup)
    # the payloads were on screen, as text: markup shown literally, never parsed
    assert "[link=https://evil.example/" in seen or "[@click=app.quit]" in seen
    assert "tic.subject#" in seen and "cus.name#" in seen


def test_the_scan_finds_what_it_is_for():
    """The scanner itself: each payload written raw is found; Textual's own sequences are not."""
    ours = b"\x1b[1;1H\x1b[38;2;1;2;3mhi\x1b[0m\x1b[?25l\x1b]22;default\x07\x1b[?2026$p\x1b[>1u"
    assert scan(ours) == []
    for i in range(len(PAYLOADS)):
        text = payload(i, "x")
        if text.isprintable() and "\x1b" not in text:
            continue  # markup and long lines are inert as text: they are the literal-text checks
        assert scan(ours + text.encode()), f"payload {i} not detected"
