"""A local cache filled from the real seeded backend, without HTTP (shared by the UI and macro tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import orjson

from backend import schema as S
from backend import service as svc
from backend.schema import make_engine
from backend.seed import seed
from storage.cache import Cache

FROZEN = 1795392000.0  # 2026-11-23 00:00 UTC


def pull_into(engine, cache: Cache) -> None:
    """Apply the backend's whole changes feed to the cache, as a first sync would (minus HTTP)."""
    cursor = 0
    with engine.connect() as conn:
        while True:
            page = svc.changes(conn, cursor, 5000)
            cache.apply_page(orjson.loads(orjson.dumps(page.body)), str(page.cursor))
            cursor = page.cursor
            if not page.has_more:
                break


def seeded_cache(tmp_path: Path, tickets: int = 200, now: float = FROZEN, name: str = "macro") -> Cache:
    engine = make_engine(f"sqlite:///{tmp_path / f'{name}-backend.db'}")
    seed(engine, tickets=tickets, now=now)
    cache = Cache.open(tmp_path / f"{name}-cache.db")
    pull_into(engine, cache)
    engine.dispose()
    return cache


# --- a desk: a seeded backend, changed through the service, pulled into a real cache ---------


def make_desk(tmp_path: Path, change: Optional[Callable] = None, tickets: int = 40) -> tuple[Cache, dict]:
    """A seeded backend, changed by `change(conn, made)` through the service, pulled into a real cache."""
    engine = make_engine(f"sqlite:///{tmp_path / 'backend.db'}")
    seed(engine, tickets=tickets, now=FROZEN)
    made: dict = {}
    if change is not None:
        with svc.write(engine) as conn:
            change(conn, made)
    cache = Cache.open(tmp_path / "cache.db")
    pull_into(engine, cache)
    engine.dispose()
    return cache, made


def add_customer(conn, name: str = "Dana Customer") -> int:
    """A new customer with no deposit addresses and no ledger yet."""
    return conn.execute(S.customers.insert().values(name=name, first_name=name.split()[0], email="dana@example.com",
                                                    updated_at=FROZEN, seq=svc.next_seq(conn))).inserted_primary_key[0]


def add_address(conn, customer_id: int, network: str, address: str, memo: Optional[str] = None, asset: str = "USDT") -> None:
    conn.execute(S.deposit_addresses.insert().values(customer_id=customer_id, network=network, asset=asset, address=address,
                                                     memo=memo, seq=svc.next_seq(conn)))


def add_ledger(conn, customer_id: int, txid: str, network: str, amount: str, output_index: int, status: str,
               asset: str = "USDT") -> None:
    conn.execute(S.deposits.insert().values(customer_id=customer_id, txid=txid, network=network, asset=asset, amount=amount,
                                            output_index=output_index, status=status, created_at=FROZEN, seq=svc.next_seq(conn)))


def customer_without_deposits(conn) -> int:
    from sqlalchemy import select

    with_deposits = select(S.deposits.c.customer_id)
    return conn.execute(select(S.customers.c.id).where(S.customers.c.id.not_in(with_deposits)).order_by(S.customers.c.id)).scalars().first()


def new_ticket(conn, body: str, *, customer_id: int = 3, subject: str = "Deposit not credited") -> int:
    t = svc.create_ticket(conn, subject=subject, queue="deposits", priority="high", channel="email", requester_id=customer_id,
                          body=body, now=FROZEN - 600, author_name="Dana Customer")
    return t["id"]
