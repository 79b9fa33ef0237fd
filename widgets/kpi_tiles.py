"""`KpiTile`: one KPI against its target, with a glyph and a colour (never colour alone), and an
optional `textual.widgets.Sparkline` (the backlog trend).

    tile = KpiTile(key="fcr")
    tile.set_kpi({"label": "FCR", "value": 0.81, "unit": "ratio", "target": 0.78, "op": ">=", "ok": True, "n": 120})
    tile.set_trend([120, 131, 140])  # shows the sparkline

`set_kpi` takes the tile dicts of GET /api/v1/metrics/wall (`kpis`), formats with agent_tui.kpi
and repaints only this tile (no layout pass). States: ok (✓, `sla-ok`), bad (✗, `sla-breached`),
none (·, muted: no data yet or no target).
"""

from __future__ import annotations

from typing import Optional, Sequence

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Sparkline

from agent_tui import kpi
from themes import theme_colour

GLYPHS = {True: "✓", False: "✗", None: "·"}
_VARS = {True: "sla-ok", False: "sla-breached", None: "sla-paused"}


class _TileBody(Widget):
    DEFAULT_CSS = "_TileBody { height: 2; }"

    def __init__(self) -> None:
        super().__init__()
        self.label = ""
        self.value = "—"
        self.target = ""
        self.ok: Optional[bool] = None
        self.sample = ""

    def _color(self) -> Style:
        return Style(color=theme_colour(self, _VARS[self.ok]), bold=self.ok is False)

    def render(self) -> Text:
        tone = self._color()
        top = Text(no_wrap=True, overflow="ellipsis")
        top.append(self.label, style="bold")
        if self.sample:
            top.append(f"  {self.sample}", style="dim")
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{GLYPHS[self.ok]} ", style=tone)
        line.append(self.value, style=tone + Style(bold=True))
        if self.target:
            line.append(f"  {self.target}", style="dim")
        return Text("\n").join([top, line])


class KpiTile(Widget):
    """A bordered KPI tile; `set_kpi(tile_dict)` and, for a trend, `set_trend(values)`."""

    DEFAULT_CSS = """
    KpiTile { height: 4; border: round $border-blurred; padding: 0 1; }
    KpiTile.-trend { height: 5; }
    KpiTile.-bad { border: round $error; }
    KpiTile Sparkline { height: 1; display: none; }
    KpiTile.-trend Sparkline { display: block; }
    """

    def __init__(self, key: str, *, name: Optional[str] = None, id: Optional[str] = None, classes: Optional[str] = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.key = key
        self._body = _TileBody()
        self._spark = Sparkline([])
        self._last: Optional[tuple] = None
        self._trend: Optional[tuple] = None

    def compose(self) -> ComposeResult:
        yield self._body
        yield self._spark

    @property
    def ok(self) -> Optional[bool]:
        return self._body.ok

    @property
    def text(self) -> str:
        """What the tile says, as plain text (tests and screen readers)."""
        b = self._body
        return f"{b.label} {GLYPHS[b.ok]} {b.value} {b.target}".strip()

    def set_kpi(self, tile: dict) -> None:
        unit = tile.get("unit") or "count"
        state = (
            str(tile.get("label") or self.key), kpi.format_value(tile.get("value"), unit),
            kpi.format_target(tile.get("target"), tile.get("op"), unit), tile.get("ok"),
            f"n={tile['n']:,}" if isinstance(tile.get("n"), int) and unit != "count" else "",
        )
        if state == self._last:
            return
        self._last = state
        b = self._body
        b.label, b.value, b.target, b.ok, b.sample = state
        self.set_class(b.ok is False, "-bad")
        b.refresh()

    def set_trend(self, values: Optional[Sequence[float]]) -> None:
        trend = tuple(values or ())
        if trend == self._trend:
            return
        self._trend = trend
        self.set_class(bool(trend), "-trend")
        self._spark.data = list(trend)
