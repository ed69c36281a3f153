"""`pairsmith decisions` and `pairsmith undo`: the log on the command line, undo one or a whole batch."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from curation import metadata_keys as F
from curation.model import Role, User
from curation.review.duplicates import bulk_resolve_exact
from tests.ui.test_page_duplicates import many_groups
from ui.cli import app


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_list_then_undo_a_bulk_action(make_local_project):
    root, store = make_local_project()
    store.add_user(User(name="olivia", role=Role.owner))
    store.add_user(User(name="ann"))
    store.upsert_records(many_groups(3))
    bulk = bulk_resolve_exact(store, user="olivia", why="exact copies")
    code, out, err = invoke("decisions", str(root), "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert [d["kind"] for d in listed] == ["bulk_resolve"] * 3 and {d["batch"] for d in listed} == {
        bulk.batch
    }
    assert listed[0]["user"] == "olivia" and listed[0]["why"] == "exact copies"
    code, _, err = invoke("undo", str(root), listed[0]["id"], "--batch", "--user", "ann")
    assert code == 1 and "ann is an annotator" in err
    code, out, err = invoke("undo", str(root), listed[0]["id"], "--batch", "--user", "olivia")
    assert code == 0, err
    assert "Undone 3 decision(s); 6 records" in err
    assert {r.metadata.get(F.DUP_RESOLUTION) for r in store.query_records().records} == {None}
    code, _, err = invoke("undo", str(root), listed[0]["id"])
    assert code == 1 and "already undone" in err
