"""Pilot tests of QueueList over an in-memory RowSource, with a frozen clock."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.message import Message

from agent_tui.rows import QueueRow
from agent_tui.sla import format_countdown
from storage.models import NO_DUE
from tests.queue_sample import sample_rows
from themes import APP_TCSS, THEME_VARIABLES, THEMES, register_themes
from widgets.queue_list import SLA_GLYPHS, ListRowSource, QueueList, format_age

NOW = 1_750_000_000.0  # frozen clock
SIZE = (120, 30)
VISIBLE_ROWS = SIZE[1] - 1  # one header line


def row(i: int, **changes) -> QueueRow:
    base = QueueRow(
        id=i, subject=f"Ticket subject {i}", queue="deposits", status="open", priority="normal",
        channel="chat", language="en", customer_name=f"Customer {i}", customer_tier="standard",
        assignee_id=None, assignee_name="", sla_due=NOW + 3600 + i, sla_paused=False,
        updated_at=NOW - 180, version=1,
    )
    return dataclasses.replace(base, **changes)


def numbered_rows(n: int) -> list[QueueRow]:
    return [row(i) for i in range(n)]


class QueueApp(App):
    """A tiny host: one QueueList, every message it posts recorded."""

    def __init__(self, source: ListRowSource, *, theme: str | None = "agent-dark", **kwargs) -> None:
        super().__init__()
        self.source = source
        self.kwargs = kwargs
        self.messages: list[Message] = []
        if theme is not None:
            register_themes(self, default=theme)

    def compose(self) -> ComposeResult:
        yield QueueList(self.source, now=self.kwargs.pop("now", NOW), **self.kwargs)

    def on_mount(self) -> None:
        self.query_one(QueueList).focus()

    def on_queue_list_highlighted(self, message: QueueList.Highlighted) -> None:
        self.messages.append(message)

    def on_queue_list_opened(self, message: QueueList.Opened) -> None:
        self.messages.append(message)

    def on_queue_list_selection_changed(self, message: QueueList.SelectionChanged) -> None:
        self.messages.append(message)

    def of(self, kind: type[Message]) -> list:
        return [m for m in self.messages if isinstance(m, kind)]


@contextlib.asynccontextmanager
async def shown(source: ListRowSource, *, size: tuple[int, int] = SIZE, **kwargs):
    """The list on screen after its first paint: (app, pilot, the QueueList)."""
    app = QueueApp(source, **kwargs)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        yield app, pilot, app.query_one(QueueList)


def line(widget: QueueList, y: int) -> str:
    return "".join(segment.text for segment in widget.render_line(y))


def screen_lines(widget: QueueList) -> list[str]:
    return [line(widget, y) for y in range(widget.scrollable_content_region.height)]


def shown_ids(widget: QueueList) -> list[int]:
    ids = []
    for text in screen_lines(widget)[1:]:
        for token in text.split():
            if token.startswith("#") and token[1:].isdigit():
                ids.append(int(token[1:]))
                break
    return ids


# --- first paint and paging -------------------------------------------------------------------


async def test_first_paint_shows_header_and_first_rows_reading_one_page() -> None:
    source = ListRowSource(numbered_rows(100_000))
    async with shown(source) as (app, pilot, ql):
        header = line(ql, 0)
        for title in ("SLA", "PRI", "ID", "SUBJECT", "CUSTOMER", "STATUS", "UPD"):
            assert title in header
        assert shown_ids(ql) == list(range(VISIBLE_ROWS))
        assert "Ticket subject 0" in line(ql, 1)
        assert source.page_calls == [(0, 200)]
        assert ql.row_count == 100_000
        assert ql.cursor_ticket_id == 0
        assert ql.virtual_size.height == 100_001


async def test_end_key_reaches_row_99999_reading_only_the_needed_page() -> None:
    source = ListRowSource(numbered_rows(100_000))
    async with shown(source) as (app, pilot, ql):
        source.reset_calls()
        await pilot.press("G")
        await pilot.pause()
        assert ql.cursor_row == 99_999
        assert ql.cursor_ticket_id == 99_999
        assert shown_ids(ql) == list(range(100_000 - VISIBLE_ROWS, 100_000))
        assert source.page_calls == [(99_800, 200)]
        assert source.count_calls == 0
        # and back home: page 0 is still cached
        await pilot.press("g")
        await pilot.pause()
        assert shown_ids(ql)[0] == 0
        assert source.page_calls == [(99_800, 200)]


async def test_jump_to_the_middle_reads_only_pages_covering_the_viewport() -> None:
    source = ListRowSource(numbered_rows(100_000))
    async with shown(source) as (app, pilot, ql):
        source.reset_calls()
        ql.move_cursor(50_190)  # viewport straddles pages 250 and 251
        await pilot.pause()
        ids = shown_ids(ql)
        assert 50_190 in ids
        needed = {(p * 200, 200) for p in {ids[0] // 200, ids[-1] // 200}}
        assert set(source.page_calls) == needed
        assert len(source.page_calls) == len(needed)
        assert sum(limit for _, limit in source.page_calls) <= 400


async def test_page_cache_is_bounded() -> None:
    source = ListRowSource(numbered_rows(10_000))
    app = QueueApp(source, max_pages=3)
    async with app.run_test(size=SIZE) as pilot:
        ql = app.query_one(QueueList)
        for target in range(0, 10_000, 700):
            ql.move_cursor(target)
            await pilot.pause()
        assert len(ql._pages) <= 3


async def test_empty_source_renders_header_only() -> None:
    source = ListRowSource([])
    async with shown(source) as (app, pilot, ql):
        assert "SUBJECT" in line(ql, 0)
        assert line(ql, 1).strip() == ""
        assert ql.cursor_ticket_id is None
        await pilot.press("j", "enter", "space")
        assert app.of(QueueList.Opened) == []
        assert ql.selected_ids == frozenset()


# --- the clock ----------------------------------------------------------------------------------


async def test_tick_changes_countdown_without_reading_the_source() -> None:
    rows = [
        row(1, sla_due=NOW + 16 * 60),  # ok, at risk a minute later
        row(2, sla_due=NOW + 3),  # at risk, then breached
        row(3, sla_due=NO_DUE, sla_paused=True),
        row(4, sla_due=NO_DUE),
    ]
    source = ListRowSource(rows)
    async with shown(source) as (app, pilot, ql):
        assert f"{SLA_GLYPHS['ok']} 16m 00s" in line(ql, 1)
        assert f"{SLA_GLYPHS['at_risk']} 0m 03s" in line(ql, 2)
        assert f"{SLA_GLYPHS['paused']} paused" in line(ql, 3)
        assert line(ql, 4).split()[0] == SLA_GLYPHS["none"]
        source.reset_calls()

        ql.tick(NOW + 61)
        await pilot.pause()
        assert f"{SLA_GLYPHS['at_risk']} 14m 59s" in line(ql, 1)
        assert f"{SLA_GLYPHS['breached']} -0m 58s" in line(ql, 2)
        assert f"{SLA_GLYPHS['paused']} paused" in line(ql, 3)
        assert source.page_calls == [] and source.count_calls == 0
        # the repaint reached the screen, not just render_line
        screen_text = "\n".join(
            "".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()
        )
        assert "14m 59s" in screen_text and "-0m 58s" in screen_text


async def test_tick_updates_last_update_age() -> None:
    source = ListRowSource([row(1, updated_at=NOW - 59)])
    async with shown(source) as (app, pilot, ql):
        assert line(ql, 1).rstrip().endswith("59s")
        ql.tick(NOW + 2 * 3600)
        await pilot.pause()
        assert line(ql, 1).rstrip().endswith("2h")


def test_format_age() -> None:
    assert [format_age(s) for s in (-5, 0, 59, 180, 7200, 5 * 86400, 10**9)] == [
        "0s", "0s", "59s", "3m", "2h", "5d", "999d",
    ]


# --- keyboard, selection, messages ------------------------------------------------------------


async def test_cursor_keys_post_highlighted_and_enter_posts_opened() -> None:
    source = ListRowSource(numbered_rows(500))
    async with shown(source) as (app, pilot, ql):
        await pilot.press("j", "down", "j", "k")
        await pilot.pause()
        assert ql.cursor_ticket_id == 2
        highlighted = [m.ticket_id for m in app.of(QueueList.Highlighted)]
        assert highlighted == [0, 1, 2, 3, 2]
        await pilot.press("enter")
        await pilot.pause()
        opened = app.of(QueueList.Opened)
        assert [m.ticket_id for m in opened] == [2]
        assert opened[0].control is ql

        await pilot.press("pagedown")
        await pilot.pause()
        assert ql.cursor_row == 2 + VISIBLE_ROWS - 1
        assert ql.cursor_ticket_id in shown_ids(ql)
        await pilot.press("pageup", "pageup")
        await pilot.pause()
        assert ql.cursor_row == 0
        await pilot.press("end")
        await pilot.pause()
        assert ql.cursor_ticket_id == 499
        await pilot.press("home", "up")
        await pilot.pause()
        assert ql.cursor_ticket_id == 0


async def test_space_toggles_selection_with_a_visible_mark() -> None:
    source = ListRowSource(numbered_rows(50))
    async with shown(source) as (app, pilot, ql):
        await pilot.press("space", "j", "j", "space", "j", "space", "k", "k", "k", "k")
        await pilot.pause()
        assert ql.selected_ids == {0, 2, 3}
        lines = screen_lines(ql)
        assert lines[1].startswith("✓") and lines[3].startswith("✓") and lines[4].startswith("✓")
        assert not lines[2].startswith("✓")
        await pilot.press("space")  # cursor is on 0 again: unselect
        await pilot.pause()
        assert ql.selected_ids == {2, 3}
        changes = app.of(QueueList.SelectionChanged)
        assert [set(m.selected_ids) for m in changes] == [{0}, {0, 2}, {0, 2, 3}, {2, 3}]
        ql.clear_selection()
        await pilot.pause()
        assert ql.selected_ids == frozenset()
        assert not line(ql, 3).startswith("✓")
        assert app.of(QueueList.SelectionChanged)[-1].selected_ids == frozenset()


async def test_bindings_can_be_remapped_by_id() -> None:
    source = ListRowSource(numbered_rows(50))
    app = QueueApp(source)
    async with app.run_test(size=SIZE) as pilot:
        app.set_keymap({"queue.down": "n", "queue.open": "o"})
        await pilot.pause()
        ql = app.query_one(QueueList)
        await pilot.press("n", "n", "o")
        await pilot.pause()
        assert ql.cursor_ticket_id == 2
        assert [m.ticket_id for m in app.of(QueueList.Opened)] == [2]
    ids = {binding.id for binding in QueueList.BINDINGS}
    assert ids == {
        "queue.down", "queue.up", "queue.top", "queue.bottom", "queue.page_up", "queue.page_down",
        "queue.toggle_select", "queue.open",
    }


async def test_click_moves_cursor_and_double_click_opens() -> None:
    source = ListRowSource(numbered_rows(50))
    async with shown(source) as (app, pilot, ql):
        await pilot.click(QueueList, offset=(30, 4))
        await pilot.pause()
        assert ql.cursor_ticket_id == 3
        await pilot.double_click(QueueList, offset=(30, 5))
        await pilot.pause()
        assert ql.cursor_ticket_id == 4
        assert [m.ticket_id for m in app.of(QueueList.Opened)] == [4]


# --- refresh after a sync -----------------------------------------------------------------------


async def test_cursor_stays_on_the_same_ticket_when_the_order_changes() -> None:
    rows = numbered_rows(1_000)
    source = ListRowSource(rows)
    async with shown(source) as (app, pilot, ql):
        for _ in range(5):
            await pilot.press("j")
        await pilot.press("space")
        await pilot.pause()
        assert ql.cursor_ticket_id == 5
        screen_line_before = ql.cursor_row - int(ql.scroll_offset.y)

        # a sync moves two tickets ahead of ticket 5
        source.rows = [rows[900], rows[901]] + [r for r in rows if r.id not in (900, 901)]
        ql.refresh_rows()
        await pilot.pause()
        assert ql.cursor_ticket_id == 5 and ql.cursor_row == 7
        assert ql.cursor_row - int(ql.scroll_offset.y) == screen_line_before
        assert ql.selected_ids == {5}
        assert shown_ids(ql)[screen_line_before] == 5

        # a full reverse sends ticket 5 far away: found through the source's index_of
        source.rows = list(reversed(source.rows))
        source.reset_calls()
        ql.refresh_rows()
        await pilot.pause()
        assert ql.cursor_ticket_id == 5 and ql.cursor_row == 992
        assert 5 in shown_ids(ql)
        assert source.count_calls == 1
        assert len(source.page_calls) <= 6  # the pages searched around the old cursor + the viewport


async def test_refresh_rows_when_the_ticket_is_gone_keeps_the_position() -> None:
    rows = numbered_rows(100)
    source = ListRowSource(rows)
    async with shown(source) as (app, pilot, ql):
        await pilot.press("j", "j", "j")
        await pilot.pause()
        source.rows = [r for r in rows if r.id != 3]
        ql.refresh_rows()
        await pilot.pause()
        assert ql.cursor_row == 3 and ql.cursor_ticket_id == 4
        assert app.of(QueueList.Highlighted)[-1].ticket_id == 4
        source.rows = rows[:2]
        ql.refresh_rows()
        await pilot.pause()
        assert ql.cursor_row == 1 and ql.cursor_ticket_id == 1
        assert ql.row_count == 2 and ql.virtual_size.height == 3


async def test_refresh_rows_keeps_a_scrolled_away_view() -> None:
    source = ListRowSource(numbered_rows(1_000))
    async with shown(source) as (app, pilot, ql):
        ql.scroll_to(y=500, animate=False)  # mouse wheel: the cursor stays on ticket 0
        await pilot.pause()
        source.rows = [row(5000)] + source.rows
        ql.refresh_rows()
        await pilot.pause()
        assert int(ql.scroll_offset.y) == 500
        assert ql.cursor_ticket_id == 0 and ql.cursor_row == 1
        source.rows = source.rows[:10]
        ql.refresh_rows()
        await pilot.pause()
        assert int(ql.scroll_offset.y) == 0 and 5000 in shown_ids(ql)


async def test_set_source_switches_queue() -> None:
    async with shown(ListRowSource(numbered_rows(100))) as (app, pilot, ql):
        await pilot.press("G", "space")
        ql.set_source(ListRowSource([row(7000 + i) for i in range(10)]))
        await pilot.pause()
        assert ql.cursor_ticket_id == 7000 and ql.selected_ids == frozenset()
        assert shown_ids(ql) == list(range(7000, 7010))


# --- hostile text, layout, themes -----------------------------------------------------------------


async def test_hostile_subject_and_name_render_inert() -> None:
    hostile = row(
        1,
        subject="[bold red]URGENT[/] \x1b[2J\x1b]52;c;YmFkYWRkcg==\x07send to \u202egnp.exe\u202c [link=https://x]here[/]",
        customer_name="\x1b]8;;https://evil\x1b\\Evil\x1b]8;;\x1b\\\x9b31m\x00",
        assignee_name="\x07\x1b[5mAgent",
        customer_tier="vip",
    )
    async with shown(ListRowSource([hostile]), size=(200, 10)) as (app, pilot, ql):
        strip = ql.render_line(1)
        text = "".join(seg.text for seg in strip)
        assert "[bold red]URGENT[/]" in text and "[link=https://x]here[/]" in text
        assert "send to gnp.exe" in text and "Evil" in text and "Agent" in text
        for bad in ("\x1b", "\x07", "\x9b", "\x00", "\u202e", "\u202c"):
            assert bad not in text
        assert all(seg.style is None or not seg.style.link for seg in strip)
        assert strip.cell_length == ql.scrollable_content_region.width


@pytest.mark.parametrize("width", [60, 80, 100, 120, 160, 220])
async def test_columns_fit_the_width_and_subject_takes_the_rest(width: int) -> None:
    async with shown(ListRowSource(sample_rows(40, NOW)), size=(width, 12)) as (app, pilot, ql):
        content = ql.scrollable_content_region.width
        columns = {c.key: c for c in ql._columns()}
        for key in ("sla", "priority", "id", "subject"):
            assert key in columns
        assert columns["subject"].width >= 20 or width < 60
        last = max(columns.values(), key=lambda c: c.x)
        assert last.x + last.width == content  # no slack, no overflow
        ql.tick(NOW + 5)  # drawn twice: the second time from the static-cell cache
        for _ in range(2):
            for y in range(ql.scrollable_content_region.height):
                strip = ql.render_line(y)
                assert sum(cell_len(seg.text) for seg in strip) == strip.cell_length == content
        if width >= 120:
            assert set(columns) >= {"customer", "channel", "status", "assignee", "language", "updated"}


async def test_vip_badge_and_priority_words_do_not_rely_on_colour() -> None:
    rows = [
        row(1, customer_tier="vip", priority="urgent"),
        row(2, customer_tier="gold", priority="high"),
        row(3, customer_tier="standard", priority="low"),
    ]
    async with shown(ListRowSource(rows)) as (app, pilot, ql):
        await pilot.press("j")  # move the cursor off the VIP row
        await pilot.pause()
        vip_line = line(ql, 1)
        assert "VIP Customer 1" in vip_line and "URGENT" in vip_line
        assert "GLD Customer 2" in line(ql, 2) and " high " in line(ql, 2)
        badge = next(seg for seg in ql.render_line(1) if seg.text == "VIP")
        assert badge.style.reverse and badge.style.bold


def _colour_of(ql: QueueList, y: int, needle: str) -> str:
    for seg in ql.render_line(y):
        if needle in seg.text:
            return seg.style.color.get_truecolor().hex.upper()
    raise AssertionError(f"{needle!r} not on line {y}")


@pytest.mark.parametrize("theme_name", sorted(THEMES))
async def test_sla_colours_come_from_the_theme(theme_name: str) -> None:
    rows = [row(0), row(1, sla_due=NOW - 60), row(2, sla_due=NOW + 60), row(3, sla_due=NO_DUE, sla_paused=True)]
    async with shown(ListRowSource(rows), theme=theme_name) as (app, pilot, ql):
        variables = THEMES[theme_name].variables
        assert _colour_of(ql, 2, SLA_GLYPHS["breached"]) == variables["sla-breached"].upper()
        assert _colour_of(ql, 3, SLA_GLYPHS["at_risk"]) == variables["sla-at-risk"].upper()
        assert _colour_of(ql, 4, SLA_GLYPHS["paused"]) == variables["sla-paused"].upper()


async def test_theme_switch_repaints_with_new_colours() -> None:
    async with shown(ListRowSource([row(0), row(1, sla_due=NOW - 60)])) as (app, pilot, ql):
        assert _colour_of(ql, 2, "✖") == THEMES["agent-dark"].variables["sla-breached"].upper()
        app.theme = "agent-light"
        await pilot.pause()
        assert _colour_of(ql, 2, "✖") == THEMES["agent-light"].variables["sla-breached"].upper()


class BuiltinThemeApp(QueueApp):
    CSS_PATH = APP_TCSS  # must parse under a theme without the app variables


async def test_falls_back_without_app_theme_variables() -> None:
    app = BuiltinThemeApp(ListRowSource([row(0, sla_due=NOW - 60)]), theme=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        ql = app.query_one(QueueList)
        await pilot.press("j")
        assert "✖ -1m 00s" in line(ql, 1)
        assert ql.render_line(1).cell_length == ql.scrollable_content_region.width


def test_themes_define_every_app_variable() -> None:
    assert set(THEMES) == {"agent-dark", "agent-light", "agent-high-contrast"}
    for theme in THEMES.values():
        for variable in THEME_VARIABLES:
            assert variable in theme.variables, (theme.name, variable)


def test_countdown_helper_matches_widget_text() -> None:
    # the widget shows sla.format_countdown verbatim, after its glyph
    assert format_countdown(16 * 60) == "16m 00s"
