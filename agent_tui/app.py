"""The agent workstation: queues with live SLA countdowns, the ticket, replies through the outbox.

IO runs in workers (async for HTTP, threads for SQLite); workers post Messages and only handlers
touch widgets. One app-level 1 Hz tick drives every countdown.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Optional

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from agent_tui.macros.actions import describe_actions
from agent_tui.messages import (
    CountsReady,
    PickerReady,
    RejectionDone,
    RejectionsRead,
    SyncFinished,
)
from agent_tui.palette import ScreenActions
from agent_tui.render_boundary import InertFilter
from agent_tui.screens.modals.confirm import ConfirmScreen
from agent_tui.screens.modals.help import HelpScreen
from agent_tui.screens.modals.save_macro import SaveMacroScreen
from agent_tui.screens.queue import QueueScreen
from agent_tui.screens.ticket import Composer, TicketScreen, insert_paragraph
from agent_tui.screens.wall import SupervisorScreen
from agent_tui.sync import SyncEngine, SyncReport
from agent_tui.textsafe import clean, one_line
from storage.cache import Cache, ViewSpec, builtin_views, view_from_config
from themes import (
    APP_TCSS,
    DEFAULT_THEME,
    THEME_VARIABLE_DEFAULTS,
    THEMES,
    register_themes,
)
from widgets.status_bar import StatusBar

__all__ = ["AgentApp", "Identity", "run_app"]


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

    def open_lookup(self, ticket_id: int) -> None:
        """The deposit look-up for a ticket, prefilled with the txids and addresses of its conversation."""
        from agent_tui.screens.lookup import LookupScreen

        self.push_screen(LookupScreen(ticket_id))

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
        from agent_tui.macros.render import pick_body
        from agent_tui.macros.store import edit_body_language, edited_bodies

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
            from agent_tui.screens.recovery import RecoveryScreen

            self.push_screen(RecoveryScreen())

    def action_wall(self) -> None:
        if self.identity.role != "supervisor" and self.role != "supervisor":
            self.notify("The wall needs a supervisor token.", severity="warning")
            return
        if not isinstance(self.screen, SupervisorScreen):
            self.push_screen(SupervisorScreen())

    def action_recovery(self) -> None:
        from agent_tui.screens.recovery import RecoveryScreen

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
