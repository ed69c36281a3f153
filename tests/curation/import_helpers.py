"""Factories for import tests: write small files in tmp_path and import them into a fresh project."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curation.files import ProjectPaths
from curation.importing import ImportReport, import_file
from curation.project import init_project
from curation.store.base import RecordStore


def write_file(folder: Path, name: str, content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8, bytes as given) to ``folder/name``."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


def jsonl(*rows: Any) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def read_quarantine(report: ImportReport) -> list[dict[str, Any]]:
    assert report.quarantine_file, "expected a quarantine file"
    lines = Path(report.quarantine_file).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


class Importer:
    """A project in tmp_path plus a one-call import of a file into it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store: RecordStore = init_project(root, "imports")

    @property
    def quarantine(self) -> Path:
        return ProjectPaths(self.root).quarantine

    def __call__(self, path: Path, **kwargs: Any) -> ImportReport:
        report = import_file(self.store, path, quarantine_dir=self.quarantine, **kwargs)
        assert report.rows_read == report.imported + report.skipped_existing + report.rejected
        return report

    def records(self) -> list[Any]:
        return self.store.query_records().records

    def close(self) -> None:
        self.store.close()
