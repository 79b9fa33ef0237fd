"""Headless macros and the reply guard, read from the local cache.

    agent-tui macro list [--agent NAME|ID] [--json]
    agent-tui macro render KEY --ticket ID [--lang L] [--agent NAME|ID] [--fill PATH=VALUE ...]
                               [--verdict FILE] [--json]
    agent-tui check-reply --ticket ID FILE|- [--json]

`macro render` prints the macro rendered for the ticket (KEY or ::shortcut), then the missing
placeholders, its actions, the ticket changes they would queue, and the guard's findings. The
deposit fields come from `--verdict FILE` (the JSON of `agent-tui lookup --json`) or else from the
newest cached look-up of a txid quoted in the ticket. `--agent` (or AGENT_TUI_AGENT) names the
signing agent for `{{ agent.name }}`: an agent id or a name from the cache.

`check-reply` runs the guard alone on a reply text (a file, or - for stdin), with the ticket's
customer addresses, the exchange's published addresses and the `allowed_domains` setting.

Exit status (both commands):
  0  nothing found: the reply can be sent as it is
  1  BLOCKED: the reply asks for a secret (seed phrase, private key, 2FA code, password)
  3  warnings only (foreign or look-alike link, unknown address, unfilled placeholder):
     sending needs the agent's explicit override
  2  error (unknown ticket or macro, unreadable file, bad config): one line `error: ...` on stderr

Never imports textual, widgets or themes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

import click
import orjson

from agent_tui.config import ConfigError
from agent_tui.macros.context import build_context, guard_reply, last_lookup
from agent_tui.macros.guard import GuardReport, settings_lexicon
from agent_tui.macros.model import Macro
from agent_tui.macros.render import MacroTemplateError, render, shortcut_index
from agent_tui.macros.store import describe_actions, load_macros, plan_changes
from agent_tui.textsafe import clean, json_text, one_line

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_ERROR = 2
EXIT_WARNINGS = 3

__all__ = ["EXIT_BLOCKED", "EXIT_ERROR", "EXIT_OK", "EXIT_WARNINGS", "exit_code", "make_macro_commands"]


class _Fail(Exception):
    """A user error: one line, exit 2."""


def exit_code(report: GuardReport) -> int:
    if report.blocked:
        return EXIT_BLOCKED
    if report.findings:
        return EXIT_WARNINGS
    return EXIT_OK


def _run(fn: Callable[[], int]) -> None:
    """Run a command body: a user error is one line and exit 2, never a traceback."""
    try:
        code = fn()
    except _Fail as exc:  # may quote a macro, a file name or a ticket: one inert line
        click.echo(f"error: {one_line(str(exc))}", err=True)
        raise SystemExit(EXIT_ERROR) from None
    except (click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except ConfigError as exc:
        click.echo(f"error: {one_line(str(exc), 300)}", err=True)
        raise SystemExit(EXIT_ERROR) from None
    except Exception as exc:  # a bug: never a traceback to the user, the details in the crash log
        from agent_tui.crash import crash_log

        click.echo(f"error: {one_line(str(exc), 200) or 'failed'} ({type(exc).__name__}); details in {crash_log(exc)}",
                   err=True)
        raise SystemExit(EXIT_ERROR) from None
    raise SystemExit(code)


def make_macro_commands(
    cache_factory: Callable[[], Any],
    settings_factory: Callable[[], Any],
) -> tuple[click.Group, click.Command]:
    """(`macro` group, `check-reply` command), reading the cache and settings through the hooks.

    `cache_factory()` returns a storage.cache.Cache (opened lazily, only when a command runs);
    `settings_factory()` returns agent_tui.config.Settings (for `allowed_domains`; optional
    `guard_lexicon` and `guard_lexicon_paths` attributes extend the guard's lexicon, read by
    guard.settings_lexicon as the app does)."""

    def open_cache() -> Any:
        try:
            return cache_factory()
        except Exception as exc:
            raise _Fail(f"cannot open the local cache: {one_line(str(exc), 200)}") from None

    def guard_settings() -> tuple[list[str], Any]:
        settings = settings_factory()
        try:
            lexicon = settings_lexicon(settings)
        except ValueError as exc:
            raise _Fail(f"{one_line(str(exc), 200)}; fix guard_lexicon_paths in the config") from None
        return list(getattr(settings, "allowed_domains", None) or []), lexicon

    def ticket_or_fail(cache: Any, ticket_id: int) -> dict:
        t = cache.ticket(ticket_id)
        if t is None:
            raise _Fail(f"ticket {ticket_id} is not in the local cache (run `agent-tui sync` first)")
        return t

    def resolve_agent(cache: Any, agent: Optional[str]) -> dict:
        if not agent or not agent.strip():
            return {"id": None, "name": None}
        agent = agent.strip()
        agents = cache.agents()
        if agent.isdigit():
            row = agents.get(int(agent))
            if row is None:
                raise _Fail(f"no agent with id {agent} in the local cache")
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
        raise _Fail(f"no macro {clean(key)!r} (see `agent-tui macro list`)")

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
            cache = open_cache()
            who = resolve_agent(cache, agent)
            errors: list[str] = []
            macros = load_macros(cache, who["id"], errors=errors)
            if as_json:
                click.echo(json_text([m.to_dict() for m in macros]))
            else:
                width = max((len(m.key) for m in macros), default=3)
                for m in macros:
                    short = f"::{m.shortcut}" if m.shortcut else ""
                    click.echo(f"{m.key:<{width}}  {short:<13} {','.join(m.languages):<15} {m.usage_count:>5}  "
                               f"{one_line(m.title, 60)}")
                click.echo(f"{len(macros)} macro(s)")
            for e in errors:
                click.echo(f"warning: skipped {one_line(e, 200)}", err=True)
            return EXIT_OK

        _run(body)

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
                    raise _Fail(f"--fill {item!r}: expected PATH=VALUE, e.g. deposit.txid=0xabc")
                fill_map[path.strip()] = value
            deposit = None
            if verdict_file:
                try:
                    raw = sys.stdin.buffer.read() if verdict_file == "-" else Path(verdict_file).read_bytes()
                    deposit = orjson.loads(raw)
                except OSError as exc:
                    raise _Fail(f"cannot read {verdict_file}: {exc.strerror or exc}") from None
                except orjson.JSONDecodeError:
                    raise _Fail(f"{verdict_file} is not JSON (expected `agent-tui lookup --json` output)") from None
                if not isinstance(deposit, dict):
                    raise _Fail(f"{verdict_file}: expected a JSON object")
            allowed, lexicon = guard_settings()
            cache = open_cache()
            ticket = ticket_or_fail(cache, ticket_id)
            who = resolve_agent(cache, agent)
            macro = find_macro(load_macros(cache, who["id"]), key)
            if deposit is None:
                deposit = last_lookup(cache, ticket_id)
            now = time.time()
            context = build_context(cache, ticket_id, agent=who, deposit=deposit, now=now)
            try:
                result = render(macro, context, language=language, fills=fill_map or None)
            except MacroTemplateError as exc:
                raise _Fail(str(exc)) from None
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
            _echo_report(report)
            return code

        _run(body)

    @click.command("check-reply")
    @click.option("--ticket", "ticket_id", type=int, required=True, help="Ticket id (from the local cache).")
    @click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
    @click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
    def check_reply_cmd(ticket_id: int, file: str, as_json: bool) -> None:
        """Run the reply guard on FILE (- for stdin): exit 0 ok, 1 blocked, 3 warnings, 2 error."""

        def body() -> int:
            try:
                raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
            except OSError as exc:
                raise _Fail(f"cannot read {file}: {exc.strerror or exc}") from None
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise _Fail(f"{'stdin' if file == '-' else file} is not UTF-8 text") from None
            if not text.strip():
                raise _Fail("the reply is empty")
            allowed, lexicon = guard_settings()
            cache = open_cache()
            ticket_or_fail(cache, ticket_id)
            report = guard_reply(cache, ticket_id, text, allowed_domains=allowed, lexicon=lexicon)
            code = exit_code(report)
            if as_json:
                click.echo(json_text({"ok": report.ok, "blocked": report.blocked, "codes": report.codes,
                                  "findings": [f.to_dict() for f in report.findings],
                                  "text_sha256": report.text_sha256, "exit": code}))
            else:
                _echo_report(report)
            return code

        _run(body)

    return macro_group, check_reply_cmd


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _echo_report(report: GuardReport) -> None:
    if report.ok:
        click.echo("guard: ok, nothing found")
        return
    for line in report.lines():
        click.echo(f"guard: {clean(line)}")
    if report.blocked:
        click.echo("guard: BLOCKED: this reply must not be sent as it is")
    else:
        click.echo(f"guard: {len(report.warnings)} warning(s): sending needs an explicit override")
