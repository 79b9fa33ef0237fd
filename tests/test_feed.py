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
