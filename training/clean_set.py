"""The clean set: which records go into a fine-tuning set, with which output, and why.

Rules (each configurable in :class:`~training.export_config.ExportConfig`, documented in
docs/export.md), applied in this order so every record gets exactly one reason:

1. review: the final verdict comes from the record's final answer when an owner adjudicated it
   (metadata ``final_answer``; projects adjudicated by an older pairsmith name the owner in
   ``adjudicated_by`` and their response is final), otherwise from the submitted and discarded
   responses under the disagreement policy. "good" keeps the output; "needs_fix" keeps the record only with a non-empty
   corrected output, which replaces the output; "bad" and discarded records are left out; records
   nobody reviewed are left out unless ``include_unreviewed``.
2. quality: records carrying an excluded quality flag (metadata ``flags``) or an empty final output
   are left out. The suspicion flags (:data:`SUSPICION_FLAGS`: an output that disagrees with what
   similar inputs get, or is in a shape the project never uses) only exclude records nobody
   reviewed: a reviewer's verdict outranks a heuristic.
3. conflicts: of the records of one conflict group (metadata ``conflict_group``: the same or a
   near-identical input with clearly different outputs) that have the same normalised input and
   that nobody reviewed, one stays: none when a reviewed member with that input is in (a person
   vouched for that output), else the one whose output agrees best with those of similar inputs
   (metadata ``output_agreement``), then the first in import order.
4. duplicates: per duplicate group (metadata ``dup_group``), the human resolution
   (``dup_resolution``: keep / drop / conflict) first; without one, the suggested keeper
   (``dup_keeper``) stays and members linked to it by a tier in ``dedup_tiers`` (exact and near by
   default; semantic paraphrases wait for a reviewer) are left out; then exact copies of each other
   that are still in are reduced to one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from curation import metadata_keys as F
from curation.model import Record, Response, ResponseStatus
from curation.review.agreement import final_answer
from curation.store.base import RecordStore
from training.collapse import CollapseWarning, collapse_warning
from training.export_config import ExportConfig

# Reasons a record is left out (stable strings: the --json output and the dataset card use them).
UNREVIEWED = "unreviewed"
DISCARDED = "discarded"
LABEL_EXCLUDED = "label_excluded"
NO_CORRECTION = "needs_fix_without_correction"
DISAGREEMENT = "disagreement"
QUALITY_FLAG = "quality_flag"
EMPTY = "empty_input_or_output"
DUP_DROPPED = "duplicate_dropped"
DUPLICATE = "duplicate"
DUP_CONFLICT = "duplicate_conflict"
CONFLICT = "conflict"
REASONS = (
    UNREVIEWED,
    DISCARDED,
    LABEL_EXCLUDED,
    NO_CORRECTION,
    DISAGREEMENT,
    QUALITY_FLAG,
    EMPTY,
    CONFLICT,
    DUP_DROPPED,
    DUPLICATE,
    DUP_CONFLICT,
)

REASON_NAMES = {
    UNREVIEWED: "not reviewed yet",
    DISCARDED: "discarded by a reviewer",
    LABEL_EXCLUDED: "labelled bad",
    NO_CORRECTION: "needs a fix, but no corrected output was written",
    DISAGREEMENT: "reviewers disagree (no final answer yet)",
    QUALITY_FLAG: "has a quality problem (flag)",
    EMPTY: "empty input or output",
    CONFLICT: "another output for the same input is kept (conflict)",
    DUP_DROPPED: "duplicate a reviewer chose to drop",
    DUPLICATE: "duplicate: another copy is kept",
    DUP_CONFLICT: "duplicates that disagree (marked as conflict)",
}
"""What each reason means, in words for the Export page (the codes stay stable for --json)."""
INCLUDED_NAMES = {
    "good": "labelled good",
    "needs_fix_corrected": "corrected by a reviewer",
    "unreviewed": "not reviewed (included on request)",
}


def plain_reason(code: str) -> str:
    """The plain words for a reason code (left out) or an inclusion (``good``, ``needs_fix_corrected``);
    an unknown code (a label the project added) is shown with its underscores as spaces. A code with a
    detail (``quality_flag: truncated_output``) keeps its detail."""
    code, _, detail = code.partition(": ")
    words = REASON_NAMES.get(code) or INCLUDED_NAMES.get(code) or code.replace("_", " ")
    return f"{words}: {detail}" if detail else words


SUSPICION_FLAGS = frozenset({"inconsistent_output", "off_format"})
"""Flags that are suspicions from comparing a record with the others: they exclude unreviewed records only."""
OUTPUT_FLAGS = frozenset(
    {"empty_output", "truncated_output", "invalid_json", "schema_mismatch", *SUSPICION_FLAGS}
)
"""Flags computed on the output: a corrected output makes them stale."""

_DISCARD = "(discarded)"
_NO_LABEL = "(no label)"


@dataclass
class CleanItem:
    """A record in the clean set with its final output and why it is in."""

    record: Record
    output: str
    why: str
    label: str | None
    """The final verdict ("good", "needs_fix", ...) or None for an unreviewed record."""
    responses: list[Response] = field(default_factory=list)
    """The responses the verdict rests on (hashed in the manifest)."""

    @property
    def corrected(self) -> bool:
        return self.output != self.record.output

    def response_hashes(self) -> list[str]:
        return [r.content_hash() for r in self.responses]

    def output_hash(self) -> str:
        return hashlib.sha256(self.output.encode("utf-8")).hexdigest()


@dataclass
class ExcludedItem:
    record_id: str
    reason: str
    detail: str = ""


@dataclass
class CleanSet:
    included: list[CleanItem]
    excluded: list[ExcludedItem]
    collapse: CollapseWarning | None = None
    """Set when dedup and quality flags leave out more than 20 % of the records they judged."""

    def included_by(self) -> dict[str, int]:
        """How many included records came in as good, corrected, unreviewed, ..."""
        counts: Counter[str] = Counter()
        for item in self.included:
            if item.label is None:
                counts["unreviewed"] += 1
            elif item.corrected:
                counts[f"{item.label}_corrected"] += 1
            else:
                counts[item.label] += 1
        return dict(sorted(counts.items()))

    def excluded_by(self) -> dict[str, int]:
        counts = Counter(item.reason for item in self.excluded)
        return {reason: counts[reason] for reason in REASONS if counts[reason]} | {
            r: n for r, n in sorted(counts.items()) if r not in REASONS
        }

    def summary(self, *, per_record: bool = False) -> dict[str, Any]:
        """The documented shape of `pairsmith export --dry-run --json` (see docs/export.md)."""
        out: dict[str, Any] = {
            "records": len(self.included) + len(self.excluded),
            "included": len(self.included),
            "excluded": len(self.excluded),
            "included_by": self.included_by(),
            "excluded_by": self.excluded_by(),
            "collapse": self.collapse.as_dict() if self.collapse else None,
        }
        if per_record:
            rows: list[dict[str, Any]] = [
                {"id": i.record.id, "included": True, "reason": i.label or "unreviewed", "detail": i.why}
                for i in self.included
            ]
            rows += [
                {"id": e.record_id, "included": False, "reason": e.reason, "detail": e.detail}
                for e in self.excluded
            ]
            out["per_record"] = rows
        return out


def dry_run_csv(clean: CleanSet) -> str:
    """The dry run as a spreadsheet: one row per record with whether it would be exported, the reason
    in plain words, its code (as in `pairsmith export --dry-run --json`) and the detail."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "exported", "why", "reason_code", "detail"])
    for row in clean.summary(per_record=True)["per_record"]:
        code = str(row["reason"])
        writer.writerow(
            [row["id"], "yes" if row["included"] else "no", plain_reason(code), code, row["detail"]]
        )
    return out.getvalue()


def _verdict(response: Response, config: ExportConfig) -> str:
    if response.status == ResponseStatus.discarded:
        return _DISCARD
    label = response.values.get(config.label_question)
    return _NO_LABEL if label is None else str(label)


def _correction(response: Response, config: ExportConfig) -> str:
    value = response.values.get(config.correction_question)
    return value if isinstance(value, str) else ""


@dataclass
class _Decision:
    verdict: str | None  # None: unreviewed
    responses: list[Response]
    why: str
    reason: str | None = None  # set when the review alone excludes the record
    detail: str = ""


def _decide(record: Record, responses: list[Response], config: ExportConfig) -> _Decision:
    """The review verdict of one record from its final (submitted or discarded) responses."""
    final = [r for r in responses if r.status != ResponseStatus.draft]
    settled = final_answer(record.metadata) if config.use_adjudication else None
    if settled is not None and config.label_question in settled.values:
        answer = Response(
            record_id=record.id,
            user=settled.by,
            values=settled.values,
            status=ResponseStatus.submitted,
            **({"created_at": settled.at, "updated_at": settled.at} if settled.at else {}),
        )
        return _Decision(_verdict(answer, config), [answer], f"final answer by {settled.by}")
    adjudicator = record.metadata.get(F.ADJUDICATED_BY) if config.use_adjudication else None
    if adjudicator and settled is None:
        chosen = [r for r in final if r.user == adjudicator]
        if chosen:
            return _Decision(_verdict(chosen[0], config), chosen, f"adjudicated by {adjudicator}")
    if not final:
        return _Decision(None, [], "nobody reviewed it")
    verdicts = Counter(_verdict(r, config) for r in final)
    if len(verdicts) == 1:
        verdict = next(iter(verdicts))
        users = ", ".join(r.user for r in final)
        return _Decision(verdict, final, f"{verdict} by {users}")
    summary = ", ".join(f"{v}: {n}" for v, n in sorted(verdicts.items()))
    if config.disagreement_policy == "unanimous":
        return _Decision(None, final, "", DISAGREEMENT, f"annotators disagree ({summary})")
    (top, top_n), (_, second_n) = verdicts.most_common(2)
    if top_n == second_n:
        return _Decision(None, final, "", DISAGREEMENT, f"tie between annotators ({summary})")
    backing = [r for r in final if _verdict(r, config) == top]
    return _Decision(top, backing, f"majority {top_n}/{len(final)} {top} ({summary})")


def _review(record: Record, responses: list[Response], config: ExportConfig) -> CleanItem | ExcludedItem:
    decision = _decide(record, responses, config)
    if decision.reason:
        return ExcludedItem(record.id, decision.reason, decision.detail)
    verdict = decision.verdict
    if verdict is None:
        if config.include_unreviewed:
            return CleanItem(record, record.output, "unreviewed (include_unreviewed)", None)
        return ExcludedItem(record.id, UNREVIEWED, "no submitted response")
    if verdict == _DISCARD:
        return ExcludedItem(record.id, DISCARDED, decision.why)
    if verdict in config.include_labels:
        return CleanItem(record, record.output, decision.why, verdict, decision.responses)
    if verdict in config.correction_labels:
        # The most recently updated non-empty correction among the responses backing the verdict.
        corrections = sorted(
            (r for r in decision.responses if _correction(r, config).strip()), key=lambda r: r.updated_at
        )
        if not corrections:
            return ExcludedItem(record.id, NO_CORRECTION, f"{decision.why}; no corrected output")
        latest = corrections[-1]
        why = f"{decision.why}; output corrected by {latest.user}"
        return CleanItem(record, _correction(latest, config), why, verdict, decision.responses)
    return ExcludedItem(record.id, LABEL_EXCLUDED, decision.why)


def _quality(item: CleanItem, config: ExportConfig) -> ExcludedItem | None:
    flags = item.record.metadata.get(F.FLAGS) or []
    bad = [f for f in flags if f in config.exclude_flags]
    # A corrected output replaces the one the flags were computed on, so output flags no longer apply.
    if item.corrected:
        bad = [f for f in bad if f not in OUTPUT_FLAGS]
    if item.label is not None:
        bad = [f for f in bad if f not in SUSPICION_FLAGS]
    if bad:
        return ExcludedItem(item.record.id, QUALITY_FLAG, ", ".join(bad))
    if not item.output.strip() or not item.record.input_text.strip():
        return ExcludedItem(item.record.id, EMPTY, "the input or the final output is empty")
    return None


def fold_accents(text: str) -> str:
    """``text`` without combining marks after compatibility decomposition: "Grüße" → "Gruße"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def fold_case_and_accents(text: str) -> str:
    """``text`` case-folded and accent-folded: "Schöne GRÜSSE" and "schone grüße" both give "schone grusse"."""
    # Case-fold on both sides: casefolding can add a mark ("İ" → "i̇"), and compatibility forms
    # can decompose to capitals ("ℌ" → "H").
    return fold_accents(text.casefold()).casefold()


def normalise_input(text: str) -> str:
    """Case- and accent-folded input with runs of whitespace and punctuation collapsed: the same
    question asked twice (conflicts here; the leakage key of training.splits).

    "…schöne Grüße" and "…schone Grusse" give the same key, so such records share a split.
    """
    return re.sub(r"[\W_]+", " ", fold_case_and_accents(text)).strip()


def _agreement(record: Record) -> float:
    value = record.metadata.get(F.OUTPUT_AGREEMENT)
    return float(value) if isinstance(value, int | float) else float("-inf")


def _resolve_conflicts(
    candidates: list[CleanItem], config: ExportConfig
) -> tuple[list[CleanItem], list[ExcludedItem]]:
    """At most one unreviewed output per input of a conflict group, none beside a reviewed member.

    Only members with the same normalised input compete: a conflict group also joins near-identical
    inputs, and on templated inputs (``name[X], food[Y]``) those can be different questions.
    """
    if not config.resolve_conflicts:
        return candidates, []
    groups: dict[str, list[CleanItem]] = defaultdict(list)
    for item in candidates:
        group = item.record.metadata.get(F.CONFLICT_GROUP)
        if group not in (None, ""):
            groups[str(group)].append(item)
    out: dict[str, ExcludedItem] = {}
    same_input = [
        (group, members) for group, items in groups.items() for members in _by_input(items).values()
    ]
    for group, members in same_input:
        reviewed = [m for m in members if m.label is not None]
        unreviewed = [m for m in members if m.label is None]
        if reviewed:
            vouched = ", ".join(m.record.id for m in reviewed)
            for m in unreviewed:
                out[m.record.id] = ExcludedItem(
                    m.record.id, CONFLICT, f"conflict group {group}: a reviewer accepted {vouched}"
                )
            continue
        if len(unreviewed) < 2:
            continue
        keeper = max(unreviewed, key=lambda m: _agreement(m.record))  # the first of equals: import order
        for m in unreviewed:
            if m is not keeper:
                detail = f"conflict group {group}: kept {keeper.record.id}"
                if _agreement(keeper.record) > _agreement(m.record):
                    theirs = _agreement(m.record)
                    detail += (
                        ", whose output agrees better with those of similar inputs "
                        f"({_agreement(keeper.record):.2f} vs {theirs:.2f})"
                        if theirs > float("-inf")
                        else ", the only one whose agreement with similar inputs is known"
                    )
                else:
                    detail += ", the first of equals in import order"
                out[m.record.id] = ExcludedItem(m.record.id, CONFLICT, detail)
    return [i for i in candidates if i.record.id not in out], list(out.values())


def _by_input(items: list[CleanItem]) -> dict[str, list[CleanItem]]:
    out: dict[str, list[CleanItem]] = defaultdict(list)
    for item in items:
        out[normalise_input(item.record.input_text)].append(item)
    return out


def _deduplicate(
    candidates: list[CleanItem], records: Sequence[Record], config: ExportConfig
) -> tuple[list[CleanItem], list[ExcludedItem]]:
    """One keeper per duplicate group, honouring human resolutions first."""
    if not config.dedup:
        return candidates, []
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        group = record.metadata.get(F.DUP_GROUP)
        if group not in (None, ""):
            groups[str(group)].append(record)
    out: dict[str, ExcludedItem] = {}
    by_id = {item.record.id: item for item in candidates}
    for group, members in groups.items():
        alive = [m for m in members if m.id in by_id]
        resolution = {m.id: m.metadata.get(F.DUP_RESOLUTION) for m in members}
        for m in alive:
            if resolution[m.id] == "drop":
                out[m.id] = ExcludedItem(m.id, DUP_DROPPED, f"group {group}: a reviewer chose to drop it")
        alive = [m for m in alive if m.id not in out]
        marked_keep = [m for m in members if resolution[m.id] == "keep"]
        if marked_keep:
            keep_ids = {m.id for m in marked_keep}
            keepers = ", ".join(sorted(keep_ids))
            for m in alive:
                if m.id not in keep_ids:
                    out[m.id] = ExcludedItem(m.id, DUPLICATE, f"group {group}: a reviewer kept {keepers}")
            continue
        if any(resolution[m.id] == "conflict" for m in members):
            for m in alive:
                out[m.id] = ExcludedItem(
                    m.id, DUP_CONFLICT, f"group {group} is marked as a conflict, none kept"
                )
            continue
        if not alive:
            continue
        auto = set(config.dedup_tiers)
        suggested = [m for m in alive if m.metadata.get(F.DUP_KEEPER) == "yes"]
        if suggested:
            # Every member is a copy of the keeper (groups are stars): drop those linked by an
            # automatic tier; paraphrases (semantic, by default) wait for a reviewer.
            keeper = suggested[0]
            for m in alive:
                if m.id != keeper.id and m.metadata.get(F.DUP_TIER, "exact") in auto:
                    out[m.id] = ExcludedItem(m.id, DUPLICATE, f"group {group}: kept {keeper.id}")
            continue
        # The keeper itself is out (flagged, rejected): members are copies of it, not proven copies
        # of each other, except exact ones (identical to it, so to each other).
        exact = [m for m in alive if m.metadata.get(F.DUP_TIER, "exact") == "exact"]
        if "exact" in auto:
            reviewed = [m for m in exact if by_id[m.id].label is not None]
            for m in exact:
                first = (reviewed or exact)[0]
                if m.id != first.id:
                    out[m.id] = ExcludedItem(m.id, DUPLICATE, f"group {group}: kept {first.id}")
    if "exact" in config.dedup_tiers:
        _exact_copies([i for i in candidates if i.record.id not in out], out)
    return [i for i in candidates if i.record.id not in out], list(out.values())


def _exact_copies(items: list[CleanItem], out: dict[str, ExcludedItem]) -> None:
    """Of records that are identical (input, system prompt and final output) and still in, one stays:
    the first reviewed, else the first. Groups are stars, so two copies of each other can both be
    paraphrases of their keeper and stay by the group rules alone."""
    seen: dict[tuple[str, str, str], list[CleanItem]] = defaultdict(list)
    for item in items:
        seen[(item.record.input_text, item.record.system_prompt or "", item.output)].append(item)
    for copies in seen.values():
        if len(copies) < 2:
            continue
        first = next((c for c in copies if c.label is not None), copies[0])
        for c in copies:
            if c is not first:
                out[c.record.id] = ExcludedItem(c.record.id, DUPLICATE, f"an exact copy of {first.record.id}")


def select_from(records: Sequence[Record], responses: Iterable[Response], config: ExportConfig) -> CleanSet:
    """Apply the clean-set rules to records and their responses (pure: no store)."""
    by_record: dict[str, list[Response]] = defaultdict(list)
    for response in responses:
        by_record[response.record_id].append(response)
    candidates: list[CleanItem] = []
    excluded: list[ExcludedItem] = []
    for record in records:
        result = _review(record, by_record.get(record.id, []), config)
        if isinstance(result, ExcludedItem):
            excluded.append(result)
            continue
        problem = _quality(result, config)
        if problem:
            excluded.append(problem)
        else:
            candidates.append(result)
    candidates, conflicts = _resolve_conflicts(candidates, config)
    included, duplicates = _deduplicate(candidates, records, config)
    position = {r.id: i for i, r in enumerate(records)}
    excluded = sorted(excluded + conflicts + duplicates, key=lambda e: position[e.record_id])
    warning = collapse_warning(
        len(included),
        [(e.record_id, e.reason, e.detail) for e in excluded],
        {r.id: r.input_text for r in records},
    )
    return CleanSet(included=included, excluded=excluded, collapse=warning)


def select_clean_set(store: RecordStore, config: ExportConfig | None = None) -> CleanSet:
    """The clean set of a store's current records and responses under ``config``."""
    records = [r for batch in store.iter_records(batch_size=5000) for r in batch]
    return select_from(records, store.get_responses(), config or ExportConfig())
