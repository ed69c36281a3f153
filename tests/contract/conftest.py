"""The store contract suite runs once per backend.

``STORE_BACKENDS`` lists the backends; each entry names a fixture that returns a factory
``factory(name) -> (project_dir, store)`` creating a fresh, empty project on that backend. A
project directory is always returned because child processes (the concurrency tests) reopen the
store with ``curation.project.open_store(project_dir)``, exactly as a second user's process would.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from curation.store.base import RecordStore

StoreFactory = Callable[[str], tuple[Path, RecordStore]]

STORE_BACKENDS = [
    pytest.param("local_store_factory", id="local"),
    pytest.param("argilla_store_factory", id="argilla", marks=[pytest.mark.argilla, pytest.mark.slow]),
]


@pytest.fixture
def local_store_factory(make_local_project: Callable[..., tuple[Path, RecordStore]]) -> StoreFactory:
    return lambda name: make_local_project(name)


@pytest.fixture(params=STORE_BACKENDS)
def new_project(request: pytest.FixtureRequest) -> StoreFactory:
    """A factory of fresh projects on the backend under test."""
    factory: StoreFactory = request.getfixturevalue(request.param)
    return factory


@pytest.fixture
def project(new_project: StoreFactory) -> tuple[Path, RecordStore]:
    return new_project("contract")


@pytest.fixture
def store(project: tuple[Path, RecordStore]) -> RecordStore:
    return project[1]
