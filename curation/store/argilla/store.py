"""ArgillaStore: the RecordStore interface on an Argilla 2.x server (backend "argilla").

One pairsmith project is one Argilla dataset (name = project name) in a workspace ("pairsmith"
unless configured). The mapping is in ``argilla_mapping.py``; what Argilla cannot hold (guidelines
history, dataset versions, response versions) lives in the companion dataset (``argilla_side.py``).
Every query part is re-checked in Python (``argilla_query.py``) so both backends agree exactly.
Users, vectors, responses and versions live in ``argilla_users.py``, ``argilla_vectors.py``,
``argilla_responses.py`` and ``argilla_versions.py``; this module resolves the workspace and
datasets, reads and writes raw records, and keeps the RecordStore methods in one place.

The API key comes from the caller or ``ARGILLA_API_KEY`` and is never written to the project's
config file, a message or a repr.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from curation.errors import BadInputError, NotFoundError, PermissionDeniedError
from curation.files import ProjectPaths
from curation.model import (
    DatasetVersion,
    Decision,
    GuidelinesVersion,
    Project,
    Record,
    Response,
    ResponseStatus,
    Suggestion,
    UpsertResult,
    User,
)
from curation.store.argilla import mapping as M
from curation.store.argilla import query as argilla_query
from curation.store.argilla import responses as argilla_responses
from curation.store.argilla import users as U
from curation.store.argilla import vectors as argilla_vectors
from curation.store.argilla import versions as argilla_versions
from curation.store.argilla.companion import (
    SIDE_FIELDS,
    SIDE_METADATA,
    SIDE_QUESTIONS,
    SIDE_SUFFIX,
    SideRecords,
    put_decisions,
    put_undone,
    read_decisions,
)
from curation.store.argilla.http import ArgillaHTTP
from curation.store.base import DecisionQuery, RecordPage, RecordQuery, RecordStore, ResponseCounts

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
        """The signed-in user (the API key's owner); Argilla owners and admins are pairsmith owners."""
        return U.user_of(self._me)

    def require_owner(self, action: str, user: str | None = None) -> None:
        """PermissionDeniedError unless the API key's user may ``action``; the key decides, ``user`` is ignored."""
        if not self.is_manager:
            raise PermissionDeniedError(
                f"{self._me['username']} is an annotator on {self.http.api_url} and cannot {action}; "
                "ask an owner or admin"
            )

    @property
    def is_manager(self) -> bool:
        return self._me["role"] in U.MANAGER_ROLES

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
    def add_user(self, user: User) -> User:
        return U.add_user(self, user)

    def list_users(self) -> list[User]:
        return [U.user_of(u) for u in U.workspace_users(self)]

    def get_user(self, name: str) -> User:
        return U.get_user(self, name)

    def api_key_of(self, name: str) -> str:
        """A user's API key (owners only): how a team hands each person their sign-in key."""
        return U.api_key_of(self, name)

    def _user_id(self, name: str) -> str:
        return U.user_id(self, name)

    def _user_name(self, user_id: str) -> str:
        return U.user_name(self, user_id)

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
    def set_vectors(self, name: str, record_ids: Sequence[str], vectors: np.ndarray) -> None:
        argilla_vectors.set_vectors(self, name, record_ids, vectors)

    def get_vectors(self, name: str, record_ids: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        return argilla_vectors.get_vectors(self, name, record_ids)

    def vector_names(self) -> list[str]:
        return argilla_vectors.vector_names(self)

    def similar_records(self, name: str, record_id: str, k: int = 10) -> list[tuple[Record, float]]:
        """Argilla's similarity search (kNN on cosine), scores turned back into cosine."""
        return argilla_vectors.similar_records(self, name, record_id, k)

    # --- responses ------------------------------------------------------------------------------
    def save_response(self, response: Response, *, expected_version: int | None = None) -> Response:
        return argilla_responses.save_response(self, response, expected_version)

    def put_responses(self, responses: Sequence[Response]) -> int:
        """Write many responses as they are, versions included (push and restore; owners only)."""
        return argilla_responses.put_responses(self, responses)

    def get_responses(
        self,
        *,
        record_ids: Sequence[str] | None = None,
        user: str | None = None,
        status: ResponseStatus | None = None,
    ) -> list[Response]:
        return argilla_responses.get_responses(self, record_ids, user, status)

    def response_counts(self, user: str | None = None) -> ResponseCounts:
        counts = ResponseCounts()
        for r in self.get_responses(user=user):
            setattr(counts, str(r.status), getattr(counts, str(r.status)) + 1)
        return counts

    def delete_response(self, record_id: str, user: str) -> bool:
        raw = self._by_ids([record_id], include=("responses",)).get(record_id)
        if raw is None:
            raise NotFoundError(f"no record with id '{record_id}' in dataset '{self.dataset_name}'")
        user_id = str(self._me["id"]) if user == self._me["username"] else self._user_id(user)
        found = next((x for x in raw.get("responses") or [] if str(x["user_id"]) == user_id), None)
        if found is None:
            return False
        if user != self._me["username"]:
            self.require_owner("delete other people's responses")
        self.http.request("DELETE", f"/api/v1/responses/{found['id']}", what="delete response")
        return True

    # --- the decision log (in the companion dataset: ``decision:<id>`` and ``undo:<id>``) ---------
    def log_decisions(self, decisions: Sequence[Decision]) -> None:
        if not self.is_manager:
            # Annotators cannot write the companion dataset; their labels stay as Argilla responses.
            return
        put_decisions(
            self._side_records(),
            [d.model_dump(mode="json", exclude={"undone_at", "undone_by"}) for d in decisions],
        )

    def list_decisions(self, query: DecisionQuery | None = None) -> list[Decision]:
        query = query or DecisionQuery()
        if not self.is_manager:
            return []
        found = [Decision.model_validate(d) for d in read_decisions(self._side_records())]
        if query.ids is not None:
            found = [d for d in found if d.id in set(query.ids)]
        if query.record_id is not None:
            found = [d for d in found if query.record_id in d.record_ids]
        for name in ("user", "kind", "batch"):
            wanted = getattr(query, name)
            if wanted is not None:
                found = [d for d in found if getattr(d, name) == wanted]
        if not query.include_undone:
            found = [d for d in found if not d.undone]
        end = None if query.limit is None else query.offset + query.limit
        return found[query.offset : end]

    def mark_undone(self, decision_ids: Sequence[str], *, by: str | None, at: datetime) -> None:
        self.require_owner("undo decisions")
        known = {d.id for d in self.list_decisions(DecisionQuery(ids=list(decision_ids), limit=None))}
        missing = [i for i in decision_ids if i not in known]
        if missing:
            raise NotFoundError(
                f"no decision '{missing[0]}' in the log; list them with `pairsmith decisions DIR`"
            )
        put_undone(self._side_records(), list(decision_ids), by, at.isoformat())

    def progress(self) -> dict[str, Any]:
        """Argilla's own progress report for the dataset (total, completed, pending, per user)."""
        return dict(
            self.http.request("GET", f"/api/v1/datasets/{self._dataset()}/progress", what="read progress")
        )

    # --- versions -------------------------------------------------------------------------------
    def create_version(self, name: str) -> DatasetVersion:
        return argilla_versions.create_version(self, name)

    def put_version(self, version: DatasetVersion, records: list[Record], responses: list[Response]) -> bool:
        """Store a version made elsewhere as it is (push); False when it is already there."""
        return argilla_versions.put_version(self, version, records, responses)

    def list_versions(self) -> list[DatasetVersion]:
        return argilla_versions.list_versions(self)

    def load_version(self, name: str) -> tuple[DatasetVersion, list[Record], list[Response]]:
        return argilla_versions.load_version(self, name)

    def close(self) -> None:
        self.http.close()


def open_argilla_store(paths: ProjectPaths, config: dict[str, Any]) -> ArgillaStore:
    """The backend factory: server URL, workspace and dataset from the project config or the environment.

    For a local project opened with ``--backend argilla`` they come from its last push (the
    ``argilla`` entry of ``pairsmith.json``). An ``api_key`` in ``backend_options`` (put there by
    ``init_project`` or ``open_store`` from a flag, never read from the file) is used and then removed
    from the dict, so that it is never written to ``pairsmith.json``.
    """
    options = config.setdefault("backend_options", {})
    synced: dict[str, Any] = config.get("argilla") or {}
    api_key = options.pop("api_key", None) or os.environ.get("ARGILLA_API_KEY", "")
    api_url = options.get("api_url") or synced.get("api_url") or os.environ.get("ARGILLA_API_URL", "")
    if api_url:
        options["api_url"] = api_url
    return ArgillaStore(
        api_url,
        api_key,
        dataset=options.get("dataset")
        or synced.get("dataset")
        or config.get("name")
        or paths.root.resolve().name,
        workspace=options.get("workspace") or synced.get("workspace") or DEFAULT_WORKSPACE,
    )
