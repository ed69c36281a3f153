"""The companion dataset ``<dataset>__pairsmith``: what Argilla's dataset settings cannot hold.

Argilla has no place for the guidelines history, the output schema, named dataset versions or a
version counter on responses. Each is kept as records of a second dataset in the same workspace, so
everyone on the server shares them. A record is one **entry**: ``external_id`` is its key, the text
field ``payload`` holds JSON, and three metadata properties make entries searchable:
``kind`` (what it is), ``key`` (what it is about) and ``n`` (a number, e.g. a version).

Entries today (``kind``: external ids):

- ``settings``: ``settings`` — the Project fields Argilla lacks (output schema, guidelines version);
- ``guidelines``: ``guidelines:<n>`` — one per guidelines version;
- ``version``: ``version:<name>`` plus ``snap``: ``snap:<name>:<i>`` — a frozen dataset version;
- ``slot``: ``lock`` and ``vs:<k>`` (k < 256) — the response version slots, whose *responses* (one
  per user) are each user's save lock and version counters (``versions.py``); their payloads
  are empty;
- ``proxy-lock``: ``lock:<user>`` — an owner saving on a user's behalf (transient).

To add a kind (a decision log, final answers…): choose a ``kind`` name and an external id scheme
(``<kind>:<id>``), write entries with :meth:`Companion.put` (idempotent) or :meth:`Companion.create`
(compare-and-set: exactly one writer creates an id), read them with :meth:`Companion.by_kind`.
Owners and admins write entries; annotators read them through ``/me`` search (the properties are
visible to annotators) and write only their own responses on slot entries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from curation.errors import PairsmithError
from curation.store.argilla.http import ArgillaHTTP
from curation.store.argilla.limits import BULK_RECORDS_MAX, DELETE_RECORDS_MAX, chunks
from curation.store.argilla.records import EXTERNAL_ID, RecordSearch

SIDE_SUFFIX = "__pairsmith"

SIDE_FIELDS = [{"name": "payload", "title": "Payload (JSON)", "required": True, "settings": {"type": "text"}}]
SIDE_QUESTIONS = [
    {"name": "note", "title": "Not for labelling", "required": True, "settings": {"type": "text"}}
]
SIDE_METADATA = [
    {"name": "kind", "title": "kind", "settings": {"type": "terms"}},
    {"name": "key", "title": "key", "settings": {"type": "terms"}},
    {"name": "n", "title": "n", "settings": {"type": "integer"}},
]
NOTE_QUESTION = "note"


@dataclass
class Entry:
    """One companion record: ``key`` is its external id."""

    key: str
    kind: str
    payload: Any = None
    about: str | None = None
    """The ``key`` metadata: what the entry is about (a version name, a record id|user…)."""
    n: int | None = None
    responses: list[dict[str, Any]] = field(default_factory=list)
    """Responses to write with the entry (owners writing a user's slot)."""

    def item(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {"kind": self.kind}
        if self.about is not None:
            metadata["key"] = self.about
        if self.n is not None:
            metadata["n"] = self.n
        item: dict[str, Any] = {
            "external_id": self.key,
            "fields": {"payload": json.dumps(self.payload, ensure_ascii=False, default=str)},
            "metadata": metadata,
        }
        if self.responses:
            item["responses"] = self.responses
        return item


def payload_of(raw: dict[str, Any]) -> Any:
    return json.loads(raw["fields"]["payload"])


class Companion:
    """Entries of one companion dataset, read and written as the signed-in user."""

    def __init__(self, http: ArgillaHTTP, dataset_id: str, *, manager: bool) -> None:
        self.http = http
        self.dataset_id = dataset_id
        self.search = RecordSearch(http, dataset_id, manager=manager, position=None)

    def put(self, entries: Sequence[Entry], *, batch_size: int = BULK_RECORDS_MAX) -> None:
        """Create or replace entries (owners), ``batch_size`` a request (at most 500, the server's limit)."""
        for batch in chunks(list(entries), min(batch_size, BULK_RECORDS_MAX)):
            self.http.request(
                "PUT",
                f"/api/v1/datasets/{self.dataset_id}/records/bulk",
                json={"items": [e.item() for e in batch]},
                what="save project data",
            )

    def create(self, entry: Entry) -> bool:
        """Create one entry only if its key is new; False when it exists (the compare-and-set)."""
        try:
            self.http.request(
                "POST",
                f"/api/v1/datasets/{self.dataset_id}/records/bulk",
                json={"items": [entry.item()]},
                what="save project data",
            )
            return True
        except PairsmithError:
            # Argilla's unique (dataset, external_id) refuses the second writer (409, 422 or 500
            # depending on the database); an unreachable server raises again below.
            if self.find([entry.key]):
                return False
            raise

    def find(
        self, keys: Sequence[str], *, include: Sequence[str] = (), mine: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Raw records of these entries by key (missing keys are left out)."""
        return self.search.by_external_ids(keys, include=include, mine=mine)

    def get(self, key: str) -> Any:
        found = self.find([key]).get(key)
        return payload_of(found) if found is not None else None

    def by_kind(self, kind: str, about: str | None = None) -> list[tuple[dict[str, Any], Any]]:
        """(metadata, payload) of every entry of a kind (and about), ordered by ``n`` then key."""
        filters = [
            {"type": "terms", "scope": {"entity": "metadata", "metadata_property": "kind"}, "values": [kind]}
        ]
        if about is not None:
            filters.append(
                {
                    "type": "terms",
                    "scope": {"entity": "metadata", "metadata_property": "key"},
                    "values": [about],
                }
            )
        found = [r for batch in self.search.scan(filters) for r in batch]
        found.sort(key=lambda r: ((r.get("metadata") or {}).get("n") or 0, r["external_id"]))
        return [(r.get("metadata") or {}, payload_of(r)) for r in found]

    def delete(self, keys: Iterable[str]) -> None:
        """Delete entries by key (owners); missing keys are ignored."""
        ids = [str(r["id"]) for r in self.find(list(keys)).values()]
        for batch in chunks(ids, DELETE_RECORDS_MAX):
            self.http.request(
                "DELETE",
                f"/api/v1/datasets/{self.dataset_id}/records",
                params={"ids": ",".join(batch)},
                what="delete project data",
            )


__all__ = ["EXTERNAL_ID", "NOTE_QUESTION", "SIDE_SUFFIX", "Companion", "Entry"]
