"""A reviewer's decisions on duplicate groups, stored as ``DUP_RESOLUTION`` in record metadata.

Analysis only suggests a keeper (``DUP_KEEPER``); these functions record what a human decided, and
export honours it: ``keep`` members stay, ``drop`` members go, and a group marked ``conflict`` is
left out as a whole. Group membership is read from the store (``DUP_GROUP``), so decisions work on
whatever analysis stored last, on every backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from curation import metadata_keys
from curation.errors import BadInputError, NotFoundError
from curation.model import Record
from curation.store.base import RecordQuery, RecordStore

KEEP, DROP, CONFLICT = "keep", "drop", "conflict"


class Resolution(BaseModel):
    """What one decision changed."""

    group: str
    decision: str  # keep_one | keep_all | conflict
    kept: list[str]
    dropped: list[str]


def group_members(store: RecordStore, group_id: str) -> list[Record]:
    """The records of a duplicate group in import order; NotFoundError when there are none."""
    members = store.query_records(RecordQuery(metadata_terms={metadata_keys.DUP_GROUP: [group_id]})).records
    if not members:
        raise NotFoundError(
            f"duplicate group {group_id!r} has no records; run `pairsmith analyze` and take an id from "
            "`pairsmith duplicates DIR --json`"
        )
    return members


def _write(store: RecordStore, decisions: dict[str, str]) -> None:
    store.update_metadata({rid: {metadata_keys.DUP_RESOLUTION: value} for rid, value in decisions.items()})


def keep_one(store: RecordStore, group_id: str, keeper_id: str) -> Resolution:
    """Keep ``keeper_id`` and drop the other members of the group."""
    ids = [r.id for r in group_members(store, group_id)]
    if keeper_id not in ids:
        raise BadInputError(
            f"record {keeper_id!r} is not in duplicate group {group_id!r} (members: {', '.join(ids)})"
        )
    _write(store, {rid: KEEP if rid == keeper_id else DROP for rid in ids})
    return Resolution(
        group=group_id, decision="keep_one", kept=[keeper_id], dropped=[r for r in ids if r != keeper_id]
    )


def keep_all(store: RecordStore, group_id: str) -> Resolution:
    """Keep every member: the reviewer judged them distinct enough to train on."""
    ids = [r.id for r in group_members(store, group_id)]
    _write(store, dict.fromkeys(ids, KEEP))
    return Resolution(group=group_id, decision="keep_all", kept=ids, dropped=[])


def mark_conflict(store: RecordStore, group_id: str) -> Resolution:
    """Mark the group as a conflict: none of its members is exported until someone decides again."""
    ids = [r.id for r in group_members(store, group_id)]
    _write(store, dict.fromkeys(ids, CONFLICT))
    return Resolution(group=group_id, decision="conflict", kept=[], dropped=ids)


def clear_resolution(store: RecordStore, group_id: str) -> Resolution:
    """Forget the decision on a group (back to the suggested keeper)."""
    ids = [r.id for r in group_members(store, group_id)]
    store.update_metadata({rid: {metadata_keys.DUP_RESOLUTION: None} for rid in ids})
    return Resolution(group=group_id, decision="cleared", kept=[], dropped=[])


def bulk_resolve_exact(
    store: RecordStore, *, overwrite: bool = False, batch_size: int = 1000
) -> list[Resolution]:
    """Keep the suggested keeper of every exact-tier group and drop the rest, in one pass.

    Groups a reviewer already decided are left alone unless ``overwrite``. A group whose keeper is
    missing (e.g. deleted since analysis) keeps its first member.
    """
    groups: dict[str, list[Record]] = {}
    query = RecordQuery(metadata_terms={metadata_keys.DUP_TIER: ["exact"]})
    tiers_seen: set[str] = set()
    for batch in store.iter_records(batch_size=batch_size, query=query):
        for record in batch:
            gid = record.metadata.get(metadata_keys.DUP_GROUP)
            if gid:
                tiers_seen.add(gid)
    # A group is "exact" when every member is linked by the exact tier.
    for gid in sorted(tiers_seen):
        members = group_members(store, gid)
        if all(m.metadata.get(metadata_keys.DUP_TIER) == "exact" for m in members):
            groups[gid] = members
    results = []
    updates: dict[str, dict[str, Any]] = {}
    for gid, members in groups.items():
        if not overwrite and any(m.metadata.get(metadata_keys.DUP_RESOLUTION) for m in members):
            continue
        keeper = next(
            (m.id for m in members if m.metadata.get(metadata_keys.DUP_KEEPER) == "yes"), members[0].id
        )
        for m in members:
            updates[m.id] = {metadata_keys.DUP_RESOLUTION: KEEP if m.id == keeper else DROP}
        results.append(
            Resolution(
                group=gid,
                decision="keep_one",
                kept=[keeper],
                dropped=[m.id for m in members if m.id != keeper],
            )
        )
        if len(updates) >= batch_size:
            store.update_metadata(updates)
            updates = {}
    if updates:
        store.update_metadata(updates)
    return results


def resolutions(records: Sequence[Record]) -> dict[str, str]:
    """Record id → decision, for records that have one."""
    return {
        r.id: str(r.metadata[metadata_keys.DUP_RESOLUTION])
        for r in records
        if r.metadata.get(metadata_keys.DUP_RESOLUTION)
    }
