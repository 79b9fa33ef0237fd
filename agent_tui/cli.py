"""The `agent-tui` command. A user error is one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

import click

from agent_tui import locations
from agent_tui.auth import server_and_token
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


class LazyGroup(click.Group):
    """A group whose heavier commands are imported only when run (or asked for their own --help), so
    `agent-tui --help` and the light commands start without the chains, macros and report code.
    `lazy` maps a command name to (loader, one-line help for the group's listing)."""

    def __init__(self, *args, lazy: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            for command in self.lazy[cmd_name][0]():
                self.add_command(command)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        width = formatter.width - 6 - max(len(n) for n in self.list_commands(ctx))
        for name in self.list_commands(ctx):
            if name in self.commands:
                cmd = self.commands[name]
                if cmd.hidden:
                    continue
                rows.append((name, cmd.get_short_help_str(width)))
            else:
                text = self.lazy[name][1]
                rows.append((name, text if len(text) <= width else text[: max(0, width - 3)].rstrip() + "..."))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _lazy_lookup() -> list[click.Command]:
    return [_lookup_command()]


def _lazy_macros() -> list[click.Command]:
    from agent_tui.macros.cli import make_macro_commands

    return list(make_macro_commands(_cache, _settings))


def _lazy_report() -> list[click.Command]:
    from agent_tui.report import report

    report.callback = friendly(report.callback)  # a malformed server answer: one line and the crash log
    return [report]


LAZY = {
    "lookup": (_lazy_lookup, "Investigate a deposit that never arrived: on-chain facts and a verdict with evidence."),
    "macro": (_lazy_macros, "Canned replies (macros) from the local cache."),
    "check-reply": (_lazy_macros, "Run the reply guard on FILE (- for stdin): exit 0 ok, 1 blocked, 3 warnings, 2 error."),
    "report": (_lazy_report, "Export KPIs (FRT, resolution, SLA compliance, FCR, CSAT, escalations, backlog) for a period."),
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
    from agent_tui.app import run_app

    run_app(settings=settings, cache=cache, server_url=url, token=token, role=role)


@main.command()
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--tickets", type=click.IntRange(100, 200_000), default=2400, show_default=True, help="Tickets to seed.")
@click.option("--rate", type=click.FloatRange(0, 600), default=30.0, show_default=True, help="Simulated events per minute.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Backend port on 127.0.0.1 (0: any free port).")
@friendly
def demo(role: str, tickets: int, rate: float, port: int) -> None:
    """Start the backend in-process on 127.0.0.1 with a seeded desk and live traffic, and open the app."""
    from agent_tui import config
    from backend.app import create_app
    from backend.demo_chain import DemoChain, endpoint_env
    from backend.demo_chain import create_app as create_chain_app
    from backend.seed import token_for
    from backend.server import ServerThread, prepare
    from backend.simulator import Simulator
    from storage.cache import Cache

    work = Path(tempfile.mkdtemp(prefix="agent-tui-demo-"))
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
        from agent_tui.app import run_app

        run_app(settings=settings, cache=cache, server_url=server.url, token=token_for(role), role=role, demo=True)
    finally:
        server.stop()
        chain_server.stop()


@main.command()
@click.argument("url")
@click.option("--token-stdin", is_flag=True, help="Read the token from standard input instead of a prompt.")
@friendly
def login(url: str, token_stdin: bool) -> None:
    """Sign in to the helpdesk at URL; the token goes to the OS keyring."""
    import httpx

    from agent_tui import config
    from agent_tui.auth import store_token

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
    store_token(url, token)
    config.save_server_url(url)
    click.echo(f"Signed in to {url} as {me.get('name')} ({me.get('role')}). The token is in the OS keyring.")


@main.command()
@friendly
def logout() -> None:
    """Forget the token for the configured server."""
    from agent_tui.auth import delete_token

    settings = _settings()
    if not settings.server_url:
        raise UserError("no server configured; nothing to sign out of")
    if delete_token(settings.server_url):
        click.echo(f"Signed out of {settings.server_url}.")
    else:
        click.echo(f"No token was stored for {settings.server_url}.")


@main.command()
@friendly
def sync() -> None:
    """Run one headless sync: push queued changes, pull what changed, print both."""
    from agent_tui.sync import SyncEngine
    from agent_tui.textsafe import one_line

    settings = _settings()
    url, token = server_and_token(settings)
    cache = _open_cache(settings)

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


@main.command()
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


@main.command()
@friendly
def status() -> None:
    """Show the connection, sync cursor, cache size and outbox depth."""
    import httpx

    from agent_tui.auth import AuthError, get_token

    settings = _settings()
    cache = _open_cache(settings)
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


def _lookup_command() -> click.Command:
    """`agent-tui lookup`, wired to the config (endpoints), the backend (customer, ledger, asset
    configuration) and the cache (look-up results)."""
    from agent_tui.auth import AuthError
    from agent_tui.chains.cli import CONFIG_ENV, make_lookup_command
    from agent_tui.chains.config import default_asset_config, load_endpoints
    from agent_tui.chains.errors import ChainError
    from agent_tui.config import ConfigError

    def customer(customer_id: str) -> dict:
        import httpx

        try:
            cid = int(customer_id)
        except ValueError:
            raise ChainError(f"customer id {customer_id!r} is not a number") from None
        local = _cache().customer(cid)
        if local is not None and local.get("addresses"):
            ledger = [dict(d, customer_id=cid) for d in local["deposits"]]
            return {"id": cid, "addresses": local["addresses"], "ledger": ledger}
        try:
            url, token = server_and_token(_settings())
        except (AuthError, ConfigError) as exc:
            raise ChainError(f"customer {cid} is not in the cache and the backend is not reachable: {exc}") from None
        headers = {"Authorization": f"Bearer {token}"}
        try:
            c = httpx.get(f"{url}/api/v1/customers/{cid}", headers=headers, timeout=10)
            d = httpx.get(f"{url}/api/v1/customers/{cid}/deposits", headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            raise ChainError(f"cannot reach {url} for customer {cid} ({type(exc).__name__}); use --address") from None
        if c.status_code == 404:
            raise ChainError(f"customer {cid} does not exist on {url}")
        if c.status_code != 200 or d.status_code != 200:
            raise ChainError(f"{url} answered HTTP {c.status_code} for customer {cid}; use --address")
        return {"id": cid, "addresses": c.json()["addresses"], "ledger": d.json()["deposits"]}

    def asset_config() -> dict:
        cfg = _reader().asset_config()
        return cfg if cfg["networks"] else default_asset_config()

    def endpoints():
        configured = dict(_settings().rpc)
        path = os.environ.get(CONFIG_ENV)
        if path:
            return load_endpoints(path)
        return load_endpoints(configured or None)

    def ledger():
        from agent_tui.chains.ledger import server_ledger

        try:
            url, token = server_and_token(_settings())
        except (AuthError, ConfigError):
            return None  # not signed in: the verdict says the ledger was not checked
        return server_ledger(url, token)

    return make_lookup_command(customer_loader=customer, asset_config_loader=asset_config, endpoints_loader=endpoints,
                               cache_factory=lambda: _reader().lookup_cache(), ledger_loader=ledger)


if __name__ == "__main__":
    main()
