"""The decision log on Argilla: ``decision:<id>`` and ``undo:<id>`` entries of the companion dataset.

One entry per decision (``about`` = its batch) and one per undo (``about`` = the decision's id), so
marking a decision undone never rewrites it. The log is small (one entry per human action), so
filters run here over all of it. Owners and admins write it; an annotator's own labels stay Argilla
responses only (annotators cannot write companion entries), and the log is listed to owners.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from curation.errors import NotFoundError
from curation.model import Decision
from curation.store.argilla.companion import Companion, Entry
from curation.store.argilla.users import Users
from curation.store.base import DecisionQuery


class DecisionLog:
    """The project's decision log, kept in its companion dataset."""

    def __init__(self, companion: Companion, users: Users) -> None:
        self.companion = companion
        self.users = users

    def log(self, decisions: Sequence[Decision]) -> None:
        if not self.users.manager:
            return  # an annotator's label stays an Argilla response (see the module docstring)
        self.companion.put(
            [
                Entry(
                    f"decision:{d.id}",
                    "decision",
                    d.model_dump(mode="json", exclude={"undone_at", "undone_by"}),
                    about=d.batch or "",
                )
                for d in decisions
            ]
        )

    def find(self, query: DecisionQuery) -> list[Decision]:
        """Matching decisions, newest first, each with its undo filled in (owners; annotators get none)."""
        if not self.users.manager:
            return []
        undone = {payload["id"]: payload for _, payload in self.companion.by_kind("undo")}
        found = []
        for _, payload in self.companion.by_kind("decision"):
            mark = undone.get(payload["id"])
            found.append(
                Decision.model_validate(
                    {
                        **payload,
                        "undone_at": mark["at"] if mark else None,
                        "undone_by": mark["by"] if mark else None,
                    }
                )
            )
        found.sort(key=lambda d: d.at, reverse=True)
        if query.ids is not None:
            wanted = set(query.ids)
            found = [d for d in found if d.id in wanted]
        if query.record_id is not None:
            found = [d for d in found if query.record_id in d.record_ids]
        for name in ("user", "kind", "batch"):
            value = getattr(query, name)
            if value is not None:
                found = [d for d in found if getattr(d, name) == value]
        if not query.include_undone:
            found = [d for d in found if not d.undone]
        end = None if query.limit is None else query.offset + query.limit
        return found[query.offset : end]

    def mark_undone(self, decision_ids: Sequence[str], *, by: str | None, at: datetime) -> None:
        self.users.require_manager("undo decisions")
        known = {d.id for d in self.find(DecisionQuery(ids=list(decision_ids), limit=None))}
        missing = [i for i in decision_ids if i not in known]
        if missing:
            raise NotFoundError(
                f"no decision '{missing[0]}' in the log; list them with `pairsmith decisions DIR`"
            )
        self.companion.put(
            [
                Entry(f"undo:{i}", "undo", {"id": i, "by": by, "at": at.isoformat()}, about=i)
                for i in decision_ids
            ]
        )
