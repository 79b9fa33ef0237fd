"""The recovery desk: a batch of txids looked up in parallel, the results, and the history of look-ups.

``RecoveryScreen()`` reads from the app what any AgentApp has: ``cache`` (its engine holds the
``lookup_results`` table) and ``settings.rpc``. Every look-up goes through the same SQLite result
cache as the ticket's look-up screen, so the history shows both.

Paste one txid a line, optionally followed by the network the customer claims (``0xabc… bsc``);
blank lines and ``#`` comments are skipped. Chain data is hostile: cells are Rich ``Text`` made
with agent_tui.textsafe, never markup. A failed look-up is one line in its row.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Optional

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TextArea

from agent_tui.chains import ChainError, Verdict
from agent_tui.chains.transport import Http, Limits
from agent_tui.screens.modals.verdict import VerdictScreen
from agent_tui.services.lookups import (
    MAX_BATCH,
    BatchItem,
    asset_config_of,
    endpoints_of,
    ledger_of,
    parse_batch,
    recent_lookups,
    run_one,
)
from agent_tui.textsafe import clean, one_line
from widgets.verdict import CODE_STYLE

__all__ = ["RecoveryScreen"]

DEFAULT_CONCURRENCY = 8  # look-ups in flight at once (each fans out to its candidate networks)
FLUSH_EVERY = 0.1  # seconds between repaints of answered rows while a batch runs


def _cell(value: Any, width: int = 40, style: str = "") -> Text:
    s = "—" if value is None or value == "" else one_line(str(value), width)
    return Text(s, style=style, no_wrap=True, overflow="ellipsis")


def _stamp(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) if t else "—"


RESULT_COLUMNS = (("line", "#", 3), ("txid", "txid", 18), ("claimed", "claimed", 7), ("code", "verdict", 24),
                  ("network", "found on", 8), ("amount", "amount", 16), ("conf", "conf.", 9), ("rec", "recov", 5),
                  ("ledger", "ledger", 6))
HISTORY_COLUMNS = (("when", "when (UTC)", 19), ("txid", "txid", 18), ("claimed", "claimed", 7), ("network", "found on", 8),
                   ("code", "verdict", 24), ("final", "final", 5))


class RecoveryScreen(Screen):
    """Batch look-ups for recovery specialists."""

    BINDINGS = [
        Binding("ctrl+s,f5", "run", "Run batch", id="recovery.run", priority=True),
        Binding("x", "cancel", "Cancel run", id="recovery.cancel"),
        Binding("i", "edit", "Edit batch", id="recovery.edit"),
        Binding("h", "refresh_history", "Refresh history", id="recovery.history"),
        Binding("escape", "back", "Leave box / back", id="recovery.back"),
    ]
    DEFAULT_CSS = """
    RecoveryScreen #recovery-head { height: 1; padding: 0 1; background: $panel; }
    RecoveryScreen #recovery-left { width: 48; border-right: solid $border-blurred; padding: 0 1; }
    RecoveryScreen #recovery-batch { height: 1fr; }
    RecoveryScreen #recovery-error { height: auto; color: $error; text-style: bold; }
    RecoveryScreen #recovery-right { padding: 0 1; }
    RecoveryScreen #recovery-results { height: 3fr; }
    RecoveryScreen #recovery-row { height: 2; color: $text-muted; }
    RecoveryScreen #recovery-history { height: 2fr; }
    """

    class ItemDone(Message):
        def __init__(self, batch: int, index: int, verdict: Optional[Verdict], error: str) -> None:
            super().__init__()
            self.batch, self.index, self.verdict, self.error = batch, index, verdict, error

    class BatchDone(Message):
        def __init__(self, batch: int, error: str = "") -> None:
            super().__init__()
            self.batch, self.error = batch, error

    def __init__(self, *, concurrency: int = DEFAULT_CONCURRENCY, limits: Optional[Limits] = None) -> None:
        super().__init__()
        self.concurrency = max(1, int(concurrency))
        self.limits = limits
        self.items: list[BatchItem] = []
        self.results: dict[int, tuple[Optional[Verdict], str]] = {}  # item index -> (verdict, error)
        self.history: list[dict] = []
        self.batch = 0  # which run the rows belong to (a result of a cancelled run is dropped)
        self.running = False
        self._finishing = False
        self.error = ""
        self.note = ""
        self._dirty: list[int] = []  # rows answered but not drawn yet
        self._flush_timer = None

    def compose(self) -> ComposeResult:
        yield Static("", id="recovery-head", markup=False)
        with Horizontal():
            with Vertical(id="recovery-left"):
                yield Static("Txids, one a line [network] · ctrl+s run", classes="pane-title")
                yield TextArea(id="recovery-batch", soft_wrap=True, show_line_numbers=True)
                yield Static("", id="recovery-error", markup=False)
            with Vertical(id="recovery-right"):
                yield Static("Results (enter: details)", classes="pane-title")
                yield DataTable(id="recovery-results", cursor_type="row", zebra_stripes=True)
                yield Static("", id="recovery-row", markup=False)
                yield Static("History, newest first (enter: details)", classes="pane-title")
                yield DataTable(id="recovery-history", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        results = self.query_one("#recovery-results", DataTable)
        for key, label, width in RESULT_COLUMNS:
            results.add_column(label, key=key, width=width)
        history = self.query_one("#recovery-history", DataTable)
        for key, label, width in HISTORY_COLUMNS:
            history.add_column(label, key=key, width=width)
        self.load_history()
        self._render_head()
        self.query_one("#recovery-batch", TextArea).focus()

    # --- header and history --------------------------------------------------------------

    def _render_head(self) -> None:
        done = len(self.results)
        failed = sum(1 for v, e in self.results.values() if v is None)
        parts = ["Recovery desk"]
        if self.items:
            parts.append(f"{done} of {len(self.items)} done" + (f" · {failed} without a verdict" if failed else ""))
            parts.append("running…" if self.running else "finished")
        if self.note:
            parts.append(self.note)
        parts.append(f"history {len(self.history)}")
        self.query_one("#recovery-head", Static).update(Text(" · ".join(parts)))
        self.query_one("#recovery-error", Static).update(Text(self.error))

    def load_history(self) -> None:
        """The look-up history, read in a thread; `on_recovery_screen_history_read` shows it."""
        cache = self.app.cache

        def read() -> None:
            try:
                self.post_message(self.HistoryRead(recent_lookups(cache), ""))
            except Exception as e:  # an unreadable table must not take the desk down
                self.post_message(self.HistoryRead([], "Could not read the look-up history: " + one_line(str(e) or e.__class__.__name__, 200)))

        self.run_worker(read, thread=True, exclusive=True, group="recovery-history", exit_on_error=False)

    class HistoryRead(Message):
        def __init__(self, history: list[dict], error: str) -> None:
            super().__init__()
            self.history, self.error = history, error

    def on_recovery_screen_history_read(self, msg: "RecoveryScreen.HistoryRead") -> None:
        self.history = msg.history
        if self._finishing:
            self.running, self._finishing = False, False
        if msg.error:
            self.error = msg.error
        table = self.query_one("#recovery-history", DataTable)
        table.clear()
        for i, h in enumerate(self.history):
            table.add_row(_cell(_stamp(h["fetched_at"]), 19), _cell(h["txid"], 70), _cell(h["claimed"], 12), _cell(h["network"], 12),
                          _cell(h["code"] or "unreadable", 30, CODE_STYLE.get(h["code"] or "", "")), _cell("yes" if h["final"] else "no", 5),
                          key=str(i))
        self._render_head()

    # --- running a batch -----------------------------------------------------------------

    def action_run(self) -> None:
        text = self.query_one("#recovery-batch", TextArea).text
        items, dups, over = parse_batch(text)
        self.error = ""
        notes = []
        if dups:
            notes.append(f"{dups} duplicate(s) skipped")
        if over:
            notes.append(f"{over} line(s) over the {MAX_BATCH} limit not run")
        self.note = " · ".join(notes)
        if not items:
            self.error = "Nothing to look up: paste txids, one a line."
            self._render_head()
            return
        self.batch += 1
        self.items = items
        self.results = {}
        self._dirty = []
        table = self.query_one("#recovery-results", DataTable)
        table.clear()
        todo: list[tuple[int, BatchItem]] = []
        for i, it in enumerate(items):
            table.add_row(_cell(it.line, 5), _cell(it.txid, 70), _cell(it.network, 12),
                          _cell("…" if not it.error else "bad input", 30, "bold red" if it.error else ""),
                          _cell(None), _cell(None), _cell(None), _cell(None), _cell(None), key=str(i))
            if it.error:
                self.results[i] = (None, it.error)
            else:
                todo.append((i, it))
        self.running, self._finishing = bool(todo), False
        self._render_head()
        if todo:
            self.run_batch(self.batch, todo)

    @work(exclusive=True, group="recovery", exit_on_error=False)
    async def run_batch(self, batch: int, todo: list[tuple[int, BatchItem]]) -> None:
        app = self.app
        try:
            eps = endpoints_of(app)
        except ChainError as e:
            for i, _ in todo:
                self.post_message(self.ItemDone(batch, i, None, one_line(str(e), 300)))
            self.post_message(self.BatchDone(batch, one_line(str(e), 300)))
            return
        cfg = asset_config_of(app)
        ledger = ledger_of(app)  # one for the batch: a server found down is not waited for on every line
        sem = asyncio.Semaphore(self.concurrency)

        async def one(i: int, it: BatchItem) -> None:
            async with sem:
                verdict, error = await run_one(app, it.txid, it.network, None, http=http, endpoints=eps, asset_config=cfg, ledger=ledger)
            self.post_message(self.ItemDone(batch, i, verdict, error))

        async with Http(self.limits) as http:
            await asyncio.gather(*(one(i, it) for i, it in todo))
        self.post_message(self.BatchDone(batch))

    @on(ItemDone)
    def _item_done(self, msg: ItemDone) -> None:
        if msg.batch != self.batch or msg.index >= len(self.items):
            return
        self.results[msg.index] = (msg.verdict, msg.error)
        self._dirty.append(msg.index)
        if self._flush_timer is None:  # rows are drawn in batches: hundreds of answers, a few repaints
            self._flush_timer = self.set_timer(FLUSH_EVERY, self._flush)

    def _flush(self) -> None:
        self._flush_timer = None
        dirty, self._dirty = self._dirty, []
        table = self.query_one("#recovery-results", DataTable)
        for index in dirty:
            v, error = self.results.get(index, (None, ""))
            key = str(index)
            if v is None:
                table.update_cell(key, "code", _cell("error: " + error, 300, "bold red"))
                continue
            e = v.evidence
            amount = f"{e.amount} {e.asset}" if e.amount is not None and e.asset else e.amount
            conf = None if e.confirmations is None else (f"{e.confirmations}/{e.required_confirmations}" if e.required_confirmations else str(e.confirmations))
            table.update_cell(key, "code", _cell(v.code, 30, CODE_STYLE.get(v.code, "bold")))
            table.update_cell(key, "network", _cell(v.network, 12))
            table.update_cell(key, "amount", _cell(amount, 40))
            table.update_cell(key, "conf", _cell(conf, 20))
            table.update_cell(key, "rec", _cell("yes" if v.recoverable else "no", 4))
            table.update_cell(key, "ledger", _cell("yes" if v.ledger_checked else "NOT", 4, "" if v.ledger_checked else "bold yellow"))
        self._render_head()
        self._show_row(table.cursor_row)

    @on(DataTable.RowHighlighted, "#recovery-results")
    def _result_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_row(event.cursor_row)

    def _show_row(self, row: Optional[int]) -> None:
        """Under the results: the highlighted row's explanation, or why it has none."""
        out = Text()
        if row is not None and 0 <= row < len(self.items):
            it = self.items[row]
            v, error = self.results.get(row, (None, ""))
            out.append(f"line {it.line}: ", style="bold")
            if v is not None:
                out.append(one_line(v.explanation, 300))
                out.append("  macro " + one_line(v.macro, 60), style="dim")
            elif error:
                out.append(one_line(error, 300))
            else:
                out.append("waiting…")
        self.query_one("#recovery-row", Static).update(out)

    @on(BatchDone)
    def _batch_done(self, msg: BatchDone) -> None:
        if msg.batch != self.batch:
            return
        self._finishing = True  # the batch is done once its look-ups show in the history (read in a thread)
        if msg.error:
            self.error = msg.error
        self._flush()
        self.load_history()

    def action_cancel(self) -> None:
        if not self.running:
            return
        self.workers.cancel_group(self, "recovery")
        self.running = False
        table = self.query_one("#recovery-results", DataTable)
        for i in range(len(self.items)):
            if i not in self.results:
                self.results[i] = (None, "cancelled")
                table.update_cell(str(i), "code", _cell("cancelled", 30, "dim"))
        self.batch += 1  # late answers of the cancelled run are dropped
        self._flush()
        self.load_history()

    @on(TextArea.Changed, "#recovery-batch")
    def _pasted(self, event: TextArea.Changed) -> None:
        """A paste copied from a customer message may carry terminal escapes: drop them before they are drawn."""
        text = event.text_area.text
        safe = clean(text)
        if safe != text:
            event.text_area.load_text(safe)
            self.error = "Control characters and escape sequences were removed from the pasted text."
            self._render_head()

    # --- details, focus, back ------------------------------------------------------------

    @on(DataTable.RowSelected, "#recovery-results")
    def _result_chosen(self, event: DataTable.RowSelected) -> None:
        try:
            v, err = self.results.get(int(event.row_key.value), (None, ""))
        except (TypeError, ValueError):
            return
        if v is not None:
            self.app.push_screen(VerdictScreen(v))
        elif err:
            self.app.notify(err, severity="warning", markup=False)  # the error quotes pasted text and chain data

    @on(DataTable.RowSelected, "#recovery-history")
    def _history_chosen(self, event: DataTable.RowSelected) -> None:
        try:
            h = self.history[int(event.row_key.value)]
        except (TypeError, ValueError, IndexError):
            return
        if h["verdict"] is not None:
            self.app.push_screen(VerdictScreen(h["verdict"]))

    def action_refresh_history(self) -> None:
        self.load_history()

    def action_edit(self) -> None:
        self.query_one("#recovery-batch", TextArea).focus()

    def action_back(self) -> None:
        if isinstance(self.focused, TextArea):
            self.query_one("#recovery-results", DataTable).focus()
            return
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.app.pop_screen()
