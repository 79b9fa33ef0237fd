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

from typing import Optional

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, ListItem, ListView, Select, Static

from agent_tui.chains import ChainError, Verdict
from agent_tui.chains.addresses import parse_address, parse_txid
from agent_tui.chains.config import networks_from
from agent_tui.chains.extract import extract, network_hints
from agent_tui.chains.transport import Limits
from agent_tui.services.lookups import (
    asset_config_of,
    customer_context,
    endpoints_of,
    run_one,
)
from agent_tui.textsafe import one_line, safe_text
from widgets.verdict import note_text, verdict_renderable

__all__ = ["LookupScreen", "TxChoice"]

ANY_NETWORK = ""


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
