"""Move a project between the local store and an Argilla server, in both directions.

``push``: local → Argilla (settings, guidelines, users, records with suggestions, vectors, responses).
``pull``: Argilla → local (the same, responses of every user included), for offline review/export.

Both are idempotent (records are matched by their stable id), batched, and retried on transient
errors by the HTTP layer. Progress is kept in ``DIR/argilla-sync.json``: a push that stops because
the server went down raises BackendError saying how far it got, and the same command resumes from
the last finished batch. The API key is never written to that file or to any message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from curation.errors import BackendError, BadInputError, ConflictError, NotFoundError
from curation.files import CONFIG_FILE, ProjectPaths, atomic_write_json
from curation.project import init_project, open_store, read_config
from curation.store.argilla.store import DEFAULT_WORKSPACE, ArgillaStore
from curation.store.base import RecordStore

log = logging.getLogger(__name__)
STATE_FILE = "argilla-sync.json"


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
    """Dataset versions copied (push only: pull does not bring versions back, see docs/argilla.md)."""
    resumed_from_batch: int = 0


ProgressHook = Callable[[int, int], None]
"""Called after each record batch with (records done, records total)."""


def _target(
    paths: ProjectPaths, api_url: str | None, workspace: str | None, dataset: str | None
) -> dict[str, str]:
    """Where to sync: arguments first, then what the last sync recorded, then the environment."""
    import os

    remembered: dict[str, Any] = {}
    if paths.config.exists():
        remembered = read_config(paths.root).get("argilla", {})
    url = api_url or remembered.get("api_url") or os.environ.get("ARGILLA_API_URL", "")
    if not url:
        raise BadInputError("no Argilla server given: pass --api-url or set ARGILLA_API_URL")
    name = (
        dataset
        or remembered.get("dataset")
        or (read_config(paths.root)["name"] if paths.config.exists() else "")
    )
    if not name:
        raise BadInputError(
            f"{paths.root} is not a project yet: pass --dataset to name the Argilla dataset to pull"
        )
    return {
        "api_url": url,
        "workspace": workspace or remembered.get("workspace") or DEFAULT_WORKSPACE,
        "dataset": name,
    }


def _remember(paths: ProjectPaths, target: dict[str, str]) -> None:
    """Record the server/dataset in pairsmith.json (never the key) so the next sync needs no flags."""
    config = read_config(paths.root)
    config["argilla"] = target
    atomic_write_json(paths.root / CONFIG_FILE, config)


def _state(paths: ProjectPaths) -> dict[str, Any]:
    import json

    path = paths.root / STATE_FILE
    if not path.exists():
        return {}
    try:
        state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return state
    except json.JSONDecodeError:
        return {}


def push(
    project_dir: Path | str,
    *,
    api_url: str | None = None,
    api_key: str | None = None,
    workspace: str | None = None,
    dataset: str | None = None,
    batch_size: int = 500,
    on_batch: ProgressHook | None = None,
) -> SyncReport:
    """Copy a local project to Argilla; resumable and idempotent (see the module docstring)."""
    import os

    paths = ProjectPaths(Path(project_dir))
    target = _target(paths, api_url, workspace, dataset)
    local = open_store(paths.root, backend="local")
    remote = ArgillaStore(
        target["api_url"],
        api_key or os.environ.get("ARGILLA_API_KEY", ""),
        dataset=target["dataset"],
        workspace=target["workspace"],
    )
    report = SyncReport(direction="push", **target)
    state = _state(paths)
    fresh = state.get("direction") != "push" or state.get("target") != target
    start_batch = 0 if fresh else int(state.get("batches_done", 0))
    report.resumed_from_batch = start_batch
    try:
        remote.require_owner("push a project")
        project = local.get_project()
        remote.update_project(project)
        known = {u.name for u in remote.list_users()}
        for user in local.list_users():
            if user.name not in known:
                try:
                    remote.add_user(user)
                    report.users += 1
                except ConflictError:
                    pass
        total = local.count_records()
        done = 0
        for index, batch in enumerate(local.iter_records(batch_size=batch_size)):
            done += len(batch)
            if index < start_batch:
                continue
            result = remote.upsert_records(batch, batch_size=batch_size)
            report.inserted += result.inserted
            report.updated += result.updated
            report.unchanged += result.unchanged
            atomic_write_json(
                paths.root / STATE_FILE,
                {
                    "direction": "push",
                    "target": target,
                    "batches_done": index + 1,
                    "records_done": done,
                    "records_total": total,
                },
            )
            if on_batch is not None:
                on_batch(done, total)
        report.records = total
        for name in local.vector_names():
            ids, matrix = local.get_vectors(name)
            for start in range(0, len(ids), batch_size):
                remote.set_vectors(name, ids[start : start + batch_size], matrix[start : start + batch_size])
            report.vectors[name] = len(ids)
        responses = local.get_responses()
        for start in range(0, len(responses), batch_size):
            report.responses += remote.put_responses(responses[start : start + batch_size])
        pushed = {v.name: v.content_hash for v in remote.list_versions()}
        for version in local.list_versions():  # frozen snapshots travel as they are, hash included
            if pushed.get(version.name) == version.content_hash:
                continue
            if remote.put_version(*local.load_version(version.name)):  # ConflictError on a clash
                report.versions += 1
    except BackendError as exc:
        progress = _state(paths)
        raise BackendError(
            f"push of {paths.root} to {target['api_url']} stopped after {progress.get('records_done', 0)} of "
            f"{progress.get('records_total', '?')} records: {exc}. Nothing is lost: run the same push again "
            "and it resumes from the last finished batch"
        ) from None
    finally:
        local.close()
        remote.close()
    _remember(paths, target)
    atomic_write_json(
        paths.root / STATE_FILE,
        {
            "direction": "push",
            "target": target,
            "finished": True,
            "batches_done": 0,
            "records_done": report.records,
            "records_total": report.records,
        },
    )
    return report


def pull(
    project_dir: Path | str,
    *,
    api_url: str | None = None,
    api_key: str | None = None,
    workspace: str | None = None,
    dataset: str | None = None,
    batch_size: int = 500,
) -> SyncReport:
    """Copy an Argilla dataset (records, suggestions, vectors, every user's responses) into a local project.

    Creates the local project when ``project_dir`` has none. Re-running is safe: unchanged records
    and responses are left alone.
    """
    import os

    paths = ProjectPaths(Path(project_dir))
    target = _target(paths, api_url, workspace, dataset)
    remote = ArgillaStore(
        target["api_url"],
        api_key or os.environ.get("ARGILLA_API_KEY", ""),
        dataset=target["dataset"],
        workspace=target["workspace"],
    )
    report = SyncReport(direction="pull", **target)
    local: RecordStore | None = None
    try:
        remote.require_owner("pull every user's annotations")
        project = remote.get_project()
        if paths.config.exists():
            local = open_store(paths.root, backend="local")
            current = local.get_project()
            if current.guidelines != project.guidelines or current.output_schema != project.output_schema:
                local.update_project(
                    current.model_copy(
                        update={"guidelines": project.guidelines, "output_schema": project.output_schema}
                    )
                )
        else:
            local = init_project(paths.root, project.name, backend="local", project=project)
        known = {u.name for u in local.list_users()}
        for user in remote.list_users():
            if user.name not in known:
                local.add_user(user)
                report.users += 1
        for batch in remote.iter_records(batch_size=batch_size):
            result = local.upsert_records(batch, batch_size=batch_size)
            report.records += len(batch)
            report.inserted += result.inserted
            report.updated += result.updated
            report.unchanged += result.unchanged
        for name in remote.vector_names():
            ids, matrix = remote.get_vectors(name)
            if ids:
                local.set_vectors(name, ids, matrix)
            report.vectors[name] = len(ids)
        have = {(r.record_id, r.user): r.content_hash() for r in local.get_responses()}
        for response in remote.get_responses():
            if have.get((response.record_id, response.user)) != response.content_hash():
                local.save_response(response, expected_version=None)
                report.responses += 1
    except NotFoundError:
        raise
    finally:
        remote.close()
        if local is not None:
            local.close()
    _remember(paths, target)
    return report
