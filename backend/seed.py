"""Demo data: a realistic crypto-exchange support desk, made deterministically from a seed.

Five queues, agents with the three roles, customers writing in several languages, deposit
addresses on Bitcoin, Ethereum, BSC, Tron and XRP, a deposit ledger, SLA policies, macros and
the exchange's asset/network configuration, and a few thousand tickets in every state.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from typing import TYPE_CHECKING, Any, Iterable, Optional

import base58
import bech32
import orjson
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from agent_tui import sla as sla_engine
from backend import schema as S
from backend import service as svc

if TYPE_CHECKING:
    from backend.demo_chain import DemoChain

QUEUES = [
    ("deposits", "Deposits & withdrawals"),
    ("security", "Account security"),
    ("kyc", "KYC & verification"),
    ("trading", "Trading"),
    ("vip", "VIP desk"),
    ("recovery", "Deposit recovery"),
]

DEMO_AGENTS = [
    # (name, role, token) -- the demo signs in with these tokens
    ("Alex Morgan", "agent", "demo-agent"),
    ("Riya Patel", "recovery", "demo-recovery"),
    ("Sam Okafor", "supervisor", "demo-supervisor"),
]
OTHER_AGENTS = [
    "Bea Schmidt", "Chen Wei", "Dmitri Volkov", "Elena García", "Farid Haddad", "Grace Kim", "Hugo Martin",
    "Ines Costa", "Jonas Berg", "Kemal Yilmaz", "Lena Novak", "Marco Rossi",
]

FIRST = {
    "en": ["James", "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Mia"],
    "ru": ["Алексей", "Мария", "Иван", "Анна", "Дмитрий", "Ольга"],
    "uk": ["Олена", "Тарас", "Оксана", "Андрій"],
    "es": ["Carlos", "Lucía", "Javier", "Sofía", "Mateo", "Valentina"],
    "tr": ["Emre", "Zeynep", "Mehmet", "Elif", "Burak"],
    "zh": ["伟", "芳", "娜", "强", "磊"],
    "pt": ["João", "Ana", "Pedro", "Beatriz"],
    "de": ["Lukas", "Lea", "Felix", "Hannah"],
}
LAST = {
    "en": ["Smith", "Johnson", "Brown", "Taylor", "Wilson"],
    "ru": ["Иванов", "Смирнова", "Кузнецов", "Попова"],
    "uk": ["Шевченко", "Коваленко", "Бондаренко"],
    "es": ["García", "Martínez", "López", "Sánchez"],
    "tr": ["Yılmaz", "Kaya", "Demir", "Çelik"],
    "zh": ["王", "李", "张", "刘"],
    "pt": ["Silva", "Santos", "Oliveira"],
    "de": ["Müller", "Schmidt", "Schneider"],
}
LANG_WEIGHTS = [("en", 40), ("ru", 12), ("uk", 5), ("es", 12), ("tr", 10), ("zh", 10), ("pt", 6), ("de", 5)]

# What customers write, per topic and language. {txid}, {network}, {asset}, {amount} are filled in.
TEXTS = {
    "deposit": {
        "en": ("Deposit not credited", "Hi, I sent {amount} {asset} on {network} two hours ago and it is still not in my account. TxID: {txid}"),
        "ru": ("Депозит не зачислен", "Здравствуйте, я отправил {amount} {asset} через {network}, но средства не поступили. TxID: {txid}"),
        "uk": ("Депозит не зарахований", "Добрий день, я надіслала {amount} {asset} у мережі {network}, але кошти не надійшли. TxID: {txid}"),
        "es": ("Depósito no acreditado", "Hola, envié {amount} {asset} por {network} y todavía no aparece en mi cuenta. TxID: {txid}"),
        "tr": ("Yatırım hesaba geçmedi", "Merhaba, {network} ağı üzerinden {amount} {asset} gönderdim ama hesabıma yansımadı. TxID: {txid}"),
        "zh": ("充值未到账", "你好，我通过 {network} 网络充值了 {amount} {asset}，但是还没有到账。交易哈希：{txid}"),
        "pt": ("Depósito não creditado", "Olá, enviei {amount} {asset} pela rede {network} e ainda não caiu na conta. TxID: {txid}"),
        "de": ("Einzahlung nicht gutgeschrieben", "Hallo, ich habe {amount} {asset} über {network} gesendet, aber nichts ist angekommen. TxID: {txid}"),
    },
    "memo": {
        "en": ("Forgot the destination tag", "I sent {amount} XRP without the destination tag. Can you recover it? Hash {txid}"),
        "ru": ("Забыл тег назначения", "Я отправил {amount} XRP без тега назначения. Можно вернуть? Хэш {txid}"),
        "es": ("Olvidé el destination tag", "Envié {amount} XRP sin el destination tag, ¿pueden recuperarlo? Hash {txid}"),
        "tr": ("Hedef etiketi unuttum", "{amount} XRP'yi hedef etiketi olmadan gönderdim. Kurtarabilir misiniz? Hash {txid}"),
        "zh": ("忘记填写标签", "我转了 {amount} XRP 但是忘记填写目标标签，可以找回吗？哈希 {txid}"),
    },
    "withdrawal": {
        "en": ("Withdrawal stuck in processing", "My withdrawal of {amount} {asset} has been processing for 3 hours. Please check."),
        "ru": ("Вывод завис", "Мой вывод {amount} {asset} обрабатывается уже 3 часа. Проверьте, пожалуйста."),
        "es": ("Retiro en proceso", "Mi retiro de {amount} {asset} lleva 3 horas en proceso."),
        "tr": ("Çekim işlemi bekliyor", "{amount} {asset} çekimim 3 saattir işlemde görünüyor."),
        "zh": ("提现一直在处理中", "我的 {amount} {asset} 提现已经处理了3个小时了。"),
        "de": ("Auszahlung hängt", "Meine Auszahlung über {amount} {asset} ist seit 3 Stunden in Bearbeitung."),
    },
    "security": {
        "en": ("Account locked after password reset", "I reset my password and now withdrawals are locked for 24 hours. Why?"),
        "ru": ("Аккаунт заблокирован", "После смены пароля вывод заблокирован на 24 часа. Почему?"),
        "es": ("Cuenta bloqueada", "Cambié mi contraseña y ahora los retiros están bloqueados 24 horas."),
        "tr": ("Hesabım kilitlendi", "Şifremi sıfırladım ve çekimler 24 saat kilitlendi."),
        "zh": ("账户被锁定", "我重置了密码，现在提现被锁定24小时，为什么？"),
        "uk": ("Акаунт заблоковано", "Після зміни пароля виведення заблоковано на 24 години."),
    },
    "2fa": {
        "en": ("Lost my 2FA device", "I lost my phone with the authenticator app. How do I reset 2FA?"),
        "ru": ("Потерял устройство 2FA", "Я потерял телефон с приложением-аутентификатором. Как сбросить 2FA?"),
        "es": ("Perdí mi dispositivo 2FA", "Perdí el teléfono con la app de autenticación. ¿Cómo restablezco el 2FA?"),
        "pt": ("Perdi meu 2FA", "Perdi o celular com o autenticador. Como redefinir o 2FA?"),
    },
    "kyc": {
        "en": ("Verification rejected", "My ID verification was rejected but the photo is clear. What is wrong?"),
        "ru": ("Верификация отклонена", "Мою верификацию отклонили, хотя фото четкое. В чем проблема?"),
        "es": ("Verificación rechazada", "Rechazaron mi verificación de identidad, pero la foto es clara."),
        "tr": ("Kimlik doğrulama reddedildi", "Kimlik doğrulamam reddedildi ama fotoğraf net."),
        "zh": ("身份认证被拒绝", "我的身份认证被拒绝了，但照片很清楚。"),
        "de": ("Verifizierung abgelehnt", "Meine Identitätsprüfung wurde abgelehnt, obwohl das Foto klar ist."),
    },
    "trading": {
        "en": ("Order filled at a strange price", "My limit order on BTC/USDT was filled far from the price I set. Please explain."),
        "ru": ("Ордер исполнен по странной цене", "Мой лимитный ордер BTC/USDT исполнен далеко от цены. Объясните, пожалуйста."),
        "es": ("Orden ejecutada a un precio extraño", "Mi orden límite en BTC/USDT se ejecutó lejos del precio."),
        "tr": ("Emir garip fiyattan gerçekleşti", "BTC/USDT limit emrim belirlediğim fiyattan uzak gerçekleşti."),
        "zh": ("订单成交价格异常", "我的 BTC/USDT 限价单成交价格和我设定的相差很大。"),
    },
}
TOPIC_QUEUE = {"deposit": "deposits", "memo": "deposits", "withdrawal": "deposits", "security": "security",
               "2fa": "security", "kyc": "kyc", "trading": "trading"}
TOPIC_WEIGHTS = [("deposit", 30), ("memo", 6), ("withdrawal", 14), ("security", 10), ("2fa", 8), ("kyc", 16), ("trading", 16)]

AGENT_REPLIES = [
    "Thanks for reaching out. I am looking into this now and will update you shortly.",
    "I have checked your account and escalated this to the responsible team.",
    "Could you please confirm the network you used and the exact amount?",
    "The issue is resolved on our side. Please check your balance and let us know.",
]
NOTES = [
    "Checked the ledger: no record yet. Looking the tx up on-chain.",
    "Customer is VIP, keep them updated every hour.",
    "Escalated to the wallet team (ticket WAL-2231).",
]
# A few customers paste things that must render inert (markup, terminal escapes).
HOSTILE = [
    "[bold red]URGENT[/] please [link=https://evil.example]click[/link] \x1b[2J\x1b]52;c;cGF3bmVk\x07 my deposit is missing",
    "Payment \x1b[31mfailed\x1b[0m?? \x1b]8;;https://phish.example\x1b\\support\x1b]8;;\x1b\\ told me to write here\x07",
]

NETWORKS: list[tuple[str, str, int, tuple[float, float]]] = [
    # network, asset, weight, amount range
    ("bitcoin", "BTC", 20, (0.001, 0.5)),
    ("ethereum", "USDT", 25, (50, 5000)),
    ("ethereum", "ETH", 10, (0.05, 3)),
    ("bsc", "USDT", 15, (20, 3000)),
    ("tron", "USDT", 25, (10, 8000)),
    ("xrp", "XRP", 10, (20, 5000)),
]

EXCHANGE_XRP_ADDRESS = "rLNaPoKeeBjZe2qs6x52yVPZpZ8td4dc6w"  # the exchange's shared XRP deposit account (memo-routed)


def _pick(rng: random.Random, weighted: list) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def _segwit(hrp: str, program: bytes) -> str:
    address = bech32.encode(hrp, 0, program)
    assert address is not None  # None only for a program of a length no witness version has; ours is 20 bytes
    return address


def make_address(rng: random.Random, network: str) -> tuple[str, Optional[str]]:
    raw = bytes(rng.getrandbits(8) for _ in range(20))
    if network in ("ethereum", "bsc"):
        return "0x" + raw.hex(), None
    if network == "tron":
        return base58.b58encode_check(b"\x41" + raw).decode(), None
    if network == "bitcoin":
        return _segwit("bc", raw), None
    if network == "litecoin":
        return _segwit("ltc", raw), None
    if network == "xrp":
        return EXCHANGE_XRP_ADDRESS, str(rng.randint(100000, 99999999))
    raise ValueError(network)


def make_txid(rng: random.Random, network: str) -> str:
    h = "%064x" % rng.getrandbits(256)
    if network in ("ethereum", "bsc"):
        return "0x" + h
    if network == "xrp":
        return h.upper()
    return h


def default_policies() -> list[sla_engine.Policy]:
    """The demo desk's policies. Reply clocks never pause (Zendesk's first and next reply time);
    where a clock pauses it is asked for by its Zendesk name: deposit tickets wait on a chain or
    another team (on hold) and on the customer (pending), so their time to solve is agent work
    time and their updates are pausable (they stop only while the customer owes an answer); a
    VIP waits through on hold too, so the VIP desk's time to solve is requester wait time."""
    T = sla_engine.Target
    office = sla_engine.Calendar(
        tz="Europe/Malta",
        hours={d: [("08:00", "20:00")] for d in range(5)},
        holidays=frozenset({"2026-12-25", "2026-12-26", "2027-01-01"}),
    )
    return [
        sla_engine.Policy(id=1, name="VIP desk", position=1, queues=("vip",), at_risk_minutes=10,
                          targets=(T("first_reply_time", 15), T("next_reply_time", 30), T("pausable_update", 120), T("requester_wait_time", 8 * 60))),
        sla_engine.Policy(id=2, name="Urgent", position=2, priorities=("urgent",), at_risk_minutes=10,
                          targets=(T("first_reply_time", 20), T("next_reply_time", 30), T("agent_work_time", 6 * 60))),
        sla_engine.Policy(id=3, name="Live chat and Telegram", position=3, channels=("chat", "telegram"),
                          targets=(T("first_reply_time", 30), T("next_reply_time", 45), T("agent_work_time", 12 * 60))),
        sla_engine.Policy(id=4, name="Deposits and security", position=4, queues=("deposits", "security"),
                          targets=(T("first_reply_time", 60), T("next_reply_time", 120), T("pausable_update", 24 * 60), T("agent_work_time", 24 * 60))),
        sla_engine.Policy(id=5, name="Standard (business hours)", position=5, calendar=office,
                          targets=(T("first_reply_time", 4 * 60, True), T("next_reply_time", 8 * 60, True), T("agent_work_time", 3 * 12 * 60, True))),
    ]


def _asset_config() -> list[dict]:
    from agent_tui.chains.config import default_asset_config

    return default_asset_config()["networks"]


def _macros() -> list[dict]:
    from agent_tui.macros.defaults import default_macros

    return [m.to_dict() for m in default_macros()]


def seed(engine: Engine, *, tickets: int = 2400, customers: Optional[int] = None, seed_value: int = 7,
         now: Optional[float] = None, messages: bool = True, hostile: bool = True,
         demo_chain: Optional["DemoChain"] = None) -> dict:
    """Fill an empty backend database with a demo desk. Returns counts.

    With a demo_chain (backend.demo_chain, SIMULATED), every deposit ticket tells one deposit story:
    its txid is a transaction put on that chain (or on none, for "not found"), the ledger holds what
    the exchange recorded of it, and the stories come back under "stories". The chain's transactions
    are also stored in demo_chain_txs. It draws from its own random stream: everything else on the
    desk is the same as without it.
    """
    rng = random.Random(seed_value)
    now = time.time() if now is None else now
    n_customers = customers or max(50, tickets // 2)
    S.create_schema(engine)
    with svc.write(engine) as conn:
        seq = svc.next_seq(conn, 0)

        def nxt() -> int:
            nonlocal seq
            seq += 1
            return seq

        conn.execute(insert(S.queues), [{"id": q, "name": n, "position": i, "seq": nxt()} for i, (q, n) in enumerate(QUEUES)])
        agent_rows: list[dict[str, Any]] = [{"name": n, "email": n.split()[0].lower() + "@desk.example", "role": r, "token": t,
                       "presence": "online", "current_ticket_id": None, "updated_at": now, "seq": nxt()} for n, r, t in DEMO_AGENTS]
        for n in OTHER_AGENTS:
            agent_rows.append({"name": n, "email": n.split()[0].lower() + "@desk.example", "role": "agent",
                               "token": uuid.UUID(int=rng.getrandbits(128)).hex, "presence": rng.choice(["online", "online", "away", "offline"]),
                               "current_ticket_id": None, "updated_at": now, "seq": nxt()})
        conn.execute(insert(S.agents), agent_rows)
        agent_ids = list(range(1, len(agent_rows) + 1))
        agent_names = {i + 1: r["name"] for i, r in enumerate(agent_rows)}

        for p in default_policies():
            policy = sla_engine.policy_to_dict(p)
            conn.execute(insert(S.sla_policies).values(id=p.id, name=p.name, position=p.position, body=orjson.dumps(policy).decode(), seq=nxt()))
        for net in _asset_config():
            conn.execute(insert(S.assets).values(network=net["network"], body=orjson.dumps(net).decode(), seq=nxt()))
        for m in _macros():
            conn.execute(insert(S.macros).values(
                id=m.get("id") or m["key"], key=m["key"], title=m["title"], category=m.get("category", ""),
                visibility=m.get("visibility", "shared"), owner_id=m.get("owner_id"), shortcut=m.get("shortcut", ""),
                bodies=orjson.dumps(m["bodies"]).decode(), actions=orjson.dumps(m.get("actions", [])).decode(),
                usage_count=m.get("usage_count", 0), updated_at=now, version=1, deleted=False, seq=nxt()))

        cust_rows: list[dict[str, Any]] = []
        addr_rows: list[dict[str, Any]] = []
        cust_lang: dict[int, str] = {}
        cust_addr: dict[int, list[tuple[str, str, str, Optional[str]]]] = {}
        for cid in range(1, n_customers + 1):
            lang = _pick(rng, LANG_WEIGHTS)
            first = rng.choice(FIRST[lang])
            last = rng.choice(LAST[lang])
            name = f"{last}{first}" if lang == "zh" else f"{first} {last}"
            tier = rng.choices(["standard", "silver", "gold", "vip"], weights=[70, 15, 10, 5])[0]
            cust_rows.append({"id": cid, "name": name, "first_name": first, "email": f"user{cid}@mail.example", "tier": tier,
                              "language": lang, "kyc_status": rng.choices(["verified", "pending", "none", "rejected"], weights=[80, 8, 7, 5])[0],
                              "updated_at": now, "version": 1, "seq": nxt()})
            cust_lang[cid] = lang
            cust_addr[cid] = []
            for network, asset in (("bitcoin", "BTC"), ("ethereum", "USDT"), ("bsc", "USDT"), ("tron", "USDT"), ("xrp", "XRP")):
                address, memo = make_address(rng, network)
                cust_addr[cid].append((network, asset, address, memo))
                addr_rows.append({"customer_id": cid, "network": network, "asset": asset, "address": address, "memo": memo, "seq": nxt()})
        conn.execute(insert(S.customers), cust_rows)
        conn.execute(insert(S.deposit_addresses), addr_rows)

        policies = default_policies()
        deposit_rows, ticket_rows, message_rows, event_rows = [], [], [], []
        planner, stories = None, []
        if demo_chain is not None:
            from backend.demo_chain import DepositTicket, ScenarioPlanner

            planner = ScenarioPlanner(random.Random(f"demo-chain:{seed_value}"), now, demo_chain)
        for tid in range(1, tickets + 1):
            cid = rng.randint(1, n_customers)
            lang = cust_lang[cid]
            topic = _pick(rng, TOPIC_WEIGHTS)
            queue = TOPIC_QUEUE[topic]
            tier = cust_rows[cid - 1]["tier"]
            if tier == "vip" and rng.random() < 0.6:
                queue = "vip"
            network, asset, _w, (lo, hi) = rng.choices(NETWORKS, weights=[n[2] for n in NETWORKS])[0]
            if topic == "memo":
                network, asset, lo, hi = "xrp", "XRP", 20, 5000
            amount = f"{rng.uniform(lo, hi):.{2 if hi > 10 else 6}f}"
            txid = make_txid(rng, network)
            texts = TEXTS[topic]
            subject, template = texts.get(lang) or texts["en"]
            body = template.format(amount=amount, asset=asset, network=network, txid=txid)
            if hostile and tid in (7, 19):
                body = HOSTILE[0 if tid == 7 else 1]
            if topic == "deposit" and rng.random() < 0.5:
                ledger_status, seen_at = rng.choice(["credited", "pending"]), now - rng.uniform(0, 86400 * 3)
                if planner is None:  # (drawn either way: the demo chain leaves the desk's random stream alone)
                    deposit_rows.append({"customer_id": cid, "txid": txid, "network": network, "asset": asset, "amount": amount,
                                         "output_index": 0, "status": ledger_status, "created_at": seen_at, "seq": nxt()})
            created = now - rng.uniform(60, 3 * 86400) ** 1.0 * (rng.random() ** 2)
            created = min(created, now - 30)
            if planner is not None and topic in ("deposit", "memo") and not (hostile and tid in (7, 19)):
                story = planner.story(DepositTicket(tid, cid, cust_addr[cid], topic, created))
                stories.append(story)
                network = story.claimed
                body = template.format(amount=story.amount, asset=story.asset, network=story.claimed, txid=story.txid)
                if story.ledger:
                    deposit_rows.append({"customer_id": cid, **story.ledger, "seq": nxt()})
            channel = rng.choices(["chat", "email", "telegram", "phone", "web"], weights=[30, 35, 20, 10, 5])[0]
            priority = rng.choices(["low", "normal", "high", "urgent"], weights=[15, 55, 22, 8])[0]
            if tier == "vip" and priority in ("low", "normal"):
                priority = "high"
            age = now - created
            r = rng.random()
            if age < 900 or (age < 3 * 3600 and r < 0.5):
                status = "new"
            elif r < 0.30:
                status = "solved"
            elif r < 0.36:
                status = "closed"
            elif r < 0.50:
                status = "pending"
            elif r < 0.56:
                status = "on_hold"
            else:
                status = "open"
            assignee = None if status == "new" or rng.random() < 0.15 else rng.choice(agent_ids)
            events: list[tuple[float, str, Optional[str]]] = [(created, "created", "new"), (created, "customer_message", None)]
            msgs: list[tuple[float, str, Optional[int], str, str]] = [(created, "customer", None, cust_rows[cid - 1]["name"], body)]
            first_reply = solved_at = None
            replies = 0
            t = created
            if status != "new":
                t = created + rng.uniform(60, min(age * 0.6, 6 * 3600))
                first_reply = t
                replies = 1
                who = assignee or rng.choice(agent_ids)
                events += [(t, "agent_reply", None), (t, "status", "open")]
                msgs.append((t, "reply", who, agent_names[who], rng.choice(AGENT_REPLIES)))
                if rng.random() < 0.3:
                    t2 = t + rng.uniform(30, 600)
                    events.append((t2, "internal_note", None))
                    msgs.append((t2, "note", who, agent_names[who], rng.choice(NOTES)))
                if status in ("pending", "on_hold", "solved", "closed"):
                    t3 = t + rng.uniform(60, max(120, (now - t) * 0.5))
                    events.append((t3, "status", status if status != "closed" else "solved"))
                    if status in ("solved", "closed"):
                        solved_at = t3
                    if status == "closed":
                        events.append((t3 + 60, "status", "closed"))
                elif rng.random() < 0.5:
                    t3 = t + rng.uniform(60, max(120, (now - t) * 0.8))
                    events.append((t3, "customer_message", None))
                    msgs.append((t3, "customer", None, cust_rows[cid - 1]["name"], rng.choice(["Any update?", "Still waiting…", "¿Alguna novedad?", "Есть новости?", "有进展吗？"])))
            due, sla_json = svc.evaluate_sla(policies, queue, priority, channel, events, now)
            tags = [topic, network] if queue == "deposits" else [topic]
            ticket_rows.append({
                "id": tid, "subject": subject, "queue": queue, "status": status, "priority": priority, "channel": channel,
                "requester_id": cid, "assignee_id": assignee, "tags": orjson.dumps(tags).decode(), "language": lang,
                "created_at": created, "updated_at": max(e[0] for e in events), "version": 1 + len(events) - 2,
                "first_reply_at": first_reply, "solved_at": solved_at, "sla_due": due, "sla": sla_json,
                "agent_replies": replies, "reopens": 0, "escalated": rng.random() < 0.05,
                "csat": rng.choices([None, 5, 4, 3, 2, 1], weights=[40, 35, 12, 6, 4, 3])[0] if solved_at else None,
                "deleted": False, "merged_into": None, "seq": nxt(),
            })
            for at, kind, status_ in events:
                event_rows.append({"ticket_id": tid, "at": at, "kind": kind, "status": status_, "agent_id": None})
            if messages:
                for at, kind, author_id, author_name, text in msgs:
                    message_rows.append({"id": str(uuid.UUID(int=rng.getrandbits(128))), "ticket_id": tid, "kind": kind,
                                         "author_id": author_id, "author_name": author_name, "body": text, "created_at": at, "seq": nxt()})
        for chunk in _chunks(ticket_rows, 5000):
            conn.execute(insert(S.tickets), chunk)
        sla_rows = [r for t in ticket_rows for r in S.ticket_sla_rows(t["id"], t["created_at"], t["sla"])]
        for chunk in _chunks(sla_rows, 5000):  # the SLA state's plain-column copy (schema.ticket_sla)
            conn.execute(insert(S.ticket_sla), chunk)
        for chunk in _chunks(message_rows, 5000):
            conn.execute(insert(S.messages), chunk)
        for chunk in _chunks(event_rows, 5000):
            conn.execute(insert(S.ticket_events), chunk)
        if deposit_rows:
            conn.execute(insert(S.deposits), deposit_rows)
        if demo_chain is not None:
            demo_chain.save(conn)
        conn.execute(S.counters.update().where(S.counters.c.name == "seq").values(value=seq))
        _fix_sequences(conn)
    counts: dict[str, Any] = {"tickets": tickets, "customers": n_customers, "messages": len(message_rows), "agents": len(agent_rows)}
    if demo_chain is not None:
        counts.update(demo_transactions=len(demo_chain), stories=stories)
    return counts


def _chunks(rows: list, n: int) -> Iterable[list]:
    for i in range(0, len(rows), n):
        yield rows[i:i + n]


def _fix_sequences(conn) -> None:
    """We inserted explicit ids; move PostgreSQL's sequences past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("agents", "customers", "deposit_addresses", "deposits", "tickets", "ticket_events", "sla_policies"):
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


def token_for(role: str) -> str:
    return {r: t for _n, r, t in DEMO_AGENTS}[role]


def database_url_from_env(default_path: str) -> str:
    return os.environ.get("AGENT_TUI_DATABASE_URL") or f"sqlite:///{default_path}"
