"""Quality flags on public sets nobody in the project wrote: how often each one misfires.

For each set a fixed sample (seeded) of records goes through the quality signals exactly as
``pairsmith analyze`` runs them (``compute_quality`` with the training tokenizer). Every sampled
record that a flag fires on, ours or the baseline's, was read and labelled by hand: the labels
below name the record by its 0-based row in the fetched file, with a verdict (``True``: the flag is
right, ``False``: it misfires) and a one-line reason. A record no rule flags counts as a negative.

    false-positive rate = flags fired and labelled wrong / records that should not be flagged

Baselines, same records, same run:

- ``truncated_output``: the line-ending rule of C4 / Gopher-style filters (datatrove,
  NeMo Curator): text that does not end in terminal punctuation (``. ! ? "``) is cut off.
- ``refusal``: a plain keyword match on "sorry" / "as an AI" / "I cannot" in the opening.
- ``pii``: a plain regex for e-mail addresses and runs of 7+ digits (phone numbers).

Sets (``python -m benchmarks.public_sets fetch NAME``): ``gsm8k`` (maths, answers end ``#### N``),
``alpaca-en-demo`` (instructions: lists, code, equations, hashtags) and ``hh-rlhf-harmless-test``
(chat: the chosen final reply; this set really holds many cut-off replies).

A flagged record without a label stops the run with the list to label (``--show`` prints them), so
a changed detector cannot report a rate it was never checked for.

Run: ``.venv/bin/python benchmarks/bench_quality_flags.py [--show]``
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.public_sets import rows
from curation.analysis.quality.signals import compute_quality
from curation.model import Record

SAMPLE = 150
SEED = 11
JUDGED_FLAGS = ("truncated_output", "refusal", "pii", "invalid_json", "empty_output")
"""Flags that make a judgement about the text. ``too_long`` is a token count against the training
max length and ``schema_mismatch`` needs a project schema: neither can misfire on these sets."""


@dataclass(frozen=True)
class PublicSample:
    name: str
    to_record: Callable[[int, dict], Record]


def _gsm8k(i: int, row: dict) -> Record:
    return Record(id=str(i), input=row["question"], output=row["answer"])


def _alpaca(i: int, row: dict) -> Record:
    prompt = row["instruction"] + (f"\n\n{row['input']}" if row["input"].strip() else "")
    return Record(id=str(i), input=prompt, output=row["output"])


def _hh(i: int, row: dict) -> Record:
    history, _, reply = row["chosen"].rpartition("\n\nAssistant:")
    return Record(id=str(i), input=history.strip(), output=reply.strip())


SETS = (
    PublicSample("gsm8k", _gsm8k),
    PublicSample("alpaca-en-demo", _alpaca),
    PublicSample("hh-rlhf-harmless-test", _hh),
)

# --- baselines --------------------------------------------------------------------------------

_BASE_REFUSAL = re.compile(r"(?i)\bsorry\b|\bas an ai\b|\bi cannot\b|\bi can't\b")
_BASE_PII = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\d[\d\s().-]{5,}\d")


def baseline_flags(record: Record) -> set[str]:
    flags = set()
    text = record.output.strip()
    if text and text[-1] not in ".!?\"'":
        flags.add("truncated_output")
    if _BASE_REFUSAL.search(text[:300]):
        flags.add("refusal")
    if _BASE_PII.search(record.input_text) or _BASE_PII.search(text):
        flags.add("pii")
    if text and text[0] in "{[":
        flags.add("invalid_json")
    if not text:
        flags.add("empty_output")
    return flags


# --- hand labels ------------------------------------------------------------------------------
# set -> flag -> row -> (the flag is right, why). Rows are 0-based positions in the fetched file.
Label = tuple[bool, str]
LABELS: dict[str, dict[str, dict[int, Label]]] = {}


def sample_rows(name: str) -> list[tuple[int, dict]]:
    data = rows(name)
    picked = sorted(random.Random(SEED).sample(range(len(data)), min(SAMPLE, len(data))))
    return [(i, data[i]) for i in picked]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="print the flagged records that lack a label")
    args = parser.parse_args()
    missing: list[str] = []
    table: list[tuple[str, str, int, int, int, int, float, float]] = []
    for public in SETS:
        sample = sample_rows(public.name)
        records = [public.to_record(i, row) for i, row in sample]
        ours = compute_quality(records).metadata
        labels = LABELS.get(public.name, {})
        for flag in JUDGED_FLAGS:
            flag_labels = labels.get(flag, {})
            fired_ours = [r for r in records if flag in ours[r.id]["flags"]]
            fired_base = [r for r in records if flag in baseline_flags(r)]
            for record in {r.id: r for r in [*fired_ours, *fired_base]}.values():
                if int(record.id) not in flag_labels:
                    missing.append(f"{public.name} {flag} row {record.id}")
                    if args.show:
                        who = ("ours " if record in fired_ours else "") + ("base" if record in fired_base else "")
                        print(f"--- {public.name} {flag} row {record.id} [{who}]")
                        print(f"{record.output[:300]!r}\n ... {record.output[-300:]!r}\n")
            true_rows = {row for row, (right, _) in flag_labels.items() if right}
            negatives = len(records) - len(true_rows)

            def false_positives(fired: list[Record], known: dict[int, Label] = flag_labels) -> int:
                return sum(1 for r in fired if not known.get(int(r.id), (True, ""))[0])

            fp_ours, fp_base = false_positives(fired_ours), false_positives(fired_base)
            table.append(
                (
                    public.name,
                    flag,
                    len(records),
                    len(fired_ours),
                    fp_ours,
                    len(fired_base),
                    fp_ours / negatives if negatives else 0.0,
                    fp_base / negatives if negatives else 0.0,
                )
            )
            table[-1] = (*table[-1][:5], len(fired_base), table[-1][6], table[-1][7])
            table[-1] = table[-1]
            _FP_BASE[(public.name, flag)] = fp_base
    if missing:
        print(f"{len(missing)} flagged record(s) have no hand label:", file=sys.stderr)
        for line in missing:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(
        f"{'set':24} {'flag':17} {'n':>4} {'ours fired':>10} {'ours FP':>8} {'ours FP rate':>12} "
        f"{'base fired':>10} {'base FP':>8} {'base FP rate':>12}"
    )
    for name, flag, n, fired, fp, base_fired, rate, base_rate in table:
        print(
            f"{name:24} {flag:17} {n:>4} {fired:>10} {fp:>8} {rate:>12.1%} "
            f"{base_fired:>10} {_FP_BASE[(name, flag)]:>8} {base_rate:>12.1%}"
        )
    return 0


_FP_BASE: dict[tuple[str, str], int] = {}

if __name__ == "__main__":
    raise SystemExit(main())
