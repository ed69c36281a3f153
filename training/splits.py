"""Train / validation / test splits without leakage, and the contamination report.

Records that could leak into each other (same duplicate group, same conflict group, same
normalised input) form one *leakage group*, and a whole group goes to one split. Groups are
stratified by cluster (metadata ``cluster``; records without one form their own stratum) and
shuffled with a fixed seed, so the same clean set and seed always give the same splits. Groups
holding a golden record can be pinned to test.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from curation import metadata_keys as F
from curation.store.base import RecordStore
from training.clean_set import CleanItem, fold_case_and_accents, normalise_input
from training.export_config import ExportConfig

SPLITS = ("train", "validation", "test")
NO_CLUSTER = -1


def cluster_of(item: CleanItem) -> int:
    """The record's cluster id, or -1 (its own stratum) when it has none."""
    value = item.record.metadata.get(F.CLUSTER)
    try:
        return int(value) if value is not None and value != "" else NO_CLUSTER
    except (TypeError, ValueError):
        return NO_CLUSTER


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def leakage_groups(items: Sequence[CleanItem], *, group_same_input: bool = True) -> list[list[int]]:
    """Indices of ``items`` grouped so that no group may be split: same dup group, conflict group or input."""
    uf = _UnionFind(len(items))
    first_seen: dict[tuple[str, str], int] = {}
    for i, item in enumerate(items):
        keys: list[tuple[str, str]] = []
        for key in (F.DUP_GROUP, F.CONFLICT_GROUP):
            value = item.record.metadata.get(key)
            if value not in (None, ""):
                keys.append((key, str(value)))
        if group_same_input:
            keys.append(("input", normalise_input(item.record.input_text)))
        for seen in keys:
            if seen in first_seen:
                uf.union(first_seen[seen], i)
            else:
                first_seen[seen] = i
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        groups[uf.find(i)].append(i)
    return list(groups.values())


@dataclass
class Splits:
    """The clean set's items per split, and the leakage group of every record id."""

    train: list[CleanItem]
    validation: list[CleanItem]
    test: list[CleanItem]
    group_of: dict[str, int]

    def items(self, split: str) -> list[CleanItem]:
        return {"train": self.train, "validation": self.validation, "test": self.test}[split]

    def counts(self) -> dict[str, int]:
        return {s: len(self.items(s)) for s in SPLITS}

    def straddling_groups(self) -> list[int]:
        """Leakage groups found in more than one split (always empty for splits made here)."""
        seen: dict[int, set[str]] = defaultdict(set)
        for split in SPLITS:
            for item in self.items(split):
                seen[self.group_of[item.record.id]].add(split)
        return sorted(g for g, splits in seen.items() if len(splits) > 1)


def assign_splits(items: Sequence[CleanItem], config: ExportConfig | None = None) -> Splits:
    """Split the clean set into train / validation / test by leakage group, stratified by cluster.

    Groups are laid out stratum by stratum (each stratum's groups shuffled with the seed) and each
    group goes to the split furthest below its target share so far. That keeps every stratum's
    share close to the fractions and the totals within one group of them.
    """
    config = config or ExportConfig()
    fractions = config.fractions.as_dict()
    groups = leakage_groups(items, group_same_input=config.group_same_input)
    group_of = {items[i].record.id: g for g, members in enumerate(groups) for i in members}
    rng = random.Random(config.seed)

    assigned: dict[str, list[int]] = {s: [] for s in SPLITS}
    strata: dict[int, list[list[int]]] = defaultdict(list)
    for members in groups:
        if config.pin_golden_to_test and any(items[i].record.golden for i in members):
            assigned["test"].extend(members)
            continue
        clusters = Counter(cluster_of(items[i]) for i in members)
        stratum = min(clusters, key=lambda c: (-clusters[c], c))
        strata[stratum].append(members)

    order: list[list[int]] = []
    keys = sorted(strata)
    rng.shuffle(keys)
    for key in keys:
        # Sort by record id first so the shuffle depends on the seed, not on the store's order.
        stratum_groups = sorted(strata[key], key=lambda m: min(items[i].record.id for i in m))
        rng.shuffle(stratum_groups)
        order.extend(stratum_groups)

    total = len(assigned["test"])
    open_splits = [s for s in SPLITS if fractions[s] > 0]
    for members in order:
        total += len(members)
        split = max(open_splits, key=lambda s: fractions[s] * total - len(assigned[s]))
        assigned[split].extend(members)

    def pick(split: str) -> list[CleanItem]:
        return [items[i] for i in sorted(assigned[split])]

    return Splits(train=pick("train"), validation=pick("validation"), test=pick("test"), group_of=group_of)


def _pair_text(item: CleanItem) -> str:
    return f"{item.record.input_text}\n{item.output}"


def _vectors(store: RecordStore | None, ids: list[str]) -> np.ndarray | None:
    """The stored pair vectors for ``ids`` in that order, or None unless every id has one."""
    if store is None or not ids or F.VECTOR_PAIR not in store.vector_names():
        return None
    got_ids, matrix = store.get_vectors(F.VECTOR_PAIR, ids)
    if len(got_ids) != len(set(ids)):
        return None
    row = {rid: i for i, rid in enumerate(got_ids)}
    ordered = np.asarray(matrix, dtype=np.float32)[[row[i] for i in ids]]
    norms = np.linalg.norm(ordered, axis=1, keepdims=True)
    return ordered / np.where(norms == 0, 1.0, norms)


def _nearest(test: Any, train: Any, dense: bool) -> tuple[np.ndarray, np.ndarray]:
    """Index and cosine of each test row's nearest train row, in chunks to bound memory."""
    n_train = train.shape[0]
    chunk = max(1, 20_000_000 // max(n_train, 1))
    best_idx, best_sim = [], []
    for start in range(0, test.shape[0], chunk):
        sims = test[start : start + chunk] @ train.T
        sims = np.asarray(sims if dense else sims.toarray())
        best_idx.append(sims.argmax(axis=1))
        best_sim.append(sims.max(axis=1))
    return np.concatenate(best_idx), np.concatenate(best_sim)


def contamination_report(
    splits: Splits, store: RecordStore | None = None, *, threshold: float = 0.9
) -> dict[str, Any]:
    """Each test record's nearest train record and their cosine similarity, with a summary.

    Uses the stored ``pair`` vectors when every record has one; otherwise a character n-gram
    TF-IDF over input + final output. The dict is the documented shape of ``contamination.json``.
    """
    train, test = splits.train, splits.test
    method = "none"
    rows: list[dict[str, Any]] = []
    if train and test:
        vectors = _vectors(store, [i.record.id for i in train + test])
        if vectors is not None:
            method = f"vectors:{F.VECTOR_PAIR}"
            idx, sim = _nearest(vectors[len(train) :], vectors[: len(train)], dense=True)
        else:
            from sklearn.feature_extraction.text import TfidfVectorizer

            method = "tfidf:char_wb(3,5)"
            # Accents folded as for the leakage groups: "Grüße" and "Grusse" are the same text here.
            vectorizer = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(3, 5),
                sublinear_tf=True,
                min_df=1,
                preprocessor=fold_case_and_accents,
            )
            matrix = vectorizer.fit_transform([_pair_text(i) for i in train + test])
            idx, sim = _nearest(matrix[len(train) :], matrix[: len(train)], dense=False)
        rows = [
            {
                "test_id": item.record.id,
                "nearest_train_id": train[int(j)].record.id,
                "similarity": round(float(min(max(s, -1.0), 1.0)), 6),
            }
            for item, j, s in zip(test, idx, sim, strict=True)
        ]
        rows.sort(key=lambda r: (-r["similarity"], r["test_id"]))
    sims = [r["similarity"] for r in rows]
    return {
        "method": method,
        "threshold": threshold,
        "summary": {
            "test_records": len(test),
            "train_records": len(train),
            "max": max(sims) if sims else 0.0,
            "mean": round(float(np.mean(sims)), 6) if sims else 0.0,
            "above_threshold": sum(s > threshold for s in sims),
        },
        "records": rows,
    }
