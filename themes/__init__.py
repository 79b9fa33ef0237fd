"""The app's themes: Textual `Theme` objects with app-specific variables.

Use::

    from themes import THEMES, THEME_VARIABLE_DEFAULTS, APP_TCSS

    class AgentApp(App):
        CSS_PATH = APP_TCSS

        def __init__(self):
            super().__init__()
            for theme in THEMES.values():
                self.register_theme(theme)
            self.theme = "agent-dark"

        def get_theme_variable_defaults(self) -> dict[str, str]:
            # lets any theme (even Textual's built-ins) resolve $sla-ok etc. in CSS
            return THEME_VARIABLE_DEFAULTS

App-specific variables (read by `widgets.queue_list.QueueList` through `app.theme_variables`,
and usable in CSS as `$sla-ok` once the App returns `THEME_VARIABLE_DEFAULTS` from
`get_theme_variable_defaults`):

    sla-ok, sla-at-risk, sla-breached, sla-paused, tier-vip, priority-urgent, priority-high

Colour never carries meaning alone: the queue list pairs every SLA state with a glyph and
every tier/priority with text, so "agent-high-contrast" (and monochrome terminals) stay usable.
"""

from __future__ import annotations

from pathlib import Path

from rich.color import Color as RichColor
from textual.color import Color, ColorParseError
from textual.theme import Theme

__all__ = [
    "THEMES",
    "THEME_VARIABLES",
    "THEME_VARIABLE_DEFAULTS",
    "APP_TCSS",
    "DEFAULT_THEME",
    "register_themes",
    "theme_colour",
]

APP_TCSS = Path(__file__).with_name("app.tcss")
DEFAULT_THEME = "agent-dark"

# Fallbacks for themes that don't define the app variables (Textual's built-ins). Concrete
# mid-tone colours: Textual variables cannot reference other variables ($success won't resolve).
THEME_VARIABLE_DEFAULTS: dict[str, str] = {
    "sla-ok": "#2DA44E",
    "sla-at-risk": "#D29922",
    "sla-breached": "#E5534B",
    "sla-paused": "#8B949E",
    "tier-vip": "#A371F7",
    "priority-urgent": "#E5534B",
    "priority-high": "#D29922",
}

THEME_VARIABLES = tuple(THEME_VARIABLE_DEFAULTS)

THEMES: dict[str, Theme] = {
    "agent-dark": Theme(
        name="agent-dark",
        primary="#3B82F6",
        secondary="#1E3A5F",
        accent="#E0A526",
        warning="#F5A623",
        error="#F0525F",
        success="#3FB950",
        foreground="#E1E4E8",
        background="#10141A",
        surface="#171C24",
        panel="#1F2631",
        dark=True,
        variables={
            "sla-ok": "#3FB950",
            "sla-at-risk": "#F5A623",
            "sla-breached": "#FF5C6C",
            "sla-paused": "#8B949E",
            "tier-vip": "#E0A526",
            "priority-urgent": "#FF5C6C",
            "priority-high": "#F5A623",
            "footer-key-foreground": "#3B82F6",
        },
    ),
    "agent-light": Theme(
        name="agent-light",
        primary="#0B5CD5",
        secondary="#5B7DB1",
        accent="#8250DF",
        warning="#9A6700",
        error="#CF222E",
        success="#1A7F37",
        foreground="#1F2328",
        background="#FFFFFF",
        surface="#F6F8FA",
        panel="#EAEEF2",
        dark=False,
        variables={
            "sla-ok": "#1A7F37",
            "sla-at-risk": "#9A6700",
            "sla-breached": "#CF222E",
            "sla-paused": "#57606A",
            "tier-vip": "#8250DF",
            "priority-urgent": "#CF222E",
            "priority-high": "#BC4C00",
        },
    ),
    # Pure black/white with saturated, distinct hues; text never sits on a mid-tone. Meaning is
    # also carried by glyphs and words, so the theme works for colour-blind agents.
    "agent-high-contrast": Theme(
        name="agent-high-contrast",
        primary="#FFFF00",
        secondary="#00FFFF",
        accent="#FF87FF",
        warning="#FFFF00",
        error="#FF5F5F",
        success="#5FFF5F",
        foreground="#FFFFFF",
        background="#000000",
        surface="#000000",
        panel="#1C1C1C",
        boost="#FFFFFF",
        dark=True,
        luminosity_spread=0.0,
        text_alpha=1.0,
        variables={
            "sla-ok": "#5FFF5F",
            "sla-at-risk": "#FFFF00",
            "sla-breached": "#FF5F5F",
            "sla-paused": "#00FFFF",
            "tier-vip": "#FF87FF",
            "priority-urgent": "#FF5F5F",
            "priority-high": "#FFFF00",
            "block-cursor-background": "#FFFF00",
            "block-cursor-foreground": "#000000",
            "block-cursor-text-style": "bold",
            "block-cursor-blurred-background": "#FFFFFF",
            "block-cursor-blurred-foreground": "#000000",
            "block-cursor-blurred-text-style": "bold",
            "footer-key-foreground": "#FFFF00",
            "border": "#FFFFFF",
            "border-blurred": "#AAAAAA",
            "text-muted": "#D0D0D0",
            "foreground-muted": "#D0D0D0",
        },
    ),
}


def register_themes(app, default: str | None = DEFAULT_THEME) -> None:
    """Register every theme in THEMES with `app` and, if `default` is given, switch to it."""
    for theme in THEMES.values():
        app.register_theme(theme)
    if default is not None:
        app.theme = default


def theme_colour(widget, variable: str) -> RichColor:
    """The running theme's colour for an app variable (`sla-ok`, ...), or its default when there
    is no app, the theme lacks it or its value does not parse."""
    default = THEME_VARIABLE_DEFAULTS[variable]
    try:
        value = widget.app.theme_variables.get(variable)
    except Exception:  # no app (unit use)
        value = None
    try:
        return Color.parse(value or default).rich_color
    except (ColorParseError, ValueError):
        return Color.parse(default).rich_color
