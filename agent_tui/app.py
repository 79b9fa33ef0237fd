"""The agent workstation: queues with live SLA countdowns, the ticket, replies through the outbox.

IO runs in workers (async for HTTP, threads for SQLite); workers post Messages and only handlers
touch widgets. One app-level 1 Hz tick drives every countdown.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, ListItem, ListView, Static, TextArea
from textual.worker import Worker, WorkerState

from agent_tui import sla as sla_mod
from agent_tui.macros.compose import paragraph_insert
from agent_tui.macros.actions import describe_actions
from agent_tui.supervisor import AgentPicker, SupervisorScreen
from agent_tui.sync import SyncEngine, SyncReport
from agent_tui.render_boundary import InertFilter
from agent_tui.textsafe import clean, one_line, safe_text
from storage.cache import Cache, ViewSpec, builtin_views, view_from_config
from storage.models import PRIORITIES
from themes import APP_TCSS, DEFAULT_THEME, THEME_VARIABLE_DEFAULTS, THEMES, register_themes
from widgets.queue_list import QueueList

def highlight_chain_refs(body: str):
    """Customer text made inert, with transaction ids and addresses marked (`l` looks them up)."""
    from rich.text import Text

    from agent_tui.chains.extract import extract

    cleaned = clean(body)
    text = Text(cleaned)  # a plain Text: no markup is parsed
    for found in extract(cleaned):
        text.stylize("bold underline", found.start, found.end)
    return text


def step_priority(priority: str, step: int) -> str:
    """The priority `step` levels up (or down), held within low..urgent."""
    return PRIORITIES[max(0, min(len(PRIORITIES) - 1, PRIORITIES.index(priority) + step))]


class CacheRowSource:
    """A view of the cache as the queue list reads it: indexed count and pages, nothing loaded whole."""

    def __init__(self, cache: Cache, view: ViewSpec, *, me: Optional[int], now: float, text: str = "", sort: str = "sla",
                 at_risk: float = sla_mod.AT_RISK_SECONDS):
        self.cache, self.view, self.me, self.text, self.sort, self.at_risk = cache, view, me, text, sort, at_risk
        self.now = now  # fixed per source: at-risk/breached views don't shift under the cursor

    def count(self) -> int:
        return self.cache.queue_count(self.view, me=self.me, now=self.now, text=self.text, at_risk=self.at_risk)

    def page(self, offset: int, limit: int):
        return self.cache.queue_page(self.view, offset, limit, me=self.me, now=self.now, sort=self.sort,
                                     text=self.text, at_risk=self.at_risk)


# --- messages from workers -----------------------------------------------------------------


class SyncFinished(Message):
    def __init__(self, report: Optional[SyncReport], state: str, error: str, outbox: int, rejections: int) -> None:
        super().__init__()
        self.report, self.state, self.error, self.outbox, self.rejections = report, state, error, outbox, rejections


class CountsReady(Message):
    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__()
        self.counts = counts


# --- widgets of the screens ----------------------------------------------------------------


class StatusBar(Static):
    """Connection state, outbox depth and refused changes: always visible."""

    state = reactive("offline")
    outbox = reactive(0)
    rejections = reactive(0)
    error = reactive("")
    last_sync = reactive(0.0)  # epoch of the last good sync; shown while not online
    demo = reactive(False)  # a demo desk: seeded data and a simulated chain, never the real one

    def render(self):
        glyph = {"online": "● online", "syncing": "◌ syncing", "offline": "○ offline", "unauthorized": "✖ signed out"}[self.state]
        parts = [glyph, f"outbox {self.outbox}"]
        if self.demo:
            parts.insert(0, "DEMO desk · simulated chain")
        if self.last_sync and self.state in ("offline", "unauthorized"):
            parts.append("last sync " + time.strftime("%H:%M UTC", time.gmtime(self.last_sync)))
        if self.rejections:
            parts.append(f"⚠ {self.rejections} refused (R to review)")
        if self.error and self.state != "online":
            parts.append(one_line(self.error, 90))
        return "  │  ".join(parts)


class ViewItem(ListItem):
    def __init__(self, view: ViewSpec) -> None:
        super().__init__(Label(view.title, markup=False))
        self.view = view
        self.count: Optional[int] = None

    def set_count(self, n: int) -> None:
        self.count = n
        self.query_one(Label).update(f"{self.view.title}  {n}")


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help { width: 100; height: auto; max-height: 90%; border: round $accent; background: $surface; padding: 1 2; }
    """

    def __init__(self, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = bindings

    def compose(self) -> ComposeResult:
        lines = ["Keys (single-key shortcuts are ignored while you type)", ""]
        for keys, desc, bid in self.rows:
            lines.append(f"{keys:<14} {desc:<44} {bid}")
        lines += ["", "Remap any key by its id in the config: [keymap] queue.claim = \"ctrl+k\""]
        yield VerticalScroll(Static("\n".join(lines), markup=False), id="help")


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [Binding("y", "yes", "Yes", id="confirm.yes"), Binding("n,escape", "no", "No", id="confirm.no")]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    #confirm { width: 70; height: auto; border: round $warning; background: $surface; padding: 1 2; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        yield Static(f"{self.question}\n\n[y] yes   [n] no", id="confirm", markup=False)

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


class TagScreen(ModalScreen[Optional[str]]):
    """`+tag` adds, `-tag` removes, a bare word adds; enter applies, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="tags.cancel")]
    DEFAULT_CSS = """
    TagScreen { align: center middle; }
    #tag-box { width: 70; height: auto; border: round $accent; background: $surface; padding: 1 2; }
    """

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(id="tag-box"):
            yield Label(f"Tags for {self.count} ticket(s): +tag adds, -tag removes", markup=False)
            yield Input(placeholder="+vip -spam", id="tag-input")

    def on_mount(self) -> None:
        self.set_focus(self.query_one(Input))

    @on(Input.Submitted, "#tag-input")
    def _done(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SaveMacroScreen(ModalScreen[Optional[dict]]):
    """Name the reply box's text as a personal macro: a title and an optional ::shortcut.

    With `body` (editing a macro): the fields start filled and the macro's text is edited in a box
    of its own (placeholders such as {{customer.first_name}} stay as they are); `ctrl+s` saves.
    Dismisses with {"title", "shortcut"} (and "body" when editing), or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save_macro.cancel"),
                Binding("ctrl+s", "save", "Save", id="save_macro.save", priority=True)]
    DEFAULT_CSS = """
    SaveMacroScreen { align: center middle; }
    #save-macro { width: 80; height: auto; border: round $accent; background: $surface; padding: 1 2; }
    #macro-body { height: 10; }
    """

    def __init__(self, *, title: str = "", shortcut: str = "", body: Optional[str] = None, heading: str = "") -> None:
        super().__init__()
        self.initial = (title, shortcut, body)
        self.heading = heading or "Save the reply box as a personal macro (synced to your other sessions)"

    def compose(self) -> ComposeResult:
        title, shortcut, body = self.initial
        with Vertical(id="save-macro"):
            yield Label(self.heading, markup=False)
            yield Input(value=title, placeholder="Title, e.g. Ask for the deposit screenshot", id="macro-title")
            yield Input(value=shortcut, placeholder="Shortcut for ::name (optional, letters and digits)", id="macro-shortcut")
            if body is not None:
                yield Label("Text ({{placeholders}} are filled in when used) · ctrl+s save · esc cancel", markup=False)
                yield TextArea(body, id="macro-body", soft_wrap=True, show_line_numbers=False)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#macro-title", Input))

    @on(Input.Submitted, "#macro-title")
    def _title_done(self, _event) -> None:
        self.set_focus(self.query_one("#macro-shortcut", Input))

    @on(Input.Submitted, "#macro-shortcut")
    def _done(self, _event) -> None:
        if self.initial[2] is not None:  # editing: on to the text; ctrl+s saves
            self.set_focus(self.query_one("#macro-body", TextArea))
            return
        self.action_save()

    def action_save(self) -> None:
        import re

        title = self.query_one("#macro-title", Input).value.strip()
        shortcut = re.sub(r"[^a-z0-9_]", "", self.query_one("#macro-shortcut", Input).value.strip().lower())
        if not title:
            self.app.notify("A macro needs a title.", severity="warning")
            self.set_focus(self.query_one("#macro-title", Input))
            return
        out = {"title": title[:200], "shortcut": shortcut[:64]}
        if self.initial[2] is not None:
            body = self.query_one("#macro-body", TextArea).text
            if not body.strip():
                self.app.notify("A macro needs text; write it, or delete the macro with d in the picker.", severity="warning")
                self.set_focus(self.query_one("#macro-body", TextArea))
                return
            out["body"] = body
        self.dismiss(out)

    def action_cancel(self) -> None:
        self.dismiss(None)


# --- the queue screen ----------------------------------------------------------------------


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

    def current_view(self) -> ViewSpec:
        return next(v for v in self.app.views if v.key == self.view_key)

    def show_view(self, keep_cursor: bool = False) -> None:
        app: AgentApp = self.app  # type: ignore[assignment]
        text = self.query_one("#filter", Input).value
        src = CacheRowSource(app.cache, self.current_view(), me=app.me_id, now=app.clock(), text=text, sort=self.sort,
                             at_risk=app.at_risk)
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
        self.show_view()

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


# --- the ticket screen ---------------------------------------------------------------------


def insert_paragraph(box: TextArea, snippet: str) -> None:
    """Put a macro's text in the box at the cursor as its own paragraph (one undo step)."""
    doc = box.document
    start, end = sorted(box.selection)
    if start != end:  # a selection is replaced by the text
        box.replace("", start, end)
    text = box.text
    cursor = doc.get_index_from_location(box.cursor_location)
    index, insertion, after = paragraph_insert(text, cursor, snippet)
    if insertion:
        box.insert(insertion, doc.get_location_from_index(index))
        box.move_cursor(box.document.get_location_from_index(after))


class Composer(TextArea):
    """The reply box. Its text is saved as a draft while typing (debounced)."""

    BINDINGS = [
        Binding("ctrl+s", "app.send", "Send", id="ticket.send", priority=True),
        Binding("ctrl+t", "app.toggle_internal", "Public/internal", id="ticket.toggle_internal", priority=True),
        Binding("ctrl+g", "app.macros", "Macros", id="ticket.macros_in_box"),
        Binding("ctrl+n", "app.undo_macro", "Drop macro actions", id="ticket.drop_actions_in_box",
                tooltip="Send the text without the macro's ticket actions"),
        Binding("tab", "app.expand_shortcut", "Expand ::shortcut", show=False, id="ticket.expand_shortcut"),
        Binding("escape", "app.leave_composer", "Leave box", id="ticket.leave_composer"),
    ]


class TicketScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="ticket.back"),
        Binding("r", "reply", "Reply", id="ticket.reply"),
        Binding("n", "note", "Note", id="ticket.note"),
        Binding("c", "claim", "Claim", id="ticket.claim"),
        Binding("o", "status('open')", "Open", id="ticket.status_open", show=False),
        Binding("p", "status('pending')", "Pending", id="ticket.status_pending"),
        Binding("h", "status('on_hold')", "On hold", id="ticket.status_on_hold", show=False),
        Binding("v", "status('solved')", "Solve", id="ticket.status_solved"),
        Binding("plus", "priority(1)", "Priority +", id="ticket.priority_up", show=False),
        Binding("minus", "priority(-1)", "Priority −", id="ticket.priority_down", show=False),
        Binding("j", "next_ticket", "Next", id="ticket.next"),
        Binding("m", "app.macros", "Macros", id="ticket.macros"),
        Binding("l", "lookup", "Deposit look-up", id="ticket.lookup"),
        Binding("u", "app.undo_macro", "Drop actions", id="ticket.undo_macro",
                tooltip="Drop the macro actions waiting for the reply, or undo an applied actions-only macro"),
        Binding("M", "app.save_macro", "Save as macro", show=False, id="ticket.save_macro",
                tooltip="Save the reply box as a personal macro"),
    ]
    DEFAULT_CSS = """
    #thread { width: 2fr; }
    #side { width: 1fr; min-width: 56; }
    #thread-view { height: 1fr; }
    .msg { padding: 0 1; margin-bottom: 1; }
    .msg-customer { border-left: thick $primary; }
    .msg-reply { border-left: thick $success; }
    .msg-note { border-left: thick $warning; background: $warning 10%; }
    .msg-pending { text-style: italic; }
    #composer { height: 8; }
    #composer-title { height: 1; color: $text-muted; }
    #composer-actions { height: auto; color: $warning; display: none; }
    #composer-actions.pending { display: block; }
    #ticket-head { height: auto; padding: 0 1; background: $panel; }
    #sla-panel, #customer-panel { height: auto; padding: 0 1; margin-bottom: 1; }
    """

    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.ticket: Optional[dict] = None
        self.internal = False
        self._draft_timer = None
        self.last_applied = None  # the last actions-only macro's queued change, for undo
        # a macro's ticket actions waiting for the reply: {"macro": title, "actions": [...]}; they go
        # out with the reply when it is sent, and never without it
        self.pending_actions: Optional[dict] = None
        self.macro_id: Optional[str] = None  # the macro the box's text came from: one use counted when sent
        self._thread_key: tuple = ()  # (id, pending) of the messages shown

    def compose(self) -> ComposeResult:
        yield Static("", id="ticket-head", markup=False)
        with Horizontal():
            with Vertical(id="thread"):
                yield VerticalScroll(id="thread-view")
                yield Static("", id="composer-title", markup=False)
                yield Static("", id="composer-actions", markup=False)
                yield Composer(id="composer", soft_wrap=True, show_line_numbers=False)
            with VerticalScroll(id="side"):
                yield Static("", id="sla-panel", markup=False)
                yield Static("", id="customer-panel", markup=False)
        yield StatusBar(classes="status-bar", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.seen = self._state()  # what the agent had in front of them when they started
        self.restore_draft()
        self.app.refresh_status()

    def restore_draft(self, focus: bool = False) -> None:
        """The reply box as the saved draft has it (text, public or internal, macro, waiting actions)."""
        draft = self.app.cache.draft(self.ticket_id)
        if draft:
            self.internal = draft["internal"]
            self.macro_id = draft.get("macro_id")
            self.pending_actions = draft.get("actions")
            self.query_one(Composer).load_text(draft["body"])
            if focus:
                self.set_focus(self.query_one(Composer))
        self._title_composer()

    def reload(self) -> None:
        app: AgentApp = self.app  # type: ignore[assignment]
        self.ticket = app.cache.ticket(self.ticket_id)
        if self.ticket is None:
            self.query_one("#ticket-head", Static).update(f"Ticket #{self.ticket_id} is gone (deleted or merged on the server).")
            return
        t = self.ticket
        agents = app.cache.agents()
        assignee = agents.get(t["assignee_id"], {}).get("name", "unassigned") if t["assignee_id"] else "unassigned"
        viewers = [a["name"] for a in agents.values() if a.get("current_ticket_id") == t["id"] and a["id"] != app.me_id]
        head = safe_text(f"#{t['id']}  {one_line(t['subject'], 300)}\n")
        tags = one_line(", ".join(str(x) for x in t["tags"]), 160) or "—"
        head.append(one_line(f"{t['status']} · {t['priority']} · {t['queue']} · {t['channel']} · {t['language']} · "
                             f"{assignee} · tags: {tags}"))
        if viewers:
            head.append(f"\n👁 also here: {one_line(', '.join(viewers), 160)}", style="bold")
        self.query_one("#ticket-head", Static).update(head)
        thread = app.cache.thread(self.ticket_id)
        thread_key = tuple((m["id"], m["pending"]) for m in thread)
        if thread_key != self._thread_key:  # rebuild the messages only when they changed, not on every sync
            self._thread_key = thread_key
            self._show_thread(thread)
        cust = app.cache.customer(t["requester_id"]) or {}
        f = lambda v, width=80: one_line(str(v), width)  # noqa: E731  (each fact on its line, however long)
        lines = [f"Customer: {f(cust.get('name', '?'))}",
                 f"tier {f(cust.get('tier', '?'), 20)} · {f(cust.get('language', '?'), 20)} · KYC {f(cust.get('kyc_status', '?'), 20)}",
                 "", "Deposit addresses:"]
        for a in cust.get("addresses", []):
            lines.append(f"  {f(a['network'], 12):<9} {f(a['address'], 130)}" + (f"  memo {f(a['memo'], 70)}" if a.get("memo") else ""))
        if cust.get("deposits"):
            lines += ["", "Recent deposits:"]
            for d in cust["deposits"][:6]:
                lines.append(f"  {f(d['network'], 12):<9} {f(d['amount'], 30)} {f(d['asset'], 12)}  {f(d['status'], 20)}  {f(d['txid'], 19)}")
        self.query_one("#customer-panel", Static).update("\n".join(lines))
        self.tick(app.clock())

    def _show_thread(self, thread: list[dict]) -> None:
        view = self.query_one("#thread-view", VerticalScroll)
        view.remove_children()
        for m in thread:
            label = {"customer": "customer", "reply": "reply", "note": "internal note"}[m["kind"]]
            stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(m["created_at"]))
            body = safe_text(f"{m['author_name'] or label} · {label} · {stamp}" + (" · sending…" if m["pending"] else "") + "\n", style="bold")
            body.append_text(highlight_chain_refs(m["body"]) if m["kind"] == "customer" else safe_text(m["body"]))
            classes = f"msg msg-{m['kind']}" + (" msg-pending" if m["pending"] else "")
            view.mount(Static(body, classes=classes))
        view.call_after_refresh(view.scroll_end, animate=False)

    def _state(self) -> tuple[Optional[int], int]:
        t = self.app.cache.ticket(self.ticket_id)
        return (t["assignee_id"] if t else None, len(self.app.cache.thread(self.ticket_id)))

    def changes_since_seen(self) -> list[str]:
        """What others changed on the ticket since the agent opened it (or last sent): new messages
        from someone else, or a new assignee who is not us. Our own claims and edits don't count."""
        assignee, count = self._state()
        seen_assignee, seen_count = self.seen
        me = self.app.me_id
        out = []
        for m in self.app.cache.thread(self.ticket_id)[seen_count:]:
            if m["kind"] == "customer" or m["author_id"] != me:
                who = m["author_name"] or ("the customer" if m["kind"] == "customer" else "someone")
                out.append(f"a new {'customer message' if m['kind'] == 'customer' else m['kind']} from {clean(who)}")
        if assignee != seen_assignee and assignee not in (None, me):
            name = self.app.cache.agents().get(assignee, {}).get("name", "another agent")
            out.append(f"it is now assigned to {clean(name)}")
        return out

    def tick(self, now: float) -> None:
        if not self.ticket:
            return
        lines = ["SLA"]
        for m in self.ticket["sla"]:
            ms = sla_mod.MetricState.from_dict(m)
            m = {**m, "metric": one_line(str(m.get("metric", "")), 24)}
            stage = sla_mod.metric_stage(ms, now)
            if stage == "active" and ms.due_at is not None:
                left = ms.due_at - now
                glyph = "▲" if left <= self.app.at_risk else "●"
                lines.append(f"  {glyph} {m['metric']:<16} {sla_mod.format_countdown(left)}")
            elif stage == "breached":
                over = (now - ms.due_at) if ms.due_at else None
                lines.append(f"  ✖ {m['metric']:<16} breached" + (f" {sla_mod.format_countdown(-over)}" if over is not None and ms.achieved_at is None else ""))
            elif stage == "paused":
                lines.append(f"  ‖ {m['metric']:<16} paused ({sla_mod.format_countdown(ms.remaining or 0)} left)")
            else:
                lines.append(f"  ✔ {m['metric']:<16} achieved")
        if len(lines) == 1:
            lines.append("  no SLA policy applies")
        self.query_one("#sla-panel", Static).update("\n".join(lines))

    def _title_composer(self) -> None:
        kind = "INTERNAL NOTE (not sent to the customer)" if self.internal else "Public reply to the customer"
        self.query_one("#composer-title", Static).update(f"{kind} · ctrl+s send · ctrl+t toggle · esc leave")
        line = self.query_one("#composer-actions", Static)
        pending = self.pending_actions
        if pending and not self.internal:
            line.update(one_line(f"On send: {' · '.join(describe_actions(pending['actions']))}  "
                                 f"(from {pending.get('macro') or 'a macro'}; ctrl+n or u drops them)", 400))
        elif pending:
            line.update("An internal note carries no macro actions: they go out with the next public reply (ctrl+n drops them).")
        line.set_class(bool(pending), "pending")

    def drop_pending_actions(self) -> bool:
        """Forget the macro actions waiting for the reply; True if there were any."""
        if not self.pending_actions:
            return False
        self.pending_actions = None
        self._title_composer()
        self.save_draft()
        return True

    @on(TextArea.Changed, "#composer")
    def _typed(self, _event) -> None:
        if not self.query_one(Composer).text.strip():
            self.macro_id = None  # an emptied box no longer holds the macro's text
            if self.pending_actions:  # nor its actions: a discarded reply applies nothing
                self.pending_actions = None
                self._title_composer()
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(0.4, self.save_draft)

    def save_draft(self) -> None:
        self.app.cache.save_draft(self.ticket_id, self.query_one(Composer).text, self.internal, self.macro_id,
                                  self.pending_actions)

    def macro_applied(self, macro_id: Optional[str], title: str = "", actions: Sequence[dict] = ()) -> None:
        """The box now holds a macro's text: remember it (with the draft, at once) to count its use
        on send, and its actions, which wait for the reply (after those of an earlier macro)."""
        self.macro_id = macro_id
        if actions:
            before = self.pending_actions or {"macro": "", "actions": []}
            names = [n for n in (before["macro"], title) if n]
            self.pending_actions = {"macro": " + ".join(dict.fromkeys(names)), "actions": [*before["actions"], *map(dict, actions)]}
        self._title_composer()
        self.save_draft()

    def action_back(self) -> None:
        self.save_draft()
        self.app.pop_screen()
        self.app.presence(None)

    def action_reply(self) -> None:
        self.internal = False
        self._title_composer()
        self.set_focus(self.query_one(Composer))

    def action_note(self) -> None:
        self.internal = True
        self._title_composer()
        self.set_focus(self.query_one(Composer))

    def action_claim(self) -> None:
        self.app.claim([self.ticket_id])
        self.reload()

    def action_status(self, status: str) -> None:
        self.app.change([self.ticket_id], {"status": status})
        self.reload()

    def action_priority(self, step: int) -> None:
        if self.ticket:
            self.app.change([self.ticket_id], {"priority": step_priority(self.ticket["priority"], step)})
            self.reload()

    def action_next_ticket(self) -> None:
        self.save_draft()
        self.app.next_ticket(self.ticket_id)

    def action_lookup(self) -> None:
        """The deposit look-up, prefilled with the txids and addresses of this conversation."""
        from agent_tui.lookup_screen import LookupScreen

        self.save_draft()
        self.app.push_screen(LookupScreen(self.ticket_id))


# --- command palette -----------------------------------------------------------------------


class ScreenActions(Provider):
    """Offers the actions of the screen in front, by their binding descriptions, plus themes and views."""

    _macros: Optional[list] = None

    async def macros(self) -> list:
        """The agent's macros, read once per opening of the palette (off the event loop), not per keystroke."""
        if self._macros is None:
            from agent_tui.macros.store import load_macros

            app: AgentApp = self.app  # type: ignore[assignment]
            self._macros = await asyncio.to_thread(load_macros, app.cache, app.me_id)
        return self._macros

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app: AgentApp = self.app  # type: ignore[assignment]
        screen = self.screen  # the screen the palette was opened on (app.screen is the palette)
        for b in getattr(screen, "BINDINGS", []):
            if isinstance(b, Binding) and b.description:
                score = matcher.match(b.description)
                if score > 0:
                    yield Hit(score, matcher.highlight(b.description), lambda a=b.action, s=screen: s.run_action(a), help=f"{b.key}  ({b.id})")
        for name in THEMES:
            text = f"Theme: {name}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), lambda n=name: setattr(app, "theme", n))
        if isinstance(screen, TicketScreen):
            for m in await self.macros():
                text = f"Macro: {m.title}"
                score = matcher.match(text)
                if score > 0:
                    yield Hit(score, matcher.highlight(text), lambda q=m.title: app.action_macros(query=q),
                              help=f"::{m.shortcut}" if m.shortcut else m.key)
        if isinstance(screen, QueueScreen):
            for v in app.views:
                text = f"View: {v.title}"
                score = matcher.match(text)
                if score > 0:
                    yield Hit(score, matcher.highlight(text), lambda k=v.key, s=screen: s.select_view(k))


# --- the app -------------------------------------------------------------------------------


class RejectionsRead(Message):
    def __init__(self, rows: list[dict]) -> None:
        super().__init__()
        self.rows = rows


class RejectionDone(Message):
    def __init__(self, note: str, *, error: bool = False, reopen: bool = False, open_ticket: Optional[int] = None) -> None:
        super().__init__()
        self.note, self.error, self.reopen, self.open_ticket = note, error, reopen, open_ticket


class PickerReady(Message):
    """The macro picker's inputs for a ticket screen, read off the event loop (or why not)."""

    def __init__(self, screen: Screen, inputs: Optional[dict], query: str, error: str = "") -> None:
        super().__init__()
        self.screen, self.inputs, self.query, self.error = screen, inputs, query, error


@dataclass
class Identity:
    id: Optional[int]
    name: str
    role: str


class AgentApp(App):
    CSS_PATH = APP_TCSS
    TITLE = "agent-tui"
    COMMANDS = App.COMMANDS | {ScreenActions}
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+r", "sync_now", "Sync", id="app.sync"),
        Binding("w", "wall", "Wall", id="app.wall", tooltip="The supervisor wall (supervisor tokens)"),
        Binding("b", "recovery", "Batch look-ups", id="app.recovery", tooltip="Look up a batch of txids; history"),
        Binding("R", "rejections", "Refused", show=False, id="app.rejections"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(self, *, cache: Cache, server_url: str, token: str, settings: Any = None, role: Optional[str] = None,
                 identity: Optional[Identity] = None, clock=time.time, sync_enabled: bool = True, demo: bool = False) -> None:
        super().__init__()
        self.cache = cache
        self.settings = settings
        self.server_url = server_url
        self.token = token
        self.clock = clock
        self.sync_enabled = sync_enabled
        self.demo = demo
        self.identity = identity or Identity(None, "", role or "agent")
        self.role = role or self.identity.role
        self.role_chosen = role is not None  # else the token's role decides, once /me answers
        self.at_risk = float(getattr(settings, "at_risk_minutes", 15)) * 60
        self.start_view = "unassigned"
        self.engine: Optional[SyncEngine] = None
        self.last_verdicts: dict[int, dict] = {}  # ticket id -> the last look-up verdict (suggests a macro)
        theme = getattr(settings, "theme", None) or DEFAULT_THEME
        if theme not in THEMES:  # setting an unregistered name would raise
            self.call_later(self.notify, f"Unknown theme {clean(str(theme))!r}; using {DEFAULT_THEME}.", severity="warning")
            theme = DEFAULT_THEME
        register_themes(self, default=theme)
        self.config_views = self._config_views()
        self.views = self._views()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return THEME_VARIABLE_DEFAULTS

    _inert = InertFilter()

    def get_line_filters(self):
        """Every rendered line passes the render boundary on its way to the terminal (render_boundary)."""
        return [*super().get_line_filters(), self._inert]

    def notify(self, message: str, *, title: str = "", severity: str = "information", timeout: Optional[float] = None,
               markup: bool = False) -> None:
        """Toasts quote the server, the cache and chains (names, titles, reasons, errors): never markup,
        whatever the caller asked for (Widget.notify passes markup=True)."""
        super().notify(clean(str(message)), title=clean(str(title)), severity=severity, timeout=timeout, markup=False)

    def action_help_quit(self) -> None:
        """ctrl+c outside a text box: say how to quit (Textual's own hint is markup, and toasts are plain)."""
        self.notify("Press ctrl+q to quit agent-tui.", title="Do you want to quit?")

    def _fatal_error(self) -> None:
        """A bug reached the top: the traceback goes to the crash log, the agent gets one line.
        Drafts and queued replies are already in SQLite, so nothing typed is lost."""
        import sys

        from agent_tui.crash import crash_log, one_line

        error = self._exception or sys.exc_info()[1]
        if error is None:
            return super()._fatal_error()
        try:
            self._keep_drafts()
        except Exception:  # already failing: the drafts saved while typing stand
            pass
        log = crash_log(error)
        self.bell()
        self._crash_line = one_line(error, log) + " Drafts and queued replies are kept; start agent-tui again."
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        line = getattr(self, "_crash_line", None)
        if line is None:
            return super()._print_error_renderables()
        import sys

        print(line, file=sys.__stderr__)  # plain: never cropped or wrapped to the terminal width
        self._crash_line = None
        self._exit_renderables.clear()

    @property
    def me_id(self) -> Optional[int]:
        return self.identity.id

    def _config_views(self) -> list[ViewSpec]:
        """The config's own views, read once: a bad one is one warning at start, not one per sync."""
        views = []
        for key, spec in (getattr(self.settings, "views", None) or {}).items():
            try:
                views.append(view_from_config(key, spec))
            except ValueError as exc:
                self.call_later(self.notify, f"Config view skipped: {exc}", severity="warning")
        return views

    def _views(self) -> list[ViewSpec]:
        return builtin_views(self.cache.queues()) + self.config_views

    def on_mount(self) -> None:
        keymap = getattr(self.settings, "keymap", None) or {}
        if keymap:
            self.set_keymap(keymap)
        self.push_screen(QueueScreen())
        if self.role_chosen or self.identity.id is not None:
            self.open_role_screen()
        self.set_interval(1.0, self.tick)
        self.refresh_status()
        self.load_counts()
        if self.sync_enabled:
            self.run_sync()
        for note in self.cache.notes:
            self.notify(note, severity="warning")

    # --- the one 1 Hz tick ------------------------------------------------------------------

    def tick(self) -> None:
        from textual.css.query import NoMatches

        now = self.clock()
        screen = self.screen
        try:
            if isinstance(screen, QueueScreen):
                screen.queue.tick(now)
            elif isinstance(screen, (TicketScreen, SupervisorScreen)):
                screen.tick(now)
        except NoMatches:
            pass  # a screen still composing or already closing: the next tick finds it whole

    # --- sync -------------------------------------------------------------------------------

    @work(exclusive=True, group="sync", exit_on_error=False)
    async def run_sync(self) -> None:
        engine = SyncEngine(self.cache, self.server_url, self.token,
                            timeout=float(getattr(self.settings, "request_timeout", 10)),
                            pull_interval=float(getattr(self.settings, "pull_interval", 30)))
        self.engine = engine
        try:
            me = await engine.request("GET", "/me")
            self.identity = Identity(me.get("id"), me.get("name", ""), me.get("role", "agent"))
            self.presence(None)
            if not self.role_chosen:
                self.role, self.role_chosen = self.identity.role, True
                self.call_later(self.open_role_screen)
        except Exception as exc:  # offline at start: work from the cache, say so
            self.notify(f"Cannot reach {self.server_url} ({clean(str(exc))}); working offline from the cache.", severity="warning")

        async def report(rep: Optional[SyncReport], eng: SyncEngine) -> None:
            outbox, rejections = await asyncio.to_thread(self.cache.pending_counts)
            self.post_message(SyncFinished(rep, eng.state, eng.last_error, outbox, rejections))

        try:
            await engine.run(report)
        finally:
            await engine.aclose()

    def _status_bars(self) -> list[StatusBar]:
        """The strip of every screen in the stack, not just the one in front (a modal has none):
        the screen under it must not show a stale state when it comes back."""
        return [bar for screen in self.screen_stack for bar in screen.query(StatusBar)]

    def on_sync_finished(self, msg: SyncFinished) -> None:
        for bar in self._status_bars():
            bar.state, bar.outbox, bar.rejections, bar.error = msg.state, msg.outbox, msg.rejections, msg.error
        if msg.report and msg.report.rejected:
            for r in msg.report.rejected:
                self.notify(f"Refused by the server: {clean(r)}. Press R to review.", severity="error", timeout=10)
        if msg.report and (msg.report.pulled.tickets or msg.report.pulled.deleted or msg.report.pushed or msg.report.pulled.other):
            self.refresh_lists()
            for screen in self.screen_stack:
                if isinstance(screen, SupervisorScreen):
                    screen.on_data_changed()  # coalesced: at most one fetch and render a second
        if msg.state == "unauthorized":
            self.notify(msg.error, severity="error", timeout=30)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.notify(f"Background task failed: {clean(str(event.worker.error))[:200]}", severity="error")

    def action_sync_now(self) -> None:
        if self.engine:
            self.engine.kick()

    def refresh_status(self) -> None:
        outbox, rejections = self.cache.pending_counts()
        for bar in self._status_bars():
            bar.outbox, bar.rejections, bar.demo = outbox, rejections, self.demo
            if self.engine:
                bar.state, bar.error = self.engine.state, self.engine.last_error
                bar.last_sync = self.engine.last_sync_at or 0.0

    def refresh_lists(self) -> None:
        from textual.css.query import NoMatches

        views = self._views()
        rebuild = [v.key for v in views] != [v.key for v in self.views]
        if rebuild:
            self.views = views
        for screen in self.screen_stack:
            try:
                if isinstance(screen, QueueScreen):
                    if rebuild:
                        screen.rebuild_views()
                    screen.show_view(keep_cursor=True)
                elif isinstance(screen, TicketScreen) and screen is self.screen:
                    screen.reload()
            except NoMatches:
                continue  # still composing or already closing: it reads the cache when it shows
        self.load_counts()

    @work(exclusive=True, group="counts", thread=True, exit_on_error=False)
    def load_counts(self) -> None:
        counts = self.cache.view_counts(self.views, me=self.me_id, now=self.clock(), at_risk=self.at_risk)
        self.post_message(CountsReady(counts))

    def on_counts_ready(self, msg: CountsReady) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, QueueScreen):
                screen.set_counts(msg.counts)

    @work(group="presence", exit_on_error=False)
    async def presence(self, ticket_id: Optional[int]) -> None:
        if self.engine is None:
            return
        try:
            await self.engine.request("POST", "/presence", json={"presence": "online", "ticket_id": ticket_id})
        except Exception:
            pass  # presence is a courtesy; never disturb the agent over it

    # --- local changes (each goes to the outbox with the change) ----------------------------

    def after_change(self) -> None:
        self.refresh_status()
        self.refresh_lists()
        if self.engine:
            self.engine.kick()

    def claim(self, ticket_ids: list[int]) -> None:
        if self.me_id is None:
            self.notify("Not signed in yet; claim again once connected.", severity="warning")
            return
        claimed = 0
        for tid in ticket_ids:
            try:
                self.cache.queue_claim(tid, self.me_id)
                claimed += 1
            except LookupError as exc:  # deleted or merged on the server meanwhile
                self.notify(f"Not claimed: {exc}.", severity="warning")
        if claimed:
            self.notify(f"Claimed {claimed} ticket(s).")
        self.after_change()

    def change(self, ticket_ids: list[int], changes: dict) -> None:
        self.change_each({tid: changes for tid in ticket_ids})

    def change_each(self, changes_by_ticket: dict[int, dict]) -> None:
        """Each ticket's own changes to the outbox, then one refresh and one sync kick for all."""
        for tid, changes in changes_by_ticket.items():
            try:
                self.cache.queue_update(tid, changes)
            except (ValueError, LookupError) as exc:
                self.notify(str(exc), severity="error")
        self.after_change()

    def open_ticket(self, ticket_id: int) -> None:
        self.push_screen(TicketScreen(ticket_id))
        self.presence(ticket_id)

    def next_ticket(self, current: int) -> None:
        queue_screen = next((s for s in self.screen_stack if isinstance(s, QueueScreen)), None)
        self.pop_screen()
        if queue_screen is None:
            return
        q = queue_screen.queue
        for i in range(q.row_count):
            row = q.get_row(i)
            if row is not None and row.id != current:
                q.move_cursor(i)
                self.open_ticket(row.id)
                return
        self.notify("No other ticket in this view.")

    def action_send(self) -> None:
        screen = self.screen
        if not isinstance(screen, TicketScreen):
            return
        composer = screen.query_one(Composer)
        body = composer.text
        if not body.strip():
            self.notify("Nothing to send: the reply is empty.", severity="warning")
            return
        t = self.cache.ticket(screen.ticket_id)
        if t is None:
            self.notify("This ticket no longer exists; your text stays in the box.", severity="error")
            return

        def send() -> None:
            from agent_tui.macros.store import plan_changes

            pending = None if screen.internal else screen.pending_actions
            changes: dict = {}
            try:
                if pending:  # planned now, from the ticket as it is when the reply goes
                    current = self.cache.ticket(screen.ticket_id) or t
                    changes = plan_changes(current, pending["actions"], self.me_id, time.time(),
                                           queues={q for q, _ in self.cache.queues()} or None)
                self.cache.queue_reply(screen.ticket_id, body, internal=screen.internal, agent_id=self.me_id,
                                       agent_name=self.identity.name or "me", macro_id=screen.macro_id, changes=changes or None)
            except Exception as exc:
                self.notify(f"Not sent: {clean(str(exc))}. The reply is still in the box; ctrl+n sends it without the macro actions.",
                            severity="error")
                return
            screen.macro_id = None
            if pending:
                screen.pending_actions = None
                screen._title_composer()
            composer.load_text("")
            if screen.internal:
                self.notify("Internal note queued.")
            elif changes:
                self.notify(one_line(f"Reply queued with {', '.join(describe_actions(pending['actions']))}; "
                                     "they go out together with the next sync. j: next ticket.", 300))
            else:
                self.notify("Reply queued; it goes out with the next sync. j: next ticket.")
            self.after_change()
            screen.reload()
            screen.seen = screen._state()

        def collisions() -> None:
            changed = screen.changes_since_seen()
            if changed:
                def stale_ok(ok: bool) -> None:
                    if ok:
                        screen.seen = screen._state()
                        collisions()
                self.push_screen(ConfirmScreen(f"#{t['id']} changed since you opened it: {'; '.join(changed)}. "
                                               "Read it first (n), or send anyway (y)?"), stale_ok)
                return
            agents = self.cache.agents()
            others = [a["name"] for a in agents.values() if a.get("current_ticket_id") == t["id"] and a["id"] != self.me_id]
            if t["assignee_id"] not in (None, self.me_id) and not screen.internal:
                who = agents.get(t["assignee_id"], {}).get("name", "another agent")
                self.push_screen(ConfirmScreen(f"#{t['id']} is claimed by {who}. Send your reply anyway?"), lambda ok: send() if ok else None)
            elif others and not screen.internal:
                self.push_screen(ConfirmScreen(f"{', '.join(others)} also has #{t['id']} open. Send anyway?"), lambda ok: send() if ok else None)
            else:
                send()

        if screen.internal:
            collisions()
            return
        # the reply guard: a phishing-shaped reply is blocked, and the agent sees why
        from agent_tui.macros import record_override
        from agent_tui.macros.context import guard_reply
        from agent_tui.macros.store import log_override
        from widgets.guard_override import GuardOverrideScreen

        report = guard_reply(self.cache, t["id"], body, allowed_domains=getattr(self.settings, "allowed_domains", ()),
                             lexicon=getattr(self.settings, "guard_lexicon", None) or None)
        if report.ok:
            collisions()
            return

        def decided(reason: Optional[str]) -> None:
            if not reason:
                self.notify("Not sent: " + "; ".join(f.reason for f in report.blocks + report.warnings)[:300], severity="warning")
                return
            entry = record_override(report, self.me_id or 0, reason)
            log_override(self.cache, t["id"], entry, {"id": self.me_id, "name": self.identity.name})
            collisions()

        self.push_screen(GuardOverrideScreen(report), decided)

    def _ticket_screen(self) -> Optional["TicketScreen"]:
        return next((sc for sc in reversed(self.screen_stack) if isinstance(sc, TicketScreen)), None)

    def _agent(self) -> dict:
        return {"id": self.me_id, "name": self.identity.name}

    def action_macros(self, query: str = "") -> None:
        """The macro picker for the open ticket, the look-up's suggested macro first. Its inputs are
        read from the cache in a thread; the picker opens when they are ready (PickerReady)."""
        screen = self.screen
        if not isinstance(screen, TicketScreen):
            return
        tid, agent, now = screen.ticket_id, self._agent(), self.clock()
        deposit = self.last_verdicts.get(tid)

        def read() -> None:
            from agent_tui.services.macros import picker_inputs

            try:
                inputs = picker_inputs(self.cache, tid, agent=agent, now=now, deposit=deposit)
            except LookupError as exc:
                self.post_message(PickerReady(screen, None, query, f"No macros for #{tid}: {exc}."))
                return
            self.post_message(PickerReady(screen, inputs, query))

        self.run_worker(read, thread=True, exclusive=True, group="macro-picker", exit_on_error=False)

    def on_picker_ready(self, msg: "PickerReady") -> None:
        from widgets.macro_picker import MacroPicker

        if msg.error or msg.inputs is None:
            self.notify(msg.error or "The macros could not be read.", severity="error", markup=False)
            return
        if self.screen is not msg.screen:  # the agent moved on meanwhile
            return
        picker = MacroPicker(**msg.inputs, favourite_keys=getattr(self.settings, "macro_favourites", None) or None,
                             query=msg.query, can_manage_shared=self.identity.role == "supervisor")
        self.push_screen(picker, lambda pick: self._macro_picked(msg.screen, pick))

    def _macro_picked(self, screen: "TicketScreen", pick) -> None:
        from widgets.macro_picker import MacroManage

        if pick is None:
            return
        if isinstance(pick, MacroManage):
            if pick.action == "edit":
                self.edit_macro(pick)
            else:
                self.delete_macro(pick)
            return
        actions = list(pick.actions or pick.macro.actions)
        if pick.text.strip():
            # the text goes in the box as its own paragraph; the actions wait for the reply
            composer = screen.query_one(Composer)
            insert_paragraph(composer, pick.text)
            screen.set_focus(composer)
            screen.macro_applied(pick.macro.id, pick.macro.title, actions)
            if actions:
                self.notify(one_line(f"{pick.macro.title}: on send, {', '.join(describe_actions(actions))}. "
                                     "Nothing changes unless the reply is sent (ctrl+n drops them).", 300))
            return
        if not actions:
            self.notify(f"Macro {pick.macro.title!r} has no text and no actions: nothing to do.", severity="warning")
            return

        def confirmed(ok: bool) -> None:
            if ok:
                self._apply_now(screen, pick.macro)

        self.push_screen(ConfirmScreen(one_line(f"{pick.macro.title} has no reply text. Apply it now to #{screen.ticket_id}: "
                                                f"{', '.join(describe_actions(actions))}?", 300)), confirmed)

    def _apply_now(self, screen: "TicketScreen", macro) -> None:
        """An actions-only macro the agent confirmed: one change, with the short undo window."""
        from agent_tui.macros.store import apply_actions

        try:
            applied = apply_actions(self.cache, screen.ticket_id, macro, self.me_id)
        except (ValueError, LookupError) as exc:
            self.notify(f"Macro not applied: {clean(str(exc))}", severity="warning")
            return
        screen.last_applied = applied
        if applied is None:
            self.notify(f"Macro {macro.title!r}: the ticket already is that way; nothing to change.")
            return
        self.after_change()
        hold = max(0.0, applied.hold_until - time.time())
        self.set_timer(hold + 0.1, self.action_sync_now)
        extra = f" (skipped: {'; '.join(applied.skipped)})" if applied.skipped else ""
        self.notify(one_line(f"Macro {macro.title!r} applied; u within {hold:.0f}s undoes it{extra}.", 300))
        screen.reload()

    def action_undo_macro(self) -> None:
        from agent_tui.macros.store import UndoError, undo

        screen = self._ticket_screen()
        if screen is not None and screen.drop_pending_actions():
            self.notify("Macro actions dropped: the reply will go out alone. The text stays in the box.")
            return
        if screen is None or screen.last_applied is None:
            self.notify("No macro actions to drop or undo.")
            return
        try:
            undo(self.cache, screen.last_applied)
        except UndoError as exc:
            self.notify(str(exc), severity="warning")
            return
        screen.last_applied = None
        self.notify("Macro actions undone.")
        self.after_change()
        screen.reload()

    def action_save_macro(self) -> None:
        import re
        import uuid

        from agent_tui.macros import Macro, MacroError

        screen = self._ticket_screen()
        if screen is None:
            return
        body = screen.query_one(Composer).text
        if not body.strip():
            self.notify("Write the text in the reply box first, then save it as a macro.", severity="warning")
            return
        lang = (screen.ticket or {}).get("language") or "en"

        def save(meta: Optional[dict]) -> None:
            if not meta:
                return
            key = "personal_" + (re.sub(r"[^a-z0-9]+", "_", meta["title"].lower()).strip("_")[:60] or "macro")
            bodies = {lang: body} if lang == "en" else {lang: body, "en": body}
            try:
                m = Macro.from_dict({"id": str(uuid.uuid4()), "key": key, "title": meta["title"], "category": "personal",
                                     "bodies": bodies, "actions": [], "shortcut": meta["shortcut"],
                                     "visibility": "personal", "owner_id": self.me_id})
            except MacroError as exc:
                self.notify(f"Not saved: {exc}", severity="error")
                return
            d = m.to_dict()
            self.cache.queue_macro({k: d[k] for k in ("id", "key", "title", "category", "shortcut", "bodies", "actions")}, self.me_id)
            self.notify(f"Saved as your macro {meta['title']!r}" + (f" (::{meta['shortcut']})" if meta["shortcut"] else "") + ".")
            self.after_change()

        self.push_screen(SaveMacroScreen(), save)

    def _back_to_picker(self, query: str) -> None:
        if isinstance(self.screen, TicketScreen):
            self.action_macros(query=query)

    def edit_macro(self, request, typed: Optional[dict] = None) -> None:
        """`e` in the picker: title, shortcut and text in one dialog, saved locally and queued for the server."""
        from agent_tui.macros import Macro, MacroError
        from agent_tui.macros.store import edit_body_language, edited_bodies
        from agent_tui.macros.render import pick_body

        macro = request.macro
        lang = edit_body_language(macro, request.language)
        body = macro.bodies[lang] if lang else pick_body(macro.bodies, request.language)[1]
        heading = f"Edit your macro ({'text in ' + lang if lang else 'one text for every language'})"
        if macro.visibility == "shared":
            heading = f"Edit the shared macro {macro.key} ({'text in ' + lang if lang else 'every language'})"
        typed = typed or {}

        def save(meta: Optional[dict]) -> None:
            if not meta:
                self._back_to_picker(request.query)
                return
            bodies = edited_bodies(macro, request.language, meta["body"])
            try:
                Macro.from_dict({**macro.to_dict(), "title": meta["title"], "shortcut": meta["shortcut"], "bodies": bodies})
            except MacroError as exc:
                self.notify(f"Not saved: {exc}. Fix it and save again.", severity="error", markup=False)
                self.edit_macro(request, meta)  # back to the dialog with what was typed
                return
            changes = {"title": meta["title"], "shortcut": meta["shortcut"], "bodies": bodies}
            try:
                self.cache.queue_macro_update(macro.id, changes)
            except (LookupError, ValueError) as exc:
                self.notify(f"Not saved: {exc}.", severity="error", markup=False)
                return
            self.notify(f"Macro {meta['title']!r} saved; it syncs with the next round.", markup=False)
            self.after_change()
            self._back_to_picker(request.query)

        self.push_screen(SaveMacroScreen(title=typed.get("title", macro.title), shortcut=typed.get("shortcut", macro.shortcut),
                                         body=typed.get("body", body), heading=heading), save)

    def delete_macro(self, request) -> None:
        """`d` in the picker: asks first, then deletes locally and queues the deletion."""
        macro = request.macro
        whose = "the SHARED macro (for every agent)" if macro.visibility == "shared" else "your macro"

        def decided(ok: bool) -> None:
            if ok:
                try:
                    self.cache.queue_macro_delete(macro.id)
                except LookupError as exc:
                    self.notify(f"Not deleted: {exc}.", severity="warning", markup=False)
                else:
                    self.notify(f"Macro {macro.title!r} deleted.", markup=False)
                    self.after_change()
            self._back_to_picker(request.query)

        self.push_screen(ConfirmScreen(f"Delete {whose} {macro.title!r}? This cannot be undone here."), decided)

    def action_expand_shortcut(self) -> None:
        """`::shortcut` then tab: the macro's text replaces the token (actions only through the picker)."""
        from agent_tui.macros.context import build_context
        from agent_tui.macros.render import find_shortcut, render
        from agent_tui.macros.store import load_macros

        screen = self.screen
        if not isinstance(screen, TicketScreen):
            return
        ta = screen.query_one(Composer)
        off = ta.document.get_index_from_location(ta.cursor_location)
        m = find_shortcut(ta.text, load_macros(self.cache, self.me_id), cursor=off)
        if m is None or m.end != off:
            screen.focus_next()
            return
        ctx = build_context(self.cache, screen.ticket_id, agent=self._agent(),
                            deposit=self.last_verdicts.get(screen.ticket_id), now=self.clock())
        result = render(m.macro, ctx)
        start, end = ta.document.get_location_from_index(m.start), ta.document.get_location_from_index(m.end)
        if result.missing:
            ta.replace("", start, end)
            self.action_macros(query="::" + m.macro.shortcut)
        else:
            ta.replace(result.text, start, end)
            screen.macro_applied(m.macro.id)

    def action_toggle_internal(self) -> None:
        screen = self.screen
        if isinstance(screen, TicketScreen):
            screen.internal = not screen.internal
            screen._title_composer()
            screen.save_draft()

    def action_leave_composer(self) -> None:
        screen = self.screen
        if isinstance(screen, TicketScreen):
            screen.save_draft()
            screen.set_focus(None)

    def _keep_drafts(self) -> None:
        """Save what is in every open reply box now (the typing debounce may not have fired)."""
        from textual.css.query import NoMatches

        for screen in self.screen_stack:
            if isinstance(screen, TicketScreen):
                try:
                    screen.save_draft()
                except NoMatches:  # a closing screen: its last saved draft stands
                    pass

    async def action_quit(self) -> None:
        """Quit, keeping what is in any open reply box."""
        self._keep_drafts()
        await super().action_quit()

    def action_help(self) -> None:
        """Every key that works here: the focused widget's, the screen's and the app's, as remapped."""
        rows: dict[str, list] = {}
        for key, ab in self.screen.active_bindings.items():
            b = ab.binding
            row = rows.setdefault(b.id or b.action, [[], b.description or b.tooltip or b.action, b.id or ""])
            shown = self.get_key_display(Binding(key, b.action))
            if shown not in row[0]:
                row[0].append(shown)
        self.push_screen(HelpScreen([(" ".join(keys), desc, bid) for keys, desc, bid in rows.values()]))

    def open_role_screen(self) -> None:
        """Supervisors start on the wall, recovery specialists on batch look-ups, agents on the queue."""
        if self.role == "supervisor":
            self.push_screen(SupervisorScreen())
        elif self.role == "recovery":
            from agent_tui.recovery_screen import RecoveryScreen

            self.push_screen(RecoveryScreen())

    def action_wall(self) -> None:
        if self.identity.role != "supervisor" and self.role != "supervisor":
            self.notify("The wall needs a supervisor token.", severity="warning")
            return
        if not isinstance(self.screen, SupervisorScreen):
            self.push_screen(SupervisorScreen())

    def action_recovery(self) -> None:
        from agent_tui.recovery_screen import RecoveryScreen

        if not isinstance(self.screen, RecoveryScreen):
            self.push_screen(RecoveryScreen())

    def action_rejections(self) -> None:
        """R: the refused changes, read off the event loop, in a dialog that hands back the choice."""
        def read() -> None:
            self.post_message(RejectionsRead(self.cache.rejections()))

        self.run_worker(read, thread=True, exclusive=True, group="rejections", exit_on_error=False)

    def on_rejections_read(self, msg: "RejectionsRead") -> None:
        from agent_tui.screens.modals.rejections import RejectionsScreen

        if isinstance(self.screen, RejectionsScreen):
            return
        self.push_screen(RejectionsScreen(msg.rows), self._rejection_chosen)

    def _rejection_chosen(self, choice) -> None:
        if choice is None:
            return
        me, name = self.me_id, self.identity.name or "me"

        def do() -> None:
            try:
                if choice.action == "edit":
                    tid = self.cache.edit_rejection(choice.rejection_id)
                    self.post_message(RejectionDone(f"The text is back in the reply box of #{tid}: r to edit it, ctrl+s to send.",
                                                    open_ticket=tid))
                    return
                if choice.action == "resend":
                    self.cache.resend_rejection(choice.rejection_id, agent_id=me, agent_name=name)
                    note = "Queued again; it goes out with the next sync."
                elif choice.action == "ack":
                    self.cache.acknowledge(choice.rejection_id)
                    note = ""
                else:
                    for r in self.cache.rejections():
                        self.cache.acknowledge(r["id"])
                    note = "All refusals dismissed."
            except (LookupError, ValueError) as exc:
                self.post_message(RejectionDone(f"Not done: {exc}.", error=True, reopen=True))
                return
            self.post_message(RejectionDone(note, reopen=choice.action in ("resend", "ack")))

        self.run_worker(do, thread=True, group="rejections", exit_on_error=False)

    def on_rejection_done(self, msg: "RejectionDone") -> None:
        if msg.note:
            self.notify(msg.note, severity="error" if msg.error else "information", markup=False)
        self.after_change()
        if msg.open_ticket is not None:
            screen = self.screen
            if isinstance(screen, TicketScreen) and screen.ticket_id == msg.open_ticket:
                screen.restore_draft(focus=True)  # already open: the box takes the draft with the refused text
            else:
                self.open_ticket(msg.open_ticket)
        elif msg.reopen and self.cache.pending_counts()[1]:
            self.action_rejections()


def run_app(*, settings: Any, cache: Cache, server_url: str, token: str, role: Optional[str] = None, demo: bool = False) -> None:
    app = AgentApp(cache=cache, server_url=server_url, token=token, settings=settings, role=role, demo=demo)
    app.run()
    if app.return_code:  # it stopped on an error (its one line is printed): the shell must not see success
        raise SystemExit(app.return_code)
