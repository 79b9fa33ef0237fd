"""A click group whose commands are imported only when one of them runs (or is asked for its own --help).

`agent-tui --help` lists every command from its one-line help kept beside the module's name, so it starts
without importing any command module (and what they import: the chains, macros, backend, report code).
"""

from __future__ import annotations

import importlib
from typing import Mapping, Optional

import click


class LazyGroup(click.Group):
    """`lazy` maps a command name to (module, one-line help for the group's listing). The module's
    `commands()` returns the click commands it defines; every one of them is added to the group, so a
    module defining two names (listed under both) is imported once."""

    def __init__(self, *args, lazy: Optional[Mapping[str, tuple[str, str]]] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            for command in importlib.import_module(self.lazy[cmd_name][0]).commands():
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
            else:  # shortened as click shortens a loaded command's help, so the listing reads the same
                rows.append((name, click.Command(name, help=self.lazy[name][1]).get_short_help_str(width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
