"""The clean-set rules: review verdicts, corrections, adjudication, quality and duplicates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from curation import metadata_keys as F
from curation.errors import BadInputError
from curation.model import Record, Response, ResponseStatus
from curation.store.base import RecordStore
from tests.factories import make_record, make_response
from training.clean_set import (
    CONFLICT,
    DISAGREEMENT,
    DISCARDED,
    DUP_CONFLICT,
    DUP_DROPPED,
    DUPLICATE,
    EMPTY,
    LABEL_EXCLUDED,
    NO_CORRECTION,
    QUALITY_FLAG,
    UNREVIEWED,
    CleanSet,
    select_clean_set,
    select_from,
)
from training.export_config import ExportConfig, load_export_config


def label(record: Record, value: str, user: str = "ann", **values: Any) -> Response:
    return make_response(record.id, user, values={"label": value, **values})


def reasons(clean: CleanSet) -> dict[str, str]:
    return {e.record_id: e.reason for e in clean.excluded}


def kept(clean: CleanSet) -> dict[str, str]:
    return {i.record.id: i.output for i in clean.included}


def test_good_is_kept_with_its_output_and_bad_is_left_out() -> None:
    good, bad = make_record(), make_record()
    clean = select_from([good, bad], [label(good, "good"), label(bad, "bad")], ExportConfig())
    assert kept(clean) == {good.id: good.output}
    assert reasons(clean) == {bad.id: LABEL_EXCLUDED}
    assert clean.included[0].why == "good by ann"


def test_needs_fix_takes_the_corrected_output_or_is_left_out_without_one() -> None:
    fixed, unfixed, blank = make_record(), make_record(), make_record()
    responses = [
        label(fixed, "needs_fix", corrected_output="the right answer"),
        label(unfixed, "needs_fix"),
        label(blank, "needs_fix", corrected_output="   "),
    ]
    clean = select_from([fixed, unfixed, blank], responses, ExportConfig())
    assert kept(clean) == {fixed.id: "the right answer"}
    assert clean.included[0].corrected
    assert reasons(clean) == {unfixed.id: NO_CORRECTION, blank.id: NO_CORRECTION}
    assert clean.included_by() == {"needs_fix_corrected": 1}


def test_discarded_drafts_and_unreviewed() -> None:
    discarded, drafted, untouched = make_record(), make_record(), make_record()
    responses = [
        make_response(discarded.id, values={}, status=ResponseStatus.discarded),
        make_response(drafted.id, values={"label": "good"}, status=ResponseStatus.draft),
    ]
    clean = select_from([discarded, drafted, untouched], responses, ExportConfig())
    assert reasons(clean) == {discarded.id: DISCARDED, drafted.id: UNREVIEWED, untouched.id: UNREVIEWED}


def test_include_unreviewed_takes_unlabeled_records_but_still_filters_them() -> None:
    plain, flagged, bad = make_record(), make_record(metadata={F.FLAGS: ["truncated_output"]}), make_record()
    clean = select_from([plain, flagged, bad], [label(bad, "bad")], ExportConfig(include_unreviewed=True))
    assert kept(clean) == {plain.id: plain.output}
    assert reasons(clean) == {flagged.id: QUALITY_FLAG, bad.id: LABEL_EXCLUDED}
    assert clean.included[0].label is None


def test_majority_wins_and_ties_are_a_disagreement() -> None:
    majority, tie = make_record(), make_record()
    responses = [
        label(majority, "good", "a"),
        label(majority, "good", "b"),
        label(majority, "bad", "c"),
        label(tie, "good", "a"),
        label(tie, "bad", "b"),
    ]
    clean = select_from([majority, tie], responses, ExportConfig())
    assert set(kept(clean)) == {majority.id}
    assert clean.included[0].why.startswith("majority 2/3 good")
    assert {r.user for r in clean.included[0].responses} == {"a", "b"}
    assert reasons(clean) == {tie.id: DISAGREEMENT}


def test_unanimous_policy_excludes_any_disagreement() -> None:
    record = make_record()
    responses = [label(record, "good", "a"), label(record, "good", "b"), label(record, "bad", "c")]
    clean = select_from([record], responses, ExportConfig(disagreement_policy="unanimous"))
    assert reasons(clean) == {record.id: DISAGREEMENT}


def test_the_adjudicators_response_is_final() -> None:
    record = make_record(metadata={F.ADJUDICATED_BY: "owner"})
    responses = [
        label(record, "bad", "a"),
        label(record, "bad", "b"),
        label(record, "needs_fix", "owner", corrected_output="fixed by the designer"),
    ]
    clean = select_from([record], responses, ExportConfig())
    assert kept(clean) == {record.id: "fixed by the designer"}
    assert clean.included[0].why.startswith("adjudicated by owner")
    without = select_from([record], responses, ExportConfig(use_adjudication=False))
    assert reasons(without) == {record.id: LABEL_EXCLUDED}


def test_an_adjudicator_without_a_response_falls_back_to_the_policy() -> None:
    record = make_record(metadata={F.ADJUDICATED_BY: "owner"})
    clean = select_from([record], [label(record, "good", "a"), label(record, "bad", "b")], ExportConfig())
    assert reasons(clean) == {record.id: DISAGREEMENT}


def test_quality_flags_exclude_unless_configured_and_corrections_clear_output_flags() -> None:
    too_long = make_record(metadata={F.FLAGS: ["too_long"]})
    pii = make_record(metadata={F.FLAGS: ["pii"]})
    fixed = make_record(metadata={F.FLAGS: ["invalid_json"]})
    responses = [
        label(too_long, "good"),
        label(pii, "good"),
        label(fixed, "needs_fix", corrected_output="{}"),
    ]
    clean = select_from([too_long, pii, fixed], responses, ExportConfig())
    assert reasons(clean) == {too_long.id: QUALITY_FLAG}
    assert set(kept(clean)) == {pii.id, fixed.id}
    strict = select_from([too_long, pii, fixed], responses, ExportConfig(exclude_flags=["pii"]))
    assert reasons(strict) == {pii.id: QUALITY_FLAG}


def test_an_empty_output_is_never_exported() -> None:
    record = make_record(output="  ")
    clean = select_from([record], [label(record, "good")], ExportConfig())
    assert reasons(clean) == {record.id: EMPTY}


def group(name: str, **meta: Any) -> Record:
    return make_record(metadata={F.DUP_GROUP: name, **meta})


def test_one_keeper_per_duplicate_group_prefers_the_suggested_keeper() -> None:
    first, suggested, third = group("g1"), group("g1", **{F.DUP_KEEPER: "yes"}), group("g1")
    records = [first, suggested, third]
    clean = select_from(records, [label(r, "good") for r in records], ExportConfig())
    assert set(kept(clean)) == {suggested.id}
    assert reasons(clean) == {first.id: DUPLICATE, third.id: DUPLICATE}
    assert select_from(records, [label(r, "good") for r in records], ExportConfig(dedup=False)).excluded == []


def test_without_a_suggestion_the_first_reviewed_member_is_kept() -> None:
    unreviewed, reviewed = group("g"), group("g")
    clean = select_from(
        [unreviewed, reviewed], [label(reviewed, "good")], ExportConfig(include_unreviewed=True)
    )
    assert set(kept(clean)) == {reviewed.id}
    assert reasons(clean) == {unreviewed.id: DUPLICATE}


def test_the_suggested_keeper_yields_when_it_is_not_included() -> None:
    bad_keeper, other = group("g", **{F.DUP_KEEPER: "yes"}), group("g")
    clean = select_from([bad_keeper, other], [label(bad_keeper, "bad"), label(other, "good")], ExportConfig())
    assert set(kept(clean)) == {other.id}


def test_human_resolutions_drop_keep_and_conflict() -> None:
    dropped, kept_one, other = (
        group("g", **{F.DUP_RESOLUTION: "drop"}),
        group("g", **{F.DUP_RESOLUTION: "keep"}),
        group("g", **{F.DUP_KEEPER: "yes"}),
    )
    c1, c2 = group("c", **{F.DUP_RESOLUTION: "conflict"}), group("c", **{F.DUP_RESOLUTION: "conflict"})
    k1, k2 = group("k", **{F.DUP_RESOLUTION: "conflict"}), group("k", **{F.DUP_RESOLUTION: "keep"})
    records = [dropped, kept_one, other, c1, c2, k1, k2]
    clean = select_from(records, [label(r, "good") for r in records], ExportConfig())
    assert set(kept(clean)) == {kept_one.id, k2.id}
    assert reasons(clean) == {
        dropped.id: DUP_DROPPED,
        other.id: DUPLICATE,
        c1.id: DUP_CONFLICT,
        c2.id: DUP_CONFLICT,
        k1.id: DUPLICATE,
    }


def test_summary_lists_every_record_once_with_a_reason() -> None:
    records = [make_record() for _ in range(4)]
    responses = [label(records[0], "good"), label(records[1], "bad")]
    summary = select_from(records, responses, ExportConfig()).summary(per_record=True)
    assert summary["records"] == 4 and summary["included"] == 1 and summary["excluded"] == 3
    assert summary["excluded_by"] == {UNREVIEWED: 2, LABEL_EXCLUDED: 1}
    rows = summary["per_record"]
    assert sorted(r["id"] for r in rows) == sorted(r.id for r in records)
    assert all(set(r) == {"id", "included", "reason", "detail"} for r in rows)


def test_config_file_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "export.yaml"
    path.write_text(
        "include_unreviewed: false\nseed: 7\nfractions: {train: 0.6, validation: 0.2, test: 0.2}\n"
    )
    config = load_export_config(path, include_unreviewed=True, version=None)
    assert config.include_unreviewed and config.seed == 7 and config.fractions.test == 0.2
    path.write_text('{"fractions": {"train": 0.9, "validation": 0.2, "test": 0.1}}')
    with pytest.raises(BadInputError, match="add up to"):
        load_export_config(path)
    with pytest.raises(BadInputError, match="disagreement_policy"):
        load_export_config(None, disagreement_policy="coin_flip")


def test_select_clean_set_reads_a_real_store(
    make_local_project: Callable[..., tuple[Path, RecordStore]],
) -> None:
    _, store = make_local_project()
    good, fixed, bad = make_record(), make_record(), make_record()
    store.upsert_records([good, fixed, bad])
    store.save_response(label(good, "good"))
    store.save_response(label(fixed, "needs_fix", corrected_output="better"))
    store.save_response(label(bad, "bad"))
    clean = select_clean_set(store, ExportConfig())
    assert kept(clean) == {good.id: good.output, fixed.id: "better"}
    assert reasons(clean) == {bad.id: LABEL_EXCLUDED}


def test_copies_are_left_out_but_paraphrases_wait_for_a_reviewer() -> None:
    keeper = group("g", **{F.DUP_KEEPER: "yes", F.DUP_TIER: "near"})
    copy = group("g", **{F.DUP_TIER: "near"})
    paraphrase = group("g", **{F.DUP_TIER: "semantic"})
    records = [keeper, copy, paraphrase]
    clean = select_from(records, [], ExportConfig(include_unreviewed=True))
    assert set(kept(clean)) == {keeper.id, paraphrase.id} and reasons(clean) == {copy.id: DUPLICATE}
    strict = select_from(
        records, [], ExportConfig(include_unreviewed=True, dedup_tiers=["exact", "near", "semantic"])
    )
    assert set(kept(strict)) == {keeper.id}


def test_an_unreviewed_conflict_keeps_the_output_that_agrees_with_similar_inputs() -> None:
    right = make_record(input="cancel my order", metadata={F.CONFLICT_GROUP: "c1", F.OUTPUT_AGREEMENT: 0.92})
    wrong = make_record(input="cancel my order", metadata={F.CONFLICT_GROUP: "c1", F.OUTPUT_AGREEMENT: 0.31})
    clean = select_from([wrong, right], [], ExportConfig(include_unreviewed=True))
    assert set(kept(clean)) == {right.id}
    (excluded,) = clean.excluded
    assert excluded.reason == CONFLICT and right.id in excluded.detail and "0.92 vs 0.31" in excluded.detail
    # Turned off, both stay (and the splits still keep them together).
    both = select_from([wrong, right], [], ExportConfig(include_unreviewed=True, resolve_conflicts=False))
    assert set(kept(both)) == {right.id, wrong.id}


def test_only_the_same_input_competes_inside_a_conflict_group() -> None:
    # A conflict group also joins near-identical inputs; on templated inputs those are different questions.
    french = make_record(
        input="name[Eagle], food[French]", metadata={F.CONFLICT_GROUP: "c1", F.OUTPUT_AGREEMENT: 0.9}
    )
    italian = make_record(
        input="name[Eagle], food[Italian]", metadata={F.CONFLICT_GROUP: "c1", F.OUTPUT_AGREEMENT: 0.5}
    )
    clean = select_from([french, italian], [], ExportConfig(include_unreviewed=True))
    assert set(kept(clean)) == {french.id, italian.id}


def test_a_reviewed_conflict_member_outranks_the_unreviewed_ones() -> None:
    reviewed = make_record(input="Refund?", metadata={F.CONFLICT_GROUP: "c1", F.OUTPUT_AGREEMENT: 0.2})
    other = make_record(input="refund", metadata={F.CONFLICT_GROUP: "c1", F.OUTPUT_AGREEMENT: 0.9})
    clean = select_from([reviewed, other], [label(reviewed, "good")], ExportConfig(include_unreviewed=True))
    assert set(kept(clean)) == {reviewed.id}
    assert reasons(clean) == {other.id: CONFLICT}


def test_suspicion_flags_exclude_only_records_nobody_reviewed() -> None:
    flags = {F.FLAGS: ["inconsistent_output"]}
    reviewed, unreviewed = make_record(metadata=dict(flags)), make_record(metadata=dict(flags))
    clean = select_from(
        [reviewed, unreviewed], [label(reviewed, "good")], ExportConfig(include_unreviewed=True)
    )
    assert set(kept(clean)) == {reviewed.id}
    assert reasons(clean) == {unreviewed.id: QUALITY_FLAG}
    assert clean.excluded[0].detail == "inconsistent_output"


def test_exact_copies_that_are_both_paraphrases_of_the_keeper_are_reduced_to_one() -> None:
    keeper = make_record(input="cancel my order", metadata={F.DUP_GROUP: "g", F.DUP_KEEPER: "yes"})
    original = make_record(
        input="please cancel the order", metadata={F.DUP_GROUP: "g", F.DUP_TIER: "semantic"}
    )
    copy = make_record(
        input="please cancel the order",
        output=original.output,
        metadata={F.DUP_GROUP: "g", F.DUP_TIER: "semantic"},
    )
    clean = select_from([keeper, original, copy], [], ExportConfig(include_unreviewed=True))
    assert set(kept(clean)) == {keeper.id, original.id}
    assert reasons(clean) == {copy.id: DUPLICATE}
    assert clean.excluded[0].detail == f"an exact copy of {original.id}"
