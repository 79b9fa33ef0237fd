"""Make hostile text (ticket subjects, customer names, message bodies) inert before it is drawn.

Everything a customer can type reaches an agent's terminal. Left alone it could:

* run terminal escape sequences: ``ESC[2J`` clears the screen, ``ESC]52;c;...BEL`` writes the
  agent's clipboard (a swapped withdrawal address), ``ESC]8;;url ESC\\`` hides a link behind
  innocent text, 8-bit C1 controls (``\\x9b`` is a one-byte CSI) do the same on some terminals;
* be read as Rich/Textual markup: ``[link=https://evil]support[/]`` or ``[bold red]``;
* reorder or hide what the agent sees: bidi overrides (``U+202E``) and isolates make
  ``exe.txt`` read as ``txt.exe``; zero-width and tag characters hide text from the eye and
  from search.

So the rule for the UI: customer text goes through :func:`clean` (a string) and is drawn as
plain Segments or through :func:`safe_text` (a Rich ``Text`` built without markup parsing).
List cells use :func:`one_line`.

Pure: no Textual import (Rich is used only for ``Text`` and cell widths).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from decimal import Decimal

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

__all__ = ["clean", "scrub", "safe_text", "one_line", "inert", "json_text", "UNSAFE", "TAB_SIZE", "ESCAPE_SEQUENCES"]

TAB_SIZE = 4

# --- escape sequences --------------------------------------------------------------------
# Order matters: string-type sequences (OSC, DCS, SOS, PM, APC) swallow everything up to their
# terminator (BEL or ST, in 7-bit ``ESC \\`` or 8-bit ``\x9c`` form), or to the end of the text
# when unterminated, so the payload (a clipboard value, a URL) is dropped along with the
# introducer instead of being shown as text. Then CSI, then any other ESC sequence, then a lone
# ESC.
_STRING_SEQ = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])(?:[^\x07\x1b\x9c]|\x1b(?!\\))*(?:\x07|\x1b\\|\x9c|$)"
_CSI_SEQ = r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
_OTHER_ESC = r"\x1b[\x20-\x2f]*[\x30-\x7e]?"
_ESCAPES = ESCAPE_SEQUENCES = re.compile("|".join((_STRING_SEQ, _CSI_SEQ, _OTHER_ESC)))

# --- single characters to drop --------------------------------------------------------------
_DROP_CHARS = (
    # C0 controls except \t (0x09) and \n (0x0a); \r is handled before this runs
    r"\x00-\x08\x0b-\x1f\x7f"
    # C1 controls (8-bit CSI, OSC, ST, NEL, ...)
    r"\x80-\x9f"
    # soft hyphen (invisible in most places), Arabic letter mark, Mongolian vowel separator
    r"\u00ad\u061c\u180e"
    # zero-width space/non-joiner/joiner, LRM, RLM
    r"\u200b-\u200f"
    # bidi embeddings and overrides: LRE RLE PDF LRO RLO
    r"\u202a-\u202e"
    # word joiner, invisible operators, bidi isolates LRI RLI FSI PDI, deprecated format chars
    r"\u2060-\u206f"
    # zero-width no-break space / BOM, interlinear annotation controls
    r"\ufeff\ufff9-\ufffb"
    # Hangul fillers that render as blank space
    r"\u115f\u1160\u3164\uffa0"
    # tag characters (used to smuggle invisible ASCII)
    r"\U000e0000-\U000e007f"
    # lone surrogates (from surrogateescape decoding) cannot be encoded for the terminal
    r"\ud800-\udfff"
)
_DROP = re.compile(f"[{_DROP_CHARS}]")
# What may never reach a terminal as a character: everything _DROP removes plus ESC, tab, newline
# and CR (a drawn line holds none of them; Textual expands tabs and splits lines before drawing).
UNSAFE = re.compile(f"[{_DROP_CHARS}\x1b\t\n\r\u2028\u2029]")
# anything clean() would change: text without any of these is returned as it is, after one search
_NEEDS_CLEANING = re.compile(f"[{_DROP_CHARS}\\u2028\\u2029]")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_WHITESPACE_RUN = re.compile(r"[ \t\n\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def clean(text: str) -> str:
    """Remove everything from `text` that a terminal or the eye could be tricked by.

    Drops ANSI/CSI/OSC/DCS/SOS/PM/APC escape sequences (7-bit and 8-bit forms, with their
    payloads), other C0/C1 control characters except ``\\n`` and ``\\t``, bidi embeddings,
    overrides and isolates, zero-width and tag characters. ``\\r\\n``, ``\\r`` and the Unicode
    line/paragraph separators become ``\\n``. Rich markup is left as literal text: it is only
    dangerous when something parses it, and :func:`safe_text` never does.
    """
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if not _NEEDS_CLEANING.search(text):
        return text
    text = _ESCAPES.sub("", text)
    text = _NEWLINES.sub("\n", text)
    return _DROP.sub("", text)


def scrub(value):
    """`value` with every string in it passed through :func:`clean`: a str, or lists, tuples and
    dicts (keys too) of them, however nested; other values as they are. What the cache hands out
    for display goes through this, whatever its fields."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub(v) for v in value)
    return value


def _blank(match: "re.Match[str]") -> str:
    return " " * cell_len(match.group())


def inert(text: str) -> str:
    """`text` with every character in :data:`UNSAFE` replaced by as many spaces as it takes cells
    (most take none), so a drawn line keeps its width. The last line of defence, for text that is
    about to be written to the terminal: an escape sequence loses its ESC and shows as plain
    characters, a bidi override or C1 control is gone. Text that needs none of this is returned
    as it is (one regex search)."""
    if not UNSAFE.search(text):
        return text
    return UNSAFE.sub(_blank, text)


def safe_text(text: str, style: str | Style | None = None) -> Text:
    """A Rich ``Text`` holding `text` cleaned and literal: ``[bold]`` and ``[link=...]`` stay as
    characters, never markup. Tabs are expanded to spaces so cell widths stay true."""
    cleaned = clean(text)
    if "\t" in cleaned:
        cleaned = "\n".join(line.expandtabs(TAB_SIZE) for line in cleaned.split("\n"))
    return Text(cleaned, style=style or "", end="")


def one_line(text: str, width: int | None = None, ellipsis: str = "…") -> str:
    """`text` cleaned and folded onto one line, for list cells.

    Newlines, tabs and runs of whitespace become one space; leading/trailing space is stripped.
    With `width`, the result is at most `width` terminal cells, ending in `ellipsis` when cut
    (double-width characters are never split).
    """
    folded = _WHITESPACE_RUN.sub(" ", clean(text)).strip()
    if width is None:
        return folded
    if width <= 0:
        return ""
    if cell_len(folded) <= width:
        return folded
    budget = width - cell_len(ellipsis)
    if budget <= 0:
        return ellipsis[:width]
    out: list[str] = []
    used = 0
    for char in folded:
        w = cell_len(char)
        if used + w > budget:
            break
        out.append(char)
        used += w
    return "".join(out).rstrip() + ellipsis


# --- JSON for a terminal or a pipe ---------------------------------------------------------------
# Inside a JSON string json.dumps already escapes C0 controls, \t, \n and \r; a literal newline
# in its output is indentation. Every other UNSAFE character is escaped here.
_JSON_UNSAFE = re.compile(f"[{_DROP_CHARS}\x1b\u2028\u2029]")


def _json_escape(match: "re.Match[str]") -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # a tag character: written as its UTF-16 surrogate pair, as JSON wants
        code -= 0x10000
        return "\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))
    return "\\u%04x" % code


def _json_plain(value):
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else str(_json_plain(k))): _json_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN and infinities are not JSON
    if isinstance(value, (str, int, float)) or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


def json_text(value, indent: bool = True) -> str:
    """`value` as JSON that is safe to print: every character in :data:`UNSAFE` inside a string
    (escape, C1 controls, bidi overrides and isolates, zero-width and tag characters, lone
    surrogates, U+2028/2029) is written as a ``\\uXXXX`` escape, so the text holds none of them
    raw, and ``json.loads`` gives back the very same value (but for a lone high surrogate right
    before a lone low one: JSON reads that pair as one character). Other text (accents, CJK) is kept as
    it is. Dict keys that are not strings become strings; datetimes ISO 8601; Decimals strings;
    NaN and infinities null. The one JSON writer for every ``--json`` output of the CLI."""
    text = json.dumps(_json_plain(value), ensure_ascii=False, indent=2 if indent else None, allow_nan=False)
    return _JSON_UNSAFE.sub(_json_escape, text)
