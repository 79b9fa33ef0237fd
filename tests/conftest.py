"""Shared fixtures: the real backend in a child process (so it can be killed), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("AGENT_TUI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Never read or write the real user's config, cache or keyring token."""
    monkeypatch.setenv("AGENT_TUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("AGENT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AGENT_TUI_LOG_DIR", str(tmp_path / "log"))
    for var in ("AGENT_TUI_TOKEN", "AGENT_TUI_SERVER_URL", "AGENT_TUI_CACHE", "AGENT_TUI_CONFIG"):
        monkeypatch.delenv(var, raising=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgresql://", "postgresql://", 1), connect_timeout=3):
            return True
    except Exception:
        return False


def database_url(kind: str, tmp_path: Path) -> str:
    """SQLite in tmp_path, or a fresh PostgreSQL schema of its own (so parallel runs never collide)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'backend.db'}"
    if not pg_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL}; CI must test the backend on PostgreSQL")
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    _PG_SCHEMAS.append(schema)
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


_PG_SCHEMAS: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_schemas():
    yield
    if not _PG_SCHEMAS:
        return
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for schema in _PG_SCHEMAS:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class Backend:
    """`python -m backend` in a child process with fault injection on."""

    def __init__(self, db_url: str, port: int, log: Path):
        self.db_url = db_url
        self.port = port
        self.log = log
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, fresh: bool = False, seed: int = 0, simulate: float = 0.0) -> "Backend":
        args = [sys.executable, "-m", "backend", "--db", self.db_url, "--port", str(self.port), "--faults"]
        if fresh:
            args.append("--fresh")
        if seed:
            args += ["--seed", str(seed)]
        if simulate:
            args += ["--simulate", str(simulate)]
        self.proc = subprocess.Popen(args, cwd=REPO, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"backend exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("backend did not start in 60 s")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def wait_dead(self, timeout: float = 10) -> None:
        assert self.proc is not None
        self.proc.wait(timeout)

    def fault(self, path: str, kind: str, **kw) -> None:
        r = httpx.post(self.url + "/_faults", json={"path": path, "kind": kind, **kw}, timeout=5)
        r.raise_for_status()

    def api(self, method: str, path: str, token: str = "demo-agent", **kw) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
        return httpx.request(method, self.url + "/api/v1" + path, headers=headers, timeout=10, **kw)


@pytest.fixture(params=["sqlite", "pg"])
def backend(request, tmp_path):
    url = database_url(request.param, tmp_path)
    b = Backend(url, free_port(), tmp_path / "backend.log")
    b.start(fresh=True, seed=int(getattr(request, "seed", 0) or 300))
    yield b
    b.kill()


@pytest.fixture
def sqlite_backend(tmp_path):
    b = Backend(f"sqlite:///{tmp_path / 'backend.db'}", free_port(), tmp_path / "backend.log")
    b.start(fresh=True, seed=300)
    yield b
    b.kill()


@pytest.fixture
def cache(tmp_path):
    from storage.cache import Cache

    c = Cache.open(tmp_path / "cache" / "cache.db")
    yield c
    c.close()
