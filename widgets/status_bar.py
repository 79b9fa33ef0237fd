"""The status strip: connection, outbox, refusals, last sync, a demo desk. Data comes from the app."""

from __future__ import annotations

import time

from textual.reactive import reactive
from textual.widgets import Static

from agent_tui.textsafe import one_line


class StatusBar(Static):
    """Connection state, outbox depth and refused changes: always visible."""

    state = reactive("offline")
    outbox = reactive(0)
    rejections = reactive(0)
    error = reactive("")
    last_sync = reactive(0.0)  # epoch of the last good sync; shown while not online
    demo = reactive(False)  # a demo desk: seeded data and a simulated chain, never the real one

    def on_mount(self) -> None:
        self.demo = bool(getattr(self.app, "demo", False))  # fixed for the app's life: known at once

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
