"""Sign-in with one's own Argilla API key, and backend selection, against a real Argilla server."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import pytest

from curation.errors import BadInputError, PermissionDeniedError
from curation.model import Role, User
from curation.project import init_project
from curation.review.auth import Action, sign_in
from curation.store.argilla.store import ArgillaStore
from tests.argilla_server.harness import ArgillaServer

pytestmark = [pytest.mark.argilla, pytest.mark.slow]


def test_init_without_backend_picks_argilla_from_the_environment_and_stores_no_key(
    argilla_env: ArgillaServer, tmp_path: Path
) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    store = init_project(tmp_path / "p", "envsel", backend=None, backend_options={"workspace": workspace})
    try:
        assert isinstance(store, ArgillaStore) and store.exists()
    finally:
        store.close()
    text = (tmp_path / "p" / "pairsmith.json").read_text()
    config = json.loads(text)
    assert config["backend"] == "argilla"
    assert config["backend_options"] == {"workspace": workspace, "api_url": argilla_env.url}
    assert argilla_env.api_key not in text


def test_each_person_signs_in_with_their_own_key(
    argilla_env: ArgillaServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    root = tmp_path / "p"
    owner_store = init_project(
        root,
        "signin",
        backend="argilla",
        backend_options={"api_url": argilla_env.url, "workspace": workspace},
    )
    assert isinstance(owner_store, ArgillaStore)
    name = f"ann{uuid.uuid4().hex[:6]}"
    owner_store.add_user(User(name=name, role=Role.annotator))
    key = owner_store.api_key_of(name)
    owner_store.close()

    owner = sign_in(root, api_key=argilla_env.api_key)
    annotator = sign_in(root, api_key=key, user_name=name)
    try:
        assert owner.user.role == Role.owner and owner.can(Action.train)
        assert (annotator.user.name, annotator.user.role) == (name, Role.annotator)
        assert annotator.can(Action.review) and not annotator.can(Action.edit_guidelines)
        assert annotator.store.get_project().name == "signin"
        assert key not in repr(annotator) and argilla_env.api_key not in repr(owner)
    finally:
        owner.close()
        annotator.close()

    bad_key = key[:-4] + "zzzz"
    with pytest.raises(PermissionDeniedError, match="did not accept this API key") as rejected:
        sign_in(root, api_key=bad_key)
    with pytest.raises(PermissionDeniedError, match=f"belongs to {name}") as mismatch:
        sign_in(root, api_key=key, user_name="someone_else")
    with pytest.raises(BadInputError, match="Argilla API key"):
        sign_in(root, user_name=name)
    for message in (str(rejected.value), str(mismatch.value), caplog.text):
        assert key not in message and bad_key not in message and argilla_env.api_key not in message


def test_a_user_outside_the_workspace_cannot_sign_in_to_the_project(
    argilla_env: ArgillaServer, tmp_path: Path
) -> None:
    base = {"api_url": argilla_env.url}
    first = init_project(
        tmp_path / "a",
        "proj-a",
        backend="argilla",
        backend_options={**base, "workspace": f"wa-{uuid.uuid4().hex[:8]}"},
    )
    second = init_project(
        tmp_path / "b",
        "proj-b",
        backend="argilla",
        backend_options={**base, "workspace": f"wb-{uuid.uuid4().hex[:8]}"},
    )
    assert isinstance(second, ArgillaStore)
    outsider = f"out{uuid.uuid4().hex[:6]}"
    second.add_user(User(name=outsider, role=Role.annotator))
    key = second.api_key_of(outsider)
    first.close()
    second.close()
    with pytest.raises(PermissionDeniedError, match="ask an owner to add you") as denied:
        sign_in(tmp_path / "a", api_key=key)
    assert key not in str(denied.value)
