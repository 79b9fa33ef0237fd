"""The changes feed itself (backend.service.changes), on SQLite and PostgreSQL: pages of exactly
`limit` rows in seq order across every table, nothing skipped or repeated at the page edges,
tombstones included, whatever the page size."""

from __future__ import annotations

import orjson
import pytest

from backend import schema as S
from backend import service as svc
from backend.seed import seed
from tests.conftest import database_url

NOW = 1795392000.0


@pytest.fixture(params=["sqlite", "pg"])
def engine(request, tmp_path):
    eng = S.make_engine(database_url(request.param, tmp_path))
    seed(eng, tickets=120, customers=40, now=NOW)
    with svc.write(eng) as conn:
        svc.delete_ticket(conn, 5)  # a tombstone in the middle of the feed
    yield eng
    eng.dispose()


def all_rows(conn) -> list[tuple[int, str]]:
    """(seq, kind) of every row the feed must deliver, straight from the tables."""
    out = []
    for key, (table, *_rest) in svc._FEED.items():
        out += [(r[0], key) for r in conn.exec_driver_sql(f"SELECT seq FROM {table}")]
    return sorted(out)


def walk(conn, limit: int) -> list[dict]:
    pages, cursor = [], 0
    while True:
        page = svc.changes(conn, cursor, limit)
        body = orjson.loads(orjson.dumps(page.body))
        pages.append({"body": body, "cursor": page.cursor, "has_more": page.has_more})
        assert page.cursor >= cursor
        cursor = page.cursor
        if not page.has_more:
            return pages


def count(body: dict) -> int:
    return sum(len(v) for k, v in body.items() if isinstance(v, list))


@pytest.mark.parametrize("limit", [1, 7, 100, 1000, 100_000])
def test_pages_hold_exactly_limit_rows_and_together_everything_once(engine, limit):
    with engine.connect() as conn:
        expected = all_rows(conn)
        pages = walk(conn, limit)
        head = svc.current_seq(conn)
    assert sum(count(p["body"]) for p in pages) == len(expected)
    assert all(count(p["body"]) == limit for p in pages[:-1]) and 0 < count(pages[-1]["body"]) <= limit
    assert pages[-1]["cursor"] == expected[-1][0] <= head
    tickets = [t["id"] for p in pages for t in p["body"].get("tickets", [])]
    assert len(tickets) == len(set(tickets)) == 119
    assert [i for p in pages for i in p["body"].get("deleted_tickets", [])] == [5]
    # each page's cursor is the last seq it delivered: the next page starts right after it
    edges = [p["cursor"] for p in pages]
    seqs = [s for s, _ in expected]
    for i, e in enumerate(edges[:-1]):
        assert seqs.index(e) == (i + 1) * limit - 1


def test_a_cursor_at_the_head_gives_an_empty_last_page(engine):
    with engine.connect() as conn:
        head = all_rows(conn)[-1][0]
        page = svc.changes(conn, head, 50)
    assert (count(page.body), page.cursor, page.has_more) == (0, head, False)


def add_personal_macro(conn, owner: int, mid: str) -> None:
    conn.execute(S.macros.insert().values(
        id=mid, key=mid, title=f"mine {mid}", category="", visibility="personal", owner_id=owner, shortcut="",
        bodies=orjson.dumps({"en": "text"}).decode(), actions="[]", usage_count=0, updated_at=NOW, version=1, deleted=False,
        seq=svc.next_seq(conn)))


@pytest.mark.parametrize("limit", [1, 3, 1000])
def test_an_agent_s_feed_leaves_out_other_agents_personal_macros_and_still_ends(engine, limit):
    with svc.write(engine) as conn:
        add_personal_macro(conn, 2, "riya-1")
        add_personal_macro(conn, 1, "alex-1")
        add_personal_macro(conn, 2, "riya-2")  # the very last rows of the feed are someone else's
        add_personal_macro(conn, 2, "riya-3")
    with engine.connect() as conn:
        head = svc.current_seq(conn)

        def macro_ids(agent_id):
            ids, cursor, pages = [], 0, 0
            while True:
                page = svc.changes(conn, cursor, limit, agent_id=agent_id)
                ids += [orjson.loads(orjson.dumps(m))["id"] for m in page.body.get("macros", [])]
                assert page.cursor > cursor or not page.has_more
                cursor, pages = page.cursor, pages + 1
                assert pages < 10_000
                if not page.has_more:
                    return ids, cursor

        alex, end = macro_ids(1)
        assert "alex-1" in alex and not {"riya-1", "riya-2", "riya-3"} & set(alex) and end == head
        riya, end = macro_ids(2)
        assert {"riya-1", "riya-2", "riya-3"} <= set(riya) and "alex-1" not in riya and end == head
        everyone, _ = macro_ids(None)  # the desk's own tools (no agent) see every macro
        assert {"alex-1", "riya-1", "riya-2", "riya-3"} <= set(everyone)
