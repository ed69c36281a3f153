"""Human decisions on duplicate groups, on a real local store."""

from __future__ import annotations

import pytest

from curation import metadata_keys
from curation.analysis.dedup.conflicts import find_conflicts, write_conflict_metadata
from curation.analysis.dedup.exact import exact_pairs
from curation.analysis.dedup.groups import build_groups, write_group_metadata
from curation.analysis.dedup.near import near_pairs
from curation.errors import BadInputError, NotFoundError
from curation.review.duplicates import bulk_resolve_exact, clear_resolution, keep_all, keep_one, mark_conflict
from curation.store.base import RecordQuery
from tests.factories import make_record

LONG = "Your fern ships Monday from our greenhouse in Portland and should arrive within three business days."


def _project(make_local_project):  # type: ignore[no-untyped-def]
    _, store = make_local_project()
    records = [
        make_record(id="a1", input="Where is FW-1?", output="It ships Monday."),
        make_record(id="a2", input="where is fw-1", output="it ships monday"),
        make_record(id="a3", input="Where is FW-1?!", output="It ships Monday"),
        make_record(id="n1", input="When does my fern ship?", output=LONG),
        make_record(id="n2", input="When does my fern ship?", output=LONG.replace("three", "four")),
        make_record(id="solo", input="Do you sell cacti?", output="Yes, twelve kinds."),
    ]
    store.upsert_records(records)
    groups = build_groups(exact_pairs(records) + near_pairs(records), records, [])
    write_group_metadata(store, groups, all_ids=[r.id for r in records])
    return store, {g.tier: g for g in groups}


def _resolution(store) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    return {
        r.id: r.metadata.get(metadata_keys.DUP_RESOLUTION) for r in store.query_records(RecordQuery()).records
    }


def test_group_metadata_lands_in_the_store(make_local_project) -> None:  # type: ignore[no-untyped-def]
    store, groups = _project(make_local_project)
    exact = groups["exact"]
    members = store.query_records(RecordQuery(metadata_terms={metadata_keys.DUP_GROUP: [exact.id]})).records
    assert [r.id for r in members] == ["a1", "a2", "a3"]
    assert [r.metadata.get(metadata_keys.DUP_KEEPER) for r in members].count("yes") == 1
    assert "dup_group" not in store.get_record("solo").metadata


def test_keep_one_keep_all_conflict_and_clear(make_local_project) -> None:  # type: ignore[no-untyped-def]
    store, groups = _project(make_local_project)
    gid = groups["near"].id
    result = keep_one(store, gid, "n2")
    assert result.kept == ["n2"] and result.dropped == ["n1"]
    assert _resolution(store)["n1"] == "drop" and _resolution(store)["n2"] == "keep"
    keep_all(store, gid)
    assert _resolution(store)["n1"] == _resolution(store)["n2"] == "keep"
    mark_conflict(store, gid)
    assert _resolution(store)["n1"] == _resolution(store)["n2"] == "conflict"
    clear_resolution(store, gid)
    assert _resolution(store)["n1"] is None
    assert _resolution(store)["a1"] is None  # other groups untouched


def test_errors_name_the_group_and_record(make_local_project) -> None:  # type: ignore[no-untyped-def]
    store, groups = _project(make_local_project)
    with pytest.raises(NotFoundError, match="dup-nope"):
        keep_all(store, "dup-nope")
    with pytest.raises(BadInputError, match="solo"):
        keep_one(store, groups["exact"].id, "solo")


def test_bulk_resolve_exact_keeps_suggested_keepers(make_local_project) -> None:  # type: ignore[no-untyped-def]
    store, groups = _project(make_local_project)
    results = bulk_resolve_exact(store).resolved
    assert [r.group for r in results] == [groups["exact"].id]
    keeper = groups["exact"].keeper
    decided = _resolution(store)
    assert decided[keeper] == "keep"
    assert sorted(rid for rid in ("a1", "a2", "a3") if decided[rid] == "drop") == sorted(
        {"a1", "a2", "a3"} - {keeper}
    )
    assert decided["n1"] is None  # near groups need a human
    # A decided group is left alone unless overwrite.
    keep_all(store, groups["exact"].id)
    again = bulk_resolve_exact(store)
    assert again.resolved == []
    [skipped] = again.skipped
    assert skipped.group == groups["exact"].id and "already decided by a reviewer" in skipped.reason
    assert len(bulk_resolve_exact(store, overwrite=True).resolved) == 1


def test_conflict_metadata_round_trip(make_local_project) -> None:  # type: ignore[no-untyped-def]
    _, store = make_local_project()
    records = [
        make_record(
            id="c1",
            input="Can I return a plant after 30 days?",
            output="Yes, returns are accepted for 60 days.",
        ),
        make_record(
            id="c2", input="Can I return a plant after 30 days?", output="No. We cannot take plants back."
        ),
    ]
    store.upsert_records(records)
    conflicts = find_conflicts(records)
    write_conflict_metadata(store, conflicts, all_ids=["c1", "c2"])
    assert store.get_record("c1").metadata[metadata_keys.CONFLICT_GROUP] == conflicts[0].id
    write_conflict_metadata(store, [], all_ids=["c1", "c2"])
    assert metadata_keys.CONFLICT_GROUP not in store.get_record("c1").metadata
