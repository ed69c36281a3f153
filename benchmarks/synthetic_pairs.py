"""Synthetic input → output pairs at any size, with planted duplicates of known kind (for scale benchmarks).

Each base record is a customer-support style question built from one of ~60 intents, a product, a
place, a person and a 6-digit order number (so two bases never share their specifics), with an
answer written for it. A share of the records are planted copies of an earlier base:

- ``exact``: the same pair with case and spacing changed (identical after normalisation);
- ``near``: a few characters edited in both sides (typos, a dropped word);
- ``paraphrase``: the question reworded (synonyms, a different opener) and the answer lightly
  edited, the same order number kept.

``planted[i]`` names the base record i copies (``-1`` for bases), ``kinds[i]`` the kind of copy.
Generation is deterministic for a seed and costs a few seconds per million records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

INTENTS = [
    (
        "where is my order {o} for the {p}",
        "Your order {o} with the {p} left our warehouse in {c} and arrives in {d} days.",
    ),
    (
        "I want to cancel order {o}, the {p} is no longer needed",
        "Order {o} for the {p} is cancelled; the refund reaches you in {d} days.",
    ),
    (
        "how do I return the {p} from order {o}",
        "To return the {p} from order {o}, print the label we emailed and drop it off in {c}.",
    ),
    (
        "the {p} in order {o} arrived broken",
        "Sorry about the {p} in order {o}. A replacement ships from {c} within {d} days.",
    ),
    (
        "can I change the delivery address of order {o} to {c}",
        "Yes: order {o} now goes to {c}; the {p} keeps its delivery date.",
    ),
    (
        "I was charged twice for order {o}",
        "We found the double charge on order {o} and refunded it; expect it in {d} days.",
    ),
    ("is the {p} available in {c}", "The {p} is in stock in {c}; order {o} can be picked up there."),
    (
        "my invoice for order {o} is missing",
        "The invoice for order {o} ({p}) is now in your account and was emailed to {n}.",
    ),
    (
        "how long does shipping of the {p} to {c} take",
        "Shipping the {p} to {c} takes {d} days; order {o} is tracked.",
    ),
    (
        "I need to speak to an agent about order {o}",
        "An agent will call {n} about order {o} within {d} hours.",
    ),
    ("what is the warranty on the {p}", "The {p} has a {d}-year warranty; keep the receipt of order {o}."),
    (
        "please reset the password for the account of {n}",
        "We sent {n} a reset link; it expires in {d} hours (ticket {o}).",
    ),
    (
        "the discount code did not apply to order {o}",
        "We applied the discount to order {o} and refunded the difference for the {p}.",
    ),
    (
        "can I pay order {o} in instalments",
        "Order {o} for the {p} can be split into {d} instalments at checkout.",
    ),
    (
        "I received the wrong {p} in order {o}",
        "We will send the right {p} for order {o} from {c}; keep the wrong one.",
    ),
    ("does the {p} work with a {q}", "Yes, the {p} works with a {q}; see the guide sent with order {o}."),
    (
        "I want to subscribe {n} to the newsletter",
        "{n} is subscribed; the first letter comes in {d} days (ticket {o}).",
    ),
    (
        "my {p} stopped charging after {d} days",
        "Hold the power button of the {p} for {d} seconds; if it still fails, we replace it (ticket {o}).",
    ),
    ("how do I track order {o}", "Track order {o} with the link in your email; the {p} is now in {c}."),
    (
        "the courier left order {o} at the wrong house in {c}",
        "We asked the courier in {c} to collect order {o} and redeliver the {p}.",
    ),
]
OPENERS = ["", "hello, ", "hi there, ", "good morning, ", "excuse me, ", "quick question: "]
CLOSERS = ["", " thanks", " please help", " thank you!", " asap", "?"]
PARAPHRASE = {
    "where is": "where can I find",
    "I want to": "I would like to",
    "how do I": "what is the way to",
    "arrived broken": "came damaged",
    "can I": "is it possible to",
    "I was charged": "you billed me",
    "is missing": "never arrived",
    "how long does": "how many days does",
    "I need to": "I must",
    "what is": "tell me",
    "please": "kindly",
    "did not apply": "was not accepted",
    "I received": "you sent me",
    "does the": "will the",
    "stopped charging": "no longer charges",
    "left order": "dropped order",
}
PRODUCTS = [
    "kettle",
    "laptop stand",
    "blender",
    "desk lamp",
    "phone case",
    "router",
    "headset",
    "coffee grinder",
    "air fryer",
    "keyboard",
    "monitor",
    "vacuum",
    "toaster",
    "backpack",
    "water bottle",
    "smart watch",
    "camera",
    "drone",
    "speaker",
    "printer",
    "tablet",
    "charger",
    "mouse",
    "sofa",
    "mattress",
]
CITIES = [
    "Lyon",
    "Leeds",
    "Porto",
    "Gdansk",
    "Ghent",
    "Turin",
    "Malmo",
    "Brno",
    "Cork",
    "Graz",
    "Bilbao",
    "Utrecht",
    "Aarhus",
    "Tartu",
    "Split",
    "Basel",
    "Lille",
    "Nantes",
    "Dresden",
    "Bergen",
]
NAMES = ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Mo", "Nia"]
ACCESSORIES = ["wall mount", "USB hub", "car adapter", "travel case", "stand", "remote"]
KINDS = ("exact", "near", "paraphrase")


@dataclass
class SyntheticPairs:
    inputs: list[str]
    outputs: list[str]
    planted: np.ndarray
    """Per record: the index of the base record it copies, -1 for a base."""
    kinds: list[str]
    """Per record: "" for a base, else the kind of copy (exact, near, paraphrase)."""
    intents: np.ndarray
    """Per record: its intent (a gold topic label for cluster quality)."""

    def __len__(self) -> int:
        return len(self.inputs)

    def rows(self) -> Iterator[dict[str, str]]:
        for i, (text, output) in enumerate(zip(self.inputs, self.outputs, strict=True)):
            yield {"id": f"s{i:08d}", "instruction": text, "response": output}

    def write_jsonl(self, path: Path) -> Path:
        with path.open("w", encoding="utf-8") as handle:
            for row in self.rows():
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        return path


def _typo(text: str, rng: np.random.Generator, edits: int) -> str:
    chars = list(text)
    for _ in range(edits):
        if len(chars) < 4:
            break
        at = int(rng.integers(1, len(chars) - 1))
        if rng.random() < 0.5:
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
        else:
            del chars[at]
    return "".join(chars)


def _paraphrase(text: str, rng: np.random.Generator) -> str:
    for old, new in PARAPHRASE.items():
        if old in text:
            text = text.replace(old, new, 1)
            break
    opener = OPENERS[int(rng.integers(len(OPENERS)))]
    return opener + text.split(", ", 1)[-1] if ", " in text[:20] else opener + text


def make_pairs(
    n: int, *, dup_share: float = 0.15, seed: int = 0, kinds: tuple[str, ...] = KINDS
) -> SyntheticPairs:
    """``n`` records, ``dup_share`` of them planted copies (split evenly over ``kinds``) of a base."""
    rng = np.random.default_rng(seed)
    n_dups = int(n * dup_share)
    n_base = n - n_dups
    intent = rng.integers(len(INTENTS), size=n_base)
    product = rng.integers(len(PRODUCTS), size=n_base)
    city = rng.integers(len(CITIES), size=n_base)
    name = rng.integers(len(NAMES), size=n_base)
    acc = rng.integers(len(ACCESSORIES), size=n_base)
    opener = rng.integers(len(OPENERS), size=n_base)
    closer = rng.integers(len(CLOSERS), size=n_base)
    days = rng.integers(2, 15, size=n_base)
    # Distinct order numbers: every base names its own, so no two bases are copies of each other.
    orders = rng.permutation(900_000)[:n_base] + 100_000 if n_base <= 900_000 else np.arange(n_base) + 100_000
    inputs: list[str] = []
    outputs: list[str] = []
    for i in range(n_base):
        question, answer = INTENTS[int(intent[i])]
        slots = {
            "o": f"{int(orders[i])}",
            "p": PRODUCTS[int(product[i])],
            "c": CITIES[int(city[i])],
            "n": NAMES[int(name[i])],
            "q": ACCESSORIES[int(acc[i])],
            "d": int(days[i]),
        }
        inputs.append(OPENERS[int(opener[i])] + question.format(**slots) + CLOSERS[int(closer[i])])
        outputs.append(answer.format(**slots))
    planted = np.full(n, -1, dtype=np.int64)
    kind_of = [""] * n
    intents = np.concatenate([intent, np.zeros(n_dups, dtype=np.int64)])
    sources = rng.integers(0, n_base, size=n_dups)
    for k, source in enumerate(sources.tolist()):
        i = n_base + k
        kind = kinds[k % len(kinds)]
        text, answer = inputs[source], outputs[source]
        if kind == "exact":
            text, answer = text.upper() if k % 2 else "  " + text + " ", answer
        elif kind == "near":
            text, answer = _typo(text, rng, 1 + k % 2), _typo(answer, rng, 1 + k % 3)
        else:
            text, answer = _paraphrase(text, rng), answer.replace(".", "!", 1)
        inputs.append(text)
        outputs.append(answer)
        planted[i] = source
        kind_of[i] = kind
        intents[i] = intent[source]
    # Interleave copies with bases so partitions mix both (a copy's base may sit in another partition).
    order = rng.permutation(n)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    shuffled_planted = np.where(planted[order] >= 0, position[np.maximum(planted[order], 0)], -1)
    return SyntheticPairs(
        inputs=[inputs[i] for i in order.tolist()],
        outputs=[outputs[i] for i in order.tolist()],
        planted=shuffled_planted,
        kinds=[kind_of[i] for i in order.tolist()],
        intents=intents[order],
    )
