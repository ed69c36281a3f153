"""Import: every format, column mapping, ids and re-import, chat formats, progress and batching."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from curation.errors import BadInputError
from curation.importing import CHAT_FORMATS, FORMATS, ColumnMapping
from curation.model import ChatMessage
from tests.curation.import_helpers import Importer, jsonl, write_file

TABLE_CSV = (
    "ticket,prompt,response,channel,priority\n"
    "T1,Where is my order?,It ships tomorrow.,email,2\n"
    "T2,Can I get a refund?,Yes within 30 days.,chat,007\n"
    "T3,Do you ship to Norway?,We do.,email,1.5\n"
)


@pytest.fixture
def importer(tmp_path: Path) -> Iterator[Importer]:
    made = Importer(tmp_path / "proj")
    yield made
    made.close()


def test_csv_detects_columns_keeps_others_as_metadata_and_numbers_rows(
    importer: Importer, tmp_path: Path
) -> None:
    report = importer(write_file(tmp_path, "tickets.csv", TABLE_CSV))
    assert (report.format, report.rows_read, report.imported, report.rejected) == ("csv", 3, 3, 0)
    assert report.quarantine_file is None
    first, second, third = importer.records()
    assert (first.input, first.output) == ("Where is my order?", "It ships tomorrow.")
    assert first.metadata == {"ticket": "T1", "channel": "email", "priority": 2}
    # Canonical numbers become numbers; "007" keeps its zeros as text.
    assert second.metadata["priority"] == "007"
    assert third.metadata["priority"] == 1.5
    assert [(r.source.file, r.source.row) for r in (first, second, third)] == [
        ("tickets.csv", 1),
        ("tickets.csv", 2),
        ("tickets.csv", 3),
    ]


def test_reimport_adds_nothing_and_ids_are_stable(importer: Importer, tmp_path: Path) -> None:
    path = write_file(tmp_path, "tickets.csv", TABLE_CSV)
    importer(path)
    ids = [r.id for r in importer.records()]
    again = importer(path)
    assert (again.imported, again.skipped_existing, again.rejected) == (0, 3, 0)
    assert [r.id for r in importer.records()] == ids
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)


def test_exact_duplicates_inside_one_file_stay_separate_records(importer: Importer, tmp_path: Path) -> None:
    text = "prompt,response\nHi,Hello\nHi,Hello\nHi,Hello\n"
    path = write_file(tmp_path, "dups.csv", text)
    assert importer(path).imported == 3
    records = importer.records()
    assert len({r.id for r in records}) == 3
    assert len({r.content_hash for r in records}) == 1
    assert importer(path).imported == 0


def test_tsv(importer: Importer, tmp_path: Path) -> None:
    report = importer(write_file(tmp_path, "t.tsv", "question\tanswer\tchannel\nA, b?\tC; d.\tweb\n"))
    assert (report.format, report.imported) == ("tsv", 1)
    record = importer.records()[0]
    assert (record.input, record.output, record.metadata) == ("A, b?", "C; d.", {"channel": "web"})


def test_csv_with_semicolons_is_read_with_a_warning(importer: Importer, tmp_path: Path) -> None:
    report = importer(write_file(tmp_path, "eu.csv", "prompt;response\nPrix ?;12,50 €\n"))
    assert report.imported == 1
    assert importer.records()[0].output == "12,50 €"
    assert any("';'" in w for w in report.warnings)


def test_json_array_and_object_with_a_list(importer: Importer, tmp_path: Path) -> None:
    rows = [{"input": "a?", "output": "A", "tag": ["x", "y"]}, {"input": "b?", "output": "B", "score": None}]
    assert importer(write_file(tmp_path, "arr.json", json.dumps(rows))).imported == 2
    wrapped = {"version": 2, "data": [{"query": "c?", "answer": "C"}]}
    report = importer(write_file(tmp_path, "obj.json", json.dumps(wrapped)))
    assert (report.format, report.imported) == ("json", 1)
    records = importer.records()
    assert records[0].metadata == {"tag": ["x", "y"]}
    assert records[1].metadata == {}  # null metadata is dropped
    assert (records[2].input, records[2].source.row) == ("c?", 1)


def test_json_object_without_a_clear_list_is_refused(importer: Importer, tmp_path: Path) -> None:
    path = write_file(tmp_path, "two.json", json.dumps({"a": [{"prompt": "x"}], "b": [{"prompt": "y"}]}))
    with pytest.raises(BadInputError, match="lists found: a, b"):
        importer(path)


def test_jsonl_rows_are_record_numbers_and_lines(importer: Importer, tmp_path: Path) -> None:
    text = jsonl({"prompt": "a", "completion": "A"}) + "\n" + jsonl({"prompt": "b", "completion": "B"})
    report = importer(write_file(tmp_path, "d.jsonl", text))
    assert (report.format, report.imported) == ("jsonl", 2)
    assert [r.source.row for r in importer.records()] == [1, 2]


def test_parquet(importer: Importer, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    table = pa.table({"instruction": ["a", "b"], "response": ["A", "B"], "n": [1, 2]})
    pq.write_table(table, path)
    report = importer(path)
    assert (report.format, report.imported) == ("parquet", 2)
    assert importer.records()[1].metadata == {"n": 2}


def test_hugging_face_dataset_and_dataset_dict_splits(importer: Importer, tmp_path: Path) -> None:
    from datasets import Dataset, DatasetDict

    train = Dataset.from_dict({"prompt": ["a", "b"], "response": ["A", "B"]})
    test = Dataset.from_dict({"prompt": ["c"], "response": ["C"]})
    train.save_to_disk(str(tmp_path / "single"))
    DatasetDict({"train": train, "test": test}).save_to_disk(str(tmp_path / "splits"))

    assert importer(tmp_path / "single").format == "hf"
    assert importer(tmp_path / "splits").skipped_existing == 2  # train by default: same content as "single"
    report = importer(tmp_path / "splits", split="test")
    assert report.imported == 1
    with pytest.raises(BadInputError, match="no split 'dev'; splits found: train, test"):
        importer(tmp_path / "splits", split="dev")


def test_openai_chat_jsonl(importer: Importer, tmp_path: Path) -> None:
    rows = [
        {
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello."},
                {"role": "user", "content": [{"type": "text", "text": "Refund?"}]},
                {"role": "assistant", "content": "Yes."},
            ],
            "source": "web",
        },
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "user", "content": "Anyone?"}]},
        {
            "messages": [
                {"role": "user", "content": "Q"},
                {"role": "assistant", "content": "A"},
                {"role": "user", "content": "?"},
            ]
        },
    ]
    report = importer(write_file(tmp_path, "chat.jsonl", jsonl(*rows)))
    assert (report.format, report.imported, report.rejected) == ("openai", 1, 2)
    record = importer.records()[0]
    assert record.output == "Yes."
    assert record.input == [
        ChatMessage(role="system", content="You are terse."),
        ChatMessage(role="user", content="Hi"),
        ChatMessage(role="assistant", content="Hello."),
        ChatMessage(role="user", content="Refund?"),
    ]
    assert record.system_prompt == "You are terse."
    assert record.metadata == {"source": "web"}


def test_a_json_file_holding_one_conversation(importer: Importer, tmp_path: Path) -> None:
    one = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}
    report = importer(write_file(tmp_path, "one.json", json.dumps(one)))
    assert (report.format, report.imported) == ("openai", 1)
    assert importer.records()[0].output == "Yo"


def test_alpaca(importer: Importer, tmp_path: Path) -> None:
    rows = [
        {"instruction": "Translate to French.", "input": "cat", "output": "chat"},
        {"instruction": "Name a colour.", "input": "", "output": "Blue"},
    ]
    report = importer(write_file(tmp_path, "alpaca.json", json.dumps(rows)))
    assert (report.format, report.imported) == ("alpaca", 2)
    first, second = importer.records()
    assert first.input == "Translate to French.\n\ncat"
    assert second.input == "Name a colour."
    assert first.metadata == {}


def test_sharegpt(importer: Importer, tmp_path: Path) -> None:
    row = {
        "id": "conv-1",
        "conversations": [
            {"from": "system", "value": "Be kind."},
            {"from": "human", "value": "Hello"},
            {"from": "gpt", "value": "Hi there"},
        ],
    }
    bad = {"conversations": [{"from": "human", "value": "x"}, {"from": "robot", "value": "y"}]}
    report = importer(write_file(tmp_path, "sg.jsonl", jsonl(row, bad)))
    assert (report.format, report.imported, report.rejected) == ("sharegpt", 1, 1)
    record = importer.records()[0]
    assert record.id == "conv-1"
    assert [m.role for m in record.input] == ["system", "user"]
    assert record.output == "Hi there"


def test_format_option_overrides_the_extension(importer: Importer, tmp_path: Path) -> None:
    path = write_file(tmp_path, "export.log", "prompt,response\na,b\n")
    with pytest.raises(BadInputError, match=r"unknown file extension '\.log'.*--format csv"):
        importer(path)
    assert importer(path, format="csv").imported == 1
    with pytest.raises(BadInputError, match="unknown format 'xml'"):
        importer(path, format="xml")


def test_format_option_can_force_a_chat_format(importer: Importer, tmp_path: Path) -> None:
    row = {"instruction": "Say hi", "output": "hi"}  # no "input" key, so not detected as Alpaca
    report = importer(write_file(tmp_path, "a.jsonl", jsonl(row)), format="alpaca")
    assert (report.format, report.imported) == ("alpaca", 1)


def test_explicit_column_mapping(importer: Importer, tmp_path: Path) -> None:
    text = "key,body,reply_text,agent,team\nk1,Help,Sure,ann,red\n"
    mapping = ColumnMapping(input_col="body", output_col="reply_text", id_col="key", metadata_cols=["team"])
    assert importer(write_file(tmp_path, "m.csv", text), mapping=mapping).imported == 1
    record = importer.records()[0]
    assert (record.id, record.input, record.output, record.metadata) == (
        "k1",
        "Help",
        "Sure",
        {"team": "red"},
    )


def test_explicit_columns_turn_off_chat_detection(importer: Importer, tmp_path: Path) -> None:
    row = {"instruction": "Do X", "input": "ctx", "output": "done"}
    mapping = ColumnMapping(input_col="input", output_col="output")
    report = importer(write_file(tmp_path, "a.jsonl", jsonl(row)), mapping=mapping)
    assert report.format == "jsonl"
    assert importer.records()[0].input == "ctx"


def test_unknown_columns_are_named_in_the_error(importer: Importer, tmp_path: Path) -> None:
    path = write_file(tmp_path, "odd.csv", "alpha,beta\n1,2\n")
    with pytest.raises(BadInputError, match="columns found: alpha, beta; pass --input-col"):
        importer(path)
    with pytest.raises(
        BadInputError, match="--output-col 'gamma' is not a column; columns found: alpha, beta"
    ):
        importer(path, mapping=ColumnMapping(input_col="alpha", output_col="gamma"))
    assert importer.store.count_records() == 0


def test_id_column_is_used_and_auto_detected(importer: Importer, tmp_path: Path) -> None:
    importer(write_file(tmp_path, "ids.csv", "ID,prompt,response\n42,a,b\nx-7,c,d\n"))
    assert [r.id for r in importer.records()] == ["42", "x-7"]


def test_source_columns_named_like_analysis_keys_are_renamed(importer: Importer, tmp_path: Path) -> None:
    report = importer(write_file(tmp_path, "c.csv", "prompt,response,cluster\na,b,7\n"))
    assert importer.records()[0].metadata == {"source_cluster": 7}
    assert any("'cluster'" in w for w in report.warnings)


def test_progress_is_reported_per_batch_and_ends_at_one(importer: Importer, tmp_path: Path) -> None:
    rows = "".join(f"q{i},a{i}\n" for i in range(7))
    calls: list[tuple[int, float | None]] = []
    report = importer(
        write_file(tmp_path, "p.csv", "prompt,response\n" + rows),
        batch_size=3,
        progress=lambda n, f: calls.append((n, f)),
    )
    assert report.imported == 7
    assert [n for n, _ in calls] == [3, 6, 7, 7]
    assert calls[-1] == (7, 1.0)
    assert all(f is not None and 0 <= f <= 1 for _, f in calls)


def test_the_registries_hold_every_format() -> None:
    assert set(FORMATS) == {"csv", "tsv", "json", "jsonl", "parquet", "hf"}
    assert set(CHAT_FORMATS) == {
        "openai",
        "sharegpt",
        "alpaca",
        "sharegpt-preference",
        "preference",
        "preference-messages",
        "hh-rlhf",
    }
    assert all(cls.name == name for name, cls in FORMATS.items())
