"""Where a macro's text goes in a reply box that may already hold text. Pure.

A macro's text is a paragraph of its own: inserted at the cursor, but never glued to the text
around it (`...(ticket #52)Hello Mia,`). A blank line separates it from text before and after;
a cursor in the middle of a line puts it after that line, so no word or sentence is split.
Blank lines already there are reused, never doubled.

Never imports textual, widgets or themes.
"""

from __future__ import annotations

__all__ = ["paragraph_insert"]


def paragraph_insert(text: str, cursor: int, snippet: str) -> tuple[int, str, int]:
    """Where and what to insert so that `snippet` stands as its own paragraph near `cursor`.

    `text` is the box's text, `cursor` an index into it (clamped). Returns (index, insertion,
    cursor_after): insert `insertion` at `index`; the cursor then belongs at `cursor_after`
    (the end of the snippet's own text, before any separator that follows it).
    """
    cursor = max(0, min(len(text), int(cursor)))
    body = snippet.strip("\n")
    if not body.strip():
        return cursor, "", cursor
    line_start = text.rfind("\n", 0, cursor) + 1
    line_end = text.find("\n", cursor)
    line_end = len(text) if line_end == -1 else line_end
    if text[line_start:cursor].strip() and text[cursor:line_end].strip():
        cursor = line_end  # inside a line of text: after the line, not through it
    before, after = text[:cursor], text[cursor:]
    prefix = suffix = ""
    if before.strip():
        have = before[len(before.rstrip(" \t\n")):].count("\n")
        prefix = "\n" * max(0, 2 - have)
    if after.strip():
        have = after[: len(after) - len(after.lstrip(" \t\n"))].count("\n")
        suffix = "\n" * max(0, 2 - have)
    return cursor, prefix + body + suffix, cursor + len(prefix) + len(body)
