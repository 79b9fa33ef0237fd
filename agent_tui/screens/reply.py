"""What the ticket screen does with its reply box: send (after the reply guard and the collision
checks, with the macro actions waiting for it), the macro picker and what a picked macro does, the
undo of an actions-only macro, saving, editing and deleting macros, `::shortcut` expansion.

A mixin of TicketScreen (screens/ticket.py): `self` is the ticket screen; what it needs of the app
is in screens/contract.py.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from agent_tui.macros.actions import describe_actions
from agent_tui.messages import ChangesQueued, CollisionsChecked, GuardChecked, PickerReady, ReplySent
from agent_tui.screens.modals.confirm import ConfirmScreen
from agent_tui.screens.modals.save_macro import SaveMacroScreen
from agent_tui.textsafe import clean, one_line
from widgets.composer import Composer, insert_paragraph

__all__ = ["ReplyActions"]


class ReplyActions:
    """The reply box's actions on TicketScreen."""

    # --- send: the guard, then the collision checks, then the writer (each read in a thread) ----

    def action_send(self) -> None:
        """ctrl+s: the reply guard and the collision checks read the cache in a thread; the send
        itself goes through the app's one writer, after any draft save queued before it."""
        body = self.query_one(Composer).text
        if not body.strip():
            self.notify("Nothing to send: the reply is empty.", severity="warning")
            return
        if self.sending:
            self.notify("Still sending the last reply; one moment.")
            return
        self._send_id += 1
        attempt, tid, internal = self._send_id, self.ticket_id, self.internal
        cache, settings = self.app.cache, self.app.settings
        if internal:  # notes to colleagues are not guarded
            self._check_collisions(attempt, body)
            return

        def read() -> None:
            from agent_tui.macros.guard import settings_lexicon
            from agent_tui.services.reply import guard

            try:
                report = guard(cache, tid, body, allowed_domains=settings.allowed_domains, lexicon=settings_lexicon(settings))
            except ValueError as exc:
                self.post_message(GuardChecked(attempt, body, None, f"Not sent: the reply guard's lexicon is broken "
                                               f"({clean(str(exc))}). Fix guard_lexicon in the config."))
                return
            self.post_message(GuardChecked(attempt, body, report))

        self.run_worker(read, thread=True, group="send-check", exit_on_error=False)

    def on_guard_checked(self, msg: GuardChecked) -> None:
        if msg.attempt != self._send_id:
            return  # an older ctrl+s
        report = msg.report
        if msg.error:
            self.notify(msg.error, severity="error")
            return
        if report is None:
            self.notify("This ticket no longer exists; your text stays in the box.", severity="error")
            return
        if report.ok:
            self._check_collisions(msg.attempt, msg.body)
            return
        from widgets.guard_override import GuardOverrideScreen

        def decided(reason: Optional[str]) -> None:
            if not reason:
                self.notify("Not sent: " + "; ".join(f.reason for f in report.blocks + report.warnings)[:300], severity="warning")
                return
            from agent_tui.macros import record_override
            from agent_tui.macros.store import log_override

            entry = record_override(report, self.app.me_id or 0, reason)
            cache, tid, agent = self.app.cache, self.ticket_id, self._agent()
            self.app.write(lambda: log_override(cache, tid, entry, agent))
            self._check_collisions(msg.attempt, msg.body)

        self.app.push_screen(GuardOverrideScreen(report), decided)

    def _check_collisions(self, attempt: int, body: str) -> None:
        cache, tid, seen, me = self.app.cache, self.ticket_id, self.seen, self.app.me_id

        def read() -> None:
            from agent_tui.services.reply import collisions

            self.post_message(CollisionsChecked(attempt, body, collisions(cache, tid, seen, me)))

        self.run_worker(read, thread=True, group="send-check", exit_on_error=False)

    def on_collisions_checked(self, msg: CollisionsChecked) -> None:
        if msg.attempt != self._send_id:
            return
        c, tid = msg.collisions, self.ticket_id
        if c.ticket is None:
            self.notify("This ticket no longer exists; your text stays in the box.", severity="error")
            return

        def go(ok: bool) -> None:
            if ok:
                self._send(msg.attempt, msg.body)

        if c.changed:
            def stale_ok(ok: bool) -> None:
                if ok:  # the agent has read it: what is there now is what they saw; check the rest again
                    self.seen = c.state
                    self._check_collisions(msg.attempt, msg.body)

            self.app.push_screen(ConfirmScreen(f"#{tid} changed since you opened it: {'; '.join(c.changed)}. "
                                               "Read it first (n), or send anyway (y)?"), stale_ok)
        elif c.claimed_by and not self.internal:
            self.app.push_screen(ConfirmScreen(f"#{tid} is claimed by {c.claimed_by}. Send your reply anyway?"), go)
        elif c.others and not self.internal:
            self.app.push_screen(ConfirmScreen(f"{', '.join(c.others)} also has #{tid} open. Send anyway?"), go)
        else:
            self._send(msg.attempt, msg.body)

    def _send(self, attempt: int, body: str) -> None:
        """The reply, its macro actions and the end of its draft, in the writer after every draft save
        queued before it. The box is locked until it is done, so nothing typed meanwhile is lost;
        if it fails, the text is saved as the draft again and stays in the box."""
        if attempt != self._send_id or self.sending:
            return
        composer = self.query_one(Composer)
        if composer.text != body:
            self.notify("The reply changed while it was checked; press ctrl+s again to send it.", severity="warning")
            return
        app, tid, internal = self.app, self.ticket_id, self.internal
        cache, me, name = app.cache, app.me_id, app.identity.name or "me"
        waiting = self.pending_actions  # a note leaves them waiting for the next public reply
        pending = None if internal else waiting
        macro_id = self.macro_id
        self.sending = True
        composer.read_only = True
        app.remember_unsaved(tid, None)  # the writer saves or sends it: the memory must not bring it back

        def job() -> None:
            from agent_tui.services.reply import send

            try:
                sent = send(cache, tid, body, internal=internal, pending=pending, me=me, name=name, macro_id=macro_id, now=time.time())
            except Exception as exc:
                try:  # nothing is lost: the text is the draft again, wherever the agent went meanwhile
                    cache.save_draft(tid, body, internal, macro_id, waiting)
                except Exception:
                    pass
                self.post_message(ReplySent(attempt, None))
                app.post_message(ChangesQueued([(f"Not sent: {clean(str(exc))[:200]}. The reply is still in the box; "
                                                 "ctrl+n sends it without the macro actions.", "error")]))
                return
            if internal:
                note = "Internal note queued."
            elif sent.changes and pending:
                note = one_line(f"Reply queued with {', '.join(describe_actions(pending['actions']))}; "
                                "they go out together with the next sync. j: next ticket.", 300)
            else:
                note = "Reply queued; it goes out with the next sync. j: next ticket."
            self.post_message(ReplySent(attempt, sent))
            app.post_message(ChangesQueued([(note, "information")]))

        app.write(job)

    def on_reply_sent(self, msg: ReplySent) -> None:
        self.sending = False
        composer = self.query_one(Composer)
        composer.read_only = False
        if msg.sent is None:
            return
        self.macro_id = None
        if not self.internal:
            self.pending_actions = None
        self._title_composer()
        composer.load_text("")
        self.seen = msg.sent.state
        self.reload()

    def _agent(self) -> dict:
        return {"id": self.app.me_id, "name": self.app.identity.name}

    def action_macros(self, query: str = "") -> None:
        """The macro picker for the open ticket, the look-up's suggested macro first. Its inputs are
        read from the cache in a thread; the picker opens when they are ready (PickerReady)."""
        screen = self
        tid, agent, now = screen.ticket_id, self._agent(), self.app.clock()
        deposit = self.app.last_verdicts.get(tid)

        def read() -> None:
            from agent_tui.services.macros import picker_inputs

            try:
                inputs = picker_inputs(self.app.cache, tid, agent=agent, now=now, deposit=deposit)
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
        if self.app.screen is not self:  # the agent moved on meanwhile
            return
        picker = MacroPicker(**msg.inputs, favourite_keys=self.app.settings.macro_favourites or None,
                             query=msg.query, can_manage_shared=self.app.identity.role == "supervisor")
        self.app.push_screen(picker, lambda pick: self._macro_picked(msg.screen, pick))

    def _macro_picked(self, screen: Any, pick) -> None:
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

        self.app.push_screen(ConfirmScreen(one_line(f"{pick.macro.title} has no reply text. Apply it now to #{screen.ticket_id}: "
                                                f"{', '.join(describe_actions(actions))}?", 300)), confirmed)

    def _apply_now(self, screen: Any, macro) -> None:
        """An actions-only macro the agent confirmed: one change, with the short undo window."""
        from agent_tui.macros.store import apply_actions

        try:
            applied = apply_actions(self.app.cache, screen.ticket_id, macro, self.app.me_id)
        except (ValueError, LookupError) as exc:
            self.notify(f"Macro not applied: {clean(str(exc))}", severity="warning")
            return
        screen.last_applied = applied
        if applied is None:
            self.notify(f"Macro {macro.title!r}: the ticket already is that way; nothing to change.")
            return
        self.app.after_change()
        hold = max(0.0, applied.hold_until - time.time())
        self.set_timer(hold + 0.1, self.app.action_sync_now)
        extra = f" (skipped: {'; '.join(applied.skipped)})" if applied.skipped else ""
        self.notify(one_line(f"Macro {macro.title!r} applied; u within {hold:.0f}s undoes it{extra}.", 300))
        screen.reload()

    def action_undo_macro(self) -> None:
        from agent_tui.macros.store import UndoError, undo

        screen = self
        if screen is not None and screen.drop_pending_actions():
            self.notify("Macro actions dropped: the reply will go out alone. The text stays in the box.")
            return
        if screen is None or screen.last_applied is None:
            self.notify("No macro actions to drop or undo.")
            return
        try:
            undo(self.app.cache, screen.last_applied)
        except UndoError as exc:
            self.notify(str(exc), severity="warning")
            return
        screen.last_applied = None
        self.notify("Macro actions undone.")
        self.app.after_change()
        screen.reload()

    def action_save_macro(self) -> None:
        import re
        import uuid

        from agent_tui.macros import Macro, MacroError

        screen = self
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
                                     "visibility": "personal", "owner_id": self.app.me_id})
            except MacroError as exc:
                self.notify(f"Not saved: {exc}", severity="error")
                return
            d = m.to_dict()
            self.app.cache.queue_macro({k: d[k] for k in ("id", "key", "title", "category", "shortcut", "bodies", "actions")}, self.app.me_id)
            self.notify(f"Saved as your macro {meta['title']!r}" + (f" (::{meta['shortcut']})" if meta["shortcut"] else "") + ".")
            self.app.after_change()

        self.app.push_screen(SaveMacroScreen(), save)

    def _back_to_picker(self, query: str) -> None:
        if self.app.screen is self:
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
                self.app.cache.queue_macro_update(macro.id, changes)
            except (LookupError, ValueError) as exc:
                self.notify(f"Not saved: {exc}.", severity="error", markup=False)
                return
            self.notify(f"Macro {meta['title']!r} saved; it syncs with the next round.", markup=False)
            self.app.after_change()
            self._back_to_picker(request.query)

        self.app.push_screen(SaveMacroScreen(title=typed.get("title", macro.title), shortcut=typed.get("shortcut", macro.shortcut),
                                         body=typed.get("body", body), heading=heading), save)

    def delete_macro(self, request) -> None:
        """`d` in the picker: asks first, then deletes locally and queues the deletion."""
        macro = request.macro
        whose = "the SHARED macro (for every agent)" if macro.visibility == "shared" else "your macro"

        def decided(ok: bool) -> None:
            if ok:
                try:
                    self.app.cache.queue_macro_delete(macro.id)
                except LookupError as exc:
                    self.notify(f"Not deleted: {exc}.", severity="warning", markup=False)
                else:
                    self.notify(f"Macro {macro.title!r} deleted.", markup=False)
                    self.app.after_change()
            self._back_to_picker(request.query)

        self.app.push_screen(ConfirmScreen(f"Delete {whose} {macro.title!r}? This cannot be undone here."), decided)

    def action_expand_shortcut(self) -> None:
        """`::shortcut` then tab: the macro's text replaces the token (actions only through the picker)."""
        from agent_tui.macros.context import build_context
        from agent_tui.macros.render import find_shortcut, render
        from agent_tui.macros.store import load_macros

        screen = self
        ta = screen.query_one(Composer)
        off = ta.document.get_index_from_location(ta.cursor_location)
        m = find_shortcut(ta.text, load_macros(self.app.cache, self.app.me_id), cursor=off)
        if m is None or m.end != off:
            screen.focus_next()
            return
        ctx = build_context(self.app.cache, screen.ticket_id, agent=self._agent(),
                            deposit=self.app.last_verdicts.get(screen.ticket_id), now=self.app.clock())
        result = render(m.macro, ctx)
        start, end = ta.document.get_location_from_index(m.start), ta.document.get_location_from_index(m.end)
        if result.missing:
            ta.replace("", start, end)
            self.action_macros(query="::" + m.macro.shortcut)
        else:
            ta.replace(result.text, start, end)
            screen.macro_applied(m.macro.id)

    def action_toggle_internal(self) -> None:
        self.internal = not self.internal
        self._title_composer()
        self.save_draft()

    def action_leave_composer(self) -> None:
        self.save_draft()
        self.set_focus(None)

