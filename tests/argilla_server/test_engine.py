"""The test search engine behaves like Elasticsearch where a client could come to rely on a difference.

Every test talks HTTP to the real argilla-server (the same requests any client makes), so the
server's own request limits are checked too. What the engine does not reproduce is listed in its
docstring and in docs/argilla.md; these tests pin down what it does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.argilla_server.harness import ArgillaServer

pytestmark = [pytest.mark.argilla, pytest.mark.slow]

METADATA = {"tag": "terms", "n": "integer", "x": "float"}


class Api:
    """A thin client: one user's key, JSON in and out, the status kept."""

    def __init__(self, url: str, key: str) -> None:
        self.client = httpx.Client(base_url=url, headers={"X-Argilla-Api-Key": key}, timeout=60)

    def __call__(self, method: str, path: str, *, ok: bool = True, **kwargs: Any) -> Any:
        reply = self.client.request(method, f"/api/v1{path}", **kwargs)
        if ok:
            assert reply.status_code < 300, (reply.status_code, reply.text[:500])
            return reply.json() if reply.content else None
        return reply


@pytest.fixture(scope="module")
def owner(argilla_server: ArgillaServer) -> Iterator[Api]:
    api = Api(argilla_server.url, argilla_server.api_key)
    yield api
    api.client.close()


@pytest.fixture(scope="module")
def workspace(owner: Api) -> str:
    return str(owner("POST", "/workspaces", json={"name": f"engine-{uuid.uuid4().hex[:8]}"})["id"])


def make_dataset(owner: Api, workspace: str, metadata: dict[str, str] | None = None) -> str:
    ds = owner("POST", "/datasets", json={"name": f"d{uuid.uuid4().hex[:8]}", "workspace_id": workspace})
    did = str(ds["id"])
    owner(
        "POST", f"/datasets/{did}/fields", json={"name": "text", "title": "t", "settings": {"type": "text"}}
    )
    label = {"type": "label_selection", "options": [{"value": v, "text": v} for v in ("good", "bad")]}
    owner(
        "POST",
        f"/datasets/{did}/questions",
        json={"name": "label", "title": "l", "required": True, "settings": label},
    )
    rating = {"type": "rating", "options": [{"value": v} for v in range(1, 6)]}
    owner(
        "POST",
        f"/datasets/{did}/questions",
        json={"name": "rating", "title": "r", "required": False, "settings": rating},
    )
    owner(
        "POST",
        f"/datasets/{did}/questions",
        json={"name": "note", "title": "n", "required": False, "settings": {"type": "text"}},
    )
    for name, kind in (metadata or METADATA).items():
        owner(
            "POST",
            f"/datasets/{did}/metadata-properties",
            json={"name": name, "title": name, "settings": {"type": kind}},
        )
    owner("PUT", f"/datasets/{did}/publish")
    return did


def put(owner: Api, did: str, items: list[dict[str, Any]]) -> None:
    for item in items:
        item.setdefault("fields", {"text": f"record {item['external_id']}"})
    owner("PUT", f"/datasets/{did}/records/bulk", json={"items": items})


def search(
    api: Api, did: str, body: dict[str, Any], *, me: bool = False, **params: Any
) -> tuple[list[str], int]:
    path = f"/me/datasets/{did}/records/search" if me else f"/datasets/{did}/records/search"
    reply = api("POST", path, json=body, params={"limit": 1000, **params})
    return [i["record"]["external_id"] for i in reply["items"]], reply["total"]


def meta(name: str, values: list[Any]) -> dict[str, Any]:
    return {"type": "terms", "scope": {"entity": "metadata", "metadata_property": name}, "values": values}


def order(name: str, direction: str) -> dict[str, Any]:
    return {"scope": {"entity": "metadata", "metadata_property": name}, "order": direction}


BY_ID = {"scope": {"entity": "record", "property": "external_id"}, "order": "asc"}


# --- the server's request limits ------------------------------------------------------------------


def test_request_limits_are_the_servers(owner: Api, workspace: str) -> None:
    did = make_dataset(owner, workspace)
    ids = {"type": "terms", "scope": {"entity": "record", "property": "external_id"}}
    path = f"/datasets/{did}/records/search"
    assert (
        owner("POST", path, json={"filters": {"and": [{**ids, "values": ["a"] * 251}]}}, ok=False).status_code
        == 422
    )
    assert (
        owner("POST", path, json={"filters": {"and": [{**ids, "values": ["a"] * 250}]}}, ok=False).status_code
        == 200
    )
    assert owner("POST", path, json={}, params={"limit": 1001}, ok=False).status_code == 422
    many = [meta("tag", ["a"])] * 51
    assert owner("POST", path, json={"filters": {"and": many}}, ok=False).status_code == 422
    assert owner("POST", path, json={"sort": [BY_ID] * 11}, ok=False).status_code == 422
    items = [{"external_id": f"r{i}", "fields": {"text": "x"}} for i in range(501)]
    assert owner("PUT", f"/datasets/{did}/records/bulk", json={"items": items}, ok=False).status_code == 422
    # Elasticsearch's result window: from + size past 500,000 is an error, not an empty page.
    assert (
        owner("POST", path, json={}, params={"offset": 499_500, "limit": 1000}, ok=False).status_code >= 400
    )
    assert (
        owner("POST", path, json={}, params={"offset": 499_000, "limit": 1000}, ok=False).status_code == 200
    )


# --- filters --------------------------------------------------------------------------------------


def test_terms_ranges_and_totals(owner: Api, workspace: str) -> None:
    did = make_dataset(owner, workspace)
    put(
        owner,
        did,
        [
            {"external_id": "a", "metadata": {"tag": ["red", "blue"], "n": 1, "x": 0.5}},
            {"external_id": "b", "metadata": {"tag": "red", "n": 2, "x": 0.30000001}},
            {"external_id": "c", "metadata": {"tag": "green", "n": 3}},
            {"external_id": "d", "metadata": {"other": "red"}},  # no property: not indexed
        ],
    )
    assert search(owner, did, {"filters": {"and": [meta("tag", ["red"])]}, "sort": [BY_ID]}) == (
        ["a", "b"],
        2,
    )
    assert search(owner, did, {"filters": {"and": [meta("n", ["2", "3"])]}, "sort": [BY_ID]}) == (
        ["b", "c"],
        2,
    )
    rng = {"type": "range", "scope": {"entity": "metadata", "metadata_property": "n"}, "ge": 2}
    assert search(owner, did, {"filters": {"and": [rng]}, "sort": [BY_ID]}) == (["b", "c"], 2)
    # Float properties are 32-bit: 0.30000001 is stored as 0.3.
    x_le = {"type": "range", "scope": {"entity": "metadata", "metadata_property": "x"}, "le": 0.3}
    assert search(owner, did, {"filters": {"and": [x_le]}})[0] == ["b"]
    # A range on a terms property compares strings.
    tag_range = {"type": "range", "scope": {"entity": "metadata", "metadata_property": "tag"}, "ge": "h"}
    assert sorted(search(owner, did, {"filters": {"and": [tag_range]}})[0]) == ["a", "b"]
    # Totals ignore paging.
    ids, total = search(owner, did, {"sort": [BY_ID]}, offset=1, limit=2)
    assert (ids, total) == (["b", "c"], 4)
    # A terms filter with a decimal on an integer property fails like ES's query parser.
    bad = owner(
        "POST", f"/datasets/{did}/records/search", json={"filters": {"and": [meta("n", ["1.5"])]}}, ok=False
    )
    assert bad.status_code >= 400


def test_a_property_added_later_does_not_index_records_already_there(owner: Api, workspace: str) -> None:
    did = make_dataset(owner, workspace, metadata={"n": "integer"})
    put(owner, did, [{"external_id": "old", "metadata": {"late": "yes"}}])
    owner(
        "POST",
        f"/datasets/{did}/metadata-properties",
        json={"name": "late", "title": "late", "settings": {"type": "terms"}},
    )
    put(owner, did, [{"external_id": "new", "metadata": {"late": "yes"}}])
    assert search(owner, did, {"filters": {"and": [meta("late", ["yes"])]}})[0] == ["new"]
    put(owner, did, [{"external_id": "old", "metadata": {"late": "yes"}}])  # written again: indexed now
    assert sorted(search(owner, did, {"filters": {"and": [meta("late", ["yes"])]}})[0]) == ["new", "old"]


def test_a_document_the_mapping_refuses_is_found_by_no_search(owner: Api, workspace: str) -> None:
    did = make_dataset(owner, workspace)
    put(
        owner,
        did,
        [
            {"external_id": "ok", "metadata": {"tag": "fine"}},
            {"external_id": "object", "metadata": {"tag": {"a": 1}}},
            {"external_id": "immense", "metadata": {"tag": "x" * 40_000}},
        ],
    )
    assert search(owner, did, {}) == (["ok"], 1)
    assert owner("GET", f"/datasets/{did}/progress")["total"] == 1


def test_response_filters_follow_nested_queries(
    argilla_server: ArgillaServer, owner: Api, workspace: str
) -> None:
    did = make_dataset(owner, workspace)
    name = f"eng{uuid.uuid4().hex[:6]}"
    user = owner(
        "POST",
        "/users",
        json={"username": name, "first_name": name, "role": "annotator", "password": "x" * 12},
    )
    owner("POST", f"/workspaces/{workspace}/users", json={"user_id": user["id"]})
    annotator = Api(argilla_server.url, owner("GET", f"/users/{user['id']}")["api_key"])
    me = owner("GET", "/me")
    put(owner, did, [{"external_id": e} for e in ("none", "mine", "theirs", "both")])
    found = {
        r["external_id"]: r for r in owner("GET", f"/datasets/{did}/records", params={"limit": 10})["items"]
    }

    def answer(api: Api, record: str, status: str, label: str, note: str | None = None) -> None:
        values = {"label": {"value": label}, **({"note": {"value": note}} if note else {})}
        api("POST", f"/records/{found[record]['id']}/responses", json={"status": status, "values": values})

    answer(annotator, "mine", "draft", "good", note="hello")
    answer(annotator, "both", "submitted", "bad")
    answer(owner, "theirs", "submitted", "good")
    answer(owner, "both", "draft", "good")
    status = {"entity": "response", "property": "status"}

    def by_status(values: list[str]) -> dict[str, Any]:
        return {"filters": {"and": [{"type": "terms", "scope": status, "values": values}]}, "sort": [BY_ID]}

    # Through /me every part is about the signed-in user; pending = no response by them.
    assert search(annotator, did, by_status(["pending"]), me=True)[0] == ["none", "theirs"]
    assert search(annotator, did, by_status(["pending", "draft"]), me=True)[0] == ["mine", "none", "theirs"]
    # Without a user (owners' endpoint): pending = no response at all; a status matches anyone's.
    assert search(owner, did, by_status(["pending"]))[0] == ["none"]
    assert search(owner, did, by_status(["draft"]))[0] == ["both", "mine"]
    # Two filters may match two different responses ("both": draft by owner, bad by annotator).
    bad = {"type": "terms", "scope": {"entity": "response", "question": "label"}, "values": ["bad"]}
    draft = {"type": "terms", "scope": status, "values": ["draft"]}
    assert search(owner, did, {"filters": {"and": [bad, draft]}})[0] == ["both"]
    # Text answers are not indexed: a filter on them matches nothing.
    note = {"type": "terms", "scope": {"entity": "response", "question": "note"}, "values": ["hello"]}
    assert search(owner, did, {"filters": {"and": [note]}}) == ([], 0)
    # Only the signed-in user's responses come back through /me.
    reply = annotator("POST", f"/me/datasets/{did}/records/search", json={}, params={"include": "responses"})
    assert {str(x["user_id"]) for i in reply["items"] for x in i["record"].get("responses") or []} == {
        user["id"]
    }
    assert str(me["id"]) != user["id"]
    annotator.client.close()


# --- sort -----------------------------------------------------------------------------------------


def test_missing_values_sort_last_and_lists_by_min_or_max(owner: Api, workspace: str) -> None:
    did = make_dataset(owner, workspace)
    put(
        owner,
        did,
        [
            {"external_id": "a", "metadata": {"n": 2, "tag": ["b", "z"]}},
            {"external_id": "b", "metadata": {"tag": "m"}},
            {"external_id": "c", "metadata": {"n": 1, "tag": "a"}},
        ],
    )
    assert search(owner, did, {"sort": [order("n", "asc")]})[0] == ["c", "a", "b"]
    assert search(owner, did, {"sort": [order("n", "desc")]})[0] == ["a", "c", "b"]
    assert search(owner, did, {"sort": [order("tag", "asc")]})[0] == ["c", "a", "b"]  # a's minimum is "b"
    assert search(owner, did, {"sort": [order("tag", "desc")]})[0] == ["a", "b", "c"]  # a's maximum is "z"


def test_ties_come_in_an_arbitrary_order_that_moves_on_writes(owner: Api, workspace: str) -> None:
    did = make_dataset(owner, workspace)
    ids = [f"r{i:03d}" for i in range(60)]
    put(owner, did, [{"external_id": e, "metadata": {"n": 1}} for e in ids])
    first, _ = search(owner, did, {"sort": [order("n", "asc")]})
    assert sorted(first) == ids and first != ids  # not insertion order
    assert search(owner, did, {"sort": [order("n", "asc")]})[0] == first  # stable while nothing is written
    records = {
        r["external_id"]: r for r in owner("GET", f"/datasets/{did}/records", params={"limit": 100})["items"]
    }
    for e in first[:10]:
        owner(
            "POST",
            f"/records/{records[e]['id']}/responses",
            json={"status": "draft", "values": {"label": {"value": "good"}}},
        )
    assert search(owner, did, {"sort": [order("n", "asc")]})[0] != first
    # So offset paging over ties while people label can skip and repeat records:
    assert search(owner, did, {"sort": [order("n", "asc"), BY_ID]})[0] == ids  # a unique key makes it stable


def test_progress_counts_like_elasticsearch(
    argilla_server: ArgillaServer, owner: Api, workspace: str
) -> None:
    did = make_dataset(owner, workspace)
    put(owner, did, [{"external_id": e} for e in ("a", "b", "c")])
    records = {r["external_id"]: r for r in owner("GET", f"/datasets/{did}/records")["items"]}
    owner(
        "POST",
        f"/records/{records['a']['id']}/responses",
        json={"status": "submitted", "values": {"label": {"value": "good"}}},
    )
    owner("POST", f"/records/{records['b']['id']}/responses", json={"status": "draft", "values": {}})
    progress = owner("GET", f"/datasets/{did}/progress")
    assert (progress["total"], progress["completed"], progress["pending"]) == (3, 1, 2)
    metrics = owner("GET", f"/me/datasets/{did}/metrics")["responses"]
    assert (metrics["submitted"], metrics["draft"], metrics["pending"]) == (1, 1, 1)
