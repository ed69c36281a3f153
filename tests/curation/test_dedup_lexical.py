"""Exact and near tiers, shingling, union-find, grouping with keepers, conflicts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curation import metadata_keys
from curation.analysis.dedup.conflicts import find_conflicts
from curation.analysis.dedup.exact import (
    exact_hashes,
    exact_pairs,
    merge_hash_groups,
    normalized_hash,
    pairs_from_hash_groups,
)
from curation.analysis.dedup.groups import build_groups, group_id, group_metadata
from curation.analysis.dedup.links import DuplicatePair, UnionFind
from curation.analysis.dedup.near import NearSettings, near_pairs, optimal_bands
from curation.analysis.dedup.shingles import pair_jaccard, shingle_texts
from curation.analysis.dedup.text import canonical_words, normalize_text
from curation.model import ResponseStatus
from tests.factories import make_record, make_response

BASE = (
    "My monstera arrived with three yellow leaves and a cracked pot, the box was soaked and the soil "
    "was everywhere. Can you send a replacement or refund the order please?"
)


def _reference_shingles(text: str, word_n: int = 3, char_n: int = 5) -> set[str]:
    canon = canonical_words(text)
    words = canon.split()
    chars = {canon[i : i + char_n] for i in range(len(canon) - char_n + 1)} or {canon}
    grams = {" ".join(words[i : i + word_n]) for i in range(len(words) - word_n + 1)} or {" ".join(words)}
    return {f"c:{c}" for c in chars} | {f"w:{w}" for w in grams}


# --- normalisation, union-find, shingles ------------------------------------------------------


def test_normalize_text_folds_width_case_space_and_end_punctuation() -> None:
    assert normalize_text("  Ｗhere   is my\tORDER?! ") == "where is my order"
    assert normalize_text("Straße") == normalize_text("STRASSE")
    assert normalize_text("a, b") != normalize_text("a b")  # inner punctuation is kept


def test_union_find_components() -> None:
    uf: UnionFind[str] = UnionFind(["x"])
    uf.union("a", "b")
    uf.union("c", "b")
    uf.union("d", "e")
    assert sorted(sorted(c) for c in uf.components()) == [["a", "b", "c"], ["d", "e"]]
    assert uf.find("a") == uf.find("c") != uf.find("d")


def test_vectorised_jaccard_matches_a_plain_python_reference() -> None:
    texts = [
        BASE,
        BASE.replace("three", "four").replace("soaked", "wet"),
        "Где мой заказ? Он должен был прийти вчера.",
        "Где мой заказ? Он должен был прийти сегодня.",
        "短い",
        "ok",
    ]
    shingles = shingle_texts(texts)
    for i, j in [(0, 1), (2, 3), (0, 2), (4, 5), (4, 4)]:
        got = float(pair_jaccard(shingles, np.array([i]), np.array([j]))[0])
        ref_a, ref_b = _reference_shingles(texts[i]), _reference_shingles(texts[j])
        assert got == pytest.approx(len(ref_a & ref_b) / len(ref_a | ref_b), abs=0.01)


def test_empty_text_has_no_shingles() -> None:
    shingles = shingle_texts(["", "hello there", "  ?! "])
    assert shingles.sizes().tolist()[0] == 0 and shingles.sizes().tolist()[2] == 0
    assert shingles.sizes().tolist()[1] > 0


# --- exact tier ---------------------------------------------------------------------------------


def test_exact_pairs_ignore_case_spacing_and_end_punctuation() -> None:
    a = make_record(id="a", input="Where is my order?", output="It ships tomorrow.")
    b = make_record(id="b", input="where  is my ORDER", output="it ships tomorrow")
    c = make_record(id="c", input="Where is my order?", output="It shipped yesterday.")
    assert exact_pairs([c, b, a]) == [DuplicatePair("a", "b", "exact", 1.0)]


def test_exact_batches_merge_like_one_pass() -> None:
    records = [make_record(id=f"r{i}", input="same", output=f"out {i % 3}") for i in range(9)]
    merged = merge_hash_groups([exact_hashes(records[:4]), exact_hashes(records[4:])])
    assert merged == exact_hashes(records)
    assert exact_pairs(records, batch_size=2) == pairs_from_hash_groups(merged)
    assert normalized_hash("X", "y") == normalized_hash("x ", "Y.")


def test_exact_edge_cases_zero_one_and_all_identical() -> None:
    assert exact_pairs([]) == []
    assert exact_pairs([make_record()]) == []
    same = [make_record(id=f"s{i:03d}", input="hi", output="hello") for i in range(200)]
    pairs = exact_pairs(same)
    assert len(pairs) == 199  # a star, not 19,900 pairs
    groups = build_groups(pairs, same, [])
    assert len(groups) == 1 and len(groups[0].members) == 200


# --- near tier ----------------------------------------------------------------------------------


def test_near_finds_small_edits_and_scores_with_true_jaccard() -> None:
    a = make_record(id="a", input="Replacement please", output=BASE)
    b = make_record(id="b", input="Replacement please", output=BASE.replace("three", "two"))
    other = make_record(id="z", input="How do I water a cactus?", output="Once every two weeks in summer.")
    pairs = near_pairs([a, b, other])
    assert [(p.a, p.b, p.tier) for p in pairs] == [("a", "b", "near")]
    # The input and the output are scored on their own: the same input, an edited output.
    assert pairs[0].score == 1.0 and pairs[0].output_score is not None and 0.7 <= pairs[0].output_score < 1.0


def test_near_thresholds_are_respected_on_each_side() -> None:
    a = make_record(id="a", input="My plant arrived broken", output=BASE)
    b = make_record(
        id="b",
        input="My plant arrived broken",
        output=BASE.replace("cracked pot", "broken planter").replace("soaked", "wet"),
    )
    loose = NearSettings(threshold=0.3, output_threshold=0.3)
    output_score = near_pairs([a, b], loose)[0].output_score
    assert output_score is not None
    assert (
        near_pairs([a, b], loose.model_copy(update={"output_threshold": min(output_score + 0.05, 1.0)})) == []
    )


def test_a_shared_output_never_makes_different_inputs_near_duplicates() -> None:
    reply = "Thanks for reaching out! Your request has been routed to the right team, who will reply within two working days."
    questions = [
        "How do I top up my card with a bank transfer?",
        "Why was my card payment declined at the shop?",
        "Can I change the PIN of my debit card online?",
        "My card has not arrived yet, what should I do?",
    ]
    records = [make_record(id=f"q{i}", input=q, output=reply) for i, q in enumerate(questions)]
    assert near_pairs(records) == []
    copy = make_record(id="q9", input=questions[0].replace("bank", "bnak"), output=reply)
    assert [(p.a, p.b) for p in near_pairs([*records, copy])] == [("q0", "q9")]


def test_inputs_whose_numbers_contradict_are_not_near_duplicates() -> None:
    a = make_record(id="a", input="Please refund order FW-10482, it arrived broken.", output="ok")
    b = make_record(id="b", input="Please refund order FW-20931, it arrived broken.", output="ok")
    c = make_record(id="c", input="Please refund order FW-10482, it arrived broken!!", output="ok")
    assert [(p.a, p.b) for p in near_pairs([a, b, c])] == [("a", "c")]


def test_near_handles_non_english_long_and_identical_texts() -> None:
    ru = "Здравствуйте, мой заказ пришёл повреждённым, горшок разбит и листья сломаны. Прошу заменить."
    ja = "注文した植物が枯れて届きました。交換または返金をお願いします。よろしくお願いいたします。"
    long_text = " ".join(f"word{i % 997} filler{i % 13}" for i in range(20_000))
    records = [
        make_record(id="ru1", input="x", output=ru),
        make_record(id="ru2", input="x", output=ru.replace("Прошу", "Пожалуйста,")),
        make_record(id="ja1", input="x", output=ja),
        make_record(id="ja2", input="x", output=ja.replace("いたします", "します")),
        make_record(id="long1", input="x", output=long_text),
        make_record(id="long2", input="x", output=long_text + " one more sentence at the end."),
        *[make_record(id=f"same{i}", input="q", output="the very same answer") for i in range(50)],
    ]
    pairs = near_pairs(records)
    linked = {(p.a, p.b) for p in pairs}
    assert {("ru1", "ru2"), ("ja1", "ja2"), ("long1", "long2")} <= linked
    groups = build_groups(pairs, records, [])
    same_group = next(g for g in groups if "same0" in g.members)
    assert len(same_group.members) == 50
    assert len([p for p in pairs if p.a.startswith("same")]) <= 60  # identical signatures: linear


def test_near_edge_cases() -> None:
    assert near_pairs([]) == []
    assert near_pairs([make_record()]) == []
    # Empty outputs: the inputs still shingle, so two records with one input and no output link.
    pairs = near_pairs(
        [
            make_record(id="e1", input="Where is it?", output=""),
            make_record(id="e2", input="where is it", output=""),
        ]
    )
    assert [(p.a, p.b) for p in pairs] == [("e1", "e2")]


def test_optimal_bands_fit_the_permutations() -> None:
    for threshold in (0.5, 0.7, 0.9):
        bands, rows = optimal_bands(threshold, 128)
        assert bands * rows <= 128
        assert (
            1 - (1 - threshold**rows) ** bands > 0.5
        )  # at the threshold a pair is more likely found than not


# --- groups and keepers -------------------------------------------------------------------------


def _pair(a: str, b: str, tier: str, score: float) -> DuplicatePair:
    return DuplicatePair(a=a, b=b, tier=tier, score=score)


def test_groups_are_stars_around_the_keeper_and_their_tier_is_the_weakest_link() -> None:
    records = [make_record(id=x) for x in "abcdef"]
    pairs = [
        _pair("a", "b", "semantic", 0.93),
        _pair("a", "b", "exact", 1.0),
        _pair("a", "c", "near", 0.8),
        _pair("e", "f", "semantic", 0.95),
    ]
    groups = build_groups(pairs, records, [])
    assert [g.members for g in groups] == [["a", "b", "c"], ["e", "f"]]
    first = groups[0]
    assert first.keeper == "a" and first.tier == "near" and first.min_score == 0.8 and first.max_score == 1.0
    assert first.tier_of("c") == "near" and first.tier_of("b") == "exact" and first.score_of("c") == 0.8
    assert [(p.a, p.b, p.tier) for p in first.pairs] == [("a", "b", "exact"), ("a", "c", "near")]
    assert first.id == group_id(["c", "b", "a"]) and first.id.startswith("dup-")
    meta = group_metadata(groups)
    assert meta["a"][metadata_keys.DUP_GROUP] == first.id and meta["c"][metadata_keys.DUP_TIER] == "near"
    assert sum(1 for m in meta.values() if m[metadata_keys.DUP_KEEPER] == "yes") == 2


def test_a_chain_of_neighbours_is_split_not_merged() -> None:
    # r0 ~ r1 ~ r2 ~ ... ~ r9: each only like its neighbours. Connected components would make one
    # group of ten and keep one record; stars keep one record of every two or three, r9 alone.
    records = [make_record(id=f"r{i}") for i in range(10)]
    pairs = [_pair(f"r{i}", f"r{i + 1}", "semantic", 0.9) for i in range(9)]
    groups = build_groups(pairs, records, [])
    assert [g.members for g in groups] == [["r0", "r1", "r2"], ["r3", "r4"], ["r5", "r6"], ["r7", "r8"]]
    assert [g.keeper for g in groups] == ["r1", "r3", "r5", "r7"] and {g.tier for g in groups} == {"semantic"}
    for group in groups:  # every member is linked to the keeper itself
        assert all(group.keeper in (p.a, p.b) for p in group.pairs)
        assert len(group.pairs) == len(group.members) - 1
    # The most connected record is the keeper: r2 is a copy of both r0 and r1, which are unlike.
    hub = [_pair("r0", "r2", "semantic", 0.95), _pair("r1", "r2", "near", 0.75)]
    (group,) = build_groups(hub, records, [])
    assert group.keeper == "r2" and group.members == ["r0", "r1", "r2"] and group.tier == "semantic"


def test_exact_means_identical_to_the_keeper() -> None:
    records = [make_record(id=x) for x in "abc"]
    # The exact tier's star links b and c to a; a semantic link c-b is not needed for c to be exact.
    pairs = [_pair("a", "b", "exact", 1.0), _pair("a", "c", "exact", 1.0), _pair("b", "c", "semantic", 0.99)]
    (group,) = build_groups(pairs, records, [])
    assert group.tier == "exact" and group.score == 1.0 and {p.tier for p in group.pairs} == {"exact"}


def test_members_failing_the_keeper_check_leave_the_group() -> None:
    records = [make_record(id=x) for x in "abc"]
    pairs = [_pair("a", "b", "semantic", 0.9), _pair("a", "c", "semantic", 0.9)]

    def judge(tier: str, rows: np.ndarray, keepers: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        return rows != 2, np.full(len(rows), 0.91), None  # c (row 2) is not within reach of a

    (group,) = build_groups(pairs, records, [], judge=judge)
    assert group.members == ["a", "b"] and group.score == 0.91


def test_keeper_prefers_review_then_rating_then_completeness_then_order() -> None:
    out = '{"category": "refund_request"}'
    recs = {x: make_record(id=x, output=out) for x in ("bad", "none", "fix", "fixed", "good")}
    responses = [
        make_response("bad", values={"label": "bad"}),
        make_response("fix", values={"label": "needs_fix"}),
        make_response("fixed", values={"label": "needs_fix", "corrected_output": out}),
        make_response("good", values={"label": "good", "rating": 3}),
    ]
    pairs = [_pair(a, "none", "exact", 1.0) for a in ("bad", "fix", "fixed", "good")]
    records = list(recs.values())

    def keeper(rs: list) -> str:
        return build_groups(pairs, records, rs)[0].keeper

    assert keeper(responses) == "good"
    assert keeper(responses[:3]) == "fixed"
    assert keeper(responses[:2]) == "none"
    # Discarded only counts like bad; no review beats it.
    assert (
        keeper([make_response("bad", status=ResponseStatus.discarded, values={})]) == "none"
    )  # then import order
    # Same review: higher rating wins.
    two_good = [
        make_response("bad", values={"label": "good", "rating": 5}),
        make_response("good", values={"label": "good", "rating": 3}),
    ]
    assert keeper(two_good) == "bad"


def test_keeper_completeness_and_import_order() -> None:
    empty = make_record(id="e1", output="")
    truncated = make_record(id="t1", output='{"category": "refund_req')
    short = make_record(id="s1", output='{"category": "x"}')
    longer = make_record(id="l1", output='{"category": "refund_request"}')
    pairs = [_pair(a, "l1", "near", 0.9) for a in ("e1", "t1", "s1")]
    assert build_groups(pairs, [empty, truncated, short, longer], [])[0].keeper == "l1"
    same_a, same_b = make_record(id="zz", output="same"), make_record(id="aa", output="same")
    assert build_groups([_pair("aa", "zz", "exact", 1.0)], [same_a, same_b], [])[0].keeper == "zz"


def test_build_groups_without_pairs() -> None:
    assert build_groups([], [], []) == []
    assert build_groups([], [make_record()], []) == []


# --- conflicts ----------------------------------------------------------------------------------


def _triage(category: str, summary: str = "Customer wants to cancel the order.") -> str:
    return json.dumps({"category": category, "urgency": "normal", "summary": summary})


def test_conflict_same_input_different_json_label() -> None:
    records = [
        make_record(
            id="a",
            input="Please cancel order FW-17422 before it ships and refund my card.",
            output=_triage("refund_request"),
        ),
        make_record(
            id="b",
            input="please cancel order FW-17422 before it ships and refund my card",
            output=_triage("order_change"),
        ),
        make_record(
            id="c",
            input="Please cancel order FW-17422 bfeore it ships and refund my card.",
            output=_triage("order_change"),
        ),
        make_record(id="d", input="How do I repot a fern?", output=_triage("plant_care")),
    ]
    groups = find_conflicts(records)
    assert [g.members for g in groups] == [["a", "b", "c"]]
    assert {p.reason for p in groups[0].pairs} == {"json_values_differ"}
    assert groups[0].id.startswith("conflict-")


def test_no_conflict_when_only_free_text_differs_or_outputs_agree() -> None:
    records = [
        make_record(
            id="a",
            input="Cancel order FW-2",
            output=_triage("order_change", "The customer wants to cancel this order."),
        ),
        make_record(
            id="b",
            input="Cancel order FW-2",
            output=_triage("order_change", "Customer asks us to cancel the order."),
        ),
        make_record(id="c", input="Where is FW-3?", output="It is on its way and arrives Monday."),
        make_record(id="d", input="where is FW-3", output="It is on its way and arrives Monday!"),
    ]
    assert find_conflicts(records) == []
    assert find_conflicts([]) == [] and find_conflicts(records[:1]) == []


def test_prose_conflict_lexical_and_with_vectors() -> None:
    records = [
        make_record(
            id="a",
            input="Can I return a plant after 30 days?",
            output="Yes, returns are accepted for 60 days.",
        ),
        make_record(
            id="b", input="Can I return a plant after 30 days?", output="No. We cannot take plants back."
        ),
    ]
    assert [g.members for g in find_conflicts(records)] == [["a", "b"]]
    same_meaning = np.array([[1.0, 0.0], [0.95, np.sqrt(1 - 0.95**2)]], dtype=np.float32)
    assert find_conflicts(records, output_vectors=same_meaning) == []
    different = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    assert len(find_conflicts(records, output_vectors=different)) == 1
