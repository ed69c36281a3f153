"""Dataset versions on Argilla: frozen snapshots kept in the companion dataset.

A version is ``snap:<name>:<i>`` chunks (200 records each, with those records' responses) plus a
``version:<name>`` record holding the :class:`DatasetVersion`. The ``version:`` record is written
last and is the commit: a snapshot cut short (server down) is never listed, and writing it again
overwrites the same chunk ids, so nothing is duplicated.

These are the bodies of :class:`~curation.store.argilla.store.ArgillaStore`'s version methods, plus
:func:`put_version`, which ``pairsmith push`` uses to carry a local project's versions over as they
are (same name, hash, counts and time).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from curation.errors import ConflictError, NotFoundError
from curation.model import DatasetVersion, Record, Response

if TYPE_CHECKING:
    from curation.store.argilla.store import ArgillaStore

CHUNK = 200


def create_version(store: ArgillaStore, name: str) -> DatasetVersion:
    """Freeze the dataset's current records and responses under ``name`` (owners only)."""
    store.require_owner("create a dataset version")
    if store._side_records().get(f"version:{name}") is not None:
        raise ConflictError(f"a version named '{name}' already exists; choose another name")
    records = [r for batch in store.iter_records() for r in batch]
    responses = store.get_responses()
    digest = hashlib.sha256()
    for r in records:
        digest.update(json.dumps(r.model_dump(mode="json"), sort_keys=True).encode())
    for x in responses:
        digest.update(x.content_hash().encode())
    version = DatasetVersion(
        name=name,
        content_hash=digest.hexdigest(),
        record_count=len(records),
        response_count=len(responses),
        guidelines_version=store.get_project().guidelines_version,
    )
    _write(store, version, records, responses)
    return version


def put_version(
    store: ArgillaStore, version: DatasetVersion, records: list[Record], responses: list[Response]
) -> bool:
    """Store a version made elsewhere exactly as it is; False (nothing written) when the name exists.

    A version with the same name and content hash is the same version (a repeated push); the same
    name with another hash is a different version: ConflictError, because versions are immutable.
    """
    store.require_owner("write dataset versions")
    existing = store._side_records().get(f"version:{version.name}")
    if existing is not None:
        if DatasetVersion(**existing).content_hash != version.content_hash:
            raise ConflictError(
                f"the Argilla dataset already has a different version named '{version.name}'; versions "
                "are immutable: rename the local version or push to another dataset"
            )
        return False
    _write(store, version, records, responses)
    return True


def _write(
    store: ArgillaStore, version: DatasetVersion, records: list[Record], responses: list[Response]
) -> None:
    by_record: dict[str, list[dict[str, Any]]] = {}
    for x in responses:
        by_record.setdefault(x.record_id, []).append(x.model_dump(mode="json"))
    chunks = [
        (
            f"snap:{version.name}:{i}",
            "snap",
            {"key": version.name, "n": i},
            {
                "records": [r.model_dump(mode="json") for r in records[i : i + CHUNK]],
                "responses": [x for r in records[i : i + CHUNK] for x in by_record.get(r.id, [])],
            },
        )
        for i in range(0, max(len(records), 1), CHUNK)
    ]
    side = store._side_records()
    side.put(chunks)
    # Written last: the commit that makes the version visible.
    side.put([(f"version:{version.name}", "version", {"key": version.name}, version.model_dump(mode="json"))])


def list_versions(store: ArgillaStore) -> list[DatasetVersion]:
    versions = [DatasetVersion(**p) for _, p in store._side_records().by_kind("version")]
    return sorted(versions, key=lambda v: v.created_at)


def load_version(store: ArgillaStore, name: str) -> tuple[DatasetVersion, list[Record], list[Response]]:
    side = store._side_records()
    payload = side.get(f"version:{name}")
    if payload is None:
        raise NotFoundError(f"no version named '{name}'; `pairsmith versions list DIR` lists them")
    records: list[Record] = []
    responses: list[Response] = []
    for _, chunk in sorted(side.by_kind("snap", name), key=lambda c: int(c[0].get("n") or 0)):
        records += [Record(**r) for r in chunk["records"]]
        responses += [Response(**x) for x in chunk["responses"]]
    return DatasetVersion(**payload), records, responses
