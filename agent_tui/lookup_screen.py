"""The deposit look-up for one ticket: the txids the customer pasted, a verdict with its evidence.

Opened as ``LookupScreen(ticket_id)`` over the ticket. It reads from the app only what any
AgentApp has: ``cache`` (storage.cache.Cache), ``settings`` (``rpc``: network -> endpoint),
``me_id``, ``identity.name``, ``after_change()``, and, if present, ``last_verdicts`` (a dict the
macro picker reads: ticket id -> ``Verdict.to_dict()``).

Chain data and customer text are hostile: everything drawn here is built as Rich ``Text`` without
markup (agent_tui.textsafe), never as markup strings. A look-up that fails shows one line and
leaves the screen working.
"""

from __future__ import annotations

from typing import Any, Optional

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, ListItem, ListView, Select, Static

from agent_tui.chains import ChainError, Verdict, default_asset_config, load_endpoints, lookup
from agent_tui.chains.addresses import parse_address, parse_txid
from agent_tui.chains.cache import LookupCache
from agent_tui.chains.config import networks_from
from agent_tui.chains.extract import extract, network_hints
from agent_tui.chains.ledger import LedgerSource, server_ledger
from agent_tui.chains.transport import Limits
from agent_tui.textsafe import one_line, safe_text

__all__ = ["LookupScreen", "TxChoice", "asset_config_of", "customer_context", "endpoints_of", "ledger_of", "ledger_line",
           "note_text", "run_one", "verdict_renderable"]

ANY_NETWORK = ""
LEDGER_KEYS = ("txid", "network", "asset", "amount", "output_index", "status")

# code -> style of its headline: settled good, wait, act, dead end
CODE_STYLE = {
    "credited": "bold green",
    "pending": "bold yellow", "insufficient_confirmations": "bold yellow",
    "needs_manual_credit": "bold magenta", "missing_memo": "bold magenta", "wrong_memo": "bold magenta",
    "wrong_network": "bold magenta", "unsupported_token": "bold magenta",
    "check_ledger": "bold yellow",
    "failed": "bold red", "dropped": "bold red", "wrong_address": "bold red", "below_minimum": "bold red", "not_found": "bold red",
}

EVIDENCE_ROWS = (
    ("network", "network"), ("chain_id", "chain id"), ("status", "status"), ("block", "block"), ("tip", "tip"),
    ("confirmations", "confirmations"), ("asset", "asset"), ("amount", "amount"), ("min_deposit", "minimum"),
    ("contract", "contract"), ("recipient", "recipient"), ("memo", "memo / tag"), ("expected_memo", "customer's tag"),
    ("index", "output/log index"), ("failure_reason", "failure"), ("ledger_status", "ledger"),
)


# --- what the screens share with the app (also used by the recovery screen) ----------------


def asset_config_of(app: Any) -> dict:
    """The exchange's listing from the cache; the built-in one while the cache has none yet."""
    try:
        cfg = app.cache.asset_config()
    except Exception:
        cfg = None
    if not isinstance(cfg, dict) or not cfg.get("networks"):
        return default_asset_config()
    return cfg


def endpoints_of(app: Any) -> dict:
    """Endpoints from settings.rpc (and AGENT_TUI_RPC_*). Raises InvalidInput for a malformed one."""
    return load_endpoints(getattr(getattr(app, "settings", None), "rpc", None) or None)


def ledger_of(app: Any) -> Optional[LedgerSource]:
    """The backend's ledger when the app is signed in (a server and a token), else None (not checked)."""
    url, token = getattr(app, "server_url", None), getattr(app, "token", None)
    if isinstance(url, str) and url and isinstance(token, str) and token:
        return server_ledger(url, token)
    return None


def ledger_line(v: Verdict) -> str:
    """One line on whether the verdict consulted the deposit ledger (and where it came from)."""
    if not v.ledger_checked:
        why = f" ({one_line(v.ledger_note, 200)})" if v.ledger_note else ""
        return f"Ledger NOT checked{why}: check the back office before crediting anything."
    return "Ledger checked" + (f": {one_line(v.ledger_note, 200)}" if v.ledger_note else "") + "."


def customer_context(customer: Optional[dict]) -> Optional[dict]:
    """The look-up's customer context from cache.customer(): deposit addresses and the ledger slice."""
    if not customer:
        return None
    addrs = [{"network": a.get("network"), "asset": a.get("asset"), "address": a.get("address"), "memo": a.get("memo")}
             for a in customer.get("addresses") or []]
    ledger = [{k: d.get(k) for k in LEDGER_KEYS} for d in customer.get("deposits") or []]
    return {"id": customer.get("id"), "addresses": addrs, "ledger": ledger}


async def run_one(app: Any, txid: str, network: Optional[str], customer: Optional[dict], *, limits: Optional[Limits] = None,
                  http: Any = None, endpoints: Any = None, asset_config: Optional[dict] = None,
                  ledger: Any = "app") -> tuple[Optional[Verdict], str]:
    """One look-up as the screens do it: (verdict, "") or (None, one line saying why not). Never raises."""
    try:
        eps = endpoints if endpoints is not None else endpoints_of(app)
        cfg = asset_config if asset_config is not None else asset_config_of(app)
        cache = LookupCache(app.cache.engine)
        verdict = await lookup(txid, network=network or None, customer=customer, asset_config=cfg, endpoints=eps,
                               cache=cache, limits=limits, http=http, ledger=ledger_of(app) if ledger == "app" else ledger)
        return verdict, ""
    except ChainError as e:
        return None, one_line(str(e), 300)
    except Exception as e:  # a bug must not take the screen down; say what kind of failure it was
        return None, f"look-up failed unexpectedly ({one_line(e.__class__.__name__, 60)})"


def _value(field: str, v: Verdict) -> Optional[str]:
    e = v.evidence
    raw = getattr(e, field, None)
    if field == "confirmations":
        if raw is None:
            return None
        return f"{raw}" + (f" of {e.required_confirmations} required" if e.required_confirmations else "")
    if raw is None or raw == "":
        return None
    return one_line(str(raw), 120)


def verdict_renderable(v: Verdict) -> Group:
    """The verdict as the agent reads it: headline, explanation, policy, evidence, transfers, probes. No markup."""
    head = Text()
    head.append(one_line(v.code, 40), style=CODE_STYLE.get(v.code, "bold"))
    head.append("   final" if v.final else "   not final yet (may change)", style="dim")
    where = Text("txid ", style="dim")
    where.append(one_line(v.txid or "?", 100))
    if v.network:
        where.append(" on ", style="dim")
        where.append(one_line(v.network, 30))
    if v.claimed_network and v.claimed_network != v.network:
        where.append(f"  (customer said {one_line(v.claimed_network, 30)})", style="dim")
    expl = safe_text(one_line(v.explanation))
    rec = Text("Recoverable: ", style="bold")
    rec.append("yes" if v.recoverable else "no", style="bold green" if v.recoverable else "bold red")
    rec.append(" · " + one_line(v.recoverable_note))
    macro = Text("Suggested macro: ", style="bold")
    macro.append(one_line(v.macro, 80))
    ledger = Text(ledger_line(v), style="dim" if v.ledger_checked else "bold yellow")

    ev = Table(show_header=False, box=None, padding=(0, 1), expand=False)
    ev.add_column(style="dim", no_wrap=True)
    ev.add_column(overflow="fold")
    for field, label in EVIDENCE_ROWS:
        val = _value(field, v)
        if val is not None:
            ev.add_row(Text(label), Text(val))

    parts: list[Any] = [head, where, Text(""), expl, Text(""), rec, macro, ledger, Text(""), Text("Evidence", style="bold"), ev]
    if v.transfers:
        tt = Table(box=None, padding=(0, 1), show_edge=False, header_style="dim")
        for col in ("#", "recipient", "amount", "asset / contract", "memo"):
            tt.add_column(col, overflow="fold")
        for t in v.transfers[:12]:
            # the core lists transfers as the chain gave them: a token's amount may be in raw units only
            amount = t.get("amount") if t.get("amount") is not None else (f"{t['raw_amount']} raw units" if t.get("raw_amount") is not None else None)
            recipient = f"{t.get('recipient')} (change)" if t.get("change") else t.get("recipient")  # back to the sender
            cells = (t.get("index"), recipient, amount, t.get("asset") or t.get("contract"), t.get("memo"))
            tt.add_row(*(Text(one_line(str(c), 70) if c is not None and c != "" else "—") for c in cells))
        parts += [Text(""), Text(f"Transfers ({len(v.transfers)})", style="bold"), tt]
        if len(v.transfers) > 12:
            parts.append(Text(f"… {len(v.transfers) - 12} more", style="dim"))
    if v.probes:
        pr = Text("Networks probed: ", style="bold")
        pr.append(one_line(", ".join(f"{n} {s}" for n, s in sorted(v.probes.items())), 400))
        parts += [Text(""), pr]
    return Group(*parts)


def note_text(v: Verdict) -> str:
    """The internal note that records a look-up on the ticket: plain text, one fact a line."""
    lines = [f"Deposit look-up: {one_line(v.code, 40)}", one_line(v.explanation),
             f"Recoverable: {'yes' if v.recoverable else 'no'}. {one_line(v.recoverable_note)}",
             f"Suggested macro: {one_line(v.macro, 80)}", ledger_line(v)]
    where = f"Txid: {one_line(v.txid or '?', 100)}"
    if v.network:
        where += f" on {one_line(v.network, 30)}"
    if v.claimed_network and v.claimed_network != v.network:
        where += f" (customer said {one_line(v.claimed_network, 30)})"
    lines.append(where)
    ev = [(label, _value(field, v)) for field, label in EVIDENCE_ROWS]
    ev = [(label, val) for label, val in ev if val is not None]
    if ev:
        lines.append("Evidence:")
        lines += [f"  {label}: {val}" for label, val in ev]
    if v.probes:
        lines.append("Probed: " + one_line(", ".join(f"{n} {s}" for n, s in sorted(v.probes.items())), 400))
    lines.append("Final (chain facts settled)." if v.final else "Not final yet: the chain may still change this.")
    return "\n".join(lines)


# --- the screen ----------------------------------------------------------------------------


class TxChoice(ListItem):
    """One txid the agent can look up, and where it came from."""

    def __init__(self, txid: str, source: str) -> None:
        self.txid = txid
        self.source = source
        label = Text(one_line(txid, 70))
        label.append(f"\n  {one_line(source, 60)}", style="dim")
        super().__init__(Label(label, markup=False))


class LookupScreen(Screen):
    """Look a deposit up for one ticket and record the verdict on it."""

    BINDINGS = [
        Binding("r,f5", "run", "Look up", id="lookup.run"),
        Binding("n", "post_note", "Post as note", id="lookup.post_note"),
        Binding("t", "edit_txid", "Type a txid", id="lookup.txid"),
        Binding("w", "pick_network", "Network", id="lookup.network"),
        Binding("escape,q", "back", "Back", id="lookup.back"),
    ]
    DEFAULT_CSS = """
    LookupScreen #lookup-head { height: auto; padding: 0 1; background: $panel; }
    LookupScreen #lookup-left { width: 78; border-right: solid $border-blurred; padding: 0 1; }
    LookupScreen #lookup-txids { height: auto; max-height: 14; min-height: 3; }
    LookupScreen #lookup-txid { height: 3; }
    LookupScreen #lookup-network { width: 100%; }
    LookupScreen #lookup-context { height: auto; margin-top: 1; }
    LookupScreen #lookup-result { padding: 0 1; }
    LookupScreen #lookup-error { height: auto; color: $error; text-style: bold; }
    LookupScreen #lookup-state { height: 1; color: $text-muted; }
    """

    class Finished(Message):
        """A look-up ended: a verdict, or the one line saying why there is none."""

        def __init__(self, txid: str, verdict: Optional[Verdict], error: str) -> None:
            super().__init__()
            self.txid, self.verdict, self.error = txid, verdict, error

    def __init__(self, ticket_id: int, *, limits: Optional[Limits] = None) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.limits = limits
        self.ticket: Optional[dict] = None
        self.customer: Optional[dict] = None
        self.choices: list[tuple[str, str]] = []  # (txid, source)
        self.mentioned: list[tuple[str, bool]] = []  # addresses in the messages, and whether they are the customer's
        self.hints: list[str] = []
        self.verdict: Optional[Verdict] = None
        self.error: str = ""
        self.running: Optional[str] = None  # txid being looked up
        self._posted: Optional[int] = None  # id() of the verdict already posted as a note

    # --- building -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="lookup-head", markup=False)
        with Horizontal():
            with Vertical(id="lookup-left"):
                yield Static("Transactions (enter: look up)", classes="pane-title")
                yield ListView(id="lookup-txids")
                yield Input(placeholder="or paste a txid and press enter", id="lookup-txid")
                yield Static("Network the customer says they used", classes="pane-title")
                yield Select([("any network (probe all that fit)", ANY_NETWORK)], allow_blank=False, value=ANY_NETWORK, id="lookup-network")
                yield Static("", id="lookup-context", markup=False)
            with VerticalScroll(id="lookup-result"):
                yield Static("", id="lookup-state", markup=False)
                yield Static("", id="lookup-error", markup=False)
                yield Static("", id="lookup-verdict", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#lookup-txids", ListView).focus()

    def load(self) -> None:
        """Read the ticket, its customer messages and the customer from the cache; fill the choices."""
        app = self.app
        self.ticket = app.cache.ticket(self.ticket_id)
        thread = app.cache.thread(self.ticket_id) if self.ticket else []
        self.customer = app.cache.customer(self.ticket["requester_id"]) if self.ticket else None
        seen: set[str] = set()
        choices: list[tuple[str, str]] = []
        mentioned: list[str] = []
        hints: list[str] = []
        for m in thread:
            if m.get("kind") != "customer":
                continue
            body = m.get("body") or ""
            for f in extract(body):
                if f.kind == "txid":
                    key = f.value.removeprefix("0x")
                    if key not in seen:
                        seen.add(key)
                        choices.append((f.text if len(f.text) <= 66 else f.value, "from the customer"))
                elif f.value not in mentioned:
                    mentioned.append(f.value)
            for h in network_hints(body):
                if h not in hints:
                    hints.append(h)
        for d in (self.customer or {}).get("deposits") or []:
            tx = str(d.get("txid") or "")
            try:
                key = parse_txid(tx).hex
            except ChainError:
                continue
            if key not in seen:
                seen.add(key)
                choices.append((tx, f"ledger: {d.get('status') or '?'} {d.get('amount') or ''} {d.get('asset') or ''}".strip()))
        own = set()
        for a in (self.customer or {}).get("addresses") or []:
            try:
                own.add(parse_address(a.get("address")).key)  # one script in any of its encodings
            except ChainError:
                continue
        self.choices = choices
        self.mentioned = [(a, parse_address(a).key in own) for a in mentioned]
        self.hints = hints

        lv = self.query_one("#lookup-txids", ListView)
        lv.clear()
        for tx, src in choices:
            lv.append(TxChoice(tx, src))
        if choices:
            lv.index = 0

        cfg = asset_config_of(app)
        listed = [str(n.get("network") or "").lower() for n in cfg.get("networks") or [] if n.get("network")]
        others = sorted(n for n in networks_from(cfg) if n not in listed)
        options = ([(Text("any network (probe all that fit)"), ANY_NETWORK)] + [(Text(one_line(n, 30)), n) for n in listed]
                   + [(Text(f"{one_line(n, 30)} (not listed)"), n) for n in others])
        sel = self.query_one("#lookup-network", Select)
        sel.set_options(options)
        try:
            reachable = set(endpoints_of(app))
        except ChainError:
            reachable = set()  # the look-up itself will say what is wrong with the config
        # the network the customer names becomes the claim, when it is the only one named and can be probed
        one = hints[0] if len(hints) == 1 else None
        sel.value = one if one in listed + others and one in reachable else ANY_NETWORK

        self._render_head()
        self._render_context()
        self._render_result()

    def _render_head(self) -> None:
        t = self.ticket
        if t is None:
            head = Text(f"Deposit look-up · ticket #{self.ticket_id} is not in the cache")
        else:
            head = Text(f"Deposit look-up · #{t['id']}  ", style="bold")
            head.append_text(safe_text(one_line(t.get("subject") or "", 80)))
            if self.customer:
                head.append("  · customer ")
                head.append_text(safe_text(one_line(self.customer.get("name") or "?", 40)))
        self.query_one("#lookup-head", Static).update(head)

    def _render_context(self) -> None:
        out = Text()
        c = self.customer
        if c is None:
            out.append("Customer not in the cache: the recipient cannot be compared with their addresses.\n", style="bold")
        else:
            out.append("Customer's deposit addresses\n", style="bold")
            for a in c.get("addresses") or []:
                out.append(f"  {one_line(str(a.get('network') or '?'), 10):<10}", style="dim")
                out.append(one_line(str(a.get("address") or ""), 64))
                if a.get("memo"):
                    out.append(f"  tag {one_line(str(a['memo']), 20)}")
                out.append("\n")
            if not c.get("addresses"):
                out.append("  none\n", style="dim")
        if self.mentioned:
            out.append("\nAddresses in the messages\n", style="bold")
            for a, theirs in self.mentioned:
                out.append("  " + one_line(a, 64))
                out.append("  theirs\n" if theirs else "  NOT one of theirs\n", style="dim" if theirs else "bold")
        if self.hints:
            out.append("\nNetworks the customer mentions: ", style="bold")
            out.append(", ".join(self.hints) + "\n")
        if not self.choices:
            out.append("\nNo txid in the customer's messages or ledger: paste one above.\n", style="bold")
        self.query_one("#lookup-context", Static).update(out)

    def _render_result(self) -> None:
        state = self.query_one("#lookup-state", Static)
        if self.running:
            state.update(Text("looking up " + one_line(self.running, 70) + " …"))
        elif self.verdict is None and not self.error:
            state.update(Text("Pick a txid and press enter (or r)."))
        else:
            state.update(Text("r: look up again · n: post as an internal note · esc: back"))
        self.query_one("#lookup-error", Static).update(Text(self.error))
        self.query_one("#lookup-verdict", Static).update(verdict_renderable(self.verdict) if self.verdict else Text(""))

    # --- running ------------------------------------------------------------------------

    def selected_txid(self) -> Optional[str]:
        lv = self.query_one("#lookup-txids", ListView)
        item = lv.highlighted_child
        return item.txid if isinstance(item, TxChoice) else None

    def claimed_network(self) -> Optional[str]:
        v = self.query_one("#lookup-network", Select).value
        return v if isinstance(v, str) and v else None

    def start(self, txid: str) -> None:
        self.running = txid
        self.error = ""
        self._render_result()
        self.run_lookup(txid, self.claimed_network())

    @work(exclusive=True, group="lookup", exit_on_error=False)
    async def run_lookup(self, txid: str, network: Optional[str]) -> None:
        verdict, error = await run_one(self.app, txid, network, customer_context(self.customer), limits=self.limits)
        self.post_message(self.Finished(txid, verdict, error))

    @on(Finished)
    def _finished(self, msg: Finished) -> None:
        if msg.txid != self.running:  # posted by a look-up replaced in the meantime: not this txid's answer
            return
        if msg.verdict is not None:
            self.show_verdict(msg.verdict)
            return
        self.running = None
        self.error = msg.error or "look-up failed"
        self._render_result()

    def show_verdict(self, verdict: Verdict) -> None:
        """Show a verdict and remember it as this ticket's last one (the macro picker suggests its macro)."""
        self.verdict = verdict
        self.error = ""
        self.running = None
        store = getattr(self.app, "last_verdicts", None)
        if isinstance(store, dict):
            store[self.ticket_id] = verdict.to_dict()
        self._render_result()

    # --- actions and events -------------------------------------------------------------

    def action_run(self) -> None:
        inp = self.query_one("#lookup-txid", Input)
        if inp.has_focus and inp.value.strip():
            self._submit_typed(inp.value)
            return
        txid = self.selected_txid()
        if txid is None:
            self.error = "No txid to look up: paste one in the box (t)."
            self._render_result()
            return
        self.start(txid)

    @on(ListView.Selected, "#lookup-txids")
    def _chosen(self, event: ListView.Selected) -> None:
        if isinstance(event.item, TxChoice):
            self.start(event.item.txid)

    @on(Input.Submitted, "#lookup-txid")
    def _typed(self, event: Input.Submitted) -> None:
        self._submit_typed(event.value)

    def _submit_typed(self, value: str) -> None:
        try:
            parsed = parse_txid(value)
        except ChainError as e:
            self.error = one_line(str(e), 300)
            self._render_result()
            return
        txid = value.strip()
        lv = self.query_one("#lookup-txids", ListView)
        keys = [parse_txid(t).hex for t, _ in self.choices]
        if parsed.hex in keys:
            lv.index = keys.index(parsed.hex)
        else:
            self.choices.insert(0, (txid, "typed"))
            lv.insert(0, [TxChoice(txid, "typed")])
            lv.index = 0
        self.query_one("#lookup-txid", Input).value = ""
        lv.focus()
        self.start(txid)

    @on(Input.Changed, "#lookup-txid")
    def _paste_cleaned(self, event: Input.Changed) -> None:
        """A txid copied from a hostile page may carry escapes or bidi controls: drop them before they are drawn."""
        safe = one_line(event.value)
        if safe != event.value:
            event.input.value = safe

    def action_edit_txid(self) -> None:
        self.query_one("#lookup-txid", Input).focus()

    def action_pick_network(self) -> None:
        sel = self.query_one("#lookup-network", Select)
        sel.focus()
        sel.expanded = True

    def action_post_note(self) -> None:
        v = self.verdict
        if v is None:
            self.app.notify("Nothing to post yet: run the look-up first.", severity="warning")
            return
        if self._posted == id(v):
            self.app.notify("This verdict is already on the ticket as a note.", severity="warning")
            return
        app = self.app
        ident = getattr(app, "identity", None)
        try:
            app.cache.queue_reply(self.ticket_id, note_text(v), internal=True, agent_id=getattr(app, "me_id", None),
                                  agent_name=(getattr(ident, "name", "") or "me"))
        except Exception as e:  # the ticket vanished, the cache is read-only...: one line, nothing lost on screen
            self.error = "Could not post the note: " + one_line(str(e) or e.__class__.__name__, 200)
            self._render_result()
            return
        self._posted = id(v)
        app.notify("Look-up posted to the ticket as an internal note.")
        after = getattr(app, "after_change", None)
        if callable(after):
            after()

    def action_back(self) -> None:
        if isinstance(self.focused, (Input, Select)):  # esc leaves the box or the network first (text and choice stay)
            self.query_one("#lookup-txids", ListView).focus()
            return
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 and stack[-1] is self else None
        if below is None:
            return
        result = self.verdict.to_dict() if self.verdict else None
        posted = self._posted is not None
        self.dismiss(result)
        if posted and callable(getattr(below, "reload", None)):
            self.app.call_later(below.reload)  # the ticket shows the note just posted
