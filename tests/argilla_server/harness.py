"""Start and stop a real argilla-server 2.8.0 (with Redis and a SQLite database) for tests.

Everything lives in one folder (``root``): the SQLite database, Argilla's home, TMPDIR (every
import of argilla_server copies its web UI into a new temp folder) and the logs. The server uses
the ``pairsmith_sql`` search engine from ``pairsmith_sql_engine.py`` because Elasticsearch cannot
be installed here.

As a pytest fixture: see ``tests/argilla/conftest.py`` (``argilla_server``, session scope). As a
script, to get a server for manual work::

    .venv/bin/python -m tests.argilla_server.harness /tmp/argilla-dev   # Ctrl-C stops it
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.argilla_server.install import REPO, install_redis, install_venv, redis_binary, server_python

HERE = Path(__file__).resolve().parent
OWNER_NAME = "argilla"  # the name `database users create_default` gives the owner


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ArgillaServer:
    """One argilla-server on 127.0.0.1 with its own Redis, database and folders under ``root``."""

    root: Path
    port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    api_key: str = field(default_factory=lambda: "owner." + secrets.token_hex(16), repr=False)
    password: str = field(default_factory=lambda: secrets.token_hex(12), repr=False)
    _server: subprocess.Popen | None = field(default=None, init=False, repr=False)
    _redis: subprocess.Popen | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        return self.root / "home" / "argilla.db"

    def env(self) -> dict[str, str]:
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "TMPDIR": str(tmp),
            "ARGILLA_HOME_PATH": str(self.root / "home"),
            "ARGILLA_DATABASE_URL": f"sqlite+aiosqlite:///{self.database}?check_same_thread=False",
            "ARGILLA_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "ARGILLA_SEARCH_ENGINE": "pairsmith_sql",
            "ARGILLA_ENABLE_TELEMETRY": "0",
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": str(HERE),
            "PYTHONUNBUFFERED": "1",
        }

    # --- life cycle ------------------------------------------------------------------------------
    def start(self, timeout: float = 120.0) -> ArgillaServer:
        """Install if needed, start Redis, migrate, create the owner, start the server, wait until ready."""
        install_redis()
        install_venv()
        (self.root / "home").mkdir(parents=True, exist_ok=True)
        self._start_redis()
        self._manage("database", "migrate")
        self._manage(
            "database",
            "users",
            "create_default",
            "--api-key",
            self.api_key,
            "--password",
            self.password,
            "--quiet",
        )
        self.start_server(timeout)
        return self

    def start_server(self, timeout: float = 120.0) -> None:
        """Start (or restart) uvicorn only; the database and Redis stay."""
        log = (self.root / "server.log").open("ab")
        self._server = subprocess.Popen(
            [str(server_python()), str(HERE / "serve.py"), "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env(),
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready(timeout)

    def kill_server(self) -> None:
        """SIGKILL the server process (to test a server that dies mid-sync)."""
        if self._server is not None and self._server.poll() is None:
            os.killpg(self._server.pid, signal.SIGKILL)
            self._server.wait(timeout=30)
        self._server = None

    def stop(self) -> None:
        """Stop the server and Redis (the folder stays, for the logs)."""
        for proc in (self._server, self._redis):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
        self._server = self._redis = None

    def __enter__(self) -> ArgillaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- helpers --------------------------------------------------------------------------------
    def _start_redis(self) -> None:
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed; run `python -m tests.argilla_server.install`")
        log = (self.root / "redis.log").open("ab")
        self._redis = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server did not start; see {self.root / 'redis.log'}")

    def _manage(self, *args: str) -> None:
        result = subprocess.run(
            [str(server_python()), "-m", "argilla_server", *args],
            env=self.env(),
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            # The owner's API key and password are arguments; keep them out of the message.
            tail = (
                (result.stderr or result.stdout)[-2000:]
                .replace(self.api_key, "***")
                .replace(self.password, "***")
            )
            raise RuntimeError(f"argilla_server {args[0]} {args[1]} failed:\n{tail}")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._server is not None and self._server.poll() is not None:
                raise RuntimeError(f"argilla-server exited early; see {self.root / 'server.log'}")
            try:
                reply = httpx.get(
                    f"{self.url}/api/v1/me", headers={"X-Argilla-Api-Key": self.api_key}, timeout=2
                )
                if reply.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.kill_server()
        raise RuntimeError(f"argilla-server not ready after {timeout:.0f} s; see {self.root / 'server.log'}")


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "test-artifacts" / "argilla-dev").resolve()
    server = ArgillaServer(root=root, port=int(os.environ.get("ARGILLA_PORT", "6900")))
    with server:
        print(
            f"ARGILLA_API_URL={server.url}\nARGILLA_API_KEY={server.api_key}\n(Ctrl-C stops it)", flush=True
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
