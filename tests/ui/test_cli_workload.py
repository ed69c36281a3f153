"""`pairsmith assign` and `pairsmith progress`: who reviews what, and how far each person is."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from curation import metadata_keys as F
from curation.model import Response, Role, User
from tests.factories import make_record
from ui.cli import app


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_assign_then_follow_progress_on_the_command_line(make_local_project):
    root, store = make_local_project()
    store.add_user(User(name="olivia", role=Role.owner))
    store.add_user(User(name="ann"))
    store.add_user(User(name="bob"))
    store.upsert_records([make_record(id=f"r{i:02d}") for i in range(40)])
    code, _, err = invoke("assign", str(root), "ann", "bob", "--user", "ann")
    assert code == 1 and "ann is an annotator" in err
    code, out, err = invoke(
        "assign", str(root), "ann", "bob", "--overlap", "25", "--user", "olivia", "--json"
    )
    assert code == 0, err
    assert json.loads(out) == {"records": 40, "overlapping": 10, "per_person": {"ann": 25, "bob": 25}}
    mine = [r for r in store.query_records().records if "ann" in r.metadata[F.ASSIGNED_TO]]
    store.save_response(Response(record_id=mine[0].id, user="ann", values={"label": "bad", "comment": "#tone"}, status="submitted"))  # fmt: skip
    code, out, err = invoke("progress", str(root), "--json")
    assert code == 0, err
    figures = json.loads(out)
    assert figures["unreviewed"] == 39 and figures["bad_reasons"] == {"tone": 1}
    ann = next(p for p in figures["people"] if p["name"] == "ann")
    assert (ann["assigned"], ann["assigned_done"], ann["assigned_left"]) == (25, 1, 24)
    code, out, err = invoke("progress", str(root))
    assert code == 0 and "39 of 40 records not reviewed yet" in out
    code, out, err = invoke("assign", str(root), "--clear", "--json")
    assert code == 0 and json.loads(out) == {"cleared": 40}
    code, _, err = invoke("assign", str(root), "zed")
    assert code == 1 and "not people of this project: zed" in err
