"""Both backends answer the same queries the same way on a dataset past every Argilla server limit.

One project of 1,200 records (more than a search page of 1,000), with metadata of every shape
(integers, floats, strings, lists, booleans, objects, a key of mixed types, keys some records lack),
suggestions and three people's responses, is built on the local store and on the Argilla server.
Then a battery of queries (id lists of 300 and 600 against the 250-value terms limit, offsets past
the first page, every filter, sort and combination the review pages use and more) must give the
same records, in the same order, with the same totals and counts. It runs once with the owner's
key and once with an annotator's key (their own responses only, as Argilla allows).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from curation.model import Record, Response, ResponseStatus, Role, Suggestion, User
from curation.project import init_project, open_store
from curation.store.base import MetadataRange, RecordQuery, RecordStore, ResponseFilter, SuggestionFilter
from tests.argilla_server.harness import OWNER_NAME, ArgillaServer
from tests.factories import make_record

pytestmark = [pytest.mark.argilla, pytest.mark.slow]

SIZE = 1200
ANN = f"ann{uuid.uuid4().hex[:6]}"
BOB = f"bob{uuid.uuid4().hex[:6]}"
FLAGS = ["pii", "too_long", "refusal", "invalid_json"]


def build_records() -> list[Record]:
    rng = random.Random(7)
    records = []
    for i in range(SIZE):
        metadata: dict = {
            "cluster": i % 7,
            "flags": [f for j, f in enumerate(FLAGS) if (i >> j) % 3 == 0],
            "channel": "chat" if i % 4 else "email",
            "score": round(rng.random() * 3, 3),
            "input_chars": 50 + (i * 37) % 400,
        }
        if i % 3 == 0:
            metadata["dup_group"] = f"g{i % 50}"
        if i % 4:
            metadata["rank"] = (i * 13) % 97
        if i % 11 == 0:
            metadata["mixed"] = 5 if i % 2 else "5"
        if i % 13 == 0:
            metadata["reviewed"] = bool(i % 2)
        if i % 17 == 0:
            metadata["nested"] = {"a": [i, i + 1]}
        suggestions = (
            [Suggestion(question="label", value="bad" if i % 2 else "good", score=0.5)] if i % 9 == 0 else []
        )
        records.append(
            make_record(
                id=f"r{i:05d}",
                input=f"Where is order {10000 + i}? " + ("It is late." if i % 5 else "Please REFUND."),
                golden=i % 37 == 0,
                metadata=metadata,
                suggestions=suggestions,
                system="Answer in JSON." if i % 10 == 0 else None,
            )
        )
    return records


def build_responses(owner: str) -> list[Response]:
    out = []
    for i in range(SIZE):
        rid = f"r{i:05d}"
        if i % 3 == 0:
            status = ResponseStatus.submitted if i % 2 else ResponseStatus.draft
            out.append(
                Response(
                    record_id=rid,
                    user=ANN,
                    values={"label": "good" if i % 4 else "bad", "rating": 1 + i % 5},
                    status=status,
                )
            )
        if i % 5 == 0:
            status = ResponseStatus.discarded if i % 2 else ResponseStatus.submitted
            out.append(Response(record_id=rid, user=BOB, values={"label": "bad"}, status=status))
        if i % 7 == 0:
            status = ResponseStatus.draft if i % 2 else ResponseStatus.submitted
            out.append(
                Response(record_id=rid, user=owner, values={"label": "good", "comment": "ok"}, status=status)
            )
    return out


RECORDS = build_records()  # once: both stores get the very same records
RESPONSES = build_responses(OWNER_NAME)


def fill(store: RecordStore) -> None:
    store.add_user(User(name=ANN, role=Role.annotator))
    store.add_user(User(name=BOB, role=Role.annotator))
    if OWNER_NAME not in {u.name for u in store.list_users()}:
        store.add_user(User(name=OWNER_NAME, role=Role.owner))
    store.upsert_records(RECORDS, batch_size=500)
    store.put_responses(RESPONSES)


@pytest.fixture(scope="module")
def local_big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordStore]:
    store = init_project(tmp_path_factory.mktemp("big") / "local", "big")
    fill(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def argilla_big(
    argilla_server: ArgillaServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, RecordStore]]:
    root = tmp_path_factory.mktemp("big") / "argilla"
    options = {
        "api_url": argilla_server.url,
        "workspace": f"big-{uuid.uuid4().hex[:8]}",
        "api_key": argilla_server.api_key,
    }
    store = init_project(root, "big", backend="argilla", backend_options=options)
    fill(store)
    yield root, store
    store.close()


@pytest.fixture(scope="module", params=["owner", "annotator"])
def view(
    request: pytest.FixtureRequest, argilla_big: tuple[Path, RecordStore]
) -> Iterator[tuple[str, RecordStore]]:
    root, owner = argilla_big
    if request.param == "owner":
        yield "owner", owner
        return
    store = open_store(root, api_key=owner.api_key_of(ANN))  # type: ignore[attr-defined]
    yield "annotator", store
    store.close()


SCANS_FOR_ANNOTATORS = ("refund", "mixed", "metadata.rank")
"""Residual queries (a scan of the dataset) the annotator's run keeps: argilla-server checks each
metadata key of each record an annotator reads, which makes their scans slow (about 40 s for 1,200
records here), so the annotator's run keeps these three and every native or id-list query."""


def queries() -> list[RecordQuery]:
    rng = random.Random(3)
    every = [f"r{i:05d}" for i in range(SIZE)]
    ids300 = rng.sample(every, 290) + [f"missing{i}" for i in range(10)]
    ids600 = rng.sample(every, 600)
    pending = ResponseFilter(status=["pending"], user=ANN)
    return [
        RecordQuery(),
        RecordQuery(offset=1100, limit=50),
        RecordQuery(offset=990, limit=30),
        RecordQuery(limit=1500),
        RecordQuery(sort_by="id", descending=True, offset=5, limit=20),
        RecordQuery(sort_by="position", descending=True, limit=20, offset=1000),
        RecordQuery(metadata_terms={"cluster": [1, 3]}),
        RecordQuery(metadata_terms={"cluster": [1.0, True]}),
        RecordQuery(metadata_terms={"cluster": ["1"]}),
        RecordQuery(metadata_terms={"flags": ["pii"]}),
        RecordQuery(metadata_terms={"flags": ["pii", "too_long"]}, limit=10, offset=3),
        RecordQuery(metadata_terms={"dup_group": ["g7", "g9"]}),
        RecordQuery(metadata_terms={"channel": ["chat"]}, offset=800, limit=100),
        RecordQuery(metadata_terms={"mixed": [5]}),
        RecordQuery(metadata_terms={"mixed": ["5"]}),
        RecordQuery(metadata_terms={"reviewed": [True]}),
        RecordQuery(metadata_terms={"nested": [{"a": [0, 1]}]}),
        RecordQuery(metadata_terms={"cluster": []}),
        RecordQuery(metadata_ranges=[MetadataRange(key="input_chars", min=100, max=300)]),
        RecordQuery(metadata_ranges=[MetadataRange(key="input_chars", min=300, max=100)]),
        RecordQuery(metadata_ranges=[MetadataRange(key="score", min=1.0, max=2.0)]),
        RecordQuery(metadata_ranges=[MetadataRange(key="rank")]),
        RecordQuery(sort_by="metadata.rank", descending=True, limit=40),
        RecordQuery(sort_by="metadata.rank", limit=40),
        RecordQuery(sort_by="metadata.input_chars", limit=40, offset=500),
        RecordQuery(sort_by="metadata.score", descending=True, limit=30),
        RecordQuery(sort_by="metadata.mixed", limit=30),
        RecordQuery(golden=True),
        RecordQuery(golden=False, limit=5, offset=1000),
        RecordQuery(text_contains="refund", limit=30),
        RecordQuery(text_contains="ORDER 1001"),
        RecordQuery(suggestion=SuggestionFilter(question="label", value="bad")),
        RecordQuery(suggestion=SuggestionFilter(question="label")),
        RecordQuery(response=ResponseFilter(status=["submitted"])),
        RecordQuery(response=ResponseFilter(status=["pending"])),
        RecordQuery(response=ResponseFilter(status=["pending", "draft"])),
        RecordQuery(response=ResponseFilter(question="label", value="bad")),
        RecordQuery(response=ResponseFilter(status=["submitted"], question="label", value="good")),
        RecordQuery(response=ResponseFilter()),
        RecordQuery(response=pending, limit=50, offset=600),
        RecordQuery(response=ResponseFilter(status=["submitted", "discarded"], user=ANN)),
        RecordQuery(response=ResponseFilter(status=["pending", "submitted"], user=ANN)),
        RecordQuery(response=ResponseFilter(status=["pending"], user=ANN, question="label", value="good")),
        RecordQuery(response=ResponseFilter(user=ANN)),
        RecordQuery(response=ResponseFilter(status=["submitted"], user=ANN, question="rating", value=4)),
        RecordQuery(response=ResponseFilter(status=["draft"], user=ANN, question="comment")),
        RecordQuery(response=ResponseFilter(status=["pending"], user=OWNER_NAME)),
        RecordQuery(response=ResponseFilter(status=["submitted"], user=BOB)),
        RecordQuery(ids=ids300),
        RecordQuery(ids=ids300, metadata_terms={"cluster": [2]}, sort_by="id", offset=10, limit=25),
        RecordQuery(ids=ids600, response=pending, limit=100, offset=50),
        RecordQuery(ids=[]),
        RecordQuery(
            metadata_terms={"cluster": [4], "flags": ["refusal"]},
            golden=False,
            response=pending,
            offset=3,
            limit=9,
        ),
        RecordQuery(
            metadata_terms={"channel": ["email"]},
            text_contains="late",
            sort_by="metadata.rank",
            descending=True,
        ),
    ]


def for_annotator(query: RecordQuery) -> RecordQuery | None:
    """The query an annotator can ask: about their own responses (Argilla shows them no one else's)."""
    spec = query.response
    if spec is None:
        return query
    if spec.user not in (None, ANN):
        return None
    return query.model_copy(update={"response": spec.model_copy(update={"user": ANN})})


def ids(records: list[Record]) -> list[str]:
    return [r.id for r in records]


@pytest.mark.parametrize("query", queries(), ids=lambda q: repr(q.model_dump(exclude_defaults=True))[:90])
def test_same_records_same_order_same_totals(
    query: RecordQuery, view: tuple[str, RecordStore], local_big: RecordStore
) -> None:
    who, argilla = view
    if who == "annotator":
        asked = for_annotator(query)
        if asked is None:
            pytest.skip("about another user's responses, which Argilla never shows an annotator")
        query = asked
        plan = argilla._reader.plan(query)  # type: ignore[attr-defined]
        text = repr(query.model_dump(exclude_defaults=True))
        if query.ids is None and not plan.native and not any(part in text for part in SCANS_FOR_ANNOTATORS):
            pytest.skip("a scan; the annotator's run keeps three (see SCANS_FOR_ANNOTATORS)")
    expected = local_big.query_records(query)
    if who == "annotator" and query.ids is None and len(expected.records) > 300:
        pytest.skip(
            "a page of over 300 records: the annotator's full read is test_every_record_reads_back_exactly"
        )
    got = argilla.query_records(query)
    assert (ids(got.records), got.total) == (ids(expected.records), expected.total)
    assert argilla.count_records(query) == local_big.count_records(query) == expected.total
    batches = list(argilla.iter_records(batch_size=333, query=query))
    assert [r.id for b in batches for r in b] == [
        r.id for b in local_big.iter_records(batch_size=333, query=query) for r in b
    ]
    assert all(len(b) <= 333 for b in batches)


def test_every_record_reads_back_exactly(view: tuple[str, RecordStore], local_big: RecordStore) -> None:
    _, argilla = view
    every = RecordQuery(limit=SIZE)
    got = [r.model_dump() for r in argilla.query_records(every).records]
    expected = [r.model_dump() for r in local_big.query_records(every).records]
    differences = [
        (e["id"], key, g.get(key), e[key])
        for g, e in zip(got, expected, strict=True)
        for key in e
        if g.get(key) != e[key]
    ]
    assert differences[:5] == [] and len(got) == SIZE


def test_same_responses_with_versions_and_counts(
    view: tuple[str, RecordStore], local_big: RecordStore
) -> None:
    who, argilla = view

    def summary(store: RecordStore, **kwargs: object) -> list[tuple]:
        return [
            (r.record_id, r.user, r.values, str(r.status), r.version) for r in store.get_responses(**kwargs)
        ]  # type: ignore[arg-type]

    some = [f"r{i:05d}" for i in range(0, SIZE, 3)][:300]
    assert summary(argilla, user=ANN) == summary(local_big, user=ANN)
    assert summary(argilla, record_ids=some, user=ANN) == summary(local_big, record_ids=some, user=ANN)
    assert summary(argilla, user=ANN, status=ResponseStatus.draft) == summary(
        local_big, user=ANN, status=ResponseStatus.draft
    )
    assert argilla.response_counts(user=ANN) == local_big.response_counts(user=ANN)
    assert argilla.response_counts() == local_big.response_counts()
    if who == "owner":
        assert summary(argilla) == summary(local_big)
        assert summary(argilla, record_ids=some) == summary(local_big, record_ids=some)
        assert summary(argilla, user=BOB) == summary(local_big, user=BOB)
    else:
        assert summary(argilla, user=BOB) == [] and summary(argilla) == summary(local_big, user=ANN)
