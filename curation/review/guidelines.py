"""What a good output is, edited by owners: the questions, the output JSON schema and the golden
examples. The Guidelines page and the CLI call these; each checks the editor is an owner."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from curation.errors import BadInputError, NotFoundError
from curation.model import Change, ChangeTarget, DecisionKind, Project, Question
from curation.review.decisions import check_reason, record_decision
from curation.store.base import RecordQuery, RecordStore


def update_questions(store: RecordStore, questions_json: str, *, author: str | None = None) -> Project:
    """Replace the project's questions with the JSON list ``questions_json``.

    Questions can be edited and added, never removed: responses already answer them. Raises
    BadInputError naming the problem (bad JSON, an invalid question, a removed one).
    """
    project = store.get_project()
    try:
        loaded = json.loads(questions_json)
        if not isinstance(loaded, list):
            raise BadInputError("the questions must be a JSON list of objects")
        questions = [Question.model_validate(q) for q in loaded]
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BadInputError(f"invalid question: {problems}") from None
    names = [q.name for q in questions]
    missing = [q.name for q in project.questions if q.name not in names]
    if missing:
        raise BadInputError(f"questions cannot be removed once answered: keep {', '.join(missing)}")
    return store.update_project(project.model_copy(update={"questions": questions}), author=author)


def parse_output_schema(text: str) -> dict[str, Any] | None:
    """A JSON Schema from text (None for blank text); BadInputError when it is not valid JSON Schema."""
    if not text.strip():
        return None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(schema, dict):
        raise BadInputError("a JSON Schema is an object ({...})")
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise BadInputError(f"not a valid JSON Schema: {exc.message}") from None
    return schema


def update_output_schema(store: RecordStore, schema_text: str, *, author: str | None = None) -> Project:
    """Set (or, with blank text, remove) the output JSON schema that analysis and evaluation check."""
    schema = parse_output_schema(schema_text)
    project = store.get_project()
    return store.update_project(project.model_copy(update={"output_schema": schema}), author=author)


def parse_ids(text: str) -> list[str]:
    """Record ids from a comma-separated list, blanks dropped, order kept."""
    return [i.strip() for i in text.split(",") if i.strip()]


def set_golden_records(
    store: RecordStore,
    record_ids: Sequence[str],
    *,
    golden: bool = True,
    user: str | None = None,
    why: str = "",
) -> int:
    """Mark (or unmark) records as golden examples; return how many.

    Every id must exist (NotFoundError lists the unknown ones, nothing is changed); only owners
    mark golden examples. The change goes into the decision log and can be undone.
    """
    store.require_owner("mark golden examples", user)
    ids = list(dict.fromkeys(record_ids))
    if not ids:
        raise BadInputError("give at least one record id")
    found = {r.id: r for r in store.query_records(RecordQuery(ids=ids)).records}
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise NotFoundError(f"No records with these ids: {', '.join(unknown)}")
    store.set_golden(ids, golden=golden)
    changes = [
        Change(record_id=i, target=ChangeTarget.golden, before=found[i].golden, after=golden) for i in ids
    ]
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    what = f"{'marked' if golden else 'unmarked'} golden: {shown}"
    record_decision(store, DecisionKind.golden, user, what, changes, why=check_reason(why))
    return len(ids)
