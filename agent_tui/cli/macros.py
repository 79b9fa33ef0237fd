"""Headless macros, read from the local cache, with the reply guard's findings.

    agent-tui macro list [--agent NAME|ID] [--json]
    agent-tui macro render KEY --ticket ID [--lang L] [--agent NAME|ID] [--fill PATH=VALUE ...]
                               [--verdict FILE] [--json]

`macro render` prints the macro rendered for the ticket (KEY or ::shortcut), then the missing
placeholders, its actions, the ticket changes they would queue, and the guard's findings. The
deposit fields come from `--verdict FILE` (the JSON of `agent-tui lookup --json`) or else from the
newest cached look-up of a txid quoted in the ticket. `--agent` (or AGENT_TUI_AGENT) names the
signing agent for `{{ agent.name }}`: an agent id or a name from the cache; without it, `macro render`
asks the configured server who the token (keyring or AGENT_TUI_TOKEN) belongs to (GET /me), and
says on stderr why when it cannot.

Exit status: as `agent-tui check-reply` (agent_tui.cli.check_reply): 0 ok, 1 blocked, 3 warnings, 2 error.

Never imports textual, widgets or themes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

import click
import orjson

from agent_tui.cli import root
from agent_tui.cli.check_reply import (
    EXIT_BLOCKED,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_WARNINGS,
    Fail,
    echo_report,
    exit_code,
    guard_settings,
    make_check_reply_command,
    open_cache,
    run,
    ticket_or_fail,
)
from agent_tui.macros.context import build_context, guard_reply, last_lookup
from agent_tui.macros.model import Macro
from agent_tui.macros.render import MacroTemplateError, render, shortcut_index
from agent_tui.macros.store import describe_actions, load_macros, plan_changes
from agent_tui.textsafe import clean, json_text, one_line

__all__ = ["EXIT_BLOCKED", "EXIT_ERROR", "EXIT_OK", "EXIT_WARNINGS", "exit_code", "make_macro_commands", "make_macro_group"]


def make_macro_commands(
    cache_factory: Callable[[], Any],
    settings_factory: Callable[[], Any],
) -> tuple[click.Group, click.Command]:
    """(`macro` group, `check-reply` command), reading the cache and settings through the hooks."""
    return make_macro_group(cache_factory, settings_factory), make_check_reply_command(cache_factory, settings_factory)


def make_macro_group(cache_factory: Callable[[], Any], settings_factory: Callable[[], Any],
                     identity_factory: Optional[Callable[[], dict]] = None) -> click.Group:
    """The `macro` group, reading the cache and settings through the hooks.

    `cache_factory()` returns a storage.cache.Cache (opened lazily, only when a command runs);
    `settings_factory()` returns agent_tui.config.Settings (for `allowed_domains`; optional
    `guard_lexicon` and `guard_lexicon_paths` attributes extend the guard's lexicon, read by
    guard.settings_lexicon as the app does). `identity_factory()`, when given, says who is signed in
    (the server's /me: {"id", "name"}) for a render without `--agent`; when it raises Fail, the render
    goes on without a signing agent and the reason is a warning on stderr."""

    def resolve_agent(cache: Any, agent: Optional[str], *, signed_in: bool = False) -> dict:
        if not agent or not agent.strip():
            if signed_in and identity_factory is not None:
                try:
                    me = identity_factory()
                except Fail as exc:  # offline renders still work; {{ agent.name }} is then reported missing
                    click.echo(f"warning: {one_line(str(exc))}", err=True)
                    return {"id": None, "name": None}
                return {"id": me.get("id"), "name": me.get("name")}
            return {"id": None, "name": None}
        agent = agent.strip()
        agents = cache.agents()
        if agent.isdigit():
            row = agents.get(int(agent))
            if row is None:
                raise Fail(f"no agent with id {agent} in the local cache")
            return {"id": row["id"], "name": row["name"]}
        for row in agents.values():
            if str(row.get("name", "")).casefold() == agent.casefold():
                return {"id": row["id"], "name": row["name"]}
        return {"id": None, "name": agent}

    def find_macro(macros: list[Macro], key: str) -> Macro:
        wanted = key.strip()
        if wanted.startswith("::"):
            found = shortcut_index(macros).get(wanted[2:].lower())  # a personal macro wins, as in the reply box
            if found is not None:
                return found
        for m in macros:
            if m.key == wanted:
                return m
        raise Fail(f"no macro {clean(key)!r} (see `agent-tui macro list`)")

    agent_option = click.option(
        "--agent", "agent", envvar="AGENT_TUI_AGENT", default=None, metavar="NAME|ID",
        help="The agent signing the reply (id or name from the cache); env AGENT_TUI_AGENT.",
    )

    @click.group("macro")
    def macro_group() -> None:
        """Canned replies (macros) from the local cache."""

    @macro_group.command("list")
    @agent_option
    @click.option("--json", "as_json", is_flag=True, help="Print the macros as JSON.")
    def list_cmd(agent: Optional[str], as_json: bool) -> None:
        """List the macros: key, ::shortcut, languages, usage, title."""

        def body() -> int:
            cache = open_cache(cache_factory)
            who = resolve_agent(cache, agent)
            errors: list[str] = []
            macros = load_macros(cache, who["id"], errors=errors)
            if as_json:
                click.echo(json_text([m.to_dict() for m in macros]))
            else:
                width = max((len(m.key) for m in macros), default=3)
                click.echo(f"{'KEY':<{width}}  {'SHORTCUT':<13} {'LANGUAGES':<15} {'USES':>5}  TITLE")
                for m in macros:
                    short = f"::{m.shortcut}" if m.shortcut else ""
                    click.echo(f"{m.key:<{width}}  {short:<13} {','.join(m.languages):<15} {m.usage_count:>5}  "
                               f"{one_line(m.title, 60)}")
                click.echo(f"{len(macros)} macro(s)")
            for e in errors:
                click.echo(f"warning: skipped {one_line(e, 200)}", err=True)
            return EXIT_OK

        run(body)

    @macro_group.command("render")
    @click.argument("key")
    @click.option("--ticket", "ticket_id", type=int, required=True, help="Ticket id (from the local cache).")
    @click.option("--lang", "language", default=None, help="Language of the body (default: the customer's).")
    @agent_option
    @click.option("--fill", "fills", multiple=True, metavar="PATH=VALUE",
                  help="Supply a missing field, e.g. --fill deposit.txid=0xabc (repeatable).")
    @click.option("--verdict", "verdict_file", type=click.Path(dir_okay=False, allow_dash=True), default=None,
                  help="A look-up verdict (JSON of `agent-tui lookup --json`; - for stdin) for the deposit fields.")
    @click.option("--json", "as_json", is_flag=True, help="Print text, missing, actions, changes and findings as JSON.")
    def render_cmd(key: str, ticket_id: int, language: Optional[str], agent: Optional[str], fills: tuple[str, ...],
                   verdict_file: Optional[str], as_json: bool) -> None:
        """Render a macro (KEY or ::shortcut) for a ticket, with its actions and the guard's findings."""

        def body() -> int:
            fill_map: dict[str, str] = {}
            for item in fills:
                path, sep, value = item.partition("=")
                if not sep or not path.strip():
                    raise Fail(f"--fill {item!r}: expected PATH=VALUE, e.g. deposit.txid=0xabc")
                fill_map[path.strip()] = value
            deposit = None
            if verdict_file:
                try:
                    raw = sys.stdin.buffer.read() if verdict_file == "-" else Path(verdict_file).read_bytes()
                    deposit = orjson.loads(raw)
                except OSError as exc:
                    raise Fail(f"cannot read {verdict_file}: {exc.strerror or exc}") from None
                except orjson.JSONDecodeError:
                    raise Fail(f"{verdict_file} is not JSON (expected `agent-tui lookup --json` output)") from None
                if not isinstance(deposit, dict):
                    raise Fail(f"{verdict_file}: expected a JSON object")
            allowed, lexicon = guard_settings(settings_factory)
            cache = open_cache(cache_factory)
            ticket = ticket_or_fail(cache, ticket_id)
            who = resolve_agent(cache, agent, signed_in=True)
            macro = find_macro(load_macros(cache, who["id"]), key)
            if deposit is None:
                deposit = last_lookup(cache, ticket_id)
            now = time.time()
            context = build_context(cache, ticket_id, agent=who, deposit=deposit, now=now)
            try:
                result = render(macro, context, language=language, fills=fill_map or None)
            except MacroTemplateError as exc:
                raise Fail(str(exc)) from None
            skipped: list[str] = []
            try:
                queues = {q for q, _ in cache.queues()} or None
                changes = plan_changes(ticket, macro.actions, who["id"], now, queues=queues, skipped=skipped)
            except ValueError as exc:
                changes, skipped = {}, [str(exc)]
            report = guard_reply(cache, ticket_id, result.text, allowed_domains=allowed, lexicon=lexicon)
            code = exit_code(report)
            if as_json:
                click.echo(json_text({
                    "macro": macro.key, "ticket_id": ticket_id, "language": result.language, "text": result.text,
                    "missing": result.missing, "actions": macro.actions, "changes": changes, "skipped": skipped,
                    "guard": {"ok": report.ok, "blocked": report.blocked,
                              "findings": [f.to_dict() for f in report.findings]},
                    "exit": code,
                }))
                return code
            # the text, placeholder paths and action values all come from the macro: hostile, so cleaned
            click.echo(clean(result.text))
            click.echo("")
            click.echo(f"--- macro {macro.key} [{result.language}] for ticket #{ticket_id}")
            if result.missing:
                click.echo(one_line(f"missing: {', '.join(result.missing)} (supply with --fill PATH=VALUE)"))
            acts = describe_actions(macro.actions)
            click.echo(one_line(f"actions: {' · '.join(acts) if acts else 'none'}"))
            if changes:
                click.echo(one_line("changes: " + " · ".join(f"{k}={_show(v)}" for k, v in changes.items())))
            for s in skipped:
                click.echo(one_line(f"skipped: {s}"))
            echo_report(report)
            return code

        run(body)

    return macro_group


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def signed_in_identity() -> dict:
    """Who the configured server says the token is (GET /me), or Fail saying why it cannot tell."""
    import httpx

    from agent_tui.auth import AuthError, server_and_token

    try:
        url, token = server_and_token(root._settings())
    except AuthError as exc:
        raise Fail(f"cannot tell who signs the reply: {exc}; or pass --agent NAME|ID") from None
    try:
        resp = httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    except httpx.HTTPError as exc:
        raise Fail(f"cannot ask {url} who signs the reply ({type(exc).__name__}); pass --agent NAME|ID") from None
    if resp.status_code != 200:
        raise Fail(f"{url} answered HTTP {resp.status_code} asked who you are; check the token or pass --agent NAME|ID")
    me = resp.json()
    if not isinstance(me, dict) or not me.get("name"):
        raise Fail(f"{url} did not say who you are; pass --agent NAME|ID")
    return me


def commands() -> list[click.Command]:
    return [make_macro_group(lambda: root._cache(), lambda: root._settings(), signed_in_identity)]
