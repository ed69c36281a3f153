"""The data model: projects, records, suggestions, responses, vectors, users and versions.

It mirrors Argilla 2.x (dataset settings, records with fields, suggestions, responses per user and
vectors) so that the Argilla backend maps one to one. These are plain pydantic models without I/O;
ids come from factories, never from shared defaults.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from curation.errors import BadInputError

SCHEMA_VERSION = 3
"""Version of what the stores write; bumped with a migration whenever a stored shape changes.

2: the decision log, and users' password hashes on local projects.
3: per-record lengths in indexed columns of the local store (`stats` at a million records)."""


def new_id() -> str:
    """A fresh random id (a uuid4 in hex)."""
    return uuid.uuid4().hex


def utc_now() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    """Owner = designer: edits guidelines, adjudicates, exports and trains. Annotator: labels."""

    owner = "owner"
    annotator = "annotator"


class User(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Role = Role.annotator
    id: str = Field(default_factory=new_id)


class QuestionKind(StrEnum):
    label = "label"
    rating = "rating"
    text = "text"


class Question(BaseModel):
    """One thing an annotator answers about a record (Argilla's LabelQuestion, RatingQuestion, TextQuestion)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    kind: QuestionKind
    options: list[str] = Field(default_factory=list)
    required: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _options_match_kind(self) -> Question:
        if self.kind in (QuestionKind.label, QuestionKind.rating) and not self.options:
            raise ValueError(f"question '{self.name}': a {self.kind} question needs options")
        return self

    def validate_value(self, value: Any) -> Any:
        """Check one answer against this question; return it normalised (ratings become ints)."""
        if self.kind == QuestionKind.label:
            if value not in self.options:
                raise ValueError(f"question '{self.name}': {value!r} is not one of {self.options}")
            return value
        if self.kind == QuestionKind.rating:
            try:
                as_int = int(value)
            except (TypeError, ValueError):
                raise ValueError(f"question '{self.name}': {value!r} is not a rating") from None
            if str(as_int) not in self.options:
                raise ValueError(f"question '{self.name}': rating {as_int} is not one of {self.options}")
            return as_int
        if not isinstance(value, str):
            raise ValueError(f"question '{self.name}': expected text, got {type(value).__name__}")
        return value


LABEL_QUESTION = "label"
RATING_QUESTION = "rating"
CORRECTION_QUESTION = "corrected_output"
COMMENT_QUESTION = "comment"
LABEL_GOOD, LABEL_BAD, LABEL_NEEDS_FIX = "good", "bad", "needs_fix"


def default_questions() -> list[Question]:
    """The questions every new project starts with: label, rating, corrected output, comment."""
    return [
        Question(
            name=LABEL_QUESTION,
            title="Is this output good?",
            kind=QuestionKind.label,
            options=[LABEL_GOOD, LABEL_BAD, LABEL_NEEDS_FIX],
            required=True,
        ),
        Question(
            name=RATING_QUESTION,
            title="Rate the output (1 = poor, 5 = excellent)",
            kind=QuestionKind.rating,
            options=["1", "2", "3", "4", "5"],
        ),
        Question(
            name=CORRECTION_QUESTION,
            title="Corrected output (when the label is needs_fix)",
            kind=QuestionKind.text,
        ),
        Question(name=COMMENT_QUESTION, title="Comment", kind=QuestionKind.text),
    ]


class Project(BaseModel):
    """A project's settings: what a good output is (Argilla's dataset settings)."""

    name: str = Field(min_length=1, max_length=200)
    guidelines: str = ""
    guidelines_version: int = 1
    questions: list[Question] = Field(default_factory=default_questions)
    output_schema: dict[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION

    def question(self, name: str) -> Question:
        for question in self.questions:
            if question.name == name:
                return question
        raise KeyError(name)

    def validate_answers(self, values: dict[str, Any]) -> dict[str, Any]:
        """Check answers against this project's questions; return them normalised.

        ``None`` and ``""`` mean "not answered" and are left out, on every backend alike (Argilla
        refuses an empty text answer, so storing one locally would make the backends disagree).
        An unknown question or a wrong value raises BadInputError naming the question.
        """
        clean: dict[str, Any] = {}
        for name, value in values.items():
            try:
                question = self.question(name)
            except KeyError:
                known = ", ".join(q.name for q in self.questions)
                raise BadInputError(
                    f"unknown question '{name}'; this project's questions are: {known}"
                ) from None
            if value is None or value == "":
                continue
            try:
                clean[name] = question.validate_value(value)
            except ValueError as exc:
                raise BadInputError(str(exc)) from None
        return clean


class GuidelinesVersion(BaseModel):
    version: int
    text: str
    author: str | None = None
    created_at: datetime = Field(default_factory=utc_now)


class ChatMessage(BaseModel):
    """One turn of a chat input.

    ``tool`` messages carry tool use inside the input: ``kind="call"`` is a call the assistant made
    (ShareGPT ``function_call``, OpenAI ``tool_calls``), ``kind="result"`` what the tool returned
    (ShareGPT ``observation``, OpenAI role ``tool``); ``name`` is the tool's name when the source
    gives one. Other roles carry neither, so a plain message stores and hashes as before.
    """

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    kind: Literal["call", "result"] | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _kind_goes_with_tool(self) -> ChatMessage:
        if self.role == "tool" and self.kind is None:
            raise ValueError("a tool message needs a kind: 'call' or 'result'")
        if self.role != "tool" and (self.kind is not None or self.name is not None):
            raise ValueError(f"only tool messages have a kind or name, not {self.role} messages")
        return self

    def stored(self) -> dict[str, Any]:
        """The message as stored and hashed: ``kind`` and ``name`` only where set."""
        return self.model_dump(exclude_none=True)


class RecordSource(BaseModel):
    """Where a record came from: the file name and its 1-based data row (header excluded).

    For JSON and JSONL files ``row`` is the 1-based record number.
    """

    file: str | None = None
    row: int | None = None


class Suggestion(BaseModel):
    """A machine's proposed answer to a question (from analysis or a model)."""

    question: str
    value: Any
    score: float | None = None
    agent: str | None = None


class Vector(BaseModel):
    """An embedding of a record, stored as float32."""

    name: str
    values: list[float]


def content_hash_of(input: str | list[ChatMessage], output: str, system: str | None = None) -> str:
    """sha256 of a record's content (input, system prompt, output), stable across runs."""
    if isinstance(input, list):
        input_part: Any = [m.stored() for m in input]
    else:
        input_part = input
    payload = json.dumps({"i": input_part, "s": system, "o": output}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class Record(BaseModel):
    """One input → output pair.

    ``input`` is either a prompt (a string) or chat messages; a system prompt is either the first
    chat message or ``system``. ``metadata`` holds the source columns and the analysis results
    (cluster, duplicate group, quality flags, lengths) so that the store's filters work on them.
    """

    id: str = Field(default_factory=new_id, min_length=1, max_length=200)
    input: str | list[ChatMessage]
    output: str
    system: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    source: RecordSource = Field(default_factory=RecordSource)
    golden: bool = False
    suggestions: list[Suggestion] = Field(default_factory=list)
    content_hash: str = ""

    @field_validator("input")
    @classmethod
    def _input_not_empty(cls, value: str | list[ChatMessage]) -> str | list[ChatMessage]:
        if isinstance(value, list) and not value:
            raise ValueError("chat input has no messages")
        return value

    @model_validator(mode="after")
    def _fill_hash(self) -> Record:
        if not self.content_hash:
            self.content_hash = content_hash_of(self.input, self.output, self.system)
        return self

    @property
    def is_chat(self) -> bool:
        return isinstance(self.input, list)

    @property
    def input_text(self) -> str:
        """The input as one plain text (chat turns joined), for embeddings, search and lengths."""
        if isinstance(self.input, str):
            return self.input
        return "\n".join(m.content for m in self.input if m.role != "system")

    @property
    def system_prompt(self) -> str | None:
        if isinstance(self.input, list) and self.input and self.input[0].role == "system":
            return self.input[0].content
        return self.system

    def chat_messages(self, output: str | None = None) -> list[ChatMessage]:
        """The record as chat messages ending with the assistant's output (or a replacement)."""
        messages: list[ChatMessage] = []
        if isinstance(self.input, str):
            if self.system:
                messages.append(ChatMessage(role="system", content=self.system))
            messages.append(ChatMessage(role="user", content=self.input))
        else:
            messages.extend(self.input)
        messages.append(ChatMessage(role="assistant", content=self.output if output is None else output))
        return messages


class ResponseStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    discarded = "discarded"


class Response(BaseModel):
    """One user's answers to a record's questions.

    ``version`` starts at 1 and grows with every save; a save names the version it read
    (``expected_version``) so that a stale write is refused instead of losing someone's change.
    """

    record_id: str
    user: str
    values: dict[str, Any] = Field(default_factory=dict)
    status: ResponseStatus = ResponseStatus.draft
    version: int = 0
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)

    def content_hash(self) -> str:
        payload = json.dumps(
            {"r": self.record_id, "u": self.user, "v": self.values, "s": str(self.status)},
            ensure_ascii=False,
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class DatasetVersion(BaseModel):
    """A named, immutable snapshot of records and responses.

    ``content_hash`` covers every record's content hash and every response, so an export can say
    exactly which data it came from.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=100)
    content_hash: str
    record_count: int
    response_count: int
    guidelines_version: int
    created_at: datetime = Field(default_factory=utc_now)


class UpsertResult(BaseModel):
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


# --- the decision log ------------------------------------------------------------------------------


class DecisionKind(StrEnum):
    """Decisions that change what will be exported; each is logged and can be undone."""

    label = "label"  # a person submits or discards their review of a record
    keep_one = "keep_one"  # duplicates: keep one member, drop the others
    keep_all = "keep_all"
    conflict = "conflict"  # duplicates: the group is a conflict, none is exported
    clear = "clear"  # duplicates: forget the decision on a group
    bulk_resolve = "bulk_resolve"  # one group of a bulk resolve (the action's decisions share a batch)
    adjudication = "adjudication"  # an owner sets a record's final answer
    golden = "golden"  # records marked or unmarked as golden examples


class ChangeTarget(StrEnum):
    response = "response"  # ``key`` is the user; before/after: {"values", "status"} or None
    metadata = "metadata"  # ``key`` is the metadata key; before/after: the value, None when absent
    golden = "golden"  # before/after: bool


class Change(BaseModel):
    """One value a decision changed on one record, before and after, so that it can be put back."""

    record_id: str
    target: ChangeTarget
    key: str = ""
    before: Any = None
    after: Any = None


class Decision(BaseModel):
    """An entry of the decision log: who decided what, when and why, with every value it changed.

    ``batch`` is shared by the decisions one action made (a bulk resolve logs one decision per
    group), so the whole action can be undone at once. ``user`` None is the command line on a
    local project (no identity).
    """

    id: str = Field(default_factory=new_id)
    kind: DecisionKind
    user: str | None = None
    at: datetime = Field(default_factory=utc_now)
    what: str
    why: str = ""
    changes: list[Change] = Field(default_factory=list)
    batch: str | None = None
    undone_at: datetime | None = None
    undone_by: str | None = None

    @property
    def record_ids(self) -> list[str]:
        return list(dict.fromkeys(c.record_id for c in self.changes))

    @property
    def undone(self) -> bool:
        return self.undone_at is not None
