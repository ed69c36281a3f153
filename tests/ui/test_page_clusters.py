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


def test_without_analysis_the_page_says_run_analysis_first(seeded_project):
    root, _ = seeded_project()
    at = app_as(root, ANNOTATOR, PAGE)
    no_exception(at)
    assert "Run analysis first" in at.info[0].value


def test_a_hand_picked_queue_opens_exactly_those_records(seeded_project):
    root, store = seeded_project([make_record(id=f"r{i}") for i in range(4)])
    fake_analysis(root, store)
    at = app_as(root, ANNOTATOR, PAGE)
    from curation.review import ReviewQueue

    # What "Open these records in review" stores after a lasso selection (AppTest cannot draw one).
    at.session_state[Keys.QUEUE] = ReviewQueue.of_ids(["r2", "r3"])
    at.switch_page("app_pages/review.py").run()
    no_exception(at)
    assert at.session_state[Keys.QUEUE].ids == ["r2", "r3"]
    assert "Record 1 of 2" in at.caption[1].value or any("Record 1 of 2" in c.value for c in at.caption)
