"""Push a project directory to an Argilla server and pull it back (``pairsmith push`` / ``pull``).

The project-level half of syncing: which server, workspace and dataset (flags, then what the last
sync remembered in ``pairsmith.json``, then the environment), opening both stores by name through
the registry, keeping progress in ``DIR/argilla-sync.json`` so that a copy cut short resumes from
its last finished batch, and remembering the target afterwards. The copy itself is
:func:`curation.store.sync.copy_project`, the same body in both directions. The API key is never
written to either file or to any message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from curation.errors import BadInputError
from curation.files import CONFIG_FILE, ProjectPaths, atomic_write_json
from curation.project import init_project, open_store, read_config
from curation.store.base import RecordStore
from curation.store.registry import open_backend
from curation.store.sync import ProgressHook, SyncReport, copy_project

STATE_FILE = "argilla-sync.json"
DEFAULT_WORKSPACE = "pairsmith"


class FileCheckpoint:
    """Progress of one push or pull in ``DIR/argilla-sync.json``; a different target starts afresh."""

    def __init__(self, paths: ProjectPaths, direction: str, target: dict[str, str]) -> None:
        self.path = paths.root / STATE_FILE
        self.direction = direction
        self.target = target
        state = self._read()
        same = state.get("direction") == direction and state.get("target") == target
        self.start_batch = int(state.get("batches_done", 0)) if same and not state.get("finished") else 0

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            state: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            return state
        except json.JSONDecodeError:
            return {}

    def batch_done(self, batches: int, records_done: int, records_total: int) -> None:
        atomic_write_json(
            self.path,
            {
                "direction": self.direction,
                "target": self.target,
                "batches_done": batches,
                "records_done": records_done,
                "records_total": records_total,
            },
        )

    def finish(self, records: int) -> None:
        atomic_write_json(
            self.path,
            {
                "direction": self.direction,
                "target": self.target,
                "finished": True,
                "batches_done": 0,
                "records_done": records,
                "records_total": records,
            },
        )


def sync_target(
    paths: ProjectPaths, api_url: str | None, workspace: str | None, dataset: str | None
) -> dict[str, str]:
    """Where to sync: arguments first, then what the last sync recorded, then the environment."""
    config = read_config(paths.root) if paths.config.exists() else {}
    remembered: dict[str, Any] = config.get("argilla", {})
    url = api_url or remembered.get("api_url") or os.environ.get("ARGILLA_API_URL", "")
    if not url:
        raise BadInputError("no Argilla server given: pass --api-url or set ARGILLA_API_URL")
    name = dataset or remembered.get("dataset") or config.get("name", "")
    if not name:
        raise BadInputError(
            f"{paths.root} is not a project yet: pass --dataset to name the Argilla dataset to pull"
        )
    return {
        "api_url": url,
        "workspace": workspace or remembered.get("workspace") or DEFAULT_WORKSPACE,
        "dataset": name,
    }


def _open_remote(paths: ProjectPaths, target: dict[str, str], api_key: str | None) -> RecordStore:
    options: dict[str, Any] = dict(target)
    if api_key:
        options["api_key"] = api_key
    return open_backend("argilla", paths, {"name": target["dataset"], "backend_options": options})


def _remember(paths: ProjectPaths, target: dict[str, str]) -> None:
    """Record the server/dataset in pairsmith.json (never the key) so the next sync needs no flags."""
    config = read_config(paths.root)
    config["argilla"] = target
    atomic_write_json(paths.root / CONFIG_FILE, config)


def push_project(
    project_dir: Path | str,
    *,
    api_url: str | None = None,
    api_key: str | None = None,
    workspace: str | None = None,
    dataset: str | None = None,
    batch_size: int = 500,
    on_batch: ProgressHook | None = None,
) -> SyncReport:
    """Copy a local project to Argilla; resumable and idempotent (see :mod:`curation.store.sync`)."""
    paths = ProjectPaths(Path(project_dir))
    if read_config(paths.root).get("backend") == "argilla":
        raise BadInputError(
            f"{paths.root} already lives on an Argilla server: push copies a local project there "
            "(`pairsmith pull` makes a local copy of this one)"
        )
    target = sync_target(paths, api_url, workspace, dataset)
    local = open_store(paths.root, backend="local")
    try:
        remote = _open_remote(paths, target, api_key)
    except BaseException:
        local.close()
        raise
    checkpoint = FileCheckpoint(paths, "push", target)
    try:
        report = copy_project(
            local,
            remote,
            SyncReport(direction="push", **target),
            batch_size=batch_size,
            checkpoint=checkpoint,
            on_batch=on_batch,
        )
    finally:
        local.close()
        remote.close()
    _remember(paths, target)
    checkpoint.finish(report.records)
    return report


def pull_project(
    project_dir: Path | str,
    *,
    api_url: str | None = None,
    api_key: str | None = None,
    workspace: str | None = None,
    dataset: str | None = None,
    batch_size: int = 500,
) -> SyncReport:
    """Copy an Argilla dataset (records, vectors, every user's responses, versions) into a local project.

    Creates the local project when ``project_dir`` has none. Re-running is safe: unchanged records
    and responses are left alone.
    """
    paths = ProjectPaths(Path(project_dir))
    target = sync_target(paths, api_url, workspace, dataset)
    remote = _open_remote(paths, target, api_key)
    local: RecordStore | None = None
    checkpoint = FileCheckpoint(paths, "pull", target)
    try:
        remote.require_owner("pull every user's annotations")
        if paths.config.exists():
            local = open_store(paths.root, backend="local")
        else:
            project = remote.get_project()
            local = init_project(paths.root, project.name, backend="local", project=project)
        report = copy_project(
            remote,
            local,
            SyncReport(direction="pull", **target),
            batch_size=batch_size,
            checkpoint=checkpoint,
        )
    finally:
        remote.close()
        if local is not None:
            local.close()
    _remember(paths, target)
    checkpoint.finish(report.records)
    return report
