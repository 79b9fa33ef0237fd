"""`agent-tui sync`: one headless sync round, what it pushed and pulled; non-zero while a change waits or was refused."""

from __future__ import annotations

import asyncio
import sys

import click

from agent_tui.auth import server_and_token
from agent_tui.cli import root
from agent_tui.cli.root import friendly


@click.command()
@friendly
def sync() -> None:
    """Run one headless sync: push queued changes, pull what changed, print both."""
    from agent_tui.sync import SyncEngine
    from agent_tui.textsafe import one_line

    settings = root._settings()
    url, token = server_and_token(settings)
    cache = root._open_cache(settings)

    async def go():
        engine = SyncEngine(cache, url, token, timeout=settings.request_timeout)
        try:
            return await engine.sync_once()
        finally:
            await engine.aclose()

    report = asyncio.run(go())
    click.echo(f"Synced with {url}: {report.line()}.")
    for r in report.rejected:
        click.echo(f"refused: {one_line(r)}")
    held = report.held_back(cache.pending_counts()[1])
    if held:  # a change is waiting or refused: a script running this must notice
        click.echo(f"agent-tui: {one_line(held)}", err=True)
        sys.exit(2)


def commands() -> list[click.Command]:
    return [sync]
