"""The `agent-tui` group: its global options, opening the app when no command is given, and what every
command shares: the one-line user error (`UserError`, `friendly`) and, once per run, the settings and
the local cache (`_settings`, `_cache`, `_reader`, `_open_cache`). A user error is one line on stderr
and a non-zero exit, never a traceback.

Each command lives in its own module of this package and is imported only when it runs (`LAZY`, and
agent_tui.cli.lazy): `agent-tui --help` imports this module, click and none of the commands.
The command modules import this one (as `root`, calling `root._settings()` so a test can swap it).
"""

from __future__ import annotations

import functools
from typing import Optional

import click

from agent_tui.auth import server_and_token
from agent_tui.cli.lazy import LazyGroup
from agent_tui.vocabulary import ROLES

EXIT_USER = 1


class UserError(click.ClickException):
    exit_code = EXIT_USER

    def show(self, file=None) -> None:  # one line, no "Error:" decoration of click's
        from agent_tui.textsafe import one_line

        click.echo(f"agent-tui: {one_line(self.message)}", err=True)


def friendly(fn):
    """Turn every expected failure into one line; an unexpected one into one line plus a log file."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from agent_tui.auth import AuthError
        from agent_tui.errors import ConfigError, SyncError

        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except (AuthError, ConfigError, SyncError, UserError) as exc:
            raise UserError(str(exc)) from None
        except Exception as exc:  # a bug: keep the details in a file, not on the agent's screen
            from agent_tui.crash import crash_log, summary

            log = crash_log(exc)
            raise UserError(f"unexpected error ({summary(exc)}); details in {log}") from None

    return wrapper


def _once_per_run(key: str, make):
    """One value per command run (kept in the click context), so a command reads the config and
    opens the cache once however many of its parts ask; outside a command, a fresh one."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return make()
    if key not in ctx.meta:
        ctx.meta[key] = make()
    return ctx.meta[key]


def _settings():
    from agent_tui import config

    return _once_per_run("agent_tui.settings", config.load)


def _open_cache(settings):
    from storage.cache import Cache
    from storage.db import resolve_cache_path

    cache = Cache.open(resolve_cache_path(settings.cache_path))
    for note in cache.notes:
        click.echo(f"agent-tui: {note}", err=True)
    return cache


def _cache():
    """The local cache of the configured settings, opened once per command run."""
    return _once_per_run("agent_tui.cache", lambda: _open_cache(_settings()))


def _reader():
    """The cache for reading, cheaply: the file as it is when it exists at the current layout (no
    ORM loaded, storage.quick), else the full cache (created, migrated or rebuilt as needed)."""
    def make():
        from storage.paths import resolve_cache_path
        from storage.quick import QuickCache

        return QuickCache.open_if_current(resolve_cache_path(_settings().cache_path)) or _cache()

    return _once_per_run("agent_tui.reader", make)


# name: (module defining it, its one-line help as `agent-tui --help` lists it; a test checks they agree)
LAZY = {
    "demo": ("agent_tui.cli.demo", "Start the backend in-process on 127.0.0.1 with a seeded desk and live traffic, and open the app."),
    "login": ("agent_tui.cli.auth", "Sign in to the helpdesk at URL; the token goes to the OS keyring."),
    "logout": ("agent_tui.cli.auth", "Forget the token for the configured server."),
    "sync": ("agent_tui.cli.sync", "Run one headless sync: push queued changes, pull what changed, print both."),
    "status": ("agent_tui.cli.status", "Show the connection, sync cursor, cache size and outbox depth."),
    "serve": ("agent_tui.cli.serve", "Run the reference helpdesk backend."),
    "lookup": ("agent_tui.cli.lookup", "Investigate a deposit that never arrived: on-chain facts and a verdict with evidence."),
    "macro": ("agent_tui.cli.macros", "Canned replies (macros) from the local cache."),
    "check-reply": ("agent_tui.cli.check_reply", "Run the reply guard on FILE (- for stdin): exit 0 ok, 1 blocked, 3 warnings, 2 error."),
    "report": ("agent_tui.cli.report", "Export KPIs (FRT, resolution, SLA compliance, FCR, CSAT, escalations, backlog) for a period."),
}


@click.group(cls=LazyGroup, lazy=LAZY, invoke_without_command=True)
@click.option("--role", type=click.Choice(ROLES), default=None,
              help="Open in the mode of this role (default: the role of your token).")
@click.version_option(package_name="agent-tui")
@click.pass_context
@friendly
def main(ctx: click.Context, role: Optional[str]) -> None:
    """agent-tui: the support desk of a crypto exchange, in a terminal."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()
    url, token = server_and_token(settings)
    cache = _open_cache(settings)
    run_app(settings=settings, cache=cache, server_url=url, token=token, role=role)


def run_app(**kwargs) -> None:
    """Open the app: the one place the command line imports the UI (an import-linter contract says so)."""
    from agent_tui.app import run_app as run

    run(**kwargs)
