"""Hostile text for every field: payloads that a terminal would act on, and a desk filled with them.

Each payload carries a marker naming the field it was put in, so a leak says where it came from.
The desk is made generically, from the backend's table metadata: every text column of every
table the changes feed carries gets payloads (a column added later gets them too), except the
few that are keys or secrets the server itself relies on.
"""

from __future__ import annotations

import base64
import re
from typing import Callable

import orjson
from sqlalchemy import String, Text, select, update

from backend import schema as S


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


# (name, make(marker) -> text)
PAYLOADS: list[tuple[str, Callable[[str], str]]] = [
    ("osc52", lambda f: f"{f} \x1b]52;c;{_b64('bc1qATTACKER ' + f)}\x07 clip"),
    ("osc52_st", lambda f: f"{f} \x1b]52;c;{_b64('bc1qATTACKER ' + f)}\x1b\\ clip"),
    ("osc8", lambda f: f"\x1b]8;;https://evil.example/{f}\x1b\\{f} link\x1b]8;;\x1b\\"),
    ("csi_clear", lambda f: f"{f}\x1b[2J\x1b[1;1H\x1b[31m cleared"),
    ("dcs", lambda f: f"{f} \x1bP1$q{f}\x1b\\ \x1b_apc\x1b\\ dcs"),
    ("c1", lambda f: f"{f} \x9b2J\x9d52;c;{_b64(f)}\x9c\x85\x8d c1"),
    ("bidi", lambda f: f"{f} \u202egnp.exe\u2066x\u2069\u200b\u200f bidi"),
    ("markup", lambda f: f"[link=https://evil.example/{f}]{f}[/link] [@click=app.quit]quit[/] [reverse]rev"),
    ("long", lambda f: f"{f} " + "W" * 10_000),
    ("controls", lambda f: f"{f}\x00\x07\x08\x7f\r\x0bctl"),
]

# Columns the server itself relies on as keys, secrets or permissions: hostile values there are a
# different test (the backend's validation), not what the client shows.
KEEP = {("agents", "token"), ("agents", "role"), ("macros", "id"), ("messages", "id"), ("queues", "id"),
        ("tickets", "queue"), ("macros", "visibility"), ("macros", "key"), ("macros", "shortcut"),
        # the protocol's vocabulary (the server only stores values of it): a ticket whose status is
        # not one of them is in no view, so the screens of a ticket could not be reached
        ("tickets", "status"), ("tickets", "priority"), ("tickets", "channel"), ("messages", "kind")}
FEED_TABLES = ("agents", "customers", "deposit_addresses", "deposits", "macros", "messages", "queues", "tickets",
               "sla_policies")
TXID = "20b984492b5264160fd8d6ec3e9f7d2c0ac6e0a1a0e0e3a1b9f0a1c2d3e4f5a6"  # 64 hex: the look-up finds it


def payload(i: int, marker: str) -> str:
    return PAYLOADS[i % len(PAYLOADS)][1](marker)


def _json_hostile(table: str, col: str, value, rid: int):
    data = orjson.loads(value) if value else None
    mark = f"{table[:3]}.{col}#{rid}"
    if table == "tickets" and col == "tags":
        return [payload(rid + k, f"{mark}.{k}")[:200] for k in range(3)]
    if table == "tickets" and col == "sla" and isinstance(data, list):
        return [{**m, "metric": payload(rid + k, f"{mark}.{k}")[:120]} for k, m in enumerate(data)]
    if table == "macros" and col == "bodies" and isinstance(data, dict):
        return {lang: payload(rid + k, f"{mark}.{lang}") + " {{ customer.first_name }}" for k, lang in enumerate(data)}
    if table == "sla_policies" and col == "body" and isinstance(data, dict):
        return {**data, "name": payload(rid, mark)}
    return data


def make_hostile(engine) -> None:
    """Overwrite every text field of every fed table (see KEEP) with payloads, row by row."""
    with engine.begin() as conn:
        for name in FEED_TABLES:
            table = S.metadata.tables[name]
            pk = list(table.primary_key.columns)[0]
            text_cols = [c for c in table.columns if isinstance(c.type, (String, Text)) and (name, c.name) not in KEEP]
            rows = conn.execute(select(pk, *text_cols)).all()
            for i, row in enumerate(rows):
                rid = row[0] if isinstance(row[0], int) else i
                values = {}
                for c in text_cols:
                    old = row._mapping[c.name]
                    if c.name in ("tags", "sla", "bodies", "actions", "body") and name in ("tickets", "macros", "sla_policies"):
                        new = _json_hostile(name, c.name, old, rid)
                        if new is not None:
                            values[c.name] = orjson.dumps(new).decode()
                        continue
                    marker = f"{name[:3]}.{c.name}#{rid}"
                    text = payload(i + len(values), marker)
                    if name == "messages" and c.name == "body":
                        text = f"{old}\nmy deposit {TXID} {text}"
                    if isinstance(c.type, String) and c.type.length:
                        text = text[: c.type.length]
                    values[c.name] = text
                if values:
                    conn.execute(update(table).where(pk == row[0]).values(**values))


# --- scanning what the program wrote -----------------------------------------------------------

# What Textual itself writes (measured on a clean run): SGR colours, cursor moves, DEC private
# modes and their queries, the kitty keyboard protocol, and OSC 22 (the mouse pointer shape).
_OURS = re.compile(r"\x1b\[[0-9;?<>=$]*[mHhlpu]|\x1b\]22;[a-z-]+(?:\x07|\x1b\\)")
_ANY_ESC = re.compile(r"\x1b")
# every character that a terminal acts on or that reorders or hides text
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f"
                     "\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]")


def scan(raw: bytes) -> list[str]:
    """Everything in the program's output that is not inert text or one of Textual's own
    sequences, with some context each: empty means nothing hostile reached the terminal."""
    text = raw.decode("utf-8", errors="surrogateescape")
    problems = []
    pos = 0
    rest = []
    for m in _ANY_ESC.finditer(text):
        if m.start() < pos:
            continue
        ours = _OURS.match(text, m.start())
        rest.append(text[pos:m.start()])
        if ours:
            pos = ours.end()
        else:
            problems.append(f"escape sequence {text[m.start():m.start() + 40]!r}")
            pos = m.start() + 1
    rest.append(text[pos:])
    plain = "".join(rest).replace("\r", "").replace("\n", "")
    for m in _UNSAFE.finditer(plain):
        problems.append(f"control character {m.group()!r} in {plain[max(0, m.start() - 30):m.start() + 10]!r}")
    if re.search(r"[\ud800-\udfff]", plain):
        problems.append("bytes that are not UTF-8")
    return problems
