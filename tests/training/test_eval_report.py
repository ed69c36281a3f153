"""Evaluation metrics, the HTML/JSON report, run comparison and the blind A/B review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from curation.errors import NotFoundError
from curation.model import Response, ResponseStatus
from curation.project import open_store
from tests.training.synthetic_task import SCHEMA
from training.ab_review import ab_project_dir, ab_win_rate, create_ab_review
from training.metrics import aggregate, default_primary_metric, record_scores
from training.report import compare_runs, load_report, render_html, write_report

GOOD = '{"category":"refund","urgency":"low","order_id":null,"summary":"refund"}'


def test_record_scores() -> None:
    perfect = record_scores(GOOD, GOOD, SCHEMA)
    assert perfect["exact_match"] == perfect["json_valid"] == perfect["json_valid_schema"] == 1.0
    assert perfect["rouge_l"] == pytest.approx(1.0) and perfect["chrf"] == pytest.approx(100.0)
    wrong_schema = record_scores('{"category":"other"}', GOOD, SCHEMA)
    assert wrong_schema["json_valid"] == 1.0 and wrong_schema["json_valid_schema"] == 0.0
    prose = record_scores("Sure! Here is the triage.", GOOD, SCHEMA)
    assert prose["json_valid"] == 0.0 and prose["exact_match"] == 0.0
    assert "json_valid_schema" not in record_scores(GOOD, GOOD, None)


def test_aggregate_and_primary_metric() -> None:
    result = aggregate([GOOD, "nope"], [GOOD, GOOD], SCHEMA)
    assert result["json_valid_schema"] == 0.5 and result["exact_match"] == 0.5
    assert 0 < result["chrf"] < 100
    assert default_primary_metric(SCHEMA) == "json_valid_schema"
    assert default_primary_metric(None) == "chrf"


def make_report(**overrides: Any) -> dict[str, Any]:
    """A report.json as evaluate_run writes it, with user text that must be escaped in HTML."""
    records = [
        {
            "id": f"r{i}",
            "input": f"<script>alert({i})</script> ticket",
            "reference": GOOD,
            "base": "I am not sure & cannot help",
            "tuned": GOOD,
            "base_scores": record_scores("x", GOOD, SCHEMA),
            "tuned_scores": record_scores(GOOD, GOOD, SCHEMA),
        }
        for i in range(4)
    ]
    report = {
        "primary_metric": "json_valid_schema",
        "base": aggregate([r["base"] for r in records], [GOOD] * 4, SCHEMA),
        "tuned": aggregate([r["tuned"] for r in records], [GOOD] * 4, SCHEMA),
        "test_examples": 4,
        "base_model": "m",
        "ab": None,
        "records": records,
    }
    return report | overrides


def test_report_files_are_self_contained_and_escaped(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "eval").mkdir(parents=True)
    (run / "train_log.jsonl").write_text(
        "\n".join(json.dumps({"step": s, "loss": 2.0 / s}) for s in range(1, 6))
        + '\n{"step": 5, "eval_loss": 0.3}\n'
    )
    write_report(make_report(), run / "eval")
    page = (run / "eval" / "report.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(0)&lt;/script&gt;" in page
    assert "<svg" in page and "polyline" in page and "http://" not in page.replace("http://www.w3.org", "")
    assert load_report(run)["primary_metric"] == "json_valid_schema"
    html_with_ab = render_html(make_report(ab={"judged": 4, "tuned_win_rate": 0.75, "ties": 1}))
    assert "75%" in html_with_ab


def test_compare_runs(tmp_path: Path) -> None:
    for name, tuned in (("a", GOOD), ("b", "nope")):
        report = make_report()
        report["tuned"] = aggregate([tuned] * 4, [GOOD] * 4, SCHEMA)
        write_report(report, tmp_path / name / "eval")
    rows = compare_runs([tmp_path / "a", tmp_path / "b"])
    assert [r["gain"] for r in rows] == [1.0, 0.0]
    with pytest.raises(NotFoundError, match="pairsmith eval"):
        compare_runs([tmp_path / "missing"])


def test_blind_ab_review_and_win_rate(tmp_path: Path) -> None:
    project, run = tmp_path / "proj", tmp_path / "runs" / "run1"
    write_report(make_report(), run / "eval")
    ab_dir = create_ab_review(project, run, seed=3)
    assert ab_dir == ab_project_dir(project, "run1")
    key = json.loads((run / "eval" / "ab_key.json").read_text())["a_is"]
    store = open_store(ab_dir)
    records = [r for page in store.iter_records() for r in page]
    assert len(records) == 4 and {r.metadata.get("ab_run") for r in records} == {"run1"}
    assert all("base" not in json.dumps(r.metadata) for r in records)  # the mapping is not in the store
    assert all(r.output.startswith("A:\n") and "\n\nB:\n" in r.output for r in records)
    assert store.get_project().questions[0].options == ["A", "B", "tie"]
    assert ab_win_rate(project, run)["judged"] == 0
    # The annotator picks the tuned answer three times and calls one a tie.
    for i, record in enumerate(records):
        choice = "tie" if i == 0 else ("A" if key[record.id] == "tuned" else "B")
        store.save_response(
            Response(
                record_id=record.id,
                user="ann",
                values={"preference": choice},
                status=ResponseStatus.submitted,
            )
        )
    store.close()
    result = ab_win_rate(project, run)
    assert (result["tuned_wins"], result["base_wins"], result["ties"]) == (3, 0, 1)
    assert result["tuned_win_rate"] == pytest.approx(3.5 / 4)


def test_json_match_compares_parsed_answers() -> None:
    reordered = '{"urgency":"low","category":"refund","order_id":null,"summary":"refund"}'
    assert record_scores(reordered, GOOD, SCHEMA)["json_match"] == 1.0  # key order and spacing do not matter
    assert record_scores(reordered, GOOD, SCHEMA)["exact_match"] == 0.0
    assert record_scores(GOOD.replace("low", "high"), GOOD, SCHEMA)["json_match"] == 0.0
    assert record_scores("not json", GOOD, SCHEMA)["json_match"] == 0.0
    assert "json_match" not in record_scores(GOOD, GOOD, None)


def test_field_accuracy_gives_partial_credit_per_field() -> None:
    half = '{"category":"refund","urgency":"high","order_id":"x","summary":"refund"}'
    assert record_scores(half, GOOD, SCHEMA)["json_field_accuracy"] == 0.5
    assert record_scores(GOOD, GOOD, SCHEMA)["json_field_accuracy"] == 1.0
    assert record_scores("prose", GOOD, SCHEMA)["json_field_accuracy"] == 0.0
