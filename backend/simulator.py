"""Live traffic for the demo: new tickets, customer follow-ups and other agents' work, at a set rate."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Optional

import anyio
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from backend import schema as S
from backend import seed as seeding
from backend import service as svc


class Simulator:
    def __init__(self, rate_per_minute: float = 20.0, seed_value: Optional[int] = None, protected_agents: tuple[int, ...] = (1, 2, 3)):
        self.rate = max(0.1, rate_per_minute)
        self.rng = random.Random(seed_value)
        self.protected = set(protected_agents)  # the demo users: the simulator never acts as them
        self.events = 0

    async def run(self, engine: Engine) -> None:
        while True:
            await asyncio.sleep(self.rng.expovariate(self.rate / 60.0))
            try:
                await anyio.to_thread.run_sync(self.step, engine)
            except Exception:
                # a busy database or a vanished ticket: traffic simply carries on
                await asyncio.sleep(1)

    def step(self, engine: Engine, now: Optional[float] = None) -> str:
        now = time.time() if now is None else now
        r = self.rng.random()
        with svc.write(engine) as conn:
            if r < 0.45:
                return self._new_ticket(conn, now)
            if r < 0.75:
                return self._customer_follow_up(conn, now)
            return self._other_agent(conn, now)

    def _new_ticket(self, conn, now: float) -> str:
        top = conn.execute(select(func.max(S.customers.c.id))).scalar() or 0
        if not top:
            return "idle"
        cid = self.rng.randint(1, top)
        cust = conn.execute(select(S.customers).where(S.customers.c.id == cid)).one()
        topic = seeding._pick(self.rng, seeding.TOPIC_WEIGHTS)
        subject, body = seeding.TEXTS[topic].get(cust.language) or seeding.TEXTS[topic]["en"]
        network, asset, _w, (lo, hi) = self.rng.choices(seeding.NETWORKS, weights=[n[2] for n in seeding.NETWORKS])[0]
        body = body.format(amount=f"{self.rng.uniform(lo, hi):.2f}", asset=asset, network=network, txid=seeding.make_txid(self.rng, network))
        queue = "vip" if cust.tier == "vip" else seeding.TOPIC_QUEUE[topic]
        svc.create_ticket(conn, subject=subject, queue=queue, priority=self.rng.choices(["low", "normal", "high", "urgent"], weights=[15, 55, 22, 8])[0],
                          channel=self.rng.choice(["chat", "email", "telegram", "phone"]), requester_id=cid, body=body,
                          language=cust.language, tags=[topic], now=now, author_name=cust.name)
        self.events += 1
        return "new_ticket"

    def _random_ticket(self, conn, statuses: tuple[str, ...]):
        ids = conn.execute(
            select(S.tickets.c.id).where(S.tickets.c.status.in_(statuses), S.tickets.c.deleted.is_(False))
            .order_by(S.tickets.c.updated_at.desc()).limit(200)
        ).scalars().all()
        return self.rng.choice(ids) if ids else None

    def _customer_follow_up(self, conn, now: float) -> str:
        tid = self._random_ticket(conn, ("open", "pending"))
        if tid is None:
            return "idle"
        t = svc.get_ticket(conn, tid)
        name = conn.execute(select(S.customers.c.name).where(S.customers.c.id == t.requester_id)).scalar() or ""
        text = self.rng.choice(["Any update on this?", "Hello? Still nothing.", "¿Hay novedades?", "Есть новости?", "Herhangi bir gelişme var mı?", "有进展吗？"])
        svc.add_message(conn, tid, kind="customer", body=text, author_id=None, author_name=name, now=now)
        self.events += 1
        return "customer_message"

    def _other_agent(self, conn, now: float) -> str:
        tid = self._random_ticket(conn, ("new", "open"))
        if tid is None:
            return "idle"
        t = svc.get_ticket(conn, tid)
        if t.assignee_id in self.protected:
            return "idle"  # never touch what the demo user is working on
        agents = conn.execute(select(S.agents.c.id, S.agents.c.name).where(S.agents.c.role == "agent")).all()
        helpers = [a for a in agents if a.id not in self.protected]
        if not helpers:
            return "idle"
        who = self.rng.choice(helpers)
        if self.rng.random() < 0.6:
            svc.add_message(conn, tid, kind="reply", body=self.rng.choice(seeding.AGENT_REPLIES), author_id=who.id,
                            author_name=who.name, now=now)
            if t.assignee_id is None:
                svc.claim_ticket(conn, tid, who.id, now=now)
            self.events += 1
            return "agent_reply"
        svc.update_ticket(conn, tid, {"status": "solved"}, if_match=None, agent_id=who.id, now=now)
        self.events += 1
        return "solved"
