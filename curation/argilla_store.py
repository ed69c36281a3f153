"""ArgillaStore: the RecordStore interface on an Argilla 2.x server (backend "argilla").

One pairsmith project is one Argilla dataset (name = project name) in a workspace ("pairsmith"
unless configured). The mapping is in ``argilla_mapping.py``; what Argilla cannot hold (guidelines
history, dataset versions, response versions) lives in the companion dataset (``argilla_side.py``).
Every query part is re-checked in Python (``argilla_query.py``) so both backends agree exactly.

The API key comes from the caller or ``ARGILLA_API_KEY`` and is never written to the project's
config file, a message or a repr.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from curation import argilla_mapping as M
from curation import argilla_query
from curation.argilla_client import ArgillaHTTP
from curation.argilla_side import SIDE_FIELDS, SIDE_METADATA, SIDE_QUESTIONS, SIDE_SUFFIX, SideRecords
from curation.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from curation.model import (
    DatasetVersion,
    GuidelinesVersion,
    Project,
    Record,
    Response,
    ResponseStatus,
    Role,
    Suggestion,
    UpsertResult,
    User,
    new_id,
)
from curation.project import ProjectPaths, register_backend
from curation.store import RecordPage, RecordQuery, RecordStore, ResponseCounts

DEFAULT_WORKSPACE = "pairsmith"
PAGE = 1000
BULK = 500


class ArgillaStore(RecordStore):
    backend = "argilla"

    def __init__(
        self, api_url: str, api_key: str, *, dataset: str, workspace: str = DEFAULT_WORKSPACE
    ) -> None:
        self.http = ArgillaHTTP(api_url, api_key)
        self.dataset_name = dataset
        self.workspace_name = workspace
        self._me: dict[str, Any] = self.http.request("GET", "/api/v1/me", what="sign in to Argilla")
        self._workspace_id: str | None = None
        self._dataset_id: str | None = None
        self._side: SideRecords | None = None
        self._users_by_id: dict[str, str] = {}
        self._question_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"ArgillaStore(api_url={self.http.api_url!r}, workspace={self.workspace_name!r}, dataset={self.dataset_name!r})"

    # --- identity -------------------------------------------------------------------------------
    def current_user(self) -> User:
        """The signed-in user; Argilla owners and admins are pairsmith owners."""
        return User(
            name=self._me["username"], role=_role(self._me["role"]), id=str(self._me["id"]).replace("-", "")
        )

    def require_owner(self, action: str) -> None:
        """PermissionDeniedError unless the signed-in user may ``action`` (guidelines, export, training)."""
        if self._me["role"] not in ("owner", "admin"):
            raise PermissionDeniedError(
                f"{self._me['username']} is an annotator on {self.http.api_url} and cannot {action}; ask an owner or admin"
            )

    @property
    def is_manager(self) -> bool:
        return self._me["role"] in ("owner", "admin")

    # --- resolution -----------------------------------------------------------------------------
    def _workspace(self, create: bool = False) -> str:
        if self._workspace_id:
            return self._workspace_id
        items = self.http.request("GET", "/api/v1/me/workspaces", what="list workspaces")["items"]
        found = next((w for w in items if w["name"] == self.workspace_name), None)
        if found is None:
            if not create:
                raise NotFoundError(
                    f"workspace '{self.workspace_name}' does not exist on {self.http.api_url} (or you are not in it)"
                )
            self.require_owner(f"create workspace '{self.workspace_name}'")
            found = self.http.request(
                "POST", "/api/v1/workspaces", json={"name": self.workspace_name}, what="create workspace"
            )
        self._workspace_id = str(found["id"])
        return self._workspace_id

    def _find_dataset(self, name: str) -> dict[str, Any] | None:
        try:
            workspace = self._workspace()
        except NotFoundError:
            return None
        items = self.http.request("GET", "/api/v1/me/datasets", what="list datasets")["items"]
        return next((d for d in items if d["name"] == name and str(d["workspace_id"]) == workspace), None)

    def _dataset(self) -> str:
        if self._dataset_id is None:
            found = self._find_dataset(self.dataset_name)
            if found is None:
                raise NotFoundError(
                    f"dataset '{self.dataset_name}' does not exist in workspace '{self.workspace_name}' on "
                    f"{self.http.api_url}; push the project first (`pairsmith push DIR --to-argilla`)"
                )
            self._dataset_id = str(found["id"])
        return self._dataset_id

    def _side_records(self) -> SideRecords:
        if self._side is None:
            found = self._find_dataset(self.dataset_name + SIDE_SUFFIX)
            if found is None:
                raise NotFoundError(
                    f"the companion dataset of '{self.dataset_name}' is missing; push the project again"
                )
            self._side = SideRecords(self.http, str(found["id"]))
        return self._side

    def _create_dataset(
        self,
        name: str,
        guidelines: str,
        fields: list[dict[str, Any]],
        questions: list[dict[str, Any]],
        metadata: list[dict[str, Any]],
    ) -> str:
        ds = self.http.request(
            "POST",
            "/api/v1/datasets",
            what=f"create dataset '{name}'",
            json={
                "name": name,
                "workspace_id": self._workspace(create=True),
                "guidelines": guidelines or None,
                "allow_extra_metadata": True,
            },
        )
        did = str(ds["id"])
        for field in fields:
            self.http.request("POST", f"/api/v1/datasets/{did}/fields", json=field, what="create field")
        for question in questions:
            self.http.request(
                "POST", f"/api/v1/datasets/{did}/questions", json=question, what="create question"
            )
        for prop in metadata:
            self.http.request(
                "POST",
                f"/api/v1/datasets/{did}/metadata-properties",
                json=prop,
                what="create metadata property",
            )
        self.http.request("PUT", f"/api/v1/datasets/{did}/publish", what="publish dataset")
        return did

    def _questions(self) -> dict[str, str]:
        if not self._question_ids:
            items = self.http.request(
                "GET", f"/api/v1/datasets/{self._dataset()}/questions", what="read questions"
            )["items"]
            self._question_ids = {q["name"]: str(q["id"]) for q in items}
        return self._question_ids

    # --- project settings -----------------------------------------------------------------------
    def exists(self) -> bool:
        return self._find_dataset(self.dataset_name) is not None

    def get_project(self) -> Project:
        did = self._dataset()
        ds = self.http.request("GET", f"/api/v1/datasets/{did}", what="read dataset")
        questions = self.http.request("GET", f"/api/v1/datasets/{did}/questions", what="read questions")[
            "items"
        ]
        extra: dict[str, Any] = {}
        if self.is_manager:
            extra = self._side_records().get("settings") or {}
        return Project(
            name=self.dataset_name,
            guidelines=ds.get("guidelines") or "",
            guidelines_version=int(extra.get("guidelines_version", 1)),
            questions=[M.question_from_argilla(q) for q in questions],
            output_schema=extra.get("output_schema"),
        )

    def update_project(self, project: Project, *, author: str | None = None) -> Project:
        self.require_owner("change the project's settings or guidelines")
        if self._find_dataset(self.dataset_name) is None:
            return self._create_project(project, author)
        current = self.get_project()
        if [q.name for q in project.questions] != [q.name for q in current.questions]:
            raise BadInputError(
                "Argilla cannot change the questions of a published dataset; create a new project to change them"
            )
        saved = project.model_copy(
            update={"guidelines_version": current.guidelines_version, "name": self.dataset_name}
        )
        if project.guidelines != current.guidelines:
            self.http.request(
                "PATCH",
                f"/api/v1/datasets/{self._dataset()}",
                json={"guidelines": project.guidelines or None},
                what="update guidelines",
            )
            saved.guidelines_version = current.guidelines_version + 1
            self._side_records().put([self._guidelines_item(saved, author)])
        self._side_records().put([("settings", "settings", {}, self._settings_payload(saved))])
        return saved

    def _create_project(self, project: Project, author: str | None) -> Project:
        questions = [M.question_to_argilla(q) for q in project.questions]
        if not any(q["required"] for q in questions):
            questions[0]["required"] = True  # Argilla publishes only datasets with a required question
        metadata = [
            {"name": n, "title": n, "settings": {"type": t}} for n, t in M.METADATA_PROPERTIES.items()
        ]
        self._dataset_id = self._create_dataset(
            self.dataset_name, project.guidelines, M.project_fields(), questions, metadata
        )
        side_id = self._create_dataset(
            self.dataset_name + SIDE_SUFFIX,
            "pairsmith's own data for this project; not for labelling",
            SIDE_FIELDS,
            SIDE_QUESTIONS,
            SIDE_METADATA,
        )
        self._side = SideRecords(self.http, side_id)
        saved = project.model_copy(update={"name": self.dataset_name})
        self._side.put(
            [
                ("settings", "settings", {}, self._settings_payload(saved)),
                self._guidelines_item(saved, author),
            ]
        )
        return saved

    @staticmethod
    def _settings_payload(project: Project) -> dict[str, Any]:
        return {
            "output_schema": project.output_schema,
            "guidelines_version": project.guidelines_version,
            "schema_version": project.schema_version,
        }

    @staticmethod
    def _guidelines_item(project: Project, author: str | None) -> tuple[str, str, dict[str, Any], Any]:
        entry = GuidelinesVersion(version=project.guidelines_version, text=project.guidelines, author=author)
        return (
            f"guidelines:{entry.version}",
            "guidelines",
            {"n": entry.version},
            entry.model_dump(mode="json"),
        )

    def guidelines_history(self) -> list[GuidelinesVersion]:
        entries = [GuidelinesVersion(**p) for _, p in self._side_records().by_kind("guidelines")]
        return sorted(entries, key=lambda g: g.version)

    # --- users ----------------------------------------------------------------------------------
    def _all_users(self) -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = self.http.request("GET", "/api/v1/users", what="list users")["items"]
        self._users_by_id.update({str(u["id"]): u["username"] for u in users})
        return users

    def _workspace_users(self) -> list[dict[str, Any]]:
        return list(
            self.http.request("GET", f"/api/v1/workspaces/{self._workspace()}/users", what="list users")[
                "items"
            ]
        )

    def add_user(self, user: User) -> User:
        self.require_owner("add users")
        if any(u["username"] == user.name for u in self._workspace_users()):
            raise ConflictError(f"user '{user.name}' already exists in workspace '{self.workspace_name}'")
        existing = next((u for u in self._all_users() if u["username"] == user.name), None)
        role = "admin" if user.role == Role.owner else "annotator"
        if existing is None:
            existing = self.http.request(
                "POST",
                "/api/v1/users",
                what=f"create user '{user.name}'",
                json={"username": user.name, "first_name": user.name, "role": role, "password": new_id()},
            )
        elif existing["role"] != role and existing["role"] != "owner":
            existing = self.http.request(
                "PATCH", f"/api/v1/users/{existing['id']}", json={"role": role}, what="set role"
            )
        self.http.request(
            "POST",
            f"/api/v1/workspaces/{self._workspace()}/users",
            json={"user_id": str(existing["id"])},
            what=f"add '{user.name}' to workspace",
        )
        self._users_by_id[str(existing["id"])] = user.name
        return _user(existing)

    def list_users(self) -> list[User]:
        return [_user(u) for u in self._workspace_users()]

    def get_user(self, name: str) -> User:
        for u in self._workspace_users():
            if u["username"] == name:
                return _user(u)
        raise NotFoundError(f"no user '{name}' in workspace '{self.workspace_name}' on {self.http.api_url}")

    def api_key_of(self, name: str) -> str:
        """A user's API key (owners only): how a team hands each person their sign-in key."""
        self.require_owner("read other users' API keys")
        user = next((u for u in self._all_users() if u["username"] == name), None)
        if user is None:
            raise NotFoundError(f"no Argilla user '{name}'")
        return str(self.http.request("GET", f"/api/v1/users/{user['id']}", what="read user")["api_key"])

    def _user_id(self, name: str) -> str:
        """The Argilla id of a user by name; unknown names become annotators (as the local store accepts any name)."""
        for uid, uname in self._users_by_id.items():
            if uname == name:
                return uid
        if name == self._me["username"]:
            return str(self._me["id"])
        for u in self._all_users():
            if u["username"] == name:
                return str(u["id"])
        try:
            created = self.add_user(User(name=name, role=Role.annotator))
        except ConflictError:
            return self._user_id(name)
        return next(uid for uid, uname in self._users_by_id.items() if uname == created.name)

    def _user_name(self, user_id: str) -> str:
        if user_id not in self._users_by_id:
            if user_id == str(self._me["id"]) or not self.is_manager:
                return str(self._me["username"])
            self._all_users()
        return self._users_by_id.get(user_id, user_id)

    # --- raw records ----------------------------------------------------------------------------
    def _search(self, filters: list[dict[str, Any]], include: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Every Argilla record matching the filters (paged); annotators read through /me."""
        did = self._dataset()
        path = (
            f"/api/v1/datasets/{did}/records/search"
            if self.is_manager
            else f"/api/v1/me/datasets/{did}/records/search"
        )
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            params: list[tuple[str, Any]] = [
                ("offset", offset),
                ("limit", PAGE),
                *[("include", i) for i in include],
            ]
            reply = self.http.request(
                "POST",
                path,
                params=params,
                json={"filters": {"and": filters}} if filters else {},
                what="read records",
            )
            batch = [i["record"] for i in reply["items"]]
            out += batch
            if len(batch) < PAGE:
                return out
            offset += PAGE

    def _by_ids(self, ids: Sequence[str], include: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            for raw in self._search(M.server_filters(RecordQuery(ids=chunk)), include):
                found[raw["external_id"]] = raw
        return found

    def _to_record(self, raw: dict[str, Any]) -> Record:
        return M.record_from_argilla(raw, {v: k for k, v in self._questions().items()})

    def _bulk_upsert(self, items: list[dict[str, Any]]) -> None:
        for start in range(0, len(items), BULK):
            self.http.request(
                "PUT",
                f"/api/v1/datasets/{self._dataset()}/records/bulk",
                json={"items": items[start : start + BULK]},
                what="write records",
            )

    def _item(self, record: Record, position: int) -> dict[str, Any]:
        item = M.record_to_argilla(record, position)
        project = self.get_project() if record.suggestions else None
        if project is not None:
            item["suggestions"] = [
                M.suggestion_to_argilla(s, project, self._questions()) for s in record.suggestions
            ]
        return item

    def _drop_stale_suggestions(self, raw: dict[str, Any], keep: Iterable[str]) -> None:
        by_name = {v: k for k, v in self._questions().items()}
        stale = [
            str(s["id"])
            for s in raw.get("suggestions") or []
            if by_name.get(str(s["question_id"])) not in set(keep)
        ]
        if stale:
            self.http.request(
                "DELETE",
                f"/api/v1/records/{raw['id']}/suggestions",
                params={"ids": ",".join(stale)},
                what="remove suggestions",
            )

    def _max_position(self) -> int:
        positions = [M.position_of(r) for r in self._search([])]
        return max(positions, default=0)

    # --- records --------------------------------------------------------------------------------
    def upsert_records(self, records: Iterable[Record], *, batch_size: int = 1000) -> UpsertResult:
        result = UpsertResult()
        next_position = self._max_position() + 1
        batch: list[Record] = []

        def flush() -> None:
            nonlocal next_position
            existing = self._by_ids([r.id for r in batch], include=("suggestions",))
            items, replaced = [], []
            for record in batch:
                raw = existing.get(record.id)
                if raw is not None and self._to_record(raw).model_dump() == record.model_dump():
                    result.unchanged += 1
                    continue
                if raw is None:
                    position = next_position
                    next_position += 1
                    result.inserted += 1
                else:
                    position = M.position_of(raw)
                    result.updated += 1
                    replaced.append((raw, [s.question for s in record.suggestions]))
                items.append(self._item(record, position))
            self._bulk_upsert(items)
            for raw, keep in replaced:
                self._drop_stale_suggestions(raw, keep)
            batch.clear()

        for record in records:
            batch.append(record)
            if len(batch) >= min(batch_size, BULK):
                flush()
        if batch:
            flush()
        return result

    def get_record(self, record_id: str) -> Record:
        found = self._by_ids([record_id], include=("suggestions",))
        if record_id not in found:
            raise NotFoundError(f"no record with id '{record_id}' in dataset '{self.dataset_name}'")
        return self._to_record(found[record_id])

    def _select(self, query: RecordQuery) -> tuple[list[Record], int]:
        include = ["suggestions"] + (["responses"] if query.response is not None else [])
        raws = self._search(M.server_filters(query), include)
        records = [self._to_record(r) for r in raws]
        position = {r["external_id"]: M.position_of(r) for r in raws}
        responses: dict[str, list[Response]] = {}
        if query.response is not None:
            for raw in raws:
                responses[raw["external_id"]] = [
                    M.response_from_argilla(x, raw["external_id"], self._user_name(str(x["user_id"])), 0)
                    for x in raw.get("responses") or []
                ]
        return argilla_query.apply(records, query, responses, position)

    def query_records(self, query: RecordQuery | None = None) -> RecordPage:
        page, total = self._select(query or RecordQuery())
        return RecordPage(records=page, total=total)

    def iter_records(
        self, *, batch_size: int = 1000, query: RecordQuery | None = None
    ) -> Iterator[list[Record]]:
        records, _ = self._select(query or RecordQuery())
        for start in range(0, len(records), batch_size):
            yield records[start : start + batch_size]

    def count_records(self, query: RecordQuery | None = None) -> int:
        return self._select((query or RecordQuery()).model_copy(update={"offset": 0, "limit": None}))[1]

    def existing_content_hashes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for raw in self._search([]):
            digest = self._to_record(raw).content_hash
            counts[digest] = counts.get(digest, 0) + 1
        return counts

    def _rewrite(self, record_ids: Sequence[str], change: Any) -> None:
        existing = self._by_ids(record_ids, include=("suggestions",))
        missing = [i for i in record_ids if i not in existing]
        if missing:
            raise NotFoundError(
                f"no record with id '{missing[0]}' in dataset '{self.dataset_name}' ({len(missing)} missing)"
            )
        items, replaced = [], []
        for rid in dict.fromkeys(record_ids):
            raw = existing[rid]
            record = change(self._to_record(raw))
            items.append(self._item(record, M.position_of(raw)))
            replaced.append((raw, [s.question for s in record.suggestions]))
        self._bulk_upsert(items)
        for raw, keep in replaced:
            self._drop_stale_suggestions(raw, keep)

    def update_metadata(self, updates: dict[str, dict[str, Any]]) -> None:
        def change(record: Record) -> Record:
            merged = {**record.metadata, **updates[record.id]}
            return record.model_copy(update={"metadata": {k: v for k, v in merged.items() if v is not None}})

        self._rewrite(list(updates), change)

    def set_suggestions(self, suggestions: dict[str, list[Suggestion]]) -> None:
        self._rewrite(list(suggestions), lambda r: r.model_copy(update={"suggestions": suggestions[r.id]}))

    def set_golden(self, record_ids: Sequence[str], golden: bool = True) -> None:
        self._rewrite(list(record_ids), lambda r: r.model_copy(update={"golden": golden}))

    def delete_records(self, record_ids: Sequence[str]) -> int:
        existing = self._by_ids(record_ids)
        uuids = [str(r["id"]) for r in existing.values()]
        for start in range(0, len(uuids), 100):
            self.http.request(
                "DELETE",
                f"/api/v1/datasets/{self._dataset()}/records",
                params={"ids": ",".join(uuids[start : start + 100])},
                what="delete records",
            )
        return len(uuids)

    # --- vectors --------------------------------------------------------------------------------
    def _vector_settings(self) -> dict[str, int]:
        items = self.http.request(
            "GET", f"/api/v1/datasets/{self._dataset()}/vectors-settings", what="read vectors"
        )["items"]
        return {v["name"]: int(v["dimensions"]) for v in items}

    def set_vectors(self, name: str, record_ids: Sequence[str], vectors: np.ndarray) -> None:
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(record_ids):
            raise BadInputError(
                f"vectors '{name}': expected {len(record_ids)} rows, got shape {matrix.shape}"
            )
        settings = self._vector_settings()
        if name not in settings:
            self.http.request(
                "POST",
                f"/api/v1/datasets/{self._dataset()}/vectors-settings",
                what="create vector settings",
                json={"name": name, "title": name, "dimensions": int(matrix.shape[1])},
            )
        elif settings[name] != matrix.shape[1]:
            raise BadInputError(
                f"vectors '{name}' have dimension {settings[name]} on the server, got {matrix.shape[1]}"
            )
        existing = self._by_ids(record_ids)
        missing = [i for i in record_ids if i not in existing]
        if missing:
            raise NotFoundError(f"no record with id '{missing[0]}' in dataset '{self.dataset_name}'")
        self._bulk_upsert(
            [
                {"external_id": rid, "vectors": {name: [float(x) for x in row]}}
                for rid, row in zip(record_ids, matrix, strict=True)
            ]
        )

    def get_vectors(self, name: str, record_ids: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        if name not in self._vector_settings():
            return [], np.zeros((0, 0), dtype=np.float32)
        raws = (
            list(self._by_ids(record_ids, (f"vectors:{name}",)).values())
            if record_ids is not None
            else self._search([], (f"vectors:{name}",))
        )
        raws = sorted((r for r in raws if (r.get("vectors") or {}).get(name)), key=M.position_of)
        if not raws:
            return [], np.zeros((0, 0), dtype=np.float32)
        return [r["external_id"] for r in raws], np.array(
            [r["vectors"][name] for r in raws], dtype=np.float32
        )

    def vector_names(self) -> list[str]:
        return sorted(self._vector_settings())

    def similar_records(self, name: str, record_id: str, k: int = 10) -> list[tuple[Record, float]]:
        """Argilla's similarity search (ES kNN on cosine); its score (1 + cos) / 2 is turned back into cos."""
        found = self._by_ids([record_id], (f"vectors:{name}",)).get(record_id)
        if found is None or not (found.get("vectors") or {}).get(name):
            return []
        did = self._dataset()
        path = (
            f"/api/v1/datasets/{did}/records/search"
            if self.is_manager
            else f"/api/v1/me/datasets/{did}/records/search"
        )
        reply = self.http.request(
            "POST",
            path,
            params=[("limit", k), ("include", "suggestions")],
            json={"query": {"vector": {"name": name, "record_id": str(found["id"])}}},
            what="similarity search",
        )
        return [(self._to_record(i["record"]), 2.0 * float(i["query_score"]) - 1.0) for i in reply["items"]][
            :k
        ]

    # --- responses ------------------------------------------------------------------------------
    def _versions(self, record_ids: Iterable[str] | None = None) -> dict[tuple[str, str], int]:
        if not self.is_manager:
            return {}
        latest: dict[tuple[str, str], int] = {}
        for meta, _ in self._side_records().by_kind("rv"):
            rid, _, user = str(meta.get("key", "")).partition("|")
            latest[(rid, user)] = max(latest.get((rid, user), 0), int(meta.get("n") or 0))
        return latest

    def save_response(self, response: Response, *, expected_version: int | None = None) -> Response:
        values = M.validate_values(self.get_project(), response.values)
        raw = self._by_ids([response.record_id], include=("responses",)).get(response.record_id)
        if raw is None:
            raise NotFoundError(f"no record with id '{response.record_id}' in dataset '{self.dataset_name}'")
        if not self.is_manager:
            return self._save_own_response(raw, response, values, expected_version)
        user_id = self._user_id(response.user)
        key = f"{response.record_id}|{response.user}"
        side = self._side_records()
        current = max((int(m.get("n") or 0) for m, _ in side.by_kind("rv", key)), default=0)
        if expected_version is not None and expected_version != current:
            raise self._stale(response, current, expected_version)
        version = current + 1
        while not side.create(f"rv:{key}|{version}", "rv", {"key": key, "n": version}, {"by": new_id()}):
            if expected_version is not None:
                raise self._stale(response, version, expected_version)
            version += 1  # last write wins: take the next free version
        body = {
            "user_id": user_id,
            "values": M.response_values_to_argilla(values),
            "status": str(response.status),
        }
        self._bulk_upsert([{"external_id": response.record_id, "responses": [body]}])
        saved = next(
            (
                x
                for x in self._by_ids([response.record_id], ("responses",))[response.record_id].get(
                    "responses"
                )
                or []
                if str(x["user_id"]) == user_id
            ),
            body,
        )
        return M.response_from_argilla(saved, response.record_id, response.user, version)

    def put_responses(self, responses: Sequence[Response]) -> int:
        """Write many responses as they are, versions included (push and restore; owners only).

        Idempotent: a response and its ledger entry are upserted by (record, user), so a repeated
        push writes nothing new. Returns how many were written.
        """
        self.require_owner("write other users' responses")
        by_record: dict[str, list[dict[str, Any]]] = {}
        ledger: list[tuple[str, str, dict[str, Any], Any]] = []
        for r in responses:
            body = {
                "user_id": self._user_id(r.user),
                "values": M.response_values_to_argilla(r.values),
                "status": str(r.status),
            }
            by_record.setdefault(r.record_id, []).append(body)
            key = f"{r.record_id}|{r.user}"
            for n in range(1, max(r.version, 1) + 1):
                ledger.append((f"rv:{key}|{n}", "rv", {"key": key, "n": n}, {"by": "push"}))
        self._bulk_upsert([{"external_id": rid, "responses": bodies} for rid, bodies in by_record.items()])
        self._side_records().put(ledger)
        return len(responses)

    def _save_own_response(
        self, raw: dict[str, Any], response: Response, values: dict[str, Any], expected_version: int | None
    ) -> Response:
        """An annotator's save through the record's own response endpoints (no ledger: see docs)."""
        if response.user != self._me["username"]:
            raise PermissionDeniedError(f"{self._me['username']} cannot save a response as {response.user}")
        mine = next((x for x in raw.get("responses") or [] if str(x["user_id"]) == str(self._me["id"])), None)
        if expected_version == 0 and mine is not None:
            raise self._stale(response, 1, 0)
        body = {"values": M.response_values_to_argilla(values), "status": str(response.status)}
        if mine is None:
            saved = self.http.request(
                "POST", f"/api/v1/records/{raw['id']}/responses", json=body, what="save response"
            )
        else:
            saved = self.http.request(
                "PUT", f"/api/v1/responses/{mine['id']}", json=body, what="save response"
            )
        return M.response_from_argilla(saved, response.record_id, response.user, (expected_version or 0) + 1)

    @staticmethod
    def _stale(response: Response, current: int, expected: int) -> ConflictError:
        return ConflictError(
            f"record '{response.record_id}': {response.user}'s response changed since you opened it "
            f"(version {current}, you had {expected}), probably in another tab; reload the record and save again"
        )

    def get_responses(
        self,
        *,
        record_ids: Sequence[str] | None = None,
        user: str | None = None,
        status: ResponseStatus | None = None,
    ) -> list[Response]:
        raws = (
            list(self._by_ids(record_ids, ("responses",)).values())
            if record_ids is not None
            else self._search([], ("responses",))
        )
        versions = self._versions()
        out: list[Response] = []
        for raw in sorted(raws, key=M.position_of):
            for x in raw.get("responses") or []:
                name = self._user_name(str(x["user_id"]))
                if (user is not None and name != user) or (status is not None and x["status"] != str(status)):
                    continue
                out.append(
                    M.response_from_argilla(
                        x, raw["external_id"], name, versions.get((raw["external_id"], name), 1)
                    )
                )
        return out

    def response_counts(self, user: str | None = None) -> ResponseCounts:
        counts = ResponseCounts()
        for r in self.get_responses(user=user):
            setattr(counts, str(r.status), getattr(counts, str(r.status)) + 1)
        return counts

    def progress(self) -> dict[str, Any]:
        """Argilla's own progress report for the dataset (total, completed, pending, per user)."""
        return dict(
            self.http.request("GET", f"/api/v1/datasets/{self._dataset()}/progress", what="read progress")
        )

    # --- versions -------------------------------------------------------------------------------
    def create_version(self, name: str) -> DatasetVersion:
        self.require_owner("create a dataset version")
        side = self._side_records()
        if side.get(f"version:{name}") is not None:
            raise ConflictError(f"a version named '{name}' already exists; choose another name")
        records = [r for batch in self.iter_records() for r in batch]
        responses = self.get_responses()
        digest = hashlib.sha256()
        for r in records:
            digest.update(json.dumps(r.model_dump(mode="json"), sort_keys=True).encode())
        for x in responses:
            digest.update(x.content_hash().encode())
        version = DatasetVersion(
            name=name,
            content_hash=digest.hexdigest(),
            record_count=len(records),
            response_count=len(responses),
            guidelines_version=self.get_project().guidelines_version,
        )
        chunks = [
            (
                f"snap:{name}:{i}",
                "snap",
                {"key": name, "n": i},
                {
                    "records": [r.model_dump(mode="json") for r in records[i : i + 200]],
                    "responses": [
                        x.model_dump(mode="json")
                        for x in responses
                        if x.record_id in {r.id for r in records[i : i + 200]}
                    ],
                },
            )
            for i in range(0, max(len(records), 1), 200)
        ]
        side.put(chunks)
        side.put(
            [(f"version:{name}", "version", {"key": name}, version.model_dump(mode="json"))]
        )  # written last: the commit
        return version

    def list_versions(self) -> list[DatasetVersion]:
        versions = [DatasetVersion(**p) for _, p in self._side_records().by_kind("version")]
        return sorted(versions, key=lambda v: v.created_at)

    def load_version(self, name: str) -> tuple[DatasetVersion, list[Record], list[Response]]:
        side = self._side_records()
        payload = side.get(f"version:{name}")
        if payload is None:
            raise NotFoundError(f"no version named '{name}'; `pairsmith versions` lists them")
        records: list[Record] = []
        responses: list[Response] = []
        for _, chunk in sorted(side.by_kind("snap", name), key=lambda c: int(c[0].get("n") or 0)):
            records += [Record(**r) for r in chunk["records"]]
            responses += [Response(**x) for x in chunk["responses"]]
        return DatasetVersion(**payload), records, responses

    def close(self) -> None:
        self.http.close()


def _role(argilla_role: str) -> Role:
    return Role.owner if argilla_role in ("owner", "admin") else Role.annotator


def _user(data: dict[str, Any]) -> User:
    return User(name=data["username"], role=_role(data["role"]), id=str(data["id"]).replace("-", ""))


def open_argilla_store(paths: ProjectPaths, config: dict[str, Any]) -> ArgillaStore:
    """The backend factory: server URL and workspace from the project config or the environment.

    An ``api_key`` in ``backend_options`` is used and then removed from the dict, so that
    ``init_project`` never writes it to ``pairsmith.json``.
    """
    options = config.setdefault("backend_options", {})
    api_key = options.pop("api_key", None) or os.environ.get("ARGILLA_API_KEY", "")
    api_url = options.get("api_url") or os.environ.get("ARGILLA_API_URL", "")
    if api_url:
        options["api_url"] = api_url
    return ArgillaStore(
        api_url,
        api_key,
        dataset=options.get("dataset") or config.get("name") or paths.root.resolve().name,
        workspace=options.get("workspace") or DEFAULT_WORKSPACE,
    )


register_backend("argilla", open_argilla_store)
