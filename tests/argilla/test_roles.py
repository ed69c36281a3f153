"""Argilla's roles decide who may change guidelines and train: an annotator's key may only label."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from curation.errors import PermissionDeniedError
from curation.model import Role, User
from curation.project import init_project
from curation.project_sync import push_project as push
from curation.store.argilla.store import ArgillaStore
from tests.argilla_server.harness import ArgillaServer
from tests.factories import make_record, make_response

pytestmark = [pytest.mark.argilla, pytest.mark.slow]


def test_annotator_key_cannot_change_guidelines_or_train_but_can_label(
    argilla_env: ArgillaServer, tmp_path: Path
) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    owner = init_project(
        tmp_path / "p",
        "roles",
        backend="argilla",
        backend_options={"api_url": argilla_env.url, "workspace": workspace},
    )
    assert isinstance(owner, ArgillaStore)
    name = f"ann{uuid.uuid4().hex[:6]}"
    owner.add_user(User(name=name, role=Role.annotator))
    record = make_record()
    owner.upsert_records([record])
    key = owner.api_key_of(name)
    annotator = ArgillaStore(argilla_env.url, key, dataset="roles", workspace=workspace)
    assert key not in repr(annotator) and argilla_env.api_key not in repr(owner)
    project = annotator.get_project()
    with pytest.raises(PermissionDeniedError):
        annotator.update_project(project.model_copy(update={"guidelines": "mine now"}))
    with pytest.raises(PermissionDeniedError, match="train"):
        annotator.require_owner("start training")
    init_project(tmp_path / "local", "roles-local").close()
    with pytest.raises(PermissionDeniedError) as denied:
        push(tmp_path / "local", api_key=key, workspace=workspace)
    assert key not in str(denied.value)
    saved = annotator.save_response(
        make_response(record.id, name, values={"label": "good"}), expected_version=0
    )
    assert saved.values == {"label": "good"}
    assert [r.user for r in owner.get_responses(record_ids=[record.id])] == [name]
    assert owner.get_project().guidelines == ""
