"""A loopback JSON-RPC proxy in front of a real node (litecoind), for races the node alone cannot be
made to show on demand. `mine_after` mines a block the moment the node has answered getrawtransaction,
before the answer goes back, and holds getblockcount until then: the look-up's calls see two moments of
the chain, as they can on a live one where a block arrives between them. Everything else is passed
through as the node answered it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional

import httpx


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class RpcProxy:
    def __init__(self, node_url: str, *, after_getrawtransaction: Optional[Callable[[], None]] = None, hold: tuple[str, ...] = ()):
        self.node = httpx.URL(node_url)
        self.after = after_getrawtransaction
        self.hold = hold
        self.done = threading.Event()
        self.calls: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                method = (json.loads(raw) if raw else {}).get("method")
                proxy.calls.append(method)
                if method in proxy.hold:
                    proxy.done.wait(10)  # until the block has been mined (never forever)
                r = httpx.post(f"http://{proxy.node.host}:{proxy.node.port}/", content=raw, auth=(proxy.node.username, proxy.node.password),
                               headers={"content-type": "application/json"}, timeout=30, trust_env=False)
                if method == "getrawtransaction" and proxy.after and not proxy.done.is_set():
                    proxy.after()
                    proxy.done.set()
                body = r.content
                self.send_response(r.status_code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{self.node.username}:{self.node.password}@{host}:{port}/"

    def __enter__(self) -> "RpcProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RememberingEvmProxy:
    """A loopback EVM JSON-RPC proxy in front of a real node (anvil) that keeps answering
    eth_getTransactionByHash with a transaction it once saw pending after the node itself forgot it,
    as a load-balanced provider does while one of its nodes still holds the replaced transaction in
    its pool. Every other call, and every answer the node still gives, is passed through unchanged."""

    def __init__(self, node_url: str):
        self.node = node_url
        self.seen: dict[str, dict] = {}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                req = json.loads(raw) if raw else {}
                r = httpx.post(proxy.node, content=raw, headers={"content-type": "application/json"}, timeout=30, trust_env=False)
                body = r.content
                if req.get("method") == "eth_getTransactionByHash":
                    data = r.json()
                    key = str((req.get("params") or [""])[0]).lower()
                    if data.get("result"):
                        proxy.seen.setdefault(key, {**data["result"], "blockNumber": None, "blockHash": None, "transactionIndex": None})
                    elif key in proxy.seen:
                        body = json.dumps({**data, "result": proxy.seen[key]}).encode()
                self.send_response(r.status_code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "RememberingEvmProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
