"""The Export page's choices and plain words: reasons, formats, split, base model, the dry-run CSV."""

from __future__ import annotations

import csv
import io

import pytest
import yaml

from curation.errors import BadInputError
from curation.model import Response
from curation.project import init_project
from tests.factories import make_record
from training.base_model import DEFAULT_BASE_MODEL, check_base_model
from training.clean_set import REASON_NAMES, REASONS, dry_run_csv, plain_reason, select_clean_set
from training.ship import ShipConfig, ship_config_with, write_ship_config


def test_every_reason_has_plain_words():
    assert set(REASON_NAMES) == set(REASONS)
    assert plain_reason("label_excluded") == "labelled bad"
    assert plain_reason("duplicate") != plain_reason("duplicate_dropped")
    assert plain_reason("needs_fix_corrected") == "corrected by a reviewer"
    assert plain_reason("some_new_label") == "some new label"
    assert plain_reason("quality_flag: truncated_output") == "has a quality problem (flag): truncated_output"


def test_the_dry_run_csv_lists_every_record_with_its_reason(tmp_path):
    store = init_project(tmp_path / "p", "p")
    store.upsert_records([make_record(id="r1"), make_record(id="r2"), make_record(id="r3")])
    store.save_response(Response(record_id="r1", user="ann", values={"label": "good"}, status="submitted"))
    store.save_response(Response(record_id="r2", user="ann", values={"label": "bad"}, status="submitted"))
    rows = list(csv.DictReader(io.StringIO(dry_run_csv(select_clean_set(store)))))
    store.close()
    by_id = {r["id"]: r for r in rows}
    assert by_id["r1"]["exported"] == "yes" and by_id["r1"]["why"] == "labelled good"
    assert (by_id["r2"]["exported"], by_id["r2"]["why"], by_id["r2"]["reason_code"]) == (
        "no",
        "labelled bad",
        "label_excluded",
    )
    assert by_id["r3"]["why"] == "not reviewed yet"


def test_ship_config_with_applies_the_choices_and_always_writes_hf(tmp_path):
    chosen = ship_config_with(
        ShipConfig(),
        formats=["openai"],
        fractions={"train": 0.6, "validation": 0.2, "test": 0.2},
        base_model=DEFAULT_BASE_MODEL,
        include_unreviewed=True,
    )
    assert chosen.export.formats == ["hf", "openai"] and chosen.export.include_unreviewed
    assert chosen.export.fractions.train == 0.6
    saved = yaml.safe_load(write_ship_config(chosen, tmp_path / "c.yaml").read_text())
    assert ShipConfig.model_validate(saved) == chosen
    with pytest.raises(BadInputError, match=r"add up to 1\.1"):
        ship_config_with(ShipConfig(), fractions={"train": 0.8, "validation": 0.2, "test": 0.1})
    with pytest.raises(BadInputError, match="unknown export format csv"):
        ship_config_with(ShipConfig(), formats=["csv"])


def test_a_base_model_is_the_bundled_one_a_model_folder_or_a_hub_id_when_online(tmp_path, monkeypatch):
    assert check_base_model(DEFAULT_BASE_MODEL) == DEFAULT_BASE_MODEL
    folder = tmp_path / "model"
    folder.mkdir()
    with pytest.raises(BadInputError, match=r"holds no config\.json"):
        check_base_model(str(folder))
    (folder / "config.json").write_text("{}")
    assert check_base_model(str(folder)) == str(folder.resolve())
    with pytest.raises(BadInputError, match="not a model folder on this machine"):
        check_base_model(str(tmp_path / "missing"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BadInputError, match="model downloads are off"):
        check_base_model("HuggingFaceTB/SmolLM2-360M-Instruct")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert check_base_model("HuggingFaceTB/SmolLM2-360M-Instruct") == "HuggingFaceTB/SmolLM2-360M-Instruct"
    with pytest.raises(BadInputError, match="choose a base model"):
        check_base_model("  ")
