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
    outputs = ['{"category": "refund"}'] * 20 + ['{"category": "shipping"}'] * 2 + ["not json"]
    root, store = seeded_project([make_record(id=f"r{i}", output=o) for i, o in enumerate(outputs)])
    project = store.get_project()
    schema = {"type": "object", "properties": {"category": {"enum": ["refund", "shipping", "gift_card"]}}}
    store.update_project(project.model_copy(update={"output_schema": schema}))
    fake_analysis(root, store)
    store.save_response(Response(record_id="r21", user="bob", values={"label": "good"}, status="submitted"))
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    assert at.subheader[-1].value == "Output field 'category'"
    table = at.dataframe[-1].value
    assert table["value"].tolist() == ["refund", "shipping", "gift_card"]
    assert table["whole set"].tolist() == [20, 2, 0] and table["accepted"].tolist() == [0, 1, 0]
    assert table["flag"].tolist() == ["over-represented", "", "thin"]


def test_few_records_get_no_coverage_hints_but_say_why(seeded_project):
    # 1 accepted record among 2 clusters would make the other cluster look missing: not judged.
    root, store = seeded_project([make_record(id=f"r{i}") for i in range(24)])
    fake_analysis(root, store)
    store.save_response(Response(record_id="r0", user="bob", values={"label": "good"}, status="submitted"))
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    captions = [c.value for c in at.caption]
    assert any(
        "Coverage hints need at least 20 records here" in c and "this set has 1" in c for c in captions
    )
    assert not any("has no records here" in c for c in captions)


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


# --- the reviewer's day (issue 15) ----------------------------------------------------------------


def test_clusters_get_distinct_colours_and_their_names_on_the_map(seeded_project):
    import json

    root, store = seeded_project([make_record(id=f"r{i}") for i in range(30)])
    fake_analysis(root, store, clusters=10)
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    markers = [t for t in spec["data"] if t.get("mode") == "markers"]
    colours = [t["marker"]["color"] for t in markers]
    assert len(markers) == 10 and len(set(colours)) == 10
    labels = [a["text"] for a in spec["layout"]["annotations"]]
    assert sorted(labels) == sorted(f"topic {c}" for c in range(10))
    assert spec["layout"]["showlegend"] is False  # the names on the map replace a 10-entry legend


def test_label_colours_match_the_review_buttons(seeded_project):
    import json

    root, store = seeded_project([make_record(id=f"r{i}") for i in range(4)])
    fake_analysis(root, store)
    store.save_response(Response(record_id="r0", user="bob", values={"label": "good"}, status="submitted"))
    store.save_response(Response(record_id="r1", user="bob", values={"label": "bad"}, status="submitted"))
    at = app_as(root, ANNOTATOR, PAGE)
    at.segmented_control(key="clusters_colour").set_value("label").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    colour = {t["name"]: t["marker"]["color"] for t in spec["data"] if t.get("mode") == "markers"}
    assert colour == {"unreviewed": "#afb8c1", "good": "#1a7f37", "bad": "#cf222e"}
    assert spec["layout"]["legend"]["orientation"] == "h" and spec["layout"]["legend"]["yanchor"] == "bottom"


def test_a_map_selection_is_labelled_at_once_and_undone_at_once(seeded_project, map_selection):
    root, store = seeded_project([make_record(id=f"r{i}") for i in range(6)])
    fake_analysis(root, store)
    store.save_response(
        Response(record_id="r1", user=ANNOTATOR, values={"label": "good"}, status="submitted")
    )
    at = app_as(root, ANNOTATOR, PAGE)
    map_selection["ids"] = ["r0", "r1", "r2"]
    at.run()
    assert any("3 records selected on the map" in c.value for c in at.caption)
    at.segmented_control(key="clusters_bulk_label").set_value("bad").run()
    at.pills(key="clusters_bulk_reasons").set_value(["off-topic"]).run()
    at.button(key="clusters_bulk_apply").click().run()
    no_exception(at)
    labels = {
        r.record_id: (r.values["label"], r.values.get("comment")) for r in store.get_responses(user=ANNOTATOR)
    }
    assert labels == {"r0": ("bad", "#off-topic"), "r1": ("good", None), "r2": ("bad", "#off-topic")}
    assert "Labelled 2 records bad; 1 you had already reviewed" in at.success[0].value
    at.button(key="clusters_bulk_undo").click().run()
    no_exception(at)
    assert {r.record_id for r in store.get_responses(user=ANNOTATOR)} == {"r1"}


def test_labelling_more_than_ten_records_bad_asks_first(seeded_project, map_selection):
    root, store = seeded_project([make_record(id=f"r{i}") for i in range(12)])
    fake_analysis(root, store)
    at = app_as(root, ANNOTATOR, PAGE)
    map_selection["ids"] = [f"r{i}" for i in range(12)]
    at.run()
    at.segmented_control(key="clusters_bulk_label").set_value("bad").run()
    at.button(key="clusters_bulk_apply").click().run()
    assert store.get_responses() == [] and "drops 12 records" in at.warning[0].value
    at.button(key="clusters_bulk_confirm").click().run()
    no_exception(at)
    assert len(store.get_responses(user=ANNOTATOR)) == 12
