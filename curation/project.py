"""A project directory: where a project's store, quarantine, analysis, caches and runs live.

``DIR/pairsmith.json`` says which backend holds the records (``local`` = ``DIR/pairsmith.db``, or
``argilla``). Backends are opened by name through :mod:`curation.store.registry`, which imports them
only when asked, so this module never imports the Argilla SDK.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from curation.errors import BadInputError, ConflictError, NotFoundError
from curation.files import CONFIG_FILE, ProjectPaths, atomic_write_json
from curation.model import SCHEMA_VERSION, Project
from curation.store.base import RecordStore
from curation.store.registry import open_backend


def read_config(root: Path | str) -> dict[str, Any]:
    paths = ProjectPaths(Path(root))
    if not paths.config.exists():
        raise NotFoundError(
            f"{paths.root} is not a pairsmith project (no {CONFIG_FILE}); create one with `pairsmith init {paths.root}`"
        )
    try:
        config: dict[str, Any] = json.loads(paths.config.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON: {exc.msg}", where=f"{paths.config}:{exc.lineno}") from None
    return config


def init_project(
    root: Path | str,
    name: str | None = None,
    *,
    backend: str | None = "local",
    backend_options: dict[str, Any] | None = None,
    project: Project | None = None,
) -> RecordStore:
    """Create a project directory (or refuse if one exists) and return its open store.

    ``backend=None`` lets the environment choose (:func:`default_backend`), as `pairsmith init`
    without ``--backend`` does. The chosen backend is recorded in ``pairsmith.json``; credentials
    in ``backend_options`` (``api_key``) are used to open the store and never written there.
    """
    backend = backend or default_backend()
    paths = ProjectPaths(Path(root))
    if paths.config.exists():
        raise ConflictError(f"{paths.root} already holds a pairsmith project; open it instead of creating it")
    paths.root.mkdir(parents=True, exist_ok=True)
    settings = project or Project(name=name or paths.root.resolve().name)
    config = {
        "name": settings.name,
        "backend": backend,
        "backend_options": dict(backend_options or {}),  # a copy: the factory pops the key
        "schema_version": SCHEMA_VERSION,
    }
    store = open_backend(backend, paths, config)
    store.update_project(settings)
    atomic_write_json(paths.config, config)
    return store


def default_backend() -> str:
    """``argilla`` when ``ARGILLA_API_URL`` and ``ARGILLA_API_KEY`` are both set, else ``local``."""
    if os.environ.get("ARGILLA_API_URL") and os.environ.get("ARGILLA_API_KEY"):
        return "argilla"
    return "local"


def open_store(root: Path | str, *, backend: str | None = None, api_key: str | None = None) -> RecordStore:
    """Open the store of an existing project directory.

    ``backend`` overrides the configured one (``--backend``); a config without a backend lets the
    environment choose (:func:`default_backend`). ``api_key`` signs in to a backend that needs a
    key (Argilla; otherwise ``ARGILLA_API_KEY``); keys are never read from ``pairsmith.json``.
    """
    paths = ProjectPaths(Path(root))
    config = read_config(paths.root)
    options = config.setdefault("backend_options", {})
    if "api_key" in options:
        raise BadInputError(
            "pairsmith.json must not hold an API key: remove backend_options.api_key and pass --api-key "
            "or set ARGILLA_API_KEY instead",
            where=str(paths.config),
        )
    if api_key:
        options["api_key"] = api_key
    chosen = backend or config.get("backend") or default_backend()
    return open_backend(chosen, paths, config)
