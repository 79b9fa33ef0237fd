"""The queue: views, filter as you type, bulk actions, live SLA countdowns."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Optional

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, ListView, Static

from agent_tui.screens.contract import DeskApp
from agent_tui.screens.modals.assign import AgentPicker
from agent_tui.screens.modals.tags import TagScreen
from agent_tui.textsafe import clean
from agent_tui.vocabulary import step_priority
from widgets.queue_list import QueueList
from widgets.status_bar import StatusBar
from widgets.view_item import ViewItem


class _Prefetched:
    """A row source whose count and first pages were read in a worker. A page it does not have yet
    is asked for (`want`, which reads it in a thread) and is None until it arrives (`add`); the
    list draws those rows blank meanwhile, so scrolling never waits on SQLite."""

    KEEP = 32  # pages held; the list keeps its own cache of what it draws

    def __init__(self, source: Any, count: int, pages: dict, want: Optional[Callable[[int, int], None]] = None) -> None:
        self.source, self._count, self._want = source, count, want
        self._pages: OrderedDict[tuple[int, int], list] = OrderedDict(pages)
        self._asked: set[tuple[int, int]] = set()

    def count(self) -> int:
        return self._count

    def page(self, offset: int, limit: int):
        key = (offset, limit)
        got = self._pages.get(key)
        if got is not None:
            return got
        if self._want is None:  # nobody to read it in the background: read it here
            return self.source.page(offset, limit)
        if key not in self._asked:
            self._asked.add(key)
            self._want(offset, limit)
        return None

    def add(self, offset: int, limit: int, rows: list) -> None:
        self._asked.discard((offset, limit))
        self._pages[(offset, limit)] = rows
        while len(self._pages) > self.KEEP:
            self._pages.popitem(last=False)


class QueueScreen(Screen):
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="queue.filter", tooltip="Filter as you type"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="queue.clear_filter"),
        Binding("c", "claim", "Claim", id="queue.claim", tooltip="Claim the ticket (or the selected ones)"),
        Binding("s", "cycle_sort", "Sort", id="queue.sort"),
        Binding("tab", "focus_next_pane", "Views/list", show=False, id="queue.focus"),
        Binding("left_square_bracket", "prev_view", "Prev view", show=False, id="queue.prev_view"),
        Binding("right_square_bracket", "next_view", "Next view", show=False, id="queue.next_view"),
        Binding("o", "bulk_status('open')", "Open", show=False, id="queue.status_open"),
        Binding("p", "bulk_status('pending')", "Pending", show=False, id="queue.status_pending"),
        Binding("v", "bulk_status('solved')", "Solve", show=False, id="queue.status_solved"),
        Binding("a", "bulk_assign", "Assign", show=False, id="queue.assign", tooltip="Assign the ticket(s) to an agent"),
        Binding("t", "bulk_tags", "Tags", show=False, id="queue.tags", tooltip="Add (+tag) or remove (-tag) tags"),
        Binding("plus", "bulk_priority(1)", "Priority +", show=False, id="queue.priority_up"),
        Binding("minus", "bulk_priority(-1)", "Priority −", show=False, id="queue.priority_down"),
    ]
    SORTS = ("sla", "priority", "updated", "created")

    def __init__(self) -> None:
        super().__init__()
        self._generation = 0  # the latest request for rows: an older answer is not shown
        self.sort = "sla"
        self.view_key = "unassigned"

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="sidebar"):
                yield Static("Views", classes="pane-title")
                yield ListView(id="views")
            with Vertical(id="main"):
                yield Static("", id="queue-title", markup=False)
                yield Input(placeholder="filter: words, #id, customer, tag", id="filter")
                yield QueueList(id="queue")
        yield StatusBar(classes="status-bar", id="status")
        yield Footer()

    DEFAULT_CSS = """
    #sidebar { width: 30; border-right: solid $border-blurred; }
    #views { height: 1fr; }
    #filter { display: none; height: 3; }
    #filter.visible { display: block; }
    #queue-title { height: 1; color: $text-muted; padding: 0 1; }
    """

    @property
    def queue(self) -> QueueList:
        return self.query_one(QueueList)

    def on_mount(self) -> None:
        lv = self.query_one("#views", ListView)
        for v in self.app.views:
            lv.append(ViewItem(v))
        start = next((i for i, v in enumerate(self.app.views) if v.key == self.app.start_view), 0)
        lv.index = start
        self.view_key = self.app.views[start].key
        self.show_view()
        self.set_focus(self.queue)

    def current_view(self) -> Any:
        return next(v for v in self.app.views if v.key == self.view_key)

    def show_view(self, keep_cursor: bool = False, background: bool = True) -> None:
        """Show the current view's rows: they are counted and the pages the list draws first are read
        in a thread (a view of 100,000 tickets, a filter, a refresh after a sync) and shown when they
        are ready (RowsReady); the keys typed meanwhile are never kept waiting. Later pages are read
        the same way as the list scrolls to them (PageRead). `background` is kept for callers; the
        rows are always read off the event loop."""
        app: DeskApp = self.app  # type: ignore[assignment]
        text = self.query_one("#filter", Input).value
        src = app.cache.rows(self.current_view(), me=app.me_id, now=app.clock(), text=text, sort=self.sort, at_risk=app.at_risk)
        self._generation += 1
        generation, size = self._generation, self.queue.page_size
        around = self.queue.cursor_row // size if keep_cursor else 0
        offsets = sorted({0, *(max(0, p) * size for p in (around - 1, around, around + 1))})

        def want(offset: int, limit: int) -> None:
            self._read_page(generation, src, offset, limit)

        def read() -> None:
            pages = {(o, size): list(src.page(o, size)) for o in offsets}
            self.post_message(self.RowsReady(_Prefetched(src, src.count(), pages, want), keep_cursor, text, generation))

        self.run_worker(read, thread=True, exclusive=True, group="queue-rows", exit_on_error=False)

    def _read_page(self, generation: int, src: Any, offset: int, limit: int) -> None:
        def read() -> None:
            self.post_message(self.PageRead(generation, offset, limit, list(src.page(offset, limit))))

        self.run_worker(read, thread=True, group="queue-pages", exit_on_error=False)

    class RowsReady(Message):
        def __init__(self, source: Any, keep_cursor: bool, text: str, generation: int) -> None:
            super().__init__()
            self.source, self.keep_cursor, self.text, self.generation = source, keep_cursor, text, generation

    class PageRead(Message):
        def __init__(self, generation: int, offset: int, limit: int, rows: list) -> None:
            super().__init__()
            self.generation, self.offset, self.limit, self.rows = generation, offset, limit, rows

    def on_queue_screen_rows_ready(self, msg: "QueueScreen.RowsReady") -> None:
        if msg.generation == self._generation:  # not overtaken by a later keystroke or view
            self._show_rows(msg.source, msg.keep_cursor, msg.text)

    def on_queue_screen_page_read(self, msg: "QueueScreen.PageRead") -> None:
        src = self.queue.source
        if msg.generation == self._generation and isinstance(src, _Prefetched):
            src.add(msg.offset, msg.limit, msg.rows)
            self.queue.rows_arrived()

    def _show_rows(self, src: Any, keep_cursor: bool, text: str) -> None:
        app: DeskApp = self.app  # type: ignore[assignment]
        if keep_cursor:  # same view, fresh rows: the cursor stays on its ticket
            self.queue.refresh_rows(src)
        else:
            self.queue.set_source(src)
        self.queue.tick(app.clock())
        v = self.current_view()
        self.query_one("#queue-title", Static).update(
            f"{v.title} · {self.queue.row_count} tickets · sorted by {self.sort}" + (f" · filter {text!r}" if text else ""))

    @on(ListView.Highlighted, "#views")
    def _view_chosen(self, event: ListView.Highlighted) -> None:
        if isinstance(event.item, ViewItem) and event.item.view.key != self.view_key:
            self.view_key = event.item.view.key
            self.show_view()

    @on(QueueList.Opened)
    def _open(self, event: QueueList.Opened) -> None:
        self.app.open_ticket(event.ticket_id)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.show_view(background=True)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.set_focus(self.queue)

    def action_filter(self) -> None:
        f = self.query_one("#filter", Input)
        f.add_class("visible")
        self.set_focus(f)

    def action_clear_filter(self) -> None:
        f = self.query_one("#filter", Input)
        if f.value or f.has_class("visible"):
            f.value = ""
            f.remove_class("visible")
            self.show_view()
            self.set_focus(self.queue)

    def action_cycle_sort(self) -> None:
        self.sort = self.SORTS[(self.SORTS.index(self.sort) + 1) % len(self.SORTS)]
        self.show_view()

    def action_focus_next_pane(self) -> None:
        lv = self.query_one("#views", ListView)
        self.set_focus(self.queue if lv.has_focus else lv)

    def _step_view(self, d: int) -> None:
        lv = self.query_one("#views", ListView)
        lv.index = ((lv.index or 0) + d) % len(self.app.views)

    def action_prev_view(self) -> None:
        self._step_view(-1)

    def action_next_view(self) -> None:
        self._step_view(1)

    def targets(self) -> list[int]:
        sel = sorted(self.queue.selected_ids)
        if sel:
            return sel
        return [self.queue.cursor_ticket_id] if self.queue.cursor_ticket_id is not None else []

    def action_claim(self) -> None:
        self.app.claim(self.targets())
        self.queue.clear_selection()

    def action_bulk_status(self, status: str) -> None:
        self.app.change(self.targets(), {"status": status})
        self.queue.clear_selection()

    def action_bulk_priority(self, step: int) -> None:
        changes = {}
        for tid in self.targets():
            t = self.app.cache.ticket(tid)
            if t:
                changes[tid] = {"priority": step_priority(t["priority"], step)}
        if changes:
            self.app.change_each(changes)
        self.queue.clear_selection()

    def rebuild_views(self) -> None:
        lv = self.query_one("#views", ListView)
        lv.clear()
        for v in self.app.views:
            lv.append(ViewItem(v))
        keys = [v.key for v in self.app.views]
        lv.index = keys.index(self.view_key) if self.view_key in keys else 0

    def select_view(self, key: str) -> None:
        self.query_one("#views", ListView).index = [v.key for v in self.app.views].index(key)

    def action_bulk_assign(self) -> None:
        ids = self.targets()
        if not ids:
            return
        title = f"Assign #{ids[0]} to…" if len(ids) == 1 else f"Assign {len(ids)} tickets to…"
        agents = list(self.app.cache.agents().values())

        def chosen(agent_id: Optional[int]) -> None:
            if agent_id is not None:
                self.app.change(ids, {"assignee_id": agent_id})
                self.queue.clear_selection()
        self.app.push_screen(AgentPicker(ids[0], agents, title=title), chosen)

    def action_bulk_tags(self) -> None:
        ids = self.targets()
        if ids:
            self.app.push_screen(TagScreen(len(ids)), lambda edit: self._tags(ids, edit))

    def _tags(self, ids: list[int], edit: Optional[str]) -> None:
        if not edit:
            return
        add = {w[1:] if w.startswith("+") else w for w in edit.split() if not w.startswith("-")}
        drop = {w[1:] for w in edit.split() if w.startswith("-")}
        add = {clean(w)[:64] for w in add if w.strip("+")}
        changes = {}
        for tid in ids:
            t = self.app.cache.ticket(tid)
            if t:
                tags = sorted((set(t["tags"]) | add) - drop)
                if tags != sorted(t["tags"]):
                    changes[tid] = {"tags": tags}
        if changes:
            self.app.change_each(changes)
        self.queue.clear_selection()

    def set_counts(self, counts: dict[str, int]) -> None:
        for item in self.query(ViewItem):
            if item.view.key in counts:
                item.set_count(counts[item.view.key])
