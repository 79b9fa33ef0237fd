"""Confirm sending a reply the guard flagged: the findings, and a reason the agent must type.

    report = guard_reply(cache, ticket_id, body, allowed_domains=settings.allowed_domains)
    if report.ok: send()
    else: app.push_screen(GuardOverrideScreen(report), on_reason)   # on_reason(str | None)

`enter` with a reason dismisses with the reason (then `record_override(report, agent_id, reason)`
and `agent_tui.macros.store.log_override(...)`, and send); `esc` dismisses with None (back to
the composer, nothing sent). A BLOCKED reply needs a reason of at least 15 characters.
Findings are drawn with `safe_text` (a finding quotes the reply, which may quote the customer).
Binding ids: guard.send_anyway, guard.back.
"""

from __future__ import annotations

from typing import Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from agent_tui.macros.guard import GuardReport
from agent_tui.textsafe import safe_text

__all__ = ["GuardOverrideScreen", "MIN_BLOCK_REASON"]

MIN_BLOCK_REASON = 15


class GuardOverrideScreen(ModalScreen[Optional[str]]):
    BINDINGS = [
        Binding("escape", "back", "Back to the reply", id="guard.back"),
        Binding("enter", "send_anyway", "Send anyway", id="guard.send_anyway"),
    ]
    DEFAULT_CSS = """
    GuardOverrideScreen { align: center middle; }
    GuardOverrideScreen #guard-dialog { width: 80%; height: auto; max-height: 80%; border: thick $error; background: $surface; padding: 0 1; }
    GuardOverrideScreen #guard-dialog.-warn { border: thick $warning; }
    GuardOverrideScreen #guard-findings { height: auto; max-height: 16; }
    GuardOverrideScreen #guard-help { color: $text-muted; height: auto; }
    """

    def __init__(self, report: GuardReport) -> None:
        super().__init__()
        self.report = report

    def compose(self) -> ComposeResult:
        blocked = self.report.blocked
        with Vertical(id="guard-dialog", classes="" if blocked else "-warn"):
            head = Text("BLOCKED: this reply asks the customer for a secret" if blocked else
                        "Check this reply before it goes to the customer", style="bold")
            yield Static(head, id="guard-title")
            body = Text()
            for f in self.report.findings:
                body.append("✖ BLOCK " if f.level == "block" else "▲ WARN  ", style="bold")
                body.append(f"{f.code}: ", style="bold")
                body.append_text(safe_text(f.reason))
                body.append("\n")
            with VerticalScroll(id="guard-findings"):
                yield Static(body, id="guard-findings-text")
            yield Input(placeholder="Why send it anyway? (logged, and noted on the ticket for supervisors)", id="guard-reason")
            yield Static(Text("enter send anyway (with the reason) · esc back to the reply"), id="guard-help")

    def on_mount(self) -> None:
        self.query_one("#guard-reason", Input).focus()

    @property
    def min_reason(self) -> int:
        return MIN_BLOCK_REASON if self.report.blocked else 1

    @on(Input.Submitted, "#guard-reason")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_send_anyway()

    def action_send_anyway(self) -> None:
        reason = " ".join(self.query_one("#guard-reason", Input).value.split())
        if len(reason) < self.min_reason:
            need = "a reason" if self.min_reason == 1 else f"a reason of at least {self.min_reason} characters"
            self.notify(f"Sending anyway needs {need}.", severity="warning", markup=False)
            return
        self.dismiss(reason)

    def action_back(self) -> None:
        self.dismiss(None)
