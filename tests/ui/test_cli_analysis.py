"""The analysis commands of the CLI: analyze, duplicates, clusters, diversity (hashing embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curation.analysis.embeddings import models as embeddings
from curation.project import init_project
from tests.factories import make_record, make_response
from ui.cli import app

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The CLI's default embedder is MiniLM; the deterministic fake keeps this test fast.
    monkeypatch.setitem(embeddings.EMBEDDERS, "minilm", embeddings.HashingEmbedder)
    root = tmp_path / "proj"
    store = init_project(root, "proj")
    topics = ["Where is my parcel, shipping is late", "Refund my broken blender", "I forgot my password"]
    records = [
        make_record(id=f"r{i:03d}", input=f"{topics[i % 3]} ticket {i}", output=f"answer {i % 3} {i}")
        for i in range(30)
    ]
    records.append(make_record(id="copy", input=records[0].input, output=records[0].output))
    store.upsert_records(records)
    store.save_response(make_response("r000", values={"label": "good"}))
    store.close()
    return root


def test_analyze_then_list_duplicates_clusters_and_diversity(project: Path) -> None:
    result = runner.invoke(app, ["analyze", str(project), "--json", "--k", "3"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["records"] == 31 and report["clusters"] == 3

    everything = json.loads(runner.invoke(app, ["duplicates", str(project), "--json"]).stdout)
    [group] = [g for g in everything if "copy" in {r["id"] for r in g["records"]}]
    # The exact copy and the template's near copies are one star; its tier is its weakest link.
    result = runner.invoke(app, ["duplicates", str(project), "--json", "--tier", group["tier"]])
    groups = json.loads(result.stdout)
    assert group in groups and {g["tier"] for g in groups} == {group["tier"]}
    assert all(set(g) == {"group", "tier", "score", "records", "keeper"} for g in groups)
    rows = {r["id"]: r["source_row"] for r in group["records"]}
    assert "copy" in rows and "r000" in rows and all(isinstance(v, int) for v in rows.values())

    listing = json.loads(runner.invoke(app, ["clusters", str(project), "--json"]).stdout)
    assert sum(c["size"] for c in listing["clusters"]) == 31
    assert all({"id", "name", "size", "records"} <= set(c) for c in listing["clusters"])

    figures = json.loads(
        runner.invoke(app, ["diversity", str(project), "--json", "--status", "submitted"]).stdout
    )
    assert figures["filter"] == {"status": "submitted"} and figures["records"] == 1
    # One record says nothing about coverage: no hints, and the reason why.
    assert figures["clusters_covered"] == 1 and figures["hints"] == []
    assert "Coverage hints need at least 20 records here" in figures["hints_withheld"]

    assert runner.invoke(app, ["clusters", str(project)]).exit_code == 0  # the table view


def test_listing_before_analysis_says_what_to_run(project: Path) -> None:
    result = runner.invoke(app, ["duplicates", str(project), "--json"])
    assert result.exit_code == 1 and "run `pairsmith analyze" in result.stderr
    result = runner.invoke(app, ["diversity", str(project), "--status", "nope"])
    assert result.exit_code == 1


def test_precision_int8_reaches_the_embedder_and_the_report(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class PrecisionSettings(embeddings.HashingSettings):
        precision: str = "fp32"

    class PrecisionAware(embeddings.HashingEmbedder):
        Settings = PrecisionSettings

        @property
        def key(self) -> str:
            return f"{super().key}:{self.settings.precision}"  # type: ignore[attr-defined]

    monkeypatch.setitem(embeddings.EMBEDDERS, "minilm", PrecisionAware)
    result = runner.invoke(app, ["analyze", str(project), "--json", "--precision", "int8"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["settings"]["embedder_settings"] == {"precision": "int8"}
    assert report["embedder"].endswith(":int8")
    result = runner.invoke(app, ["analyze", str(project), "--precision", "int4"])
    assert result.exit_code == 2 and "int4" in result.stderr


def test_analyze_is_full_by_default_fast_is_one_option_away_and_the_table_says_how(project: Path) -> None:
    result = runner.invoke(app, ["analyze", str(project), "--json"])
    assert result.exit_code == 0, result.stderr
    method = json.loads(result.stdout)["method"]
    assert method["quality"] == "full" and method["device"] == "cpu"
    assert method["outputs_embedded"] == 31 and method["thresholds"]["semantic_input_cosine"] == 0.85
    table = runner.invoke(app, ["analyze", str(project), "--quality", "fast"])
    assert table.exit_code == 0, table.stderr
    assert "fast on cpu" in table.stdout and "outputs embedded by MiniLM" in table.stdout
    assert "static model distilled" in table.stdout  # the one-time cost, shown apart
    refused = runner.invoke(app, ["analyze", str(project), "--quality", "best"])
    assert refused.exit_code != 0 and "best" in refused.output


def test_analyze_on_an_empty_project_says_to_import_first(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    init_project(root, "empty").close()
    result = runner.invoke(app, ["analyze", str(root)])
    assert result.exit_code == 1
    assert "no records to analyse" in result.stderr and f"pairsmith import {root}" in result.stderr
    assert not (root / "analysis" / "report.json").exists()
