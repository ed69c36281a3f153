"""Copy a project from one store to another: the one body behind ``push`` and ``pull``.

:func:`copy_project` copies settings and guidelines, users, records with their suggestions (in
batches, resumable), vectors, every user's responses and the dataset versions, from any
:class:`RecordStore` to any other. ``pairsmith push`` runs it local → Argilla and ``pairsmith pull``
Argilla → local; which stores, where they live and where progress is kept is the project layer's
business (``curation/project_sync.py``), so this module knows no backend and no project directory.

It is idempotent: records are matched by their id and unchanged ones are left alone, responses are
written only when they differ, versions only when the target lacks them (a version of the same name
with another content hash stops the copy with ConflictError: versions are immutable).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from pydantic import BaseModel

from curation.errors import BackendError, BadInputError, ConflictError, NotFoundError
from curation.model import Response
from curation.store.base import RecordStore

log = logging.getLogger(__name__)


class SyncReport(BaseModel):
    """What a push or pull did (the ``--json`` output of both commands)."""

    direction: str
    api_url: str
    workspace: str
    dataset: str
    records: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    responses: int = 0
    vectors: dict[str, int] = {}
    users: int = 0
    versions: int = 0
    """Dataset versions copied (push and pull)."""
    resumed_from_batch: int = 0


ProgressHook = Callable[[int, int], None]
"""Called after each record batch with (records done, records total)."""


class Checkpoint(Protocol):
    """Where a copy resumes after a failure, and what it records after each batch of records."""

    @property
    def start_batch(self) -> int:
        """Record batches already copied by an earlier run of the same copy (0 for a fresh one)."""
        ...

    def batch_done(self, batches: int, records_done: int, records_total: int) -> None:
        """Remember that ``batches`` batches (``records_done`` records) are copied."""
        ...


class NoCheckpoint:
    """A copy that starts from the beginning and remembers nothing."""

    start_batch = 0

    def batch_done(self, batches: int, records_done: int, records_total: int) -> None:
        return None


def copy_project(
    source: RecordStore,
    target: RecordStore,
    report: SyncReport,
    *,
    batch_size: int = 500,
    checkpoint: Checkpoint | None = None,
    on_batch: ProgressHook | None = None,
) -> SyncReport:
    """Copy everything from ``source`` to ``target``, filling in ``report``.

    Both stores must allow reading and writing every user's answers (owners' keys on Argilla).
    A BackendError (the server went away after its retries) is raised again saying how far the
    copy got and that the same command resumes from the last finished batch.
    """
    checkpoint = checkpoint or NoCheckpoint()
    action = f"{report.direction} a project"
    source.require_owner(action)
    target.require_owner(action)
    report.resumed_from_batch = checkpoint.start_batch
    done = total = 0
    try:
        _copy_settings(source, target)
        report.users += _copy_users(source, target)
        responses = source.get_responses()
        _check_people(responses, target)
        total = source.count_records()
        for index, batch in enumerate(source.iter_records(batch_size=batch_size)):
            done += len(batch)
            if index < checkpoint.start_batch:
                continue
            result = target.upsert_records(batch, batch_size=batch_size)
            report.inserted += result.inserted
            report.updated += result.updated
            report.unchanged += result.unchanged
            checkpoint.batch_done(index + 1, done, total)
            if on_batch is not None:
                on_batch(done, total)
        report.records = total
        for name in source.vector_names():
            ids, matrix = source.get_vectors(name)
            for start in range(0, len(ids), batch_size):
                target.set_vectors(name, ids[start : start + batch_size], matrix[start : start + batch_size])
            report.vectors[name] = len(ids)
        have = {(r.record_id, r.user): r.content_hash() for r in target.get_responses()}
        changed = [r for r in responses if have.get((r.record_id, r.user)) != r.content_hash()]
        for start in range(0, len(changed), batch_size):
            report.responses += target.put_responses(changed[start : start + batch_size])
        copied = {v.name: v.content_hash for v in target.list_versions()}
        for version in source.list_versions():  # frozen snapshots travel as they are, hash included
            if copied.get(version.name) != version.content_hash and target.put_version(
                *source.load_version(version.name)
            ):
                report.versions += 1
    except BackendError as exc:
        raise BackendError(
            f"{report.direction} of {report.dataset} ({report.api_url}) stopped after {done} of {total or '?'} "
            f"records: {exc}. Nothing is lost: run the same {report.direction} again and it resumes from the "
            "last finished batch"
        ) from None
    return report


def _copy_settings(source: RecordStore, target: RecordStore) -> None:
    """The target gets the source's guidelines and output schema; the questions must already agree."""
    project = source.get_project()
    try:
        current = target.get_project()
    except NotFoundError:
        target.update_project(project)  # a new Argilla dataset: created with these settings
        return
    if [q.name for q in current.questions] != [q.name for q in project.questions]:
        raise BadInputError(
            f"the questions differ ({', '.join(q.name for q in project.questions)} here, "
            f"{', '.join(q.name for q in current.questions)} there) and cannot change once labelling has "
            "started; copy to a new project or dataset instead"
        )
    if (current.guidelines, current.output_schema) != (project.guidelines, project.output_schema):
        target.update_project(
            current.model_copy(
                update={"guidelines": project.guidelines, "output_schema": project.output_schema}
            )
        )


def _check_people(responses: list[Response], target: RecordStore) -> None:
    """Everyone who answered must be a user of the project: no account is made up on the way."""
    known = {u.name for u in target.list_users()}
    strangers = sorted({r.user for r in responses} - known)
    if strangers:
        raise BadInputError(
            f"{len(strangers)} people answered but are not users of the project: {', '.join(strangers[:10])}; "
            f"add them first (`pairsmith users add DIR NAME --role annotator`), then run the same command again"
        )


def _copy_users(source: RecordStore, target: RecordStore) -> int:
    known = {u.name for u in target.list_users()}
    added = 0
    for user in source.list_users():
        if user.name in known:
            continue
        try:
            target.add_user(user)
            added += 1
        except ConflictError:
            pass  # added meanwhile (another copy), or an account the target already has
    return added
