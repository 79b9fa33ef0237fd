"""The ticket: the thread, the customer, SLA clocks and the reply box with what a macro will do on send."""

from __future__ import annotations

import time
from typing import Optional, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea

from agent_tui import sla as sla_mod
from agent_tui.macros.actions import describe_actions
from agent_tui.screens.contract import DeskApp
from agent_tui.screens.reply import ReplyActions
from agent_tui.messages import DraftRead
from agent_tui.services.reply import state_of
from agent_tui.services.tickets import TicketView, ticket_view
from agent_tui.textsafe import clean, one_line, safe_text
from agent_tui.vocabulary import step_priority
from widgets.composer import Composer, insert_paragraph  # noqa: F401  (re-exported)
from widgets.status_bar import StatusBar


def highlight_chain_refs(body: str):
    """Customer text made inert, with transaction ids and addresses marked (`l` looks them up)."""
    from rich.text import Text

    from agent_tui.chains.extract import extract

    cleaned = clean(body)
    text = Text(cleaned)  # a plain Text: no markup is parsed
    for found in extract(cleaned):
        text.stylize("bold underline", found.start, found.end)
    return text


class TicketScreen(ReplyActions, Screen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
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
        Binding("m", "macros", "Macros", id="ticket.macros"),
        Binding("l", "lookup", "Deposit look-up", id="ticket.lookup"),
        Binding("u", "undo_macro", "Drop actions", id="ticket.undo_macro",
                tooltip="Drop the macro actions waiting for the reply, or undo an applied actions-only macro"),
        Binding("M", "save_macro", "Save as macro", show=False, id="ticket.save_macro",
                tooltip="Save the reply box as a personal macro"),
    ]
    DEFAULT_CSS = """
    #thread { width: 2fr; }
    #side { width: 1fr; min-width: 56; }
    TicketScreen.-narrow #side { min-width: 30; }  /* 80 columns: the thread and the reply box come first */
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
        self.sending = False  # a reply is in the writer: the box is locked until it is queued
        self._send_id = 0  # each ctrl+s; the checks' answers for an older one are dropped

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
        self.seen: Optional[tuple[Optional[int], int]] = None  # set by the first read: what the agent had in front of them
        self._read_generation = 0
        self.reload()
        self.restore_draft()
        self.app.refresh_status()

    def restore_draft(self, focus: bool = False) -> None:
        """The reply box as the saved draft has it (text, public or internal, macro, waiting actions),
        read in the app's writer, so after any save queued before it; `on_draft_read` fills the box."""
        cache, ticket_id = self.app.cache, self.ticket_id

        def read() -> None:
            self.post_message(DraftRead(cache.draft(ticket_id), focus))

        self.app.write(read)

    def on_draft_read(self, msg: DraftRead) -> None:
        draft = msg.draft
        composer = self.query_one(Composer)
        if draft and (msg.focus or not composer.text):  # never over what the agent typed meanwhile
            self.internal = draft["internal"]
            self.macro_id = draft.get("macro_id")
            self.pending_actions = draft.get("actions")
            composer.load_text(draft["body"])
            if msg.focus:
                self.set_focus(composer)
        self._title_composer()

    def reload(self) -> None:
        """Read the ticket, its thread and customer in a thread; `on_ticket_screen_read` shows them."""
        cache, ticket_id = self.app.cache, self.ticket_id
        self._read_generation += 1
        generation = self._read_generation

        def read() -> None:
            self.post_message(self.Read(ticket_view(cache, ticket_id), generation))

        self.run_worker(read, thread=True, group="ticket-read", exit_on_error=False)

    class Read(Message):
        def __init__(self, view: TicketView, generation: int) -> None:
            super().__init__()
            self.view, self.generation = view, generation

    def on_ticket_screen_read(self, msg: "TicketScreen.Read") -> None:
        if msg.generation != self._read_generation:
            return  # overtaken by a later read (a sync, a change of ours)
        self._paint(msg.view)

    def _paint(self, view: TicketView) -> None:
        app: DeskApp = self.app  # type: ignore[assignment]
        self.ticket = view.ticket
        if self.ticket is None:
            self.query_one("#ticket-head", Static).update(f"Ticket #{self.ticket_id} is gone (deleted or merged on the server).")
            return
        t = self.ticket
        if self.seen is None:
            self.seen = state_of(t, view.thread)
        agents = view.agents
        assignee = agents.get(t["assignee_id"], {}).get("name", "unassigned") if t["assignee_id"] else "unassigned"
        viewers = [a["name"] for a in agents.values() if a.get("current_ticket_id") == t["id"] and a["id"] != app.me_id]
        head = safe_text(f"#{t['id']}  {one_line(t['subject'], 300)}\n")
        tags = one_line(", ".join(str(x) for x in t["tags"]), 160) or "—"
        head.append(one_line(f"{t['status']} · {t['priority']} · {t['queue']} · {t['channel']} · {t['language']} · "
                             f"{assignee} · tags: {tags}"))
        if viewers:
            head.append(f"\n👁 also here: {one_line(', '.join(viewers), 160)}", style="bold")
        self.query_one("#ticket-head", Static).update(head)
        thread = view.thread
        thread_key = tuple((m["id"], m["pending"]) for m in thread)
        if thread_key != self._thread_key:  # rebuild the messages only when they changed, not on every sync
            self._thread_key = thread_key
            self._show_thread(thread)
        cust = view.customer
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

    def tick(self, now: float) -> None:
        if not self.ticket:
            return
        lines = ["SLA"]
        status = self.ticket.get("status")
        for m in self.ticket["sla"]:
            ms = sla_mod.MetricState.from_dict(m)
            glyph, text = sla_mod.describe_metric(ms, status, now, self.app.at_risk)
            lines.append(f"  {glyph} {one_line(str(m.get('metric', '')), 24):<16} {one_line(text)}")
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
        remember = getattr(self.app, "remember_unsaved", None)
        if remember is not None:  # kept in memory at once: saved even if the app stops before the timer
            remember(self.ticket_id, (self.query_one(Composer).text, self.internal, self.macro_id, self.pending_actions))

    def save_draft(self) -> None:
        """The reply box to the cache as this ticket's draft, in the app's one writer: in order with
        the sends, so a late save can never bring back a reply that was sent. While a reply is in
        the writer there is nothing to save: the send drops the draft, or saves it again if it fails."""
        if self.sending:
            return
        draft = (self.query_one(Composer).text, self.internal, self.macro_id, self.pending_actions)
        app, cache, ticket_id = self.app, self.app.cache, self.ticket_id

        def write() -> None:
            cache.save_draft(ticket_id, *draft)
            app.forget_unsaved(ticket_id, draft)

        app.write(write)

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
        self.save_draft()
        self.app.open_lookup(self.ticket_id)
