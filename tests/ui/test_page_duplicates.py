"""The duplicates page: resolving a group updates its records; bulk-resolve exact groups."""

from __future__ import annotations

from curation import metadata_keys
from tests.ui.conftest import OWNER, app_as, dup_records, fake_analysis, no_exception

PAGE = "app_pages/duplicates.py"


def resolutions(store):
    return {r.id: r.metadata.get(metadata_keys.DUP_RESOLUTION) for r in store.query_records().records}


def test_without_analysis_the_page_says_run_analysis_first(seeded_project):
    root, _ = seeded_project(dup_records())
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    assert "Run analysis first" in at.info[0].value


def test_keep_one_drops_the_others(seeded_project):
    root, store = seeded_project(dup_records())
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    at.button(key="dup_keep_dup-1_b").click().run()
    no_exception(at)
    assert resolutions(store) == {"a": "drop", "b": "keep", "c": None}
    assert "Kept one" in at.success[0].value


def test_keep_all_conflict_and_clear(seeded_project):
    root, store = seeded_project(dup_records())
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    at.button(key="dup_keep_all_dup-1").click().run()
    assert resolutions(store) == {"a": "keep", "b": "keep", "c": None}
    at.button(key="dup_conflict_dup-1").click().run()
    assert resolutions(store) == {"a": "conflict", "b": "conflict", "c": None}
    at.button(key="dup_clear_dup-1").click().run()
    no_exception(at)
    assert resolutions(store) == {"a": None, "b": None, "c": None}


def test_bulk_resolve_exact_keeps_the_suggested_keeper(seeded_project):
    root, store = seeded_project(dup_records())
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    at.button(key="dup_bulk_exact").click().run()
    no_exception(at)
    assert resolutions(store) == {"a": "keep", "b": "drop", "c": None}
