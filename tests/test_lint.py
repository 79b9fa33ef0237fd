"""The tree is clean under the project's static checks, run as part of the suite (so `bash .ci/run` runs them):
deptry (every imported package declared, every declared one used), ruff (the rules in [tool.ruff]) and mypy
(the settings in [tool.mypy]). Each runs as the same command a developer types, from the repository root, and
its whole output is the failure message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["NO_COLOR"] = "1"
    try:
        return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=240, env=env)
    except FileNotFoundError as e:  # pragma: no cover - the interpreter itself is missing
        pytest.fail(f"cannot run {args[0]}: {e}")


def _check(*args: str) -> None:
    r = _run(*args)
    out = (r.stdout + r.stderr).strip()
    if "No module named" in out and r.returncode != 0 and len(out.splitlines()) <= 2:
        pytest.fail(f"{args[0]} is not installed: install the test extras (pip install -e '.[test]'): {out}")
    assert r.returncode == 0, f"`{' '.join(args)}` exited {r.returncode}:\n{out}"


def test_every_imported_package_is_declared_and_every_declared_one_used():
    _check("deptry", ".", "--no-ansi")


def test_ruff_is_clean():
    _check("ruff", "check", "--no-cache", ".")


def test_mypy_is_clean():
    _check("mypy")
