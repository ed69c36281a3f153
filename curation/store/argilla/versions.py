"""Dataset versions on Argilla: frozen snapshots kept in the companion dataset.

A version is ``snap:<name>:<i>`` entries (200 records each, with those records' responses) plus a
``version:<name>`` entry holding the :class:`DatasetVersion`. The ``version:`` entry is written
last and is the commit: a snapshot cut short (server down) is never listed, and writing it again
overwrites the same entry keys, so nothing is duplicated. :meth:`DatasetVersions.put` stores a
version made elsewhere exactly as it is (``pairsmith push`` copies local versions with it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from curation.errors import ConflictError, NotFoundError
from curation.model import DatasetVersion, Record, Response
from curation.store.argilla.companion import Companion, Entry

CHUNK = 200
SNAPSHOTS_PER_REQUEST = 5
"""Snapshot entries per bulk request: each holds 200 records, so a request stays a few MB."""


def content_hash(records: Iterable[Record], responses: Iterable[Response]) -> str:
    digest = hashlib.sha256()
    for r in records:
        digest.update(json.dumps(r.model_dump(mode="json"), sort_keys=True).encode())
    for x in responses:
        digest.update(x.content_hash().encode())
    return digest.hexdigest()


class DatasetVersions:
    """Named, immutable snapshots of one project (owners write them; anyone in the workspace reads)."""

    def __init__(self, companion: Companion, require_manager: Callable[[str], None]) -> None:
        self.companion = companion
        self.require_manager = require_manager

    def create(
        self, name: str, records: list[Record], responses: list[Response], guidelines_version: int
    ) -> DatasetVersion:
        """Freeze these records and responses under ``name``; ConflictError if the name is taken."""
        self.require_manager("create a dataset version")
        if self.companion.get(f"version:{name}") is not None:
            raise ConflictError(f"a version named '{name}' already exists; choose another name")
        version = DatasetVersion(
            name=name,
            content_hash=content_hash(records, responses),
            record_count=len(records),
            response_count=len(responses),
            guidelines_version=guidelines_version,
        )
        self._write(version, records, responses)
        return version

    def put(self, version: DatasetVersion, records: list[Record], responses: list[Response]) -> bool:
        """Store a version made elsewhere as it is; False (nothing written) when it is already here.

        The same name and content hash is the same version (a repeated push); the same name with
        another hash is a different version: ConflictError, because versions are immutable.
        """
        self.require_manager("write dataset versions")
        existing = self.companion.get(f"version:{version.name}")
        if existing is not None:
            if DatasetVersion(**existing).content_hash != version.content_hash:
                raise ConflictError(
                    f"the Argilla dataset already has a different version named '{version.name}'; versions "
                    "are immutable: rename the local version or push to another dataset"
                )
            return False
        self._write(version, records, responses)
        return True

    def _write(self, version: DatasetVersion, records: list[Record], responses: list[Response]) -> None:
        by_record: dict[str, list[dict[str, Any]]] = {}
        for x in responses:
            by_record.setdefault(x.record_id, []).append(x.model_dump(mode="json"))
        chunks = [
            Entry(
                f"snap:{version.name}:{i}",
                "snap",
                {
                    "records": [r.model_dump(mode="json") for r in records[i : i + CHUNK]],
                    "responses": [x for r in records[i : i + CHUNK] for x in by_record.get(r.id, [])],
                },
                about=version.name,
                n=i,
            )
            for i in range(0, max(len(records), 1), CHUNK)
        ]
        self.companion.put(chunks, batch_size=SNAPSHOTS_PER_REQUEST)
        # Written last: the commit that makes the version visible.
        self.companion.put(
            [Entry(f"version:{version.name}", "version", version.model_dump(mode="json"), about=version.name)]
        )

    def all(self) -> list[DatasetVersion]:
        versions = [DatasetVersion(**p) for _, p in self.companion.by_kind("version")]
        return sorted(versions, key=lambda v: v.created_at)

    def load(self, name: str) -> tuple[DatasetVersion, list[Record], list[Response]]:
        payload = self.companion.get(f"version:{name}")
        if payload is None:
            raise NotFoundError(f"no version named '{name}'; `pairsmith versions list DIR` lists them")
        records: list[Record] = []
        responses: list[Response] = []
        for _, chunk in self.companion.by_kind("snap", name):
            records += [Record(**r) for r in chunk["records"]]
            responses += [Response(**x) for x in chunk["responses"]]
        return DatasetVersion(**payload), records, responses
