"""Shared test setup: offline model loading, and project/store factories."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see training/__init__.py: spinning OpenMP starves a busy CPU

from curation.project import init_project
from curation.store import RecordStore

pytest_plugins = ["tests.argilla_server.fixtures"]  # the real Argilla server (issue 6)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BITEXT_CSV = SHARED_DATA / "bitext_customer_support.csv"


@pytest.fixture
def make_local_project(tmp_path: Path) -> Iterator[Callable[..., tuple[Path, RecordStore]]]:
    """Create local projects in tmp_path: ``make_local_project(name="p") -> (dir, store)``."""
    stores: list[RecordStore] = []

    def factory(name: str = "proj", **kwargs: object) -> tuple[Path, RecordStore]:
        root = tmp_path / name
        store = init_project(root, name, **kwargs)  # type: ignore[arg-type]
        stores.append(store)
        return root, store

    yield factory
    for store in stores:
        store.close()
