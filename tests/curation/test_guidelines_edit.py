"""Editing questions, the output schema and golden examples: the rules the Guidelines page relies on."""

from __future__ import annotations

import json

import pytest

from curation.errors import BadInputError, NotFoundError, PermissionDeniedError
from curation.model import Role, User
from curation.review.guidelines import parse_ids, set_golden_records, update_output_schema, update_questions
from tests.factories import make_record


@pytest.fixture
def store(make_local_project):
    _, store = make_local_project()
    store.add_user(User(name="olivia", role=Role.owner))
    store.add_user(User(name="ann", role=Role.annotator))
    store.upsert_records([make_record(id="r1"), make_record(id="r2")])
    return store


def test_questions_can_be_edited_and_added_but_not_removed(store):
    questions = [q.model_dump(mode="json") for q in store.get_project().questions]
    questions[0]["title"] = "Good?"
    questions.append({"name": "tone", "title": "Tone", "kind": "label", "options": ["ok", "rude"]})
    saved = update_questions(store, json.dumps(questions), author="olivia")
    assert saved.question("label").title == "Good?" and saved.question("tone").options == ["ok", "rude"]
    with pytest.raises(BadInputError, match="cannot be removed once answered: keep rating"):
        update_questions(store, json.dumps([q for q in questions if q["name"] != "rating"]), author="olivia")
    with pytest.raises(BadInputError, match="not valid JSON"):
        update_questions(store, "[{", author="olivia")
    with pytest.raises(BadInputError, match="needs options"):
        update_questions(store, json.dumps([*questions, {"name": "x", "title": "X", "kind": "label"}]))
    with pytest.raises(PermissionDeniedError):
        update_questions(store, json.dumps(questions), author="ann")


def test_an_output_schema_must_be_valid_json_schema_and_blank_removes_it(store):
    assert update_output_schema(store, '{"type": "object"}').output_schema == {"type": "object"}
    with pytest.raises(BadInputError, match="not a valid JSON Schema"):
        update_output_schema(store, '{"type": "nonsense"}')
    with pytest.raises(BadInputError, match="not valid JSON"):
        update_output_schema(store, "{")
    assert update_output_schema(store, "  ").output_schema is None


def test_golden_marks_need_existing_ids_and_an_owner(store):
    assert parse_ids(" r1, ,r2 ") == ["r1", "r2"]
    with pytest.raises(NotFoundError, match="nope"):
        set_golden_records(store, ["r1", "nope"], user="olivia")
    assert not store.get_record("r1").golden  # nothing changed
    with pytest.raises(PermissionDeniedError):
        set_golden_records(store, ["r1"], user="ann")
    assert set_golden_records(store, ["r1", "r1"], user="olivia") == 1
    assert store.get_record("r1").golden
    set_golden_records(store, ["r1"], golden=False)
    assert not store.get_record("r1").golden
