"""Tasks and noise for bench_curation_value.py: clean public data, a leakage-safe test split, and a
training pool with realistic noise, every injected problem labelled so the benchmark can show
which kinds got through curation.

Two tasks:

- ``bitext-json``: a customer message → ``{"intent": ..., "category": ...}`` (27 intents, 11
  categories), from the Bitext customer-support data in ``../shared/data`` (CDLA-Sharing-1.0).
  Structured output with a JSON schema; primary metric: field accuracy (the share of the two
  fields the answer gets right; 0 when it is not JSON), with the exact match of both as secondary.
- ``e2e-text``: a restaurant meaning representation (``name[The Eagle], food[French], ...``) → one
  short description, from the cleaned E2E NLG data (public set ``e2e-cleaned``, CC-BY-SA-4.0).
  Free text; primary metric: chrF against every human reference of the MR.

The test and validation sets are cut first, by leakage group (the normalised input: case,
punctuation, numbers and ``{{placeholders}}`` ignored; for E2E the official devel/test files share
no MR), and never see noise. The noise only touches the training pool:

- ``duplicate`` / ``paraphrase``: copies of records of the most frequent topic, exact or with the
  input reworded (Bitext: greetings, typos, synonyms; E2E: attributes reordered, and another human
  reference as the output);
- ``wrong_output``: 15 % of the final pool get the output of another topic's record (Bitext: half
  from an intent of the same category, the confusion an annotator makes);
- ``conflict``: an existing input again with a wrong output;
- ``truncated``: the output cut off mid-way;
- ``off_format``: the right content in the wrong shape (Bitext: prose, a fenced block or YAML
  instead of JSON; E2E: a bullet list or a JSON object of the attributes instead of prose).
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
NOISE_KINDS = ("duplicate", "paraphrase", "wrong_output", "conflict", "truncated", "off_format")


def bitext_path() -> Path:
    """``$PAIRSMITH_BITEXT``, else ``shared/data/bitext_customer_support.csv`` beside the checkout
    or beside a folder above it (a git worktree lives one level deeper)."""
    if os.environ.get("PAIRSMITH_BITEXT"):
        return Path(os.environ["PAIRSMITH_BITEXT"])
    for folder in ROOT.parents:
        candidate = folder / "shared" / "data" / "bitext_customer_support.csv"
        if candidate.exists():
            return candidate
    raise FileNotFoundError("the Bitext data is not in ../shared/data; set PAIRSMITH_BITEXT to its CSV file")


@dataclass
class Example:
    """One input → output pair; ``noise`` says what was done to it ("clean" when nothing)."""

    id: str
    input: str
    output: str
    topic: str
    refs: list[str] = field(default_factory=list)
    """Every reference output (test examples; E2E has several per MR)."""
    noise: str = "clean"
    source_id: str = ""
    """The clean example a noisy one was made from."""


@dataclass
class Task:
    name: str
    kind: Literal["json", "text"]
    source: str
    licence: str
    system: str
    schema: dict[str, Any] | None
    pool: list[Example]
    validation: list[Example]
    test: list[Example]
    primary: str
    """The task metric: ``json_field_accuracy`` (Bitext) or ``chrf_multi`` (E2E)."""
    paraphrase: Callable[[Example, random.Random], Example] = field(repr=False, default=lambda e, r: e)
    off_format: Callable[[Example, random.Random], str] = field(repr=False, default=lambda e, r: e.output)


def leakage_key(text: str) -> str:
    """Input text with case, placeholders, numbers and punctuation ignored (one leakage group)."""
    text = re.sub(r"\{\{[^}]*\}\}", " ", text.casefold())
    text = re.sub(r"\d+", "0", text)
    return re.sub(r"[\W_]+", " ", text).strip()


def _grouped_split(
    examples: list[Example], rng: random.Random, n_test: int, n_val: int
) -> tuple[list[Example], list[Example], list[Example]]:
    """(pool, validation, test): whole leakage groups go to one side, test and validation first."""
    groups: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        groups[leakage_key(example.input)].append(example)
    keys = sorted(groups)
    rng.shuffle(keys)
    test: list[Example] = []
    val: list[Example] = []
    pool: list[Example] = []
    for key in keys:
        target = test if len(test) < n_test else val if len(val) < n_val else pool
        # Test and validation keep one example per group: a group is one question, asked once.
        target.extend(groups[key] if target is pool else groups[key][:1])
    return pool, val, test


# --- Bitext: message → {"intent", "category"} ------------------------------------------------------

BITEXT_SYSTEM = "Intent and category of the customer message, as JSON."
_GREETINGS = ("hi, ", "hello ", "hey ", "good morning, ", "")
_ENDINGS = (" please", " thanks", "?", " asap", "!!")
_SWAPS = (("I want to", "I'd like to"), ("can you", "could you"), ("order", "purchase"), ("help", "assist"))


def _bitext_output(intent: str, category: str) -> str:
    return json.dumps({"intent": intent, "category": category})


def _typo(text: str, rng: random.Random) -> str:
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    j = rng.randrange(len(words[i]) - 1)
    w = words[i]
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def _bitext_paraphrase(example: Example, rng: random.Random) -> Example:
    text = example.input
    for a, b in _SWAPS:
        if a in text and rng.random() < 0.5:
            text = text.replace(a, b, 1)
    text = rng.choice(_GREETINGS) + text.rstrip("?.! ") + rng.choice(_ENDINGS)
    if rng.random() < 0.5:
        text = _typo(text, rng)
    if rng.random() < 0.3:
        text = text.lower()
    return replace(example, input=text)


def _bitext_off_format(example: Example, rng: random.Random) -> str:
    value = json.loads(example.output)
    intent, category = value["intent"], value["category"]
    return rng.choice(
        [
            f"The intent is {intent} and the category is {category}.",
            f"```json\n{example.output}\n```",
            f"intent: {intent}\ncategory: {category}",
        ]
    )


def bitext_json_task(*, pool_size: int, n_test: int, n_val: int, seed: int) -> Task:
    with bitext_path().open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    intents = sorted({r["intent"] for r in rows})
    categories = sorted({r["category"] for r in rows})
    examples = [
        Example(
            id=f"bitext-{i}",
            input=r["instruction"],
            output=_bitext_output(r["intent"], r["category"]),
            topic=r["intent"],
        )
        for i, r in enumerate(rows)
    ]
    for example in examples:
        example.refs = [example.output]
    rng = random.Random(seed)
    pool, val, test = _grouped_split(examples, rng, n_test, n_val)
    pool = rng.sample(pool, min(pool_size, len(pool)))
    schema = {
        "type": "object",
        "properties": {"intent": {"enum": intents}, "category": {"enum": categories}},
        "required": ["intent", "category"],
        "additionalProperties": False,
    }
    return Task(
        name="bitext-json",
        kind="json",
        source="Bitext customer support (../shared/data/bitext_customer_support.csv; "
        "github.com/bitext/customer-support-llm-chatbot-training-dataset)",
        licence="CDLA-Sharing-1.0",
        system=BITEXT_SYSTEM,
        schema=schema,
        pool=pool,
        validation=val,
        test=test,
        primary="json_field_accuracy",
        paraphrase=_bitext_paraphrase,
        off_format=_bitext_off_format,
    )


# --- E2E: meaning representation → description ----------------------------------------------------

E2E_SYSTEM = "Describe the restaurant, stating every attribute."
_MR_PART = re.compile(r"(\w+)\[([^\]]*)\]")


def mr_attributes(mr: str) -> list[tuple[str, str]]:
    return _MR_PART.findall(mr)


def _e2e_paraphrase(example: Example, rng: random.Random) -> Example:
    parts = mr_attributes(example.input)
    head, rest = parts[:1], parts[1:]
    rng.shuffle(rest)
    mr = ", ".join(f"{k}[{v}]" for k, v in head + rest)
    others = [r for r in example.refs if r != example.output]
    return replace(example, input=mr, output=rng.choice(others) if others else example.output)


def _e2e_off_format(example: Example, rng: random.Random) -> str:
    parts = mr_attributes(example.input)
    if rng.random() < 0.5:
        return "\n".join(f"- {k}: {v}" for k, v in parts)
    return json.dumps(dict(parts))


def e2e_text_task(folder: Path, *, pool_size: int, n_test: int, n_val: int, seed: int) -> Task:
    refs: dict[tuple[str, str], list[str]] = defaultdict(list)
    with (folder / "cleaned-data" / "devel-fixed.no-ol.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            refs[("devel", row["mr"])].append(row["ref"])
    with (folder / "cleaned-data" / "test-fixed.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            refs[("test", row["mr"])].append(row["ref"])
    rng = random.Random(seed)

    def example(i: int, split: str, mr: str) -> Example:
        references = refs[(split, mr)]
        name = dict(mr_attributes(mr)).get("name", "?")
        return Example(
            id=f"e2e-{split}-{i}", input=mr, output=rng.choice(references), topic=name, refs=references
        )

    # The official files share no MR: devel is the training pool, test gives validation and test.
    pool = [example(i, "devel", mr) for i, (split, mr) in enumerate(sorted(refs)) if split == "devel"]
    held = [example(i, "test", mr) for i, (split, mr) in enumerate(sorted(refs)) if split == "test"]
    rng.shuffle(pool)
    rng.shuffle(held)
    return Task(
        name="e2e-text",
        kind="text",
        source="E2E NLG Challenge, cleaned (public set e2e-cleaned: github.com/tuetschek/e2e-cleaning)",
        licence="CC-BY-SA-4.0",
        system=E2E_SYSTEM,
        schema=None,
        pool=pool[:pool_size],
        validation=held[n_test : n_test + n_val],
        test=held[:n_test],
        primary="chrf_multi",
        paraphrase=_e2e_paraphrase,
        off_format=_e2e_off_format,
    )


# --- noise ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoiseRates:
    """Shares of the clean pool (wrong outputs: of the final, noisy pool)."""

    topic_copies: float = 0.25
    """Extra records of the most frequent topic, half exact duplicates, half paraphrases."""
    wrong_output: float = 0.15
    conflict: float = 0.05
    truncated: float = 0.05
    off_format: float = 0.05


def _truncate(example: Example, rng: random.Random, kind: str) -> str:
    text = example.output
    if kind == "json":
        return text[: int(len(text) * rng.uniform(0.4, 0.8))]
    words = text.split()
    cut = max(2, int(len(words) * rng.uniform(0.4, 0.75)))
    return " ".join(words[:cut]).rstrip(".,;!?")


def _wrong_output(example: Example, donors: list[Example], task: Task, rng: random.Random) -> str:
    """Another topic's output; for Bitext half the time an intent of the same category."""
    if task.kind == "json" and rng.random() < 0.5:
        category = json.loads(example.output)["category"]
        near = [
            d for d in donors if d.topic != example.topic and json.loads(d.output)["category"] == category
        ]
        if near:
            return rng.choice(near).output
    while True:
        donor = rng.choice(donors)
        if donor.topic != example.topic:
            return donor.output


def noisy_pool(task: Task, rates: NoiseRates, seed: int) -> list[Example]:
    """The clean pool with every kind of noise injected; each example says which (``noise``)."""
    rng = random.Random(seed)
    clean = [replace(e, source_id=e.id) for e in task.pool]
    n = len(clean)
    topic = Counter(e.topic for e in clean).most_common(1)[0][0]
    n_copies = round(rates.topic_copies * n)
    n_conflict = round(rates.conflict * n)
    final = n + n_copies + n_conflict
    order = list(range(n))
    rng.shuffle(order)
    cursor = 0

    def take(count: int) -> list[int]:
        nonlocal cursor
        chosen = order[cursor : cursor + count]
        cursor += count
        return chosen

    pool = list(clean)
    for i in take(round(rates.wrong_output * final)):
        pool[i] = replace(pool[i], output=_wrong_output(pool[i], clean, task, rng), noise="wrong_output")
    for i in take(round(rates.truncated * n)):
        pool[i] = replace(pool[i], output=_truncate(pool[i], rng, task.kind), noise="truncated")
    for i in take(round(rates.off_format * n)):
        pool[i] = replace(pool[i], output=task.off_format(pool[i], rng), noise="off_format")
    untouched = [clean[i] for i in order[cursor:]]
    popular = [e for e in untouched if e.topic == topic] or untouched
    extra: list[Example] = []
    for j in range(n_copies):
        original = rng.choice(popular)
        if j % 2 == 0:
            extra.append(replace(original, id=f"{original.id}-dup{j}", noise="duplicate"))
        else:
            reworded = task.paraphrase(original, rng)
            extra.append(replace(reworded, id=f"{original.id}-para{j}", noise="paraphrase"))
    for j, original in enumerate(rng.sample(untouched, min(n_conflict, len(untouched)))):
        wrong = _wrong_output(original, clean, task, rng)
        extra.append(replace(original, id=f"{original.id}-conflict{j}", output=wrong, noise="conflict"))
    pool += extra
    rng.shuffle(pool)
    return pool


def noise_counts(pool: list[Example]) -> dict[str, int]:
    counts = Counter(e.noise for e in pool)
    return {kind: counts.get(kind, 0) for kind in ("clean", *NOISE_KINDS)}
