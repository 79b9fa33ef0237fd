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
from agent_tui.messages import PickerReady
from agent_tui.screens.modals.confirm import ConfirmScreen
from agent_tui.screens.modals.save_macro import SaveMacroScreen
from agent_tui.textsafe import clean, one_line
from widgets.composer import Composer, insert_paragraph

__all__ = ["ReplyActions"]


class ReplyActions:
    """The reply box's actions on TicketScreen."""

    def action_send(self) -> None:
        screen = self
        composer = screen.query_one(Composer)
        body = composer.text
        if not body.strip():
            self.notify("Nothing to send: the reply is empty.", severity="warning")
            return
        t = self.app.cache.ticket(screen.ticket_id)
        if t is None:
            self.notify("This ticket no longer exists; your text stays in the box.", severity="error")
            return

        def send() -> None:
            from agent_tui.macros.store import plan_changes

            pending = None if screen.internal else screen.pending_actions
            changes: dict = {}
            try:
                if pending:  # planned now, from the ticket as it is when the reply goes
                    current = self.app.cache.ticket(screen.ticket_id) or t
                    changes = plan_changes(current, pending["actions"], self.app.me_id, time.time(),
                                           queues={q for q, _ in self.app.cache.queues()} or None)
                self.app.cache.queue_reply(screen.ticket_id, body, internal=screen.internal, agent_id=self.app.me_id,
                                       agent_name=self.app.identity.name or "me", macro_id=screen.macro_id, changes=changes or None)
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
            self.app.after_change()
            screen.reload()
            screen.seen = screen._state()

        def collisions() -> None:
            changed = screen.changes_since_seen()
            if changed:
                def stale_ok(ok: bool) -> None:
                    if ok:
                        screen.seen = screen._state()
                        collisions()
                self.app.push_screen(ConfirmScreen(f"#{t['id']} changed since you opened it: {'; '.join(changed)}. "
                                               "Read it first (n), or send anyway (y)?"), stale_ok)
                return
            agents = self.app.cache.agents()
            others = [a["name"] for a in agents.values() if a.get("current_ticket_id") == t["id"] and a["id"] != self.app.me_id]
            if t["assignee_id"] not in (None, self.app.me_id) and not screen.internal:
                who = agents.get(t["assignee_id"], {}).get("name", "another agent")
                self.app.push_screen(ConfirmScreen(f"#{t['id']} is claimed by {who}. Send your reply anyway?"), lambda ok: send() if ok else None)
            elif others and not screen.internal:
                self.app.push_screen(ConfirmScreen(f"{', '.join(others)} also has #{t['id']} open. Send anyway?"), lambda ok: send() if ok else None)
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

        from agent_tui.macros.guard import settings_lexicon

        try:
            report = guard_reply(self.app.cache, t["id"], body, allowed_domains=self.app.settings.allowed_domains,
                                 lexicon=settings_lexicon(self.app.settings))
        except ValueError as exc:
            self.notify(f"Not sent: the reply guard's lexicon is broken ({clean(str(exc))}). Fix guard_lexicon in the config.",
                        severity="error")
            return
        if report.ok:
            collisions()
            return

        def decided(reason: Optional[str]) -> None:
            if not reason:
                self.notify("Not sent: " + "; ".join(f.reason for f in report.blocks + report.warnings)[:300], severity="warning")
                return
            entry = record_override(report, self.app.me_id or 0, reason)
            log_override(self.app.cache, t["id"], entry, {"id": self.app.me_id, "name": self.app.identity.name})
            collisions()

        self.app.push_screen(GuardOverrideScreen(report), decided)

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

