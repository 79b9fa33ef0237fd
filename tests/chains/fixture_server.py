"""A local HTTP server that answers like the real chain APIs, from the real mainnet fixtures.

Paths (base URL per provider):
  /esplora/<network>          Esplora REST: GET /tx/:txid (404 text "Transaction not found", 400 "Invalid hex string"),
                              GET /blocks/tip/height (plain text)
  /tron                       TronGrid: POST /wallet/gettransactionbyid, /wallet/gettransactioninfobyid ({} when unknown),
                              /wallet/getnowblock
  /xrp                        rippled JSON-RPC `tx` (txnNotFound error JSON when unknown)
  /evm/<chain id>             EVM JSON-RPC (receipts incl. pre-Byzantium status null + root)
A leading behaviour segment makes any of them hostile: /hang/..., /huge/..., /hugecl/..., /notjson/...,
/deep/..., /odd/..., /oddtypes/..., /429x<N>/... (N answers 429 with Retry-After: 0.05 first), /429long/...
/corrupt-<what>/... answers the real recorded answer with one kind of field made invalid, as a broken or
hostile chain source would: recipient (markup and 5,000 characters), amount (negative), height (negative),
hash (not hex); see CORRUPT.
`latency` (seconds) is added to every answer (benchmarks).

http.server in a thread: no aiohttp, no framework. Test data only; no code from the fixture projects.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "chains"

ESPLORA_TIP = 850005
TRON_TIP_OFFSET = 30  # tip = highest fixture block + this
TRON_SOLID_LAG = 19  # the solidified block trails the head by about 19 blocks on mainnet
EVM_TIP = 0x900000
XRP_TIP = 90000000  # the latest validated ledger the server reports (above every fixture's ledger_index)
XRP_PARTIAL_LEDGER = 22420600  # the xrpl.js partial-payment fixtures carry no ledger_index; rippled always sends one


def _load(path: Path):
    return json.loads(path.read_text())


class Data:
    """Indexes of the fixture files by txid."""

    def __init__(self, root: Path = FIXTURES):
        self.root = root
        self.esplora: dict[str, dict] = {}
        for f in sorted((root / "bitcoin").glob("*.json")):
            d = _load(f)
            for tx in d if isinstance(d, list) else [d]:
                if isinstance(tx, dict) and "txid" in tx:
                    self.esplora[tx["txid"].lower()] = tx
        self.tron_info: dict[str, dict] = {}
        self.tron_tx: dict[str, dict] = {}
        for f in sorted((root / "tron").glob("*gettransactioninfobyid*.json")):
            d = _load(f)
            self.tron_info[d["id"].lower()] = d
        for f in sorted((root / "tron").glob("*trongrid_v1_trc20_item*.json")):
            d = _load(f)["detail"]
            self.tron_tx[d["txID"].lower()] = d
        self.tron_tip = max(d["blockNumber"] for d in self.tron_info.values()) + TRON_TIP_OFFSET
        self.xrp: dict[str, dict] = {}  # hash -> the `result` object rippled sends
        for name in ("xrpl.js__tx_payment.json", "xrpl-dev-portal__tx_jsonrpc-response_OfferCreate.json"):
            res = _load(root / "xrp" / name)["result"]
            h = res.get("hash") or res["tx_json"]["hash"]
            self.xrp[h.upper()] = {**res, "status": "success"}
        # the two xrpl.js partial-payment fixtures share one hash: XRP at /xrp, the IOU one at /xrp/iou
        self.xrp_iou: dict[str, dict] = {}
        for name, into in (("xrpl.js__rippled_partialPaymentXRP.json", self.xrp), ("xrpl.js__rippled_partialPaymentIOU.json", self.xrp_iou)):
            res = _load(root / "xrp" / name)
            h = res["tx_json"]["hash"]
            into[h.upper()] = {**res, "hash": h, "ledger_index": XRP_PARTIAL_LEDGER, "validated": True, "status": "success"}
        items = []
        for name in ("xrpl-dev-portal__account_tx_mainnet_payments_jsonrpc.json", "xrpl-dev-portal__account_tx_mainnet_payments_ws.json"):
            raw = _load(root / "xrp" / name)
            items += (raw.get("result") or raw)["transactions"]
        for item in items:  # API v1 `tx` layout: tx fields flat, plus meta and validated
            tx = item["tx"]
            self.xrp[tx["hash"].upper()] = {**tx, "meta": item["meta"], "validated": item["validated"], "status": "success"}
        self.xrp_not_found = _load(root / "xrp" / "xrpl-dev-portal__tx_txnNotFound_jsonrpc.json")["result"]
        self.evm_tx: dict[int, dict[str, dict]] = {1: {}}
        self.evm_receipt: dict[int, dict[str, dict]] = {1: {}}
        block = _load(root / "ethereum" / "ethereum-etl__web3_response.eth_getBlockByNumber_0x76250_true.json")["result"]
        for tx in block["transactions"]:
            self.evm_tx[1][tx["hash"].lower()] = tx
        for f in sorted((root / "ethereum").glob("*eth_getTransactionReceipt*.json")):
            r = _load(f)["result"]
            self.evm_receipt[1][r["transactionHash"].lower()] = r
        for f in sorted((root / "synthetic_local_anvil").glob("*eth_getTransaction*.json")):
            r = _load(f)["result"]
            if r is None:
                continue
            key = r.get("hash") or r.get("transactionHash")
            (self.evm_receipt if "Receipt" in f.name else self.evm_tx)[1][key.lower()] = r


_DATA: Optional[Data] = None


def data() -> Data:
    global _DATA
    if _DATA is None:
        _DATA = Data()
    return _DATA


_BEHAVIOURS = re.compile(r"^/(hang|huge|hugecl|notjson|deep|odd|oddtypes|429x\d+|429long|corrupt-[a-z]+)(/.*)$")

HOSTILE_RECIPIENT = "[link=https://phish.example]<b>pay here</b>[/link]" + "A" * 5000
# what -> (field names, the invalid value), applied wherever the field occurs in the JSON answer
CORRUPT = {
    "recipient": (("scriptpubkey_address", "address", "Destination"), HOSTILE_RECIPIENT),
    "amount": (("value",), -5),
    "height": (("block_height",), -7),
    "hash": (("block_hash", "blockhash"), "<not a hash>"),
}


def corrupt(body, what: str):
    keys, bad = CORRUPT[what]

    def walk(v):
        if isinstance(v, dict):
            return {k: (bad if k in keys and not isinstance(x, (dict, list)) else walk(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(body)


class Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    # --- plumbing ---
    def _send(self, status: int, body, ctype: str = "application/json", headers: Optional[dict] = None, chunked: bool = False):
        if getattr(self, "_corrupt", None) and ctype == "application/json" and not isinstance(body, bytes):
            body = corrupt(body, self._corrupt)
        raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if ctype == "application/json" else str(body).encode())
        self.send_response(status)
        self.send_header("content-type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if chunked:
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            step = 1 << 16
            try:
                for i in range(0, len(raw), step):
                    part = raw[i : i + step]
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        try:
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _body(self):
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return None

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method: str):
        if self.server.latency:
            time.sleep(self.server.latency)
        path = self.path.split("?", 1)[0]
        body = self._body() if method == "POST" else None
        m = _BEHAVIOURS.match(path)
        self._corrupt = None
        if m and m.group(1).startswith("corrupt-"):
            self._corrupt = m.group(1)[len("corrupt-"):]
            path = m.group(2)
        elif m:
            if self._hostile(m.group(1)):
                return
            path = m.group(2)
        self.server.hits += 1
        try:
            self._route(method, path, body)
        except Exception as e:  # a bug in the fake server should show as such
            self._send(500, {"fixture_server_error": repr(e)})

    def _hostile(self, kind: str) -> bool:
        """True when the behaviour answered the request itself."""
        if kind == "hang":
            time.sleep(self.server.hang_seconds)
            self._send(200, {"result": None})
            return True
        if kind in ("huge", "hugecl"):
            blob = b'{"jsonrpc":"2.0","id":1,"result":"' + b"a" * self.server.huge_bytes + b'"}'
            self._send(200, blob, chunked=(kind == "huge"))
            return True
        if kind == "notjson":
            self._send(200, b"<html><body>502 Bad Gateway</body></html>", ctype="text/html")
            return True
        if kind == "deep":
            self._send(200, b"[" * 100000 + b"]" * 100000)  # deeper than any JSON parser allows, smaller than the size cap
            return True
        if kind == "odd":
            self._send(200, [1, "two", {"three": None}])
            return True
        if kind == "oddtypes":
            self._send(200, {
                "jsonrpc": "2.0", "id": 1,
                "result": {"blockNumber": {"x": 1}, "status": ["?"], "logs": "none", "to": 7, "value": -1, "hash": 5,
                           "tx_json": "x", "validated": "yes"},
                "status": "maybe", "vout": 5, "block_header": 3, "blockNumber": "tomorrow", "log": 9, "ret": "x",
            })
            return True
        if kind == "429long":
            self._send(429, {"error": "rate limited"}, headers={"retry-after": "3600"})
            return True
        if kind.startswith("429x"):
            n = int(kind[4:])
            with self.server.lock:
                self.server.counts[kind] = self.server.counts.get(kind, 0) + 1
                c = self.server.counts[kind]
            if c <= n:
                self._send(429, {"error": "rate limited"}, headers={"retry-after": "0.05"})
                return True
        return False

    def _route(self, method: str, path: str, body):
        d = data()
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["esplora"] and method == "GET":
            rest = parts[2:]
            if rest == ["blocks", "tip", "height"]:
                return self._send(200, str(self.server.esplora_tip), ctype="text/plain")
            if len(rest) == 2 and rest[0] == "tx":
                txid = rest[1]
                if not re.fullmatch(r"[0-9a-fA-F]{64}", txid):
                    return self._send(400, "Invalid hex string", ctype="text/plain")
                tx = d.esplora.get(txid.lower()) if parts[1] == "bitcoin" else None  # the fixtures are Bitcoin mainnet
                if tx is None:
                    return self._send(404, "Transaction not found", ctype="text/plain")
                return self._send(200, tx)
            return self._send(404, "Not Found", ctype="text/plain")
        if parts[:1] == ["tron-no-solidity"] and method == "POST":  # a full node without a solidity node
            if parts[1:2] == ["walletsolidity"]:
                return self._send(404, "Not Found", ctype="text/plain")
            parts = ["tron"] + parts[1:]
        if parts[:1] == ["tron"] and method == "POST":
            if body is None:
                return self._send(400, {"Error": "bad json"})
            value = str(body.get("value") or "").lower()
            if parts[1:] == ["wallet", "gettransactionbyid"]:
                return self._send(200, d.tron_tx.get(value, {}))
            if parts[1:] == ["wallet", "gettransactioninfobyid"]:
                return self._send(200, d.tron_info.get(value, {}))
            if parts[1:] == ["wallet", "getnowblock"]:
                return self._send(200, {"blockID": "00" * 32, "block_header": {"raw_data": {"number": d.tron_tip, "timestamp": 1738601600000}}})
            if parts[1:] == ["walletsolidity", "getnowblock"]:  # solidified: 19 blocks behind the head
                return self._send(200, {"blockID": "00" * 32, "block_header": {"raw_data": {"number": d.tron_tip - TRON_SOLID_LAG, "timestamp": 1738601543000}}})
            return self._send(404, "Not Found", ctype="text/plain")
        if parts[:1] == ["xrp"] and method == "POST":
            if body and body.get("method") == "ledger" and parts[1:] != ["no-ledger"]:  # the latest validated ledger, as rippled answers it
                return self._send(200, {"result": {"ledger": {"closed": True, "ledger_index": str(XRP_TIP)}, "ledger_hash": "AB" * 32,
                                                   "ledger_index": XRP_TIP, "validated": True, "status": "success"}})
            if not body or body.get("method") != "tx":
                return self._send(200, {"result": {"error": "unknownCmd", "error_code": 32, "status": "error"}})
            params = (body.get("params") or [{}])[0]
            h = str(params.get("transaction") or "")
            if not re.fullmatch(r"[0-9a-fA-F]{64}", h):
                return self._send(200, {"result": {"error": "notImpl", "error_code": 74, "status": "error"}})
            res = (d.xrp_iou if parts[1:] == ["iou"] else d.xrp).get(h.upper())  # /xrp/no-ledger: a server without `ledger`
            if res is None:
                nf = json.loads(json.dumps(d.xrp_not_found))
                nf["request"]["transaction"] = h
                return self._send(200, {"result": nf})
            return self._send(200, {"result": res})
        if parts[:1] == ["evm"] and method == "POST":
            chain = int(parts[1])
            if not isinstance(body, dict):
                return self._send(200, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
            rpc_id, meth, params = body.get("id"), body.get("method"), body.get("params") or []
            ok = lambda r: self._send(200, {"jsonrpc": "2.0", "id": rpc_id, "result": r})
            if meth == "eth_chainId":
                return ok(hex(chain))
            if meth == "eth_blockNumber":
                return ok(hex(self.server.evm_tip))
            if meth == "eth_getTransactionByHash":
                return ok(d.evm_tx.get(chain, {}).get(str(params[0]).lower()))
            if meth == "eth_getTransactionReceipt":
                return ok(d.evm_receipt.get(chain, {}).get(str(params[0]).lower()))
            return self._send(200, {"jsonrpc": "2.0", "id": rpc_id, "error": {"code": -32601, "message": "Method not found"}})
        return self._send(404, "Not Found", ctype="text/plain")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default backlog of 5 drops SYNs under fan-out: a 1 s retransmit stall

    def handle_error(self, request, client_address):  # clients that hang up early (size caps, timeouts) are expected
        pass


class FixtureServer:
    def __init__(self, *, latency: float = 0.0, hang_seconds: float = 30.0, huge_bytes: int = 3 * 1024 * 1024,
                 esplora_tip: int = ESPLORA_TIP, evm_tip: int = EVM_TIP):
        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.latency = latency
        self.httpd.hang_seconds = hang_seconds
        self.httpd.huge_bytes = huge_bytes
        self.httpd.esplora_tip = esplora_tip
        self.httpd.evm_tip = evm_tip
        self.httpd.hits = 0
        self.httpd.counts = {}
        self.httpd.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FixtureServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        data()
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def endpoints(self, prefix: str = "") -> dict:
        """Endpoint config for every fixture-backed network."""
        u = self.url + prefix
        return {
            "bitcoin": f"{u}/esplora/bitcoin",
            "litecoin": f"{u}/esplora/litecoin",
            "dogecoin": {"url": f"{u}/esplora/dogecoin", "kind": "esplora"},
            "ethereum": f"{u}/evm/1",
            "bsc": f"{u}/evm/56",
            "tron": f"{u}/tron",
            "xrp": f"{u}/xrp",
        }
