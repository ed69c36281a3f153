"""Clusters (k, names, map) and diversity figures, on hashed embeddings of planted topics."""

from __future__ import annotations

import numpy as np
import pytest

from curation.analysis.clusters import (
    ClusterSettings,
    TermCounts,
    cluster_records,
    group_into_topics,
    k_candidates,
)
from curation.analysis.diversity import (
    balance,
    diversity_figures,
    k_center_greedy,
    output_value_coverage,
    vendi_score,
)
from curation.analysis.embeddings.models import get_embedder, normalise

TOPICS = {
    "refund": "I want a refund for my broken blender, please refund the money",
    "password": "I forgot my password and cannot log into my account password reset",
    "shipping": "Where is my parcel? The shipping tracking number shows no delivery",
    "invoice": "Please send a copy of the invoice with VAT for my company invoice",
}


def _topic_texts(sizes: dict[str, int]) -> tuple[list[str], list[str], list[str]]:
    ids, texts, truth = [], [], []
    for topic, size in sizes.items():
        for i in range(size):
            ids.append(f"{topic}-{i:03d}")
            texts.append(f"{TOPICS[topic]} {i} variant {i % 7}")
            truth.append(topic)
    return ids, texts, truth


def test_clusters_recover_planted_topics_and_name_them() -> None:
    ids, texts, truth = _topic_texts({"refund": 60, "password": 25, "shipping": 25, "invoice": 6})
    vectors = get_embedder("hashing").embed(texts)
    result = cluster_records(ids, vectors, texts, settings=ClusterSettings(k=4))
    assert [c.size for c in result.clusters] == [60, 25, 25, 6]  # numbered largest first
    for cluster in result.clusters:
        members = {truth[i] for i in np.flatnonzero(result.labels == cluster.id)}
        assert len(members) == 1
        topic_words = set(TOPICS[members.pop()].lower().split())
        assert set(cluster.terms[0].split()) <= topic_words
        assert set(cluster.examples) <= set(ids) and len(cluster.examples) == 5
    assert result.coords.shape == (len(ids), 2) and np.abs(result.coords).max() <= 1.0


def test_k_is_chosen_automatically_and_mixes_are_counted() -> None:
    ids, texts, _ = _topic_texts({"refund": 30, "password": 30, "shipping": 30, "invoice": 30})
    vectors = get_embedder("hashing").embed(texts)
    labels = {ids[0]: "good", ids[1]: "bad"}
    flags = {ids[0]: ["pii"]}
    result = cluster_records(ids, vectors, texts, labels_by_id=labels, flags_by_id=flags)
    assert result.k_chosen_by == "silhouette" and len(result.clusters) == 4
    first = next(
        c for c in result.clusters if ids[0] in [ids[i] for i in np.flatnonzero(result.labels == c.id)]
    )
    assert first.label_mix == {"good": 1, "bad": 1}
    assert first.quality_mix == {"clean": 29, "pii": 1}


@pytest.mark.parametrize("n", [0, 1, 3])
def test_tiny_sets_get_one_cluster_or_none(n: int) -> None:
    ids, texts, _ = _topic_texts({"refund": n})
    vectors = get_embedder("hashing").embed(texts)
    result = cluster_records(ids, vectors, texts)
    assert len(result.labels) == n and result.coords.shape == (n, 2)
    assert len(result.clusters) == (1 if n else 0)


def test_all_identical_records_form_one_cluster() -> None:
    texts = ["same question about refunds"] * 40
    ids = [f"r{i}" for i in range(40)]
    result = cluster_records(ids, get_embedder("hashing").embed(texts), texts)
    assert len(result.clusters) == 1 and result.clusters[0].size == 40
    assert np.isfinite(result.coords).all()


def test_non_english_text_is_named_with_its_own_words() -> None:
    texts = [f"Ich möchte eine Rückerstattung für die Bestellung {i}" for i in range(20)]
    texts += [f"Mot de passe oublié pour le compte numéro {i}" for i in range(20)]
    ids = [f"r{i}" for i in range(40)]
    result = cluster_records(ids, get_embedder("hashing").embed(texts), texts, settings=ClusterSettings(k=2))
    german = set(["ich", "möchte", "eine", "rückerstattung", "für", "die", "bestellung"])
    french = set(["mot", "de", "passe", "oublié", "pour", "le", "compte", "numéro"])
    vocabularies = sorted(
        "de" if {w for t in c.terms for w in t.split()} <= german else "fr"
        for c in result.clusters
        if {w for t in c.terms for w in t.split()} <= german | french
    )
    assert vocabularies == ["de", "fr"]


def test_term_counts_merge_like_one_pass() -> None:
    whole, left, right = TermCounts(), TermCounts(), TermCounts()
    labels, texts = [0, 0, 1, 1], ["refund money", "refund card", "password reset", "password lost"]
    whole.add(labels, texts)
    left.add(labels[:2], texts[:2])
    right.add(labels[2:], texts[2:])
    assert left.merge(right).top_terms(2) == whole.top_terms(2)
    assert whole.top_terms(1) == {0: ["refund"], 1: ["password"]}


def test_k_candidates_stay_in_range() -> None:
    assert k_candidates(1000, ClusterSettings(k_max=40))[0] == 2
    assert max(k_candidates(1000, ClusterSettings(k_max=40))) == 40
    assert max(k_candidates(30, ClusterSettings())) == 6


def test_diversity_flags_over_represented_thin_and_missing_clusters() -> None:
    ids = [f"r{i}" for i in range(100)]
    cluster_of = {rid: (0 if i < 70 else 1 if i < 98 else 2) for i, rid in enumerate(ids)}
    names = {0: "refund status", 1: "password", 2: "invoice", 3: "newsletter"}
    vectors = normalise(np.random.default_rng(0).normal(size=(100, 16)))
    figures = diversity_figures(ids, vectors, cluster_of, names)
    assert figures["clusters_total"] == 4 and figures["clusters_covered"] == 3
    assert figures["largest_cluster"] == {"id": 0, "name": "refund status", "share": 0.7}
    assert [c["name"] for c in figures["over_represented"]] == ["refund status"]
    assert {c["name"] for c in figures["thin"]} == {"invoice", "newsletter"}
    assert "cluster 'refund status' holds 70% of records" in figures["hints"][0]
    assert any("'newsletter' has no records" in h for h in figures["hints"])
    assert 0 < figures["balance"] < 1 and figures["mean_nn_distance"] > 0


def test_a_theme_split_into_sub_clusters_is_over_represented_as_one_topic() -> None:
    # 10 clusters of 10 % each would look even; clusters 0-3 are one theme (40 %), and 9 is a lone
    # 2 % topic. Clusters 7 and 8 are phrasings of one topic: 7 is small alone, the topic is fine.
    sizes = [10, 10, 10, 10, 12, 12, 13, 2, 19, 2]
    ids, cluster_of = [], {}
    for cluster, size in enumerate(sizes):
        for j in range(size):
            ids.append(f"c{cluster}-{j}")
            cluster_of[ids[-1]] = cluster
    names = {c: f"topic {c}" for c in range(len(sizes))}
    topic_of = {0: 0, 1: 0, 2: 0, 3: 0, 4: 1, 5: 2, 6: 3, 7: 4, 8: 4, 9: 5}
    vectors = normalise(np.random.default_rng(0).normal(size=(len(ids), 16)))

    plain = diversity_figures(ids, vectors, cluster_of, names)
    assert plain["over_represented"] == [] and {c["id"] for c in plain["thin"]} == {7, 9}

    figures = diversity_figures(ids, vectors, cluster_of, names, topic_of=topic_of)
    assert [c["id"] for c in figures["over_represented"]] == [0, 1, 2, 3]
    assert figures["over_represented"][0]["topic"] == {"clusters": [0, 1, 2, 3], "size": 40, "share": 0.4}
    assert [c["id"] for c in figures["thin"]] == [9]
    assert sum("are one topic holding 40% of records" in h for h in figures["hints"]) == 1


def test_close_centroids_form_one_topic_and_far_ones_stay_apart() -> None:
    rng = np.random.default_rng(1)
    theme, other = normalise(rng.normal(size=(2, 32)))
    centroids = normalise(np.stack([theme + 0.05 * rng.normal(size=32) for _ in range(3)] + [other]))
    assert group_into_topics(centroids, 0.25) == [0, 0, 0, 1]
    assert group_into_topics(centroids, 0.0) == [0, 1, 2, 3]
    assert group_into_topics(centroids[:1], 0.25) == [0]


def test_output_enum_values_are_counted_against_an_even_share() -> None:
    schema = {
        "type": "object",
        "properties": {
            "category": {"enum": ["refund", "shipping", "account", "gift_card"]},
            "priority": {"enum": [1, 2]},
            "summary": {"type": "string"},
        },
    }
    outputs = (
        ['{"category": "shipping", "priority": 1}'] * 14
        + ['{"category": "refund", "priority": 2}'] * 5
        + ['{"category": "account", "priority": 2}']
        + ["not json", '["a list"]', '{"category": "unknown"}']
    )
    coverage = output_value_coverage(outputs, schema)
    assert set(coverage) == {"category", "priority"}  # only enum fields
    category = coverage["category"]
    assert category["parsed"] == 21  # the list and the plain text count for nothing
    assert category["counts"] == {"shipping": 14, "refund": 5, "account": 1, "gift_card": 0}
    assert category["over_represented"] == ["shipping"]
    assert category["thin"] == ["gift_card", "account"]
    assert "'gift_card' has no records" in category["hints"][-2]
    assert coverage["priority"]["counts"] == {"2": 6, "1": 14} or coverage["priority"]["counts"] == {
        "1": 14,
        "2": 6,
    }
    assert output_value_coverage(outputs, None) == {}
    assert output_value_coverage(outputs, {"properties": {"summary": {"type": "string"}}}) == {}


def test_diversity_of_empty_and_single_sets() -> None:
    empty = diversity_figures([], np.zeros((0, 4), np.float32), {}, {0: "a"})
    assert empty["records"] == 0 and empty["balance"] is None and empty["vendi_score"] is None
    one = diversity_figures(["x"], normalise(np.ones((1, 4))), {"x": 0}, {0: "a"})
    assert one["balance"] == 1.0 and one["mean_nn_distance"] is None and one["vendi_score"] == 1.0


def test_vendi_score_counts_effective_distinct_items() -> None:
    assert vendi_score(normalise(np.ones((10, 4)))) == pytest.approx(1.0)
    assert vendi_score(np.eye(5, dtype=np.float32)) == pytest.approx(5.0)
    assert balance([10, 10, 10], 3) == pytest.approx(1.0)
    assert balance([30, 0, 0], 3) == pytest.approx(0.0)


def test_balance_matches_scipy_and_a_single_cluster_is_plain_zero() -> None:
    import json
    import math

    from scipy.stats import entropy

    for counts, total in (([5, 3, 2], 3), ([40, 1], 6), ([7, 7, 7, 1], 4)):
        assert balance(counts, total) == pytest.approx(entropy(counts) / math.log(total))
    alone = balance([12], 5)
    assert alone == 0.0 and math.copysign(1.0, alone) == 1.0  # not -0.0
    figures = diversity_figures(["a", "b"], normalise(np.eye(2, 4)), {"a": 1, "b": 1}, {0: "x", 1: "y"})
    assert json.dumps(figures["balance"]) == "0.0" and f"{figures['balance']:.2f}" == "0.00"


def test_k_center_greedy_covers_every_topic_first() -> None:
    rng = np.random.default_rng(1)
    centres = normalise(rng.normal(size=(4, 32)))
    sizes = [200, 20, 20, 5]
    points = normalise(
        np.vstack([c + rng.normal(scale=0.05, size=(s, 32)) for c, s in zip(centres, sizes, strict=True)])
    )
    topic = np.repeat(np.arange(4), sizes)
    picks = k_center_greedy(points, np.zeros((0, 32), np.float32), 4)
    assert sorted(topic[picks].tolist()) == [0, 1, 2, 3]
    # With topic 0 already reviewed, the next pick goes elsewhere.
    assert topic[k_center_greedy(points, centres[:1], 1)[0]] != 0
    assert len(k_center_greedy(points, centres, 1000)) == len(points)


# --- names a person can read; hints only where there is enough data (issue 15) ----------------------


def test_cluster_names_use_whole_words_not_contraction_leftovers_or_ids() -> None:
    texts = [
        "My account doesn't exist and the app hasn't loaded",
        "The account doesn't exist, I can't sign in",
        "Account doesn't exist after the update FW-1234",
        "I ordered a plant, order FW-1001 is late",
        "Where is order FW-1002? I ordered it last week",
        "My orders FW-1003 and FW-1004 are late",
    ]
    counts = TermCounts()
    counts.add([0, 0, 0, 1, 1, 1], texts)
    terms = counts.top_terms(3)
    words = {w for names in terms.values() for term in names for w in term.split()}
    assert not words & {"doesn", "hasn", "can", "fw", "t"}
    assert "account" in terms[0] and "exist" in " ".join(terms[0])
    assert sum(t in ("order", "orders", "ordered") for t in terms[1]) == 1  # one form of a word per name


def test_coverage_hints_wait_for_enough_records() -> None:
    names = {c: f"topic {c}" for c in range(10)}
    vectors = normalise(np.random.default_rng(0).normal(size=(2, 16)))
    few = diversity_figures(["a", "b"], vectors, {"a": 0, "b": 0}, names)
    assert few["hints"] == [] and few["thin"] == [] and few["over_represented"] == []
    assert few["hints_withheld"] == (
        "Coverage hints need at least 30 records here (3 per cluster on average); this set has 2."
    )
    ids = [f"r{i}" for i in range(40)]
    enough = diversity_figures(
        ids, normalise(np.random.default_rng(1).normal(size=(40, 16))), {i: 0 for i in ids}, names
    )
    assert enough["hints_withheld"] is None and enough["hints"]


def test_topic_hints_say_what_a_topic_is() -> None:
    sizes = [10, 10, 10, 10, 12, 12, 13, 2, 19, 2]
    ids, cluster_of = [], {}
    for cluster, size in enumerate(sizes):
        for j in range(size):
            ids.append(f"c{cluster}-{j}")
            cluster_of[ids[-1]] = cluster
    topic_of = {0: 0, 1: 0, 2: 0, 3: 0, 4: 1, 5: 2, 6: 3, 7: 4, 8: 4, 9: 5}
    vectors = normalise(np.random.default_rng(0).normal(size=(len(ids), 16)))
    figures = diversity_figures(ids, vectors, cluster_of, {c: f"t{c}" for c in range(10)}, topic_of=topic_of)
    assert figures["topics_total"] == 6 and figures["clusters_total"] == 10
    topic_hints = [h for h in figures["hints"] if "topics" in h]
    assert topic_hints and all("topics, groups of similar clusters," in h for h in topic_hints)


def test_map_labels_sit_on_a_point_of_their_cluster() -> None:
    from curation.analysis.results import map_label_positions

    rows = [{"cluster": "a", "x": x, "y": 0.0} for x in (-1.0, -0.9, 0.9, 1.0, 1.1)]
    rows += [{"cluster": "b", "x": 5.0, "y": 5.0}]
    spots = map_label_positions(rows)
    assert [s["name"] for s in spots] == ["a", "b"] and spots[0]["size"] == 5
    assert (spots[0]["x"], spots[0]["y"]) in {(r["x"], r["y"]) for r in rows if r["cluster"] == "a"}
