"""The field types of the API's request bodies: lengths, charsets and no control characters.

Everything a client sends is stored and then synced to every agent's terminal, so the server
refuses what no field should hold, with a 422 that names the field, instead of storing it (or
failing on it: PostgreSQL cannot store NUL, and no database can store a lone surrogate):

* identifiers and codes (tags, language codes, queue ids, macro keys and shortcuts): a small
  charset, no spaces, no controls;
* names and titles (subjects, macro titles, categories): one line, no control, format (bidi,
  zero-width) or tag characters;
* text (message and macro bodies): any line of text, but no NUL, no other C0/C1 control except
  tab and newline (CR is accepted, as mail has it), no lone surrogates.

The limits are in the OpenAPI schema too (maxLength, pattern), so a client written from
/openapi.json knows them.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

# characters no name, title, tag or code may hold: C0 and C1 controls, DEL, and the format
# characters that reorder or hide text (bidi embeddings, overrides, isolates; zero-width; BOM;
# interlinear annotation; tag characters) and lone surrogates
_NOT_IN_NAMES = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\ud800-\udfff\U000e0000-\U000e007f]")
# a subject is written by the customer: right-to-left and left-to-right marks (RLM, LRM, ALM) are
# how Arabic and Hebrew mail keeps punctuation in place, so they stay; overrides and isolates go
_NOT_IN_SUBJECTS = re.compile(_NOT_IN_NAMES.pattern.replace("\u200b-\u200f", "\u200b-\u200d").replace("\u061c", ""))
# in text: controls but tab, newline and CR; lone surrogates. Bidi marks stay (Arabic and Hebrew
# text uses them); the client draws text through its render boundary anyway.
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _describe(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def _name(value: str, pattern: re.Pattern = _NOT_IN_NAMES) -> str:
    m = pattern.search(value)
    if m:
        raise ValueError(f"must be one line of plain text ({_describe(m.group())} is a control or format character)")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _text(value: str) -> str:
    m = _NOT_IN_TEXT.search(value)
    if m:
        raise ValueError(f"contains a control character ({_describe(m.group())})")
    return value


TAG_PATTERN = r"^[\w.:+/#@-]+$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$"  # BCP 47 as desks use it: en, pt-BR, zh-Hant
IDENT_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"

Tag = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=TAG_PATTERN)]
Tags = Annotated[list[Tag], Field(max_length=50, description="At most 50 tags of 1-64 characters: letters, digits and _ . : + / # @ -")]
LanguageCode = Annotated[str, StringConstraints(min_length=2, max_length=35, pattern=LANGUAGE_PATTERN)]
QueueId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=IDENT_PATTERN)]
MacroKey = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
Shortcut = Annotated[str, StringConstraints(max_length=64, pattern=r"^[a-z0-9_]*$")]
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


def _subject(value: str) -> str:
    """One line a customer wrote (a ticket's subject): as _name(), but bidi marks are kept."""
    return _name(value, _NOT_IN_SUBJECTS)


def _optional_name(value: str) -> str:
    """Like _name(), and may be empty (a category)."""
    return _name(value) if value else value


# Written out rather than made by a function, so that a type checker reads them as types.
# Text: lines and tabs allowed (a message or macro body).
Body = Annotated[str, StringConstraints(min_length=1, max_length=64_000), AfterValidator(_text)]
# One line of plain text: a ticket's subject, a macro's title, a macro's category (may be empty).
Subject = Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(_subject)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_name)]
Category = Annotated[str, StringConstraints(max_length=100), AfterValidator(_optional_name)]
