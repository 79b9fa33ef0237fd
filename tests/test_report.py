"""`agent-tui report` with CliRunner against the real backend (metrics router mounted)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from click.testing import CliRunner

from agent_tui.report import CSV_COLUMNS, report
from backend.app import create_app
from backend.metrics import router
from backend.schema import make_engine
from backend.seed import QUEUES, seed
from backend.server import ServerThread


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "backend.db"
    engine = make_engine(f"sqlite:///{path}")
    seed(engine, tickets=300)
    engine.dispose()
    app = create_app(f"sqlite:///{path}")
    app.include_router(router)
    s = ServerThread(app).start()
    yield s
    s.stop()


def days():
    today = datetime.now(timezone.utc).date()
    return (today - timedelta(days=3)).isoformat(), today.isoformat()


def run(args, url, token="demo-supervisor"):
    env = {"AGENT_TUI_SERVER_URL": url, "AGENT_TUI_TOKEN": token}
    return CliRunner().invoke(report, args, env=env, catch_exceptions=False)


def test_csv_by_queue_matches_the_endpoint(server):
    first, last = days()
    r = run(["--from", first, "--to", last, "--by", "queue"], server.url)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert [x["key"] for x in rows] == [q for q, _name in QUEUES] + ["total"]
    body = httpx.get(f"{server.url}/api/v1/metrics/report", params={"from": first, "to": last, "by": "queue"},
                     headers={"Authorization": "Bearer demo-supervisor"}).json()
    for got, want in zip(rows, body["rows"] + [body["total"]]):
        assert int(got["created"]) == want["created"] and int(got["backlog"]) == want["backlog"]
        if want["frt"]["p50"] is None:  # nothing answered in that queue: an empty cell, not 0
            assert got["frt_p50_s"] == ""
        else:
            assert float(got["frt_p50_s"]) == pytest.approx(want["frt"]["p50"], abs=0.001)
        assert (got["fcr"] == "") == (want["fcr"] is None)
        if want["fcr"] is not None:
            assert float(got["fcr"]) == pytest.approx(want["fcr"], rel=1e-5)
    assert int(rows[-1]["created"]) == 300


def test_json_by_day_to_a_file(server, tmp_path):
    first, last = days()
    out = tmp_path / "kpi.json"
    r = run(["--from", first, "--to", last, "--by", "day", "--format", "json", "--output", str(out)], server.url)
    assert r.exit_code == 0, r.output
    body = json.loads(out.read_text())
    assert [x["key"] for x in body["rows"]] == [(datetime.fromisoformat(first) + timedelta(days=i)).date().isoformat() for i in range(4)]
    assert sum(x["created"] for x in body["rows"]) == 300 and body["by"] == "day"
    assert "Wrote 4 rows" in r.stderr


def test_by_agent(server):
    first, last = days()
    r = run(["--from", first, "--to", last, "--by", "agent", "--format", "json"], server.url)
    assert r.exit_code == 0
    names = [x["name"] for x in json.loads(r.stdout)["rows"]]
    assert "Alex Morgan" in names and names[-1] == "(unassigned)"


@pytest.mark.parametrize("args,token,needle", [
    (["--from", "2026-01-02", "--to", "2026-01-01"], "demo-supervisor", "before --from"),
    (["--from", "2020-01-01", "--to", "2026-01-01"], "demo-supervisor", "at most 366 days"),
    (["--from", "2026-01-01", "--to", "2026-01-02"], "demo-agent", "HTTP 403"),
    (["--from", "2026-01-01", "--to", "2026-01-02"], "wrong-token", "HTTP 401"),
])
def test_errors_are_one_line_and_non_zero(server, args, token, needle):
    r = run(args, server.url, token)
    assert r.exit_code == 1
    assert needle in r.stderr and r.stderr.count("\n") == 1 and r.stderr.startswith("agent-tui: ")
    assert r.stdout == ""


def test_unreachable_and_unconfigured(server):
    r = run(["--from", "2026-01-01", "--to", "2026-01-02"], "http://127.0.0.1:9")
    assert r.exit_code == 1 and "cannot reach http://127.0.0.1:9" in r.stderr and r.stderr.count("\n") == 1
    r = CliRunner().invoke(report, ["--from", "2026-01-01", "--to", "2026-01-02"], env={"AGENT_TUI_TOKEN": "x"})
    assert r.exit_code == 1 and "no server configured" in r.stderr
    r = run(["--from", "yesterday", "--to", "2026-01-02"], server.url)
    assert r.exit_code == 2 and "not a date" in r.stderr  # click's usage error for a bad option
