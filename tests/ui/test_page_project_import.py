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
    at.radio(key="analysis_quality").set_value("Fast")
    at.button(key="analysis_start").click().run()
    no_exception(at)
    listed = jobs.list_jobs(root)
    try:
        assert [j["kind"] for j in listed] == ["analyze"]
        assert listed[0]["params"]["settings"] == {
            "quality": "fast",
            "embedder_settings": {"precision": "int8"},
        }
        assert at.button(key="analysis_start").disabled  # one analysis at a time
        at.button(key="analysis_cancel").click().run()
        no_exception(at)
        assert jobs.get_job(root, listed[0]["id"])["status"] == "cancelled"
    finally:
        for job in jobs.list_jobs(root):
            if job["status"] in jobs.ACTIVE:
                jobs.cancel_job(root, job["id"])


def test_the_last_analysis_says_how_it_was_made(seeded_project):
    from curation.analysis.pipeline import AnalysisSettings, analyze_project

    root, _ = seeded_project()
    analyze_project(root, settings=AnalysisSettings(embedder="hashing", quality="fast"))
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    last = [c.value for c in at.caption if c.value.startswith("Last analysis:")]
    assert len(last) == 1 and "fast quality on cpu" in last[0], last
    assert at.radio(key="analysis_quality").value == "Full (default)"  # the next run's default


# --- the reviewer's day (issue 15) ----------------------------------------------------------------


def test_each_persons_progress_and_the_unreviewed_count(seeded_project):
    from curation.model import Response
    from tests.factories import make_record

    root, store = seeded_project([make_record(id=f"r{i}") for i in range(4)])
    store.save_response(Response(record_id="r0", user="ann", values={"label": "good"}, status="submitted"))
    store.save_response(Response(record_id="r1", user="ann", values={"label": "bad", "comment": "#tone rude"}, status="submitted"))  # fmt: skip
    store.save_response(Response(record_id="r2", user="bob", values={"label": "good"}, status="draft"))
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Not reviewed yet"] == "2"  # a draft is not a review
    table = next(d.value for d in at.dataframe if "submitted" in d.value.columns)
    rows = {r["name"]: r for r in table.to_dict("records")}
    assert (rows["ann"]["submitted"], rows["bob"]["drafts"], rows["olivia"]["submitted"]) == (2, 1, 0)
    assert list(rows) == ["ann", "bob", "olivia"]  # annotators first
    assert any("labelled bad: tone 1" in c.value for c in at.caption)


def test_assigning_records_with_an_overlap_for_agreement(seeded_project):
    from tests.factories import make_record

    root, store = seeded_project([make_record(id=f"r{i}") for i in range(20)])
    at = app_as(root, OWNER, PAGE)
    assert at.multiselect(key="assign_reviewers").value == ["ann", "bob"]  # the annotators
    at.slider(key="assign_overlap").set_value(20)
    at.button(key="assign_run").click().run()
    no_exception(at)
    assigned = [r.metadata[metadata_keys.ASSIGNED_TO] for r in store.query_records().records]
    assert sum(len(a) == 2 for a in assigned) == 4 and len(assigned) == 20
    assert "4 go to more than one person" in at.success[0].value
    table = next(d.value for d in at.dataframe if "assigned" in d.value.columns)
    assert dict(zip(table["name"], table["assigned"], strict=True)) == {"ann": 12, "bob": 12, "olivia": 0}
    at.button(key="assign_clear").click().run()
    assert not any(metadata_keys.ASSIGNED_TO in r.metadata for r in store.query_records().records)


def test_a_new_project_shows_the_way_to_the_first_review(seeded_project):
    root, _ = seeded_project([])
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    steps = [m.value for m in at.markdown if "**" in m.value and ". " in m.value]
    titles = [s.split("**")[1] for s in steps]
    assert titles == [
        "1. Import your pairs",
        "2. Analyse them",
        "3. Say what a good output is",
        "4. Review",
        "5. Export and train",
    ]
    assert all(":material/radio_button_unchecked:" in s for s in steps)
