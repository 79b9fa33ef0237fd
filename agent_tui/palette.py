"""The command palette's provider: the actions of the screen it was opened on, and the macros."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from textual.binding import Binding
from textual.command import Hit, Hits, Provider

from agent_tui.screens.queue import QueueScreen
from agent_tui.screens.ticket import TicketScreen
from themes import THEMES


class ScreenActions(Provider):
    """Offers the actions of the screen in front, by their binding descriptions, plus themes and views."""

    _macros: Optional[list] = None

    async def macros(self) -> list:
        """The agent's macros, read once per opening of the palette (off the event loop), not per keystroke."""
        if self._macros is None:
            from agent_tui.macros.store import load_macros

            app: Any = self.app
            self._macros = await asyncio.to_thread(load_macros, app.cache, app.me_id)
        return self._macros

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app: Any = self.app
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
                    yield Hit(score, matcher.highlight(text), lambda q=m.title, s=screen: s.action_macros(query=q),
                              help=f"::{m.shortcut}" if m.shortcut else m.key)
        if isinstance(screen, QueueScreen):
            for v in app.views:
                text = f"View: {v.title}"
                score = matcher.match(text)
                if score > 0:
                    yield Hit(score, matcher.highlight(text), lambda k=v.key, s=screen: s.select_view(k))
