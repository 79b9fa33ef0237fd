"""`agent-tui report`: the command is agent_tui.report's (KPIs for a period, CSV or JSON); here it gets the
command line's one-line failures (a malformed server answer: one line and the crash log)."""

from __future__ import annotations

import copy

import click

from agent_tui.cli.root import friendly
from agent_tui.report import report as _report

report = copy.copy(_report)  # agent_tui.report.report itself stays as it is, for whoever registers it elsewhere
report.callback = friendly(_report.callback)


def commands() -> list[click.Command]:
    return [report]
