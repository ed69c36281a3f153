"""Reading one Argilla dataset's records through its search endpoint: pages, counts, scans, ids.

This is the one place that pages through Argilla (the main dataset and the companion dataset both
read through it). Every request stays within the server's limits (``limits.py``): pages of at most
1,000, id lists in terms filters of 250, ``offset + limit`` inside the result window.

A **scan** (every record matching some filters, for export, analysis and sync) never pages by
offset over a changing order: it walks the dataset by position (``ps_position``, then
``external_id``), asking each time for records at or after the last position seen, so records
labelled, added or deleted meanwhile neither shift the pages nor get skipped or repeated. Records
without a position (added outside pairsmith) follow, ordered by ``external_id``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from curation.errors import BadInputError
from curation.store.argilla.http import ArgillaHTTP
from curation.store.argilla.limits import (
    FILTERS_MAX,
    RESULT_WINDOW_MAX,
    SEARCH_PAGE_MAX,
    TERMS_VALUES_MAX,
    chunks,
)
from curation.store.argilla.mapping import position_of

Raw = dict[str, Any]
EXTERNAL_ID = {"entity": "record", "property": "external_id"}
BY_EXTERNAL_ID = [{"scope": EXTERNAL_ID, "order": "asc"}]
POSITION_MIN = -(2**53)


class RecordSearch:
    """Search one dataset's records as the signed-in user.

    ``manager`` (owner or admin) searches every user's responses through
    ``/datasets/{id}/records/search``; ``mine=True`` (and every annotator) goes through
    ``/me/datasets/{id}/records/search``, where response filters are about the signed-in user and
    only their responses come back. ``position`` names the integer metadata property scans walk
    (None for a dataset without one, such as the companion dataset).
    """

    def __init__(self, http: ArgillaHTTP, dataset_id: str, *, manager: bool, position: str | None) -> None:
        self.http = http
        self.dataset_id = dataset_id
        self.manager = manager
        self.position = position

    def endpoint(self, mine: bool) -> str:
        """The search URL: every response (owners and admins) or the signed-in user's own."""
        if mine or not self.manager:
            return f"/api/v1/me/datasets/{self.dataset_id}/records/search"
        return f"/api/v1/datasets/{self.dataset_id}/records/search"

    def _request(
        self,
        filters: Sequence[dict[str, Any]],
        sort: Sequence[dict[str, Any]],
        offset: int,
        limit: int,
        include: Sequence[str],
        mine: bool,
    ) -> tuple[list[Raw], int]:
        if (
            len(filters) > FILTERS_MAX
            or offset + limit > RESULT_WINDOW_MAX
            or not 1 <= limit <= SEARCH_PAGE_MAX
        ):
            raise BadInputError(
                f"a search of {len(filters)} filters, offset {offset} and limit {limit} is past the Argilla "
                f"server's limits ({FILTERS_MAX} filters, pages of {SEARCH_PAGE_MAX}, offset + limit ≤ "
                f"{RESULT_WINDOW_MAX})"
            )
        body: dict[str, Any] = {}
        if filters:
            body["filters"] = {"and": list(filters)}
        if sort:
            body["sort"] = list(sort)
        reply = self.http.request(
            "POST",
            self.endpoint(mine),
            params=[("offset", offset), ("limit", limit), *[("include", i) for i in include]],
            json=body,
            what="read records",
        )
        return [item["record"] for item in reply["items"]], int(reply.get("total") or 0)

    def page(
        self,
        filters: Sequence[dict[str, Any]],
        sort: Sequence[dict[str, Any]],
        *,
        offset: int = 0,
        limit: int | None = None,
        include: Sequence[str] = (),
        mine: bool = False,
    ) -> tuple[list[Raw], int]:
        """The matching records from ``offset`` (``limit`` of them, all when None) and the total."""
        out: list[Raw] = []
        total = 0
        while limit is None or len(out) < limit:
            size = SEARCH_PAGE_MAX if limit is None else min(SEARCH_PAGE_MAX, limit - len(out))
            size = min(size, RESULT_WINDOW_MAX - offset - len(out))
            if size < 1:
                break
            batch, total = self._request(filters, sort, offset + len(out), size, include, mine)
            out += batch
            if len(batch) < size:
                break
        return out, total

    def count(self, filters: Sequence[dict[str, Any]], *, mine: bool = False) -> int:
        """How many records match (Argilla's exact ``total``; one record travels, none without filters)."""
        if not filters:
            progress = self.http.request(
                "GET", f"/api/v1/datasets/{self.dataset_id}/progress", what="count records"
            )
            return int(progress.get("total") or 0)
        return self._request(filters, (), 0, 1, (), mine)[1]

    def scan(
        self,
        filters: Sequence[dict[str, Any]] = (),
        *,
        include: Sequence[str] = (),
        mine: bool = False,
        page_size: int = SEARCH_PAGE_MAX,
    ) -> Iterator[list[Raw]]:
        """Every matching record, a page at a time, in import order (see the module docstring)."""
        yielded = 0
        if self.position is not None:
            position = {"entity": "metadata", "metadata_property": self.position}
            sort = [{"scope": position, "order": "asc"}, {"scope": EXTERNAL_ID, "order": "asc"}]
            last: int = POSITION_MIN
            seen_at_last: set[str] = set()
            while True:
                at_or_after = {"type": "range", "scope": position, "ge": last}
                batch, _ = self._request(
                    [*filters, at_or_after], sort, len(seen_at_last), page_size, include, mine
                )
                fresh = [r for r in batch if r["external_id"] not in seen_at_last]
                if fresh:
                    yield fresh
                    yielded += len(fresh)
                if len(batch) < page_size:
                    break
                tail = position_of(batch[-1]) or 0
                at_tail = {r["external_id"] for r in batch if position_of(r) == tail}
                seen_at_last = seen_at_last | at_tail if tail == last else at_tail
                last = tail
            if self.count(filters, mine=mine) <= yielded:
                return
        # Records without a position (or a dataset without positions): after the others, by external_id.
        sort = (
            [{"scope": EXTERNAL_ID, "order": "asc"}]
            if self.position is None
            else [
                {"scope": {"entity": "metadata", "metadata_property": self.position}, "order": "asc"},
                {"scope": EXTERNAL_ID, "order": "asc"},
            ]
        )
        offset = yielded
        while True:
            batch, _ = self._request(filters, sort, offset, page_size, include, mine)
            if batch:
                yield batch
            if len(batch) < page_size:
                return
            offset += len(batch)

    def by_external_ids(
        self,
        ids: Sequence[str],
        *,
        include: Sequence[str] = (),
        mine: bool = False,
        filters: Sequence[dict[str, Any]] = (),
    ) -> dict[str, Raw]:
        """The records with these external ids (and matching ``filters``), 250 ids per request."""
        found: dict[str, Raw] = {}
        for chunk in chunks(list(dict.fromkeys(ids)), TERMS_VALUES_MAX):
            by_id = {"type": "terms", "scope": EXTERNAL_ID, "values": chunk}
            batch, _ = self.page(
                [*filters, by_id], BY_EXTERNAL_ID, limit=len(chunk), include=include, mine=mine
            )
            found.update((r["external_id"], r) for r in batch)
        return found
