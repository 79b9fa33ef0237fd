"""`agent-tui demo`: the reference backend in-process on 127.0.0.1, a freshly seeded desk, a simulated
chain for the look-ups, live traffic, and the app signed in with a demo token."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import click

from agent_tui.cli import root
from agent_tui.cli.root import UserError, friendly
from agent_tui.vocabulary import ROLES


@click.command()
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--tickets", type=click.IntRange(100, 200_000), default=2400, show_default=True, help="Tickets to seed.")
@click.option("--rate", type=click.FloatRange(0, 600), default=30.0, show_default=True, help="Simulated events per minute.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Backend port on 127.0.0.1 (0: any free port).")
@friendly
def demo(role: str, tickets: int, rate: float, port: int) -> None:
    """Start the backend in-process on 127.0.0.1 with a seeded desk and live traffic, and open the app."""
    work = Path(tempfile.mkdtemp(prefix="agent-tui-demo-"))
    click.echo(f"Demo files (database, cache) in {work}; removed when the demo ends.", err=True)
    try:
        _run(work, role, tickets, rate, port)
    finally:  # a clean quit, an error or ctrl-c: the ~9 MB folder never outlives the demo
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, role: str, tickets: int, rate: float, port: int) -> None:
    from agent_tui import config
    from backend.app import create_app
    from backend.demo_chain import DemoChain, endpoint_env
    from backend.demo_chain import create_app as create_chain_app
    from backend.seed import token_for
    from backend.server import ServerThread, prepare
    from backend.simulator import Simulator
    from storage.cache import Cache

    db_url = f"sqlite:///{work / 'backend.db'}"
    click.echo(f"Seeding a demo desk with {tickets} tickets…", err=True)
    chain = DemoChain()
    prepare(db_url, fresh=True, seed_tickets=tickets, demo_chain=chain)
    # look-ups go to the simulated chain only: its txids exist nowhere else, and the demo needs no internet
    chain_server = ServerThread(create_chain_app(chain), quiet=True).start()
    for key in [k for k in os.environ if k.startswith("AGENT_TUI_RPC_")]:
        del os.environ[key]
    os.environ.update(endpoint_env(chain_server.url))
    click.echo(f"Demo chain on {chain_server.url}: SIMULATED transactions ({len(chain)}), not a real blockchain; "
               "the deposit look-ups go there.", err=True)
    try:
        server = ServerThread(create_app(db_url, simulator=Simulator(rate, chain=chain) if rate else None), port=port, quiet=True).start()
    except RuntimeError:
        chain_server.stop()
        raise UserError(f"cannot start the demo backend on 127.0.0.1:{port} (is the port in use?); try --port 0") from None
    try:
        settings = config.load().model_copy(update={"server_url": server.url, "rpc": {}})
        cache = Cache.open(work / "cache.db")
        try:
            root.run_app(settings=settings, cache=cache, server_url=server.url, token=token_for(role), role=role, demo=True)
        finally:
            cache.close()
    finally:
        server.stop()
        chain_server.stop()


def commands() -> list[click.Command]:
    return [demo]
