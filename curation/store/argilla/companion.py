"""The companion dataset ``<dataset>__pairsmith``: what Argilla's dataset settings cannot hold.

Argilla has no place for the guidelines history, the output schema, named dataset versions or a
version counter on responses. Each of these is kept as a record of a second dataset in the same
workspace, so everyone on the server shares them:

- ``settings``: the Project fields Argilla lacks (output schema, guidelines version);
- ``guidelines:<n>``: one record per guidelines version;
- ``version:<name>`` plus ``snap:<name>:<i>`` chunks: a frozen dataset version;
- ``rv:<record>|<user>|<n>``: the response version ledger. Creating entry n+1 is the
  compare-and-set of an optimistic save: Argilla's unique (dataset, external_id) constraint lets
  exactly one writer create it, so a stale save is refused instead of overwriting.

Only owners and admins can read or write it (annotators get 403 on records), see docs/argilla.md.
"""

from __future__ import annotations

import json
from typing import Any

from curation.errors import PairsmithError
from curation.store.argilla.http import ArgillaHTTP

SIDE_SUFFIX = "__pairsmith"
PAGE = 1000

SIDE_FIELDS = [{"name": "payload", "title": "Payload (JSON)", "required": True, "settings": {"type": "text"}}]
SIDE_QUESTIONS = [
    {"name": "note", "title": "Not for labelling", "required": True, "settings": {"type": "text"}},
]
SIDE_METADATA = [
    {"name": "kind", "title": "kind", "settings": {"type": "terms"}},
    {"name": "key", "title": "key", "settings": {"type": "terms"}},
    {"name": "n", "title": "n", "settings": {"type": "integer"}},
]


class SideRecords:
    """Key → JSON payload records in the companion dataset."""

    def __init__(self, http: ArgillaHTTP, dataset_id: str) -> None:
        self.http = http
        self.dataset_id = dataset_id

    def put(self, items: list[tuple[str, str, dict[str, Any], Any]]) -> None:
        """Upsert (external_id, kind, extra metadata, payload) items."""
        for start in range(0, len(items), 200):
            body = [
                {
                    "external_id": ext,
                    "fields": {"payload": json.dumps(payload, ensure_ascii=False, default=str)},
                    "metadata": {"kind": kind, **extra},
                }
                for ext, kind, extra, payload in items[start : start + 200]
            ]
            self.http.request(
                "PUT",
                f"/api/v1/datasets/{self.dataset_id}/records/bulk",
                json={"items": body},
                what="save project data",
            )

    def create(self, external_id: str, kind: str, extra: dict[str, Any], payload: Any) -> bool:
        """Create one record only if its id is new; False when it already exists (the CAS primitive)."""
        body = {
            "items": [
                {
                    "external_id": external_id,
                    "fields": {"payload": json.dumps(payload, ensure_ascii=False, default=str)},
                    "metadata": {"kind": kind, **extra},
                }
            ]
        }
        try:
            self.http.request(
                "POST", f"/api/v1/datasets/{self.dataset_id}/records/bulk", json=body, what="save"
            )
            return True
        except PairsmithError:
            # A duplicate id is refused (409/422/500 depending on the database); check which it was.
            if self.get(external_id) is not None:
                return False
            raise

    def _search(self, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        offset = 0
        while True:
            reply = self.http.request(
                "POST",
                f"/api/v1/datasets/{self.dataset_id}/records/search",
                params={"offset": offset, "limit": PAGE},
                json={"filters": {"and": filters}} if filters else {},
                what="read project data",
            )
            batch = [i["record"] for i in reply["items"]]
            items += batch
            if len(batch) < PAGE:
                return items
            offset += PAGE

    def get(self, external_id: str) -> Any:
        found = self._search(
            [
                {
                    "type": "terms",
                    "scope": {"entity": "record", "property": "external_id"},
                    "values": [external_id],
                }
            ]
        )
        return json.loads(found[0]["fields"]["payload"]) if found else None

    def by_kind(self, kind: str, key: str | None = None) -> list[tuple[dict[str, Any], Any]]:
        """(metadata, payload) of every record of a kind (and key), in creation order."""
        filters = [
            {"type": "terms", "scope": {"entity": "metadata", "metadata_property": "kind"}, "values": [kind]}
        ]
        if key is not None:
            filters.append(
                {
                    "type": "terms",
                    "scope": {"entity": "metadata", "metadata_property": "key"},
                    "values": [key],
                }
            )
        found = self._search(filters)
        found.sort(key=lambda r: (r.get("inserted_at") or "", (r.get("metadata") or {}).get("n") or 0))
        return [(r.get("metadata") or {}, json.loads(r["fields"]["payload"])) for r in found]


# --- the decision log ----------------------------------------------------------------------------
# One record per decision (``decision:<id>``, key = its batch) and one per undo (``undo:<id>``), so
# marking a decision undone never rewrites it. Filters run in Python over the (small) log.


def put_decisions(side: SideRecords, decisions: list[dict[str, Any]]) -> None:
    """Append decisions (``Decision.model_dump(mode="json")`` without the undo fields)."""
    side.put([(f"decision:{d['id']}", "decision", {"key": d.get("batch") or ""}, d) for d in decisions])


def put_undone(side: SideRecords, decision_ids: list[str], by: str | None, at: str) -> None:
    side.put([(f"undo:{i}", "undo", {"key": i}, {"id": i, "by": by, "at": at}) for i in decision_ids])


def read_decisions(side: SideRecords) -> list[dict[str, Any]]:
    """Every decision with ``undone_at`` / ``undone_by`` filled from its undo record, newest first."""
    undone = {p["id"]: p for _, p in side.by_kind("undo")}
    out = []
    for _, payload in side.by_kind("decision"):
        mark = undone.get(payload["id"])
        out.append(
            {**payload, "undone_at": mark["at"] if mark else None, "undone_by": mark["by"] if mark else None}
        )
    out.sort(key=lambda d: str(d["at"]), reverse=True)
    return out
