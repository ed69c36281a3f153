"""Pure conversions between pairsmith's model and Argilla 2.x's JSON (no I/O, no SDK import).

The Argilla record is the human view: fields ``input`` or ``input_chat``, ``system`` and
``output``; metadata properties the Argilla UI and pairsmith's queries filter on; suggestions;
vectors. The exact pairsmith record rides along in the custom field ``pairsmith`` (a JSON object
the Argilla UI does not show; datasets made before it existed keep it in the metadata key
``_pairsmith``, which only owners and admins can read), so that every reader, annotators included,
gets back the same record: system prompt, metadata values no property can hold (objects, mixed
types), source, golden and content hash.

A metadata value is written to its property only when Argilla holds it exactly (:func:`fits`);
otherwise its key goes in ``ps_unfit`` so that queries on that key are checked in Python.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from curation import metadata_keys as keys
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
from curation.store.argilla.limits import (
    CHAT_MESSAGE_CHARS_MAX,
    CHAT_MESSAGES_MAX,
    CHAT_ROLE_CHARS_MAX,
    KEYWORD_BYTES_MAX,
)

PAYLOAD_KEY = "_pairsmith"
POSITION = "ps_position"
GOLDEN = "ps_golden"
HASH = "ps_hash"
SOURCE_FILE = "ps_source_file"
SOURCE_ROW = "ps_source_row"
"""Written by pairsmith before 2026-11 (now only in the payload: argilla-server validates every
metadata property of every record it writes, about 1 ms each, so pairsmith declares only the
properties queries use); still read from records that have them."""
UNFIT = "ps_unfit"
"""Per record: the metadata keys whose value its property cannot hold exactly (queries check them in Python)."""

FIELD_INPUT = "input"
FIELD_CHAT = "input_chat"
FIELD_SYSTEM = "system"
FIELD_OUTPUT = "output"
FIELD_PAYLOAD = "pairsmith"
PAYLOAD_VERSION = 2
DYNAMIC_PROPERTIES_MAX = 100
"""Metadata properties pairsmith adds for the project's own keys (the index has room for 2,000 fields)."""
INT64 = (-(2**63), 2**63 - 1)

# Declared metadata properties: name -> Argilla type. Analysis keys come from curation/metadata_keys.py.
METADATA_PROPERTIES: dict[str, str] = {
    POSITION: "integer",
    GOLDEN: "terms",
    UNFIT: "terms",
    keys.CLUSTER: "integer",
    keys.CLUSTER_NAME: "terms",
    keys.MAP_X: "float",
    keys.MAP_Y: "float",
    keys.DUP_GROUP: "terms",
    keys.DUP_TIER: "terms",
    keys.DUP_SCORE: "float",
    keys.DUP_KEEPER: "terms",
    keys.DUP_RESOLUTION: "terms",
    keys.CONFLICT_GROUP: "terms",
    keys.FLAGS: "terms",
    keys.LANGUAGE: "terms",
    keys.INPUT_CHARS: "integer",
    keys.OUTPUT_CHARS: "integer",
    keys.INPUT_TOKENS: "integer",
    keys.OUTPUT_TOKENS: "integer",
    keys.ADJUDICATED_BY: "terms",
}


VISIBLE_TO_ANNOTATORS = {
    keys.CLUSTER,
    keys.CLUSTER_NAME,
    keys.DUP_GROUP,
    keys.DUP_TIER,
    keys.DUP_RESOLUTION,
    keys.CONFLICT_GROUP,
    keys.FLAGS,
    keys.LANGUAGE,
}
"""Declared properties an annotator sees (and can filter on in Argilla's UI); the project's own keys too.

The others are pairsmith's bookkeeping: annotators still read them exactly from the payload and
pairsmith still filters on them for them, but argilla-server checks every metadata key of every
record it returns to an annotator (a database query each), so each hidden one saves time.
"""


def property_item(name: str, kind: str) -> dict[str, Any]:
    """The request body that creates one metadata property (the project's own keys are visible to all)."""
    visible = name in VISIBLE_TO_ANNOTATORS or name not in METADATA_PROPERTIES
    return {"name": name, "title": name, "settings": {"type": kind}, "visible_for_annotators": visible}


def metadata_properties() -> list[dict[str, Any]]:
    """The metadata properties a new dataset is created with."""
    return [property_item(name, kind) for name, kind in METADATA_PROPERTIES.items()]


def project_fields() -> list[dict[str, Any]]:
    """The dataset's fields: prompt or chat input (one is filled), system prompt, output, pairsmith's record."""
    return [
        {
            "name": FIELD_INPUT,
            "title": "Input",
            "required": False,
            "settings": {"type": "text", "use_markdown": False},
        },
        {"name": FIELD_CHAT, "title": "Input (chat)", "required": False, "settings": {"type": "chat"}},
        {
            "name": FIELD_SYSTEM,
            "title": "System prompt",
            "required": False,
            "settings": {"type": "text", "use_markdown": False},
        },
        {
            "name": FIELD_OUTPUT,
            "title": "Output",
            "required": True,
            "settings": {"type": "text", "use_markdown": False},
        },
        {
            "name": FIELD_PAYLOAD,
            "title": "pairsmith",
            "required": False,
            "settings": {
                "type": "custom",
                "template": "<small>pairsmith keeps the exact record here; nothing to label.</small>",
                "advanced_mode": False,
            },
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


def fits(kind: str, value: Any) -> bool:
    """Whether Argilla's property of ``kind`` holds ``value`` so that its filters equal the local store's.

    terms: a string (one keyword) or a list of strings; integer: a 64-bit int; float: a number
    (Argilla indexes floats as 32-bit, so pairsmith filters them in Python). Booleans, objects and
    mixed lists fit nothing; a keyword longer than the index's term limit is not indexed.
    """
    if value is None or isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int) and INT64[0] <= value <= INT64[1]
    if kind == "float":
        return isinstance(value, int | float) and math.isfinite(value)
    items = value if isinstance(value, list) else [value]
    return all(isinstance(v, str) and len(v.encode()) <= KEYWORD_BYTES_MAX for v in items)


def property_type(value: Any) -> str | None:
    """The property a new metadata key gets from its first value (None: no property fits it)."""
    for kind in ("integer", "float", "terms"):
        if fits(kind, value) and value != []:
            return kind
    return None


def dynamic_key(key: str) -> bool:
    """Whether a project's own metadata key may get a property (pairsmith's own names are reserved)."""
    return bool(key) and not key.startswith(("ps_", "_")) and "." not in key and len(key) <= 200


def _chat_field(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """Chat messages as Argilla's chat field accepts them (the exact ones are in the payload)."""
    shown = messages[-CHAT_MESSAGES_MAX:]
    return [
        {"role": m.role[:CHAT_ROLE_CHARS_MAX], "content": (m.content or " ")[:CHAT_MESSAGE_CHARS_MAX]}
        for m in shown
    ]


def record_to_argilla(
    record: Record, position: int, properties: dict[str, str], fields: Iterable[str]
) -> dict[str, Any]:
    """One item of a bulk upsert (the record's id is the Argilla ``external_id``).

    ``properties`` are the dataset's metadata properties (name → type) and ``fields`` its field
    names: datasets made by older pairsmith versions lack some, and Argilla refuses unknown ones.
    """
    names = set(fields)
    values: dict[str, Any] = {FIELD_OUTPUT: record.output}
    if isinstance(record.input, list):
        values[FIELD_CHAT] = _chat_field(record.input)
    else:
        values[FIELD_INPUT] = record.input
    if record.system is not None and FIELD_SYSTEM in names:
        values[FIELD_SYSTEM] = record.system
    payload = {
        "v": PAYLOAD_VERSION,
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
    }
    if FIELD_PAYLOAD in names:
        values[FIELD_PAYLOAD] = payload
    else:
        metadata[PAYLOAD_KEY] = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    unfit = []
    for key, value in record.metadata.items():
        kind = properties.get(key)
        if kind is None or key in metadata or value is None or value == []:
            continue  # no property (the payload keeps it), or nothing to index
        if fits(kind, value):
            metadata[key] = float(value) if kind == "float" else value
        else:
            unfit.append(key)
    if unfit:
        metadata[UNFIT] = sorted(unfit)
    return {"external_id": record.id, "fields": values, "metadata": metadata, "suggestions": []}


def position_of(data: dict[str, Any]) -> int | None:
    """A record's import position; None for a record added to the dataset outside pairsmith."""
    value = (data.get("metadata") or {}).get(POSITION)
    if value is None:
        value = _payload(data).get("position")
    return int(value) if value is not None else None


def _payload(data: dict[str, Any]) -> dict[str, Any]:
    field = (data.get("fields") or {}).get(FIELD_PAYLOAD)
    if isinstance(field, dict):
        return field
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
    plain = data.get("metadata") or {}
    raw_input = payload.get("input")
    if raw_input is None:
        chat = fields.get(FIELD_CHAT)
        raw_input = chat if chat else fields.get(FIELD_INPUT, "")
    record_input: str | list[ChatMessage] = (
        [ChatMessage(**m) for m in raw_input] if isinstance(raw_input, list) else str(raw_input)
    )
    metadata = payload.get("metadata")
    if metadata is None:  # a record created outside pairsmith: keep its plain metadata
        metadata = {k: v for k, v in plain.items() if not k.startswith(("ps_", "_"))}
    source = payload.get("source") or {"file": plain.get(SOURCE_FILE), "row": plain.get(SOURCE_ROW)}
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
        system=payload.get("system", fields.get(FIELD_SYSTEM)),
        metadata=metadata,
        source=RecordSource(**source),
        golden=bool(payload.get("golden", plain.get(GOLDEN) == "true")),
        suggestions=suggestions,
        content_hash=payload.get("hash") or plain.get(HASH) or "",
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
