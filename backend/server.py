"""Running the reference backend: in a thread (the demo, tests) or as a process (`agent-tui serve`)."""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import Optional

import uvicorn

from backend.app import create_app
from backend.schema import create_schema, make_engine


def prepare(database_url: str, *, fresh: bool = False, seed_tickets: int = 0, seed_value: int = 7, demo_chain=None) -> dict:
    """Create the schema (dropping everything first when fresh) and seed demo data if asked
    (with a backend.demo_chain.DemoChain, the deposit tickets' transactions go onto it)."""
    engine = make_engine(database_url)
    try:
        create_schema(engine, reset=fresh)
        if seed_tickets:
            from backend.seed import seed

            return seed(engine, tickets=seed_tickets, seed_value=seed_value, demo_chain=demo_chain)
        return {}
    finally:
        engine.dispose()


class ServerThread:
    """uvicorn in a background thread, on 127.0.0.1 and a free port unless one is given."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, quiet: bool = False):
        # quiet: under a full-screen app, a log line on stderr would be drawn over the screen
        self.config = uvicorn.Config(app, host=host, port=port, log_level="critical" if quiet else "warning",
                                     lifespan="on", access_log=False)
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, name="backend", daemon=True)
        self.port: Optional[int] = None

    def start(self, timeout: float = 20.0) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the backend did not start on {self.config.host}:{self.config.port}")
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(prog="python -m backend", description="Run the agent-tui reference helpdesk server.")
    p.add_argument("--db", default=f"sqlite:///{Path('backend.db').resolve()}", help="database URL (sqlite:///path or postgresql://...)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8750)
    p.add_argument("--fresh", action="store_true", help="drop and recreate every table first")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed a demo desk with N tickets")
    p.add_argument("--simulate", type=float, default=0.0, metavar="PER_MINUTE", help="simulated events per minute")
    p.add_argument("--faults", action="store_true", help="enable the /_faults endpoint (tests only)")
    a = p.parse_args(argv)
    prepare(a.db, fresh=a.fresh, seed_tickets=a.seed)
    sim = None
    if a.simulate > 0:
        from backend.simulator import Simulator

        sim = Simulator(a.simulate)
    app = create_app(a.db, faults=a.faults, simulator=sim)
    uvicorn.run(app, host=a.host, port=a.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
