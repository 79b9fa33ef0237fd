"""`agent-tui status`: the server and the connection to it, the local cache, the sync cursor and the outbox."""

from __future__ import annotations

import click

from agent_tui.cli import root
from agent_tui.cli.root import friendly


@click.command()
@friendly
def status() -> None:
    """Show the connection, sync cursor, cache size and outbox depth."""
    import httpx

    from agent_tui.auth import AuthError, get_token

    settings = root._settings()
    cache = root._open_cache(settings)
    stats = cache.stats()
    size = sum(p.stat().st_size for p in cache.path.parent.glob(cache.path.name + "*") if p.is_file())
    url = settings.server_url or "(none)"
    conn = "not configured"
    if settings.server_url:
        try:
            token = get_token(settings.server_url)
        except AuthError as exc:
            token, conn = None, str(exc)
        if token:
            try:
                r = httpx.get(f"{settings.server_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
                conn = f"online, signed in as {r.json().get('name')}" if r.status_code == 200 else f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                conn = f"offline ({type(exc).__name__})"
        elif conn == "not configured":
            conn = "not signed in"
    click.echo(f"server:     {url}")
    click.echo(f"connection: {conn}")
    click.echo(f"cache:      {cache.path} ({size / 1_048_576:.1f} MiB, {stats['tickets']} tickets, {stats['messages']} messages)")
    click.echo(f"cursor:     {cache.cursor or '(never synced)'}")
    click.echo(f"outbox:     {stats['outbox']} changes waiting")
    if stats["rejections"]:
        click.echo(f"refused:    {stats['rejections']} changes the server refused (open the app to review them)")


def commands() -> list[click.Command]:
    return [status]
