"""The decision log: every decision that changes what will be exported is kept with who, when, what
and why, and the values it changed, so it can be undone: one decision, or a whole bulk action.

Logged decisions (:class:`~curation.model.DecisionKind`): a label (a submitted or discarded review),
keep one / keep all / conflict / clear on a duplicate group, every group of a bulk resolve (one
batch), an adjudication and a golden mark. The store keeps the log (``log_decisions``,
``list_decisions``, ``mark_undone``); this module decides what goes in and how undo puts values back.

Undo is safe: it first checks that every value still holds what the decision wrote. If someone
changed a record since, nothing is undone and ConflictError names the record (undo the later
decision first). An owner may undo any decision; an annotator only their own labels.

Decisions that would drop more than :data:`CONFIRM_ABOVE` records raise
ConfirmationRequiredError with the count and examples before changing anything; the caller asks
the person and calls again with ``confirm=True``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from curation.errors import (
    BadInputError,
    ConfirmationRequiredError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from curation.model import Change, ChangeTarget, Decision, DecisionKind, Response, ResponseStatus, utc_now
from curation.store.base import DecisionQuery, RecordQuery, RecordStore

CONFIRM_ABOVE = 10
"""A decision that drops more records than this asks for confirmation first."""
EXAMPLES = 5
_CHUNK = 500


# --- recording ----------------------------------------------------------------------------------


def response_state(response: Response | None) -> dict[str, Any] | None:
    """What a Change keeps of a response: its answers and status (None: no response)."""
    if response is None:
        return None
    return {"values": dict(response.values), "status": str(response.status)}


def record_decision(
    store: RecordStore,
    kind: DecisionKind,
    user: str | None,
    what: str,
    changes: Sequence[Change],
    *,
    why: str = "",
    batch: str | None = None,
) -> Decision | None:
    """Log one decision with the values it changed; None (nothing logged) when it changed nothing."""
    real = [c for c in changes if not _same(c.before, c.after)]
    if not real:
        return None
    decision = Decision(kind=kind, user=user, what=what, why=why, changes=real, batch=batch)
    store.log_decisions([decision])
    return decision


def confirm_drop(drop_ids: Sequence[str], *, confirm: bool, what: str) -> None:
    """ConfirmationRequiredError when ``what`` would drop more than :data:`CONFIRM_ABOVE` records."""
    if len(drop_ids) > CONFIRM_ABOVE and not confirm:
        examples = list(drop_ids[:EXAMPLES])
        raise ConfirmationRequiredError(
            f"{what} drops {len(drop_ids)} records from the export (e.g. {', '.join(examples)}); "
            "confirm to go ahead",
            count=len(drop_ids),
            examples=examples,
        )


# --- reading ------------------------------------------------------------------------------------


def decision_log(
    store: RecordStore, user: str | None = None, query: DecisionQuery | None = None
) -> list[Decision]:
    """The log, newest first. An annotator (``user`` who is not an owner) sees only their own decisions."""
    query = query or DecisionQuery()
    if user is not None and not _is_owner(store, user):
        query = query.model_copy(update={"user": user})
    return store.list_decisions(query)


def get_decision(store: RecordStore, decision_id: str) -> Decision:
    found = store.list_decisions(DecisionQuery(ids=[decision_id], limit=1))
    if not found:
        raise NotFoundError(
            f"no decision '{decision_id}' in the log; list them with `pairsmith decisions DIR`"
        )
    return found[0]


# --- undo ---------------------------------------------------------------------------------------


def undo_decision(store: RecordStore, decision_id: str, *, user: str | None = None) -> list[Decision]:
    """Undo one decision; returns it (marked undone). See the module docstring for the checks."""
    return _undo(store, [get_decision(store, decision_id)], user)


def undo_batch(store: RecordStore, batch: str, *, user: str | None = None) -> list[Decision]:
    """Undo every decision of one bulk action (those still in force), newest first."""
    decisions = store.list_decisions(DecisionQuery(batch=batch, include_undone=False, limit=None))
    if not decisions:
        raise NotFoundError(f"no decision of batch '{batch}' is left to undo")
    return _undo(store, decisions, user)


def _undo(store: RecordStore, decisions: list[Decision], user: str | None) -> list[Decision]:
    done = [d for d in decisions if d.undone]
    if done:
        d = done[0]
        raise ConflictError(
            f"decision {d.id} ({d.what}) was already undone by {d.undone_by or 'the command line'}"
        )
    if user is not None and not (all(d.kind == DecisionKind.label and d.user == user for d in decisions)):
        store.require_owner("undo other people's decisions", user)
    # Oldest first: the value to put back is the first decision's "before"; the value that must still
    # be there is the last decision's "after".
    ordered = sorted(decisions, key=lambda d: d.at)
    expected: dict[tuple[str, str, str], Any] = {}
    restore: dict[tuple[str, str, str], Any] = {}
    for decision in ordered:
        for change in decision.changes:
            slot = (change.record_id, str(change.target), change.key)
            restore.setdefault(slot, change.before)
            expected[slot] = change.after
    current = _current_values(store, expected)
    for slot, value in expected.items():
        if not _same(current.get(slot), value):
            record_id, target, key = slot
            what = f"{target} {key}".strip()
            raise ConflictError(
                f"record {record_id} changed since this decision ({what} is now {_show(current.get(slot))}, "
                f"the decision set {_show(value)}); undo the later decision first, or decide again"
            )
    _put_back(store, restore)
    at = utc_now()
    store.mark_undone([d.id for d in decisions], by=user, at=at)
    return [d.model_copy(update={"undone_at": at, "undone_by": user}) for d in decisions]


def _current_values(
    store: RecordStore, slots: Mapping[tuple[str, str, str], Any]
) -> dict[tuple[str, str, str], Any]:
    ids = list(dict.fromkeys(rid for rid, _, _ in slots))
    records = {}
    responses: dict[tuple[str, str], Response] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        records.update({r.id: r for r in store.query_records(RecordQuery(ids=chunk)).records})
        if any(target == ChangeTarget.response for _, target, _ in slots):
            responses.update({(r.record_id, r.user): r for r in store.get_responses(record_ids=chunk)})
    out: dict[tuple[str, str, str], Any] = {}
    for slot in slots:
        record_id, target, key = slot
        record = records.get(record_id)
        if record is None:
            raise NotFoundError(f"record {record_id} no longer exists; this decision cannot be undone")
        if target == ChangeTarget.metadata:
            out[slot] = record.metadata.get(key)
        elif target == ChangeTarget.golden:
            out[slot] = record.golden
        else:
            out[slot] = response_state(responses.get((record_id, key)))
    return out


def _put_back(store: RecordStore, restore: Mapping[tuple[str, str, str], Any]) -> None:
    metadata: dict[str, dict[str, Any]] = {}
    golden: dict[bool, list[str]] = {True: [], False: []}
    for (record_id, target, key), value in restore.items():
        if target == ChangeTarget.metadata:
            metadata.setdefault(record_id, {})[key] = value
        elif target == ChangeTarget.golden:
            golden[bool(value)].append(record_id)
        elif value is None:
            store.delete_response(record_id, key)
        else:
            store.save_response(
                Response(
                    record_id=record_id,
                    user=key,
                    values=value["values"],
                    status=ResponseStatus(value["status"]),
                )
            )
    ids = list(metadata)
    for start in range(0, len(ids), _CHUNK):
        store.update_metadata({rid: metadata[rid] for rid in ids[start : start + _CHUNK]})
    for value, record_ids in golden.items():
        if record_ids:
            store.set_golden(record_ids, golden=value)


# --- helpers ------------------------------------------------------------------------------------


def _is_owner(store: RecordStore, user: str) -> bool:
    try:
        store.require_owner("read the decision log", user)
    except PermissionDeniedError:
        return False
    return True


def _same(a: Any, b: Any) -> bool:
    return _canonical(a) == _canonical(b)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    text = value if isinstance(value, str) else _canonical(value)
    return text if len(text) <= 60 else text[:59] + "…"


def check_reason(why: str | None) -> str:
    """A decision's reason, trimmed; BadInputError when it is too long to be a reason (> 2,000 chars)."""
    text = (why or "").strip()
    if len(text) > 2000:
        raise BadInputError(f"a reason is at most 2,000 characters, got {len(text)}")
    return text
