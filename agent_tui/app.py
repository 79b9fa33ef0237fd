"""The agent workstation: queues with live SLA countdowns, the ticket, replies through the outbox.

IO runs in workers (async for HTTP, threads for SQLite); workers post Messages and only handlers
touch widgets. One app-level 1 Hz tick drives every countdown.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Optional

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from agent_tui.messages import (
    ChangesQueued,
    CountsReady,
    PendingCounts,
    RejectionDone,
    RejectionsRead,
    SyncFinished,
    ViewsRead,
)
from agent_tui.palette import ScreenActions
from agent_tui.render_boundary import InertFilter
from agent_tui.screens.modals.help import HelpScreen
from agent_tui.screens.queue import QueueScreen
from agent_tui.screens.ticket import TicketScreen
from agent_tui.screens.wall import SupervisorScreen
from agent_tui.sync import SyncEngine, SyncReport
from agent_tui.textsafe import clean
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


def complete_settings(settings: Any) -> Any:
    """The settings with every field the app reads: what `settings` has (a config.Settings, or any
    object with some of its fields, as tests and embedders give), the Settings defaults for the rest.
    The defaults are written once, in agent_tui.config.Settings."""
    from agent_tui.config import Settings

    given = {name: getattr(settings, name) for name in Settings.model_fields if settings is not None and hasattr(settings, name)}
    return Settings.model_construct(**{name: f.get_default(call_default_factory=True) for name, f in Settings.model_fields.items()}
                                    | given)


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
        self.settings = complete_settings(settings)
        self.server_url = server_url
        self.token = token
        self.clock = clock
        self.sync_enabled = sync_enabled
        self.demo = demo
        self.identity = identity or Identity(None, "", role or "agent")
        self.role = role or self.identity.role
        self.role_chosen = role is not None  # else the token's role decides, once /me answers
        self.at_risk = float(self.settings.at_risk_minutes) * 60
        self.start_view = "unassigned"
        self.engine: Optional[SyncEngine] = None
        self.last_verdicts: dict[int, dict] = {}  # ticket id -> the last look-up verdict (suggests a macro)
        self._unsaved: dict[int, tuple] = {}  # ticket id -> reply box text not saved as a draft yet
        self._unsaved_lock = threading.Lock()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cache-writer")  # see _write
        theme = self.settings.theme or DEFAULT_THEME
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

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Run the app; if a bug stopped it, the traceback Textual renders goes to the crash log and
        the agent gets one line. Textual prints its error renderables to `error_console` (a public
        attribute): here that console writes into a buffer, not the terminal. Any reply box text the
        draft timer had not saved yet is saved (the unsaved texts are kept in memory as they are typed)."""
        import io
        import sys

        from rich.console import Console

        buffer = io.StringIO()
        self.error_console = Console(file=buffer, width=400, markup=False, highlight=False, color_system=None)
        try:
            return super().run(*args, **kwargs)
        finally:
            self._writer.shutdown(wait=True)  # the changes the agent made are in the outbox before exit
            self._flush_unsaved()
            report = buffer.getvalue()
            if report.strip():
                from agent_tui.crash import crash_report_line

                print(crash_report_line(report) + " Drafts and queued replies are kept; start agent-tui again.",
                      file=sys.__stderr__)  # plain: never cropped or wrapped to the terminal width

    def remember_unsaved(self, ticket_id: int, draft: Optional[tuple]) -> None:
        """A reply box's text as typed, until its draft is saved (None: forget it)."""
        with self._unsaved_lock:
            if draft is None:
                self._unsaved.pop(ticket_id, None)
            else:
                self._unsaved[ticket_id] = draft

    def forget_unsaved(self, ticket_id: int, saved: tuple) -> None:
        """The writer saved this draft: forget the memory of it, unless the agent typed on since."""
        with self._unsaved_lock:  # called in the writer thread
            if self._unsaved.get(ticket_id) == saved:
                self._unsaved.pop(ticket_id, None)

    def _flush_unsaved(self) -> None:
        for ticket_id, (body, internal, macro_id, actions) in list(self._unsaved.items()):
            try:
                self.cache.save_draft(ticket_id, body, internal, macro_id, actions)
            except Exception:  # the app is stopping on an error already: the last saved draft stands
                continue
        self._unsaved.clear()

    @property
    def me_id(self) -> Optional[int]:
        return self.identity.id

    def _config_views(self) -> list[ViewSpec]:
        """The config's own views, read once: a bad one is one warning at start, not one per sync."""
        views = []
        for key, spec in (self.settings.views or {}).items():
            try:
                views.append(view_from_config(key, spec))
            except ValueError as exc:
                self.call_later(self.notify, f"Config view skipped: {exc}", severity="warning")
        return views

    def _views(self) -> list[ViewSpec]:
        return builtin_views(self.cache.queues()) + self.config_views

    def on_mount(self) -> None:
        keymap = self.settings.keymap or {}
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
                            timeout=float(self.settings.request_timeout),
                            pull_interval=float(self.settings.pull_interval))
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
        self._paint_status(msg.outbox, msg.rejections, msg.state, msg.error)
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

    @work(exclusive=True, group="status", thread=True, exit_on_error=False)
    def refresh_status(self) -> None:
        """The outbox and refusal counts, read in a thread and painted by on_pending_counts."""
        outbox, rejections = self.cache.pending_counts()
        self.post_message(PendingCounts(outbox, rejections))

    def on_pending_counts(self, msg: PendingCounts) -> None:
        self._paint_status(msg.outbox, msg.rejections)

    def _paint_status(self, outbox: int, rejections: int, state: Optional[str] = None, error: Optional[str] = None) -> None:
        """Every status strip: the counts given, the sync state (the engine's unless given), when it last synced."""
        if self.engine:
            state = self.engine.state if state is None else state
            error = self.engine.last_error if error is None else error
        for bar in self._status_bars():
            bar.outbox, bar.rejections = outbox, rejections
            if state is not None:
                bar.state, bar.error = state, error or ""
            if self.engine:
                bar.last_sync = self.engine.last_sync_at or 0.0

    def refresh_lists(self) -> None:
        """After a sync or a change: the views (queues may come and go) are read in a thread, then
        every queue screen reads its rows in the background and the open ticket reads itself again."""
        def read() -> None:
            self.post_message(ViewsRead(self._views()))

        self.run_worker(read, thread=True, exclusive=True, group="views", exit_on_error=False)

    def on_views_read(self, msg: ViewsRead) -> None:
        from textual.css.query import NoMatches

        views = msg.views
        rebuild = [v.key for v in views] != [v.key for v in self.views]
        if rebuild:
            self.views = views
        for screen in self.screen_stack:
            try:
                if isinstance(screen, QueueScreen):
                    if rebuild:
                        screen.rebuild_views()
                    screen.show_view(keep_cursor=True, background=True)
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
        me = self.me_id

        def write() -> None:
            notes, claimed = [], 0
            for tid in ticket_ids:
                try:
                    self.cache.queue_claim(tid, me)
                    claimed += 1
                except LookupError as exc:  # deleted or merged on the server meanwhile
                    notes.append((f"Not claimed: {exc}.", "warning"))
            self.post_message(ChangesQueued(notes, claimed))

        self.write(write)

    def change(self, ticket_ids: list[int], changes: dict) -> None:
        self.change_each({tid: changes for tid in ticket_ids})

    def change_each(self, changes_by_ticket: dict[int, dict]) -> None:
        """Each ticket's own changes to the outbox, then one refresh and one sync kick for all."""
        def write() -> None:
            notes = []
            for tid, changes in changes_by_ticket.items():
                try:
                    self.cache.queue_update(tid, changes)
                except (ValueError, LookupError) as exc:
                    notes.append((str(exc), "error"))
            self.post_message(ChangesQueued(notes))

        self.write(write)

    def write(self, job: Callable[[], Any]) -> None:
        """A write to the cache, in the one writer thread: in the order the agent made them, never on
        the event loop, and finished before the app exits (run() waits for the writer)."""
        def done(future) -> None:
            exc = future.exception()
            if exc is not None:
                self.post_message(ChangesQueued([(f"Not saved: {clean(str(exc))[:200]}. Try again.", "error")]))

        self._writer.submit(job).add_done_callback(done)

    def on_changes_queued(self, msg: ChangesQueued) -> None:
        for note, severity in msg.notes:
            self.notify(note, severity=severity, markup=False)
        if msg.claimed:
            self.notify(f"Claimed {msg.claimed} ticket(s).")
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

    def _agent(self) -> dict:
        return {"id": self.me_id, "name": self.identity.name}

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
            left = self.cache.pending_counts()[1]
            self.post_message(RejectionDone(note, reopen=choice.action in ("resend", "ack"), left=left))

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
        elif msg.reopen and msg.left:
            self.action_rejections()


def run_app(*, settings: Any, cache: Cache, server_url: str, token: str, role: Optional[str] = None, demo: bool = False) -> None:
    app = AgentApp(cache=cache, server_url=server_url, token=token, settings=settings, role=role, demo=demo)
    app.run()
    if app.return_code:  # it stopped on an error (its one line is printed): the shell must not see success
        raise SystemExit(app.return_code)
