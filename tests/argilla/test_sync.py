"""Push a labeled local project to a real Argilla server and pull it back; survive a server crash."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from curation.errors import BackendError
from curation.model import Role, Suggestion, User
from curation.project import init_project, open_store
from curation.project_sync import pull_project as pull
from curation.project_sync import push_project as push
from curation.store.argilla.store import ArgillaStore
from tests.argilla_server.harness import ArgillaServer
from tests.factories import make_chat_record, make_record, make_response

pytestmark = [pytest.mark.argilla, pytest.mark.slow]


def _labeled_project(root: Path, n: int = 30) -> list[str]:
    store = init_project(root, f"proj-{uuid.uuid4().hex[:8]}")
    project = store.get_project()
    store.add_user(User(name="dana", role=Role.owner))
    store.add_user(User(name="ann", role=Role.annotator))
    store.add_user(User(name="bob", role=Role.annotator))
    store.update_project(project.model_copy(update={"guidelines": "# Good = correct JSON"}), author="dana")
    records = [
        make_record(metadata={"cluster": i % 3, "flags": ["pii"] if i % 5 == 0 else [], "intent": "x"})
        for i in range(n - 1)
    ]
    records.append(make_chat_record(golden=True, metadata={"nested": {"a": [1, 2]}}))
    store.upsert_records(records)
    store.set_suggestions(
        {records[0].id: [Suggestion(question="label", value="bad", score=0.7, agent="quality")]}
    )
    store.set_vectors(
        "pair", [r.id for r in records], np.random.default_rng(1).normal(size=(n, 4)).astype(np.float32)
    )
    store.save_response(make_response(records[0].id, "ann", values={"label": "good", "rating": 5}))
    store.save_response(
        make_response(
            records[1].id, "bob", values={"label": "needs_fix", "corrected_output": "{}"}, status="draft"
        )
    )
    store.save_response(make_response(records[2].id, "ann", values={"label": "bad"}, status="discarded"))
    store.create_version("v1")
    store.close()
    return [r.id for r in records]


def _snapshot(root: Path) -> dict:
    store = open_store(root, backend="local")
    try:
        records = [r.model_dump() for b in store.iter_records() for r in b]
        responses = sorted((r.record_id, r.user, r.values, str(r.status)) for r in store.get_responses())
        ids, matrix = store.get_vectors("pair")
        project = store.get_project()
        return {
            "records": records,
            "responses": responses,
            "vectors": (ids, matrix.tolist()),
            "guidelines": project.guidelines,
            "questions": project.questions,
        }
    finally:
        store.close()


def test_push_then_pull_round_trips_a_labeled_project(argilla_env: ArgillaServer, tmp_path: Path) -> None:
    _labeled_project(tmp_path / "local")
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    report = push(tmp_path / "local", workspace=workspace, batch_size=7)
    assert (report.inserted, report.responses, report.vectors) == (30, 3, {"pair": 30})
    again = push(tmp_path / "local", workspace=workspace, batch_size=7)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 30)
    assert (report.versions, again.versions) == (1, 0)
    local = open_store(tmp_path / "local", backend="local")
    dataset = local.get_project().name
    # The pushed project opens with --backend argilla from where its last push went.
    remote = open_store(tmp_path / "local", backend="argilla")
    assert isinstance(remote, ArgillaStore) and remote.workspace_name == workspace
    assert remote.load_version("v1") == local.load_version("v1")
    remote.close()
    local.close()
    pulled = pull(tmp_path / "copy", api_url=argilla_env.url, workspace=workspace, dataset=dataset)
    assert pulled.records == 30 and pulled.responses == 3
    before, after = _snapshot(tmp_path / "local"), _snapshot(tmp_path / "copy")
    assert after["records"] == before["records"]
    assert after["responses"] == before["responses"]
    assert after["vectors"][0] == before["vectors"][0]
    np.testing.assert_allclose(after["vectors"][1], before["vectors"][1], rtol=1e-6)
    assert (after["guidelines"], after["questions"]) == (before["guidelines"], before["questions"])


def test_server_killed_mid_push_resumes_with_exactly_one_copy(
    argilla_env: ArgillaServer, tmp_path: Path
) -> None:
    ids = _labeled_project(tmp_path / "local", n=60)
    workspace = f"ws-{uuid.uuid4().hex[:8]}"

    def kill_after_two_batches(done: int, total: int) -> None:
        if done == 20:
            argilla_env.kill_server()

    try:
        with pytest.raises(BackendError, match="run the same push again"):
            push(tmp_path / "local", workspace=workspace, batch_size=10, on_batch=kill_after_two_batches)
    finally:
        argilla_env.start_server()
    report = push(tmp_path / "local", workspace=workspace, batch_size=10)
    assert report.resumed_from_batch == 2
    dataset = open_store(tmp_path / "local", backend="local").get_project().name
    store = ArgillaStore(argilla_env.url, argilla_env.api_key, dataset=dataset, workspace=workspace)
    store_ids = [r.id for b in store.iter_records() for r in b]
    store.close()
    assert sorted(store_ids) == sorted(ids) and len(store_ids) == len(set(store_ids)) == 60
