"""Team mode on a real Argilla server: bounded clicks, a bounded ledger, no made-up accounts, pull of
versions, the bundled example past the server's limits, and answers given in Argilla's own web UI."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from curation.errors import BadInputError, ConflictError, NotFoundError
from curation.model import ResponseStatus, Role, User
from curation.project import init_project, open_store
from curation.project_sync import pull_project, push_project
from curation.review.answers import current_response, save_review
from curation.review.progress import review_progress
from curation.review.queue import QueueFilters, build_queue
from curation.store.argilla.store import ArgillaStore
from curation.store.base import RecordQuery
from tests.argilla_server.harness import ArgillaServer
from tests.factories import make_record, make_response

pytestmark = [pytest.mark.argilla, pytest.mark.slow]


class Recorder:
    """Every request a store sends: (method, path, limit asked, records returned)."""

    def __init__(self, store: ArgillaStore) -> None:
        self.calls: list[tuple[str, str, int, int]] = []
        original = store.http.request

        def request(method: str, path: str, *, what: str, **kwargs: Any) -> Any:
            reply = original(method, path, what=what, **kwargs)
            params = dict(kwargs.get("params") or [])
            items = reply.get("items") if isinstance(reply, dict) else None
            self.calls.append((method, path, int(params.get("limit", 0)), len(items or [])))
            return reply

        store.http.request = request  # type: ignore[method-assign]


def _project(server: ArgillaServer, tmp_path: Path, records: int) -> tuple[Path, ArgillaStore]:
    options = {"api_url": server.url, "workspace": f"ws-{uuid.uuid4().hex[:8]}", "api_key": server.api_key}
    store = init_project(
        tmp_path / "p", f"p{uuid.uuid4().hex[:6]}", backend="argilla", backend_options=options
    )
    assert isinstance(store, ArgillaStore)
    store.upsert_records(
        [make_record(metadata={"cluster": i % 5}, golden=i % 100 == 0) for i in range(records)]
    )
    return tmp_path / "p", store


def test_a_review_click_is_answered_by_the_server_without_reading_the_dataset(
    argilla_server: ArgillaServer, tmp_path: Path
) -> None:
    _, store = _project(argilla_server, tmp_path, 1200)
    me = store.current_user().name
    queue = build_queue(store, me, QueueFilters(status="pending", cluster=2), order="import", size=50)
    assert (len(queue), queue.total) == (50, 240)
    recorder = Recorder(store)
    for index in range(3):  # what the Review page does on each click: show the record, then save it
        record = store.get_record(queue.ids[index])
        response = current_response(store, record.id, me)
        store.get_project()
        review_progress(store, me)
        store.query_records(RecordQuery(golden=True, limit=3))
        save_review(store, record, me, {"label": "good"}, ResponseStatus.submitted, expected_version=0)
    per_click = len(recorder.calls) / 3
    assert per_click <= 25, recorder.calls
    assert max(limit for _, _, limit, _ in recorder.calls) <= 250  # no page of the dataset is read
    assert sum(returned for *_, returned in recorder.calls) <= 3 * 260
    assert response is None and review_progress(store, me).mine_submitted == 3


def test_the_version_ledger_does_not_grow_with_saves(argilla_server: ArgillaServer, tmp_path: Path) -> None:
    _, store = _project(argilla_server, tmp_path, 5)
    me = store.current_user().name
    companion = store._companion.search

    def entries() -> int:
        return companion.count([])

    before = entries()
    ids = [r.id for r in store.query_records().records]
    version = 0
    for n in range(12):
        version = store.save_response(
            make_response(ids[0], me, values={"label": "good" if n % 2 else "bad"}), expected_version=version
        ).version
    for rid in ids[1:]:
        store.save_response(make_response(rid, me), expected_version=0)
    assert version == 12 and entries() == before  # counters live in each user's responses on fixed entries
    assert store.delete_records(ids[:2]) == 2
    counters = store._responses.ledger.counters(ids)
    assert {rid for rid, _ in counters} == set(ids[2:])  # deleted records' counters are pruned


def test_an_unknown_user_name_is_refused_not_created(argilla_server: ArgillaServer, tmp_path: Path) -> None:
    _, store = _project(argilla_server, tmp_path, 1)
    record = store.query_records().records[0]
    name = f"nobody{uuid.uuid4().hex[:6]}"
    with pytest.raises(NotFoundError, match="pairsmith users add"):
        store.save_response(make_response(record.id, name))
    accounts = httpx.get(
        f"{argilla_server.url}/api/v1/users", headers={"X-Argilla-Api-Key": argilla_server.api_key}
    )
    assert name not in {u["username"] for u in accounts.json()["items"]}
    store.add_user(User(name=name, role=Role.annotator))
    assert store.save_response(make_response(record.id, name), expected_version=0).version == 1


def test_pull_brings_dataset_versions_back(argilla_env: ArgillaServer, tmp_path: Path) -> None:
    local = init_project(tmp_path / "local", f"v{uuid.uuid4().hex[:6]}")
    local.add_user(User(name="ann", role=Role.annotator))
    records = [make_record() for _ in range(30)]
    local.upsert_records(records)
    local.save_response(make_response(records[0].id, "ann"))
    frozen = local.create_version("v1")
    local.close()
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    assert push_project(tmp_path / "local", workspace=workspace).versions == 1
    dataset = json.loads((tmp_path / "local" / "pairsmith.json").read_text())["name"]
    pulled = pull_project(tmp_path / "copy", api_url=argilla_env.url, workspace=workspace, dataset=dataset)
    assert pulled.versions == 1
    copy = open_store(tmp_path / "copy")
    try:
        assert [(v.name, v.content_hash) for v in copy.list_versions()] == [("v1", frozen.content_hash)]
        version, got, responses = copy.load_version("v1")
        assert version == frozen
        assert [r.id for r in got] == [r.id for r in records] and len(responses) == 1
    finally:
        copy.close()
    assert pull_project(tmp_path / "copy").versions == 0  # already there


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args], capture_output=True, text=True, check=False
    )


def test_the_example_past_the_servers_limits_pushes_inits_and_pulls(
    argilla_env: ArgillaServer, tmp_path: Path
) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    made = _cli("init", str(tmp_path / "local"), "--example", "--backend", "local")
    assert made.returncode == 0, made.stderr
    pushed = _cli("push", str(tmp_path / "local"), "--to-argilla", "--workspace", workspace, "--json")
    assert pushed.returncode == 0, pushed.stderr
    report = json.loads(pushed.stdout)
    assert (report["records"], report["inserted"]) == (460, 460)
    again = json.loads(_cli("push", str(tmp_path / "local"), "--to-argilla", "--json").stdout)
    assert (again["inserted"], again["unchanged"]) == (0, 460)
    pulled = _cli(
        "pull", str(tmp_path / "copy"), "--workspace", workspace, "--dataset", report["dataset"], "--json"
    )
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["records"] == 460
    local, copy = open_store(tmp_path / "local"), open_store(tmp_path / "copy")
    try:
        golden = RecordQuery(golden=True)
        golden_ids = [r.id for r in local.query_records(golden).records]
        assert golden_ids and [r.id for r in copy.query_records(golden).records] == golden_ids
        assert [r.model_dump() for b in copy.iter_records() for r in b] == [
            r.model_dump() for b in local.iter_records() for r in b
        ]
    finally:
        local.close()
        copy.close()
    # The example made directly on the server.
    direct = _cli("init", str(tmp_path / "direct"), "--example", "--backend", "argilla")
    assert direct.returncode == 0, direct.stderr
    assert "(460 records)" in " ".join((direct.stdout + direct.stderr).split())
    on_server = open_store(tmp_path / "direct")
    try:
        assert on_server.backend == "argilla" and on_server.count_records() == 460
        assert on_server.count_records(RecordQuery(golden=True)) == len(golden_ids)
    finally:
        on_server.close()


def test_answers_given_in_argillas_web_ui_count_and_come_back_with_pull(
    argilla_env: ArgillaServer, tmp_path: Path
) -> None:
    local = init_project(tmp_path / "local", f"ui{uuid.uuid4().hex[:6]}")
    name = f"ann{uuid.uuid4().hex[:6]}"
    local.add_user(User(name=name, role=Role.annotator))
    records = [make_record() for _ in range(4)]
    local.upsert_records(records)
    local.close()
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    report = push_project(tmp_path / "local", workspace=workspace)
    owner = open_store(tmp_path / "local", backend="argilla")
    assert isinstance(owner, ArgillaStore)
    key = owner.api_key_of(name)
    web = _WebUI(argilla_env.url, key, owner._dataset())
    # The annotator's queue as the web UI asks for it, then answers as its buttons do.
    queue = web.pending()
    assert [r["external_id"] for r in queue] == [r.id for r in records]
    first = web.submit(queue[0], {"label": "good", "rating": 5})
    web.draft(queue[1], {"label": "needs_fix", "corrected_output": "fixed"})
    web.update(first, {"label": "bad"}, "submitted")
    assert [r["external_id"] for r in web.pending()] == [
        r.id for r in records[2:]
    ]  # a draft leaves "pending"
    # pairsmith sees the change made outside it: a stale pairsmith save is refused.
    annotator = open_store(tmp_path / "local", backend="argilla", api_key=key)
    mine = annotator.get_responses(user=name)
    assert [(r.record_id, r.values, str(r.status), r.version) for r in mine] == [
        (records[0].id, {"label": "bad"}, "submitted", 1),
        (records[1].id, {"label": "needs_fix", "corrected_output": "fixed"}, "draft", 1),
    ]
    saved = annotator.save_response(
        make_response(records[2].id, name, values={"label": "good"}), expected_version=0
    )
    web.update(web.answer_of(records[2].id), {"label": "bad"}, "submitted")
    with pytest.raises(ConflictError, match="reload"):
        annotator.save_response(
            make_response(records[2].id, name, values={"label": "good"}), expected_version=saved.version
        )
    annotator.close()
    owner.close()
    pulled = pull_project(
        tmp_path / "copy", api_url=argilla_env.url, workspace=workspace, dataset=report.dataset
    )
    assert pulled.responses == 3
    copy = open_store(tmp_path / "copy")
    try:
        back = {(r.record_id, r.user): (r.values, str(r.status)) for r in copy.get_responses()}
        assert back == {
            (records[0].id, name): ({"label": "bad"}, "submitted"),
            (records[1].id, name): ({"label": "needs_fix", "corrected_output": "fixed"}, "draft"),
            (records[2].id, name): ({"label": "bad"}, "submitted"),
        }
    finally:
        copy.close()


class _WebUI:
    """The HTTP calls Argilla's own web UI (argilla-server 2.8.0's frontend) makes to label records."""

    def __init__(self, url: str, key: str, dataset_id: str) -> None:
        self.client = httpx.Client(base_url=f"{url}/api/v1", headers={"X-Argilla-Api-Key": key}, timeout=60)
        self.dataset_id = dataset_id

    def _ok(self, reply: httpx.Response) -> Any:
        assert reply.status_code < 300, (reply.status_code, reply.text[:300])
        return reply.json()

    def pending(self) -> list[dict[str, Any]]:
        """The annotator's pending queue: responses pending and records pending, with responses and suggestions."""
        body = {
            "query": {},
            "filters": {
                "and": [
                    {
                        "type": "terms",
                        "scope": {"entity": "response", "property": "status"},
                        "values": ["pending"],
                    },
                    {
                        "type": "terms",
                        "scope": {"entity": "record", "property": "status"},
                        "values": ["pending"],
                    },
                ]
            },
        }
        params = [("include", "responses"), ("include", "suggestions"), ("offset", "0"), ("limit", "10")]
        reply = self.client.post(f"/me/datasets/{self.dataset_id}/records/search", json=body, params=params)
        records = [item["record"] for item in self._ok(reply)["items"]]
        return sorted(
            records, key=lambda r: r["fields"]["pairsmith"]["position"]
        )  # ps_position is hidden from annotators

    @staticmethod
    def _values(values: dict[str, Any]) -> dict[str, Any]:
        return {name: {"value": value} for name, value in values.items()}

    def _create(self, record: dict[str, Any], values: dict[str, Any], status: str) -> dict[str, Any]:
        reply = self.client.post(
            f"/records/{record['id']}/responses", json={"status": status, "values": self._values(values)}
        )
        self._ok(self.client.get(f"/datasets/{self.dataset_id}/progress"))
        answer: dict[str, Any] = self._ok(reply)
        return answer

    def submit(self, record: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        return self._create(record, values, "submitted")

    def draft(self, record: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        return self._create(record, values, "draft")

    def update(self, answer: dict[str, Any], values: dict[str, Any], status: str) -> dict[str, Any]:
        reply = self.client.put(
            f"/responses/{answer['id']}", json={"status": status, "values": self._values(values)}
        )
        updated: dict[str, Any] = self._ok(reply)
        return updated

    def answer_of(self, external_id: str) -> dict[str, Any]:
        body = {
            "filters": {
                "and": [
                    {
                        "type": "terms",
                        "scope": {"entity": "record", "property": "external_id"},
                        "values": [external_id],
                    }
                ]
            }
        }
        reply = self.client.post(
            f"/me/datasets/{self.dataset_id}/records/search", json=body, params={"include": "responses"}
        )
        answer: dict[str, Any] = self._ok(reply)["items"][0]["record"]["responses"][0]
        return answer


def test_push_refuses_answers_by_people_who_are_not_users(argilla_env: ArgillaServer, tmp_path: Path) -> None:
    local = init_project(tmp_path / "local", f"g{uuid.uuid4().hex[:6]}")
    record = make_record()
    local.upsert_records([record])
    ghost = f"ghost{uuid.uuid4().hex[:6]}"
    local.save_response(make_response(record.id, ghost))  # the local store takes any name
    local.close()
    with pytest.raises(BadInputError, match=f"{ghost}.*pairsmith users add"):
        push_project(tmp_path / "local", workspace=f"ws-{uuid.uuid4().hex[:8]}")
    accounts = httpx.get(
        f"{argilla_env.url}/api/v1/users", headers={"X-Argilla-Api-Key": argilla_env.api_key}
    )
    assert ghost not in {u["username"] for u in accounts.json()["items"]}
