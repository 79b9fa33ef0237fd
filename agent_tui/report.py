"""`agent-tui report`: KPI rows for a period from the backend, as CSV or JSON.

Registered by the CLI with ``main.add_command(report)``. Needs a supervisor token (keyring via
`agent-tui login`, or AGENT_TUI_TOKEN) and the server URL (config or AGENT_TUI_SERVER_URL).
A failure is one line on stderr and exit status 1.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date
from typing import Optional

import click
import httpx

from agent_tui import kpi
from agent_tui.textsafe import clean, json_text, one_line

EXIT_ERROR = 1

CSV_COLUMNS = (
    "key", "name", "created", "solved", "backlog",
    "frt_n", "frt_p50_s", "frt_p90_s", "frt_mean_s",
    "resolution_n", "resolution_p50_s", "resolution_p90_s", "resolution_mean_s",
    "sla", *(f"sla_{m}" for m in kpi.SLA_METRICS),
    "fcr", "csat", "csat_rated", "escalation_rate",
)


class ReportError(click.ClickException):
    exit_code = EXIT_ERROR

    def show(self, file=None) -> None:  # the server's message is hostile text: one inert line
        click.echo(f"agent-tui: {one_line(self.message)}", err=True)


def _num(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) < 1 else f"{v:.3f}".rstrip("0").rstrip(".")
    return str(v)


def csv_row(row: dict) -> list[str]:
    f, r = row["frt"], row["resolution"]
    values = [
        row.get("key"), row.get("name"), row["created"], row["solved"], row["backlog"],
        f["n"], f["p50"], f["p90"], f["mean"], r["n"], r["p50"], r["p90"], r["mean"],
        row["sla_overall"]["compliance"], *(row["sla"][m]["compliance"] for m in kpi.SLA_METRICS),
        row["fcr"], row["csat"], row["csat_rated"], row["escalation_rate"],
    ]
    return [_num(v) if not isinstance(v, str) else _csv_safe(v) for v in values]


def _csv_safe(text: str) -> str:
    """No spreadsheet formula injection from a queue or agent name; no control characters."""
    text = clean(text).replace("\n", " ")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(body: dict) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for row in body.get("rows", []):
        w.writerow(csv_row(row))
    total = dict(body["total"], key="total", name="total")
    w.writerow(csv_row(total))
    return out.getvalue()


def _server_and_token() -> tuple[str, str, float]:
    from agent_tui import auth, config

    try:
        settings = config.load()
        url, token = auth.server_and_token(settings)
    except (config.ConfigError, auth.AuthError) as exc:
        raise ReportError(str(exc)) from None
    return url, token, float(settings.request_timeout)


def fetch(url: str, token: str, params: dict, timeout: float = 30.0) -> dict:
    try:
        resp = httpx.get(f"{url}/api/v1/metrics/report", params=params, timeout=timeout,
                         headers={"Authorization": f"Bearer {token}", "User-Agent": "agent-tui"})
    except httpx.HTTPError as exc:
        raise ReportError(f"cannot reach {url} ({type(exc).__name__})") from None
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.status_code >= 400:
        msg = body.get("message") if isinstance(body, dict) else None
        if resp.status_code == 403:
            msg = msg or "this needs a supervisor token"
        raise ReportError(f"the server refused the report (HTTP {resp.status_code}): {(msg or 'no details')[:300]}")
    if not isinstance(body, dict) or not isinstance(body.get("rows"), list) or "total" not in body:
        raise ReportError(f"the server sent an unexpected answer (HTTP {resp.status_code})")
    return body


def _day(_ctx, param, value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-23", param=param) from None


@click.command("report")
@click.option("--from", "from_", required=True, callback=_day, metavar="DATE", help="First day, YYYY-MM-DD.")
@click.option("--to", "to", required=True, callback=_day, metavar="DATE", help="Last day (inclusive), YYYY-MM-DD.")
@click.option("--by", type=click.Choice(["queue", "agent", "day"]), default="queue", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--tz", default="UTC", show_default=True, help="IANA time zone of the days.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write here instead of stdout.")
def report(from_: str, to: str, by: str, fmt: str, tz: str, output: Optional[str]) -> None:
    """Export KPIs (FRT, resolution, SLA compliance, FCR, CSAT, escalations, backlog) for a period.

    Needs a supervisor token. Definitions: the README's KPI section."""
    if to < from_:
        raise ReportError(f"--to {to} is before --from {from_}")
    url, token, timeout = _server_and_token()
    body = fetch(url, token, {"from": from_, "to": to, "by": by, "tz": tz}, timeout=max(timeout, 30.0))
    text = to_csv(body) if fmt == "csv" else json_text(body) + "\n"
    if output:
        try:
            with open(output, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        except OSError as exc:
            raise ReportError(f"cannot write {output}: {exc.strerror or exc}") from None
        click.echo(f"Wrote {len(body['rows'])} rows to {output}.", err=True)
    else:
        sys.stdout.write(text)
