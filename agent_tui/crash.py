"""Unexpected errors: the details go to a log file, the agent gets one line."""

from __future__ import annotations

import os
import re
import tempfile
import traceback
from pathlib import Path

from agent_tui import locations
from agent_tui.textsafe import one_line as _fold


def _append_to_log(text: str) -> Path:
    """Append to crash.log in the log dir (0600; a temp file if that dir cannot be made) and return its path."""
    try:
        d = locations.log_dir()
        d.mkdir(parents=True, exist_ok=True)
        path = d / "crash.log"
    except OSError:
        path = Path(tempfile.gettempdir()) / "agent-tui-crash.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(text if text.endswith("\n") else text + "\n")
    return path


def crash_log(exc: BaseException) -> Path:
    """Append the traceback to crash.log in the log dir (0600) and return its path."""
    return _append_to_log("".join(traceback.format_exception(exc)))


def summary(exc: BaseException) -> str:
    """`Type: message` on one line, made inert: an exception can carry customer or macro text."""
    return f"{type(exc).__name__}: {_fold(str(exc), 200)}"


def one_line(exc: BaseException, log: Path) -> str:
    return f"agent-tui stopped on an unexpected error ({summary(exc)}); details in {log}."


# the exception's own line in a rendered traceback: its type (named like one), then its message if it has one
_LAST_LINE = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Failed|Fault))(?:: ?(.*))?$")


def crash_report_line(report: str) -> str:
    """Log a traceback Textual rendered (its text) and return the agent's one line about it: the
    exception's type and message, made inert, and where the details are."""
    path = _append_to_log(report)
    what = "unknown error"
    for line in reversed(report.splitlines()):
        m = _LAST_LINE.match(line)
        if m and not line.lstrip().startswith(("│", "╭", "╰", "File ")):
            what = f"{m.group(1)}: {_fold(m.group(2), 200)}" if m.group(2) else m.group(1)  # the last one raised
            break
    return f"agent-tui stopped on an unexpected error ({_fold(what, 260)}); details in {path}."
