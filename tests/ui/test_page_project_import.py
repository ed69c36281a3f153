"""The project & import page: preview, column mapping, import, rejected rows with reasons."""

from __future__ import annotations

import json

from curation import metadata_keys
from tests.ui.conftest import OWNER, app_as, no_exception

PAGE = "app_pages/project_import.py"


def test_import_with_mapping_shows_rejected_rows(seeded_project, tmp_path):
    root, store = seeded_project([])
    csv = tmp_path / "pairs.csv"
    csv.write_text(
        "question,answer,channel\nWhere is my order?,It ships today.,email\n,Refund issued.,chat\n",
        encoding="utf-8",
    )
    at = app_as(root, OWNER, PAGE)
    at.radio(key="import_source").set_value("Path on this machine").run()
    at.text_input(key="import_path").input(str(csv)).run()
    no_exception(at)
    preview = next(d.value for d in at.dataframe if "question" in d.value.columns)
    assert preview["question"].tolist() == ["Where is my order?", ""]
    at.selectbox(key="import_input_col").select("question")
    at.selectbox(key="import_output_col").select("answer")
    at.button(key="import_run").click().run()
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Imported"] == "1" and metrics["Rejected"] == "1"
    assert store.count_records() == 1
    rejected = at.dataframe[-1].value
    assert rejected["row"].tolist() == [2] and "input" in rejected["reason"].item()


def test_preview_shows_what_a_preference_file_becomes(seeded_project, tmp_path):
    root, store = seeded_project([])
    data = tmp_path / "dpo.json"
    data.write_text(
        json.dumps(
            [
                {
                    "conversations": [{"from": "human", "value": "Name a colour."}],
                    "chosen": {"from": "gpt", "value": "Blue."},
                    "rejected": {"from": "gpt", "value": "No."},
                }
            ]
        ),
        encoding="utf-8",
    )
    at = app_as(root, OWNER, PAGE)
    at.radio(key="import_source").set_value("Path on this machine").run()
    at.text_input(key="import_path").input(str(data)).run()
    no_exception(at)
    assert any("records shaped as sharegpt-preference" in c.value for c in at.caption)
    records = next(d.value for d in at.dataframe if "rejected reply" in d.value.columns)
    assert records["output"].tolist() == ["Blue."] and records["rejected reply"].tolist() == ["No."]
    assert "sharegpt-preference" in at.selectbox(key="import_format").options
    at.button(key="import_run").click().run()
    no_exception(at)
    (record,) = store.query_records().records
    assert record.metadata[metadata_keys.REJECTED_OUTPUT] == "No."


def test_adding_a_person(seeded_project):
    root, store = seeded_project([])
    at = app_as(root, OWNER, PAGE)
    at.text_input(key="people_name").input("carol")
    at.text_input(key="people_password").input("short")
    at.button(key="people_add").click().run()
    assert "at least 8 characters" in at.error[0].value
    assert [u.name for u in store.list_users()].count("carol") == 0  # nobody without a password
    at.text_input(key="people_name").input("carol")
    at.text_input(key="people_password").input("carols-secret")
    at.button(key="people_add").click().run()
    no_exception(at)
    assert store.get_user("carol").role == "annotator"
    assert store.password_hash("carol").startswith("$argon2id$")


def test_analysis_starts_as_a_background_job_and_can_be_cancelled(seeded_project):
    from training import jobs

    root, _ = seeded_project()
    at = app_as(root, OWNER, PAGE)
    assert any("run it after importing" in i.value for i in at.info)
    at.checkbox(key="analysis_int8").check()
    at.button(key="analysis_start").click().run()
    no_exception(at)
    listed = jobs.list_jobs(root)
    try:
        assert [j["kind"] for j in listed] == ["analyze"]
        assert listed[0]["params"]["settings"] == {"embedder_settings": {"precision": "int8"}}
        assert at.button(key="analysis_start").disabled  # one analysis at a time
        at.button(key="analysis_cancel").click().run()
        no_exception(at)
        assert jobs.get_job(root, listed[0]["id"])["status"] == "cancelled"
    finally:
        for job in jobs.list_jobs(root):
            if job["status"] in jobs.ACTIVE:
                jobs.cancel_job(root, job["id"])
