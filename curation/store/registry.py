"""Store backends by name: each name maps to the import path of its factory.

A backend is imported only when a project asks for it (the Argilla SDK is never imported for a
local project), and backends never import this module back: adding one is a line here, not a
registration call in the backend.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from curation.errors import BadInputError
from curation.files import ProjectPaths
from curation.store.base import RecordStore

StoreFactory = Callable[[ProjectPaths, dict[str, Any]], RecordStore]

BACKENDS: dict[str, str] = {
    "local": "curation.store.sqlite.store:open_sqlite_store",
    "argilla": "curation.store.argilla.store:open_argilla_store",
}
"""Backend name → ``module:factory``; the factory takes the project's paths and its config."""


def store_factory(name: str) -> StoreFactory:
    """The factory of backend ``name``, imported on first use."""
    try:
        target = BACKENDS[name]
    except KeyError:
        raise BadInputError(f"unknown backend '{name}'; choose one of: {', '.join(BACKENDS)}") from None
    module, _, attribute = target.partition(":")
    factory: StoreFactory = getattr(importlib.import_module(module), attribute)
    return factory


def open_backend(name: str, paths: ProjectPaths, config: dict[str, Any]) -> RecordStore:
    """Open backend ``name`` for the project at ``paths`` with its config."""
    return store_factory(name)(paths, config)
