"""Response versions on Argilla: per-user counters and save locks, kept in the companion dataset.

Argilla keeps one response per (record, user) but no version number, and has no conditional
update; its only compare-and-set operations are *creating* something unique (a user's response
on a record, a record's ``external_id``) and deleting it. Annotators cannot create records, but
they can answer any record of their workspace, so everything here is made of responses on a fixed
set of companion entries (created with the project):

- **versions**: 256 entries ``vs:<k>``. A user's response on ``vs:<k>`` holds their counters for
  the records whose id hashes to ``k``: ``{record id: [version, updated_at]}``. The stamp is the
  Argilla response's ``updated_at`` after pairsmith wrote it; when the response has changed
  since (someone answered in Argilla's own UI), its version counts one more. A record with a
  response and no counter is at version 1. So the ledger holds one small entry per answered
  (record, user) pair: it never grows with saves, and deleting records prunes it.
- **locks**: a user saving their own answer first creates their response on the entry ``lock``
  (only one such response per user can exist); an owner saving on someone's behalf creates the
  entry ``lock:<user>``. Each then checks that the other kind of lock is not held (else it lets go
  and tries again), reads the version, compares it with the one the caller opened, writes the
  answer and the new counter, and lets go. A lock left by a crashed process is broken after it has
  been seen, unchanged, for ``STALE_AFTER`` seconds.

So of two saves from the same version, by the same person, in two tabs or processes, exactly one
is written and the other gets ConflictError, for annotators and owners alike.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from curation.errors import BackendError, BadInputError, ConflictError, NotFoundError
from curation.store.argilla.companion import NOTE_QUESTION, Companion, Entry
from curation.store.argilla.http import ArgillaHTTP
from curation.store.argilla.users import Users

log = logging.getLogger(__name__)

SHARDS = 256
LOCK_KEY = "lock"
SLOT_KIND = "slot"
STALE_AFTER = 15.0
"""Seconds a lock may be seen unchanged before it counts as left by a crashed process."""
RACES_MAX = 5
"""Refusals in a row, with no lock to show for them, before a failure to take the lock is real."""
WAIT_FOR = 30.0
"""Seconds a save waits for a lock before it gives up with ConflictError."""

Counter = tuple[int, str | None]
"""(version, the Argilla response's updated_at after pairsmith wrote it; None after a push)."""
T = TypeVar("T")


def shard_of(record_id: str) -> str:
    digest = hashlib.sha1(record_id.encode()).digest()
    return f"vs:{int.from_bytes(digest[:2], 'big') % SHARDS}"


def slot_entries() -> list[Entry]:
    """The fixed companion entries the ledger works on (written when the project is created)."""
    return [Entry(LOCK_KEY, SLOT_KIND)] + [Entry(f"vs:{k}", SLOT_KIND) for k in range(SHARDS)]


def version_of(counter: Counter | None, response: dict[str, Any] | None) -> int:
    """The version of one Argilla response given its counter (0 when there is no response)."""
    if response is None:
        return 0
    if counter is None:
        return 1
    version, stamp = counter
    return version if stamp is None or stamp == response.get("updated_at") else version + 1


def _note(value: Any) -> dict[str, Any]:
    return {NOTE_QUESTION: {"value": json.dumps(value, separators=(",", ":"))}}


def _counters(response: dict[str, Any]) -> dict[str, Counter]:
    raw = ((response.get("values") or {}).get(NOTE_QUESTION) or {}).get("value")
    try:
        data = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}
    return {rid: (int(v[0]), v[1]) for rid, v in data.items()} if isinstance(data, dict) else {}


@dataclass
class Shard:
    """One ``vs:<k>`` entry as read: its Argilla record id and each user's counters and response id."""

    record_uuid: str
    counters: dict[str, dict[str, Counter]]
    """user id → record id → counter."""
    response_ids: dict[str, str]
    """user id → the id of their response on this entry."""


class ResponseLedger:
    """Versions and save locks of one dataset's responses (see the module docstring)."""

    def __init__(self, http: ArgillaHTTP, companion: Companion, users: Users) -> None:
        self.http = http
        self.companion = companion
        self.users = users
        self._lock: str | None = None
        self._races = 0

    # --- reading --------------------------------------------------------------------------------
    def shards(self, keys: Iterable[str]) -> dict[str, Shard]:
        """The named ``vs:<k>`` entries with every counter the caller may see (annotators: their own)."""
        found = self.companion.find(sorted(set(keys)), include=["responses"], mine=not self.users.manager)
        return {key: self._shard(raw) for key, raw in found.items()}

    @staticmethod
    def _shard(raw: dict[str, Any]) -> Shard:
        responses = raw.get("responses") or []
        return Shard(
            record_uuid=str(raw["id"]),
            counters={str(x["user_id"]): _counters(x) for x in responses},
            response_ids={str(x["user_id"]): str(x["id"]) for x in responses},
        )

    def counters(self, record_ids: Sequence[str] | None) -> dict[tuple[str, str], Counter]:
        """(record id, user id) → counter, for these records (every record when None)."""
        keys = (
            {shard_of(r) for r in record_ids}
            if record_ids is not None
            else {f"vs:{k}" for k in range(SHARDS)}
        )
        wanted = set(record_ids) if record_ids is not None else None
        out: dict[tuple[str, str], Counter] = {}
        for shard in self.shards(keys).values():
            for user_id, counters in shard.counters.items():
                for rid, counter in counters.items():
                    if wanted is None or rid in wanted:
                        out[(rid, user_id)] = counter
        return out

    # --- writing one user's counter under their lock --------------------------------------------
    def locked(self, user_id: str, record_id: str, work: Callable[[Shard], T]) -> T:
        """Run ``work(shard)`` holding the save lock of ``user_id``, with the record's ``vs:<k>`` entry.

        The lock is the signed-in user's own when ``user_id`` is theirs, else an owner's proxy lock.
        One read after taking it fetches the counters and checks that the other kind of lock is not
        held (else it lets go and tries again).
        """
        own = user_id == str(self.users.me["id"])
        key = shard_of(record_id)
        other = f"{LOCK_KEY}:{user_id}" if own else LOCK_KEY
        deadline = time.monotonic() + WAIT_FOR
        seen: dict[str, float] = {}
        while True:
            held = self._acquire_own() if own else self._acquire_proxy(user_id)
            if held is not None:
                found = self.companion.find([key, other], include=["responses"], mine=own)
                if key not in found:
                    self._release(held, own, user_id)
                    raise NotFoundError(
                        "the project's companion dataset has no version ledger (made by an older pairsmith); "
                        "an owner must open the project once (e.g. `pairsmith push DIR --to-argilla`) to add it"
                    )
                if not self._other_lock_held(found.get(other), user_id, own):
                    try:
                        return work(self._shard(found[key]))
                    finally:
                        self._release(held, own, user_id)
                self._release(held, own, user_id)
            else:
                self._break_if_stale(user_id, own, seen)
            if time.monotonic() > deadline:
                raise ConflictError(
                    "another save of the same person's answers is still running (another tab or process); "
                    "reload the record and save again"
                )
            time.sleep(random.uniform(0.02, 0.15))

    def write_map(self, shard: Shard, user_id: str, counters: dict[str, Counter]) -> None:
        """Replace one user's counters on one ``vs:<k>`` entry (call it holding that user's lock)."""
        values = _note({rid: list(c) for rid, c in sorted(counters.items())})
        body = {"values": values, "status": "draft"}
        if user_id == str(self.users.me["id"]):
            response_id = shard.response_ids.get(user_id)
            if response_id is None:
                self.http.request(
                    "POST", f"/api/v1/records/{shard.record_uuid}/responses", json=body, what="save version"
                )
            else:
                self.http.request("PUT", f"/api/v1/responses/{response_id}", json=body, what="save version")
            return
        self.http.request(
            "PUT",
            f"/api/v1/datasets/{self.companion.dataset_id}/records/bulk",
            json={"items": [{"id": shard.record_uuid, "responses": [{**body, "user_id": user_id}]}]},
            what="save version",
        )

    def put_counters(self, counters: dict[tuple[str, str], Counter]) -> None:
        """Set many (record id, user id) counters at once (owners: push and restores; last write wins)."""
        wanted: dict[str, dict[str, dict[str, Counter]]] = {}  # shard → user id → record id → counter
        for (rid, uid), counter in counters.items():
            wanted.setdefault(shard_of(rid), {}).setdefault(uid, {})[rid] = counter

        def merge(key: str, uid: str, current: dict[str, Counter]) -> dict[str, Counter]:
            return {**current, **wanted[key].get(uid, {})}

        self._rewrite(wanted, merge, users={uid for (_, uid) in counters})

    def prune(self, record_ids: Sequence[str]) -> None:
        """Drop the counters of deleted records (owners), so the ledger stays as small as the data."""
        gone = set(record_ids)
        keys = {shard_of(r) for r in record_ids}
        self._rewrite(keys, lambda key, uid, current: {r: c for r, c in current.items() if r not in gone})

    def _rewrite(
        self,
        keys: Iterable[str],
        change: Callable[[str, str, dict[str, Counter]], dict[str, Counter]],
        users: set[str] | None = None,
    ) -> None:
        items = []
        for key, shard in self.shards(keys).items():
            responses = []
            for uid in (users or set()) | set(shard.counters):
                current = shard.counters.get(uid, {})
                updated = change(key, uid, current)
                if updated != current:
                    values = _note({rid: list(c) for rid, c in sorted(updated.items())})
                    responses.append({"user_id": uid, "values": values, "status": "draft"})
            if responses:
                items.append({"id": shard.record_uuid, "responses": responses})
        for start in range(0, len(items), 100):
            self.http.request(
                "PUT",
                f"/api/v1/datasets/{self.companion.dataset_id}/records/bulk",
                json={"items": items[start : start + 100]},
                what="save versions",
            )

    # --- locks ----------------------------------------------------------------------------------
    def _lock_uuid(self) -> str:
        if self._lock is None:
            found = self.companion.find([LOCK_KEY])
            if LOCK_KEY not in found:
                raise NotFoundError(
                    "the project's companion dataset has no save lock (made by an older pairsmith); an owner "
                    "must open the project once (e.g. `pairsmith push DIR --to-argilla`) to add it"
                )
            self._lock = str(found[LOCK_KEY]["id"])
        return self._lock

    def _acquire_own(self) -> str | None:
        """Create my response on ``lock``; its id, or None when one of my saves holds it (or just did)."""
        try:
            reply = self.http.create(
                f"/api/v1/records/{self._lock_uuid()}/responses",
                json={"values": _note(time.time()), "status": "draft"},
                what="take the save lock",
                exists=lambda: self._own_lock() is not None,
            )
        except (BadInputError, BackendError):
            # Two creations raced inside the server (its unique constraint answers 500) and the winner
            # let go before we looked: try again, a few times, before calling it a real failure.
            self._races += 1
            if self._races > RACES_MAX:
                raise
            return None
        self._races = 0
        return str(reply["id"]) if reply else None

    def _own_lock(self) -> str | None:
        """The id of my response on ``lock`` (my lock, held by one of my saves), if any."""
        found = self.companion.find([LOCK_KEY], include=["responses"], mine=True).get(LOCK_KEY) or {}
        me = str(self.users.me["id"])
        return next((str(x["id"]) for x in found.get("responses") or [] if str(x["user_id"]) == me), None)

    def _acquire_proxy(self, user_id: str) -> str | None:
        key = f"{LOCK_KEY}:{user_id}"
        return key if self.companion.create(Entry(key, "proxy-lock", payload=time.time())) else None

    @staticmethod
    def _other_lock_held(raw: dict[str, Any] | None, user_id: str, own: bool) -> bool:
        if own:
            return raw is not None  # an owner's proxy lock for me exists
        return any(str(x["user_id"]) == user_id for x in (raw or {}).get("responses") or [])

    def _release(self, held: str, own: bool, user_id: str) -> None:
        if own:
            self.http.delete(f"/api/v1/responses/{held}", what="release the save lock")
        else:
            self.companion.delete([held])

    def _break_if_stale(self, user_id: str, own: bool, seen: dict[str, float]) -> None:
        """Note the lock in the way; delete it once it has been held unchanged for STALE_AFTER seconds."""
        if own:
            held = self._own_lock()
        else:
            found = self.companion.find([f"{LOCK_KEY}:{user_id}"])
            held = next((str(r["id"]) for r in found.values()), None)
        if held is None:
            return
        first = seen.setdefault(held, time.monotonic())
        if time.monotonic() - first < STALE_AFTER:
            return
        log.warning("breaking a save lock held for more than %.0f s (a crashed process?)", STALE_AFTER)
        if own:
            self.http.delete(f"/api/v1/responses/{held}", what="break a stale save lock")
        else:
            self.http.delete(
                f"/api/v1/datasets/{self.companion.dataset_id}/records",
                params={"ids": held},
                what="break a stale save lock",
            )
