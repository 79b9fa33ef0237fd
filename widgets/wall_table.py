"""`WallTable`: a small virtual table on the Line API for the supervisor wall.

Rows are plain tuples of already-safe cells (`str`, or `(str, tone)` with tone one of ok, warn,
bad, muted, accent); only the visible lines are drawn, so 1,000 agents cost what 20 do, and
`set_rows` is O(1) widget work (store the list, set the virtual size, refresh). Text from
customers or agents must be passed through `agent_tui.textsafe.one_line` first; cells are
drawn as plain Segments, never parsed as markup.

Keys (binding ids): wall_table.down (down, j), wall_table.up (up, k), wall_table.top (home, g),
wall_table.bottom (end, G), wall_table.page_up, wall_table.page_down. A double click posts
`Selected`; enter is the screen's to bind.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Sequence, Union

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from themes import theme_colour

Cell = Union[str, tuple[str, str]]

TONE_VARIABLES = {"ok": "sla-ok", "warn": "sla-at-risk", "bad": "sla-breached", "muted": "sla-paused", "accent": "tier-vip"}


def fit(text: str, width: int, align: str = "left") -> str:
    n = cell_len(text)
    if n == width:
        return text
    if n > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    pad = " " * (width - n)
    return pad + text if align == "right" else text + pad


class WallTable(ScrollView, can_focus=True):
    """Columns: (title, width, align); a width of 0 takes what the others leave (min 8)."""

    DEFAULT_CSS = """
    WallTable { height: 1fr; background: $surface; }
    WallTable > .wall-table--header { text-style: bold; color: $text-muted; }
    WallTable > .wall-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"wall-table--header", "wall-table--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor(1)", "Down", show=False, id="wall_table.down"),
        Binding("up,k", "cursor(-1)", "Up", show=False, id="wall_table.up"),
        Binding("home,g", "cursor(-1000000000)", "Top", show=False, id="wall_table.top"),
        Binding("end,G", "cursor(1000000000)", "Bottom", show=False, id="wall_table.bottom"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="wall_table.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="wall_table.page_up"),
    ]

    class Selected(Message):
        """A double click on a row (or `select()`): `key` is the row's key."""

        def __init__(self, table: "WallTable", key: Any) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> "WallTable":
            return self.table

    def __init__(self, columns: Sequence[tuple[str, int, str]], *, name: Optional[str] = None, id: Optional[str] = None,
                 classes: Optional[str] = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.rows: list[tuple[Cell, ...]] = []
        self.keys: list[Any] = []
        self.cursor = 0
        self.empty_text = ""
        self._styles: Optional[dict[str, Style]] = None
        self._widths: tuple[int, list[int]] = (-1, [])

    # --- data ------------------------------------------------------------------------------

    def set_rows(self, rows: list[tuple[Cell, ...]], keys: Optional[list[Any]] = None) -> None:
        """Replace the rows (kept by reference); the cursor stays on the same key when it can."""
        old_key = self.cursor_key
        self.rows = rows
        self.keys = keys if keys is not None else list(range(len(rows)))
        if old_key is not None and (self.cursor >= len(self.keys) or self.keys[self.cursor] != old_key):
            try:
                self.cursor = self.keys.index(old_key)
            except ValueError:
                pass
        self.cursor = max(0, min(self.cursor, len(rows) - 1)) if rows else 0
        self.virtual_size = Size(0, len(rows) + 1)
        self.refresh()

    @property
    def cursor_key(self) -> Any:
        return self.keys[self.cursor] if 0 <= self.cursor < len(self.keys) else None

    # --- keys ------------------------------------------------------------------------------

    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor + step)

    def action_page(self, step: int) -> None:
        self.move_cursor(self.cursor + step * max(self._visible() - 1, 1))

    def move_cursor(self, index: int) -> None:
        if not self.rows:
            return
        old, self.cursor = self.cursor, max(0, min(index, len(self.rows) - 1))
        top, visible = int(self.scroll_offset.y), self._visible()
        if visible > 0:
            if self.cursor < top:
                self.scroll_to(y=self.cursor, animate=False, immediate=True)
            elif self.cursor >= top + visible:
                self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)
        for i in (old, self.cursor):
            self._refresh_row(i)

    def select(self) -> None:
        """Post `Selected` for the cursor row (a double click does; enter is left to the screen's
        bindings, so a screen decides what enter means)."""
        if self.rows:
            self.post_message(self.Selected(self, self.cursor_key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = int(self.scroll_offset.y) + offset.y - 1
        if index < len(self.rows):
            self.move_cursor(index)
            if event.chain >= 2:
                self.select()

    def on_focus(self, _event: events.Focus) -> None:
        self._refresh_row(self.cursor)

    def on_blur(self, _event: events.Blur) -> None:
        self._refresh_row(self.cursor)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None

    # --- drawing ---------------------------------------------------------------------------

    def _visible(self) -> int:
        return max(self.scrollable_content_region.height - 1, 0)

    def _refresh_row(self, index: int) -> None:
        y = index - int(self.scroll_offset.y) + 1
        if 1 <= y < self.scrollable_content_region.height:
            self.refresh(Region(0, y, self.scrollable_content_region.width, 1))

    def _col_widths(self, width: int) -> list[int]:
        if self._widths[0] != width:
            fixed = sum(w for _t, w, _a in self.columns) + len(self.columns) - 1
            flex = [i for i, (_t, w, _a) in enumerate(self.columns) if w == 0]
            rest = max(8, (width - fixed) // max(len(flex), 1)) if flex else 0
            self._widths = (width, [w or rest for _t, w, _a in self.columns])
        return self._widths[1]

    def _palette(self) -> dict[str, Style]:
        if self._styles is None:
            base = self.rich_style
            styles = {"": base, "header": base + self.get_component_rich_style("wall-table--header", partial=True)}
            for tone, var in TONE_VARIABLES.items():
                styles[tone] = base + Style(color=theme_colour(self, var), bold=tone == "bad")
            styles["cursor"] = self.get_component_rich_style("wall-table--cursor")
            self._styles = styles
        return self._styles

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        styles = self._palette()
        widths = self._col_widths(width)
        if y == 0:
            text = " ".join(fit(t, w, a) for (t, _w, a), w in zip(self.columns, widths))
            return Strip([Segment(fit(text, width), styles["header"])], width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self.rows):
            if index == 0 and self.empty_text:
                return Strip([Segment(fit(self.empty_text, width), styles["muted"])], width)
            return Strip.blank(width, styles[""])
        row = self.rows[index]
        under = styles["cursor"] if index == self.cursor and self.has_focus else None
        segments: list[Segment] = []
        used = 0
        for i, ((_t, _w, align), w) in enumerate(zip(self.columns, widths)):
            cell = row[i] if i < len(row) else ""
            text, tone = (cell, "") if isinstance(cell, str) else cell
            style = styles.get(tone, styles[""])
            if under is not None:
                style = under + Style(color=style.color, bold=style.bold) if tone else under
            if i:
                segments.append(Segment(" ", under or styles[""]))
                used += 1
            segments.append(Segment(fit(text, w, align), style))
            used += w
        if used < width:
            segments.append(Segment(" " * (width - used), under or styles[""]))
        return Strip(segments, width).crop(0, width)
