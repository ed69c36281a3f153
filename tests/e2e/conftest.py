"""End-to-end harness: a real project on disk, the app served by `pairsmith ui`, Debian's chromium.

Everything here is real: the local SQLite store, the analysis pipeline, the Streamlit server started
as a subprocess on 127.0.0.1, and Playwright driving the chromium that `make system-deps` installs
from Debian. No browser is ever downloaded (never `playwright install`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from curation.model import Record, RecordSource, Role, User
from curation.project import init_project
from curation.store.base import RecordStore

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM = Path(os.environ.get("PAIRSMITH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # small /dev/shm in containers crashes tabs otherwise
]
SERVER_START_TIMEOUT_S = 120.0  # cold imports of torch/streamlit on a busy 2-core machine
OWNER, ANNOTATOR = "olivia", "arun"


# --- project ------------------------------------------------------------------------------------


def _own_example_records() -> list[Record]:
    """A small support-ticket set with planted exact duplicates, for when no bundled example exists."""
    tickets = [
        ("Where is my order FW-1001? It was due Monday.", '{"category": "shipping_delay"}'),
        ("My fern arrived with broken leaves.", '{"category": "damaged_plant"}'),
        ("Can I change the delivery address for FW-1003?", '{"category": "change_address"}'),
        ("I want a refund for order FW-1004.", '{"category": "refund"}'),
        ("How often should I water a monstera?", '{"category": "care_question"}'),
        ("The pot I received is cracked.", '{"category": "damaged_plant"}'),
        ("Please cancel my subscription.", '{"category": "cancel"}'),
        ("Do you ship to Norway?", '{"category": "shipping_question"}'),
        ("My discount code SPRING10 does not work.", '{"category": "billing"}'),
        ("I was charged twice for FW-1010.", '{"category": "billing"}'),
        ("The orchid is wilting after two days.", '{"category": "care_question"}'),
        ("Tracking for FW-1012 has not updated in a week.", '{"category": "shipping_delay"}'),
        ("Can I gift-wrap my order?", "Sorry, I can't help with that."),
        ("How do I reset my password?", '{"category": "account"'),
        ("Where is my order FW-1001? It was due Monday.", '{"category": "shipping_delay"}'),
        ("I want a refund for order FW-1004.", '{"category": "refund"}'),
    ]
    return [
        Record(
            id=f"ticket-{i:03d}",
            input=text,
            output=output,
            metadata={"channel": "email" if i % 2 else "chat"},
            source=RecordSource(file="tickets.csv", row=i),
        )
        for i, (text, output) in enumerate(tickets, start=1)
    ]


def _example_store(root: Path, name: str, backend: str = "local") -> RecordStore:
    """The bundled Fernway example when this install has it, otherwise our small ticket set."""
    try:
        from curation.importing import example_project
    except ImportError:
        example_project = None  # type: ignore[assignment]
    create = getattr(example_project, "init_example_project", None) or getattr(
        example_project, "create_example_project", None
    )
    if create is not None:
        return create(root, backend=backend)  # type: ignore[no-any-return]
    store = init_project(root, name, backend=backend)
    store.upsert_records(_own_example_records())
    return store


@dataclass
class E2EProject:
    root: Path
    owner: str = OWNER
    annotator: str = ANNOTATOR
    analysis: dict[str, Any] = field(default_factory=dict)
    backend: str = "local"
    keys: dict[str, str] = field(default_factory=dict, repr=False)
    """Each person's Argilla API key (Argilla projects), what they sign in with."""


@pytest.fixture
def make_e2e_project(tmp_path: Path) -> Callable[..., E2EProject]:
    """Build a real, analysed local project: ``make_e2e_project(embedder="minilm") -> E2EProject``.

    Uses the bundled example dataset (``pairsmith init DIR --example``) when it exists, otherwise
    a small ticket set with planted duplicates; adds an owner and an annotator; runs the real
    analysis pipeline (the packaged MiniLM model by default).
    """

    def factory(name: str = "e2e-project", embedder: str = "minilm", backend: str = "local") -> E2EProject:
        from curation.analysis.pipeline import AnalysisSettings, analyze_project

        root = tmp_path / name
        store = _example_store(root, name, backend)
        keys = {}
        try:
            for user in (User(name=OWNER, role=Role.owner), User(name=ANNOTATOR, role=Role.annotator)):
                if user.name not in {u.name for u in store.list_users()}:
                    store.add_user(user)
                if backend == "argilla":
                    keys[user.name] = store.api_key_of(user.name)  # type: ignore[attr-defined]
        finally:
            store.close()
        report = analyze_project(root, settings=AnalysisSettings(embedder=embedder))
        return E2EProject(root=root, analysis=report.model_dump(mode="json"), backend=backend, keys=keys)

    return factory


# --- server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pairsmith_command() -> list[str]:
    exe = Path(sys.executable).with_name("pairsmith")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ui.cli"]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:] if self.log.exists() else ""


def _wait_healthy(server: Server, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the app exited with code {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the app did not answer within {timeout_s:.0f}s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # the server's own process group, started below
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@pytest.fixture
def serve_app(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start `pairsmith ui DIR --host 127.0.0.1 --port <free>` and wait until it answers HTTP.

    ``serve_app(project_dir, command=None) -> Server``; ``command`` replaces the pairsmith command
    line (the harness check serves a bare Streamlit script with it). Every server is stopped at
    teardown, its whole process group, so no Streamlit child outlives the test.
    """
    started: list[Server] = []

    def factory(project_dir: Path | None = None, command: list[str] | None = None) -> Server:
        port = free_port()
        if command is None:
            assert project_dir is not None
            command = [
                *_pairsmith_command(),
                "ui",
                str(project_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
        else:
            command = [c.replace("{port}", str(port)) for c in command]
        log = tmp_path / f"server-{port}.log"
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "OMP_NUM_THREADS": "1",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            "STREAMLIT_SERVER_HEADLESS": "true",
        }
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = Server(url=f"http://127.0.0.1:{port}", process=process, log=log)
        started.append(server)
        try:
            _wait_healthy(server, SERVER_START_TIMEOUT_S)
        except Exception:
            _stop(process)
            raise
        return server

    yield factory
    for server in started:
        _stop(server.process)


# --- browser ------------------------------------------------------------------------------------


@pytest.fixture
def browser_context() -> Iterator[Any]:
    """A Playwright browser context on Debian's chromium with a fresh profile, headless."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install it with `make system-deps` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="pairsmith-chromium-"))
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(profile),
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                headless=True,
                viewport={"width": 1400, "height": 1000},
            )
            context.set_default_timeout(30_000)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """``screenshot(page, name) -> path``: a full-page PNG in test-artifacts/e2e/ (gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_") or "page"
        path = ARTIFACTS / f"{safe}.png"
        # Streamlit scrolls inside its main container, not the document, so `full_page` alone stops
        # at the viewport: grow the viewport to the content's height for the shot, then restore it.
        size = page.viewport_size
        height = page.evaluate(
            "Math.max(...[...document.querySelectorAll(\"[data-testid='stMain'], "
            "[data-testid='stSidebarContent']\")].map(e => e.scrollHeight), 0)"
        )
        if size and height > size["height"]:
            page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 8000)})
            page.wait_for_timeout(300)
        try:
            page.screenshot(path=str(path), full_page=True)
        finally:
            if size:
                page.set_viewport_size(size)
        return path

    return take
