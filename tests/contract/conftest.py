"""The store contract suite runs once per backend, and the reviewer's part once per kind of key.

``STORE_BACKENDS`` lists the backends; each entry names a fixture that returns a factory
``factory(name) -> (project_dir, store)`` creating a fresh, empty project on that backend, opened
with the owner's credentials. A project directory is always returned because child processes (the
concurrency tests) reopen the store with ``curation.project.open_store(project_dir)``, exactly as a
second user's process would.

``reviewer`` is what a person labelling sees: on a local project a user named ``ann``; on Argilla
the owner's own key, and an annotator's own key (Argilla then enforces the annotator's role:
their responses only, no writes to records).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from curation.model import Role, User
from curation.project import open_store
from curation.store.base import RecordStore

StoreFactory = Callable[[str], tuple[Path, RecordStore]]

STORE_BACKENDS = [
    pytest.param("local_store_factory", id="local"),
    pytest.param("argilla_store_factory", id="argilla", marks=[pytest.mark.argilla, pytest.mark.slow]),
]

REVIEWERS = [
    pytest.param(("local_store_factory", "name"), id="local"),
    pytest.param(
        ("argilla_store_factory", "owner-key"),
        id="argilla-owner",
        marks=[pytest.mark.argilla, pytest.mark.slow],
    ),
    pytest.param(
        ("argilla_store_factory", "annotator-key"),
        id="argilla-annotator",
        marks=[pytest.mark.argilla, pytest.mark.slow],
    ),
]


def members(store: RecordStore, *names: str, role: Role = Role.annotator) -> None:
    """Make these people users of the project (Argilla refuses answers from anyone else)."""
    known = {u.name for u in store.list_users()}
    for name in names:
        if name not in known:
            store.add_user(User(name=name, role=role))


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


@dataclass
class Reviewer:
    """One person labelling: ``store`` opened with their credentials, ``owner`` to set the project up."""

    project_dir: Path
    owner: RecordStore
    store: RecordStore
    name: str
    api_key: str | None
    """What a second process of this person signs in with (None: the project's default)."""

    def reopen(self) -> RecordStore:
        return open_store(self.project_dir, api_key=self.api_key)


@pytest.fixture(params=REVIEWERS)
def reviewer(request: pytest.FixtureRequest) -> Reviewer:
    factory_name, kind = request.param
    project_dir, owner = request.getfixturevalue(factory_name)("review")
    if kind == "name":
        members(owner, "ann")
        return Reviewer(project_dir, owner, owner, "ann", None)
    if kind == "owner-key":
        return Reviewer(project_dir, owner, owner, owner.current_user().name, None)  # type: ignore[attr-defined]
    name = f"ann{uuid.uuid4().hex[:6]}"
    members(owner, name)
    key = owner.api_key_of(name)  # type: ignore[attr-defined]
    store = open_store(project_dir, api_key=key)
    request.addfinalizer(store.close)
    return Reviewer(project_dir, owner, store, name, key)
