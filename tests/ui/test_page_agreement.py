"""The agreement page: statistics per question, disagreements, and adjudication by the owner."""

from __future__ import annotations

from curation import metadata_keys
from curation.model import Response
from tests.factories import make_record
from tests.ui.conftest import ANNOTATOR, ANNOTATOR_2, OWNER, app_as, no_exception

PAGE = "app_pages/agreement.py"


def test_disagreement_is_listed_and_adjudicated(seeded_project):
    root, store = seeded_project([make_record(id="r1"), make_record(id="r2")])
    for user, label in ((ANNOTATOR, "good"), (ANNOTATOR_2, "bad")):
        store.save_response(Response(record_id="r1", user=user, values={"label": label}, status="submitted"))
    for user in (ANNOTATOR, ANNOTATOR_2):
        store.save_response(Response(record_id="r2", user=user, values={"label": "good"}, status="submitted"))
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    table = at.dataframe[0].value
    assert table.loc[table["question"] == "label", "disagreements"].item() == 1
    assert "1 records where annotators disagree" in " ".join(c.value for c in at.caption)
    at.radio(key="adjudicate_value_r1").set_value("bad")
    at.button(key="adjudicate_save_r1").click().run()
    no_exception(at)
    record = store.get_record("r1")
    assert record.metadata[metadata_keys.ADJUDICATED_BY] == OWNER
    assert store.get_responses(record_ids=["r1"], user=OWNER)[0].values == {"label": "bad"}
    assert "0 records where annotators disagree" in " ".join(c.value for c in at.caption)
