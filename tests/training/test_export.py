"""Export: every format loads back, the OpenAI file follows the chat rules, the manifest traces, writes are atomic."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets
import pytest

from curation import metadata_keys as F
from curation.analysis.pipeline import AnalysisSettings, analyze_project
from curation.errors import BadInputError, PermissionDeniedError
from curation.files import ProjectPaths
from curation.model import ChatMessage, Role, User
from curation.project import init_project
from curation.store.base import RecordStore
from tests.factories import make_chat_record, make_record, make_response
from training import export_formats
from training.export import COLUMNS, export_clean_set, validate_openai_chat_jsonl
from training.export_config import ExportConfig
from training.splits import SPLITS

ProjectFactory = Callable[..., tuple[Path, RecordStore]]


def seeded_project(make_local_project: ProjectFactory, n: int = 40) -> tuple[Path, RecordStore]:
    """A project with n labeled records: prompts, chats with a system prompt, a fix, a bad one, a golden one."""
    root, store = make_local_project()
    records = [make_record(input=f"Where is order {i}?", metadata={F.CLUSTER: i % 3}) for i in range(n)]
    records += [make_chat_record(), make_record(system="Answer in JSON.", input="Cancel order 7")]
    records += [make_record(input="golden question", golden=True)]
    fix, bad = make_record(input="needs a fix"), make_record(input="is bad")
    records += [fix, bad]
    store.upsert_records(records)
    for record in records:
        values: dict[str, Any] = {"label": "good"}
        if record.id == fix.id:
            values = {"label": "needs_fix", "corrected_output": "corrected answer"}
        elif record.id == bad.id:
            values = {"label": "bad"}
        store.save_response(make_response(record.id, values=values))
    return root, store


@pytest.fixture
def exported(make_local_project: ProjectFactory, tmp_path: Path) -> tuple[Path, RecordStore, Any]:
    root, store = seeded_project(make_local_project)
    ProjectPaths(root).analysis.mkdir(parents=True, exist_ok=True)
    (ProjectPaths(root).analysis / "diversity.json").write_text(
        json.dumps({"distinct_2": 0.42, "clusters": 3})
    )
    result = export_clean_set(store, tmp_path / "out", ExportConfig(), project_dir=root)
    return tmp_path / "out", store, result


def test_hf_and_parquet_load_back_with_datasets(exported: tuple[Path, RecordStore, Any]) -> None:
    out, _, result = exported
    hf = datasets.load_from_disk(str(out / "hf"))
    assert set(hf) == set(SPLITS)
    assert {s: len(hf[s]) for s in SPLITS} == result.counts
    assert sum(result.counts.values()) == 44  # 45 records, the bad one left out
    assert tuple(hf["train"].column_names) == COLUMNS
    parquet = datasets.load_dataset(
        "parquet", data_files={s: str(out / "parquet" / f"{s}.parquet") for s in SPLITS}
    )
    for split in SPLITS:
        assert parquet[split].to_list() == hf[split].to_list()
    for row in hf["train"].to_list() + hf["test"].to_list():
        assert row["messages"] == row["prompt"] + row["completion"]
        assert row["completion"] == [{"role": "assistant", "content": row["output"]}]
        assert row["prompt"][-1]["role"] == "user"
    rows = {r["id"]: r for s in SPLITS for r in hf[s].to_list()}
    assert "corrected answer" in {r["output"] for r in rows.values()}
    golden = [r for r in rows.values() if r["golden"]]
    assert len(golden) == 1 and golden[0]["id"] in set(hf["test"]["id"])


def test_openai_files_follow_the_chat_format(exported: tuple[Path, RecordStore, Any]) -> None:
    out, _, result = exported
    for name, split in (
        ("openai.jsonl", "train"),
        ("openai_validation.jsonl", "validation"),
        ("openai_test.jsonl", "test"),
    ):
        assert validate_openai_chat_jsonl(out / name) == []
        lines = (out / name).read_text().splitlines()
        assert len(lines) == result.counts[split]
    loaded = datasets.load_dataset("json", data_files=str(out / "openai.jsonl"))["train"]
    assert loaded.column_names == ["messages"] and len(loaded) == result.counts["train"]
    roles = [[m["role"] for m in example["messages"]] for example in loaded]
    assert ["system", "user", "assistant"] in roles and ["user", "assistant"] in roles


def test_alpaca_and_sharegpt_shapes(exported: tuple[Path, RecordStore, Any]) -> None:
    out, _, result = exported
    for stem in ("alpaca", "sharegpt"):
        for split in SPLITS:
            name = f"{stem}.json" if split == "train" else f"{stem}_{split}.json"
            assert len(json.loads((out / name).read_text())) == result.counts[split]
    alpaca = json.loads((out / "alpaca.json").read_text()) + json.loads(
        (out / "alpaca_test.json").read_text()
    )
    assert all(
        {"instruction", "input", "output"} <= set(a) and a["instruction"] and a["output"] for a in alpaca
    )
    sharegpt = json.loads((out / "sharegpt.json").read_text())
    for example in sharegpt:
        froms = [turn["from"] for turn in example["conversations"]]
        assert froms[-1] == "gpt" and "human" in froms and set(froms) <= {"system", "human", "gpt"}
    for stem in ("alpaca", "sharegpt"):
        files = {s: str(out / (f"{stem}.json" if s == "train" else f"{stem}_{s}.json")) for s in SPLITS}
        loaded = datasets.load_dataset("json", data_files=files)
        assert {s: len(loaded[s]) for s in SPLITS} == result.counts


def test_manifest_ties_the_export_to_records_responses_and_version(
    exported: tuple[Path, RecordStore, Any],
) -> None:
    out, store, result = exported
    manifest = json.loads((out / "manifest.json").read_text())
    version = store.list_versions()[-1]
    assert manifest["dataset_version"]["name"] == version.name == result.version.name
    assert manifest["dataset_version"]["content_hash"] == version.content_hash
    assert version.name.startswith("export-")
    _, records, responses = store.load_version(version.name)
    record_hash = {r.id: r.content_hash for r in records}
    response_hash = {r.record_id: r.content_hash() for r in responses}
    for split in SPLITS:
        assert len(manifest["splits"][split]) == result.counts[split]
        for entry in manifest["splits"][split]:
            assert entry["content_hash"] == record_hash[entry["id"]]
            assert entry["response_hashes"] == [response_hash[entry["id"]]]
    assert manifest["config"] == json.loads((out / "export_config.json").read_text())
    assert (
        manifest["pairsmith_version"]
        and manifest["created_at"]
        and manifest["export_hash"] == result.export_hash
    )
    assert set(manifest["files"]) >= {
        "openai.jsonl",
        "parquet/test.parquet",
        "README.md",
        "hf/dataset_dict.json",
    }


def test_the_manifest_says_how_the_analysis_behind_the_export_was_made(
    make_local_project: ProjectFactory, tmp_path: Path
) -> None:
    root, store = make_local_project()
    topics = "tides volcanoes tax refunds sourdough chess openings printer jams orbital mechanics "
    topics += "tulip bulbs jazz chords password resets rainwater tanks bicycle gears llama wool"
    records = [make_record(input=f"How do {t} work, in short?", output=f"About {t}.") for t in topics.split()]
    store.upsert_records(records)
    for record in records:
        store.save_response(make_response(record.id, values={"label": "good"}))
    export_clean_set(store, tmp_path / "before", ExportConfig(), project_dir=root)
    # Never analysed: the manifest says so rather than inventing a method.
    assert json.loads((tmp_path / "before" / "manifest.json").read_text())["analysis"] is None
    settings = AnalysisSettings(embedder="hashing", quality="full")
    settings.semantic.threshold = 0.93
    report = analyze_project(root, settings=settings)
    export_clean_set(store, tmp_path / "after", ExportConfig(), project_dir=root)
    analysis = json.loads((tmp_path / "after" / "manifest.json").read_text())["analysis"]
    assert analysis == report.method.model_dump(mode="json")
    assert analysis["quality"] == "full" and analysis["device"] == "cpu"
    assert analysis["thresholds"]["semantic_input_cosine"] == 0.93


def test_card_and_contamination(exported: tuple[Path, RecordStore, Any]) -> None:
    out, _, result = exported
    card = (out / "README.md").read_text()
    for needle in (
        "## Splits",
        "tickets.csv",
        "label_excluded",
        "distinct_2",
        "guidelines version 1",
        "0.42",
    ):
        assert needle in card
    assert "path: parquet/train.parquet" in card
    contamination = json.loads((out / "contamination.json").read_text())
    assert len(contamination["records"]) == result.counts["test"]
    assert set(contamination["summary"]) >= {"max", "mean", "above_threshold"}


def test_re_exporting_a_named_version_is_reproducible(
    make_local_project: ProjectFactory, tmp_path: Path
) -> None:
    _, store = seeded_project(make_local_project)
    first = export_clean_set(store, tmp_path / "a", ExportConfig(version="v1"))
    # Later labels do not change what version v1 holds.
    extra = make_record(input="arrived later")
    store.upsert_records([extra])
    store.save_response(make_response(extra.id))
    again = export_clean_set(store, tmp_path / "b", ExportConfig(version="v1"))
    assert again.export_hash == first.export_hash
    for name in ("openai.jsonl", "openai_test.jsonl", "alpaca_validation.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert [v.name for v in store.list_versions()] == ["v1"]
    latest = export_clean_set(store, tmp_path / "c", ExportConfig(formats=["openai"]))
    assert sum(latest.counts.values()) == sum(first.counts.values()) + 1


def test_a_crash_mid_export_leaves_the_previous_export_untouched(
    make_local_project: ProjectFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, store = seeded_project(make_local_project)
    out = tmp_path / "out"
    export_clean_set(store, out, ExportConfig(formats=["openai"], version="v1"))
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def explode(out_dir: Path, rows: Any) -> list[str]:
        (out_dir / "sharegpt.json").write_text("[half")
        raise RuntimeError("disk full")

    monkeypatch.setitem(export_formats._FORMATS, "sharegpt", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        export_clean_set(store, out, ExportConfig(formats=["openai", "sharegpt"], version="v1"))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_an_empty_clean_set_and_unknown_format_are_clear_errors(
    make_local_project: ProjectFactory, tmp_path: Path
) -> None:
    _, store = make_local_project()
    store.upsert_records([make_record()])
    with pytest.raises(BadInputError, match=r"clean set .* is empty"):
        export_clean_set(store, tmp_path / "out", ExportConfig())
    with pytest.raises(BadInputError, match="unknown export format"):
        export_clean_set(store, tmp_path / "out", ExportConfig(formats=["csv"]))
    assert not (tmp_path / "out").exists()
    assert store.list_versions() == []
    # One record cannot fill validation and test: refused before a version or a file is written.
    with pytest.raises(BadInputError, match=r"validation split would get 0.*needs at least 7 records"):
        export_clean_set(store, tmp_path / "out", ExportConfig(include_unreviewed=True, formats=["openai"]))
    assert store.list_versions() == [] and not (tmp_path / "out").exists()
    train_only = ExportConfig.model_validate(
        {
            "include_unreviewed": True,
            "formats": ["openai", "hf"],
            "fractions": {"train": 1, "validation": 0, "test": 0},
        }
    )
    result = export_clean_set(store, tmp_path / "out", train_only)
    assert sum(result.counts.values()) == 1
    assert list(datasets.load_from_disk(str(tmp_path / "out" / "hf"))) == ["train"]  # empty splits left out


def test_preference_pairs_and_tool_messages_export(
    make_local_project: ProjectFactory, tmp_path: Path
) -> None:
    """Imported preference pairs come out as TRL's prompt/chosen/rejected; tool turns keep their place."""
    _, store = make_local_project()
    pair = make_record(input="Name a colour.", output="Blue.", metadata={F.REJECTED_OUTPUT: "No."})
    tools = make_chat_record(
        input=[
            ChatMessage(role="user", content="Weather?"),
            ChatMessage(role="tool", kind="call", name="weather", content='{"name": "weather"}'),
            ChatMessage(role="tool", kind="result", content="-3 C"),
        ],
        output="It is -3 C.",
    )
    store.upsert_records([pair, tools])
    config = ExportConfig(
        include_unreviewed=True,
        formats=["preference", "sharegpt"],
        fractions={"train": 1.0, "validation": 0.0, "test": 0.0},
    )
    export_clean_set(store, tmp_path / "out", config)
    lines = (tmp_path / "out" / "preference.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "prompt": [{"role": "user", "content": "Name a colour."}],
            "chosen": [{"role": "assistant", "content": "Blue."}],
            "rejected": [{"role": "assistant", "content": "No."}],
        }
    ]
    sharegpt = json.loads((tmp_path / "out" / "sharegpt.json").read_text(encoding="utf-8"))
    turns = next(c["conversations"] for c in sharegpt if len(c["conversations"]) == 4)
    assert [t["from"] for t in turns] == ["human", "gpt", "observation", "gpt"]


def write_jsonl(path: Path, examples: list[Any]) -> Path:
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in examples))
    return path


@pytest.mark.parametrize(
    ("example", "problem"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "last message must be the assistant"),
        ({"messages": [{"role": "assistant", "content": "hi"}]}, "no user message"),
        (
            {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]},
            "non-empty",
        ),
        ({"messages": [{"role": "user", "content": "hi"}, {"role": "bot", "content": "x"}]}, "role 'bot'"),
        (
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "system", "content": "s"},
                    {"role": "assistant", "content": "y"},
                ]
            },
            "only come first",
        ),
        ({"messages": []}, "non-empty list"),
        (
            {
                "prompt": "x",
                "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}],
            },
            "unknown keys",
        ),
        ("{not json", "not valid JSON"),
        ([1, 2], "JSON object"),
    ],
)
def test_validator_reports_each_broken_rule(tmp_path: Path, example: Any, problem: str) -> None:
    problems = validate_openai_chat_jsonl(write_jsonl(tmp_path / "f.jsonl", [example]))
    assert any(problem in p for p in problems), problems
    assert all(p.startswith("f.jsonl") for p in problems)


def test_validator_accepts_a_valid_file_and_counts_examples(tmp_path: Path) -> None:
    good = {
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": "a", "weight": 1},
        ]
    }
    path = write_jsonl(tmp_path / "ok.jsonl", [good, good])
    assert validate_openai_chat_jsonl(path) == []
    assert validate_openai_chat_jsonl(path, min_examples=10) == ["ok.jsonl: 2 examples, at least 10 needed"]


def test_chat_input_with_several_turns_is_kept_whole(
    make_local_project: ProjectFactory, tmp_path: Path
) -> None:
    _, store = make_local_project()
    record = make_chat_record(
        input=[
            ChatMessage(role="user", content="hi"),
            ChatMessage(role="assistant", content="hello, how can I help?"),
            ChatMessage(role="user", content="my fern died"),
        ]
    )
    store.upsert_records([record])
    store.save_response(make_response(record.id))
    fractions = {"train": 1.0, "validation": 0.0, "test": 0.0}
    export_clean_set(store, tmp_path / "out", ExportConfig.model_validate({"fractions": fractions}))
    (line,) = (tmp_path / "out" / "openai.jsonl").read_text().splitlines()
    assert [m["role"] for m in json.loads(line)["messages"]] == ["user", "assistant", "user", "assistant"]
    assert validate_openai_chat_jsonl(tmp_path / "out" / "openai.jsonl") == []
    assert validate_openai_chat_jsonl(tmp_path / "out" / "openai_test.jsonl", min_examples=0) == []


def test_only_owners_may_export(tmp_path: Path) -> None:
    store = init_project(tmp_path / "p", "p")
    store.add_user(User(name="ann", role=Role.annotator))
    with pytest.raises(PermissionDeniedError, match="ann"):
        export_clean_set(store, tmp_path / "out", user="ann")
    assert not (tmp_path / "out").exists()
