"""pytest fixtures for the real Argilla server (loaded by ``pytest_plugins`` in tests/conftest.py).

``argilla_server`` starts one server per test session, lazily: only tests that use it (those marked
``argilla``) pay the ~20 s start. ``argilla_store_factory`` gives each test its own workspace, so
tests never see each other's datasets even though the server is shared.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from curation.project import init_project
from curation.store.base import RecordStore
from tests.argilla_server.harness import ArgillaServer

_workspaces = itertools.count(1)


@pytest.fixture(scope="session")
def argilla_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArgillaServer]:
    server = ArgillaServer(root=tmp_path_factory.mktemp("argilla-server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def argilla_env(argilla_server: ArgillaServer, monkeypatch: pytest.MonkeyPatch) -> ArgillaServer:
    """ARGILLA_API_URL / ARGILLA_API_KEY set to the owner's, so child processes reopen the store too."""
    monkeypatch.setenv("ARGILLA_API_URL", argilla_server.url)
    monkeypatch.setenv("ARGILLA_API_KEY", argilla_server.api_key)
    return argilla_server


@pytest.fixture
def argilla_store_factory(
    argilla_env: ArgillaServer, tmp_path: Path
) -> Iterator[Callable[[str], tuple[Path, RecordStore]]]:
    """``factory(name) -> (project_dir, store)``: a fresh project on the Argilla server."""
    stores: list[RecordStore] = []

    def factory(name: str) -> tuple[Path, RecordStore]:
        root = tmp_path / name
        workspace = f"ws{next(_workspaces)}-{uuid.uuid4().hex[:8]}"
        store = init_project(
            root,
            name,
            backend="argilla",
            backend_options={"api_url": argilla_env.url, "workspace": workspace},
        )
        stores.append(store)
        return root, store

    yield factory
    for store in stores:
        store.close()
