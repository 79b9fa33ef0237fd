"""Live traffic for the demo: new tickets, customer follow-ups and other agents' work, at a set rate.

Given the demo's simulated chain (backend.demo_chain), each new deposit ticket tells a deposit story as
the seeded ones do: its txid is a transaction put on that chain (or on none, for "not found"), with
the ledger row the exchange holds, so a look-up on it reaches a verdict instead of "not found".
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING, Optional

import anyio
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from backend import schema as S
from backend import seed as seeding
from backend import service as svc

if TYPE_CHECKING:
    from backend.demo_chain import DemoChain, Story


class Simulator:
    def __init__(self, rate_per_minute: float = 20.0, seed_value: Optional[int] = None, protected_agents: tuple[int, ...] = (1, 2, 3),
                 chain: Optional["DemoChain"] = None):
        self.rate = max(0.1, rate_per_minute)
        self.rng = random.Random(seed_value)
        self.protected = set(protected_agents)  # the demo users: the simulator never acts as them
        self.events = 0
        self.chain = chain
        self.planner = None
        self.stories: list["Story"] = []
        if chain is not None:
            from backend.demo_chain import ScenarioPlanner

            self.planner = ScenarioPlanner(random.Random(f"simulator:{seed_value}"), time.time(), chain)

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
        template = body
        body = template.format(amount=f"{self.rng.uniform(lo, hi):.2f}", asset=asset, network=network, txid=seeding.make_txid(self.rng, network))
        story = self._story(conn, cid, topic, now) if self.planner is not None and topic in ("deposit", "memo") else None
        if story is not None:
            body = template.format(amount=story.amount, asset=story.asset, network=story.claimed, txid=story.txid)
        queue = "vip" if cust.tier == "vip" else seeding.TOPIC_QUEUE[topic]
        t = svc.create_ticket(conn, subject=subject, queue=queue, priority=self.rng.choices(["low", "normal", "high", "urgent"], weights=[15, 55, 22, 8])[0],
                              channel=self.rng.choice(["chat", "email", "telegram", "phone"]), requester_id=cid, body=body,
                              language=cust.language, tags=[topic], now=now, author_name=cust.name)
        if story is not None:
            story.ticket_id = t["id"]
            self.stories.append(story)
        self.events += 1
        return "new_ticket"

    def _story(self, conn, cid: int, topic: str, now: float) -> Optional["Story"]:
        """One deposit story on the demo chain for a new ticket: the transaction is stored in
        demo_chain_txs and the ledger row in deposits (inside the caller's transaction)."""
        from backend.demo_chain import DemoTx, DepositTicket

        addresses = [tuple(r) for r in conn.execute(
            select(S.deposit_addresses.c.network, S.deposit_addresses.c.asset, S.deposit_addresses.c.address, S.deposit_addresses.c.memo)
            .where(S.deposit_addresses.c.customer_id == cid).order_by(S.deposit_addresses.c.id))]
        planner, chain = self.planner, self.chain
        assert planner is not None and chain is not None  # set up before the first event
        planner.now = now
        scratch = type(chain)(clock=chain.clock)  # written here first: the chain only sees the story once it is stored
        planner.chain = scratch
        try:
            story = planner.story(DepositTicket(0, cid, addresses, topic, now))
        except KeyError:
            return None  # a customer without an address on the story's network (not in a seeded desk)
        finally:
            planner.chain = chain
        new: list[DemoTx] = list(scratch.txs.values())
        if new:
            scratch.save(conn)
        if story.ledger:
            conn.execute(S.deposits.insert().values(customer_id=cid, seq=svc.next_seq(conn), **story.ledger))
        for tx in new:
            chain.add(tx)
        return story

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
