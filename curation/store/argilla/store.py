"""ArgillaStore: the RecordStore interface on an Argilla 2.x server (backend "argilla").

One pairsmith project is one Argilla dataset (name = project name) in a workspace ("pairsmith"
unless configured), plus its companion dataset ``<name>__pairsmith`` (``companion.py``). This
module finds or creates them and hands the work to collaborators, each built here with the HTTP
client and the ids it needs:

- ``RecordSearch`` (``records.py``): pages, counts, scans and id lookups within the server's limits;
- ``RecordReader`` (``reader.py``) and ``RecordWriter`` (``writer.py``): queries and writes;
- ``Users``, ``Vectors``, ``Responses`` with its ``ResponseLedger``, and ``DatasetVersions``.

The API key comes from the caller or ``ARGILLA_API_KEY`` and is never written to the project's
config file, a message or a repr.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np

from curation.errors import BadInputError, NotFoundError
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
from curation.store.argilla import mapping
from curation.store.argilla.companion import (
    SIDE_FIELDS,
    SIDE_METADATA,
    SIDE_QUESTIONS,
    SIDE_SUFFIX,
    Companion,
    Entry,
)
from curation.store.argilla.decisions import DecisionLog
from curation.store.argilla.http import ArgillaHTTP
from curation.store.argilla.ledger import LOCK_KEY, ResponseLedger, slot_entries
from curation.store.argilla.reader import RecordReader
from curation.store.argilla.records import RecordSearch
from curation.store.argilla.responses import Responses
from curation.store.argilla.schema import DatasetSchema
from curation.store.argilla.users import MANAGER_ROLES, Users, require_manager, user_of
from curation.store.argilla.vectors import Vectors
from curation.store.argilla.versions import DatasetVersions
from curation.store.argilla.writer import RecordWriter
from curation.store.base import DecisionQuery, RecordPage, RecordQuery, RecordStore, ResponseCounts

DEFAULT_WORKSPACE = "pairsmith"


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
        self._companion_id: str | None = None

    def __repr__(self) -> str:
        return (
            f"ArgillaStore(api_url={self.http.api_url!r}, workspace={self.workspace_name!r}, "
            f"dataset={self.dataset_name!r})"
        )

    # --- identity -------------------------------------------------------------------------------
    @property
    def is_manager(self) -> bool:
        return self._me["role"] in MANAGER_ROLES

    def current_user(self) -> User:
        """The signed-in user (the API key's owner); Argilla owners and admins are pairsmith owners."""
        return user_of(self._me)

    def require_owner(self, action: str, user: str | None = None) -> None:
        """PermissionDeniedError unless the API key's user may ``action``; the key decides, ``user`` is ignored."""
        require_manager(self._me, self.http.api_url, action)

    # --- finding the workspace and datasets -----------------------------------------------------
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

    def _companion_dataset(self) -> str:
        if self._companion_id is None:
            found = self._find_dataset(self.dataset_name + SIDE_SUFFIX)
            if found is None:
                raise NotFoundError(
                    f"the companion dataset of '{self.dataset_name}' is missing; push the project again"
                )
            self._companion_id = str(found["id"])
        return self._companion_id

    def _create_dataset(
        self, name: str, guidelines: str, fields: list[Any], questions: list[Any], metadata: list[Any]
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
        for part, items in (("fields", fields), ("questions", questions), ("metadata-properties", metadata)):
            for item in items:
                self.http.request("POST", f"/api/v1/datasets/{did}/{part}", json=item, what=f"create {part}")
        self.http.request("PUT", f"/api/v1/datasets/{did}/publish", what="publish dataset")
        return did

    # --- collaborators --------------------------------------------------------------------------
    @cached_property
    def _users(self) -> Users:
        return Users(self.http, self._me, self._workspace(), self.workspace_name)

    @cached_property
    def _schema(self) -> DatasetSchema:
        return DatasetSchema(self.http, self._dataset())

    @cached_property
    def _search(self) -> RecordSearch:
        return RecordSearch(self.http, self._dataset(), manager=self.is_manager, position=mapping.POSITION)

    @cached_property
    def _companion(self) -> Companion:
        return Companion(self.http, self._companion_dataset(), manager=self.is_manager)

    @cached_property
    def _reader(self) -> RecordReader:
        return RecordReader(self._search, self._schema, self._users, self._to_record)

    @cached_property
    def _writer(self) -> RecordWriter:
        return RecordWriter(self.http, self._schema, self._search, self._questions_project, self._to_record)

    @cached_property
    def _vectors(self) -> Vectors:
        return Vectors(self.http, self._schema, self._search, self._to_record)

    @cached_property
    def _responses(self) -> Responses:
        ledger = ResponseLedger(self.http, self._companion, self._users)
        return Responses(self.http, self._search, self._users, ledger, self._questions_project)

    @cached_property
    def _decisions(self) -> DecisionLog:
        return DecisionLog(self._companion, self._users)

    @cached_property
    def _versions(self) -> DatasetVersions:
        return DatasetVersions(self._companion, self.require_owner)

    def _to_record(self, raw: dict[str, Any]) -> Record:
        return mapping.record_from_argilla(raw, self._schema.question_names())

    def _questions_project(self) -> Project:
        """The project as far as answers need it (questions never change once published: no request)."""
        return Project(
            name=self.dataset_name,
            questions=[mapping.question_from_argilla(q) for q in self._schema.questions()],
        )

    # --- project settings -----------------------------------------------------------------------
    def exists(self) -> bool:
        return self._find_dataset(self.dataset_name) is not None

    def get_project(self) -> Project:
        # The settings Argilla lacks live in the companion dataset, not in the dataset's own metadata:
        # argilla-server 2.8.0 answers a PATCH of dataset metadata but does not store the change.
        ds = self.http.request("GET", f"/api/v1/datasets/{self._dataset()}", what="read dataset")
        extra = self._companion.get("settings") or {}
        return self._questions_project().model_copy(
            update={
                "guidelines": ds.get("guidelines") or "",
                "guidelines_version": int(extra.get("guidelines_version", 1)),
                "output_schema": extra.get("output_schema"),
            }
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
        changed = project.guidelines != current.guidelines
        version = current.guidelines_version + (1 if changed else 0)
        saved = project.model_copy(update={"guidelines_version": version, "name": self.dataset_name})
        entries = [Entry("settings", "settings", self._settings_payload(saved))]
        if changed:
            self.http.request(
                "PATCH",
                f"/api/v1/datasets/{self._dataset()}",
                json={"guidelines": project.guidelines or None},
                what="update guidelines",
            )
            entries.append(self._guidelines_entry(saved, author))
        if not self._companion.find([LOCK_KEY]):  # made by an older pairsmith: add the version ledger
            entries += slot_entries()
        self._companion.put(entries)
        return saved

    def _create_project(self, project: Project, author: str | None) -> Project:
        questions = [mapping.question_to_argilla(q) for q in project.questions]
        if not any(q["required"] for q in questions):
            questions[0]["required"] = True  # Argilla publishes only datasets with a required question
        metadata = mapping.metadata_properties()
        self._dataset_id = self._create_dataset(
            self.dataset_name, project.guidelines, mapping.project_fields(), questions, metadata
        )
        self._companion_id = self._create_dataset(
            self.dataset_name + SIDE_SUFFIX,
            "pairsmith's own data for this project; not for labelling",
            SIDE_FIELDS,
            SIDE_QUESTIONS,
            SIDE_METADATA,
        )
        saved = project.model_copy(update={"name": self.dataset_name})
        self._companion.put(
            [
                Entry("settings", "settings", self._settings_payload(saved)),
                self._guidelines_entry(saved, author),
                *slot_entries(),
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
    def _guidelines_entry(project: Project, author: str | None) -> Entry:
        entry = GuidelinesVersion(version=project.guidelines_version, text=project.guidelines, author=author)
        return Entry(
            f"guidelines:{entry.version}", "guidelines", entry.model_dump(mode="json"), n=entry.version
        )

    def guidelines_history(self) -> list[GuidelinesVersion]:
        return [GuidelinesVersion(**p) for _, p in self._companion.by_kind("guidelines")]

    # --- users ----------------------------------------------------------------------------------
    def add_user(self, user: User) -> User:
        return self._users.add(user)

    def list_users(self) -> list[User]:
        return self._users.members()

    def get_user(self, name: str) -> User:
        return self._users.get(name)

    def api_key_of(self, name: str) -> str:
        """A user's API key (owners only): how a team hands each person their sign-in key."""
        return self._users.api_key_of(name)

    # --- records --------------------------------------------------------------------------------
    def upsert_records(self, records: Iterable[Record], *, batch_size: int = 1000) -> UpsertResult:
        self.require_owner("import records")
        return self._writer.upsert(records, batch_size)

    def get_record(self, record_id: str) -> Record:
        raw = self._search.by_external_ids([record_id], include=["suggestions"]).get(record_id)
        if raw is None:
            raise NotFoundError(f"no record with id '{record_id}' in dataset '{self.dataset_name}'")
        return self._to_record(raw)

    def query_records(self, query: RecordQuery | None = None) -> RecordPage:
        records, total = self._reader.page(query or RecordQuery())
        return RecordPage(records=records, total=total)

    def iter_records(
        self, *, batch_size: int = 1000, query: RecordQuery | None = None
    ) -> Iterator[list[Record]]:
        return self._reader.iterate(query or RecordQuery(), batch_size)

    def count_records(self, query: RecordQuery | None = None) -> int:
        return self._reader.count(query or RecordQuery())

    def existing_content_hashes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for batch in self._search.scan():
            for raw in batch:
                digest = self._to_record(raw).content_hash
                counts[digest] = counts.get(digest, 0) + 1
        return counts

    def update_metadata(self, updates: dict[str, dict[str, Any]]) -> None:
        def change(record: Record) -> Record:
            merged = {**record.metadata, **updates[record.id]}
            return record.model_copy(update={"metadata": {k: v for k, v in merged.items() if v is not None}})

        self._writer.rewrite(list(updates), change)

    def set_suggestions(self, suggestions: dict[str, list[Suggestion]]) -> None:
        self._writer.rewrite(
            list(suggestions), lambda r: r.model_copy(update={"suggestions": suggestions[r.id]})
        )

    def set_golden(self, record_ids: Sequence[str], golden: bool = True) -> None:
        self._writer.rewrite(list(record_ids), lambda r: r.model_copy(update={"golden": golden}))

    def delete_records(self, record_ids: Sequence[str]) -> int:
        deleted = self._writer.delete(record_ids)
        if deleted:
            self._responses.ledger.prune(deleted)
        return len(deleted)

    # --- vectors --------------------------------------------------------------------------------
    def set_vectors(self, name: str, record_ids: Sequence[str], vectors: np.ndarray) -> None:
        self._vectors.set(name, record_ids, vectors)

    def get_vectors(self, name: str, record_ids: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        return self._vectors.get(name, record_ids)

    def vector_names(self) -> list[str]:
        return self._vectors.names()

    def similar_records(self, name: str, record_id: str, k: int = 10) -> list[tuple[Record, float]]:
        """Argilla's similarity search (kNN on cosine), scores turned back into cosine."""
        return self._vectors.similar(name, record_id, k)

    # --- responses ------------------------------------------------------------------------------
    def save_response(self, response: Response, *, expected_version: int | None = None) -> Response:
        return self._responses.save(response, expected_version)

    def put_responses(self, responses: Sequence[Response]) -> int:
        """Write many responses as they are, versions included (push and restore; owners only)."""
        return self._responses.put_many(responses)

    def get_responses(
        self,
        *,
        record_ids: Sequence[str] | None = None,
        user: str | None = None,
        status: ResponseStatus | None = None,
    ) -> list[Response]:
        return self._responses.get(record_ids, user, status)

    def response_counts(self, user: str | None = None) -> ResponseCounts:
        return self._responses.counts(user)

    def delete_response(self, record_id: str, user: str) -> bool:
        return self._responses.delete(record_id, user)

    # --- the decision log -----------------------------------------------------------------------
    def log_decisions(self, decisions: Sequence[Decision]) -> None:
        self._decisions.log(decisions)

    def list_decisions(self, query: DecisionQuery | None = None) -> list[Decision]:
        return self._decisions.find(query or DecisionQuery())

    def mark_undone(self, decision_ids: Sequence[str], *, by: str | None, at: datetime) -> None:
        self._decisions.mark_undone(decision_ids, by=by, at=at)

    def progress(self) -> dict[str, Any]:
        """Argilla's own progress report for the dataset (total, completed, pending, per user)."""
        return dict(
            self.http.request("GET", f"/api/v1/datasets/{self._dataset()}/progress", what="read progress")
        )

    # --- versions -------------------------------------------------------------------------------
    def create_version(self, name: str) -> DatasetVersion:
        self.require_owner("create a dataset version")
        records = [r for batch in self.iter_records() for r in batch]
        return self._versions.create(
            name, records, self.get_responses(), self.get_project().guidelines_version
        )

    def put_version(self, version: DatasetVersion, records: list[Record], responses: list[Response]) -> bool:
        """Store a version made elsewhere as it is (push); False when it is already there."""
        return self._versions.put(version, records, responses)

    def list_versions(self) -> list[DatasetVersion]:
        return self._versions.all()

    def load_version(self, name: str) -> tuple[DatasetVersion, list[Record], list[Response]]:
        return self._versions.load(name)

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
