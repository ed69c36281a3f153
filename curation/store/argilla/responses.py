"""Responses on Argilla: each user's answers, saved with pairsmith's optimistic versions.

A save runs under the user's save lock (``ledger.py``): it reads the user's current response and
its version, refuses a stale ``expected_version`` with ConflictError, writes the answer (the
user's own through ``POST /records/{id}/responses`` or ``PUT /responses/{id}``, the same calls
Argilla's web UI makes; an owner's on someone's behalf through a bulk upsert) and then the new
version counter. Owners and admins read every user's responses; annotators their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from curation.errors import ConflictError, NotFoundError
from curation.model import Project, Response, ResponseStatus
from curation.store.argilla.http import ArgillaHTTP
from curation.store.argilla.ledger import Counter, ResponseLedger, Shard, version_of
from curation.store.argilla.limits import BULK_RECORDS_MAX, chunks
from curation.store.argilla.mapping import position_of, response_from_argilla, response_values_to_argilla
from curation.store.argilla.query import ANSWERED, position_key, terms
from curation.store.argilla.records import RecordSearch
from curation.store.argilla.users import Users
from curation.store.base import ResponseCounts

STATUS = {"entity": "response", "property": "status"}


def _stale(response: Response, current: int, expected: int) -> ConflictError:
    return ConflictError(
        f"record '{response.record_id}': {response.user}'s response changed since you opened it "
        f"(version {current}, you had {expected}), probably in another tab; reload the record and save again"
    )


class Responses:
    """The responses of one dataset, as the signed-in user may see and write them."""

    def __init__(
        self,
        http: ArgillaHTTP,
        search: RecordSearch,
        users: Users,
        ledger: ResponseLedger,
        project: Callable[[], Project],
    ) -> None:
        self.http = http
        self.search = search
        self.users = users
        self.ledger = ledger
        self.project = project
        """The project's questions (to validate answers); cached by the store."""

    @property
    def me(self) -> str:
        return str(self.users.me["id"])

    # --- saving ---------------------------------------------------------------------------------
    def save(self, response: Response, expected_version: int | None) -> Response:
        values = self.project().validate_answers(response.values)
        if response.user != self.users.me["username"]:
            self.users.require_manager(f"save answers as {response.user}")
        user_id = self.users.id_of(response.user)  # NotFoundError for a name that is not a member
        own = user_id == self.me
        body = {"values": response_values_to_argilla(values), "status": str(response.status)}

        def save_locked(shard: Shard) -> Response:
            raw = self.search.by_external_ids([response.record_id], include=["responses"], mine=own).get(
                response.record_id
            )
            if raw is None:
                raise NotFoundError(f"no record with id '{response.record_id}' in this dataset")
            current_response = next(
                (x for x in raw.get("responses") or [] if str(x["user_id"]) == user_id), None
            )
            counters = dict(shard.counters.get(user_id, {}))
            current = version_of(counters.get(response.record_id), current_response)
            if expected_version is not None and expected_version != current:
                raise _stale(response, current, expected_version)
            saved = self._write(raw, current_response, user_id, body, own)
            if saved is None:  # someone answered meanwhile outside pairsmith (Argilla's own UI)
                raise _stale(response, current + 1, current)
            counters[response.record_id] = (current + 1, saved.get("updated_at"))
            self.ledger.write_map(shard, user_id, counters)
            return response_from_argilla(saved, response.record_id, response.user, current + 1)

        return self.ledger.locked(user_id, response.record_id, save_locked)

    def _write(
        self,
        raw: dict[str, Any],
        current: dict[str, Any] | None,
        user_id: str,
        body: dict[str, Any],
        own: bool,
    ) -> dict[str, Any] | None:
        """Write the answer; the stored response (None when an own first answer lost a race)."""
        if own:
            if current is None:
                return self.http.create(
                    f"/api/v1/records/{raw['id']}/responses",
                    json=body,
                    what="save response",
                    exists=lambda: self._own_response(raw["external_id"]) is not None,
                )
            saved = self.http.request(
                "PUT", f"/api/v1/responses/{current['id']}", json=body, what="save response"
            )
            return dict(saved)
        self.http.request(
            "PUT",
            f"/api/v1/datasets/{self.search.dataset_id}/records/bulk",
            json={"items": [{"id": str(raw["id"]), "responses": [{**body, "user_id": user_id}]}]},
            what="save response",
        )
        fresh = self.search.by_external_ids([raw["external_id"]], include=["responses"])[raw["external_id"]]
        return next((x for x in fresh.get("responses") or [] if str(x["user_id"]) == user_id), None)

    def delete(self, record_id: str, user: str) -> bool:
        """Remove ``user``'s response (undoing a first review, someone else's: owners); False when there was none.

        Under the user's save lock, and their version counter goes with it, so the next save starts
        again from version 0 as on the local store.
        """
        if user != self.users.me["username"]:
            self.users.require_manager("delete other people's responses")
        user_id = self.users.id_of(user)
        own = user_id == self.me

        def delete_locked(shard: Shard) -> bool:
            raw = self.search.by_external_ids([record_id], include=["responses"], mine=own).get(record_id)
            if raw is None:
                raise NotFoundError(f"no record with id '{record_id}' in this dataset")
            found = next((x for x in raw.get("responses") or [] if str(x["user_id"]) == user_id), None)
            if found is None:
                return False
            self.http.request("DELETE", f"/api/v1/responses/{found['id']}", what="delete response")
            counters = dict(shard.counters.get(user_id, {}))
            if counters.pop(record_id, None) is not None:
                self.ledger.write_map(shard, user_id, counters)
            return True

        return self.ledger.locked(user_id, record_id, delete_locked)

    def _own_response(self, record_id: str) -> dict[str, Any] | None:
        raw = self.search.by_external_ids([record_id], include=["responses"], mine=True).get(record_id) or {}
        return next((x for x in raw.get("responses") or [] if str(x["user_id"]) == self.me), None)

    def put_many(self, responses: Sequence[Response]) -> int:
        """Write responses as they are, versions included (owners: push and restores; last write wins).

        Idempotent: a response is upserted by (record, user), so a repeated push writes nothing new.
        """
        self.users.require_manager("write other users' responses")
        by_record: dict[str, list[dict[str, Any]]] = {}
        counters: dict[tuple[str, str], Counter] = {}
        for r in responses:
            user_id = self.users.id_of(r.user)
            body = {
                "user_id": user_id,
                "values": response_values_to_argilla(r.values),
                "status": str(r.status),
            }
            by_record.setdefault(r.record_id, []).append(body)
            counters[(r.record_id, user_id)] = (max(r.version, 1), None)
        items = [{"external_id": rid, "responses": bodies} for rid, bodies in by_record.items()]
        for batch in chunks(items, BULK_RECORDS_MAX):
            self.http.request(
                "PUT",
                f"/api/v1/datasets/{self.search.dataset_id}/records/bulk",
                json={"items": batch},
                what="write responses",
            )
        self.ledger.put_counters(counters)
        return len(responses)

    # --- reading --------------------------------------------------------------------------------
    def get(
        self, record_ids: Sequence[str] | None, user: str | None, status: ResponseStatus | None
    ) -> list[Response]:
        """Matching responses in import order, with their versions.

        Annotators see only their own: for them ``user=None`` means themselves, another name nothing.
        """
        if user is not None and not self.users.manager and user != self.users.me["username"]:
            return []
        mine = not self.users.manager or (user is not None and user == self.users.me["username"])
        # Only records holding such a response travel (by anyone, or by the signed-in user on /me).
        filters = [terms(STATUS, [str(status)] if status is not None else list(ANSWERED))]
        if record_ids is not None:
            raws = list(
                self.search.by_external_ids(
                    record_ids, include=["responses"], mine=mine, filters=filters
                ).values()
            )
        else:
            raws = [r for batch in self.search.scan(filters, include=["responses"], mine=mine) for r in batch]
        raws.sort(key=lambda r: position_key(r["external_id"], position_of(r)))
        counters = self.ledger.counters([r["external_id"] for r in raws] if record_ids is not None else None)
        out: list[Response] = []
        for raw in raws:
            rid = raw["external_id"]
            found = []
            for x in raw.get("responses") or []:
                name = self.users.name_of(str(x["user_id"]))
                if (user is not None and name != user) or (status is not None and x["status"] != str(status)):
                    continue
                version = version_of(counters.get((rid, str(x["user_id"]))), x)
                found.append(response_from_argilla(x, rid, name, version))
            out += sorted(found, key=lambda r: r.user)
        return out

    def counts(self, user: str | None) -> ResponseCounts:
        """Response counts by status, from Argilla's per-user progress (exact, no record is read)."""
        reply = self.http.request(
            "GET", f"/api/v1/datasets/{self.search.dataset_id}/users/progress", what="read progress"
        )
        counts = ResponseCounts()
        for entry in reply["users"]:
            if user is not None and entry["username"] != user:
                continue
            for part in ("completed", "pending"):
                for key in ("submitted", "draft", "discarded"):
                    setattr(counts, key, getattr(counts, key) + int((entry.get(part) or {}).get(key, 0)))
        return counts
