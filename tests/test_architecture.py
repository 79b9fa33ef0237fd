"""storage/, backend/ and the domain modules never import textual, widgets or themes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORE = ["storage", "backend", "agent_tui/sync", "agent_tui/retry.py", "agent_tui/sla.py", "agent_tui/chains", "agent_tui/macros",
        "agent_tui/config.py", "agent_tui/auth.py", "agent_tui/locations.py", "agent_tui/textsafe.py",
        "agent_tui/kpi.py", "agent_tui/crash.py", "agent_tui/report.py", "agent_tui/cli"]
UI = ("textual", "widgets", "themes")


def _core_files():
    for entry in CORE:
        p = REPO / entry
        if p.is_dir():
            yield from sorted(p.rglob("*.py"))
        elif p.exists():
            yield p


def test_core_sources_do_not_import_the_ui():
    offenders = []
    for path in _core_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for n in names:
                if n.split(".")[0] in UI:
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno} imports {n}")
    assert not offenders, offenders
    assert len(list(_core_files())) > 15  # the rule looks at real files


def test_importing_the_core_loads_no_ui_module():
    mods = ["storage.cache", "storage.db", "backend.app", "backend.seed", "backend.simulator", "agent_tui.sync",
            "agent_tui.sla", "agent_tui.chains", "agent_tui.macros", "agent_tui.config", "agent_tui.auth",
            "agent_tui.kpi", "backend.metrics", "backend.demo_chain"]
    code = "import sys\n" + "".join(f"import {m}\n" for m in mods) + (
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'widgets', 'themes'))\n"
        "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def _cli_files():
    """The modules that print for the command line: agent_tui/cli/ and report.py."""
    yield from sorted((REPO / "agent_tui" / "cli").glob("*.py"))
    yield REPO / "agent_tui" / "report.py"


def test_cli_json_goes_through_textsafe_json_text():
    """JSON the CLI prints is written by textsafe.json_text (controls, bidi and C1 escaped), never by
    json.dumps / orjson.dumps, which leave them raw."""
    offenders = []
    files = list(_cli_files())
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("dumps", "dump") and \
                    isinstance(node.value, ast.Name) and node.value.id in ("json", "orjson", "simplejson", "ujson"):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} {node.value.id}.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module in ("json", "orjson") and \
                    any(a.name in ("dumps", "dump", "JSONEncoder") for a in node.names):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} imports from {node.module}")
    assert not offenders, offenders
    assert len(files) >= 4 and all(p.exists() for p in files)


def test_the_import_contracts_hold():
    """The layer rules in pyproject.toml's [tool.importlinter], checked by import-linter on the whole tree."""
    out = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                          "sys.exit(lint_imports(no_cache=True))"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "BROKEN" not in out.stdout and out.stdout.count("KEPT") >= 3
