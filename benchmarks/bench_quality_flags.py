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


@dataclass(frozen=True)
class Row:
    set_name: str
    flag: str
    n: int
    fired: int
    fp: int
    base_fired: int
    base_fp: int
    negatives: int
    found: int
    """Records labelled as rightly flagged that ours flags (recall among the labelled positives)."""
    positives: int

    @property
    def fp_rate(self) -> float:
        return self.fp / self.negatives if self.negatives else 0.0

    @property
    def base_fp_rate(self) -> float:
        return self.base_fp / self.negatives if self.negatives else 0.0


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

# GSM8K: every sampled answer was read; each is a complete worked solution whose last line is
# the final answer. Row -> that final answer as read.
_GSM8K_FINAL_ANSWERS = {
    0: "18",
    1: "3",
    9: "460",
    19: "6",
    22: "7",
    30: "109",
    31: "80",
    34: "23",
    40: "8",
    60: "17",
    61: "1430",
    73: "255",
    85: "44",
    86: "22",
    107: "3",
    121: "27",
    122: "48",
    129: "10000",
    136: "6",
    143: "16",
    149: "16",
    150: "4",
    152: "4",
    170: "150",
    174: "95",
    178: "122",
    184: "25",
    185: "30",
    192: "91",
    205: "98",
    206: "860",
    220: "70",
    221: "90",
    238: "68",
    241: "6",
    260: "11",
    268: "1375",
    275: "138",
    277: "4",
    290: "390",
    299: "31800",
    315: "14",
    322: "9",
    363: "6",
    374: "45",
    378: "15",
    381: "67",
    383: "2",
    385: "16",
    388: "88",
    389: "6",
    390: "12",
    400: "48",
    406: "200",
    427: "150",
    429: "13",
    431: "1",
    435: "5",
    436: "15",
    437: "7",
    467: "1200",
    470: "3",
    478: "621",
    495: "200",
    497: "112",
    504: "2",
    520: "63",
    528: "172",
    552: "450",
    569: "21",
    591: "220",
    595: "13",
    602: "5",
    606: "6",
    621: "3000",
    622: "7",
    636: "1050",
    637: "17",
    645: "48",
    668: "3",
    673: "9",
    681: "298",
    689: "7",
    755: "7",
    761: "27",
    768: "675",
    785: "155",
    790: "108",
    791: "100",
    807: "4",
    808: "12",
    811: "60",
    813: "7",
    820: "720",
    833: "40",
    839: "2",
    858: "3430",
    859: "1520",
    861: "30",
    902: "8",
    904: "8",
    914: "3",
    916: "14",
    925: "2000",
    926: "1",
    927: "85000",
    928: "60",
    936: "250",
    950: "5",
    952: "360",
    953: "452",
    962: "1000",
    974: "5",
    990: "14",
    997: "6,600",
    1023: "77",
    1040: "736",
    1042: "3",
    1048: "7400",
    1050: "655",
    1063: "320",
    1082: "2",
    1103: "90",
    1128: "9",
    1145: "291",
    1146: "16",
    1153: "20",
    1159: "50",
    1176: "2",
    1181: "20",
    1193: "9",
    1202: "19",
    1210: "288",
    1213: "31",
    1219: "100",
    1228: "31",
    1231: "70",
    1232: "15",
    1249: "56",
    1257: "14",
    1260: "5",
    1274: "38",
    1276: "70",
    1284: "25",
    1289: "101",
    1299: "13",
    1303: "4",
    1311: "594",
    1314: "8",
    1318: "14",
}
# GSM8K rows where the plain PII regex matched: a subtraction or a large quantity, no phone.
_GSM8K_SUMS = {
    0: "16 - 3 - 4",
    85: "34 - 23",
    107: "5 - 1 - 1",
    129: "200-150",
    205: "465 - 367",
    221: "120 - 90",
    381: "112 - 45",
    504: "7 - 2 - 1",
    569: "84 - 63",
    606: "10,440,000 rotations",
    925: "5000-3000",
    926: "150 - 130 - 10",
    936: "1600-1350",
    950: "25 - 20",
    953: "480 - 28",
    1042: "11 - 20",
    1048: "20000-12600",
    1050: "1955-1300",
    1146: "100 - 84",
    1176: "2.75 - .55",
    1213: "306-275",
}

LABELS: dict[str, dict[str, dict[int, Label]]] = {
    "gsm8k": {
        "truncated_output": {
            row: (False, f"complete worked solution ending '#### {answer}'")
            for row, answer in _GSM8K_FINAL_ANSWERS.items()
        },
        "pii": {
            row: (False, f"arithmetic '{text}', not a phone number") for row, text in _GSM8K_SUMS.items()
        },
    },
    "alpaca-en-demo": {
        "truncated_output": {
            463: (True, "stops mid-sentence: '...serves as a reminder of the importance of'"),
            74: (False, "complete numbered list of 10 food pairings"),
            96: (False, "ends on the equation '10 / 5 = 2', the final result"),
            195: (False, "one-word answer 'google.com'"),
            200: (False, "one-word label 'Negative'"),
            260: (False, "complete merged array '[1, 34, 55, 67, 84, 89 ]'"),
            395: (False, "complete Python snippet ending 'print(my_list[i])'"),
            462: (False, "complete two-item list of words"),
            487: (False, "complete list 'Apple, Banana, Grapes'"),
            576: (False, "complete HTML code block, fence closed"),
            614: (False, "complete list tagging the four words of the sentence"),
            698: (False, "ends on a closed parenthesis after a full explanation"),
            822: (False, "complete Python code block, fence closed"),
            904: (False, "complete numbered list of three gases"),
        },
        "refusal": {
            665: (True, "declines to describe a house it does not have, offers other help"),
            691: (True, "says it cannot describe a memorable moment; only offers general help"),
            630: (False, "answers the teamwork question in role, no refusal"),
            799: (False, "answers the diplomacy question in role, no refusal"),
        },
    },
    "hh-rlhf-harmless-test": {
        "truncated_output": {
            243: (True, "stops mid-sentence on '..., so'"),
            299: (True, "list of terms cut off at 'captain of'"),
            385: (True, "promises explanations after ':' and gives none"),
            779: (True, "stops mid-sentence: 'But it's also not the case that this'"),
            1040: (True, "stops mid-sentence: '...that people of different races have'"),
            1336: (True, "'Here are some answers:' and nothing follows"),
            1379: (False, "a complete (unpunctuated) sentence: 'I'm not a person'"),
            1581: (True, "stops mid-sentence: 'Maybe you could call them'"),
            1640: (True, "stops mid-sentence on '...getting very wet and'"),
            1804: (False, "a complete (unpunctuated) sentence about herpes symptoms"),
            1873: (True, "'Here's an example:' and no example follows"),
            2098: (True, "stops mid-sentence: 'If they'"),
            2130: (True, "stops mid-sentence: 'The old type of Ferrari has always'"),
            172: (False, "short complete sentence without a full stop"),
            258: (False, "ends on a complete URL"),
            425: (False, "ends on a closed quotation and full stop ('.”')"),
            521: (True, "stops mid-sentence: 'Well, I'm afraid I don't'"),
            995: (True, "list item cut off: '- Using pliers'"),
            1907: (True, "'following categories:' then a single heading, the list is cut"),
            1981: (False, "ends on a complete URL"),
            2292: (True, "open quote, the sentence stops at 'Greedy"),
        },
        "refusal": {
            340: (True, "'I'm sorry, I can't help you with this.'"),
            805: (True, "declines: 'I don't have access to that information.'"),
            1904: (False, "'I won't keep you any longer' is not declining the request"),
            1925: (True, "'I can't help you with that.'"),
            2257: (True, "'I'm sorry, I don't want to do this.'"),
            39: (False, "asks the user to repeat; not a refusal"),
            63: (False, "says it cannot interpret the message; a clarification, not a refusal"),
            245: (False, "goes along with the request; the apology is about imagining the next step"),
            957: (False, "does not understand; not a refusal"),
            976: (False, "asks what the question means; not a refusal"),
            1183: (False, "asks for more detail; not a refusal"),
            1273: (False, "'I can't express my displeasure in words' then plays along"),
            1640: (False, "an apology for a tangent, not a refusal"),
            2011: (False, "a rhetorical question about dying, not a refusal"),
        },
        "pii": {
            940: (False, "the context holds a date (2020-09-23) and an id-like number, no phone or e-mail")
        },
        "invalid_json": {521: (False, "prose that opens with a stage direction '[female-human voice]'")},
    },
}


def sample_rows(name: str) -> list[tuple[int, dict]]:
    data = rows(name)
    picked = sorted(random.Random(SEED).sample(range(len(data)), min(SAMPLE, len(data))))
    return [(i, data[i]) for i in picked]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="print the flagged records that lack a label")
    args = parser.parse_args()
    missing: list[str] = []
    table: list[Row] = []
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
                        who = ("ours " if record in fired_ours else "") + (
                            "base" if record in fired_base else ""
                        )
                        print(f"--- {public.name} {flag} row {record.id} [{who}]")
                        print(f"{record.output[:300]!r}\n ... {record.output[-300:]!r}\n")
            true_rows = {row for row, (right, _) in flag_labels.items() if right}
            negatives = len(records) - len(true_rows)

            def false_positives(fired: list[Record], known: dict[int, Label] = flag_labels) -> int:
                return sum(1 for r in fired if not known.get(int(r.id), (True, ""))[0])

            table.append(
                Row(
                    public.name,
                    flag,
                    len(records),
                    len(fired_ours),
                    false_positives(fired_ours),
                    len(fired_base),
                    false_positives(fired_base),
                    negatives,
                    sum(1 for r in fired_ours if int(r.id) in true_rows),
                    len(true_rows),
                )
            )
    if missing:
        print(f"{len(missing)} flagged record(s) have no hand label:", file=sys.stderr)
        for line in missing:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(
        f"{'set':22} {'flag':17} {'n':>4} {'ours fired':>10} {'ours FP':>8} {'ours FP rate':>12} "
        f"{'base fired':>10} {'base FP':>8} {'base FP rate':>12} {'ours found':>10}"
    )
    for row in table:
        print(
            f"{row.set_name:22} {row.flag:17} {row.n:>4} {row.fired:>10} {row.fp:>8} {row.fp_rate:>12.1%} "
            f"{row.base_fired:>10} {row.base_fp:>8} {row.base_fp_rate:>12.1%} {row.found:>5}/{row.positives:<4}"
        )
    print("\nwhole sets (no labels): share of records each rule flags")
    for public in SETS:
        records = [public.to_record(i, row) for i, row in enumerate(rows(public.name))]
        ours = compute_quality(records).metadata
        for flag in ("truncated_output", "refusal", "pii"):
            fired = sum(1 for r in records if flag in ours[r.id]["flags"])
            base = sum(1 for r in records if flag in baseline_flags(r))
            print(
                f"{public.name:22} {flag:17} ours {fired:>5} of {len(records)} ({fired / len(records):.1%})"
                f"   base {base:>5} ({base / len(records):.1%})"
            )
    worst = max(row.fp_rate for row in table)
    print(f"\nhighest false-positive rate of ours: {worst:.1%} (target <= 5%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
