"""`agent-tui login URL` and `agent-tui logout`: the API token in the OS keyring, never in a file or a log
(`AGENT_TUI_TOKEN` is the headless alternative); the server's URL in the config file."""

from __future__ import annotations

import sys

import click

from agent_tui.cli import root
from agent_tui.cli.root import UserError, friendly


@click.command()
@click.argument("url")
@click.option("--token-stdin", is_flag=True, help="Read the token from standard input instead of a prompt.")
@friendly
def login(url: str, token_stdin: bool) -> None:
    """Sign in to the helpdesk at URL; the token goes to the OS keyring."""
    import httpx

    from agent_tui import config
    from agent_tui.auth import NoKeyring, store_token

    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise UserError(f"{url!r} is not a URL; use e.g. https://desk.example.com")
    if token_stdin:
        token = sys.stdin.readline().strip()
    else:
        token = click.prompt("API token", hide_input=True).strip()
    if not token:
        raise UserError("the token is empty")
    try:
        resp = httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    except httpx.HTTPError as exc:
        raise UserError(f"cannot reach {url} ({type(exc).__name__}); check the URL and your connection") from None
    if resp.status_code == 401:
        raise UserError("the server refused this token (401); check it and try again")
    if resp.status_code != 200:
        raise UserError(f"{url} answered HTTP {resp.status_code}; is it an agent-tui helpdesk?")
    me = resp.json()
    # the URL first: without a keyring the token can still come from AGENT_TUI_TOKEN, and then the
    # next command needs to know which server it belongs to
    path = config.save_server_url(url)
    try:
        store_token(url, token)
    except NoKeyring as exc:
        raise UserError(
            f"No OS keyring is available to store the token ({exc.cause}); the server URL is saved in {path}, "
            f"so set AGENT_TUI_TOKEN to the token in the environment (and AGENT_TUI_SERVER_URL={url} "
            "where that config is not), "
            "or start a Secret Service (e.g. gnome-keyring) and log in again"
        ) from None
    click.echo(f"Signed in to {url} as {me.get('name')} ({me.get('role')}). The token is in the OS keyring.")


@click.command()
@friendly
def logout() -> None:
    """Forget the token for the configured server."""
    from agent_tui.auth import delete_token

    settings = root._settings()
    if not settings.server_url:
        raise UserError("no server configured; nothing to sign out of")
    if delete_token(settings.server_url):
        click.echo(f"Signed out of {settings.server_url}.")
    else:
        click.echo(f"No token was stored for {settings.server_url}.")


def commands() -> list[click.Command]:
    return [login, logout]
