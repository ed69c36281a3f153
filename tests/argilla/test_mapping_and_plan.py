"""Unit tests (no server): how records map onto Argilla, and which query parts the server answers."""

from __future__ import annotations

import pytest

from curation.model import ChatMessage, Suggestion
from curation.store.argilla import mapping, query
from curation.store.argilla.limits import KEYWORD_BYTES_MAX
from curation.store.base import MetadataRange, RecordQuery, ResponseFilter, SuggestionFilter
from tests.factories import make_chat_record, make_record

PROPERTIES = {**mapping.METADATA_PROPERTIES, "channel": "terms", "n": "integer", "ratio": "float"}
FIELDS = [f["name"] for f in mapping.project_fields()]
SCHEMA = query.Schema(
    properties=PROPERTIES,
    questions={"label": "label_selection", "rating": "rating", "comment": "text"},
    me="dana",
    manager=True,
)


def round_trip(record, fields=FIELDS):  # type: ignore[no-untyped-def]
    item = mapping.record_to_argilla(record, 7, PROPERTIES, fields)
    raw = {
        **item,
        "id": "uuid",
        "suggestions": [{"question_id": "q1", "value": "good", "score": 0.5, "agent": "m"}],
    }
    return item, mapping.record_from_argilla(raw, {"q1": "label"})


def test_values_go_to_properties_only_when_argilla_holds_them_exactly() -> None:
    record = make_record(
        metadata={
            "cluster": 3,
            "channel": "chat",
            "n": True,
            "ratio": 2,
            "dup_group": 7,
            "flags": ["pii"],
            "lang": "x" * (KEYWORD_BYTES_MAX + 1),
        }
    )
    item, back = round_trip(record)
    metadata = item["metadata"]
    assert (metadata["cluster"], metadata["channel"], metadata["ratio"], metadata["flags"]) == (
        3,
        "chat",
        2.0,
        ["pii"],
    )
    assert "n" not in metadata and "dup_group" not in metadata and "lang" not in metadata
    assert metadata[mapping.UNFIT] == ["dup_group", "lang", "n"]
    assert (metadata[mapping.POSITION], metadata[mapping.GOLDEN]) == (7, "false")
    assert back.model_dump(exclude={"suggestions"}) == record.model_dump(
        exclude={"suggestions"}
    )  # the payload is exact


def test_chat_input_is_shown_within_the_servers_limits_and_kept_exactly() -> None:
    messages = [ChatMessage(role="user", content=""), ChatMessage(role="assistant", content="y" * 25_000)]
    record = make_chat_record(input=messages)
    item, back = round_trip(record)
    shown = item["fields"][mapping.FIELD_CHAT]
    assert shown[0]["content"] == " " and len(shown[1]["content"]) == 20_000
    assert back.input == messages


def test_a_dataset_made_before_the_payload_field_keeps_it_in_metadata() -> None:
    record = make_record(system="Be brief.", metadata={"nested": {"a": 1}})
    old_fields = [f for f in FIELDS if f not in (mapping.FIELD_PAYLOAD, mapping.FIELD_SYSTEM)]
    item, back = round_trip(record, old_fields)
    assert mapping.FIELD_PAYLOAD not in item["fields"] and mapping.PAYLOAD_KEY in item["metadata"]
    assert back.system == "Be brief." and back.metadata == {"nested": {"a": 1}}


def test_a_record_made_outside_pairsmith_reads_from_its_fields_and_properties() -> None:
    raw = {
        "id": "u",
        "external_id": "x",
        "fields": {"input": "hi", "output": "yo", "system": "s"},
        "metadata": {"channel": "c", "ps_golden": "true"},
    }
    record = mapping.record_from_argilla(raw, {})
    assert (record.input, record.output, record.system, record.golden, record.metadata) == (
        "hi",
        "yo",
        "s",
        True,
        {"channel": "c"},
    )
    assert mapping.position_of(raw) is None


def test_new_keys_get_a_property_typed_by_their_value() -> None:
    assert [mapping.property_type(v) for v in (3, 2.5, "a", ["a"], [], True, {"a": 1}, [1])] == [
        "integer",
        "float",
        "terms",
        "terms",
        None,
        None,
        None,
        None,
    ]
    assert (
        not mapping.dynamic_key("ps_mine")
        and not mapping.dynamic_key("a.b")
        and mapping.dynamic_key("channel")
    )


@pytest.mark.parametrize(
    ("q", "native"),
    [
        (RecordQuery(metadata_terms={"cluster": [1, True, 2.0]}), True),
        (RecordQuery(metadata_terms={"ratio": [0.5]}), False),  # 32-bit floats on the server
        (RecordQuery(metadata_terms={"unknown": ["a"]}), False),  # no property
        (RecordQuery(metadata_ranges=[MetadataRange(key="n", min=1)]), True),
        (RecordQuery(text_contains="refund"), False),  # a substring, not Argilla's word match
        (RecordQuery(response=ResponseFilter(status=["pending"], user="dana")), True),
        (
            RecordQuery(response=ResponseFilter(status=["pending"])),
            False,
        ),  # Argilla's pending: no response at all
        (RecordQuery(response=ResponseFilter(status=["pending"], user="bob")), False),  # another user
        (RecordQuery(response=ResponseFilter(status=["submitted"], question="label", value="good")), False),
        (RecordQuery(response=ResponseFilter(question="label", value="good")), True),
        (RecordQuery(suggestion=SuggestionFilter(question="label", value="bad")), True),
        (RecordQuery(suggestion=SuggestionFilter(question="label")), False),
        (RecordQuery(sort_by="metadata.n", descending=True), True),
        (RecordQuery(sort_by="metadata.ratio"), False),
        (RecordQuery(offset=499_990, limit=20), False),  # past the server's result window
    ],
)
def test_which_queries_the_server_answers(q: RecordQuery, native: bool) -> None:
    assert query.plan(q, SCHEMA).native is native


def test_pending_for_me_is_argillas_pending_or_draft_through_me() -> None:
    plan = query.plan(RecordQuery(response=ResponseFilter(status=["pending"], user="dana")), SCHEMA)
    assert plan.mine and plan.filters == [
        {
            "type": "terms",
            "scope": {"entity": "response", "property": "status"},
            "values": ["draft", "pending"],
        }
    ]
    assert plan.sort == query.STABLE_ORDER


def test_values_that_cannot_occur_give_an_empty_answer_without_asking() -> None:
    assert query.plan(RecordQuery(metadata_terms={"cluster": ["1"]}), SCHEMA).empty
    assert query.plan(RecordQuery(metadata_ranges=[MetadataRange(key="n", min=5, max=1)]), SCHEMA).empty


def test_python_semantics_follow_sqlite() -> None:
    record = make_record(metadata={"n": 1, "flag": True, "nested": {"a": 5}, "tags": ["x", 2]})
    matches = lambda **terms: query.matches(record, RecordQuery(metadata_terms=terms), [])  # noqa: E731
    assert matches(n=[True]) and matches(n=[1.0]) and not matches(n=["1"]) and not matches(n=[2])
    assert matches(flag=[1]) and matches(nested=[5]) and not matches(nested=[{"a": 5}]) and matches(tags=[2])
    suggested = make_record(suggestions=[Suggestion(question="rating", value=4)])
    assert query.matches(
        suggested, RecordQuery(suggestion=SuggestionFilter(question="rating", value=4.0)), []
    )
