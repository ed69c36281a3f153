"""Gold duplicate / paraphrase pairs for calibrating the dedup tiers (benchmarks/bench_dedup_gold.py).

Rows: ``{"a": str, "b": str, "label": 0 | 1}`` — two texts and whether people judged them the same
(a paraphrase, a duplicate question, the same sentence with its typos fixed).

| set | kind | pairs |
|---|---|---|
| ``mrpc`` | sentences (news), paraphrase or not | 5,801 (train + test) |
| ``mqp`` | questions (medical), same intent or not; negatives share keywords on purpose | 3,048 |
| ``pan-paraphrase`` | sentences (books), plagiarised rewrite or not | 13,000 |
| ``jfleg-typos`` | near-verbatim: a learner's sentence and the same sentence after spelling correction (positives), plus each sentence against its most alike other sentence (negatives) | 1,013 + negatives |
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from benchmarks.public_sets import PublicSet, Row, register

_MRPC = "dataset/msr-paraphrase-corpus"
_PAN = "dataset/mt-metrics-paraphrase-corpus"


def _mrpc(folder: Path) -> Iterator[Row]:
    for split in ("train", "test"):
        text = (folder / _MRPC / f"msr_paraphrase_{split}.txt").read_text(encoding="utf-8-sig")
        # The file holds stray double quotes inside sentences: split on tabs, never on quotes.
        for line in text.splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) == 5:
                yield {"a": parts[3], "b": parts[4], "label": int(parts[0])}


def _mqp(folder: Path) -> Iterator[Row]:
    for row in csv.reader(io.StringIO((folder / "mqp.csv").read_text(encoding="utf-8"))):
        if len(row) == 4:
            yield {"a": row[1], "b": row[2], "label": int(row[3])}


def _pan(folder: Path) -> Iterator[Row]:
    for split in ("train", "test"):
        first = (folder / _PAN / f"pan-{split}_s1.txt").read_text(encoding="utf-8").splitlines()
        second = (folder / _PAN / f"pan-{split}_s2.txt").read_text(encoding="utf-8").splitlines()
        labels = (folder / _PAN / f"pan-{split}.labels").read_text(encoding="utf-8").split()
        for a, b, label in zip(first, second, labels, strict=True):
            yield {"a": a, "b": b, "label": int(label)}


def _jfleg_typos(folder: Path) -> Iterator[Row]:
    """Positives: each learner sentence that a spell checker changed, against its corrected form.
    Negatives: each of those sentences against its most alike *other* source sentence (character
    4-gram Jaccard), the hardest distinct pair the set holds."""
    sources: list[str] = []
    fixed: list[str] = []
    for split in ("dev", "test"):
        src = (folder / split / f"{split}.src").read_text(encoding="utf-8").splitlines()
        spell = (folder / split / f"{split}.spellchecked.src").read_text(encoding="utf-8").splitlines()
        for a, b in zip(src, spell, strict=True):
            sources.append(a.strip())
            fixed.append(b.strip())
    changed = [i for i, (a, b) in enumerate(zip(sources, fixed, strict=True)) if a != b]
    for i in changed:
        yield {"a": sources[i], "b": fixed[i], "label": 1}
    grams = [_grams(s) for s in sources]
    for i in changed:
        best, best_j = -1.0, -1
        for j, other in enumerate(grams):
            if j == i or sources[j] == sources[i]:
                continue
            union = len(grams[i] | other)
            score = len(grams[i] & other) / union if union else 0.0
            if score > best:
                best, best_j = score, j
        yield {"a": sources[i], "b": sources[best_j], "label": 0}


def _grams(text: str, n: int = 4) -> set[str]:
    t = " ".join(text.lower().split())
    return {t[k : k + n] for k in range(max(1, len(t) - n + 1))}


register(
    PublicSet(
        name="mrpc",
        repo="wasiahmad/paraphrase_identification",
        files=(
            f"{_MRPC}/msr_paraphrase_train.txt",
            f"{_MRPC}/msr_paraphrase_test.txt",
            f"{_MRPC}/Microsoft Shared Source License.htm",
        ),
        licence="Microsoft Shared Source licence (MSR Paraphrase Corpus, as shipped in the repository)",
        description="Microsoft Research Paraphrase Corpus (Dolan & Brockett, 2005): 5,801 news sentence pairs, "
        "67 % paraphrases; train file as distributed (BOM, stray quotes)",
        load=_mrpc,
        shape="paraphrase pairs",
    )
)
register(
    PublicSet(
        name="mqp",
        repo="curai/medical-question-pair-dataset",
        files=("mqp.csv", "README.md"),
        licence="none stated (public research release; used here, never redistributed)",
        description="Medical Question Pairs (McCreery et al., 2020): 3,048 patient-question pairs labelled by doctors, "
        "half same intent, half related but different",
        load=_mqp,
        shape="question pairs",
    )
)
register(
    PublicSet(
        name="pan-paraphrase",
        repo="wasiahmad/paraphrase_identification",
        files=tuple(
            f"{_PAN}/{name}"
            for name in (
                "README",
                "pan-train_s1.txt",
                "pan-train_s2.txt",
                "pan-train.labels",
                "pan-test_s1.txt",
                "pan-test_s2.txt",
                "pan-test.labels",
            )
        ),
        licence="MIT (repository); sentences from the PAN plagiarism corpus (Madnani et al., 2012)",
        description="PAN paraphrase pairs: 13,000 sentence pairs from plagiarised passages, half paraphrases",
        load=_pan,
        shape="paraphrase pairs",
    )
)
register(
    PublicSet(
        name="jfleg-typos",
        repo="keisks/jfleg",
        files=(
            "README.md",
            "dev/dev.src",
            "dev/dev.spellchecked.src",
            "test/test.src",
            "test/test.spellchecked.src",
        ),
        licence="CC-BY-NC-SA-4.0",
        description="JFLEG (Napoles et al., 2017) learner sentences vs. their spell-checked form: 1,013 near-verbatim "
        "pairs with real typos, and as many hardest distinct pairs",
        load=_jfleg_typos,
        shape="near-verbatim pairs",
    )
)
