"""The example dataset shipped with pairsmith: support-ticket triage for Fernway, a fictional plant shop.

The files live in ``curation/example/`` (installed as package data) and are written by
``scripts/make_example_dataset.py``; ``docs/example-dataset.md`` describes the task and the planted
problems. These helpers give their paths and the project settings that go with them, so the bootstrap,
the tests and the docs all start from the same place.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.errors import NotFoundError
from curation.model import Project
from curation.store.base import RecordStore

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "example"
EXAMPLE_PROJECT_NAME = "fernway-triage"


@dataclass(frozen=True)
class ExampleFiles:
    """Paths of the example's files: records (JSONL), the key of planted problems, and the settings."""

    data: Path
    key: Path
    guidelines: Path
    output_schema: Path


def example_files() -> ExampleFiles:
    """The bundled example's files; raises NotFoundError when the package was installed without them."""
    files = ExampleFiles(
        data=EXAMPLE_DIR / "fernway_triage.jsonl",
        key=EXAMPLE_DIR / "planted.json",
        guidelines=EXAMPLE_DIR / "guidelines.md",
        output_schema=EXAMPLE_DIR / "output_schema.json",
    )
    for path in (files.data, files.key, files.guidelines, files.output_schema):
        if not path.is_file():
            raise NotFoundError(
                f"example file {path} is missing; reinstall pairsmith or run scripts/make_example_dataset.py"
            )
    return files


def example_output_schema() -> dict[str, Any]:
    """The JSON Schema every good Fernway triage output satisfies."""
    schema: dict[str, Any] = json.loads(example_files().output_schema.read_text(encoding="utf-8"))
    return schema


def example_key() -> dict[str, Any]:
    """The key of planted problems (duplicate groups, conflicts, bad outputs, PII, golden ids, topics)."""
    key: dict[str, Any] = json.loads(example_files().key.read_text(encoding="utf-8"))
    return key


def example_project_settings() -> Project:
    """Project settings for the example: name, annotator guidelines and the output schema."""
    files = example_files()
    return Project(
        name=EXAMPLE_PROJECT_NAME,
        guidelines=files.guidelines.read_text(encoding="utf-8"),
        output_schema=example_output_schema(),
    )


def create_example_project(root: Path | str, *, backend: str | None = "local") -> RecordStore:
    """Create a project in ``root`` holding the example: settings, all records, golden ids marked.

    What the bootstrap and the tour start from. Raises ConflictError when ``root`` already holds a
    project. The caller closes the returned store.
    """
    from curation.files import ProjectPaths
    from curation.importing.importer import import_file  # import lazily: only this helper needs it
    from curation.project import init_project

    store = init_project(root, EXAMPLE_PROJECT_NAME, backend=backend, project=example_project_settings())
    try:
        import_file(store, example_files().data, quarantine_dir=ProjectPaths(Path(root)).quarantine)
        store.set_golden(example_key()["golden"])
        # Ship settings sized for a CPU (`pairsmith ship` reads a project's ship.yaml; docs/training.md).
        shutil.copyfile(EXAMPLE_DIR / "ship.yaml", Path(root) / "ship.yaml")
    except BaseException:
        store.close()
        raise
    return store
