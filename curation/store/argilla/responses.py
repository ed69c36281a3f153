"""Responses on Argilla: per-user answers plus pairsmith's response version ledger.

Argilla keeps one response per (record, user) but no version number, so optimistic saves use the
``rv:<record>|<user>|<n>`` ledger in the companion dataset (``argilla_side.py``): saving version
n+1 first creates ledger entry n+1, and Argilla's unique (dataset, external_id) constraint lets
exactly one writer create it. Annotators cannot read the companion dataset; their saves go through
the record's own response endpoints (see docs/argilla.md, "Limits").

These are the bodies of :class:`~curation.store.argilla.store.ArgillaStore`'s response methods, kept
apart so that the store module stays one readable size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from curation.errors import ConflictError, NotFoundError, PermissionDeniedError
from curation.model import Response, ResponseStatus, new_id
from curation.store.argilla import mapping as M

if TYPE_CHECKING:
    from curation.store.argilla.store import ArgillaStore


def ledger_versions(store: ArgillaStore) -> dict[tuple[str, str], int]:
    """The latest ledger version of every (record id, user name); empty for annotators."""
    if not store.is_manager:
        return {}
    latest: dict[tuple[str, str], int] = {}
    for meta, _ in store._side_records().by_kind("rv"):
        rid, _, user = str(meta.get("key", "")).partition("|")
        latest[(rid, user)] = max(latest.get((rid, user), 0), int(meta.get("n") or 0))
    return latest


def save_response(store: ArgillaStore, response: Response, expected_version: int | None) -> Response:
    """The store's ``save_response``: ledger entry first (the compare-and-set), then the response."""
    values = store.get_project().validate_answers(response.values)
    raw = store._by_ids([response.record_id], include=("responses",)).get(response.record_id)
    if raw is None:
        raise NotFoundError(f"no record with id '{response.record_id}' in dataset '{store.dataset_name}'")
    if not store.is_manager:
        return _save_own_response(store, raw, response, values, expected_version)
    user_id = store._user_id(response.user)
    key = f"{response.record_id}|{response.user}"
    side = store._side_records()
    current = max((int(m.get("n") or 0) for m, _ in side.by_kind("rv", key)), default=0)
    if expected_version is not None and expected_version != current:
        raise _stale(response, current, expected_version)
    version = current + 1
    while not side.create(f"rv:{key}|{version}", "rv", {"key": key, "n": version}, {"by": new_id()}):
        if expected_version is not None:
            raise _stale(response, version, expected_version)
        version += 1  # last write wins: take the next free version
    body = {
        "user_id": user_id,
        "values": M.response_values_to_argilla(values),
        "status": str(response.status),
    }
    store._bulk_upsert([{"external_id": response.record_id, "responses": [body]}])
    written = store._by_ids([response.record_id], ("responses",))[response.record_id].get("responses") or []
    saved = next((x for x in written if str(x["user_id"]) == user_id), body)
    return M.response_from_argilla(saved, response.record_id, response.user, version)


def put_responses(store: ArgillaStore, responses: Sequence[Response]) -> int:
    """Write many responses as they are, versions included (push and restore; owners only).

    Idempotent: a response and its ledger entries are upserted by (record, user), so a repeated
    push writes nothing new. Returns how many were written.
    """
    store.require_owner("write other users' responses")
    by_record: dict[str, list[dict[str, Any]]] = {}
    ledger: list[tuple[str, str, dict[str, Any], Any]] = []
    for r in responses:
        body = {
            "user_id": store._user_id(r.user),
            "values": M.response_values_to_argilla(r.values),
            "status": str(r.status),
        }
        by_record.setdefault(r.record_id, []).append(body)
        key = f"{r.record_id}|{r.user}"
        for n in range(1, max(r.version, 1) + 1):
            ledger.append((f"rv:{key}|{n}", "rv", {"key": key, "n": n}, {"by": "push"}))
    store._bulk_upsert([{"external_id": rid, "responses": bodies} for rid, bodies in by_record.items()])
    store._side_records().put(ledger)
    return len(responses)


def _save_own_response(
    store: ArgillaStore,
    raw: dict[str, Any],
    response: Response,
    values: dict[str, Any],
    expected_version: int | None,
) -> Response:
    """An annotator's save through the record's own response endpoints (no ledger: see docs)."""
    me = store.current_user()
    if response.user != me.name:
        raise PermissionDeniedError(f"{me.name} cannot save a response as {response.user}")
    my_id = str(store._me["id"])
    mine = next((x for x in raw.get("responses") or [] if str(x["user_id"]) == my_id), None)
    if expected_version == 0 and mine is not None:
        raise _stale(response, 1, 0)
    body = {"values": M.response_values_to_argilla(values), "status": str(response.status)}
    if mine is None:
        saved = store.http.request(
            "POST", f"/api/v1/records/{raw['id']}/responses", json=body, what="save response"
        )
    else:
        saved = store.http.request("PUT", f"/api/v1/responses/{mine['id']}", json=body, what="save response")
    return M.response_from_argilla(saved, response.record_id, response.user, (expected_version or 0) + 1)


def _stale(response: Response, current: int, expected: int) -> ConflictError:
    return ConflictError(
        f"record '{response.record_id}': {response.user}'s response changed since you opened it "
        f"(version {current}, you had {expected}), probably in another tab; reload the record and save again"
    )


def get_responses(
    store: ArgillaStore,
    record_ids: Sequence[str] | None,
    user: str | None,
    status: ResponseStatus | None,
) -> list[Response]:
    """The store's ``get_responses``: every matching response in import order, with its version."""
    raws = (
        list(store._by_ids(record_ids, ("responses",)).values())
        if record_ids is not None
        else store._search([], ("responses",))
    )
    versions = ledger_versions(store)
    out: list[Response] = []
    for raw in sorted(raws, key=M.position_of):
        for x in raw.get("responses") or []:
            name = store._user_name(str(x["user_id"]))
            if (user is not None and name != user) or (status is not None and x["status"] != str(status)):
                continue
            out.append(
                M.response_from_argilla(
                    x, raw["external_id"], name, versions.get((raw["external_id"], name), 1)
                )
            )
    return out
