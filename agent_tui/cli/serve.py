"""`agent-tui serve`: the reference helpdesk backend (SQLite in the data dir by default, or PostgreSQL)."""

from __future__ import annotations

from typing import Optional

import click

from agent_tui import locations
from agent_tui.cli.root import UserError, friendly


@click.command()
@click.option("--db", "database_url", default=None, help="Database URL (default: SQLite in the data dir; postgresql://... works).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8750, show_default=True)
@click.option("--seed", "seed_tickets", type=click.IntRange(0, 200_000), default=0, help="Seed a demo desk with N tickets.")
@click.option("--fresh", is_flag=True, help="Drop and recreate the tables first.")
@click.option("--simulate", type=click.FloatRange(0, 600), default=0.0, help="Simulated events per minute.")
@friendly
def serve(database_url: Optional[str], host: str, port: int, seed_tickets: int, fresh: bool, simulate: float) -> None:
    """Run the reference helpdesk backend."""
    import uvicorn

    from backend.app import create_app
    from backend.seed import database_url_from_env
    from backend.server import prepare
    from backend.simulator import Simulator

    if database_url is None:
        d = locations.data_dir()
        d.mkdir(parents=True, exist_ok=True)
        database_url = database_url_from_env(str(d / "backend.db"))
    try:
        counts = prepare(database_url, fresh=fresh, seed_tickets=seed_tickets)
    except Exception as exc:
        raise UserError(f"cannot open the database {database_url.split('@')[-1]}: {str(exc).splitlines()[0][:200]}") from None
    if counts:
        click.echo(f"Seeded {counts['tickets']} tickets, {counts['customers']} customers. Demo tokens: demo-agent, demo-recovery, demo-supervisor.")
    click.echo(f"Serving on http://{host}:{port} (OpenAPI at /docs). Ctrl-C stops.")
    app = create_app(database_url, simulator=Simulator(simulate) if simulate else None)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def commands() -> list[click.Command]:
    return [serve]
