"""The demo chain: a SIMULATED ledger of deposit transactions for `agent-tui demo`. Not a blockchain.

No consensus, no signatures that verify, no real funds: a handful of made-up transactions, one per
deposit ticket of the demo desk, served on 127.0.0.1 through the wire protocols the look-up's
providers speak, so the look-up works with no internet:

  /evm/1, /evm/56      EVM JSON-RPC (ethereum, bsc): eth_chainId, eth_blockNumber,
                       eth_getTransactionByHash (null when unknown), eth_getTransactionReceipt
                       (null while pending; ERC-20 Transfer logs; status 0x0 for a revert)
  /esplora/bitcoin     Esplora REST: GET /tx/:txid (404 "Transaction not found", 400 "Invalid hex
                       string"), /tx/:txid/status, /blocks/tip/height and /blocks/tip/hash (plain text)
  /tron                TronGrid: POST /wallet/gettransactionbyid, /wallet/gettransactioninfobyid
                       ({} when unknown; TRC-20 logs; OUT_OF_ENERGY), /wallet/getnowblock
  /xrp                 rippled JSON-RPC `tx` (API v2 `tx_json` layout, v1 flat layout without
                       api_version; DestinationTag, delivered_amount, validated; txnNotFound)
  /health              says, in so many words, that all of this is simulated

Every chain's tip follows the clock (12 s a block on ethereum, 3 s on bsc and tron, 4 s a ledger on
the XRP Ledger, 600 s on bitcoin), from fixed anchors, so the heights look like mainnet's. A
transaction carries the height it is mined at: beyond the tip it is still in the mempool, so
"pending" becomes "insufficient confirmations" and then confirmed while the demo runs; null, it
never gets mined (a stuck, underpriced transaction).

`make_demo_chain` (pure) writes the deposit stories, one scenario per ticket, spread across the
look-up's verdict codes; `backend.seed.seed(..., demo_chain=DemoChain())` tells them in the
tickets, the deposit ledger and the `demo_chain_txs` table, and `create_app` serves them.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import base58
import bech32
import orjson
from eth_hash.auto import keccak
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from agent_tui.chains.addresses import tron_base58_to_hex
from agent_tui.chains.config import default_asset_config, env_name, network_entry
from agent_tui.chains.providers.common import TRANSFER_SELECTOR, TRANSFER_TOPIC, fmt_units
from backend import schema as S

LABEL = "agent-tui demo chain: SIMULATED transactions for the demo, not a real blockchain"
NETWORKS = ("bitcoin", "ethereum", "bsc", "tron", "xrp")
EVM_CHAINS = {1: "ethereum", 56: "bsc"}

# network -> (anchor unix time, height at that time, seconds per block): real mainnet blocks
# (bitcoin 848136, the Merge, tron 69316562, XRPL ledger 56865245; bsc approximate), then regular blocks
CHAIN_TIME: dict[str, tuple[int, int, int]] = {
    "bitcoin": (1718517071, 848136, 600),
    "ethereum": (1663224179, 15537394, 12),
    "bsc": (1700000000, 33300000, 3),
    "tron": (1738601505, 69316562, 3),
    "xrp": (1594932820, 56865245, 4),
}
RIPPLE_EPOCH = 946684800
TRON_SOLID_LAG = 19  # Tron's solidified block trails the head by about 19 blocks
EXCHANGE_XRP_ADDRESS = "rLNaPoKeeBjZe2qs6x52yVPZpZ8td4dc6w"  # as backend.seed: the shared, tag-routed account

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")  # a txid as Esplora, TronGrid and rippled take it (fullmatch)


def height_at(network: str, t: float) -> int:
    anchor, height, every = CHAIN_TIME[network]
    return height + int((t - anchor) // every)


def time_of(network: str, height: int) -> int:
    anchor, h0, every = CHAIN_TIME[network]
    return anchor + (height - h0) * every


def _digest(*parts: Any) -> bytes:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()


def block_hash(network: str, height: int) -> str:
    """A made-up but stable hash per block, in the chain's own notation."""
    h = _digest("demo-block", network, height).hex()
    if network == "bitcoin":
        return "0" * 19 + h[19:]
    if network == "tron":
        return f"{height:016x}" + h[16:]
    if network == "xrp":
        return h.upper()
    return "0x" + h


def _key(txid: str) -> str:
    s = str(txid).strip().lower()
    return s[2:] if s.startswith("0x") else s


# --- the chain state ------------------------------------------------------------------------


@dataclass
class DemoTx:
    network: str
    txid: str  # as the chain's API writes it: 0x-lower (EVM), lower (bitcoin, tron), upper (XRP)
    body: dict  # the transaction as its API shows it, without the block fields (added when served)
    block: Optional[int] = None  # the height it is mined at; None: never


class DemoChain:
    """The simulated transactions and the clock their tips follow (inject one in tests)."""

    def __init__(self, txs: Iterable[DemoTx] = (), clock: Callable[[], float] = time.time):
        self.clock = clock
        self.txs: dict[tuple[str, str], DemoTx] = {}
        for tx in txs:
            self.add(tx)

    def __len__(self) -> int:
        return len(self.txs)

    def add(self, tx: DemoTx) -> DemoTx:
        self.txs[(tx.network, _key(tx.txid))] = tx
        return tx

    def get(self, network: str, txid: str) -> Optional[DemoTx]:
        return self.txs.get((network, _key(txid)))

    def tip(self, network: str) -> int:
        return height_at(network, self.clock())

    def mined(self, tx: DemoTx, tip: Optional[int] = None) -> bool:
        return tx.block is not None and tx.block <= (self.tip(tx.network) if tip is None else tip)

    def rows(self) -> list[dict]:
        return [{"network": t.network, "txid": t.txid, "body": orjson.dumps(t.body).decode(), "block": t.block}
                for t in self.txs.values()]

    def save(self, conn) -> int:
        """Write every transaction into demo_chain_txs (inside the caller's transaction)."""
        rows = self.rows()
        for i in range(0, len(rows), 2000):
            conn.execute(insert(S.demo_chain_txs), rows[i:i + 2000])
        return len(rows)

    @classmethod
    def load(cls, engine: Engine, clock: Callable[[], float] = time.time) -> "DemoChain":
        with engine.connect() as conn:
            rows = conn.execute(select(S.demo_chain_txs)).all()
        return cls((DemoTx(r.network, r.txid, orjson.loads(r.body), r.block) for r in rows), clock=clock)


# --- what each API answers ------------------------------------------------------------------


def evm_view(chain: DemoChain, tx: DemoTx, tip: int) -> tuple[dict, Optional[dict]]:
    """(eth_getTransactionByHash, eth_getTransactionReceipt): no block and no receipt while pending."""
    body = tx.body
    if not chain.mined(tx, tip):
        return {**body["tx"], "blockHash": None, "blockNumber": None, "transactionIndex": None}, None
    where = {"blockHash": block_hash(tx.network, tx.block), "blockNumber": hex(tx.block), "transactionIndex": body["transactionIndex"]}
    stamp = hex(time_of(tx.network, tx.block))
    receipt = dict(body["receipt"])
    receipt["logs"] = [{**log, **where, "blockTimestamp": stamp, "transactionHash": tx.txid, "removed": False} for log in receipt["logs"]]
    return {**body["tx"], **where}, {**receipt, **where}


def esplora_view(chain: DemoChain, tx: DemoTx, tip: int) -> dict:
    if not chain.mined(tx, tip):
        return {**tx.body, "status": {"confirmed": False}}
    return {**tx.body, "status": {"confirmed": True, "block_height": tx.block, "block_hash": block_hash("bitcoin", tx.block),
                                  "block_time": time_of("bitcoin", tx.block)}}


def tron_view(chain: DemoChain, tx: DemoTx, tip: int) -> tuple[dict, dict]:
    """(gettransactionbyid, gettransactioninfobyid): the info is {} until the block."""
    if not chain.mined(tx, tip):
        return {k: v for k, v in tx.body["tx"].items() if k != "ret"}, {}
    info = dict(tx.body["info"])
    info["blockNumber"] = tx.block
    info["blockTimeStamp"] = time_of("tron", tx.block) * 1000
    return tx.body["tx"], info


def xrp_view(chain: DemoChain, tx: DemoTx, tip: int, api_version: int) -> dict:
    """rippled's `result` for `tx`: v2 nests the transaction in tx_json, v1 is flat with Amount."""
    body = tx.body
    tx_json = dict(body["tx_json"])
    validated = chain.mined(tx, tip)
    extra: dict[str, Any] = {}
    if validated:
        closed = time_of("xrp", tx.block)
        ctid = f"C{tx.block:07X}{body['meta']['TransactionIndex']:04X}0000"
        tx_json.update({"ledger_index": tx.block, "date": closed - RIPPLE_EPOCH, "ctid": ctid})
        extra = {"meta": body["meta"], "ledger_index": tx.block, "ledger_hash": block_hash("xrp", tx.block),
                 "close_time_iso": datetime.fromtimestamp(closed, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "ctid": ctid}
    if api_version >= 2:
        return {"tx_json": tx_json, "hash": tx.txid, **extra, "validated": validated, "status": "success"}
    flat = {**tx_json, "hash": tx.txid}
    if "DeliverMax" in flat:
        flat["Amount"] = flat["DeliverMax"]
    if validated:
        flat["inLedger"] = tx.block
        flat["meta"] = body["meta"]
    return {**flat, "validated": validated, "status": "success"}


# --- the ASGI app ---------------------------------------------------------------------------


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


async def _json_body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return ValueError  # a sentinel: not JSON


def create_app(chain: DemoChain) -> Starlette:
    """The demo chain's HTTP API (see the module docstring for the paths)."""

    async def health(request: Request) -> Response:
        counts = Counter(t.network for t in list(chain.txs.values()))  # list(): the simulator adds from another thread
        return _json({
            "status": "ok", "simulated": True, "service": LABEL,
            "warning": "Every transaction here is made up for the agent-tui demo; none exists on a real chain.",
            "networks": {n: {"tip": chain.tip(n), "transactions": counts.get(n, 0)} for n in NETWORKS},
        })

    # EVM JSON-RPC
    def evm_call(network: str, chain_id: int, req: Any) -> dict:
        if not isinstance(req, dict) or not isinstance(req.get("method"), str):
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}
        rid, method, params = req.get("id"), req["method"], req.get("params") or []

        def ok(result: Any) -> dict:
            return {"jsonrpc": "2.0", "id": rid, "result": result}

        if method == "eth_chainId":
            return ok(hex(chain_id))
        if method == "net_version":
            return ok(str(chain_id))
        if method == "web3_clientVersion":
            return ok("agent-tui-demo-chain/SIMULATED")
        if method == "eth_blockNumber":
            return ok(hex(chain.tip(network)))
        if method in ("eth_getTransactionByHash", "eth_getTransactionReceipt"):
            h = params[0] if isinstance(params, list) and params else None
            if not isinstance(h, str) or not re.fullmatch(r"0x[0-9a-fA-F]{64}", h):
                return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": "invalid argument 0: hex string of 32 bytes expected"}}
            tx = chain.get(network, h)
            if tx is None:
                return ok(None)
            t, receipt = evm_view(chain, tx, chain.tip(network))
            return ok(t if method == "eth_getTransactionByHash" else receipt)
        return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": f"the method {method[:60]} does not exist/is not available"}}

    async def evm(request: Request) -> Response:
        chain_id = request.path_params["chain_id"]
        network = EVM_CHAINS.get(chain_id)
        if network is None:
            return PlainTextResponse("Not Found", status_code=404)
        body = await _json_body(request)
        if body is ValueError:
            return _json({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
        if isinstance(body, list):
            return _json([evm_call(network, chain_id, r) for r in body])
        return _json(evm_call(network, chain_id, body))

    # Esplora
    async def esplora_tx(request: Request) -> Response:
        txid = request.path_params["txid"]
        if not _HEX64.fullmatch(txid):
            return PlainTextResponse("Invalid hex string", status_code=400)
        tx = chain.get("bitcoin", txid)
        if tx is None:
            return PlainTextResponse("Transaction not found", status_code=404)
        return _json(esplora_view(chain, tx, chain.tip("bitcoin")))

    async def esplora_status(request: Request) -> Response:
        txid = request.path_params["txid"]
        if not _HEX64.fullmatch(txid):
            return PlainTextResponse("Invalid hex string", status_code=400)
        tx = chain.get("bitcoin", txid)
        # like electrs: an unknown txid is "not confirmed" here, not a 404 (use /tx/:txid to tell)
        return _json(esplora_view(chain, tx, chain.tip("bitcoin"))["status"] if tx else {"confirmed": False})

    async def esplora_tip_height(request: Request) -> Response:
        return PlainTextResponse(str(chain.tip("bitcoin")))

    async def esplora_tip_hash(request: Request) -> Response:
        return PlainTextResponse(block_hash("bitcoin", chain.tip("bitcoin")))

    # TronGrid
    async def tron(request: Request) -> Response:
        method = request.path_params["method"]
        body = await _json_body(request) if request.method == "POST" else {}
        if body is ValueError or not isinstance(body, (dict, type(None))):
            return _json({"Error": "class org.json.JSONException : invalid JSON"}, status=400)
        body = body or {}
        if request.url.path.startswith("/tron/walletsolidity/") and method != "getnowblock":
            return PlainTextResponse("Not Found", status_code=404)  # only the solidified head is served there
        if method == "getnowblock":
            tip = chain.tip("tron") - (TRON_SOLID_LAG if request.url.path.startswith("/tron/walletsolidity/") else 0)
            return _json({"blockID": block_hash("tron", tip), "block_header": {"raw_data": {
                "number": tip, "txTrieRoot": "0" * 64, "witness_address": "41" + _digest("witness", tip % 27).hex()[:40],
                "parentHash": block_hash("tron", tip - 1), "version": 31, "timestamp": time_of("tron", tip) * 1000}}})
        if method in ("gettransactionbyid", "gettransactioninfobyid"):
            tx = chain.get("tron", str(body.get("value") or ""))
            if tx is None:
                return _json({})
            t, info = tron_view(chain, tx, chain.tip("tron"))
            return _json(t if method == "gettransactionbyid" else info)
        return PlainTextResponse("Not Found", status_code=404)

    # rippled JSON-RPC
    async def xrp(request: Request) -> Response:
        body = await _json_body(request)
        if body is ValueError or not isinstance(body, dict):
            return _json({"result": {"error": "invalidParams", "error_code": 31, "error_message": "Unable to parse request.", "status": "error"}}, 400)
        params = (body.get("params") or [{}])[0]
        params = params if isinstance(params, dict) else {}
        request_echo = {"command": body.get("method"), **params}
        if body.get("method") == "ledger" and params.get("ledger_index") == "validated":
            tip = chain.tip("xrp")
            return _json({"result": {"ledger": {"closed": True, "ledger_index": str(tip), "ledger_hash": block_hash("xrp", tip)},
                                     "ledger_hash": block_hash("xrp", tip), "ledger_index": tip, "validated": True, "status": "success"}})
        if body.get("method") != "tx":
            return _json({"result": {"error": "unknownCmd", "error_code": 32, "error_message": "Unknown method.", "request": request_echo, "status": "error"}})
        api_version = params.get("api_version", 1)
        if api_version not in (1, 2):
            return _json({"result": {"error": "invalid_API_version", "error_code": 6, "error_message": "Invalid API version.", "request": request_echo, "status": "error"}})
        h = str(params.get("transaction") or "")
        if not _HEX64.fullmatch(h):
            return _json({"result": {"error": "notImpl", "error_code": 74, "error_message": "Not implemented.", "request": request_echo, "status": "error"}})
        tx = chain.get("xrp", h)
        if tx is None:
            return _json({"result": {"error": "txnNotFound", "error_code": 29, "error_message": "Transaction not found.", "request": request_echo, "status": "error"}})
        return _json({"result": xrp_view(chain, tx, chain.tip("xrp"), api_version)})

    return Starlette(routes=[
        Route("/health", health),
        Route("/evm/{chain_id:int}", evm, methods=["POST"]),
        Route("/esplora/bitcoin/tx/{txid}", esplora_tx),
        Route("/esplora/bitcoin/tx/{txid}/status", esplora_status),
        Route("/esplora/bitcoin/blocks/tip/height", esplora_tip_height),
        Route("/esplora/bitcoin/blocks/tip/hash", esplora_tip_hash),
        Route("/tron/wallet/{method}", tron, methods=["GET", "POST"]),
        Route("/tron/walletsolidity/{method}", tron, methods=["GET", "POST"]),
        Route("/xrp", xrp, methods=["POST"]),
    ])


def endpoint_env(base_url: str) -> dict[str, str]:
    """AGENT_TUI_RPC_<NETWORK> for each network the demo chain serves, with the provider kind."""
    u = base_url.rstrip("/")
    urls = {"ethereum": f"evm+{u}/evm/1", "bsc": f"evm+{u}/evm/56", "bitcoin": f"esplora+{u}/esplora/bitcoin",
            "tron": f"tron+{u}/tron", "xrp": f"xrpl+{u}/xrp"}
    return {env_name(n): v for n, v in urls.items()}


# --- the deposit stories ------------------------------------------------------------------------

# deposit tickets take the codes in this order, round and round (memo tickets are all missing_memo)
ROTATION = ("needs_manual_credit", "insufficient_confirmations", "wrong_network", "missing_memo", "credited", "pending",
            "failed", "wrong_address", "wrong_memo", "unsupported_token", "below_minimum", "not_found")

# (network, asset) -> (low, high, places): what customers deposit (as backend.seed.NETWORKS)
AMOUNTS = {
    ("bitcoin", "BTC"): (0.001, 0.5, 6), ("ethereum", "USDT"): (50, 5000, 2), ("ethereum", "ETH"): (0.05, 3, 4),
    ("bsc", "USDT"): (20, 3000, 2), ("tron", "USDT"): (10, 8000, 2), ("xrp", "XRP"): (20, 5000, 2),
}


@dataclass(frozen=True)
class DepositTicket:
    ticket_id: int
    customer_id: int
    addresses: Sequence[Sequence[Any]]  # (network, asset, address, memo), as backend.seed makes them
    topic: str = "deposit"  # "deposit", or "memo" (the customer says they forgot the tag)
    created_at: Optional[float] = None


@dataclass
class Story:
    """One deposit ticket's scenario: what the customer writes, what the chain and the ledger hold."""

    ticket_id: int
    customer_id: int
    code: str  # the verdict the look-up reaches (at the seed's `now`)
    network: Optional[str]  # where the transaction is; None: nowhere
    claimed: str  # the network the customer names
    asset: str  # what the customer says they sent
    amount: str
    txid: str  # as the customer pastes it
    ledger: Optional[dict] = None  # the exchange's ledger row: network, asset, amount, output_index, status, created_at
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


class ScenarioPlanner:
    """Writes one story per deposit ticket onto a DemoChain. Deterministic for a given rng and `now`."""

    def __init__(self, rng: random.Random, now: float, chain: Optional[DemoChain] = None, asset_config: Optional[Mapping] = None):
        self.rng = rng
        self.now = float(now)
        self.chain = chain if chain is not None else DemoChain()
        self.assets = asset_config or default_asset_config()
        self.turn = 0
        self.seen: Counter = Counter()

    def story(self, ticket: DepositTicket) -> Story:
        if ticket.topic == "memo":
            code = "missing_memo"
        else:
            code = ROTATION[self.turn % len(ROTATION)]
            self.turn += 1
        variants = _VARIANTS[code]
        k = self.seen[code]
        self.seen[code] += 1
        story = variants[k % len(variants)](self, ticket)
        assert story.code == code
        return story

    # listing
    def listing(self, network: str, asset: str) -> dict:
        for a in network_entry(self.assets, network)["assets"]:
            if a["asset"] == asset:
                return a
        raise KeyError((network, asset))

    def required(self, network: str) -> int:
        return int(network_entry(self.assets, network).get("required_confirmations") or 1)

    # made-up things
    def hexbytes(self, n: int) -> str:
        return "%0*x" % (2 * n, self.rng.getrandbits(8 * n))

    def txid(self, network: str) -> str:
        h = self.hexbytes(32)
        return "0x" + h if network in ("ethereum", "bsc") else (h.upper() if network == "xrp" else h)

    def address(self, network: str) -> str:
        raw = bytes.fromhex(self.hexbytes(20))
        if network in ("ethereum", "bsc"):
            return "0x" + raw.hex()
        if network == "tron":
            return base58.b58encode_check(b"\x41" + raw).decode()
        if network == "bitcoin":
            return bech32.encode("bc", 0, raw)
        if network == "xrp":
            return base58.b58encode_check(b"\x00" + raw, alphabet=base58.RIPPLE_ALPHABET).decode()
        raise ValueError(network)

    def own(self, ticket: DepositTicket, network: str) -> tuple[str, Optional[str]]:
        for net, _asset, address, memo in ticket.addresses:
            if net == network:
                return address, memo
        raise KeyError(f"customer {ticket.customer_id} has no {network} address")

    def amount(self, network: str, asset: str) -> Decimal:
        lo, hi, places = AMOUNTS[(network, asset)]
        return round(Decimal(str(self.rng.uniform(lo, hi))), places)

    def below_minimum(self, network: str, asset: str) -> Decimal:
        listing = self.listing(network, asset)
        minimum = Decimal(str(listing["min_deposit"]))
        places = min(int(listing["decimals"]), AMOUNTS[(network, asset)][2])
        return max(round(minimum * Decimal(str(self.rng.uniform(0.1, 0.9))), places), Decimal(1).scaleb(-places))

    def raw(self, network: str, asset: str, amount: Decimal) -> int:
        return int(amount.scaleb(int(self.listing(network, asset)["decimals"])))

    # where in the chain
    def tip(self, network: str) -> int:
        return height_at(network, self.now)

    def deep(self, network: str, ticket: DepositTicket) -> int:
        """Mined before the customer wrote, with more than the required confirmations by now."""
        sent = min(ticket.created_at or self.now, self.now) - self.rng.uniform(300, 3 * 3600)
        return min(height_at(network, sent), self.tip(network) - self.required(network) - self.rng.randint(0, 3))

    def fresh(self, network: str) -> int:
        """In a block, with 1 .. required-1 confirmations now."""
        return self.tip(network) - self.rng.randint(0, max(0, self.required(network) - 2))

    def later(self, network: str) -> int:
        """Still in the mempool now; mined some minutes into the demo."""
        return height_at(network, self.now + self.rng.uniform(240, 2400))

    # transactions, per chain
    def evm(self, network: str, recipient: str, *, contract: Optional[str] = None, raw: int = 0, wei: int = 0,
            block: Optional[int], ok: bool = True) -> tuple[DemoTx, Optional[int]]:
        """An ERC-20 transfer (contract) or a native payment (wei); the transfer's log index."""
        chain_id = next(c for c, n in EVM_CHAINS.items() if n == network)
        sender, txid = self.address(network), self.txid(network)
        to = contract or recipient
        data = "0x" + (TRANSFER_SELECTOR + recipient[2:].rjust(64, "0") + f"{raw:064x}" if contract else "")
        gas = 65000 if contract else 21000
        used = (self.rng.randint(34000, 52000) if ok else self.rng.randint(22000, 30000)) if contract else 21000
        price = self.rng.randint(1, 40) * 10**9 if network == "ethereum" else self.rng.choice([1, 3]) * 10**9
        log_index = self.rng.randint(0, 320) if contract and ok else None
        logs = []
        if contract and ok:
            logs.append({"address": contract, "topics": ["0x" + TRANSFER_TOPIC, "0x" + sender[2:].rjust(64, "0"), "0x" + recipient[2:].rjust(64, "0")],
                         "data": f"0x{raw:064x}", "logIndex": hex(log_index)})
        tx = {"type": "0x2", "chainId": hex(chain_id), "nonce": hex(self.rng.randint(0, 4000)), "gas": hex(gas),
              "maxFeePerGas": hex(price * 2), "maxPriorityFeePerGas": hex(10**9), "gasPrice": hex(price), "to": to,
              "value": hex(wei), "accessList": [], "input": data, "r": "0x" + self.hexbytes(32), "s": "0x" + self.hexbytes(32),
              "yParity": "0x0", "v": "0x0", "hash": txid, "from": sender}
        if network == "bsc":  # legacy transactions, EIP-155 v
            for k in ("maxFeePerGas", "maxPriorityFeePerGas", "accessList", "yParity"):
                tx.pop(k)
            tx.update(type="0x0", v=hex(chain_id * 2 + 35 + self.rng.randint(0, 1)))
        receipt = {"type": tx["type"], "status": "0x1" if ok else "0x0", "cumulativeGasUsed": hex(used + self.rng.randint(0, 9_000_000)),
                   "logs": logs, "logsBloom": _bloom(logs), "transactionHash": txid, "gasUsed": hex(used), "effectiveGasPrice": hex(price),
                   "from": sender, "to": to, "contractAddress": None}
        body = {"tx": tx, "receipt": receipt, "transactionIndex": hex(self.rng.randint(0, 180))}
        return self.chain.add(DemoTx(network, txid, body, block)), log_index

    def btc(self, recipient: str, sats: int, *, block: Optional[int]) -> tuple[DemoTx, int]:
        """A segwit payment: the recipient's output and the sender's change, in random order."""
        sender = self.address("bitcoin")
        fee = self.rng.randint(141 * 2, 141 * 60)
        change = self.rng.randint(5_000, 40_000_000)
        outs = [(recipient, sats), (sender, change)]
        if self.rng.random() < 0.5:
            outs.reverse()
        vout = [_p2wpkh_out(a, v) for a, v in outs]
        txid = self.txid("bitcoin")
        body = {
            "txid": txid, "version": 2, "locktime": 0,
            "vin": [{"txid": self.hexbytes(32), "vout": self.rng.randint(0, 3), "prevout": _p2wpkh_out(sender, sats + change + fee),
                     "scriptsig": "", "scriptsig_asm": "", "witness": ["30440220" + self.hexbytes(64) + "01", "02" + self.hexbytes(32)],
                     "is_coinbase": False, "sequence": 4294967293}],
            "vout": vout, "size": 222, "weight": 561, "fee": fee,
        }
        return self.chain.add(DemoTx("bitcoin", txid, body, block)), next(i for i, (a, _) in enumerate(outs) if a == recipient)

    def trc20(self, contract: str, recipient: str, raw: int, *, block: Optional[int], ok: bool = True) -> tuple[DemoTx, Optional[int]]:
        sender = self.address("tron")
        txid = self.txid("tron")
        contract_hex, sender_hex, to_hex = (tron_base58_to_hex(a) for a in (contract, sender, recipient))
        now_ms = int(self.now * 1000)
        tx = {
            "ret": [{"contractRet": "SUCCESS" if ok else "OUT_OF_ENERGY"}],
            "signature": [self.hexbytes(65)],
            "txID": txid,
            "raw_data": {
                "contract": [{"parameter": {"value": {
                    "data": TRANSFER_SELECTOR + "0" * 22 + to_hex + f"{raw:064x}",
                    "owner_address": sender_hex, "contract_address": contract_hex},
                    "type_url": "type.googleapis.com/protocol.TriggerSmartContract"}, "type": "TriggerSmartContract"}],
                "ref_block_bytes": self.hexbytes(2), "ref_block_hash": self.hexbytes(8),
                "expiration": now_ms + 60_000, "fee_limit": 100_000_000, "timestamp": now_ms,
            },
        }
        energy = self.rng.randint(14000, 65000)
        info: dict[str, Any] = {"id": txid, "fee": energy * 210 if ok else 0, "contractResult": ["0" * 64 if ok else ""],
                                "contract_address": contract_hex}
        if ok:
            info["receipt"] = {"energy_usage_total": energy, "energy_fee": energy * 210, "net_usage": 345, "result": "SUCCESS"}
            info["log"] = [{"address": contract_hex[2:], "topics": [TRANSFER_TOPIC, "0" * 24 + sender_hex[2:], "0" * 24 + to_hex[2:]],
                            "data": f"{raw:064x}"}]
        else:
            info["receipt"] = {"energy_usage": 16, "energy_usage_total": 16, "net_usage": 345, "result": "OUT_OF_ENERGY"}
            info["result"] = "FAILED"
            info["resMessage"] = ("Not enough energy for 'MSTORE' operation executing: curInvokeEnergyLimit[16], "
                                  "curOpEnergy[10], penaltyEnergy[12], usedEnergy[12]").encode().hex()
        return self.chain.add(DemoTx("tron", txid, {"tx": tx, "info": info}, block)), (0 if ok else None)

    def xrp(self, destination: str, drops: int, tag: Optional[str], *, block: Optional[int], result: str = "tesSUCCESS") -> tuple[DemoTx, int]:
        sender = self.address("xrp")
        txid = self.txid("xrp")
        seq = self.rng.randint(1000, 90_000_000)
        tx_json: dict[str, Any] = {"Account": sender, "DeliverMax": str(drops), "Destination": destination}
        if tag is not None:
            tx_json["DestinationTag"] = int(tag)
        tx_json.update({"Fee": "12", "Flags": 2147483648, "LastLedgerSequence": (block or self.tip("xrp")) + 4, "Sequence": seq,
                        "SigningPubKey": "02" + self.hexbytes(32).upper(), "TransactionType": "Payment",
                        "TxnSignature": "3045022100" + self.hexbytes(32).upper() + "0220" + self.hexbytes(32).upper()})
        before = self.rng.randint(drops + 20_000_000, drops + 50_000_000_000)
        moved = drops if result == "tesSUCCESS" else 0
        nodes = [
            {"ModifiedNode": {"FinalFields": {"Account": sender, "Balance": str(before - moved - 12), "Flags": 0, "OwnerCount": 0, "Sequence": seq + 1},
                              "LedgerEntryType": "AccountRoot", "LedgerIndex": self.hexbytes(32).upper(),
                              "PreviousFields": {"Balance": str(before), "Sequence": seq}, "PreviousTxnID": self.hexbytes(32).upper(),
                              "PreviousTxnLgrSeq": (block or self.tip("xrp")) - self.rng.randint(5, 5000)}},
        ]
        if moved:
            dest_before = self.rng.randint(10**9, 10**13)
            nodes.append({"ModifiedNode": {"FinalFields": {"Account": destination, "Balance": str(dest_before + moved), "Flags": 131072,
                                                           "OwnerCount": 0, "Sequence": self.rng.randint(1000, 900000)},
                                           "LedgerEntryType": "AccountRoot", "LedgerIndex": self.hexbytes(32).upper(),
                                           "PreviousFields": {"Balance": str(dest_before)}, "PreviousTxnID": self.hexbytes(32).upper(),
                                           "PreviousTxnLgrSeq": (block or self.tip("xrp")) - self.rng.randint(1, 50)}})
        meta: dict[str, Any] = {"AffectedNodes": nodes, "TransactionIndex": self.rng.randint(0, 60), "TransactionResult": result}
        if result == "tesSUCCESS":
            meta["delivered_amount"] = str(drops)
        return self.chain.add(DemoTx("xrp", txid, {"tx_json": tx_json, "meta": meta}, block)), 0

    # the story, with the ledger row when the exchange has one
    def tell(self, ticket: DepositTicket, code: str, tx: Optional[DemoTx], *, claimed: str, asset: str, amount: Decimal,
             index: Optional[int] = None, ledger: Optional[str] = None, note: str = "", txid: Optional[str] = None) -> Story:
        network = tx.network if tx else None
        text = fmt_units(int(amount.scaleb(8)), 8)  # plain decimal, no trailing zeros
        row = None
        if ledger and tx is not None:
            seen_at = time_of(tx.network, tx.block) + self.rng.uniform(20, 240) if tx.block is not None else self.now
            row = {"network": network, "asset": asset, "amount": text, "output_index": index, "status": ledger,
                   "created_at": min(seen_at, self.now - 1), "txid": tx.txid}
        return Story(ticket.ticket_id, ticket.customer_id, code, network, claimed, asset, text,
                     txid if txid is not None else tx.txid, row, note)


def _p2wpkh_out(address: str, value: int) -> dict:
    _ver, prog = bech32.decode("bc", address)
    h = bytes(prog).hex()
    return {"scriptpubkey": "0014" + h, "scriptpubkey_asm": f"OP_0 OP_PUSHBYTES_20 {h}", "scriptpubkey_type": "v0_p2wpkh",
            "scriptpubkey_address": address, "value": value}


def _bloom(logs: list[dict]) -> str:
    """The receipt's 2048-bit log bloom, computed as Ethereum does (3 bits per address and topic)."""
    bits = 0
    for log in logs:
        for item in [log["address"], *log["topics"]]:
            h = keccak(bytes.fromhex(item[2:]))
            for i in (0, 2, 4):
                bits |= 1 << (int.from_bytes(h[i:i + 2], "big") & 2047)
    return "0x" + bits.to_bytes(256, "big").hex()


# --- the variants: (planner, ticket) -> Story -------------------------------------------------

USDT = {"ethereum": "0xdac17f958d2ee523a2206206994597c13d831ec7", "bsc": "0x55d398326f99059ff775485246999027b3197955",
        "tron": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"}


def _token(p: ScenarioPlanner, t: DepositTicket, code: str, network: str, *, block: int, amount: Optional[Decimal] = None,
           to: Optional[str] = None, contract: Optional[str] = None, ok: bool = True, claimed: Optional[str] = None,
           ledger: Optional[str] = None, note: str = "") -> Story:
    """A USDT (or look-alike) transfer on ethereum, bsc or tron."""
    amount = p.amount(network, "USDT") if amount is None else amount
    to = to or p.own(t, network)[0]
    raw = p.raw(network, "USDT", amount)
    if network == "tron":
        tx, index = p.trc20(contract or USDT["tron"], to, raw, block=block, ok=ok)
    else:
        tx, index = p.evm(network, to, contract=contract or USDT[network], raw=raw, block=block, ok=ok)
    return p.tell(t, code, tx, claimed=claimed or network, asset="USDT", amount=amount, index=index, ledger=ledger, note=note)


def _eth(p: ScenarioPlanner, t: DepositTicket, code: str, *, block: Optional[int], ledger: Optional[str] = None, note: str = "") -> Story:
    amount = p.amount("ethereum", "ETH")
    tx, _ = p.evm("ethereum", p.own(t, "ethereum")[0], wei=p.raw("ethereum", "ETH", amount), block=block)
    return p.tell(t, code, tx, claimed="ethereum", asset="ETH", amount=amount, index=None, ledger=ledger, note=note)


def _btc(p: ScenarioPlanner, t: DepositTicket, code: str, *, block: Optional[int], amount: Optional[Decimal] = None,
         to: Optional[str] = None, ledger: Optional[str] = None, note: str = "") -> Story:
    amount = p.amount("bitcoin", "BTC") if amount is None else amount
    tx, index = p.btc(to or p.own(t, "bitcoin")[0], p.raw("bitcoin", "BTC", amount), block=block)
    return p.tell(t, code, tx, claimed="bitcoin", asset="BTC", amount=amount, index=index, ledger=ledger, note=note)


def _xrp(p: ScenarioPlanner, t: DepositTicket, code: str, *, block: Optional[int], amount: Optional[Decimal] = None,
         to: Optional[str] = None, tag: Any = "own", result: str = "tesSUCCESS", ledger: Optional[str] = None, note: str = "") -> Story:
    amount = p.amount("xrp", "XRP") if amount is None else amount
    address, memo = p.own(t, "xrp")
    tx, index = p.xrp(to or address, p.raw("xrp", "XRP", amount), memo if tag == "own" else tag, block=block, result=result)
    return p.tell(t, code, tx, claimed="xrp", asset="XRP", amount=amount, index=index, ledger=ledger, note=note)


def _typo(tag: str, rng: random.Random) -> str:
    """The customer's tag with one slip: two neighbouring digits swapped, or one digit dropped."""
    if len(tag) > 2 and rng.random() < 0.5:
        i = rng.randrange(len(tag) - 1)
        swapped = tag[:i] + tag[i + 1] + tag[i] + tag[i + 2:]
        if swapped != tag and not swapped.startswith("0"):
            return swapped
    return tag[:-1] or "1"


_VARIANTS: dict[str, list[Callable[[ScenarioPlanner, DepositTicket], Story]]] = {
    "credited": [
        lambda p, t: _token(p, t, "credited", "ethereum", block=p.deep("ethereum", t), ledger="credited", note="USDT on ethereum, in the ledger as credited"),
        lambda p, t: _btc(p, t, "credited", block=p.deep("bitcoin", t), ledger="credited", note="BTC, in the ledger as credited"),
        lambda p, t: _token(p, t, "credited", "tron", block=p.deep("tron", t), ledger="credited", note="USDT TRC-20, credited"),
        lambda p, t: _xrp(p, t, "credited", block=p.deep("xrp", t), ledger="credited", note="XRP with the right tag, credited"),
        lambda p, t: _token(p, t, "credited", "bsc", block=p.deep("bsc", t), ledger="credited", note="USDT BEP-20, credited"),
        lambda p, t: _eth(p, t, "credited", block=p.deep("ethereum", t), ledger="credited", note="ETH, credited"),
    ],
    "pending": [
        lambda p, t: _btc(p, t, "pending", block=None, note="BTC with a low fee, stuck in the mempool"),
        lambda p, t: _token(p, t, "pending", "ethereum", block=p.later("ethereum"), note="USDT on ethereum, mined some minutes into the demo"),
        lambda p, t: _eth(p, t, "pending", block=None, note="ETH with too low a gas price, never mined"),
        lambda p, t: _btc(p, t, "pending", block=p.later("bitcoin"), note="BTC, mined some minutes into the demo"),
    ],
    "insufficient_confirmations": [
        lambda p, t: _token(p, t, "insufficient_confirmations", "ethereum", block=p.fresh("ethereum"), ledger="pending",
                            note="USDT on ethereum, fewer than 12 confirmations (the ledger waits)"),
        lambda p, t: _btc(p, t, "insufficient_confirmations", block=p.fresh("bitcoin"), ledger="pending", note="BTC, 1 of 2 confirmations"),
        lambda p, t: _token(p, t, "insufficient_confirmations", "tron", block=p.fresh("tron"), ledger="pending", note="USDT TRC-20, fewer than 20"),
        lambda p, t: _token(p, t, "insufficient_confirmations", "bsc", block=p.fresh("bsc"), ledger="pending", note="USDT BEP-20, fewer than 15"),
    ],
    "failed": [
        lambda p, t: _token(p, t, "failed", "ethereum", block=p.deep("ethereum", t), ok=False, note="USDT transfer reverted (status 0x0)"),
        lambda p, t: _token(p, t, "failed", "tron", block=p.deep("tron", t), ok=False, note="USDT TRC-20 ran out of energy"),
        lambda p, t: _xrp(p, t, "failed", block=p.deep("xrp", t), result="tecUNFUNDED_PAYMENT", note="XRP payment the sender could not fund"),
    ],
    "wrong_address": [
        lambda p, t: _token(p, t, "wrong_address", "tron", block=p.deep("tron", t), to=p.address("tron"), note="USDT TRC-20 to an address that is not theirs"),
        lambda p, t: _token(p, t, "wrong_address", "ethereum", block=p.deep("ethereum", t), to=p.address("ethereum"), note="USDT to someone else's address"),
        lambda p, t: _btc(p, t, "wrong_address", block=p.deep("bitcoin", t), to=p.address("bitcoin"), note="BTC to a mistyped address"),
        lambda p, t: _xrp(p, t, "wrong_address", block=p.deep("xrp", t), to=p.address("xrp"), note="XRP to another account, with their tag"),
    ],
    "missing_memo": [
        lambda p, t: _xrp(p, t, "missing_memo", block=p.deep("xrp", t), tag=None, note="XRP to the shared account, no destination tag"),
    ],
    "wrong_memo": [
        lambda p, t: _xrp(p, t, "wrong_memo", block=p.deep("xrp", t), tag=_typo(p.own(t, "xrp")[1] or "1", p.rng),
                          note="XRP with a mistyped destination tag"),
    ],
    "wrong_network": [
        lambda p, t: _token(p, t, "wrong_network", "bsc", block=p.deep("bsc", t), to=p.own(t, "ethereum")[0], claimed="ethereum",
                            note="USDT sent on bsc to their ethereum address"),
        lambda p, t: _token(p, t, "wrong_network", "ethereum", block=p.deep("ethereum", t), to=p.own(t, "bsc")[0], claimed="bsc",
                            note="USDT sent on ethereum to their bsc address"),
    ],
    "unsupported_token": [
        lambda p, t: _token(p, t, "unsupported_token", "ethereum", block=p.deep("ethereum", t), contract=p.address("ethereum"),
                            note="a fake 'USDT' ERC-20 (unlisted contract)"),
        lambda p, t: _token(p, t, "unsupported_token", "tron", block=p.deep("tron", t), contract=p.address("tron"),
                            note="an unlisted TRC-20 token"),
        lambda p, t: _token(p, t, "unsupported_token", "bsc", block=p.deep("bsc", t), contract=p.address("bsc"),
                            note="an unlisted BEP-20 token"),
    ],
    "below_minimum": [
        lambda p, t: _token(p, t, "below_minimum", "tron", block=p.deep("tron", t), amount=p.below_minimum("tron", "USDT"), note="under 1 USDT"),
        lambda p, t: _token(p, t, "below_minimum", "ethereum", block=p.deep("ethereum", t), amount=p.below_minimum("ethereum", "USDT"), note="under 10 USDT"),
        lambda p, t: _btc(p, t, "below_minimum", block=p.deep("bitcoin", t), amount=p.below_minimum("bitcoin", "BTC"), note="under 0.0001 BTC"),
        lambda p, t: _xrp(p, t, "below_minimum", block=p.deep("xrp", t), amount=p.below_minimum("xrp", "XRP"), note="under 20 XRP"),
        lambda p, t: _token(p, t, "below_minimum", "bsc", block=p.deep("bsc", t), amount=p.below_minimum("bsc", "USDT"), note="under 10 USDT"),
    ],
    "not_found": [
        lambda p, t: p.tell(t, "not_found", None, claimed="ethereum", asset="USDT", amount=p.amount("ethereum", "USDT"),
                            txid=p.txid("ethereum"), note="a txid no chain knows"),
        lambda p, t: p.tell(t, "not_found", None, claimed="tron", asset="USDT", amount=p.amount("tron", "USDT"),
                            txid=p.txid("tron"), note="a txid no chain knows"),
        lambda p, t: p.tell(t, "not_found", None, claimed="bitcoin", asset="BTC", amount=p.amount("bitcoin", "BTC"),
                            txid=p.txid("bitcoin"), note="a txid no chain knows"),
    ],
    "needs_manual_credit": [
        lambda p, t: _token(p, t, "needs_manual_credit", "tron", block=p.deep("tron", t), note="USDT TRC-20, valid, no ledger record"),
        lambda p, t: _token(p, t, "needs_manual_credit", "ethereum", block=p.deep("ethereum", t), ledger="pending",
                            note="USDT, confirmed long ago, the ledger row stuck at pending"),
        lambda p, t: _btc(p, t, "needs_manual_credit", block=p.deep("bitcoin", t), note="BTC, valid, no ledger record"),
        lambda p, t: _token(p, t, "needs_manual_credit", "bsc", block=p.deep("bsc", t), note="USDT BEP-20, valid, no ledger record"),
        lambda p, t: _xrp(p, t, "needs_manual_credit", block=p.deep("xrp", t), note="XRP with the right tag, no ledger record"),
        lambda p, t: _eth(p, t, "needs_manual_credit", block=p.deep("ethereum", t), note="ETH, valid, no ledger record"),
    ],
}
assert set(_VARIANTS) == set(ROTATION)


def make_demo_chain(tickets: Iterable[DepositTicket], rng: random.Random, now: float,
                    chain: Optional[DemoChain] = None) -> tuple[DemoChain, list[Story]]:
    """Pure: the demo chain and one story per deposit ticket, the verdict codes in turn."""
    planner = ScenarioPlanner(rng, now, chain)
    stories = [planner.story(t) for t in tickets]
    return planner.chain, stories


# --- running it alone -------------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> None:
    import uvicorn

    from backend.schema import make_engine

    ap = argparse.ArgumentParser(prog="python -m backend.demo_chain", description=LABEL)
    ap.add_argument("--db", required=True, help="database a demo desk was seeded into with the demo chain")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8751)
    a = ap.parse_args(argv)
    engine = make_engine(a.db)
    chain = DemoChain.load(engine)
    print(f"{LABEL}: {len(chain)} transactions on http://{a.host}:{a.port}")
    for k, v in endpoint_env(f"http://{a.host}:{a.port}").items():
        print(f"  {k}={v}")
    uvicorn.run(create_app(chain), host=a.host, port=a.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
