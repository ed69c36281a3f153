"""The export & train page: the clean-set preview, and a background job found again after a refresh."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from curation.model import Response
from curation.review.auth import sign_in
from tests.factories import make_record
from tests.ui.conftest import APP, OWNER, app_as, no_exception
from training import jobs
from ui.state import Keys

PAGE = "app_pages/export_train.py"


def test_preview_counts_what_the_export_would_hold(seeded_project):
    root, store = seeded_project([make_record(id="r1"), make_record(id="r2"), make_record(id="r3")])
    store.save_response(Response(record_id="r1", user="ann", values={"label": "good"}, status="submitted"))
    store.save_response(Response(record_id="r2", user="ann", values={"label": "bad"}, status="submitted"))
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Records": "3", "Would be exported": "1", "Left out": "2"}
    reasons = at.dataframe[1].value
    assert dict(zip(reasons["reason"], reasons["records"], strict=True)) == {
        "not reviewed yet": 1,
        "labelled bad": 1,
    }
    assert any("a few hundred" in w.value for w in at.warning)


def test_a_running_job_survives_a_refresh_and_can_be_cancelled(seeded_project, tmp_path):
    root, _ = seeded_project()
    job_id = jobs.start_job(root, "sleep", {"run_dir": str(tmp_path / "sleep"), "steps": 200, "seconds": 0.2})
    try:
        # A fresh browser session (nothing in its session state) finds the project's job.
        at = AppTest.from_file(str(APP), default_timeout=30)
        at.session_state[Keys.SESSION] = sign_in(root, user_name=OWNER)
        at.run()
        at.switch_page(PAGE).run()
        no_exception(at)
        assert any(job_id in c.value for c in at.caption)
        assert at.button(key="train_start").disabled  # one job at a time
        at.button(key="train_cancel").click().run()
        no_exception(at)
        assert jobs.get_job(root, job_id)["status"] == "cancelled"
    finally:
        if jobs.get_job(root, job_id)["status"] in jobs.ACTIVE:
            jobs.cancel_job(root, job_id)


def test_a_clean_set_too_small_for_its_splits_cannot_start(seeded_project):
    root, store = seeded_project([make_record(id=f"r{i}") for i in range(3)])
    for i in range(3):
        store.save_response(
            Response(record_id=f"r{i}", user="ann", values={"label": "good"}, status="submitted")
        )
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    assert at.button(key="train_start").disabled
    assert "The clean set has 3 records" in at.error[0].value and "at least 7 records" in at.error[0].value
    assert any("Splits: train 3, validation 0, test 0" in c.value for c in at.caption)


def test_a_failed_job_shows_its_error_and_resume_only_when_it_can_work(seeded_project, tmp_path):
    root, _ = seeded_project()
    job_id = jobs.start_job(
        root,
        "sleep",
        {"run_dir": str(tmp_path / "run"), "steps": "missing.yaml"},  # fails inside the job
    )
    job = jobs.wait_job(root, job_id, timeout=120)
    assert job["status"] == "failed" and not job["resumable"]
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    assert "missing.yaml" in at.error[-1].value.replace("\\", "") and "failed" in at.error[-1].value
    assert not [b for b in at.button if b.key == "train_resume"]
    assert any("A resume would fail the same way" in c.value for c in at.caption)


def test_a_collapsing_clean_set_is_said_first_with_examples(seeded_project):
    from curation import metadata_keys as F

    records = [
        make_record(id=f"r{i}", metadata={F.DUP_GROUP: "dup-1", F.DUP_KEEPER: "yes" if i == 0 else None})
        for i in range(6)
    ] + [make_record(id="other")]
    root, _ = seeded_project(records)
    at = app_as(root, OWNER, PAGE)
    at.toggle(key="train_unreviewed").set_value(True).run()
    no_exception(at)
    assert "would leave out 5 of the 7" in at.warning[0].value
    examples = at.dataframe[0].value  # the first table on the page
    assert list(examples["reason"]) == ["duplicate: another copy is kept"] * 3
    assert list(examples["example"]) == ["r1", "r2", "r3"]


# --- the reviewer's day (issue 15) ----------------------------------------------------------------


def labelled(count: int) -> list:
    return [make_record(id=f"r{i}", input=f"question {i}") for i in range(count)]


def good(store, count: int) -> None:
    for i in range(count):
        store.save_response(
            Response(record_id=f"r{i}", user="ann", values={"label": "good"}, status="submitted")
        )


def test_the_split_chosen_changes_what_the_preview_counts(seeded_project):
    root, store = seeded_project(labelled(20))
    good(store, 20)
    at = app_as(root, OWNER, PAGE)
    assert any("Splits: train 16, validation 2, test 2" in c.value for c in at.caption)
    at.number_input(key="train_split_train").set_value(60).run()
    at.number_input(key="train_split_validation").set_value(20).run()
    at.number_input(key="train_split_test").set_value(20).run()
    no_exception(at)
    assert any("Splits: train 12, validation 4, test 4" in c.value for c in at.caption)
    at.number_input(key="train_split_test").set_value(30).run()  # adds up to 110 %
    assert "add up to 1.1" in at.error[0].value.replace("\\", "") and at.button(key="train_start").disabled


def test_a_base_model_that_is_not_a_model_folder_is_refused(seeded_project, tmp_path):
    root, store = seeded_project(labelled(20))
    good(store, 20)
    at = app_as(root, OWNER, PAGE)
    at.selectbox(key="train_base_model").select("another model folder on this machine…").run()
    at.text_input(key="train_model_path").input(str(tmp_path)).run()
    no_exception(at)
    assert (
        "holds no config.json" in at.error[0].value.replace("\\", "")
        and at.button(key="train_start").disabled
    )


def test_training_asks_first_and_starts_with_the_choices(seeded_project, monkeypatch):
    import yaml

    started: list[dict] = []
    monkeypatch.setattr(jobs, "start_job", lambda root, kind, params, **kw: started.append(params) or "job-1")
    monkeypatch.setattr(jobs, "latest_job", lambda *a, **kw: None)
    root, store = seeded_project(labelled(20))
    good(store, 20)
    at = app_as(root, OWNER, PAGE)
    at.multiselect(key="train_formats").set_value(["openai"]).run()
    at.button(key="train_start").click().run()
    no_exception(at)
    assert started == [], "nothing starts before the confirmation"
    summary = " ".join(m.value for m in at.markdown)
    assert "**Export** 20 records: train 16, validation 2, test 2; formats hf, openai" in summary
    assert "smollm2-135m-instruct" in summary
    at.button(key="train_confirm").click().run()
    no_exception(at)
    [params] = started
    chosen = yaml.safe_load(Path(params["config"]).read_text(encoding="utf-8"))
    assert chosen["export"]["formats"] == ["hf", "openai"]
    assert chosen["train"]["base_model"] == "smollm2-135m-instruct"
    assert not [b for b in at.button if b.key == "train_confirm"], "the dialog closed"


def test_cancel_in_the_confirmation_starts_nothing(seeded_project, monkeypatch):
    started: list[dict] = []
    monkeypatch.setattr(jobs, "start_job", lambda root, kind, params, **kw: started.append(params) or "job-1")
    root, store = seeded_project(labelled(20))
    good(store, 20)
    at = app_as(root, OWNER, PAGE)
    at.button(key="train_start").click().run()
    at.button(key="train_confirm_cancel").click().run()
    no_exception(at)
    assert started == [] and not [b for b in at.button if b.key == "train_confirm"]


def test_the_dry_run_can_be_downloaded(seeded_project):
    root, store = seeded_project(labelled(3))
    good(store, 1)
    at = app_as(root, OWNER, PAGE)
    [download] = [d for d in at.get("download_button") if d.proto.id.endswith("train_dry_run")]
    assert "dry run" in download.proto.label.lower()


def test_select_previews_the_chosen_records_and_goes_into_the_run(seeded_project, monkeypatch):
    import numpy as np
    import yaml

    from curation import metadata_keys as F

    records = [
        make_record(id=f"r{i}", metadata={F.CLUSTER: i % 2, F.CLUSTER_NAME: f"topic {i % 2}"})
        for i in range(20)
    ]
    root, store = seeded_project(records)
    store.set_vectors(
        F.VECTOR_PAIR,
        [r.id for r in records],
        np.random.default_rng(0).standard_normal((20, 6)).astype(np.float32),
    )
    good(store, 20)
    started: list[dict] = []
    monkeypatch.setattr(jobs, "start_job", lambda root, kind, params, **kw: started.append(params) or "job-1")
    monkeypatch.setattr(jobs, "latest_job", lambda *a, **kw: None)
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    at.number_input(key="train_select").set_value(6).run()
    no_exception(at)
    assert any("Selection: 6 of 16 training records" in c.value for c in at.caption)
    clusters = next(f.value for f in at.dataframe if "quota" in f.value.columns)
    assert set(clusters["name"]) == {"topic 0", "topic 1"} and clusters["quota"].sum() == 6
    at.button(key="train_start").click().run()
    assert "only the best 6 training records" in " ".join(m.value for m in at.markdown)
    at.button(key="train_confirm").click().run()
    no_exception(at)
    [params] = started
    assert yaml.safe_load(Path(params["config"]).read_text(encoding="utf-8"))["export"]["select"] == 6
