"""Sign-in and roles on a local project: who may do what (issue 6 §3; Argilla: tests/argilla/test_auth.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from curation.errors import BadInputError, NotFoundError, PermissionDeniedError
from curation.model import Role, User
from curation.review.auth import ANNOTATOR_ACTIONS, Action, can, require_owner_for, sign_in
from curation.store.base import RecordStore

MakeProject = Callable[..., tuple[Path, RecordStore]]


@pytest.fixture
def team(make_local_project: MakeProject) -> tuple[Path, RecordStore]:
    root, store = make_local_project("team")
    store.add_user(User(name="dana", role=Role.owner))
    store.add_user(User(name="ann", role=Role.annotator))
    return root, store


def test_local_sign_in_by_name_gives_the_store_and_the_role(team: tuple[Path, RecordStore]) -> None:
    root, _ = team
    session = sign_in(root, user_name="ann")
    try:
        assert (session.user.name, session.user.role, session.backend) == ("ann", Role.annotator, "local")
        assert session.store.get_project().name == "team"
        assert session.can(Action.review) and not session.can(Action.export)
    finally:
        session.close()


def test_local_sign_in_refuses_unknown_or_missing_names_and_api_keys(team: tuple[Path, RecordStore]) -> None:
    root, _ = team
    with pytest.raises(NotFoundError, match="valid names: ann, dana"):
        sign_in(root, user_name="mallory")
    with pytest.raises(BadInputError, match="one of ann, dana"):
        sign_in(root)
    with pytest.raises(BadInputError, match="user name") as denied:
        sign_in(root, user_name="ann", api_key="secret-key-123")
    assert "secret-key-123" not in str(denied.value)


def test_can_gives_owners_everything_and_annotators_review_and_read_only_views() -> None:
    owner, annotator = User(name="dana", role=Role.owner), User(name="ann", role=Role.annotator)
    assert all(can(owner, a) for a in Action)
    assert {a for a in Action if can(annotator, a)} == set(ANNOTATOR_ACTIONS)
    assert {Action.review, Action.view_clusters, Action.view_runs} == ANNOTATOR_ACTIONS
    assert can(annotator, "review") and not can(annotator, "train") and not can(None, "review")
    with pytest.raises(BadInputError, match="unknown action 'trian'"):
        can(owner, "trian")


def test_require_owner_for_lets_owners_and_the_cli_through(team: tuple[Path, RecordStore]) -> None:
    _, store = team
    require_owner_for(store, "export the dataset", "dana")
    require_owner_for(store, "export the dataset", User(name="dana", role=Role.owner))
    require_owner_for(store, "export the dataset", None)  # the CLI on a local project: no identity
    with pytest.raises(PermissionDeniedError, match="ann is an annotator and cannot start training"):
        require_owner_for(store, "start training", "ann")
    with pytest.raises(NotFoundError, match="nobody"):
        require_owner_for(store, "ship the adapter", "nobody")


def test_an_annotator_session_cannot_change_guidelines(team: tuple[Path, RecordStore]) -> None:
    root, store = team
    session = sign_in(root, user_name="ann")
    try:
        project = session.store.get_project()
        with pytest.raises(PermissionDeniedError, match="guidelines"):
            session.store.update_project(
                project.model_copy(update={"guidelines": "mine now"}), author=session.user.name
            )
        with pytest.raises(PermissionDeniedError):
            session.require_owner("export the dataset")
    finally:
        session.close()
    assert store.get_project().guidelines == project.guidelines
    saved = store.update_project(project.model_copy(update={"guidelines": "# owners edit"}), author="dana")
    assert store.guidelines_history()[-1].author == "dana" and saved.guidelines == "# owners edit"
