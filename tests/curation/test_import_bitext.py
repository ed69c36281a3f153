"""Acceptance: the real Bitext customer-support CSV imports as 4,514 records, and re-import adds 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.files import ProjectPaths
from curation.importing import import_file
from curation.project import init_project
from tests.conftest import BITEXT_CSV

pytestmark = pytest.mark.skipif(
    not BITEXT_CSV.exists(), reason="the shared Bitext dataset is not checked out beside the repository"
)


def test_bitext_imports_4514_records_and_reimport_adds_nothing(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    store = init_project(root, "bitext")
    try:
        report = import_file(store, BITEXT_CSV, quarantine_dir=ProjectPaths(root).quarantine)
        assert (report.format, report.rows_read, report.imported, report.rejected) == ("csv", 4514, 4514, 0)
        assert report.quarantine_file is None and report.warnings == []
        assert store.count_records() == 4514

        first = store.query_records().records[0]
        assert first.input == "how can I cancel purchase 113542617735902?"
        assert first.output.startswith("I understand how unnerving it can be to cancel an order")
        assert set(first.metadata) == {
            "context",
            "role",
            "intent",
            "entity_type",
            "entity_value",
            "start_offset",
            "end_offset",
            "category",
            "tags",
        }
        assert (first.metadata["intent"], first.metadata["start_offset"]) == ("cancel_order", 26)
        assert (first.source.file, first.source.row) == ("bitext_customer_support.csv", 1)

        again = import_file(store, BITEXT_CSV, quarantine_dir=ProjectPaths(root).quarantine)
        assert (again.imported, again.skipped_existing, again.rejected) == (0, 4514, 0)
        assert store.count_records() == 4514
    finally:
        store.close()
