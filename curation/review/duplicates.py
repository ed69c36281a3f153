"""A reviewer's decisions on duplicate groups, stored as ``DUP_RESOLUTION`` in record metadata.

Analysis only suggests a keeper (``DUP_KEEPER``); these functions record what a human decided, and
export honours it: ``keep`` members stay, ``drop`` members go, and a group marked ``conflict`` is
left out as a whole. Group membership is read from the store (``DUP_GROUP``), so decisions work on
whatever analysis stored last, on every backend. Only owners decide; every decision goes into the
decision log (curation.review.decisions) and can be undone, and one that drops more than ten
records asks for confirmation first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel

from curation import metadata_keys
from curation.errors import BadInputError, NotFoundError
from curation.model import Change, ChangeTarget, Decision, DecisionKind, Record, new_id
from curation.review.decisions import check_reason, confirm_drop, record_decision
from curation.store.base import RecordQuery, RecordStore

KEEP, DROP, CONFLICT = "keep", "drop", "conflict"
RESOLVE_ACTION = "resolve duplicates"
_GROUP_CHUNK = 500


class Resolution(BaseModel):
    """What one decision changed."""

    group: str
    decision: str  # keep_one | keep_all | conflict | cleared
    kept: list[str]
    dropped: list[str]
    decision_id: str | None = None
    """The decision log entry (None when the decision changed nothing)."""


class SkippedGroup(BaseModel):
    """A group a bulk resolve left alone, and why."""

    group: str
    reason: str


class BulkResolution(BaseModel):
    """What a bulk resolve did: the groups it resolved (one logged batch) and those it skipped."""

    resolved: list[Resolution]
    skipped: list[SkippedGroup]
    batch: str | None = None
    """Shared by the decisions of this bulk action: undo them together with ``undo_batch``."""

    @property
    def dropped(self) -> int:
        return sum(len(r.dropped) for r in self.resolved)


def group_members(store: RecordStore, group_id: str) -> list[Record]:
    """The records of a duplicate group in import order; NotFoundError when there are none."""
    members = store.query_records(RecordQuery(metadata_terms={metadata_keys.DUP_GROUP: [group_id]})).records
    if not members:
        raise NotFoundError(
            f"duplicate group {group_id!r} has no records; run `pairsmith analyze` and take an id from "
            "`pairsmith duplicates DIR --json`"
        )
    return members


def _decide(
    store: RecordStore,
    members: Sequence[Record],
    decisions: dict[str, str | None],
    kind: DecisionKind,
    what: str,
    *,
    user: str | None,
    why: str,
    batch: str | None = None,
    write: bool = True,
) -> tuple[list[Change], Decision | None]:
    """Write ``DUP_RESOLUTION`` for the members and log the decision with the values it replaced."""
    changes = [
        Change(
            record_id=m.id,
            target=ChangeTarget.metadata,
            key=metadata_keys.DUP_RESOLUTION,
            before=m.metadata.get(metadata_keys.DUP_RESOLUTION),
            after=decisions[m.id],
        )
        for m in members
    ]
    if write:
        store.update_metadata({m.id: {metadata_keys.DUP_RESOLUTION: decisions[m.id]} for m in members})
    logged = record_decision(store, kind, user, what, changes, why=why, batch=batch) if write else None
    return changes, logged


def _newly_dropped(members: Sequence[Record], decisions: dict[str, str | None]) -> list[str]:
    """Members this decision takes out of the export that were not out already."""
    out = (DROP, CONFLICT)
    return [
        m.id
        for m in members
        if decisions[m.id] in out and m.metadata.get(metadata_keys.DUP_RESOLUTION) not in out
    ]


def keep_one(
    store: RecordStore,
    group_id: str,
    keeper_id: str,
    *,
    user: str | None = None,
    why: str = "",
    confirm: bool = False,
) -> Resolution:
    """Keep ``keeper_id`` and drop the other members of the group.

    Owners only (``user`` None: the command line). Dropping more than ten records raises
    ConfirmationRequiredError first, unless ``confirm``.
    """
    store.require_owner(RESOLVE_ACTION, user)
    members = group_members(store, group_id)
    ids = [r.id for r in members]
    if keeper_id not in ids:
        raise BadInputError(
            f"record {keeper_id!r} is not in duplicate group {group_id!r} (members: {', '.join(ids)})"
        )
    decisions: dict[str, str | None] = {rid: KEEP if rid == keeper_id else DROP for rid in ids}
    confirm_drop(_newly_dropped(members, decisions), confirm=confirm, what=f"Keeping {keeper_id}")
    dropped = [r for r in ids if r != keeper_id]
    _, logged = _decide(
        store, members, decisions, DecisionKind.keep_one,
        f"group {group_id}: kept {keeper_id}, dropped {len(dropped)}", user=user, why=check_reason(why),
    )  # fmt: skip
    return Resolution(
        group=group_id, decision="keep_one", kept=[keeper_id], dropped=dropped, decision_id=_id(logged)
    )


def keep_all(store: RecordStore, group_id: str, *, user: str | None = None, why: str = "") -> Resolution:
    """Keep every member: the reviewer judged them distinct enough to train on."""
    store.require_owner(RESOLVE_ACTION, user)
    members = group_members(store, group_id)
    ids = [r.id for r in members]
    _, logged = _decide(
        store, members, dict.fromkeys(ids, KEEP), DecisionKind.keep_all,
        f"group {group_id}: kept all {len(ids)}", user=user, why=check_reason(why),
    )  # fmt: skip
    return Resolution(group=group_id, decision="keep_all", kept=ids, dropped=[], decision_id=_id(logged))


def mark_conflict(
    store: RecordStore, group_id: str, *, user: str | None = None, why: str = "", confirm: bool = False
) -> Resolution:
    """Mark the group as a conflict: none of its members is exported until someone decides again."""
    store.require_owner(RESOLVE_ACTION, user)
    members = group_members(store, group_id)
    ids = [r.id for r in members]
    decisions: dict[str, str | None] = dict.fromkeys(ids, CONFLICT)
    confirm_drop(
        _newly_dropped(members, decisions), confirm=confirm, what=f"Marking group {group_id} as a conflict"
    )
    _, logged = _decide(
        store, members, decisions, DecisionKind.conflict,
        f"group {group_id}: marked as a conflict ({len(ids)} records left out)", user=user, why=check_reason(why),
    )  # fmt: skip
    return Resolution(group=group_id, decision="conflict", kept=[], dropped=ids, decision_id=_id(logged))


def clear_resolution(
    store: RecordStore, group_id: str, *, user: str | None = None, why: str = ""
) -> Resolution:
    """Forget the decision on a group (back to the suggested keeper)."""
    store.require_owner(RESOLVE_ACTION, user)
    members = group_members(store, group_id)
    ids = [r.id for r in members]
    _, logged = _decide(
        store, members, dict.fromkeys(ids), DecisionKind.clear,
        f"group {group_id}: decision cleared", user=user, why=check_reason(why),
    )  # fmt: skip
    return Resolution(group=group_id, decision="cleared", kept=[], dropped=[], decision_id=_id(logged))


def bulk_resolve_exact(
    store: RecordStore,
    *,
    overwrite: bool = False,
    batch_size: int = 1000,
    user: str | None = None,
    why: str = "",
    confirm: bool = False,
) -> BulkResolution:
    """Keep the suggested keeper of every exact-tier group and drop the rest, in one pass.

    Skipped groups are listed with their reason: a group a reviewer already decided (unless
    ``overwrite``), or one whose members are not all exact copies. A group whose keeper is missing
    (e.g. deleted since analysis) keeps its first member. Every group resolved is one decision of
    one batch, so the whole action can be undone at once; dropping more than ten records in all
    raises ConfirmationRequiredError first, unless ``confirm``.
    """
    store.require_owner(RESOLVE_ACTION, user)
    reason = check_reason(why) or "bulk resolve: keep the suggested keeper of each exact group"
    seen: dict[str, None] = {}
    query = RecordQuery(metadata_terms={metadata_keys.DUP_TIER: ["exact"]})
    for batch in store.iter_records(batch_size=batch_size, query=query):
        for record in batch:
            gid = record.metadata.get(metadata_keys.DUP_GROUP)
            if gid:
                seen[str(gid)] = None
    candidates = list(seen)
    # Every member of the candidate groups in one pass (a query per chunk of groups, not per group).
    members_of: dict[str, list[Record]] = {gid: [] for gid in candidates}
    for start in range(0, len(candidates), _GROUP_CHUNK):
        chunk = candidates[start : start + _GROUP_CHUNK]
        group_query = RecordQuery(metadata_terms={metadata_keys.DUP_GROUP: chunk})
        for batch in store.iter_records(batch_size=batch_size, query=group_query):
            for record in batch:
                members_of[str(record.metadata[metadata_keys.DUP_GROUP])].append(record)
    skipped: list[SkippedGroup] = []
    plans: list[tuple[str, list[Record], str, dict[str, str | None]]] = []
    for gid in sorted(candidates):
        members = members_of[gid]
        tiers = sorted({str(m.metadata.get(metadata_keys.DUP_TIER)) for m in members} - {"exact"})
        if tiers:
            skipped.append(
                SkippedGroup(
                    group=gid,
                    reason=f"not every member is an exact copy (also {', '.join(tiers)}); decide it by hand",
                )
            )
            continue
        decided = resolutions(members)
        if decided and not overwrite:
            shown = ", ".join(f"{rid}: {value}" for rid, value in sorted(decided.items())[:3])
            skipped.append(
                SkippedGroup(
                    group=gid, reason=f"already decided by a reviewer ({shown}); clear it to bulk-resolve it"
                )
            )
            continue
        keeper = next(
            (m.id for m in members if m.metadata.get(metadata_keys.DUP_KEEPER) == "yes"), members[0].id
        )
        plans.append((gid, members, keeper, {m.id: KEEP if m.id == keeper else DROP for m in members}))
    drops = [rid for _, members, _, decisions in plans for rid in _newly_dropped(members, decisions)]
    confirm_drop(drops, confirm=confirm, what=f"Bulk-resolving {len(plans)} exact groups")
    batch_id = new_id() if plans else None
    results: list[Resolution] = []
    updates: dict[str, dict[str, Any]] = {}
    pending: list[Decision] = []
    for gid, members, keeper, decisions in plans:
        dropped = [m.id for m in members if m.id != keeper]
        changes, _ = _decide(
            store, members, decisions, DecisionKind.bulk_resolve, "", user=user, why=reason, write=False
        )
        decision = Decision(
            kind=DecisionKind.bulk_resolve, user=user, why=reason, batch=batch_id, changes=changes,
            what=f"group {gid}: kept {keeper}, dropped {len(dropped)} (bulk resolve)",
        )  # fmt: skip
        pending.append(decision)
        for m in members:
            updates[m.id] = {metadata_keys.DUP_RESOLUTION: decisions[m.id]}
        results.append(
            Resolution(
                group=gid, decision="keep_one", kept=[keeper], dropped=dropped, decision_id=decision.id
            )
        )
        if len(updates) >= batch_size:
            store.update_metadata(updates)
            store.log_decisions(pending)
            updates, pending = {}, []
    if updates:
        store.update_metadata(updates)
        store.log_decisions(pending)
    return BulkResolution(resolved=results, skipped=skipped, batch=batch_id)


def resolutions(records: Sequence[Record]) -> dict[str, str]:
    """Record id → decision, for records that have one."""
    return {
        r.id: str(r.metadata[metadata_keys.DUP_RESOLUTION])
        for r in records
        if r.metadata.get(metadata_keys.DUP_RESOLUTION)
    }


def _id(decision: Decision | None) -> str | None:
    return decision.id if decision else None


# --- the page of groups the Duplicates page shows ----------------------------------------------


class DuplicatePage(BaseModel):
    """One page of duplicate groups under the filters, with the members' records."""

    groups: list[dict[str, Any]]
    records: dict[str, Record]
    matching: int
    """Groups that match the filters (on every page)."""
    page: int
    pages: int


def decided_groups(store: RecordStore) -> set[str]:
    """Ids of the duplicate groups a reviewer has decided (any member has a resolution)."""
    query = RecordQuery(metadata_terms={metadata_keys.DUP_RESOLUTION: [KEEP, DROP, CONFLICT]})
    return {
        str(r.metadata[metadata_keys.DUP_GROUP])
        for batch in store.iter_records(batch_size=5000, query=query)
        for r in batch
        if r.metadata.get(metadata_keys.DUP_GROUP)
    }


GroupOrder = Literal["size", "risk", "analysis"]
GROUP_ORDERS: dict[str, str] = {
    "size": "largest first",
    "risk": "riskiest first",
    "analysis": "as analysis found them",
}
_TIER_RISK = {"exact": 0.0, "near": 1.0, "semantic": 2.0}


def group_risk(group: dict[str, Any], conflicting: frozenset[str] = frozenset()) -> float:
    """How much can go wrong when this group is resolved blindly, higher is riskier.

    - A member that is also in a conflict (the same input answered differently) adds 4: keeping the
      wrong one teaches the model the wrong answer.
    - The tier adds 0 (exact copies: dropping one loses nothing), 1 (near) or 2 (semantic: the
      members may not really be the same).
    - Outputs that differ add up to 2 (twice 1 minus the lowest output similarity of a pair, where
      analysis measured it): the same question answered two ways teaches the model nothing certain.
    - A weak link adds up to 1 (1 minus the group's similarity score).
    """
    risk = _TIER_RISK.get(str(group.get("tier")), 1.0)
    if any(m["id"] in conflicting for m in group.get("records", [])):
        risk += 4.0
    outputs = [float(p["output_score"]) for p in group.get("pairs", []) if p.get("output_score") is not None]
    if outputs:
        risk += 2.0 * (1.0 - max(0.0, min(outputs)))
    score = group.get("score")
    if score is not None:
        risk += max(0.0, 1.0 - float(score))
    return round(risk, 4)


def order_groups(
    groups: Sequence[dict[str, Any]], by: GroupOrder = "size", conflicts: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Groups largest first (ties: riskiest first), riskiest first (ties: largest first), or as analysis
    listed them. ``conflicts`` is the ``conflicts`` list of duplicates.json."""
    if by not in GROUP_ORDERS:
        raise BadInputError(f"unknown order '{by}'; choose one of: {', '.join(GROUP_ORDERS)}")
    if by == "analysis":
        return list(groups)
    conflicting = frozenset(m["id"] for c in conflicts for m in c.get("records", []))
    risk = {id(g): group_risk(g, conflicting) for g in groups}
    if by == "size":
        return sorted(groups, key=lambda g: (-len(g.get("records", [])), -risk[id(g)]))
    return sorted(groups, key=lambda g: (-risk[id(g)], -len(g.get("records", []))))


def duplicate_page(
    store: RecordStore,
    groups: Sequence[dict[str, Any]],
    *,
    tier: str | None = None,
    undecided_only: bool = False,
    page: int = 0,
    per_page: int = 10,
    order: GroupOrder = "analysis",
    conflicts: Sequence[dict[str, Any]] = (),
) -> DuplicatePage:
    """Page ``page`` (0-based, clamped) of the groups of ``tier`` (None: all) in ``order``
    (:func:`order_groups`), optionally only those no reviewer decided yet. Filters and order apply
    before paging, so every page holds different groups and ``pages`` counts the filtered groups.
    Only the members of the groups on the page are read."""
    if per_page < 1:
        raise BadInputError(f"per_page must be at least 1, got {per_page}")
    shown = [g for g in order_groups(groups, order, conflicts) if tier is None or g["tier"] == tier]
    if undecided_only:
        decided = decided_groups(store)
        shown = [g for g in shown if str(g["group"]) not in decided]
    pages = max(1, -(-len(shown) // per_page))
    page = max(0, min(page, pages - 1))
    on_page = shown[page * per_page : (page + 1) * per_page]
    ids = [m["id"] for g in on_page for m in g["records"]]
    records = {r.id: r for r in store.query_records(RecordQuery(ids=ids)).records} if ids else {}
    return DuplicatePage(groups=on_page, records=records, matching=len(shown), page=page, pages=pages)
