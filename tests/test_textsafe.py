"""Customer text is hostile: each case below must come out inert, as text and as rendered Segments."""

from __future__ import annotations

import pytest
from rich.console import Console
from textual.app import App, ComposeResult
from textual.widgets import Static

from agent_tui.rows import QueueRow
from agent_tui.textsafe import UNSAFE, clean, one_line, safe_text
from storage.models import NO_DUE
from widgets.queue_list import ListRowSource, QueueList

ESC = "\x1b"
FORBIDDEN = ("\x1b", "\x9b", "\x9d", "\x90", "\x9c", "\x07", "\x00", "\u202e", "\u2066", "\u200b")

HOSTILE = {
    "markup": ("[bold red]pay now[/] [link=https://evil.example]support[/link]",
               "[bold red]pay now[/] [link=https://evil.example]support[/link]"),
    "csi_clear": ("refund\x1b[2J\x1b[Hplease", "refundplease"),
    "csi_sgr": ("\x1b[31;1mred\x1b[0m text", "red text"),
    "osc52_clipboard_bel": ("hi\x1b]52;c;YmMxcWV2aWxhZGRyZXNz\x07 there", "hi there"),
    "osc52_clipboard_st": ("hi\x1b]52;c;YmMxcWV2aWw=\x1b\\ there", "hi there"),
    "osc8_hyperlink": ("\x1b]8;;https://evil.example\x1b\\click here\x1b]8;;\x1b\\!", "click here!"),
    "c1_csi": ("a\x9b2Jb", "ab"),
    "c1_osc": ("a\x9d52;c;Zm9v\x9cb", "ab"),
    "c1_other": ("a\x85b\x8dc", "a\nbc"),
    "dcs": ("x\x1bP1$qm\x1b\\y", "xy"),
    "apc": ("x\x1b_payload\x1b\\y", "xy"),
    "bidi_override": ("invoice_\u202egnp.exe", "invoice_gnp.exe"),
    "bidi_isolate": ("a\u2066b\u2067c\u2068d\u2069e", "abcde"),
    "zero_width": ("0x12\u200b34\u200c56\u200d78\ufeff\u2060", "0x12345678"),
    "tag_chars": ("ok\U000e0069\U000e0067\U000e006e", "ok"),
    "nul": ("nul\x00byte", "nulbyte"),
    "bell": ("ding\x07dong", "dingdong"),
    "backspace_del": ("abc\x08\x08x\x7f", "abcx"),
    "unterminated_osc": ("tail\x1b]52;c;c2VjcmV0", "tail"),
    "lone_esc": ("a\x1bcb\x1b", "ab"),
    "carriage_return": ("line1\r\nline2\rline3", "line1\nline2\nline3"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_clean_makes_each_case_inert(case: str) -> None:
    raw, expected = HOSTILE[case]
    out = clean(raw)
    assert out == expected
    for bad in FORBIDDEN:
        assert bad not in out


def test_clean_keeps_newline_tab_and_ordinary_unicode() -> None:
    text = "Olá\tmundo\n日本語 🚀 café — 100€"
    assert clean(text) == text


def test_clean_is_idempotent() -> None:
    for raw, _ in HOSTILE.values():
        once = clean(raw)
        assert clean(once) == once


def test_safe_text_never_parses_markup() -> None:
    raw = "[bold]x[/bold] [link=https://evil.example]y[/] [@click=app.quit]z[/]"
    text = safe_text(raw)
    assert text.plain == raw
    assert text.spans == []
    rendered = "".join(seg.text for seg in Console(width=200).render(text))
    assert "[link=https://evil.example]" in rendered
    for seg in Console(width=200).render(text):
        assert seg.style is None or seg.style.link is None


def test_safe_text_applies_a_style_and_expands_tabs() -> None:
    text = safe_text("a\tb\x1b[2J", style="bold")
    assert text.plain == "a   b"
    assert str(text.style) == "bold"


def test_one_line_folds_and_truncates() -> None:
    assert one_line("  first\nsecond\t\tthird  ") == "first second third"
    assert one_line("abcdefghij", 5) == "abcd…"
    assert one_line("abc", 5) == "abc"
    assert one_line("abc", 0) == ""
    assert one_line("日本語テキスト", 5) == "日本…"  # never splits a double-width char
    assert one_line("\x1b]52;c;Zm9v\x07pay\x1b[2J", 10) == "pay"


def _hostile_row(index: int, subject: str, customer: str) -> QueueRow:
    return QueueRow(
        id=index, subject=subject, queue="deposits", status="open", priority="high", channel="email",
        language="en", customer_name=customer, customer_tier="vip", assignee_id=None,
        assignee_name="\x1b]8;;https://evil\x1b\\agent\x1b]8;;\x1b\\", sla_due=NO_DUE,
        sla_paused=False, updated_at=0.0, version=1,
    )


class HostileApp(App):
    def compose(self) -> ComposeResult:
        rows = [_hostile_row(i + 1, raw, raw) for i, (raw, _) in enumerate(HOSTILE.values())]
        yield QueueList(ListRowSource(rows), now=1_000.0)
        yield Static(safe_text(" | ".join(raw for raw, _ in HOSTILE.values())), id="static")


async def test_rendered_segments_of_widgets_hold_no_escape_byte() -> None:
    app = HostileApp()
    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.pause()
        queue_list = app.query_one(QueueList)
        static = app.query_one("#static", Static)
        strips = queue_list.render_lines(queue_list.region.reset_offset)
        strips += static.render_lines(static.region.reset_offset)
        # and what the compositor actually sends (before the driver adds its own SGR codes)
        strips += app.screen._compositor.render_strips()
        text = "".join(seg.text for strip in strips for seg in strip)
        assert "pay now" in text and "refundplease" in text  # the hostile rows were drawn
        assert "[link=https://evil.example]" in text  # markup literal
        for bad in FORBIDDEN:
            assert bad not in text, repr(bad)
        for strip in strips:
            for seg in strip:
                assert seg.style is None or not seg.style.link


# --- JSON output -----------------------------------------------------------------------------------------

def _unsafe_samples():
    """One of every kind of character UNSAFE matches, plus the hostile texts above."""
    chars = [chr(c) for c in range(0x110000) if UNSAFE.match(chr(c))]
    assert "\x9b" in chars and "\u202e" in chars and "\ud800" in chars and "\U000e0041" in chars
    # "x" between them: a high surrogate right before a low one is one character to JSON
    return ["x".join(chars)] + [raw for raw, _ in HOSTILE.values()]


def test_json_text_escapes_every_unsafe_character_and_round_trips():
    import json

    from agent_tui.textsafe import json_text

    for sample in _unsafe_samples():
        value = {"text": sample, "list": [sample, 1, 2.5, None, True], sample: "as a key", "accents": "olá 日本"}
        for indent in (True, False):
            out = json_text(value, indent=indent)
            structural = out.replace("\n", "") if indent else out
            assert not UNSAFE.search(structural), repr(UNSAFE.search(structural))
            assert json.loads(out) == value
            assert "olá 日本" in out  # only the unsafe characters are escaped
