"""What every store backend must do. Runs against the local SQLite store and a real Argilla server."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from curation import metadata_keys
from curation.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from curation.model import ChatMessage, RecordSource, ResponseStatus, Role, Suggestion, User
from curation.review.auth import Session, sign_in
from curation.store.base import MetadataRange, RecordQuery, RecordStore, ResponseFilter, SuggestionFilter
from tests.contract.conftest import Reviewer, members
from tests.factories import make_chat_record, make_record, make_response


def ids_of(store: RecordStore, query: RecordQuery) -> list[str]:
    return [r.id for r in store.query_records(query).records]


# --- project settings and users -------------------------------------------------------------------
def test_project_settings_round_trip_and_guidelines_are_versioned(store: RecordStore) -> None:
    project = store.get_project()
    assert [q.name for q in project.questions] == ["label", "rating", "corrected_output", "comment"]
    store.add_user(User(name="dana", role=Role.owner))  # a named author must be an owner
    first = store.update_project(project.model_copy(update={"guidelines": "# Be kind"}), author="dana")
    second = store.update_project(first.model_copy(update={"output_schema": {"type": "object"}}))
    third = store.update_project(second.model_copy(update={"guidelines": "# Be kind and brief"}))
    assert third.guidelines_version == second.guidelines_version + 1 == first.guidelines_version + 1
    assert store.get_project().output_schema == {"type": "object"}
    history = store.guidelines_history()
    assert [h.text for h in history][-2:] == ["# Be kind", "# Be kind and brief"]


def test_users_are_unique_by_name(store: RecordStore) -> None:
    store.add_user(User(name="dana", role=Role.owner))
    store.add_user(User(name="ann", role=Role.annotator))
    roles = {u.name: u.role for u in store.list_users()}
    assert roles.items() >= {"dana": Role.owner, "ann": Role.annotator}.items()
    assert store.get_user("ann").role == Role.annotator
    with pytest.raises(ConflictError, match="ann"):
        store.add_user(User(name="ann"))
    with pytest.raises(NotFoundError, match="nobody"):
        store.get_user("nobody")


# --- records --------------------------------------------------------------------------------------
def test_upsert_inserts_then_is_idempotent_then_updates(store: RecordStore) -> None:
    records = [make_record() for _ in range(5)]
    assert store.upsert_records(records).inserted == 5
    again = store.upsert_records(records)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    changed = records[0].model_copy(update={"metadata": {"channel": "chat"}})
    assert store.upsert_records([changed]).updated == 1
    assert store.get_record(records[0].id).metadata["channel"] == "chat"
    assert store.count_records() == 5


def test_record_fields_round_trip(store: RecordStore) -> None:
    chat = make_chat_record(golden=True, metadata={"channel": "chat", "n": 3, "ratio": 0.5})
    plain = make_record(system="Answer in JSON.")
    store.upsert_records([chat, plain])
    got = store.get_record(chat.id)
    assert got.input == chat.input and got.output == chat.output
    assert got.is_chat and got.system_prompt == "You triage support tickets."
    assert got.metadata == {"channel": "chat", "n": 3, "ratio": 0.5}
    assert got.golden is True
    assert got.content_hash == chat.content_hash
    got_plain = store.get_record(plain.id)
    assert got_plain.system == "Answer in JSON."
    assert (got_plain.source.file, got_plain.source.row) == (plain.source.file, plain.source.row)
    with pytest.raises(NotFoundError):
        store.get_record("missing-id")


def test_tool_messages_and_rejected_reply_round_trip(store: RecordStore) -> None:
    """Tool calls and results in a chat input, and a preference pair's rejected reply, come back as written."""
    record = make_chat_record(
        input=[
            ChatMessage(role="user", content="Find a recipe with rice"),
            ChatMessage(
                role="tool", kind="call", name="search", content='{"name": "search", "arguments": {}}'
            ),
            ChatMessage(role="tool", kind="result", content='{"recipes": ["fried rice"]}'),
        ],
        output="Try fried rice.",
        metadata={metadata_keys.REJECTED_OUTPUT: "No idea."},
    )
    store.upsert_records([record])
    got = store.get_record(record.id)
    assert got.input == record.input
    assert [(m.role, m.kind, m.name) for m in got.input] == [
        ("user", None, None),
        ("tool", "call", "search"),
        ("tool", "result", None),
    ]
    assert got.metadata[metadata_keys.REJECTED_OUTPUT] == "No idea."
    assert got.content_hash == record.content_hash


def test_query_filters_combine(store: RecordStore) -> None:
    a = make_record(metadata={"cluster": 1, "flags": ["pii", "too_long"], "input_chars": 10})
    b = make_record(metadata={"cluster": 2, "flags": [], "input_chars": 200}, output="refund issued")
    c = make_record(metadata={"cluster": 1, "flags": ["empty_output"], "input_chars": 50}, output="")
    store.upsert_records([a, b, c])
    assert ids_of(store, RecordQuery(metadata_terms={"cluster": [1]})) == [a.id, c.id]
    assert ids_of(store, RecordQuery(metadata_terms={"flags": ["pii"]})) == [a.id]
    assert ids_of(store, RecordQuery(metadata_terms={"flags": ["pii", "empty_output"]})) == [a.id, c.id]
    ranged = RecordQuery(metadata_ranges=[MetadataRange(key="input_chars", min=20, max=300)])
    assert ids_of(store, ranged) == [b.id, c.id]
    assert ids_of(store, RecordQuery(text_contains="REFUND")) == [b.id]
    both = RecordQuery(
        metadata_terms={"cluster": [1]}, metadata_ranges=[MetadataRange(key="input_chars", min=20)]
    )
    assert ids_of(store, both) == [c.id]


def test_query_by_response_suggestion_and_golden(store: RecordStore) -> None:
    a, b, c = make_record(), make_record(), make_record(golden=True)
    store.upsert_records([a, b, c])
    members(store, "ann", "bob")
    store.save_response(make_response(a.id, "ann", values={"label": "good"}))
    store.save_response(make_response(b.id, "ann", values={"label": "bad"}, status="draft"))
    store.set_suggestions({c.id: [Suggestion(question="label", value="bad", score=0.9, agent="quality")]})
    assert ids_of(store, RecordQuery(response=ResponseFilter(status=["submitted"]))) == [a.id]
    assert ids_of(store, RecordQuery(response=ResponseFilter(question="label", value="bad"))) == [b.id]
    assert ids_of(store, RecordQuery(response=ResponseFilter(status=["pending"]))) == [b.id, c.id]
    assert ids_of(store, RecordQuery(response=ResponseFilter(status=["pending"], user="bob"))) == [
        a.id,
        b.id,
        c.id,
    ]
    assert ids_of(store, RecordQuery(suggestion=SuggestionFilter(question="label", value="bad"))) == [c.id]
    assert ids_of(store, RecordQuery(golden=True)) == [c.id]


def test_paging_sorting_and_batches(store: RecordStore) -> None:
    records = [make_record(metadata={"score": float(i % 7)}) for i in range(23)]
    store.upsert_records(records, batch_size=5)
    page = store.query_records(RecordQuery(offset=10, limit=5))
    assert page.total == 23
    assert [r.id for r in page.records] == [r.id for r in records[10:15]]
    by_score = store.query_records(RecordQuery(sort_by="metadata.score", descending=True, limit=3)).records
    assert [r.metadata["score"] for r in by_score] == [6.0, 6.0, 6.0]
    batches = list(store.iter_records(batch_size=10))
    assert [len(b) for b in batches] == [10, 10, 3]
    assert [r.id for b in batches for r in b] == [r.id for r in records]


def test_metadata_suggestions_golden_updates(store: RecordStore) -> None:
    record = make_record(metadata={"channel": "email", "cluster": 3})
    store.upsert_records([record])
    store.update_metadata({record.id: {"cluster": 4, "channel": None, "dup_group": "dup-1"}})
    assert store.get_record(record.id).metadata == {"cluster": 4, "dup_group": "dup-1"}
    store.set_suggestions({record.id: [Suggestion(question="rating", value=2, agent="model")]})
    assert store.get_record(record.id).suggestions[0].value == 2
    store.set_golden([record.id], True)
    assert store.get_record(record.id).golden
    with pytest.raises(NotFoundError):
        store.update_metadata({"missing": {"a": 1}})


def test_delete_removes_responses_and_vectors(store: RecordStore) -> None:
    a, b = make_record(), make_record()
    store.upsert_records([a, b])
    members(store, "ann")
    store.save_response(make_response(a.id))
    store.set_vectors("pair", [a.id, b.id], np.ones((2, 3), dtype=np.float32))
    assert store.delete_records([a.id, "missing"]) == 1
    assert store.get_responses(record_ids=[a.id]) == []
    assert store.get_vectors("pair")[0] == [b.id]
    assert store.existing_content_hashes() == {b.content_hash: 1}


# --- vectors --------------------------------------------------------------------------------------
def test_vectors_round_trip_as_float32(store: RecordStore) -> None:
    records = [make_record() for _ in range(4)]
    store.upsert_records(records)
    matrix = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    store.set_vectors("pair", [r.id for r in records], matrix)
    ids, got = store.get_vectors("pair")
    assert ids == [r.id for r in records]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, matrix, rtol=1e-6)
    sub_ids, sub = store.get_vectors("pair", [records[2].id, records[0].id])
    assert sub_ids == [records[0].id, records[2].id]
    np.testing.assert_allclose(sub, matrix[[0, 2]], rtol=1e-6)
    assert "pair" in store.vector_names()
    similar = store.similar_records("pair", records[0].id, k=2)
    assert len(similar) == 2 and all(r.id != records[0].id for r, _ in similar)


# --- responses ------------------------------------------------------------------------------------
def test_responses_are_per_user_and_versioned(store: RecordStore) -> None:
    record = make_record()
    store.upsert_records([record])
    members(store, "ann", "bob")
    first = store.save_response(make_response(record.id, "ann"), expected_version=0)
    assert first.version == 1
    store.save_response(make_response(record.id, "bob", values={"label": "bad"}), expected_version=0)
    second = store.save_response(
        make_response(record.id, "ann", values={"label": "needs_fix", "corrected_output": "fixed"}),
        expected_version=1,
    )
    assert second.version == 2
    by_user = {r.user: r for r in store.get_responses(record_ids=[record.id])}
    assert by_user["ann"].values == {"label": "needs_fix", "corrected_output": "fixed"}
    assert by_user["bob"].values == {"label": "bad"}
    assert store.response_counts().submitted == 2
    assert store.response_counts(user="bob").submitted == 1


def test_stale_response_is_refused_and_nothing_is_lost(reviewer: Reviewer) -> None:
    record = make_record()
    reviewer.owner.upsert_records([record])
    store, me = reviewer.store, reviewer.name
    first = store.save_response(make_response(record.id, me, values={"label": "good"}), expected_version=0)
    with pytest.raises(ConflictError, match="reload"):
        store.save_response(make_response(record.id, me, values={"label": "bad"}), expected_version=0)
    second = store.save_response(
        make_response(record.id, me, values={"label": "bad"}), expected_version=first.version
    )
    with pytest.raises(ConflictError, match="reload"):
        store.save_response(
            make_response(record.id, me, values={"label": "good"}), expected_version=first.version
        )
    saved = store.get_responses(record_ids=[record.id], user=me)
    assert [(r.values["label"], r.version) for r in saved] == [("bad", second.version)] == [("bad", 2)]


def test_own_answers_are_versioned_and_read_back_with_their_version(reviewer: Reviewer) -> None:
    records = [make_record(), make_chat_record(golden=True, metadata={"channel": "chat", "n": 3})]
    reviewer.owner.upsert_records(records)
    store, me = reviewer.store, reviewer.name
    assert store.get_record(records[1].id) == reviewer.owner.get_record(records[1].id)
    assert (
        store.save_response(make_response(records[0].id, me, status="draft"), expected_version=0).version == 1
    )
    saved = store.save_response(
        make_response(records[0].id, me, values={"label": "needs_fix", "corrected_output": "fixed"}),
        expected_version=1,
    )
    assert saved.version == 2 and saved.values == {"label": "needs_fix", "corrected_output": "fixed"}
    mine = store.get_responses(user=me)
    assert [(r.record_id, r.version, str(r.status)) for r in mine] == [(records[0].id, 2, "submitted")]
    assert store.response_counts(user=me).submitted == 1
    pending = RecordQuery(response=ResponseFilter(status=["pending"], user=me))
    assert ids_of(store, pending) == [records[1].id] and store.count_records(pending) == 1
    done = RecordQuery(
        response=ResponseFilter(status=["submitted"], user=me, question="label", value="needs_fix")
    )
    assert ids_of(store, done) == [records[0].id]


def test_invalid_response_values_are_rejected(store: RecordStore) -> None:
    record = make_record()
    store.upsert_records([record])
    members(store, "ann")
    with pytest.raises(BadInputError, match="label"):
        store.save_response(make_response(record.id, values={"label": "great"}))
    with pytest.raises(BadInputError, match="rating"):
        store.save_response(make_response(record.id, values={"rating": 9}))
    with pytest.raises(BadInputError, match="unknown question"):
        store.save_response(make_response(record.id, values={"mood": "happy"}))
    with pytest.raises(NotFoundError):
        store.save_response(make_response("missing-record"))


def test_empty_and_none_answers_are_left_out_on_every_backend(reviewer: Reviewer) -> None:
    record = make_record()
    reviewer.owner.upsert_records([record])
    saved = reviewer.store.save_response(
        make_response(
            record.id, reviewer.name, values={"label": "good", "comment": "", "corrected_output": None}
        ),
        expected_version=0,
    )
    assert saved.values == {"label": "good"}
    assert reviewer.store.get_responses(record_ids=[record.id], user=reviewer.name)[0].values == {
        "label": "good"
    }


# --- versions -------------------------------------------------------------------------------------
def test_versions_are_immutable_snapshots(store: RecordStore) -> None:
    a, b = make_record(), make_record()
    store.upsert_records([a, b])
    members(store, "ann")
    store.save_response(make_response(a.id, values={"label": "good"}))
    v1 = store.create_version("v1")
    assert (v1.record_count, v1.response_count) == (2, 1)
    store.save_response(make_response(a.id, values={"label": "bad"}))
    store.upsert_records([a.model_copy(update={"metadata": {"cluster": 9}})])
    v2 = store.create_version("v2")
    assert v2.content_hash != v1.content_hash
    version, records, responses = store.load_version("v1")
    assert version.content_hash == v1.content_hash
    assert {r.id for r in records} == {a.id, b.id}
    assert [r.values["label"] for r in responses] == ["good"]
    assert "cluster" not in next(r for r in records if r.id == a.id).metadata
    with pytest.raises(ConflictError):
        store.create_version("v1")
    with pytest.raises(NotFoundError):
        store.load_version("nope")
    assert [v.name for v in store.list_versions()] == ["v1", "v2"]


# --- roles ----------------------------------------------------------------------------------------
def _signed_in_as(project_dir: Path, store: RecordStore, name: str) -> Session:
    """``name``'s own session: by name on a local project, with their own API key on Argilla."""
    if store.backend == "argilla":
        return sign_in(project_dir, api_key=store.api_key_of(name))  # type: ignore[attr-defined]
    return sign_in(project_dir, user_name=name)


def test_only_owners_pass_require_owner_and_change_guidelines(project: tuple[Path, RecordStore]) -> None:
    root, store = project
    store.add_user(User(name="dana", role=Role.owner))
    store.add_user(User(name="ann", role=Role.annotator))
    store.require_owner("export the dataset")  # no identity (local CLI) or the owner's key (Argilla)
    store.require_owner("export the dataset", "dana")
    annotator = _signed_in_as(root, store, "ann")
    try:
        assert (annotator.user.name, annotator.user.role) == ("ann", Role.annotator)
        with pytest.raises(PermissionDeniedError, match="cannot start training"):
            annotator.store.require_owner("start training", annotator.user.name)
        before = annotator.store.get_project()
        with pytest.raises(PermissionDeniedError):
            annotator.store.update_project(
                before.model_copy(update={"guidelines": "# mine now"}), author=annotator.user.name
            )
    finally:
        annotator.close()
    assert store.get_project().guidelines == before.guidelines
    assert [h.text for h in store.guidelines_history()][-1] == before.guidelines


def test_record_summary_counts_lengths_sources_and_blank_outputs(store: RecordStore) -> None:
    """What `stats` shows: every backend gives the figures the plain definition gives (the local
    store answers from indexes; percentiles interpolate between ranks, then round down)."""
    records = [
        make_record(input="a" * 10, output="x" * 3),
        make_record(input="b" * 25, output="\u2003\n\t "),  # blank in Python's sense (an em space)
        make_record(input="c\x00" * 7, output="z" * 40, golden=True),  # NUL counts as a character
        make_chat_record(output="yes"),
        make_record(input="d" * 31, output="", source=RecordSource(file=None, row=9)),
        make_record(input="e" * 4, output="w" * 8, source=RecordSource(file="other.jsonl", row=1)),
    ]
    store.upsert_records(records)
    summary = store.record_summary()
    assert summary == RecordStore.record_summary(store)  # the interface's own computation
    assert summary.records == 6 and summary.chat_records == 1 and summary.golden == 1
    assert summary.empty_outputs == 2
    assert summary.sources == {"tickets.csv": 3, "(unknown)": 2, "other.jsonl": 1}
    lengths = sorted(len(r.input_text) for r in records)
    assert summary.input_chars.min == lengths[0] and summary.input_chars.max == lengths[-1]
    assert summary.input_chars.p50 == int(np.percentile(lengths, 50))
    assert summary.input_chars.p90 == int(np.percentile(lengths, 90))
    assert summary.output_chars.mean == round(sum(len(r.output) for r in records) / 6, 1)
    assert RecordStore.record_summary(store).model_dump() == summary.model_dump()


def test_pending_counts_match_the_pending_records(store: RecordStore) -> None:
    """The review queue's count of pending records (the local store counts it from the responses
    table alone) equals the records the pending filter returns, per reviewer and for anyone."""
    store.add_user(User(name="ann", role="annotator"))
    store.add_user(User(name="bo", role="annotator"))
    records = [make_record() for _ in range(8)]
    store.upsert_records(records)
    store.save_response(make_response(records[0].id, "ann"))
    store.save_response(make_response(records[1].id, "ann", status=ResponseStatus.discarded, values={}))
    store.save_response(make_response(records[2].id, "ann", status=ResponseStatus.draft))
    store.save_response(make_response(records[1].id, "bo"))
    store.save_response(make_response(records[3].id, "bo"))
    for user, expected in (("ann", 6), ("bo", 6), (None, 5)):
        query = RecordQuery(response=ResponseFilter(status=["pending"], user=user))
        page = store.query_records(query.model_copy(update={"limit": 3}))
        assert store.count_records(query) == page.total == expected
        assert len(ids_of(store, query)) == expected
