"""The decision log in the local store: one row per decision (its JSON body) and an index of the
records it changed, so a record's history is one indexed lookup."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from curation.errors import NotFoundError
from curation.model import Decision
from curation.store.base import DecisionQuery
from curation.store.sqlite.database import in_list, list_param


def insert_decisions(conn: sqlite3.Connection, decisions: Sequence[Decision]) -> None:
    """Append decisions (inside the caller's write transaction)."""
    conn.executemany(
        "INSERT INTO decisions(id, kind, user, at, batch, body, undone_at, undone_by) VALUES (?,?,?,?,?,?,?,?)",
        [
            (
                d.id,
                str(d.kind),
                d.user,
                d.at.isoformat(),
                d.batch,
                d.model_dump_json(exclude={"undone_at", "undone_by"}),
                d.undone_at.isoformat() if d.undone_at else None,
                d.undone_by,
            )
            for d in decisions
        ],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO decision_records(decision_id, record_id) VALUES (?, ?)",
        [(d.id, rid) for d in decisions for rid in d.record_ids],
    )


def select_decisions(conn: sqlite3.Connection, query: DecisionQuery) -> list[Decision]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.ids is not None:
        if not query.ids:
            return []
        clauses.append(in_list("d.id"))
        params.append(list_param(query.ids))
    if query.record_id is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM decision_records r WHERE r.decision_id = d.id AND r.record_id = ?)"
        )
        params.append(query.record_id)
    for column, value in (("user", query.user), ("kind", query.kind), ("batch", query.batch)):
        if value is not None:
            clauses.append(f"d.{column} = ?")
            params.append(str(value))
    if not query.include_undone:
        clauses.append("d.undone_at IS NULL")
    sql = "SELECT body, undone_at, undone_by FROM decisions d"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY d.seq DESC LIMIT ? OFFSET ?"
    params += [query.limit if query.limit is not None else -1, query.offset]
    out = []
    for row in conn.execute(sql, params):
        decision = Decision.model_validate_json(row["body"])
        if row["undone_at"]:
            decision.undone_at = datetime.fromisoformat(row["undone_at"])
            decision.undone_by = row["undone_by"]
        out.append(decision)
    return out


def set_undone(conn: sqlite3.Connection, ids: Sequence[str], by: str | None, at: datetime) -> None:
    """Mark decisions undone (inside the caller's write transaction); NotFoundError names an unknown id."""
    for decision_id in ids:
        changed = conn.execute(
            "UPDATE decisions SET undone_at = ?, undone_by = ? WHERE id = ?",
            (at.isoformat(), by, decision_id),
        ).rowcount
        if not changed:
            raise NotFoundError(
                f"no decision '{decision_id}' in the log; list them with `pairsmith decisions DIR`"
            )
