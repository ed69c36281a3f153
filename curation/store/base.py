"""The storage interface every backend implements (local SQLite, Argilla).

Everything above the store (import, analysis, review, export) talks to this interface only, so the
UI and CLI work the same on both backends. ``tests/contract`` holds the suite every backend passes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from fractions import Fraction
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, Field

from curation.errors import PermissionDeniedError
from curation.model import (
    DatasetVersion,
    Decision,
    DecisionKind,
    GuidelinesVersion,
    Project,
    Record,
    Response,
    ResponseStatus,
    Role,
    Suggestion,
    UpsertResult,
    User,
)


class MetadataRange(BaseModel):
    """An inclusive numeric range on one metadata key; either end may be open."""

    key: str
    min: float | None = None
    max: float | None = None


class ResponseFilter(BaseModel):
    """Records with a response matching all given parts (any user unless ``user`` is set).

    ``status`` may include the pseudo-status ``"pending"``: records with no submitted or discarded
    response (by ``user`` when set, by anyone otherwise).
    """

    status: list[str] | None = None
    question: str | None = None
    value: Any = None
    user: str | None = None


class SuggestionFilter(BaseModel):
    question: str
    value: Any = None


class RecordQuery(BaseModel):
    """A filter, sort and page over records. All parts combine with AND."""

    ids: list[str] | None = None
    metadata_terms: dict[str, list[Any]] = Field(default_factory=dict)
    metadata_ranges: list[MetadataRange] = Field(default_factory=list)
    response: ResponseFilter | None = None
    suggestion: SuggestionFilter | None = None
    text_contains: str | None = None
    golden: bool | None = None
    sort_by: str = "position"
    """``position`` (import order), ``id``, or ``metadata.<key>``."""
    descending: bool = False
    offset: int = Field(default=0, ge=0)
    limit: int | None = Field(default=None, ge=1)


class RecordPage(BaseModel):
    records: list[Record]
    total: int
    """How many records match the query, ignoring offset and limit."""


class ResponseCounts(BaseModel):
    submitted: int = 0
    draft: int = 0
    discarded: int = 0


class LengthDistribution(BaseModel):
    """Min, median, 90th percentile, max and mean of a set of lengths (characters)."""

    min: int = 0
    p50: int = 0
    p90: int = 0
    max: int = 0
    mean: float = 0.0

    @classmethod
    def from_sorted(cls, value_at: Callable[[int], int], count: int, total: int) -> LengthDistribution:
        """The distribution of ``count`` values whose k-th smallest is ``value_at(k)`` and whose sum is
        ``total``; percentiles interpolate linearly between ranks (numpy's default), exactly, then
        round down, so every backend reports the same numbers."""
        if count == 0:
            return cls()

        def percentile(q: int) -> int:
            position = Fraction(q * (count - 1), 100)
            low = int(position)
            value = Fraction(value_at(low))
            if position > low:
                value += (value_at(low + 1) - value) * (position - low)
            return int(value)

        return cls(
            min=value_at(0),
            p50=percentile(50),
            p90=percentile(90),
            max=value_at(count - 1),
            mean=round(total / count, 1),
        )

    @classmethod
    def of(cls, values: Sequence[int]) -> LengthDistribution:
        ordered = sorted(values)
        return cls.from_sorted(ordered.__getitem__, len(ordered), sum(ordered))


class RecordSummary(BaseModel):
    """Counts and length distributions over every record: what `pairsmith stats` shows."""

    records: int = 0
    chat_records: int = 0
    golden: int = 0
    empty_outputs: int = 0
    """Outputs that are empty or only whitespace."""
    sources: dict[str, int] = Field(default_factory=dict)
    """Records per source file, most first ("(unknown)" for records without one)."""
    input_chars: LengthDistribution = Field(default_factory=LengthDistribution)
    output_chars: LengthDistribution = Field(default_factory=LengthDistribution)


class DecisionQuery(BaseModel):
    """A filter over the decision log, newest first; all parts combine with AND."""

    ids: list[str] | None = None
    record_id: str | None = None
    user: str | None = None
    kind: DecisionKind | None = None
    batch: str | None = None
    include_undone: bool = True
    offset: int = Field(default=0, ge=0)
    limit: int | None = Field(default=100, ge=1)


BackendName = Literal["local", "argilla"]


@runtime_checkable
class PasswordStore(Protocol):
    """A store that keeps its users' password hashes itself (the local store; Argilla users sign in
    with their own API keys). Hashing and checking live in curation.review.auth."""

    def set_password_hash(self, name: str, password_hash: str | None) -> None:
        """Set (or, with None, remove) a user's password hash; NotFoundError for an unknown user."""

    def password_hash(self, name: str) -> str | None:
        """A user's password hash, None when they have none; NotFoundError for an unknown user."""


class RecordStore(ABC):
    """One project's records, responses, vectors, users, guidelines and versions."""

    backend: BackendName

    # --- project settings -------------------------------------------------------------------
    @abstractmethod
    def get_project(self) -> Project:
        """The project's settings."""

    @abstractmethod
    def update_project(self, project: Project, *, author: str | None = None) -> Project:
        """Save settings; a change of guidelines text creates a new guidelines version.

        ``author`` (the signed-in user, recorded with the guidelines version) must pass
        :meth:`require_owner`: an annotator gets PermissionDeniedError and nothing is saved.
        """

    @abstractmethod
    def guidelines_history(self) -> list[GuidelinesVersion]:
        """Every guidelines version, oldest first."""

    # --- users --------------------------------------------------------------------------------
    @abstractmethod
    def add_user(self, user: User) -> User:
        """Add a user; ConflictError if the name is taken."""

    @abstractmethod
    def list_users(self) -> list[User]: ...

    @abstractmethod
    def get_user(self, name: str) -> User:
        """NotFoundError if there is no such user."""

    def require_owner(self, action: str, user: str | None = None) -> None:
        """PermissionDeniedError unless ``user`` may ``action`` (guidelines, export, training, shipping).

        ``user`` is the signed-in identity; None means nobody signed in (the CLI on a local project),
        which is allowed. An unknown name raises NotFoundError. Backends with their own
        authentication (Argilla) decide from their credentials instead and ignore ``user``.
        """
        if user is None:
            return
        if self.get_user(user).role != Role.owner:
            raise PermissionDeniedError(
                f"{user} is an annotator and cannot {action}; ask a project owner to do it or to make "
                f"you an owner"
            )

    # --- records ------------------------------------------------------------------------------
    @abstractmethod
    def upsert_records(self, records: Iterable[Record], *, batch_size: int = 1000) -> UpsertResult:
        """Insert new records and update changed ones by id, in batches; idempotent."""

    @abstractmethod
    def get_record(self, record_id: str) -> Record:
        """NotFoundError if there is no such record."""

    @abstractmethod
    def query_records(self, query: RecordQuery | None = None) -> RecordPage: ...

    @abstractmethod
    def iter_records(
        self, *, batch_size: int = 1000, query: RecordQuery | None = None
    ) -> Iterator[list[Record]]:
        """All matching records in import order, a batch at a time (for analysis over large sets)."""

    @abstractmethod
    def count_records(self, query: RecordQuery | None = None) -> int: ...

    def record_summary(self) -> RecordSummary:
        """Counts and length distributions over every record (read a batch at a time here;
        the local store answers from indexes, so `stats` stays fast at millions of records)."""
        input_chars: list[int] = []
        output_chars: list[int] = []
        sources: Counter[str] = Counter()
        chat = golden = empty = 0
        for batch in self.iter_records(batch_size=5000):
            for record in batch:
                input_chars.append(len(record.input_text))
                output_chars.append(len(record.output))
                sources[record.source.file or "(unknown)"] += 1
                golden += record.golden
                chat += record.is_chat
                empty += not record.output.strip()
        return RecordSummary(
            records=len(input_chars),
            chat_records=chat,
            golden=golden,
            empty_outputs=empty,
            sources=dict(sources.most_common()),
            input_chars=LengthDistribution.of(input_chars),
            output_chars=LengthDistribution.of(output_chars),
        )

    @abstractmethod
    def existing_content_hashes(self) -> dict[str, int]:
        """How many records hold each content hash (for idempotent re-import)."""

    @abstractmethod
    def update_metadata(self, updates: dict[str, dict[str, Any]]) -> None:
        """Merge keys into records' metadata (a value of None removes the key)."""

    @abstractmethod
    def set_suggestions(self, suggestions: dict[str, list[Suggestion]]) -> None:
        """Replace the suggestions of each named record."""

    @abstractmethod
    def set_golden(self, record_ids: Sequence[str], golden: bool = True) -> None: ...

    @abstractmethod
    def delete_records(self, record_ids: Sequence[str]) -> int:
        """Delete records with their responses and vectors; return how many existed."""

    # --- vectors ------------------------------------------------------------------------------
    @abstractmethod
    def set_vectors(self, name: str, record_ids: Sequence[str], vectors: np.ndarray) -> None:
        """Store one float32 vector per record under ``name``."""

    @abstractmethod
    def get_vectors(self, name: str, record_ids: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        """(ids, matrix) of the stored vectors, in import order; only records that have one."""

    @abstractmethod
    def vector_names(self) -> list[str]: ...

    def similar_records(self, name: str, record_id: str, k: int = 10) -> list[tuple[Record, float]]:
        """The k records most similar to one record by cosine on vector ``name``."""
        ids, matrix = self.get_vectors(name)
        if record_id not in ids:
            return []
        query = matrix[ids.index(record_id)]
        norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query) or 1.0)
        scores = matrix @ query / np.where(norms == 0, 1.0, norms)
        order = [i for i in np.argsort(-scores) if ids[i] != record_id][:k]
        by_id = {r.id: r for r in self.query_records(RecordQuery(ids=[ids[i] for i in order])).records}
        return [(by_id[ids[i]], float(scores[i])) for i in order if ids[i] in by_id]

    # --- responses ----------------------------------------------------------------------------
    @abstractmethod
    def save_response(self, response: Response, *, expected_version: int | None = None) -> Response:
        """Save one user's response to one record.

        ``expected_version`` is the version the caller read (0 when it saw none). When the stored
        response has moved on since, ConflictError is raised and nothing is written. None skips the
        check (last write wins), for imports and pulls. Returns the saved response with its new
        version.
        """

    @abstractmethod
    def get_responses(
        self,
        *,
        record_ids: Sequence[str] | None = None,
        user: str | None = None,
        status: ResponseStatus | None = None,
    ) -> list[Response]: ...

    @abstractmethod
    def response_counts(self, user: str | None = None) -> ResponseCounts: ...

    @abstractmethod
    def delete_response(self, record_id: str, user: str) -> bool:
        """Remove ``user``'s response to a record (undoing a first review); False when there was none."""

    # --- the decision log -----------------------------------------------------------------------
    @abstractmethod
    def log_decisions(self, decisions: Sequence[Decision]) -> None:
        """Append decisions to the project's log (curation.review.decisions writes them)."""

    @abstractmethod
    def list_decisions(self, query: DecisionQuery | None = None) -> list[Decision]:
        """Logged decisions matching ``query``, newest first."""

    @abstractmethod
    def mark_undone(self, decision_ids: Sequence[str], *, by: str | None, at: datetime) -> None:
        """Record that decisions were undone (by whom, when); NotFoundError for an unknown id."""

    # --- versions -----------------------------------------------------------------------------
    @abstractmethod
    def create_version(self, name: str) -> DatasetVersion:
        """Freeze the current records and responses under a new name; ConflictError if taken."""

    @abstractmethod
    def list_versions(self) -> list[DatasetVersion]: ...

    @abstractmethod
    def load_version(self, name: str) -> tuple[DatasetVersion, list[Record], list[Response]]:
        """The frozen records and responses of a version; NotFoundError if there is none."""

    @abstractmethod
    def put_version(self, version: DatasetVersion, records: list[Record], responses: list[Response]) -> bool:
        """Store a version made elsewhere exactly as it is (name, hash, counts, time, records, responses).

        For copying a project between stores (``pairsmith push`` and ``pull``): returns False and
        writes nothing when this store already has the version (same name and content hash), and
        raises ConflictError when the name holds a different version (versions are immutable).
        """

    # --- copying between stores ---------------------------------------------------------------
    def put_responses(self, responses: Sequence[Response]) -> int:
        """Write responses as they are, last write wins (no version check); returns how many.

        For copying a project between stores (push, pull) and restores. The default saves each one
        with ``save_response(expected_version=None)``; a backend may write them in bulk.
        """
        for response in responses:
            self.save_response(response, expected_version=None)
        return len(responses)

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections; the default has nothing to release."""
