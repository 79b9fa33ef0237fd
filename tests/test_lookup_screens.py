"""The look-up screens driven with Pilot against real local servers: the chain fixture server (real
mainnet answers served like the real APIs) and anvil; the desk is a real seeded backend pulled into a
real cache. Nothing of ours is mocked."""

from __future__ import annotations

import io
import time
from types import SimpleNamespace

import pytest
from rich.console import Console
from textual.app import App

from agent_tui.chains import Verdict
from agent_tui.screens.lookup import LookupScreen
from storage.cache import Cache
from tests.chains.conftest import anvil_eth, fixture_server, free_port  # noqa: F401  (real servers as fixtures)
from tests.desk import FROZEN, add_address, add_ledger, customer_without_deposits, make_desk, new_ticket
from themes import APP_TCSS, THEME_VARIABLE_DEFAULTS, THEMES
from widgets.verdict import note_text

SIZE = (160, 45)
ETH_TX = "0x382dc93eae2df291bd5e885499778ac871babba3e2c5dcbf308be7c06be84739"  # 1000 USDT to CUST_ADDR, ethereum mainnet
BTC_TX = "20b984492b5264162a4c92c9a34bc7fa08b67d669de7b4c5982ad3cb28aaecf6"
TRON_TX = "0130dfde9281a48378109039ef512229d5359fbee2a8adbb17ad73aebc67ea99"
CUST_ADDR = "0x2ae6d1401af58f9fbe2eda032b8494d519af5813"
HOSTILE_SUBJECT = "[bold red]URGENT[/] \x1b[2J\x1b]52;c;cGF3bmVk\x07 deposit"


class DeskApp(App):
    """The attributes the look-up screens use, as AgentApp has them."""

    CSS_PATH = APP_TCSS

    def __init__(self, cache: Cache, rpc, *, name: str = "Alex Morgan") -> None:
        super().__init__()
        self.cache = cache
        self.settings = SimpleNamespace(rpc=rpc)
        self.me_id = 1
        self.identity = SimpleNamespace(name=name)
        self.last_verdicts: dict = {}
        self.engine = None
        self.changes = 0
        self.results: list = []
        for theme in THEMES.values():
            self.register_theme(theme)
        self.theme = "agent-dark"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return THEME_VARIABLE_DEFAULTS

    def after_change(self) -> None:
        self.changes += 1

    def open_lookup(self, ticket_id: int, **kw) -> LookupScreen:
        screen = LookupScreen(ticket_id, **kw)
        self.push_screen(screen, self.results.append)
        return screen


async def wait_until(pilot, cond, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


def shown(screen, wid: str) -> str:
    """What a Static shows, as plain text (its Rich renderable printed without styles)."""
    content = screen.query_one(wid).content
    if isinstance(content, str):
        return content
    console = Console(width=200, file=io.StringIO(), color_system=None, legacy_windows=False)
    with console.capture() as cap:
        console.print(content)
    return cap.get().rstrip("\n")


def endpoints(server) -> dict:
    return {k: (v if isinstance(v, str) else f"{v['kind']}+{v['url']}") for k, v in server.endpoints().items()}


# --- the look-up screen --------------------------------------------------------------------


async def test_a_txid_in_the_customer_message_is_looked_up_and_posted_as_a_note(tmp_path, fixture_server):
    def change(conn, made):
        add_address(conn, 3, "ethereum", CUST_ADDR)
        made["tid"] = new_ticket(conn, f"Hi, I sent 1000 USDT on ethereum yesterday and it is not in my account. TxID: {ETH_TX}")

    cache, made = make_desk(tmp_path, change)
    tid = made["tid"]
    app = DeskApp(cache, endpoints(fixture_server))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.open_lookup(tid)
        await pilot.pause()
        assert screen.choices[0] == (ETH_TX, "from the customer")
        assert screen.claimed_network() == "ethereum"  # the message names it
        assert "0x2ae6d1401af58f9fbe2eda032b8494d519af5813" in shown(screen, "#lookup-context")
        await pilot.press("enter")  # on the highlighted txid
        await wait_until(pilot, lambda: screen.verdict is not None or screen.error)
        assert screen.error == ""
        v = screen.verdict
        assert v.code == "needs_manual_credit" and v.macro == "deposit_needs_manual_credit" and v.network == "ethereum"
        text = shown(screen, "#lookup-verdict")
        assert "needs_manual_credit" in text and "Suggested macro: deposit_needs_manual_credit" in text
        assert "Recoverable: yes" in text and "1000" in text and "USDT" in text and "recipient" in text
        assert app.last_verdicts[tid]["code"] == "needs_manual_credit"
        screen.post_message(LookupScreen.Finished(BTC_TX, None, "late answer of a replaced look-up"))
        await pilot.pause()
        assert screen.error == "" and screen.verdict is v  # not the txid on screen: dropped

        await pilot.press("n")  # post as an internal note
        notes = [m for m in cache.thread(tid) if m["kind"] == "note"]
        assert len(notes) == 1 and notes[0]["pending"] == 1 and notes[0]["author_name"] == "Alex Morgan"
        assert notes[0]["body"] == note_text(v)
        assert notes[0]["body"].startswith("Deposit look-up: needs_manual_credit\n")
        assert "Suggested macro: deposit_needs_manual_credit" in notes[0]["body"] and "recipient: " + CUST_ADDR in notes[0]["body"]
        box = [c for c in cache.outbox() if c["ticket_id"] == tid]
        assert [c["kind"] for c in box] == ["note"] and box[0]["payload"]["body"] == notes[0]["body"]
        assert app.changes == 1
        await pilot.press("n")  # the same verdict twice is one note
        assert len([m for m in cache.thread(tid) if m["kind"] == "note"]) == 1

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LookupScreen)
        assert app.results[-1]["code"] == "needs_manual_credit"


async def test_a_repeat_is_served_from_the_sqlite_cache(tmp_path, fixture_server):
    def change(conn, made):
        made["tid"] = new_ticket(conn, f"TxID {BTC_TX}")

    cache, made = make_desk(tmp_path, change)
    app = DeskApp(cache, endpoints(fixture_server))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.open_lookup(made["tid"])
        await pilot.pause()
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.verdict is not None or screen.error)
        first = screen.verdict.to_dict()
        hits = fixture_server.httpd.hits
        screen.verdict = None
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.verdict is not None or screen.error)
        assert screen.verdict.to_dict() == first and fixture_server.httpd.hits == hits


async def test_bad_or_unreachable_endpoints_show_one_line_and_the_screen_survives(tmp_path, fixture_server):
    def change(conn, made):
        made["tid"] = new_ticket(conn, f"on ethereum: {ETH_TX}")

    cache, made = make_desk(tmp_path, change)
    app = DeskApp(cache, {"ethereum": "ftp://nope"})
    async with app.run_test(size=SIZE) as pilot:
        screen = app.open_lookup(made["tid"])
        await pilot.pause()
        assert screen.claimed_network() is None  # named in the message, but no usable endpoint: not claimed
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.error)
        assert screen.error == "endpoint for ethereum must be an http(s) URL" and screen.verdict is None
        assert shown(screen, "#lookup-error") == screen.error

        app.settings.rpc = {"ethereum": f"http://127.0.0.1:{free_port()}"}  # nobody listens there
        screen.error = ""
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.error)
        assert "cannot connect to http://127.0.0.1:" in screen.error and "\n" not in screen.error

        app.settings.rpc = {"ethereum": f"{fixture_server.url}/notjson/evm/1"}  # a proxy's HTML error page
        screen.error = ""
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.error)
        assert "not JSON" in screen.error and "\n" not in screen.error

        await pilot.press("t", *"not-a-txid", "enter")  # typed garbage: one line, nothing runs
        await pilot.pause()
        assert screen.error.startswith("not a transaction id: 'not-a-txid'")
        assert screen.verdict is None and app.last_verdicts == {}
        await pilot.press("escape", "escape")  # out of the box, then back
        await pilot.pause()
        assert not isinstance(app.screen, LookupScreen) and app.results == [None]
        # and it still works after all that
        app.settings.rpc = endpoints(fixture_server)
        screen = app.open_lookup(made["tid"])
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.verdict is not None or screen.error)
        assert screen.verdict is not None and screen.verdict.network == "ethereum"


async def test_a_typed_txid_is_added_and_looked_up(tmp_path, fixture_server):
    def change(conn, made):
        made["tid"] = new_ticket(conn, "My USDT never arrived, please help", customer_id=customer_without_deposits(conn))

    cache, made = make_desk(tmp_path, change)
    app = DeskApp(cache, endpoints(fixture_server))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.open_lookup(made["tid"])
        await pilot.pause()
        assert screen.choices == [] and "No txid" in shown(screen, "#lookup-context")
        await pilot.press("r")
        assert "No txid to look up" in screen.error
        await pilot.press("t", *TRON_TX, "enter")
        await wait_until(pilot, lambda: screen.verdict is not None)
        assert screen.choices[0] == (TRON_TX, "typed") and screen.verdict.network == "tron"
        assert screen.claimed_network() is None
        await pilot.press("w", "down", "enter")  # the claimed network, from the listing (sorted as the cache keeps it)
        await pilot.pause()
        assert screen.claimed_network() == "bitcoin"
        await pilot.press("r")  # claimed bitcoin, found on tron
        await wait_until(pilot, lambda: screen.verdict is not None and screen.verdict.claimed_network == "bitcoin")
        assert screen.verdict.network == "tron" and "customer said bitcoin" in shown(screen, "#lookup-verdict")
        await pilot.press("escape")  # from the network back to the list, still here
        assert app.screen is screen and screen.focused is screen.query_one("#lookup-txids")


async def test_hostile_text_in_the_ticket_and_on_chain_renders_inert(tmp_path, fixture_server):
    def change(conn, made):
        made["tid"] = new_ticket(
            conn, f"[bold red]URGENT[/] \x1b[2J\x1b]52;c;cGF3bmVk\x07 [link=https://evil.example]tx[/link] \x1b[31m{ETH_TX}\x1b[0m "
                  f"send to \u202e{CUST_ADDR}", subject=HOSTILE_SUBJECT)

    cache, made = make_desk(tmp_path, change)
    app = DeskApp(cache, endpoints(fixture_server))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.open_lookup(made["tid"])
        await pilot.pause()
        assert screen.choices[0][0] == ETH_TX  # found between the escape sequences
        assert screen.mentioned == [(CUST_ADDR, False)]
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.verdict is not None)
        # chain data as a hostile endpoint could send it, after the core's cleaning or not
        evil = screen.verdict.to_dict()
        evil["explanation"] = "[bold red]pay[/] \x1b]8;;https://phish.example\x1b\\here\x1b]8;;\x1b\\ \x1b[2J now"
        evil["evidence"]["asset"] = "[link=https://evil.example]USDT[/link]"
        evil["evidence"]["failure_reason"] = "\x1b]52;c;cGF3bmVk\x07[/]"
        evil["transfers"][0]["memo"] = "[reverse]\u202etag"
        screen.show_verdict(Verdict.from_dict(evil))
        await pilot.pause()
        svg = app.export_screenshot()
        assert "[bold&#160;red]URGENT[/]" in svg  # the subject, literally
        assert "[link=https://evil.example]USDT[/link]" in svg.replace("&#160;", " ")
        assert "[bold&#160;red]pay[/]" in svg
        assert "cGF3bmVk" not in svg and "\x1b" not in svg and "\x07" not in svg and "\u202e" not in svg
        assert "phish.example" not in svg
        await pilot.press("n")
        body = [m for m in cache.thread(made["tid"]) if m["kind"] == "note"][0]["body"]
        assert "\x1b" not in body and "cGF3bmVk" not in body and "\u202e" not in body


@pytest.mark.chain
async def test_a_deposit_on_anvil_in_the_ledger_is_credited(tmp_path, anvil_eth):
    from tests.chains.test_anvil import USDT, Chain

    chain = Chain(anvil_eth, [USDT])
    tx = chain.transfer(USDT, CUST_ADDR, 250 * 10**6)
    chain.mine(15)

    def change(conn, made):
        add_address(conn, 5, "ethereum", CUST_ADDR)
        add_ledger(conn, 5, tx, "ethereum", "250", 0, "credited")
        made["tid"] = new_ticket(conn, f"Where are my 250 USDT (ERC20)? {tx}", customer_id=5)

    cache, made = make_desk(tmp_path, change)
    app = DeskApp(cache, {"ethereum": anvil_eth})
    async with app.run_test(size=SIZE) as pilot:
        screen = app.open_lookup(made["tid"])
        await pilot.pause()
        assert screen.choices[0] == (tx, "from the customer")  # the message first, the same txid in the ledger not repeated
        assert [c for c in screen.choices if c[0].lower() == tx.lower()] == [(tx, "from the customer")]
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.verdict is not None or screen.error)
        assert screen.error == ""
        assert screen.verdict.code == "credited" and screen.verdict.evidence.ledger_status == "credited"
        assert app.last_verdicts[made["tid"]]["macro"] == "deposit_credited"


# --- the recovery desk ---------------------------------------------------------------------


def recovery_app(cache, rpc, **kw):
    from agent_tui.screens.recovery import RecoveryScreen

    app = DeskApp(cache, rpc)
    screen = RecoveryScreen(**kw)
    return app, screen


async def paste(pilot, screen, text: str) -> None:
    box = screen.query_one("#recovery-batch")
    box.load_text(text)
    box.focus()
    await pilot.pause()


async def test_a_batch_of_three_gives_three_results_and_the_history_lists_them(tmp_path, fixture_server):
    from agent_tui.screens.recovery import RecoveryScreen
    from agent_tui.services.lookups import recent_lookups

    cache, _ = make_desk(tmp_path)
    app, screen = recovery_app(cache, endpoints(fixture_server), concurrency=2)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(screen)
        await pilot.pause()
        assert screen.history == []
        await paste(pilot, screen, f"{ETH_TX} ethereum\n\n# the tron one\n{TRON_TX}   TRON\n{BTC_TX}\n")
        await pilot.press("ctrl+s")  # from inside the box
        await wait_until(pilot, lambda: not screen.running and len(screen.results) == 3)
        assert [it.line for it in screen.items] == [1, 4, 5]
        got = {screen.items[i].txid: (v.code, v.network) for i, (v, err) in screen.results.items()}
        assert all(err == "" for _, err in screen.results.values())
        assert got[ETH_TX] == ("check_ledger", "ethereum")  # no customer, not signed in: the ledger was not checked
        assert not any(v.recoverable for v, _ in screen.results.values() if v.code == "check_ledger")
        assert got[TRON_TX][1] == "tron" and got[BTC_TX][1] == "bitcoin"
        table = screen.query_one("#recovery-results")
        assert table.row_count == 3
        assert str(table.get_cell("1", "network")) == "tron" and str(table.get_cell("0", "code")) == "check_ledger"
        assert str(table.get_cell("0", "ledger")) == "NOT" and str(table.get_cell("0", "rec")) == "no"
        # the history reads the lookup_results table: the three, newest first
        rows = recent_lookups(cache)
        assert len(screen.history) == 3 == screen.query_one("#recovery-history").row_count
        assert {h["txid"].removeprefix("0x") for h in screen.history} == {ETH_TX[2:], TRON_TX, BTC_TX}
        assert [h["fetched_at"] for h in rows] == sorted((h["fetched_at"] for h in rows), reverse=True)
        assert {h["claimed"] for h in screen.history} == {"ethereum", "tron", None}
        # details of a result, then of a history row
        await pilot.press("escape")  # leave the box: the results table has the focus
        assert screen.focused is table
        await pilot.press("enter")
        from agent_tui.screens.modals.verdict import VerdictScreen

        assert isinstance(app.screen, VerdictScreen) and app.screen.verdict.code == "check_ledger"
        await pilot.press("escape")
        assert isinstance(app.screen, RecoveryScreen)


async def test_a_batch_with_bad_lines_and_dead_endpoints_gives_one_line_per_row(tmp_path, fixture_server):
    cache, _ = make_desk(tmp_path)
    dead = f"http://127.0.0.1:{free_port()}"
    app, screen = recovery_app(cache, {"ethereum": dead, "bitcoin": f"{fixture_server.url}/esplora/bitcoin"})
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(screen)
        await pilot.pause()
        await paste(pilot, screen, "\n".join([
            "not-a-txid", f"{ETH_TX} ethereum", f"{BTC_TX} bitcoin", f"{BTC_TX} bitcoin", f"{BTC_TX} dogecoin",
            f"{ETH_TX} ethereum extra", "[bold]x[/bold] \x1b[2J", "ab" * 32 + " narnia",
        ]))
        await pilot.press("f5")
        await wait_until(pilot, lambda: not screen.running and len(screen.results) == len(screen.items))
        errors = {it.line: screen.results[i][1] for i, it in enumerate(screen.items)}
        assert 4 not in errors and len(screen.items) == 7 and "1 duplicate(s) skipped" in screen.note
        assert errors[1].startswith("not a transaction id")
        assert errors[2].startswith("ethereum: cannot connect to http://127.0.0.1:")
        assert errors[3] == "" and screen.results[2][0].network == "bitcoin"
        assert errors[5].startswith("no endpoint configured for dogecoin")
        assert errors[6] == "expected: TXID [NETWORK]"
        assert errors[7].startswith("not a transaction id") and "\x1b" not in errors[7]
        assert errors[8].startswith("unknown network 'narnia'")
        assert all("\n" not in e for e in errors.values())
        assert str(screen.query_one("#recovery-results").get_cell("1", "code")).startswith("error: ethereum: cannot connect")
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "[bold]x[/bold]" in svg
        assert len(screen.history) == 1  # only the verdict is cached; errors are not
        # enter on a row without a verdict: its one line as a notification, the pasted markup kept literal
        table = screen.query_one("#recovery-results")
        table.focus()
        table.move_cursor(row=5)  # line 7
        await pilot.press("enter")
        await pilot.pause()
        note = list(app._notifications)[-1]
        assert note.message == errors[7] and "[bold]x[/bold]" in note.message and note.markup is False


async def test_a_bad_endpoint_config_stops_the_batch_with_one_line(tmp_path):
    cache, _ = make_desk(tmp_path)
    app, screen = recovery_app(cache, {"ethereum": "ftp://nope"})
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(screen)
        await pilot.pause()
        await paste(pilot, screen, f"{ETH_TX}\n{BTC_TX}")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.running)
        assert screen.error == "endpoint for ethereum must be an http(s) URL"
        assert [e for _, e in screen.results.values()] == [screen.error] * 2
        await pilot.press("escape", "escape")  # leave the box, then back
        await pilot.pause()
        assert app.screen is not screen


async def test_hundreds_of_lines(tmp_path, fixture_server):
    cache, _ = make_desk(tmp_path)
    # one endpoint, so one request a line: the fixture server shares this process (and its GIL) with the app
    app, screen = recovery_app(cache, {"bitcoin": f"{fixture_server.url}/esplora/bitcoin"}, concurrency=16)
    lines = ["%064x bitcoin" % (i + 1) for i in range(300)]
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(screen)
        await pilot.pause()
        await paste(pilot, screen, "\n".join(lines))
        t0 = time.monotonic()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.running and len(screen.results) == 300, timeout=60)
        assert {v.code for v, _ in screen.results.values()} == {"not_found"}
        assert time.monotonic() - t0 < 30
        assert screen.query_one("#recovery-results").row_count == 300
        assert len(screen.history) == 300


async def test_a_running_batch_can_be_cancelled(tmp_path, fixture_server):
    cache, _ = make_desk(tmp_path)
    app, screen = recovery_app(cache, {"bitcoin": f"{fixture_server.url}/esplora/bitcoin"}, concurrency=1)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(screen)
        await pilot.pause()
        await paste(pilot, screen, "\n".join("%064x bitcoin" % (i + 1) for i in range(200)))
        await pilot.press("ctrl+s", "escape", "x")
        await pilot.pause(0.3)
        assert not screen.running and len(screen.results) == 200
        cancelled = [i for i, (v, e) in screen.results.items() if e == "cancelled"]
        assert cancelled and len(cancelled) < 200
        from agent_tui.services.lookups import recent_lookups

        stored = len(recent_lookups(cache))
        await pilot.pause(0.5)
        assert len(recent_lookups(cache)) == stored < 200  # the worker stopped: nothing more is looked up
        assert str(screen.query_one("#recovery-results").get_cell(str(cancelled[-1]), "code")) == "cancelled"


# --- snapshot: a fixed verdict, no network -------------------------------------------------

FIXED_VERDICT = {
    "schema_version": 1, "code": "needs_manual_credit",
    "explanation": "The 1000 USDT deposit on ethereum is valid, to the customer's address and confirmed (1213024), but there is no ledger record of it.",
    "macro": "deposit_needs_manual_credit", "recoverable": True,
    "recoverable_note": "Valid deposit with no ledger record: credit manually after the back-office check.",
    "txid": ETH_TX, "network": "ethereum", "claimed_network": "ethereum", "final": True,
    "evidence": {"network": "ethereum", "chain_id": 1, "status": "confirmed", "block": 8224161, "tip": 9437184, "confirmations": 1213024,
                 "required_confirmations": 12, "final": True, "asset": "USDT", "contract": "0xdac17f958d2ee523a2206206994597c13d831ec7",
                 "amount": "1000", "min_deposit": "10", "recipient": CUST_ADDR, "memo": None, "expected_memo": None, "index": 73,
                 "failure_reason": None, "ledger_status": None},
    "transfers": [{"recipient": CUST_ADDR, "asset": None, "contract": "0xdac17f958d2ee523a2206206994597c13d831ec7", "amount": None,
                   "raw_amount": "1000000000", "memo": None, "index": 73, "sender": "0x32d0b2d3d6e6ab8ea7a4f05bb1a3ae9e5d0e7b07", "kind": "token"}],
    "probes": {"ethereum": "found", "bsc": "not_found"},
    "ledger_checked": True, "ledger_note": "from the server",
}


@pytest.fixture
def snapshot_desk(tmp_path):
    def change(conn, made):
        add_address(conn, 3, "ethereum", CUST_ADDR)
        made["tid"] = new_ticket(conn, f"Hi, I sent 1000 USDT on ethereum yesterday and it is not in my account. TxID: {ETH_TX}",
                                 subject="[b]Deposit[/b] not credited \x1b[2J")

    cache, made = make_desk(tmp_path, change)
    yield cache, made["tid"]
    cache.close()


def test_lookup_screen_snapshot(snap_compare, snapshot_desk):
    cache, tid = snapshot_desk

    async def open_with_verdict(pilot):
        screen = pilot.app.open_lookup(tid)
        await pilot.pause()
        screen.show_verdict(Verdict.from_dict(FIXED_VERDICT))
        await pilot.pause()

    # an endpoint is configured (never called: the verdict is given), so the network the message names is the claim
    assert snap_compare(DeskApp(cache, {"ethereum": "http://127.0.0.1:9"}), terminal_size=SIZE, run_before=open_with_verdict)


# --- inside the real agent app (as the lead wires it) --------------------------------------


async def test_inside_the_agent_app_the_note_shows_on_the_ticket_after_back(tmp_path, fixture_server):
    from agent_tui.app import AgentApp, Identity
    from agent_tui.screens.ticket import TicketScreen

    def change(conn, made):
        add_address(conn, 3, "ethereum", CUST_ADDR)
        made["tid"] = new_ticket(conn, f"I sent 1000 USDT on ethereum. TxID: {ETH_TX}")

    cache, made = make_desk(tmp_path, change)
    tid = made["tid"]
    app = AgentApp(cache=cache, server_url="http://127.0.0.1:9", token="-", sync_enabled=False, clock=lambda: FROZEN,
                   identity=Identity(1, "Alex Morgan", "agent"),
                   settings=SimpleNamespace(theme="agent-dark", at_risk_minutes=15, views={}, keymap={}, rpc=endpoints(fixture_server)))
    async with app.run_test(size=SIZE) as pilot:
        app.open_ticket(tid)
        await pilot.pause()
        ticket = app.screen
        assert isinstance(ticket, TicketScreen)
        app.push_screen(LookupScreen(tid))
        await pilot.pause()
        await pilot.press("enter")
        screen = app.screen
        await wait_until(pilot, lambda: screen.verdict is not None or screen.error)
        assert screen.verdict.code == "needs_manual_credit"
        assert app.last_verdicts[tid]["macro"] == "deposit_needs_manual_credit"  # what the macro picker offers first
        await pilot.press("question_mark")  # the help lists the screen's binding ids
        assert "lookup.post_note" in [r[2] for r in app.screen.rows]
        await pilot.press("escape", "n")
        assert cache.outbox_depth() == 1
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert app.screen is ticket
        svg = app.export_screenshot()
        assert "Deposit&#160;look-up:&#160;needs_manual_credit" in svg  # the note, on the ticket


async def test_an_address_mentioned_in_its_other_encoding_is_the_customers(tmp_path, fixture_server):
    # Litecoin's old 3... and new M... forms of one P2SH script: the customer registered one, writes the other
    old, new = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "MQMHBtvnBfxTzt3K2bdxgSE7qZPHSXWsGM"

    def change(conn, made):
        from tests.desk import add_customer
        cid = add_customer(conn)
        add_address(conn, cid, "litecoin", old, asset="LTC")
        made["tid"] = new_ticket(conn, f"I sent LTC to {new} and to ltc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysn3s44dy, tx {BTC_TX}", customer_id=cid)

    cache, made = make_desk(tmp_path, change)
    app = DeskApp(cache, endpoints(fixture_server))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.open_lookup(made["tid"])
        await pilot.pause()
        assert screen.mentioned == [(new, True), ("ltc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysn3s44dy", False)]
