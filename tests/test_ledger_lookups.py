"""Every look-up path consults the deposit ledger when signed in (GET /api/v1/ledger on the real backend,
SQLite and PostgreSQL), and a verdict reached without it says so and never suggests a credit.

The chain side is the fixture server (real mainnet answers served like the real APIs); the desk side a
real backend in a child process whose ledger has the deposit credited, and a cache pulled from another
seeded desk that does not know it (a copy as of an older sync)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from backend import service as svc
from backend.schema import make_engine
from tests.chains.conftest import fixture_server  # noqa: F401  (the real-answer chain server)
from tests.desk import add_address, add_ledger, make_desk, new_ticket
from tests.test_lookup_screens import (
    BTC_TX,
    CUST_ADDR,
    ETH_TX,
    SIZE,
    TRON_TX,
    DeskApp,
    endpoints,
    paste,
    recovery_app,
    shown,
    wait_until,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "demo-agent"


def credit_on_the_server(backend, customer_id: int = 3) -> None:
    """The 1000 USDT of ETH_TX (log 73) credited to the customer, in the server's ledger only."""
    engine = make_engine(backend.db_url)
    try:
        with svc.write(engine) as conn:
            add_ledger(conn, customer_id, ETH_TX.upper().replace("0X", "0x"), "ethereum", "1000", 73, "credited")
    finally:
        engine.dispose()


def desk(tmp_path, change=None):
    """The agent's cache, from a seeded desk of its own (beside the server's database, not in it)."""
    where = tmp_path / "desk"
    where.mkdir(exist_ok=True)
    return make_desk(where, change)


def signed_in(app, backend):
    app.server_url, app.token = backend.url, TOKEN
    return app


async def test_the_recovery_batch_consults_the_ledger_when_signed_in(tmp_path, fixture_server, backend):
    credit_on_the_server(backend)
    cache, _ = desk(tmp_path)
    app, screen = recovery_app(cache, endpoints(fixture_server), concurrency=2)
    signed_in(app, backend)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(screen)
        await pilot.pause()
        await paste(pilot, screen, f"{ETH_TX} ethereum\n{TRON_TX}\n")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.running and len(screen.results) == 2)
        got = {screen.items[i].txid: v for i, (v, err) in screen.results.items()}
        eth = got[ETH_TX]
        assert eth.code == "credited" and eth.recoverable is False, eth.explanation  # not needs_manual_credit, recoverable yes
        assert eth.ledger_checked and eth.ledger_note == "from the server" and eth.evidence.ledger_status == "credited"
        tron = got[TRON_TX]  # in no ledger row: a manual credit, now that the ledger was read
        assert tron.code == "needs_manual_credit" and tron.ledger_checked
        table = screen.query_one("#recovery-results")
        assert str(table.get_cell("0", "code")) == "credited" and str(table.get_cell("0", "ledger")) == "yes"


async def test_the_ticket_look_up_reads_the_servers_ledger_over_the_cached_copy(tmp_path, fixture_server, backend):
    credit_on_the_server(backend)

    def change(conn, made):
        add_address(conn, 3, "ethereum", CUST_ADDR)
        made["tid"] = new_ticket(conn, f"Hi, I sent 1000 USDT on ethereum yesterday and it is not in my account. TxID: {ETH_TX}")

    cache, made = desk(tmp_path, change)  # this copy's ledger has no row for ETH_TX
    app = signed_in(DeskApp(cache, endpoints(fixture_server)), backend)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.open_lookup(made["tid"])
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.verdict is not None or screen.error)
        v = screen.verdict
        assert v is not None and v.code == "credited", screen.error or v.explanation
        assert "Ledger checked: from the server." in shown(screen, "#lookup-verdict")

        backend.kill()  # the server goes away: the cached copy (as of the last sync) is what is left
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.running is None)
        v = screen.verdict
        assert v.code == "needs_manual_credit" and v.ledger_checked, v.explanation
        assert "could not be reached" in v.ledger_note and "local cache" in v.ledger_note
        assert "local cache" in shown(screen, "#lookup-verdict")


async def test_a_deposit_the_server_credited_to_another_customer_is_no_credited_verdict(tmp_path, fixture_server, backend):
    credit_on_the_server(backend, customer_id=5)

    def change(conn, made):
        add_address(conn, 3, "ethereum", CUST_ADDR)
        made["tid"] = new_ticket(conn, f"I sent 1000 USDT on ethereum. TxID: {ETH_TX}")  # customer 3 asks

    cache, made = desk(tmp_path, change)
    app = signed_in(DeskApp(cache, endpoints(fixture_server)), backend)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.open_lookup(made["tid"])
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.verdict is not None or screen.error)
        v = screen.verdict
        assert v.code == "check_ledger" and v.recoverable is False and v.ledger_checked, screen.error or v.explanation
        assert "customer #5" in v.explanation and v.macro != "deposit_credited"


async def test_without_the_ledger_the_batch_says_so_and_suggests_no_credit(tmp_path, fixture_server, backend):
    cache, _ = desk(tmp_path)
    app, screen = recovery_app(cache, endpoints(fixture_server))
    signed_in(app, backend)
    backend.kill()  # signed in, but the server is down: nothing to consult
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(screen)
        await pilot.pause()
        await paste(pilot, screen, f"{ETH_TX} ethereum\n")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.running and len(screen.results) == 1)
        v, err = screen.results[0]
        assert err == "" and v.code == "check_ledger" and v.recoverable is False and not v.ledger_checked
        assert v.macro == "deposit_check_ledger" and "not checked" in v.ledger_note
        table = screen.query_one("#recovery-results")
        assert str(table.get_cell("0", "rec")) == "no" and str(table.get_cell("0", "ledger")) == "NOT"


def run_cli(tmp_path, fixture_server, *args, server=None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_TUI_")}
    env.update({f"AGENT_TUI_RPC_{k.upper()}": v for k, v in endpoints(fixture_server).items()})
    env.update(AGENT_TUI_CACHE=str(tmp_path / "cli-cache.db"), AGENT_TUI_CONFIG_DIR=str(tmp_path / "cfg"),
               AGENT_TUI_DATA_DIR=str(tmp_path / "data"))
    if server is not None:
        env.update(AGENT_TUI_SERVER_URL=server.url, AGENT_TUI_TOKEN=TOKEN)
    p = subprocess.run([sys.executable, "-m", "agent_tui.cli", "lookup", *args, "--json"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    return json.loads(p.stdout)


def test_the_command_consults_the_ledger_when_signed_in_and_says_when_it_did_not(tmp_path, fixture_server, backend):
    credit_on_the_server(backend)
    out = run_cli(tmp_path, fixture_server, ETH_TX, "--network", "ethereum", "--address", CUST_ADDR, server=backend)
    assert out["code"] == "credited" and out["ledger_checked"] is True and out["ledger_note"] == "from the server"

    out = run_cli(tmp_path, fixture_server, ETH_TX, "--network", "ethereum", "--address", CUST_ADDR)  # not signed in
    assert out["code"] == "check_ledger" and out["ledger_checked"] is False
    assert out["recoverable"] is False and out["macro"] == "deposit_check_ledger" and "credit manually" not in out["recoverable_note"]

    out = run_cli(tmp_path, fixture_server, BTC_TX, "--network", "bitcoin", server=backend)  # no row: checked, still not credited
    assert out["ledger_checked"] is True and out["code"] != "credited"


async def test_a_ledger_server_found_down_is_not_waited_for_on_every_line():
    """One source serves a batch: after the server could not be reached, the next lines do not try again
    (a 1,000-line batch would otherwise wait a timeout per line). Counted on a real socket that hangs up."""
    import socket
    import threading

    from agent_tui.chains.ledger import LedgerUnavailable, server_ledger

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    accepted = []

    def hang_up():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            accepted.append(1)
            c.close()

    threading.Thread(target=hang_up, daemon=True).start()
    source = server_ledger(f"http://127.0.0.1:{srv.getsockname()[1]}", TOKEN)
    messages = []
    for _ in range(3):
        with pytest.raises(LedgerUnavailable) as ei:
            await source("ab" * 32)
        messages.append(str(ei.value))
    srv.close()
    assert len(accepted) == 1
    assert "could not be reached" in messages[0] and all("not tried again" in m for m in messages[1:])
