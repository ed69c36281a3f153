"""A clean set cannot collapse silently: above 20 % left out by dedup or flags, export, ship and
the Export page say so first, with the top reasons and examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from curation import metadata_keys as F
from curation.model import Record
from curation.project import init_project
from tests.factories import make_record
from training import ship as ship_module
from training.clean_set import select_from
from training.collapse import collapse_warning
from training.export_config import ExportConfig
from ui.cli import app

UNREVIEWED = ExportConfig(include_unreviewed=True)


def _records(n: int, duplicates: int, truncated: int = 0) -> list[Record]:
    """n records; the first ``duplicates`` + 1 form one group, the next ``truncated`` are flagged."""
    records = []
    for i in range(n):
        meta: dict[str, Any] = {}
        if i <= duplicates:
            meta = {F.DUP_GROUP: "dup-1", F.DUP_KEEPER: "yes" if i == 0 else None}
        elif i <= duplicates + truncated:
            meta = {F.FLAGS: ["truncated_output"]}
        records.append(make_record(id=f"r{i:03d}", input=f"question number {i} about plants", metadata=meta))
    return records


def test_no_warning_at_or_below_a_fifth() -> None:
    clean = select_from(_records(10, duplicates=2), [], UNREVIEWED)
    assert len(clean.excluded) == 2 and clean.collapse is None
    assert clean.summary()["collapse"] is None


def test_warning_names_the_top_reasons_with_examples() -> None:
    clean = select_from(_records(20, duplicates=6, truncated=3), [], UNREVIEWED)
    warning = clean.collapse
    assert warning is not None and warning.excluded == 9 and warning.judged == 20
    assert [(r.reason, r.records) for r in warning.reasons] == [
        ("duplicate", 6),
        ("quality_flag: truncated_output", 3),
    ]
    example = warning.reasons[0].examples[0]
    assert example["id"] == "r001" and example["input"] == "question number 1 about plants"
    assert "kept r000" in example["detail"]
    message = warning.message()
    assert "9 of the 20" in message and "45%" in message and "duplicate: 6" in message
    assert clean.summary()["collapse"]["reasons"][1]["records"] == 3


def test_review_outcomes_are_not_counted_as_collapse() -> None:
    # Unreviewed records left out are a choice, not a filter misfiring.
    clean = select_from(_records(10, duplicates=0), [], ExportConfig())
    assert len(clean.excluded) == 10 and clean.collapse is None
    assert collapse_warning(0, [("a", "unreviewed", "")], {}) is None


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    store = init_project(root, "p")
    store.upsert_records(_records(20, duplicates=8))
    store.close()
    return root


def test_export_dry_run_says_so_first(tmp_path: Path) -> None:
    root = _project(tmp_path)
    runner = CliRunner()
    text = runner.invoke(app, ["export", str(root), "--dry-run", "--include-unreviewed"])
    assert text.exit_code == 0, text.stderr
    assert text.stdout.lstrip().startswith("Warning: Dedup and quality flags would leave out 8 of the 20")
    shown = runner.invoke(app, ["export", str(root), "--dry-run", "--include-unreviewed", "--json"])
    collapse = json.loads(shown.stdout)["collapse"]
    assert collapse["excluded"] == 8 and collapse["reasons"][0]["reason"] == "duplicate"


def test_ship_says_so_before_exporting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    said: list[dict[str, Any]] = []
    exported: list[bool] = []
    real_export = ship_module.export_clean_set

    def export(*args: Any, **kwargs: Any) -> Any:
        exported.append(any("warning" in s for s in said))
        return real_export(*args, **kwargs)

    def stop_training(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("stop after export")

    monkeypatch.setattr(ship_module, "export_clean_set", export)
    monkeypatch.setattr(ship_module, "train_adapter", stop_training)
    with pytest.raises(RuntimeError, match="stop after export"):
        ship_module.ship(root, tmp_path / "run", include_unreviewed=True, progress=said.append)
    assert exported == [True]  # the warning came first
    assert "8 of the 20" in next(s["warning"] for s in said if "warning" in s)
    assert "8 of the 20" in ship_module.read_state(tmp_path / "run")["warnings"][0]
