"""Shared test setup: offline model loading, and project/store factories."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault(
    "OMP_WAIT_POLICY", "PASSIVE"
)  # see training/__init__.py: spinning OpenMP starves a busy CPU

from curation.project import init_project
from curation.store.base import RecordStore

pytest_plugins = ["tests.argilla_server.fixtures"]  # the real Argilla server (issue 6)


def _shared_data() -> Path:
    """The team's shared datasets: $PAIRSMITH_SHARED_DATA, ../shared/data beside the checkout, or /work's."""
    candidates = [Path(__file__).resolve().parents[2] / "shared" / "data", Path("/work/shared/data")]
    if os.environ.get("PAIRSMITH_SHARED_DATA"):
        candidates.insert(0, Path(os.environ["PAIRSMITH_SHARED_DATA"]))
    return next((c for c in candidates if c.is_dir()), candidates[0])


SHARED_DATA = _shared_data()
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
