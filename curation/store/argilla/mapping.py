"""Pure conversions between pairsmith's model and Argilla 2.x's JSON (no I/O, no SDK import).

The Argilla record is the human view (fields ``input`` or ``input_chat`` and ``output``, declared
metadata properties the UI can filter on, suggestions, vectors); the exact pairsmith record
rides along in the metadata key ``_pairsmith`` so that a push then pull gives back the same record,
including metadata values Argilla's typed properties cannot hold (dicts, mixed types).
"""

from __future__ import annotations

import json
from typing import Any

from curation import metadata_keys as F
from curation.errors import BadInputError
from curation.model import (
    ChatMessage,
    Project,
    Question,
    QuestionKind,
    Record,
    RecordSource,
    Response,
    ResponseStatus,
    Suggestion,
)
from curation.store.base import RecordQuery

PAYLOAD_KEY = "_pairsmith"
POSITION = "ps_position"
GOLDEN = "ps_golden"
HASH = "ps_hash"
SOURCE_FILE = "ps_source_file"
SOURCE_ROW = "ps_source_row"

FIELD_INPUT = "input"
FIELD_CHAT = "input_chat"
FIELD_OUTPUT = "output"

# Declared metadata properties: name -> Argilla type. Analysis keys come from curation/fields.py.
METADATA_PROPERTIES: dict[str, str] = {
    POSITION: "integer",
    GOLDEN: "terms",
    HASH: "terms",
    SOURCE_FILE: "terms",
    SOURCE_ROW: "integer",
    F.CLUSTER: "integer",
    F.CLUSTER_NAME: "terms",
    F.MAP_X: "float",
    F.MAP_Y: "float",
    F.DUP_GROUP: "terms",
    F.DUP_TIER: "terms",
    F.DUP_SCORE: "float",
    F.DUP_KEEPER: "terms",
    F.DUP_RESOLUTION: "terms",
    F.CONFLICT_GROUP: "terms",
    F.FLAGS: "terms",
    F.LANGUAGE: "terms",
    F.INPUT_CHARS: "integer",
    F.OUTPUT_CHARS: "integer",
    F.INPUT_TOKENS: "integer",
    F.OUTPUT_TOKENS: "integer",
    F.ADJUDICATED_BY: "terms",
}


def project_fields() -> list[dict[str, Any]]:
    """The dataset's fields: prompt input, chat input (one of the two is filled), output."""
    return [
        {
            "name": FIELD_INPUT,
            "title": "Input",
            "required": False,
            "settings": {"type": "text", "use_markdown": False},
        },
        {"name": FIELD_CHAT, "title": "Input (chat)", "required": False, "settings": {"type": "chat"}},
        {
            "name": FIELD_OUTPUT,
            "title": "Output",
            "required": True,
            "settings": {"type": "text", "use_markdown": False},
        },
    ]


def question_to_argilla(question: Question) -> dict[str, Any]:
    if question.kind == QuestionKind.label:
        settings: dict[str, Any] = {
            "type": "label_selection",
            "options": [{"value": o, "text": o} for o in question.options],
        }
    elif question.kind == QuestionKind.rating:
        settings = {"type": "rating", "options": [{"value": int(o)} for o in question.options]}
    else:
        settings = {"type": "text", "use_markdown": False}
    return {
        "name": question.name,
        "title": question.title,
        "description": question.description or None,
        "required": question.required,
        "settings": settings,
    }


def question_from_argilla(data: dict[str, Any]) -> Question:
    settings = data.get("settings") or {}
    kind = settings.get("type")
    if kind in ("label_selection", "multi_label_selection"):
        return Question(
            name=data["name"],
            title=data["title"],
            kind=QuestionKind.label,
            options=[str(o["value"]) for o in settings.get("options", [])],
            required=bool(data.get("required")),
            description=data.get("description") or "",
        )
    if kind == "rating":
        return Question(
            name=data["name"],
            title=data["title"],
            kind=QuestionKind.rating,
            options=[str(o["value"]) for o in settings.get("options", [])],
            required=bool(data.get("required")),
            description=data.get("description") or "",
        )
    return Question(
        name=data["name"],
        title=data["title"],
        kind=QuestionKind.text,
        required=bool(data.get("required")),
        description=data.get("description") or "",
    )


def _fits(kind: str, value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int)
    if kind == "float":
        return isinstance(value, int | float)
    if isinstance(value, list):
        return all(isinstance(v, str) for v in value)
    return isinstance(value, str | int)


def record_to_argilla(
    record: Record, position: int, vectors: dict[str, list[float]] | None = None
) -> dict[str, Any]:
    """One item of a bulk upsert; the record's id is the Argilla ``external_id``."""
    fields: dict[str, Any] = {FIELD_OUTPUT: record.output}
    if isinstance(record.input, list):
        # Argilla's chat field shows role and content (any role name up to 20 characters); the
        # tool kind and name ride in the payload below.
        fields[FIELD_CHAT] = [{"role": m.role, "content": m.content} for m in record.input]
    else:
        fields[FIELD_INPUT] = record.input
    payload = {
        "input": record.input if isinstance(record.input, str) else [m.stored() for m in record.input],
        "system": record.system,
        "metadata": record.metadata,
        "source": record.source.model_dump(),
        "golden": record.golden,
        "hash": record.content_hash,
        "position": position,
    }
    metadata: dict[str, Any] = {
        POSITION: position,
        GOLDEN: "true" if record.golden else "false",
        HASH: record.content_hash,
        PAYLOAD_KEY: json.dumps(payload, ensure_ascii=False, sort_keys=True),
    }
    if record.source.file:
        metadata[SOURCE_FILE] = record.source.file
    if record.source.row is not None:
        metadata[SOURCE_ROW] = record.source.row
    for key, value in record.metadata.items():
        kind = METADATA_PROPERTIES.get(key)
        if kind and value != [] and _fits(kind, value):
            metadata[key] = (
                [str(v) for v in value]
                if isinstance(value, list)
                else (str(value) if kind == "terms" else value)
            )
    item: dict[str, Any] = {
        "external_id": record.id,
        "fields": fields,
        "metadata": metadata,
        "suggestions": [],
    }
    if vectors:
        item["vectors"] = vectors
    return item


def position_of(data: dict[str, Any]) -> int:
    return int(_payload(data).get("position") or (data.get("metadata") or {}).get(POSITION) or 0)


def _payload(data: dict[str, Any]) -> dict[str, Any]:
    raw = (data.get("metadata") or {}).get(PAYLOAD_KEY)
    if isinstance(raw, str):
        try:
            loaded: dict[str, Any] = json.loads(raw)
            return loaded
        except json.JSONDecodeError:
            return {}
    return raw if isinstance(raw, dict) else {}


def record_from_argilla(data: dict[str, Any], questions_by_id: dict[str, str]) -> Record:
    """A pairsmith Record from an Argilla record JSON (one written by pairsmith or by anyone else)."""
    payload = _payload(data)
    fields = data.get("fields") or {}
    raw_input = payload.get("input")
    if raw_input is None:
        chat = fields.get(FIELD_CHAT)
        raw_input = chat if chat else fields.get(FIELD_INPUT, "")
    record_input: str | list[ChatMessage] = (
        [ChatMessage(**m) for m in raw_input] if isinstance(raw_input, list) else str(raw_input)
    )
    metadata = payload.get("metadata")
    if metadata is None:  # a record created outside pairsmith: keep its plain metadata
        metadata = {k: v for k, v in (data.get("metadata") or {}).items() if not k.startswith(("ps_", "_"))}
    suggestions = [
        Suggestion(
            question=questions_by_id.get(str(s.get("question_id")), str(s.get("question_id"))),
            value=s.get("value"),
            score=s.get("score"),
            agent=s.get("agent"),
        )
        for s in data.get("suggestions") or []
    ]
    return Record(
        id=data.get("external_id") or str(data["id"]),
        input=record_input,
        output=str(fields.get(FIELD_OUTPUT) or ""),
        system=payload.get("system"),
        metadata=metadata,
        source=RecordSource(**(payload.get("source") or {})),
        golden=bool(payload.get("golden", False)),
        suggestions=suggestions,
        content_hash=payload.get("hash") or "",
    )


def suggestion_to_argilla(
    suggestion: Suggestion, project: Project, question_ids: dict[str, str]
) -> dict[str, Any]:
    if suggestion.question not in question_ids:
        raise BadInputError(f"suggestion for unknown question '{suggestion.question}'")
    value = suggestion.value
    if project.question(suggestion.question).kind == QuestionKind.rating and value is not None:
        value = int(value)
    item: dict[str, Any] = {"question_id": question_ids[suggestion.question], "value": value, "type": "model"}
    if suggestion.score is not None:
        item["score"] = suggestion.score
    if suggestion.agent:
        item["agent"] = suggestion.agent
    return item


def response_values_to_argilla(values: dict[str, Any]) -> dict[str, Any]:
    return {name: {"value": value} for name, value in values.items() if value is not None}


def response_from_argilla(data: dict[str, Any], record_id: str, user: str, version: int) -> Response:
    return Response(
        record_id=record_id,
        user=user,
        values={k: v.get("value") for k, v in (data.get("values") or {}).items()},
        status=ResponseStatus(data.get("status", "submitted")),
        version=version,
        created_at=data.get("inserted_at"),
        updated_at=data.get("updated_at"),
    )


def server_filters(query: RecordQuery) -> list[dict[str, Any]]:
    """The parts of a query Argilla can answer exactly (ids, declared metadata terms, golden).

    The store still checks every part on the records it gets back, so these only narrow the transfer.
    """
    filters: list[dict[str, Any]] = []
    if query.ids is not None and query.ids:
        filters.append(
            {"type": "terms", "scope": {"entity": "record", "property": "external_id"}, "values": query.ids}
        )
    for key, values in query.metadata_terms.items():
        kind = METADATA_PROPERTIES.get(key)
        if kind == "terms" and values and all(isinstance(v, str) for v in values):
            filters.append(
                {"type": "terms", "scope": {"entity": "metadata", "metadata_property": key}, "values": values}
            )
    if query.golden is not None:
        filters.append(
            {
                "type": "terms",
                "scope": {"entity": "metadata", "metadata_property": GOLDEN},
                "values": ["true" if query.golden else "false"],
            }
        )
    return filters
