"""`pairsmith export`: dry-run explanations, the export itself, flags over the config file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from curation import metadata_keys as F
from curation.project import init_project
from tests.factories import make_record, make_response
from ui.cli import app

runner = CliRunner()


def project_with_labels(root: Path) -> list[str]:
    store = init_project(root, "p")
    records = [make_record(input=f"question {i}") for i in range(12)]
    records[1].metadata[F.FLAGS] = ["too_long"]
    store.upsert_records(records)
    for record in records[:10]:
        store.save_response(make_response(record.id, values={"label": "good"}))
    store.save_response(make_response(records[10].id, values={"label": "bad"}))
    store.close()
    return [r.id for r in records]


def test_dry_run_json_explains_every_record_and_writes_nothing(tmp_path: Path) -> None:
    ids = project_with_labels(tmp_path / "p")
    result = runner.invoke(
        app, ["export", str(tmp_path / "p"), "--out", str(tmp_path / "out"), "--dry-run", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["dry_run"] is True
    assert (summary["records"], summary["included"], summary["excluded"]) == (12, 9, 3)
    assert summary["excluded_by"] == {"unreviewed": 1, "label_excluded": 1, "quality_flag": 1}
    by_id = {row["id"]: row for row in summary["per_record"]}
    assert set(by_id) == set(ids)
    assert by_id[ids[1]] == {"id": ids[1], "included": False, "reason": "quality_flag", "detail": "too_long"}
    assert not (tmp_path / "out").exists()


def test_dry_run_text_and_include_unreviewed_flag_over_the_config(tmp_path: Path) -> None:
    project_with_labels(tmp_path / "p")
    config = tmp_path / "export.yaml"
    config.write_text("include_unreviewed: false\n")
    result = runner.invoke(
        app, ["export", str(tmp_path / "p"), "--dry-run", "--config", str(config), "--include-unreviewed"]
    )
    assert result.exit_code == 0, result.stderr
    assert "10 of 12 records included" in result.stdout and "unreviewed" in result.stdout


def test_export_json_and_errors(tmp_path: Path) -> None:
    project_with_labels(tmp_path / "p")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["export", str(tmp_path / "p"), "--out", str(out), "--version", "v1", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["version"] == "v1" and sum(shown["counts"].values()) == 9
    assert set(shown) == {
        "out_dir",
        "version",
        "version_hash",
        "export_hash",
        "counts",
        "included_by",
        "excluded_by",
        "contamination",
        "files",
        "selection",
    }
    assert (out / "openai.jsonl").exists() and "manifest.json" in shown["files"]

    missing_out = runner.invoke(app, ["export", str(tmp_path / "p")])
    assert missing_out.exit_code == 2 and "--out is required" in missing_out.stderr
    bad_config = tmp_path / "bad.json"
    bad_config.write_text('{"seed": "many"}')
    bad = runner.invoke(app, ["export", str(tmp_path / "p"), "--dry-run", "--config", str(bad_config)])
    assert bad.exit_code == 1 and "seed" in bad.stderr
    not_a_project = runner.invoke(app, ["export", str(tmp_path / "nowhere"), "--dry-run"])
    assert not_a_project.exit_code == 1 and "not a pairsmith project" in not_a_project.stderr


def test_select_keeps_the_best_n_training_records_and_says_why(tmp_path: Path) -> None:
    import numpy as np

    store = init_project(tmp_path / "p", "p")
    records = [make_record(input=f"question {i}", metadata={F.CLUSTER: i % 2}) for i in range(30)]
    store.upsert_records(records)
    rng = np.random.default_rng(1)
    store.set_vectors(F.VECTOR_PAIR, [r.id for r in records], rng.standard_normal((30, 8)).astype(np.float32))
    for record in records:
        store.save_response(make_response(record.id, values={"label": "good"}))
    store.close()
    dry = runner.invoke(app, ["export", str(tmp_path / "p"), "--dry-run", "--select", "5", "--json"])
    assert dry.exit_code == 0, dry.stderr
    picks = json.loads(dry.stdout)["selection"]["records"]
    assert len(picks) == 5 and all("quality" in p["why"] for p in picks)
    done = runner.invoke(
        app, ["export", str(tmp_path / "p"), "--out", str(tmp_path / "out"), "--select", "5"]
    )
    assert done.exit_code == 0, done.stderr
    assert "Selected 5 of" in done.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert len(manifest["splits"]["train"]) == 5 and len(manifest["selection"]["records"]) == 5


def test_select_without_analysis_is_a_clean_error(tmp_path: Path) -> None:
    project_with_labels(tmp_path / "p")
    result = runner.invoke(app, ["export", str(tmp_path / "p"), "--dry-run", "--select", "3"])
    assert result.exit_code == 1 and "pairsmith analyze" in result.stderr
