"""`pairsmith import`: the JSON report shape, the exit codes and the error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curation.project import open_store
from tests.conftest import BITEXT_CSV
from ui.cli import app

runner = CliRunner()

REPORT_KEYS = {
    "file",
    "format",
    "rows_read",
    "imported",
    "skipped_existing",
    "rejected",
    "quarantine_file",
    "warnings",
}


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    # Rich wraps the summary at the terminal width; compare text with single spaces.
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "proj"
    assert invoke("init", str(project))[0] == 0
    return project


@pytest.mark.skipif(not BITEXT_CSV.exists(), reason="the shared Bitext dataset is not on this machine")
def test_import_bitext_json_report_and_stats(tmp_path: Path) -> None:
    project = _project(tmp_path)
    code, out, _ = invoke("import", str(project), str(BITEXT_CSV), "--json")
    assert code == 0
    report = json.loads(out)
    assert set(report) == REPORT_KEYS
    assert (report["imported"], report["rejected"], report["format"]) == (4514, 0, "csv")
    code, out, _ = invoke("stats", str(project), "--json")
    assert json.loads(out)["records"] == 4514
    code, out, err = invoke("import", str(project), str(BITEXT_CSV))
    assert code == 0
    assert "0 imported" in err and "4514 already in the project" in err


def test_import_with_options_and_quarantine_summary(tmp_path: Path) -> None:
    project = _project(tmp_path)
    data = tmp_path / "export.txt"
    data.write_text("key,body,reply,team\nk1,Help,Sure,red\nk2,,Empty,blue\n", encoding="utf-8")
    args = ["--format", "csv", "--input-col", "body", "--output-col", "reply", "--id-col", "key"]
    code, _, err = invoke("import", str(project), str(data), *args, "--metadata-col", "team")
    assert code == 0, err
    # The path may be wrapped at the terminal width: look for the word with the wrapping taken out.
    assert "1 imported" in err and "1 rejected" in err and "quarantine" in "".join(err.split())
    record = open_store(project).get_record("k1")
    assert (record.input, record.metadata) == ("Help", {"team": "red"})


def test_every_row_rejected_exits_1_with_a_message(tmp_path: Path) -> None:
    project = _project(tmp_path)
    data = tmp_path / "bad.jsonl"
    data.write_text('{"prompt": "", "response": "x"}\n{"prompt": "a", "resp', encoding="utf-8")
    code, out, err = invoke("import", str(project), str(data), "--json")
    assert code == 1
    report = json.loads(out)
    assert (report["imported"], report["rejected"]) == (0, 2)
    assert "every row of bad.jsonl was rejected" in err and report["quarantine_file"] in err
    assert Path(report["quarantine_file"]).exists()


def test_unusable_file_exits_1_with_a_clean_error(tmp_path: Path) -> None:
    project = _project(tmp_path)
    data = tmp_path / "data.csv"
    data.write_text('[{"prompt": "a", "response": "b"}]', encoding="utf-8")
    code, out, err = invoke("import", str(project), str(data))
    assert code == 1 and out == ""
    assert (
        err.startswith("Error: data.csv looks like JSON, not CSV; pass --format json")
        and "Traceback" not in err
    )
    odd = tmp_path / "odd.csv"
    odd.write_text("alpha,beta\n1,2\n", encoding="utf-8")
    code, _, err = invoke("import", str(project), str(odd))
    assert code == 1 and "columns found: alpha, beta" in err


def test_cli_reads_tool_calls_preference_pairs_and_tab_separated_txt(tmp_path: Path) -> None:
    project = _project(tmp_path)
    tools = tmp_path / "tools.json"
    tools.write_text(
        json.dumps(
            [
                {
                    "conversations": [
                        {"from": "human", "value": "Weather in Oslo?"},
                        {"from": "function_call", "value": '{"name": "weather", "arguments": {}}'},
                        {"from": "observation", "value": "-3 C"},
                        {"from": "gpt", "value": "It is -3 C."},
                    ]
                }
            ]
        ),
        encoding="utf-8",
    )
    hh = tmp_path / "hh.jsonl"
    hh.write_text(
        json.dumps(
            {"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": "\n\nHuman: Hi\n\nAssistant: Go."}
        )
        + "\n",
        encoding="utf-8",
    )
    txt = tmp_path / "pairs.txt"
    txt.write_text('prompt\tresponse\nHe said " hi .\tHello .\n', encoding="utf-8")
    formats = []
    for path in (tools, hh, txt):
        code, out, err = invoke("import", str(project), str(path), "--json")
        assert code == 0, err
        report = json.loads(out)
        assert (report["imported"], report["rejected"]) == (1, 0)
        formats.append(report["format"])
    assert formats == ["sharegpt", "hh-rlhf", "tsv"]
    store = open_store(project)
    try:
        by_output = {r.output: r for r in store.query_records().records}
    finally:
        store.close()
    assert [m.role for m in by_output["It is -3 C."].input] == ["user", "tool", "tool"]
    assert by_output["Hello!"].metadata["rejected_output"] == "Go."
    assert by_output["Hello ."].input == 'He said " hi .'
