"""`agent-tui check-reply --ticket ID FILE|- [--json]`: the reply guard alone on a reply text (a file, or -
for stdin), with the ticket's customer addresses, the exchange's published addresses and the
`allowed_domains` setting, read from the local cache.

Exit status (this command and `agent-tui macro render`, which shares what follows):
  0  nothing found: the reply can be sent as it is
  1  BLOCKED: the reply asks for a secret (seed phrase, private key, 2FA code, password)
  3  warnings only (foreign or look-alike link, unknown address, unfilled placeholder):
     sending needs the agent's explicit override
  2  error (unknown ticket or macro, unreadable file, bad config): one line `error: ...` on stderr

Never imports textual, widgets or themes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click

from agent_tui.cli import root
from agent_tui.config import ConfigError
from agent_tui.macros.context import guard_reply
from agent_tui.macros.guard import GuardReport, settings_lexicon
from agent_tui.textsafe import clean, json_text, one_line

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_ERROR = 2
EXIT_WARNINGS = 3


class Fail(Exception):
    """A user error: one line, exit 2."""


def exit_code(report: GuardReport) -> int:
    if report.blocked:
        return EXIT_BLOCKED
    if report.findings:
        return EXIT_WARNINGS
    return EXIT_OK


def run(fn: Callable[[], int]) -> None:
    """Run a command body: a user error is one line and exit 2, never a traceback."""
    try:
        code = fn()
    except Fail as exc:  # may quote a macro, a file name or a ticket: one inert line
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


def open_cache(cache_factory: Callable[[], Any]) -> Any:
    try:
        return cache_factory()
    except Exception as exc:
        raise Fail(f"cannot open the local cache: {one_line(str(exc), 200)}") from None


def guard_settings(settings_factory: Callable[[], Any]) -> tuple[list[str], Any]:
    """(`allowed_domains`, the lexicon extension) of the settings: optional `guard_lexicon` and
    `guard_lexicon_paths` attributes extend the guard's lexicon, read by guard.settings_lexicon as the app does."""
    settings = settings_factory()
    try:
        lexicon = settings_lexicon(settings)
    except ValueError as exc:
        raise Fail(f"{one_line(str(exc), 200)}; fix guard_lexicon_paths in the config") from None
    return list(getattr(settings, "allowed_domains", None) or []), lexicon


def ticket_or_fail(cache: Any, ticket_id: int) -> dict:
    t = cache.ticket(ticket_id)
    if t is None:
        raise Fail(f"ticket {ticket_id} is not in the local cache (run `agent-tui sync` first)")
    return t


def echo_report(report: GuardReport) -> None:
    if report.ok:
        click.echo("guard: ok, nothing found")
        return
    for line in report.lines():
        click.echo(f"guard: {clean(line)}")
    if report.blocked:
        click.echo("guard: BLOCKED: this reply must not be sent as it is")
    else:
        click.echo(f"guard: {len(report.warnings)} warning(s): sending needs an explicit override")


def make_check_reply_command(cache_factory: Callable[[], Any], settings_factory: Callable[[], Any]) -> click.Command:
    """`check-reply`, reading the cache (a storage.cache.Cache, opened only when the command runs) and the
    settings (agent_tui.config.Settings) through the hooks."""

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
                raise Fail(f"cannot read {file}: {exc.strerror or exc}") from None
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Fail(f"{'stdin' if file == '-' else file} is not UTF-8 text") from None
            if not text.strip():
                raise Fail("the reply is empty")
            allowed, lexicon = guard_settings(settings_factory)
            cache = open_cache(cache_factory)
            ticket_or_fail(cache, ticket_id)
            report = guard_reply(cache, ticket_id, text, allowed_domains=allowed, lexicon=lexicon)
            code = exit_code(report)
            if as_json:
                click.echo(json_text({"ok": report.ok, "blocked": report.blocked, "codes": report.codes,
                                  "findings": [f.to_dict() for f in report.findings],
                                  "text_sha256": report.text_sha256, "exit": code}))
            else:
                echo_report(report)
            return code

        run(body)

    return check_reply_cmd


def commands() -> list[click.Command]:
    return [make_check_reply_command(lambda: root._cache(), lambda: root._settings())]
