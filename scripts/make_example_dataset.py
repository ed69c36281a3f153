"""Write the bundled example dataset: support-ticket triage for Fernway, a fictional online plant shop.

Run: .venv/bin/python scripts/make_example_dataset.py [--out-dir DIR]
It writes ``fernway_triage.jsonl`` (the records), ``planted.json`` (the key: which ids hold planted
duplicates, conflicts, bad outputs, PII, golden examples, and the topic counts) and ``output_schema.json``
into ``curation/example/`` by default. Everything is drawn from ``random.Random(7)`` and the templates
below (our own text), so a run reproduces the files byte for byte; tests/curation/test_example_dataset.py
checks that. The annotator guidelines (curation/example/guidelines.md) are hand-written, not generated.

The labelling rules the outputs follow (so a small model can learn them):
- category comes from the sub-type of the message (one template family per sub-type);
- urgency is the sub-type's base urgency, raised to "high" when the message adds explicit anger or a
  deadline (only for sub-types marked ``escalates``);
- order_id is the FW-number written in the message (upper case), else null;
- summary is the sub-type's fixed sentence, naming the plant when exactly one plant is named.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from example_templates import (  # type: ignore[import-not-found]
    AMOUNTS,
    ANGER,
    CITIES,
    CONFLICTS,
    DEADLINES,
    DETAILS,
    DEVICES,
    GIFT_CODES,
    GREETINGS,
    NAMES,
    PARAPHRASES,
    PII_LINES,
    PLANTS,
    PROSE_REPLIES,
    SIGNOFFS,
    SUBTYPES,
    SWAPS,
    WEEKDAYS,
    Subtype,
)

SEED = 7
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "curation" / "example"
DATA_FILE, KEY_FILE, SCHEMA_FILE = "fernway_triage.jsonl", "planted.json", "output_schema.json"
CATEGORIES = (
    "shipping_delay",
    "damaged_plant",
    "order_change",
    "refund_request",
    "plant_care",
    "account_access",
    "gift_card",
    "subscription",
    "wholesale",
    "other",
)
URGENCIES = ("low", "normal", "high")
CHANNELS = ("email", "chat", "web_form")
# Records with a valid output, per category (bad outputs come on top and count for no category).
QUOTAS = {
    "shipping_delay": 152,
    "damaged_plant": 52,
    "order_change": 48,
    "refund_request": 52,
    "plant_care": 56,
    "account_access": 34,
    "other": 29,
    "gift_card": 7,
    "subscription": 7,
    "wholesale": 7,
}
THIN = ("gift_card", "wholesale", "subscription")
MAX_WORDS = 60
NEAR_MIN, INDEPENDENT_MAX = 0.5, 0.5  # word 3-shingle Jaccard: planted near pairs ≥, unrelated pairs <


def output_schema() -> dict[str, Any]:
    """The JSON Schema every good output satisfies (the project's output_schema)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Fernway support ticket triage",
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "urgency": {"type": "string", "enum": list(URGENCIES)},
            "order_id": {"type": ["string", "null"], "pattern": "^FW-[0-9]{5}$"},
            "summary": {"type": "string", "minLength": 1, "maxLength": 120},
        },
        "required": ["category", "urgency", "order_id", "summary"],
        "additionalProperties": False,
    }


# ---- text helpers ---------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1))}


def jaccard(a: set[Any], b: set[Any]) -> float:
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared) if a or b else 1.0


def normalise(text: str) -> str:
    """Case, whitespace and punctuation folded away: what 'exact duplicate' compares."""
    return " ".join(words(text))


def compact(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


def add_typo(rng: random.Random, text: str, protected: set[str]) -> str:
    """One typo (swapped, dropped or doubled letter) in one ordinary word, never in a slot value."""
    spans = [m for m in re.finditer(r"[A-Za-z]{5,}", text) if m.group().lower() not in protected]
    if not spans:
        return text
    m = rng.choice(spans)
    w = m.group()
    i = rng.randrange(1, len(w) - 2)
    kind = rng.randrange(3)
    if kind == 0:
        new = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    elif kind == 1:
        new = w[:i] + w[i + 1 :]
    else:
        new = w[:i] + w[i] + w[i:]
    if new == w:  # swapping two equal letters changes nothing: drop one instead
        new = w[:i] + w[i + 1 :]
    return text[: m.start()] + new + text[m.end() :]


def chat_style(text: str) -> str:
    """Lower case without final full stops, keeping order ids as customers paste them."""
    out = re.sub(r"FW-\d{5}", lambda m: m.group().replace("FW", "\0"), text).lower().replace("\0", "FW")
    return re.sub(r"\.(\s|$)", r"\1", out).strip()


# ---- one message ----------------------------------------------------------------------------------


@dataclass
class Draft:
    """One record before ids are assigned."""

    input: str
    output: str
    channel: str
    created: datetime
    kind: str = "background"
    group: int = -1
    obj: dict[str, Any] = field(default_factory=dict)
    slots: dict[str, str] = field(default_factory=dict)
    core: str = ""  # the filled template without greeting, details or sign-off, normalised
    correct: bool = False


class Writer:
    """Renders messages from templates with one shared random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used_ids: set[str] = set()

    def created(self) -> datetime:
        start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        return start + timedelta(minutes=self.rng.randrange(0, 115 * 24 * 60))

    def order_id(self) -> str:
        while True:
            oid = f"FW-{self.rng.randrange(10000, 20000)}"
            if oid not in self.used_ids:
                self.used_ids.add(oid)
                return oid

    def slots(self, created: datetime, with_id: bool) -> dict[str, str]:
        r = self.rng
        ordered = created - timedelta(days=r.randrange(6, 21))
        eta = ordered + timedelta(days=r.randrange(3, 6))
        plant, plant2 = r.sample(PLANTS, 2)
        amount, amount2 = r.sample(AMOUNTS, 2)
        oid = self.order_id() if with_id else ""
        if with_id:
            order = r.choice(["order {}", "order #{}", "my order {}", "order number {}"]).format(oid)
        else:
            order = r.choice(["my order", "my recent order", "the order"])
        return {
            "plant": plant,
            "a_plant": ("an " if plant[0] in "aeiouAEIOU" else "a ") + plant,
            "plant2": plant2,
            "oid": oid,
            "order": order,
            "date": f"{ordered:%B} {ordered.day}",
            "eta": f"{eta:%B} {eta.day}",
            "days": f"{(created - ordered).days} days",
            "city": r.choice(CITIES),
            "device": r.choice(DEVICES),
            "amount": amount,
            "amount2": amount2,
            "weekday": r.choice(WEEKDAYS),
            "gc": r.choice(GIFT_CODES),
            "name": r.choice(NAMES),
            "email": "{}@{}".format(
                r.choice(NAMES).lower() + r.choice([".k", "_w", "88", ".green", "2026"]),
                r.choice(["example.com", "example.org", "example.net"]),
            ),
            "phone": r.choice(["(415) 555-01{:02d}", "+1 555 01{:02d}", "555-01{:02d}"]).format(
                r.randrange(100)
            ),
            "card": r.choice(["4111 1111 1111 1111", "5555 5555 5555 4444", "4242 4242 4242 4242"]),
        }

    def message(
        self,
        sub: Subtype,
        *,
        channel: str | None = None,
        template: str | None = None,
        escalate: bool | None = None,
        clean: bool = False,
        extra: str | None = None,
        with_id: bool | None = None,
        slots: dict[str, str] | None = None,
    ) -> Draft:
        """A message of sub-type ``sub`` and its correct output."""
        r = self.rng
        channel = channel or r.choices(CHANNELS, weights=(5, 3, 2))[0]
        created = self.created()
        core = template or r.choice(sub.templates)
        if "{oid}" in core:
            with_id = True
        elif "{order}" not in core:
            with_id = False
        elif slots is not None:
            with_id = bool(slots["oid"])
        elif with_id is None:
            with_id = r.random() < sub.id_rate
        s = slots or self.slots(created, with_id)
        if escalate is None:
            escalate = sub.escalates and not clean and r.random() < 0.2
        parts = [core]
        if not clean and r.random() < 0.45:
            parts.append(r.choice(DETAILS.get(sub.name, DETAILS[sub.category])))
        if escalate:
            parts.append(r.choice(ANGER + DEADLINES))
        if extra:
            parts.append(extra)
        body = " ".join(parts).format(**s)
        body = body[0].upper() + body[1:]
        if channel == "email" and r.random() < 0.7:
            body = r.choice(GREETINGS) + "\n" + body
        elif channel == "chat" and r.random() < 0.3:
            body = r.choice(["Hi! ", "Hey! ", "Hello! "]) + body
        if channel == "email" and r.random() < 0.7:
            body = body + "\n" + r.choice(SIGNOFFS).format(**s)
        text = body
        if not clean:
            protected = {w for key in ("plant", "plant2", "city", "name") for w in words(s[key])}
            if r.random() < 0.12:
                text = add_typo(r, text, protected)
            if channel == "chat" and r.random() < 0.3:
                text = chat_style(text)
        single_plant = ("{plant}" in core or "{a_plant}" in core) and "{plant2}" not in core
        obj = {
            "category": sub.category,
            "urgency": "high" if escalate and sub.escalates else sub.urgency,
            "order_id": s["oid"] if with_id else None,
            "summary": sub.summary.format(
                city=s["city"],
                plant=s["plant"],
                a_plant=s["a_plant"],
                plant_=s["plant"] + " " if single_plant else "",
                plant_or=s["plant"] if single_plant else "plant",
            ),
        }
        assert len(words(text)) <= MAX_WORDS, text
        assert len(obj["summary"].split()) <= 15, obj
        return Draft(text, compact(obj), channel, created, obj=obj, slots=s, core=core_key(core, s))


def core_key(template: str, slots: dict[str, str]) -> str:
    """What makes two messages the same ticket: the template and its slots, dates and amounts aside."""
    vague = {k: k.upper() for k in ("date", "eta", "days", "amount", "amount2", "weekday")}
    return normalise(template.format(**{**slots, **vague}))


# ---- the dataset ----------------------------------------------------------------------------------


def by_name(name: str) -> Subtype:
    return next(s for s in SUBTYPES if s.name == name)


class Builder:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.w = Writer(self.rng)
        self.drafts: list[Draft] = []
        self.groups = 0
        self.left = dict(QUOTAS)
        self.seen: list[set[tuple[str, ...]]] = []  # shingles of every draft so far
        self.cores: set[str] = set()  # a template filled with the same values is the same ticket

    def add(self, drafts: list[Draft], kind: str, *, counts: bool = True) -> None:
        group = self.groups
        self.groups += 1
        for d in drafts:
            d.kind, d.group = kind, group
            if counts:
                self.left[d.obj["category"]] -= 1
            self.seen.append(shingles(d.input))
            self.cores.add(d.core)
        self.drafts.extend(drafts)

    def independent(self, d: Draft) -> bool:
        """True when ``d`` is unlike every record so far (no accidental duplicates of any kind)."""
        if d.core in self.cores:
            return False
        own = shingles(d.input)
        return all(jaccard(own, seen) < INDEPENDENT_MAX for seen in self.seen)

    def fresh(self, sub: Subtype | list[Subtype], **kwargs: Any) -> Draft:
        """A message of ``sub`` (or of one of several sub-types) unlike every record so far."""
        choices = sub if isinstance(sub, list) else [sub]
        for _ in range(400):
            d = self.w.message(self.rng.choice(choices), **kwargs)
            if self.independent(d):
                return d
        raise RuntimeError(
            f"could not draw an independent {[s.name for s in choices]} message; add templates"
        )

    def fresh_long(self, categories: tuple[str, ...], min_words: int = 18) -> Draft:
        """A clean independent message long enough that one small edit keeps most of its shingles."""
        for _ in range(400):
            d = self.w.message(self.pick(categories), clean=True)
            if len(words(d.input)) >= min_words and self.independent(d):
                return d
        raise RuntimeError("could not draw a long independent message; add templates")

    def pick(self, categories: tuple[str, ...]) -> Subtype:
        return self.rng.choice([s for s in SUBTYPES if s.category in categories])

    def exact_duplicates(self) -> None:
        variants = [
            lambda t: t,
            lambda t: t.lower(),
            lambda t: t.rstrip(".!?"),
            lambda t: re.sub(r" ", "  ", t, count=2) + " ",
        ]
        cats = ("shipping_delay", "damaged_plant", "order_change", "refund_request", "plant_care")
        for size in (3, 2, 3, 2, 2, 3, 2):
            base = self.fresh(self.pick(cats), clean=True)
            copies = [base]
            for k in range(1, size):
                text = variants[(k + self.groups) % len(variants)](base.input)
                copies.append(
                    Draft(
                        text,
                        base.output,
                        self.rng.choice(CHANNELS),
                        self.w.created(),
                        obj=base.obj,
                        core=base.core,
                    )
                )
            self.add(copies, "exact")

    def near_duplicates(self) -> None:
        cats = ("shipping_delay", "damaged_plant", "order_change", "refund_request", "account_access")
        edits = ("typo", "swap", "reorder", "typo", "swap", "reorder", "typo", "swap", "reorder")
        for i, edit in enumerate(edits):
            base = self.fresh_long(cats)
            members = [base]
            for _ in range(2 if i == 0 else 1):
                for _attempt in range(50):
                    text = self.edit(members[-1].input, edit)
                    ok = jaccard(shingles(text), shingles(base.input)) >= NEAR_MIN + 0.05
                    if ok and all(normalise(text) != normalise(m.input) for m in members):
                        break
                else:
                    raise RuntimeError(f"near-duplicate edit '{edit}' failed on {base.input!r}")
                members.append(
                    Draft(text, base.output, base.channel, self.w.created(), obj=base.obj, core=base.core)
                )
            self.add(members, "near")

    def edit(self, text: str, how: str) -> str:
        r = self.rng
        if how == "swap":
            options = [(a, b) for a, b in SWAPS if re.search(rf"\b{re.escape(a)}\b", text)]
            if options:
                a, b = r.choice(options)
                return re.sub(rf"\b{re.escape(a)}\b", b, text, count=1)
        if how == "reorder":  # within the body line: swap two sentences, else two neighbouring words
            lines = text.split("\n")
            at = max(range(len(lines)), key=lambda k: len(lines[k]))
            sentences = re.split(r"(?<=[.?!])\s+", lines[at])
            pairs = [i for i in range(len(sentences) - 1) if min(map(len, sentences[i : i + 2])) > 8]
            if pairs:  # two real sentences (a chat "Hi!" stays in front)
                i = r.choice(pairs)
                sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
            else:
                tokens = lines[at].split(" ")
                i = r.randrange(1, len(tokens) - 2)
                tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
                sentences = [" ".join(tokens)]
            lines[at] = " ".join(sentences)
            return "\n".join(lines)
        lines = text.split("\n")  # a typo in the body, not in the greeting or the sign-off
        at = max(range(len(lines)), key=lambda k: len(lines[k]))
        lines[at] = add_typo(r, lines[at], set())
        return "\n".join(lines)

    def paraphrases(self) -> None:
        for name, templates in PARAPHRASES:
            sub = by_name(name)
            first = self.fresh(sub, template=templates[0], clean=True, escalate=False)
            members = [first]
            for template in templates[1:]:
                d = self.w.message(sub, template=template, clean=True, escalate=False, slots=first.slots)
                assert d.output == first.output, (d.output, first.output)
                members.append(d)
            self.add(members, "paraphrase")

    def conflicts(self) -> None:
        for name, template, wrong, typo in CONFLICTS:
            sub = by_name(name)
            right = self.fresh(sub, template=template, clean=True, escalate=False)
            right.correct = True
            bad_obj = dict(right.obj, **wrong)
            text = add_typo(self.rng, right.input, set()) if typo else right.input
            other = Draft(
                text,
                compact(bad_obj),
                self.rng.choice(CHANNELS),
                self.w.created(),
                obj=bad_obj,
                core=right.core,
            )
            pair = [right, other] if self.rng.random() < 0.5 else [other, right]
            self.add(pair, "conflict")

    def pii(self) -> None:
        for name, line in PII_LINES:
            self.add([self.fresh(by_name(name), extra=line, escalate=False)], "pii")

    def golden(self) -> None:
        for name in ("not_arrived", "arrived_damaged", "change_address", "charged_twice", "yellow_leaves",
                     "cant_login", "packaging"):  # fmt: skip
            sub = by_name(name)
            template = next((t for t in sub.templates if "{order}" in t), sub.templates[0])
            draft = self.fresh(
                sub, channel="email", template=template, clean=True, escalate=False, with_id=True
            )
            self.add([draft], "golden")

    def bad_outputs(self) -> None:
        cats = ("shipping_delay", "damaged_plant", "refund_request", "order_change", "plant_care")
        for kind, n in (("empty", 5), ("truncated", 5), ("wrong_format", 6)):
            for i in range(n):
                d = self.fresh(self.pick(cats))
                if kind == "empty":
                    d.output = ""
                elif kind == "truncated":
                    cut = d.output.index('"summary": "') + len('"summary": "')
                    d.output = d.output[: cut + self.rng.randrange(4, 14)]
                elif i % 3 == 0:
                    d.output = self.rng.choice(PROSE_REPLIES[d.obj["category"]])
                elif i % 3 == 1:
                    d.output = compact({k: v for k, v in d.obj.items() if k != "order_id"})
                else:
                    d.output = compact(dict(d.obj, urgency="urgent"))
                self.add([d], "bad_" + kind, counts=False)

    def background(self) -> None:
        for category in CATEGORIES:
            subs = [s for s in SUBTYPES if s.category == category]
            while self.left[category] > 0:
                self.add([self.fresh(subs)], "background")

    def build(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        self.golden()
        self.pii()
        self.exact_duplicates()
        self.near_duplicates()
        self.paraphrases()
        self.conflicts()
        self.bad_outputs()
        self.background()
        self.check()
        order = sorted(range(len(self.drafts)), key=lambda i: (self.drafts[i].created, i))
        ids = {i: f"fw-{n + 1:04d}" for n, i in enumerate(order)}
        records = [
            {
                "id": ids[i],
                "input": self.drafts[i].input,
                "output": self.drafts[i].output,
                "channel": self.drafts[i].channel,
                "created": f"{self.drafts[i].created:%Y-%m-%dT%H:%M:%SZ}",
            }
            for i in order
        ]
        return records, self.key(ids)

    def check(self) -> None:
        """Only planted groups may hold look-alikes; everything else must be unlike everything else."""
        assert all(v == 0 for v in self.left.values()), self.left
        norms = [normalise(d.input) for d in self.drafts]
        first_group: dict[str, int] = {}
        for d in self.drafts:
            assert first_group.setdefault(d.core, d.group) == d.group, d
        for i, a in enumerate(self.drafts):
            assert len(words(a.input)) <= MAX_WORDS, a.input
            for j in range(i):
                if a.group != self.drafts[j].group:
                    same = norms[i] == norms[j]
                    assert not same and jaccard(self.seen[i], self.seen[j]) < INDEPENDENT_MAX, (a, j)

    def key(self, ids: dict[int, str]) -> dict[str, Any]:
        def groups(kind: str) -> list[list[str]]:
            found: dict[int, list[str]] = {}
            for i, d in enumerate(self.drafts):
                if d.kind == kind:
                    found.setdefault(d.group, []).append(ids[i])
            return [sorted(g) for g in found.values()]

        def flat(kind: str) -> list[str]:
            return sorted(ids[i] for i, d in enumerate(self.drafts) if d.kind == kind)

        counts = {c: 0 for c in CATEGORIES}
        for d in self.drafts:
            if not d.kind.startswith("bad_"):
                counts[d.obj["category"]] += 1
        return {
            "dataset": DATA_FILE,
            "records": len(self.drafts),
            "seed": SEED,
            "exact_duplicates": groups("exact"),
            "near_duplicates": groups("near"),
            "paraphrases": groups("paraphrase"),
            "conflicts": groups("conflict"),
            "conflict_follows_guidelines": sorted(ids[i] for i, d in enumerate(self.drafts) if d.correct),
            "bad_outputs": {k: flat("bad_" + k) for k in ("empty", "truncated", "wrong_format")},
            "topics": {
                "over_represented": "shipping_delay",
                "thin": list(THIN),
                "counts": counts,
                "counted_over": "records whose output is valid (bad outputs count for no category)",
            },
            "golden": flat("golden"),
            "pii": flat("pii"),
            "overlaps": "none: every planted id belongs to exactly one kind. Conflict pairs share an input, so "
            "a detector that compares inputs only will also report them as duplicates.",
        }


def write(out_dir: Path, seed: int = SEED) -> None:
    records, key = Builder(seed).build()
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (out_dir / DATA_FILE).write_text(lines, encoding="utf-8")
    (out_dir / KEY_FILE).write_text(json.dumps(key, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    schema = json.dumps(output_schema(), indent=2, ensure_ascii=False) + "\n"
    (out_dir / SCHEMA_FILE).write_text(schema, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out-dir", type=Path, default=DEFAULT_OUT, help="where to write (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    write(args.out_dir)
    print(f"wrote {DATA_FILE}, {KEY_FILE}, {SCHEMA_FILE} to {args.out_dir}")


if __name__ == "__main__":
    main()
