"""One Argilla dataset's settings as pairsmith uses them: fields, questions, metadata properties, vectors.

Fields and questions cannot change once a dataset is published, so they are read once. Metadata
properties and vector settings can be added at any time (by any process), so they are re-read
whenever a write or a query needs to be sure.
"""

from __future__ import annotations

import time
from typing import Any

from curation.errors import BadInputError, PairsmithError
from curation.store.argilla.http import ArgillaHTTP
from curation.store.argilla.mapping import FIELD_PAYLOAD, METADATA_PROPERTIES, property_item


class DatasetSchema:
    """The settings of one dataset, read as the signed-in user (annotators may read them all)."""

    def __init__(self, http: ArgillaHTTP, dataset_id: str) -> None:
        self.http = http
        self.dataset_id = dataset_id
        self._fields: list[str] | None = None
        self._questions: list[dict[str, Any]] | None = None
        self._properties: dict[str, str] | None = None
        self._read_at = 0.0

    def _get(self, part: str) -> list[dict[str, Any]]:
        # Metadata properties are listed per user (annotators see those visible to them).
        prefix = "/api/v1/me/datasets" if part == "metadata-properties" else "/api/v1/datasets"
        items: list[dict[str, Any]] = self.http.request(
            "GET", f"{prefix}/{self.dataset_id}/{part}", what=f"read the dataset's {part}"
        )["items"]
        return items

    # --- fields and questions (fixed once published) --------------------------------------------
    def fields(self) -> list[str]:
        if self._fields is None:
            self._fields = [f["name"] for f in self._get("fields")]
        return self._fields

    def questions(self) -> list[dict[str, Any]]:
        if self._questions is None:
            self._questions = self._get("questions")
        return self._questions

    def question_ids(self) -> dict[str, str]:
        """Question name → Argilla id."""
        return {q["name"]: str(q["id"]) for q in self.questions()}

    def question_names(self) -> dict[str, str]:
        """Argilla question id → name."""
        return {str(q["id"]): q["name"] for q in self.questions()}

    def question_types(self) -> dict[str, str]:
        return {q["name"]: (q.get("settings") or {}).get("type", "") for q in self.questions()}

    # --- metadata properties (may grow) ---------------------------------------------------------
    def properties(self, *, fresh: bool = False, max_age: float | None = None) -> dict[str, str]:
        """Metadata property name → type (terms, integer, float).

        ``fresh`` reads them again (writers must: a value written without its property is not
        indexed); ``max_age`` reads again when the copy is older (readers: a property they do not
        know yet only makes a query slower, never wrong, since pairsmith never deletes one).
        """
        stale = max_age is not None and time.monotonic() - self._read_at > max_age
        if self._properties is None or fresh or stale:
            listed = {p["name"]: p["settings"]["type"] for p in self._get("metadata-properties")}
            if FIELD_PAYLOAD in self.fields():
                # Argilla lists annotators only the properties visible to them; a dataset made by this
                # pairsmith (it has the payload field) has every declared one, hidden or not.
                listed = {**METADATA_PROPERTIES, **listed}
            self._properties = listed
            self._read_at = time.monotonic()
        return self._properties

    def add_properties(self, wanted: dict[str, str]) -> list[str]:
        """Create the properties that do not exist yet (owners); returns the names created here."""
        created = []
        for name, kind in wanted.items():
            if name in self.properties():
                continue
            try:
                self.http.request(
                    "POST",
                    f"/api/v1/datasets/{self.dataset_id}/metadata-properties",
                    json=property_item(name, kind),
                    what=f"create metadata property '{name}'",
                )
                created.append(name)
            except PairsmithError:
                # Another process may have created it meanwhile; anything else raises again here.
                if name not in self.properties(fresh=True):
                    raise
        self.properties(fresh=True)
        return created

    # --- vector settings ------------------------------------------------------------------------
    def vector_settings(self) -> dict[str, int]:
        """Vector name → dimensions (always read fresh: another process may have added one)."""
        return {v["name"]: int(v["dimensions"]) for v in self._get("vectors-settings")}

    def ensure_vector(self, name: str, dimensions: int) -> None:
        """Create the vector setting ``name`` with ``dimensions``, or check the existing one matches."""
        existing = self.vector_settings().get(name)
        if existing is None:
            self.http.request(
                "POST",
                f"/api/v1/datasets/{self.dataset_id}/vectors-settings",
                json={"name": name, "title": name, "dimensions": dimensions},
                what="create vector settings",
            )
        elif existing != dimensions:
            raise BadInputError(f"vectors '{name}' have dimension {existing} on the server, got {dimensions}")
