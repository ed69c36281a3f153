"""The clusters page: the map, the cluster table, diversity, and opening records in review."""

from __future__ import annotations

from curation.model import Response
from tests.factories import make_record
from tests.ui.conftest import ANNOTATOR, app_as, fake_analysis, no_exception
from ui.state import Keys

PAGE = "app_pages/clusters.py"


def test_map_table_and_diversity_render(seeded_project):
    root, store = seeded_project([make_record(id=f"r{i}") for i in range(8)])
    fake_analysis(root, store)
    store.save_response(Response(record_id="r0", user="bob", values={"label": "good"}, status="submitted"))
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    assert len(at.get("plotly_chart")) == 1
    assert at.dataframe[0].value["name"].tolist() == ["topic 0", "topic 1"]
    records = [m.value for m in at.metric if m.label == "Records"]
    assert records == ["8", "1"]  # whole set vs accepted


def test_output_schema_values_are_counted_for_the_whole_and_accepted_sets(seeded_project):
    outputs = ['{"category": "refund"}'] * 6 + ['{"category": "shipping"}', "not json"]
    root, store = seeded_project([make_record(id=f"r{i}", output=o) for i, o in enumerate(outputs)])
    project = store.get_project()
    schema = {"type": "object", "properties": {"category": {"enum": ["refund", "shipping", "gift_card"]}}}
    store.update_project(project.model_copy(update={"output_schema": schema}))
    fake_analysis(root, store)
    store.save_response(Response(record_id="r6", user="bob", values={"label": "good"}, status="submitted"))
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    assert at.subheader[-1].value == "Output field 'category'"
    table = at.dataframe[-1].value
    assert table["value"].tolist() == ["refund", "shipping", "gift_card"]
    assert table["whole set"].tolist() == [6, 1, 0] and table["accepted"].tolist() == [0, 1, 0]
    assert table["flag"].tolist() == ["over-represented", "", "thin"]


def test_without_analysis_the_page_says_run_analysis_first(seeded_project):
    root, _ = seeded_project()
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    assert "Run analysis first" in at.info[0].value


def test_a_hand_picked_queue_opens_exactly_those_records(seeded_project):
    root, store = seeded_project([make_record(id=f"r{i}") for i in range(4)])
    fake_analysis(root, store)
    at = app_as(root, ANNOTATOR, PAGE)
    from curation.review.queue import ReviewQueue

    # What "Open these records in review" stores after a lasso selection (AppTest cannot draw one).
    at.session_state[Keys.QUEUE] = ReviewQueue.of_ids(["r2", "r3"])
    at.switch_page("app_pages/review.py").run()
    no_exception(at)
    assert at.session_state[Keys.QUEUE].ids == ["r2", "r3"]
    assert "Record 1 of 2" in at.caption[1].value or any("Record 1 of 2" in c.value for c in at.caption)


def test_the_label_mix_is_computed_when_shown_not_at_analysis_time(seeded_project):
    import json

    from typer.testing import CliRunner

    from curation.review.agreement import adjudicate
    from ui.cli import app

    root, store = seeded_project([make_record(id=f"r{i}") for i in range(4)])
    fake_analysis(root, store)  # analysis ran before anyone reviewed: its label mix is empty
    for rid, user, label in (("r0", "bob", "good"), ("r2", "bob", "bad"), ("r2", ANNOTATOR, "good")):
        store.save_response(Response(record_id=rid, user=user, values={"label": label}, status="submitted"))
    adjudicate(store, "r2", "olivia", {"label": "bad"})  # the final answer wins over the latest label
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    assert at.dataframe[0].value["labels"].tolist() == ["good: 1, bad: 1", "not reviewed"]
    result = CliRunner().invoke(app, ["clusters", str(root), "--json"])
    assert result.exit_code == 0, result.stderr
    assert [c["label_mix"] for c in json.loads(result.stdout)["clusters"]] == [{"good": 1, "bad": 1}, {}]
