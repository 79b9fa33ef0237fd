"""`QueueList`: a virtual ticket list on Textual's Line API.

Only the visible rows are ever drawn, and only pages of rows around the viewport are held
(`page_size` rows per page, at most `max_pages` pages), read from a `agent_tui.rows.RowSource`.
A 100k-row queue costs the same to paint and to tick as a 1k-row queue.

The SLA countdown is computed when a row is drawn, from `row.sla_due`, `row.sla_paused` and the
widget's `now` (set by the app's single 1 Hz timer through `tick(now)`), so a tick re-draws the
visible lines and never re-reads the source.

All customer text goes through `agent_tui.textsafe.one_line` and is drawn as plain Segments:
escape sequences, control characters, bidi overrides and markup are inert.

Colours: theme variables `sla-ok`, `sla-at-risk`, `sla-breached`, `sla-paused`, `tier-vip`,
`priority-urgent`, `priority-high` (see `themes/`), falling back to the component classes below
(Textual's semantic colours) when the theme lacks them. Every state is also a glyph or a word.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import ClassVar, Iterable, Optional, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.color import Color, ColorParseError
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agent_tui.sla import AT_RISK_SECONDS, countdown_state, format_countdown
from agent_tui.textsafe import one_line
from agent_tui.rows import QueueRow, RowSource

__all__ = ["QueueList", "ListRowSource", "SLA_GLYPHS", "format_age"]

# --- display vocabulary ---------------------------------------------------------------------

SLA_GLYPHS: dict[str, str] = {
    "ok": "●",
    "at_risk": "▲",
    "breached": "✖",
    "paused": "‖",
    "none": "·",
}
"""One glyph per `agent_tui.sla.countdown_state`, so state never depends on colour alone."""

TIER_BADGES: dict[str, str] = {"vip": "VIP", "gold": "GLD", "silver": "SLV"}
PRIORITY_LABELS: dict[str, str] = {"urgent": "URGENT", "high": "high", "normal": "normal", "low": "low"}
_PRIORITY_ACCENT: dict[str, str] = {"urgent": "urgent", "high": "high", "low": "muted"}
SELECTED_MARK = "✓"
_DYNAMIC_COLUMNS = frozenset({"sla", "updated"})  # formatted from `now` on every paint
_ROW_CACHE_SIZE = 512  # rows whose static cells are kept pre-rendered
UNASSIGNED = "—"


def format_age(seconds: float) -> str:
    """How long ago, in at most 4 cells: `12s`, `3m`, `2h`, `5d`, `999d`."""
    s = int(seconds) if seconds > 0 else 0
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{min(s // 86400, 999)}d"


# --- an in-memory row source ------------------------------------------------------------------


class ListRowSource:
    """A `RowSource` over a Python list, for tests, benchmarks and demos.

    Records every `page()` call in `page_calls` as `(offset, limit)` and counts `count()` calls,
    so tests can check what the widget reads. `index_of` is the optional fast lookup the widget
    uses to keep the cursor on a ticket that moved far away after a re-sort.
    """

    def __init__(self, rows: Iterable[QueueRow] = ()) -> None:
        self.rows: list[QueueRow] = list(rows)
        self.page_calls: list[tuple[int, int]] = []
        self.count_calls = 0

    def count(self) -> int:
        self.count_calls += 1
        return len(self.rows)

    def page(self, offset: int, limit: int) -> Sequence[QueueRow]:
        self.page_calls.append((offset, limit))
        return self.rows[offset : offset + limit]

    def index_of(self, ticket_id: int) -> Optional[int]:
        for index, row in enumerate(self.rows):
            if row.id == ticket_id:
                return index
        return None

    def reset_calls(self) -> None:
        self.page_calls.clear()
        self.count_calls = 0


# --- layout -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    title: str
    x: int
    width: int
    align: str = "left"


_GAP = 1
_SUBJECT_MIN = 20
# (key, title, width, align); "subject" takes the rest.
_COLUMNS: tuple[tuple[str, str, int, str], ...] = (
    ("mark", "", 1, "left"),
    ("sla", "SLA", 10, "left"),
    ("priority", "PRI", 6, "left"),
    ("id", "ID", 7, "right"),
    ("subject", "SUBJECT", 0, "left"),
    ("customer", "CUSTOMER", 22, "left"),
    ("channel", "CHANNEL", 8, "left"),
    ("status", "STATUS", 7, "left"),
    ("assignee", "ASSIGNEE", 12, "left"),
    ("language", "LANG", 5, "left"),
    ("updated", "UPD", 4, "right"),
)
# Applied in order until the subject gets _SUBJECT_MIN cells: shrink or drop the columns an
# agent can most easily do without. SLA, priority, id and subject always stay.
_NARROWING: tuple[tuple[str, int], ...] = (
    ("customer", 18),
    ("assignee", 10),
    ("language", 0),
    ("channel", 0),
    ("customer", 14),
    ("assignee", 0),
    ("status", 0),
    ("updated", 0),
    ("customer", 0),
)


def _layout(width: int) -> tuple[_Column, ...]:
    widths = {key: w for key, _title, w, _align in _COLUMNS}

    def subject_width() -> int:
        used = sum(w for key, w in widths.items() if key != "subject" and w > 0)
        gaps = sum(1 for key, w in widths.items() if w > 0 or key == "subject") - 1
        return width - used - gaps * _GAP

    for key, new_width in _NARROWING:
        if subject_width() >= _SUBJECT_MIN:
            break
        widths[key] = new_width
    widths["subject"] = max(subject_width(), 1)

    columns: list[_Column] = []
    x = 0
    for key, title, _w, align in _COLUMNS:
        w = widths[key]
        if w <= 0:
            continue
        columns.append(_Column(key, title, x, w, align))
        x += w + _GAP
    return tuple(columns)


def _fit(text: str, width: int, align: str = "left") -> str:
    """`text` padded or cut to exactly `width` cells (text is already one safe line)."""
    length = cell_len(text)
    if length == width:
        return text
    if length > width:
        return set_cell_size(text, width)
    if align == "right":
        return " " * (width - length) + text
    return text + " " * (width - length)


# --- the widget -------------------------------------------------------------------------------


class QueueList(ScrollView, can_focus=True):
    """A virtual, keyboard-driven ticket queue.

    The source is asked on the UI thread while painting (`page()` for a page not yet cached,
    `count()` on mount / `refresh_rows` / `set_source`), so both must answer at once: a source
    over a database reads in a thread beforehand, and `page()` may answer None for a page it is
    still reading; those rows draw blank until the screen calls `rows_arrived()`. Neither is
    called by `tick`. A source may also offer `index_of(ticket_id) -> int | None`,
    used by `refresh_rows` when the cursor's ticket moved more than a page away.

    Messages: `Highlighted(ticket_id)` on every change of the ticket under the cursor (also
    once on mount), `Opened(ticket_id)` on enter or double click, `SelectionChanged(ids)`.
    Each has `.queue_list` / `.control` for `@on(..., "#id")` selectors.

    Binding ids (remap with `App.set_keymap`): queue.down (down, j), queue.up (up, k),
    queue.top (home, g), queue.bottom (end, G), queue.page_up, queue.page_down,
    queue.toggle_select (space), queue.open (enter).

    Args:
        source: Where rows come from (`count()` and `page(offset, limit)` in display order).
            May be set later with `set_source`.
        now: The clock, epoch seconds, for countdowns; defaults to `time.time()`. The app moves
            it forward with `tick(now)`.
        page_size: Rows read per `page()` call.
        max_pages: Pages kept in memory (least recently used are dropped).
        at_risk_seconds: Time left under which a running SLA shows as at risk.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="queue.down", tooltip="Next ticket"),
        Binding("up,k", "cursor_up", "Up", show=False, id="queue.up", tooltip="Previous ticket"),
        Binding("home,g", "cursor_top", "Top", show=False, id="queue.top", tooltip="First ticket"),
        Binding("end,G", "cursor_bottom", "Bottom", show=False, id="queue.bottom", tooltip="Last ticket"),
        Binding("pageup", "cursor_page_up", "Page up", show=False, id="queue.page_up"),
        Binding("pagedown", "cursor_page_down", "Page down", show=False, id="queue.page_down"),
        Binding(
            "space", "toggle_select", "Select", id="queue.toggle_select", tooltip="Mark the ticket for a bulk action"
        ),
        Binding("enter", "open", "Open", id="queue.open", tooltip="Open the ticket"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-list--header",
        "queue-list--cursor",
        "queue-list--selected",
        "queue-list--muted",
        "queue-list--sla-ok",
        "queue-list--sla-at-risk",
        "queue-list--sla-breached",
        "queue-list--sla-paused",
        "queue-list--tier-vip",
        "queue-list--priority-urgent",
        "queue-list--priority-high",
    }

    DEFAULT_CSS = """
    QueueList {
        overflow-x: hidden;
        overflow-y: auto;
        background: $surface;
        color: $foreground;
        & > .queue-list--header { text-style: bold; color: $text-muted; background: $panel; }
        & > .queue-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .queue-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .queue-list--selected { background: $primary 25%; }
        & > .queue-list--muted { color: $text-muted; }
        & > .queue-list--sla-ok { color: $success; }
        & > .queue-list--sla-at-risk { color: $warning; text-style: bold; }
        & > .queue-list--sla-breached { color: $error; text-style: bold; }
        & > .queue-list--sla-paused { color: $text-muted; }
        & > .queue-list--tier-vip { color: $accent; text-style: bold; }
        & > .queue-list--priority-urgent { color: $error; text-style: bold; }
        & > .queue-list--priority-high { color: $warning; }
    }
    """

    # --- messages -----------------------------------------------------------------------------

    class _ListMessage(Message):
        """A message from a QueueList: `queue_list` / `control` for `@on(..., "#id")` selectors."""

        def __init__(self, queue_list: Optional["QueueList"] = None) -> None:
            super().__init__()
            self.queue_list = queue_list

        @property
        def control(self) -> Optional["QueueList"]:
            return self.queue_list

    class Highlighted(_ListMessage):
        """The cursor moved to another ticket (`ticket_id` is None when the queue is empty)."""

        def __init__(self, ticket_id: Optional[int], queue_list: Optional["QueueList"] = None) -> None:
            super().__init__(queue_list)
            self.ticket_id = ticket_id

    class Opened(_ListMessage):
        """Enter (or a double click) on a ticket."""

        def __init__(self, ticket_id: int, queue_list: Optional["QueueList"] = None) -> None:
            super().__init__(queue_list)
            self.ticket_id = ticket_id

    class SelectionChanged(_ListMessage):
        """The set of tickets marked for a bulk action changed."""

        def __init__(self, selected_ids: frozenset[int], queue_list: Optional["QueueList"] = None) -> None:
            super().__init__(queue_list)
            self.selected_ids = selected_ids

    # --- construction -------------------------------------------------------------------------

    def __init__(
        self,
        source: Optional[RowSource] = None,
        *,
        now: Optional[float] = None,
        page_size: int = 200,
        max_pages: int = 8,
        at_risk_seconds: float = AT_RISK_SECONDS,
        name: Optional[str] = None,
        id: Optional[str] = None,
        classes: Optional[str] = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        if page_size < 1 or max_pages < 2:
            raise ValueError("page_size must be >= 1 and max_pages >= 2")
        self._source: Optional[RowSource] = source
        self.now: float = time.time() if now is None else float(now)
        self.page_size = page_size
        self.max_pages = max_pages
        self.at_risk_seconds = at_risk_seconds
        self._count = 0
        self._pages: OrderedDict[int, Sequence[QueueRow]] = OrderedDict()
        self._cursor = 0
        self._highlighted_id: Optional[int] = None
        self._selected: set[int] = set()
        self._palette: Optional[dict[str, Style]] = None
        # (id, version, is_cursor, is_selected) -> the row's static Segment runs
        self._row_cache: OrderedDict[tuple, tuple] = OrderedDict()
        self._columns_cache: tuple[int, tuple[_Column, ...]] = (-1, ())

    # --- public API ---------------------------------------------------------------------------

    @property
    def source(self) -> Optional[RowSource]:
        return self._source

    def set_source(self, source: Optional[RowSource]) -> None:
        """Show another queue: cursor to the top, selection cleared, rows re-read."""
        self._source = source
        self._cursor = 0
        changed = bool(self._selected)
        self._selected.clear()
        self._reload_count()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()
        if changed:
            self._post_selection()
        self._post_highlight()

    @property
    def row_count(self) -> int:
        """Rows in the source at the last read."""
        return self._count

    @property
    def cursor_row(self) -> int:
        """Index of the cursor row in display order."""
        return self._cursor

    @property
    def cursor_ticket_id(self) -> Optional[int]:
        row = self.cursor_row_data
        return row.id if row is not None else None

    @property
    def cursor_row_data(self) -> Optional[QueueRow]:
        return self.get_row(self._cursor)

    @property
    def selected_ids(self) -> frozenset[int]:
        """Ticket ids marked with space, for bulk actions (kept across `refresh_rows`)."""
        return frozenset(self._selected)

    def clear_selection(self) -> None:
        if self._selected:
            self._selected.clear()
            self.refresh()
            self._post_selection()

    def set_selected(self, ticket_ids: Iterable[int]) -> None:
        """Replace the selection."""
        new = set(ticket_ids)
        if new != self._selected:
            self._selected = new
            self.refresh()
            self._post_selection()

    def get_row(self, index: int) -> Optional[QueueRow]:
        """The row at `index` in display order, read through the page cache."""
        if index < 0 or index >= self._count or self._source is None:
            return None
        page_no, within = divmod(index, self.page_size)
        page = self._pages.get(page_no)
        if page is None:
            page = self._source.page(page_no * self.page_size, self.page_size)
            if page is None:  # the source is still reading it: drawn blank until rows_arrived()
                return None
            self._pages[page_no] = page
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page[within] if within < len(page) else None

    def rows_arrived(self) -> None:
        """A page the source was still reading has arrived: draw it, and tell the screen which ticket
        the cursor is on if it was on that page."""
        self.refresh()
        self._post_highlight()

    def move_cursor(self, index: int, *, scroll: bool = True) -> None:
        """Put the cursor on row `index` (clamped) and, with `scroll`, bring it into view."""
        if self._count == 0:
            index = 0
        else:
            index = max(0, min(index, self._count - 1))
        old = self._cursor
        self._cursor = index
        if scroll:
            self._scroll_cursor_into_view()
        if old != index:
            self._refresh_row(old)
            self._refresh_row(index)
        self._post_highlight()

    def tick(self, now: float) -> None:
        """Move the clock forward and repaint the visible countdowns (no source reads)."""
        self.now = float(now)
        if not self.is_mounted:
            return
        columns = self._columns()
        height = self.scrollable_content_region.height
        regions = [
            Region(column.x, 1, column.width, max(height - 1, 0))
            for column in columns
            if column.key in _DYNAMIC_COLUMNS
        ]
        if regions:
            self.refresh(*regions)
        else:
            self.refresh()

    def refresh_rows(self, source: Optional[RowSource] = None) -> None:
        """Re-read the source (after a sync; call from the UI thread, e.g. a message handler).

        A new `source` for the same list (the same view read again at a later moment) takes the
        old one's place without moving the cursor, unlike set_source.

        The cursor stays on the same ticket when it is still in the queue, on the same screen
        line where possible; if the ticket is gone it stays at the same position. If the agent
        had scrolled the cursor out of view, the scroll position is kept. The selection (ids)
        is kept. Reads `count()` and the pages around the old cursor; a ticket that moved
        further is looked up with the source's optional `index_of(ticket_id)`."""
        old_id = self._highlighted_id if self._highlighted_id is not None else self.cursor_ticket_id
        old_index = self._cursor
        if source is not None:
            self._source = source
        screen_line = old_index - int(self.scroll_offset.y)
        self._reload_count()
        new_index = self._find_ticket(old_id, near=old_index) if old_id is not None else None
        if new_index is None:
            new_index = min(old_index, max(self._count - 1, 0))
        self._cursor = new_index
        visible = self._visible_row_count()
        if 0 <= screen_line < visible:
            self.scroll_to(y=max(new_index - screen_line, 0), animate=False, immediate=True)
        else:
            max_top = max(self._count - visible, 0)
            if self.scroll_offset.y > max_top:
                self.scroll_to(y=max_top, animate=False, immediate=True)
        self.refresh()
        self._post_highlight()

    # --- actions ------------------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_top(self) -> None:
        self.move_cursor(0)

    def action_cursor_bottom(self) -> None:
        self.move_cursor(self._count - 1)

    def action_cursor_page_down(self) -> None:
        step = max(self._visible_row_count() - 1, 1)
        self.scroll_to(y=self.scroll_offset.y + step, animate=False, immediate=True)
        self.move_cursor(self._cursor + step)

    def action_cursor_page_up(self) -> None:
        step = max(self._visible_row_count() - 1, 1)
        self.scroll_to(y=max(self.scroll_offset.y - step, 0), animate=False, immediate=True)
        self.move_cursor(self._cursor - step)

    def action_toggle_select(self) -> None:
        ticket_id = self.cursor_ticket_id
        if ticket_id is None:
            return
        if ticket_id in self._selected:
            self._selected.discard(ticket_id)
        else:
            self._selected.add(ticket_id)
        self._refresh_row(self._cursor)
        self._post_selection()

    def action_open(self) -> None:
        ticket_id = self.cursor_ticket_id
        if ticket_id is not None:
            self.post_message(self.Opened(ticket_id, self))

    # --- events -------------------------------------------------------------------------------

    def on_mount(self) -> None:
        super().on_mount()
        self._reload_count()
        self.watch(self.app, "theme", self._on_theme_change, init=False)
        self._post_highlight()

    def _on_theme_change(self, _theme: str) -> None:
        self._palette = None
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._palette = None

    def on_focus(self, _event: events.Focus) -> None:
        self._palette = None
        self._refresh_row(self._cursor)

    def on_blur(self, _event: events.Blur) -> None:
        self._palette = None
        self._refresh_row(self._cursor)

    def on_resize(self, _event: events.Resize) -> None:
        self._scroll_cursor_into_view()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = int(self.scroll_offset.y) + offset.y - 1
        if index >= self._count:
            return
        self.move_cursor(index, scroll=False)
        if event.chain >= 2:
            self.action_open()

    # --- internals ----------------------------------------------------------------------------

    def _reload_count(self) -> None:
        self._pages.clear()
        self._row_cache.clear()
        self._count = max(int(self._source.count()), 0) if self._source is not None else 0
        if self._count == 0:
            self._cursor = 0
        else:
            self._cursor = min(self._cursor, self._count - 1)
        # one header line + the rows; no horizontal scrolling (columns fit the width)
        self.virtual_size = Size(0, self._count + 1)

    def _find_ticket(self, ticket_id: int, near: int) -> Optional[int]:
        """Index of `ticket_id`: first in the pages around `near` (they are read for the repaint
        anyway), then through the source's optional `index_of(ticket_id)`."""
        if self._count == 0:
            return None
        centre = min(near, self._count - 1) // self.page_size
        last_page = (self._count - 1) // self.page_size
        for page_no in (centre, centre - 1, centre + 1):
            if 0 <= page_no <= last_page:
                start = page_no * self.page_size
                self.get_row(start)  # loads the page
                page = self._pages.get(page_no, ())
                for within, row in enumerate(page):
                    if row.id == ticket_id:
                        return start + within
        index_of = getattr(self._source, "index_of", None)
        if callable(index_of):
            found = index_of(ticket_id)
            if found is not None and 0 <= found < self._count:
                return int(found)
        return None

    def _visible_row_count(self) -> int:
        return max(self.scrollable_content_region.height - 1, 0)

    def _scroll_cursor_into_view(self) -> None:
        visible = self._visible_row_count()
        if visible <= 0:
            return
        top = int(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False, immediate=True)

    def _refresh_row(self, index: int) -> None:
        y = index - int(self.scroll_offset.y) + 1
        if 1 <= y < self.scrollable_content_region.height:
            self.refresh(Region(0, y, self.scrollable_content_region.width, 1))

    def _post_highlight(self) -> None:
        ticket_id = self.cursor_ticket_id
        if ticket_id != self._highlighted_id:
            self._highlighted_id = ticket_id
            self.post_message(self.Highlighted(ticket_id, self))

    def _post_selection(self) -> None:
        self.post_message(self.SelectionChanged(frozenset(self._selected), self))

    def _columns(self) -> tuple[_Column, ...]:
        width = self.scrollable_content_region.width
        if self._columns_cache[0] != width:
            self._columns_cache = (width, _layout(width))
            self._row_cache.clear()
        return self._columns_cache[1]

    def _get_palette(self) -> dict[str, Style]:
        if self._palette is None:
            self._palette = self._build_palette()
            self._row_cache.clear()
        return self._palette

    def _build_palette(self) -> dict[str, Style]:
        base = self.rich_style
        try:
            variables = self.app.theme_variables
        except Exception:  # no app (unit use)
            variables = {}

        def component(name: str) -> Style:
            # full (not partial) styles: Textual resolves `auto` and alpha colours against the
            # widget's background
            return self.get_component_rich_style(name)

        def accent(name: str, variable: Optional[str] = None) -> Style:
            """Foreground and text attributes only (no background), so an accent can sit on a
            plain, selected or cursor row. The colour comes from the theme variable if set."""
            full = component(name)
            color = full.color
            value = variables.get(variable) if variable else None
            if value:
                try:
                    parsed = Color.parse(value)
                except (ColorParseError, ValueError):
                    pass
                else:
                    if parsed.a < 1 and full.bgcolor is not None:
                        parsed = Color.from_rich_color(full.bgcolor) + parsed
                    color = parsed.rich_color
            return Style(
                color=color,
                bold=full.bold,
                italic=full.italic,
                underline=full.underline,
                reverse=full.reverse,
                dim=full.dim,
            )

        palette = {
            "base": base,
            "header": component("queue-list--header"),
            "cursor": component("queue-list--cursor"),
            "selected": component("queue-list--selected"),
            "muted": accent("queue-list--muted"),
            "ok": accent("queue-list--sla-ok", "sla-ok"),
            "at_risk": accent("queue-list--sla-at-risk", "sla-at-risk"),
            "breached": accent("queue-list--sla-breached", "sla-breached"),
            "paused": accent("queue-list--sla-paused", "sla-paused"),
            "vip": accent("queue-list--tier-vip", "tier-vip"),
            "urgent": accent("queue-list--priority-urgent", "priority-urgent"),
            "high": accent("queue-list--priority-high", "priority-high"),
            "plain": Style(),
            "strong": Style(bold=True),
        }
        palette["none"] = palette["muted"]
        # A VIP badge is reversed (a solid block of the VIP colour) so it stands out without
        # colour too.
        palette["vip_badge"] = palette["vip"] + Style(bold=True, reverse=True)
        return palette

    def render_line(self, y: int) -> Strip:
        columns = self._columns()
        width = self._columns_cache[0]
        palette = self._get_palette()
        if y == 0:
            return self._render_header(columns, width, palette)
        index = int(self.scroll_offset.y) + y - 1
        row = self.get_row(index)
        if row is None:
            return Strip.blank(width, palette["base"])
        return self._render_row(row, index, columns, width, palette)

    def _render_header(self, columns: Sequence[_Column], width: int, palette: dict[str, Style]) -> Strip:
        style = palette["header"]
        segments: list[Segment] = []
        x = 0
        for column in columns:
            if column.x > x:
                segments.append(Segment(" " * (column.x - x), style))
            segments.append(Segment(_fit(column.title, column.width, column.align), style))
            x = column.x + column.width
        if x < width:
            segments.append(Segment(" " * (width - x), style))
        return Strip(segments).crop_extend(0, width, style)

    def _row_styles(self, is_cursor: bool, is_selected: bool, palette: dict[str, Style]):
        """The row's base style and how an accent (colour/bold) is laid over it."""
        if is_cursor:
            row_style = palette["cursor"]
        elif is_selected:
            row_style = palette["selected"]
        else:
            row_style = palette["base"]

        def styled(accent: Style) -> Style:
            # on the cursor row the cursor's colours win (readable on any theme); text
            # attributes such as bold/reverse still show, and glyphs carry the meaning
            if is_cursor:
                return row_style + Style(bold=accent.bold, reverse=accent.reverse)
            return row_style + accent

        return row_style, styled

    def _render_row(
        self, row: QueueRow, index: int, columns: Sequence[_Column], width: int, palette: dict[str, Style]
    ) -> Strip:
        is_cursor = index == self._cursor
        is_selected = row.id in self._selected
        key = (row.id, row.version, is_cursor, is_selected)
        parts = self._row_cache.get(key)
        if parts is None:
            parts = self._row_parts(row, is_cursor, is_selected, columns, width, palette)
            self._row_cache[key] = parts
            if len(self._row_cache) > _ROW_CACHE_SIZE:
                self._row_cache.popitem(last=False)
        else:
            self._row_cache.move_to_end(key)

        # only the time-dependent cells are formatted on every paint
        now = self.now
        row_style, styled = self._row_styles(is_cursor, is_selected, palette)
        segments: list[Segment] = []
        for part in parts:
            if part.__class__ is _Column:
                if part.key == "sla":
                    state = countdown_state(row.sla_due, row.sla_paused, now, self.at_risk_seconds)
                    if state == "paused":
                        label = "paused"
                    elif state == "none":
                        label = ""
                    else:
                        label = format_countdown(row.sla_due - now)
                    text = _fit(f"{SLA_GLYPHS.get(state, '?')} {label}", part.width)
                    segments.append(Segment(text, styled(palette[state])))
                else:  # "updated"
                    text = _fit(format_age(now - row.updated_at), part.width, "right")
                    segments.append(Segment(text, styled(palette["muted"])))
            else:
                segments.extend(part)
        if columns and columns[-1].x + columns[-1].width > width:  # narrower than the fixed columns
            return Strip(segments).crop_extend(0, width, row_style)
        return Strip(segments, width)

    def _row_parts(
        self,
        row: QueueRow,
        is_cursor: bool,
        is_selected: bool,
        columns: Sequence[_Column],
        width: int,
        palette: dict[str, Style],
    ) -> tuple:
        """The row as static Segment runs, with the time-dependent columns left as placeholders
        (the `_Column` itself). Exactly `width` cells once the placeholders are filled."""
        row_style, styled = self._row_styles(is_cursor, is_selected, palette)
        parts: list = []
        segments: list[Segment] = []
        x = 0
        for column in columns:
            if column.x > x:
                segments.append(Segment(" " * (column.x - x), row_style))
            cw = column.width
            key = column.key
            if key in _DYNAMIC_COLUMNS:
                parts.append(tuple(segments))
                parts.append(column)
                segments = []
            elif key == "mark":
                segments.append(Segment(SELECTED_MARK if is_selected else " ", styled(palette["strong"])))
            elif key == "priority":
                label = PRIORITY_LABELS.get(row.priority) or one_line(row.priority, cw)
                accent = palette[_PRIORITY_ACCENT.get(row.priority, "plain")]
                segments.append(Segment(_fit(label, cw), styled(accent)))
            elif key == "id":
                segments.append(Segment(_fit(f"#{row.id}", cw, "right"), styled(palette["muted"])))
            elif key == "subject":
                segments.append(Segment(_fit(one_line(row.subject, cw), cw), row_style))
            elif key == "customer":
                badge = TIER_BADGES.get(row.customer_tier, "")
                if badge and cw >= 8:
                    is_vip = row.customer_tier == "vip"
                    name_width = cw - len(badge) - 1
                    name = _fit(one_line(row.customer_name, name_width), name_width)
                    segments.append(Segment(badge, styled(palette["vip_badge"] if is_vip else palette["muted"])))
                    segments.append(Segment(" ", row_style))
                    segments.append(Segment(name, styled(palette["vip"]) if is_vip else row_style))
                else:
                    segments.append(Segment(_fit(one_line(row.customer_name, cw), cw), row_style))
            elif key == "channel":
                segments.append(Segment(_fit(one_line(row.channel, cw), cw), styled(palette["muted"])))
            elif key == "status":
                segments.append(Segment(_fit(one_line(row.status.replace("_", " "), cw), cw), row_style))
            elif key == "assignee":
                if row.assignee_name:
                    segments.append(Segment(_fit(one_line(row.assignee_name, cw), cw), row_style))
                else:
                    segments.append(Segment(_fit(UNASSIGNED, cw), styled(palette["muted"])))
            elif key == "language":
                segments.append(Segment(_fit(one_line(row.language, cw), cw), styled(palette["muted"])))
            x = column.x + cw
        if x < width:
            segments.append(Segment(" " * (width - x), row_style))
        parts.append(tuple(segments))
        return tuple(parts)
