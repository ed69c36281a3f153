"""The project commands of the CLI: init, users, stats, versions."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from curation.project import open_store
from tests.factories import make_record, make_response
from ui.cli import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_users_and_stats_json_shape(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    assert invoke("init", str(project))[0] == 0
    assert invoke("users", "add", str(project), "dana", "--role", "owner")[0] == 0
    assert invoke("users", "add", str(project), "ann")[0] == 0
    store = open_store(project)
    records = [make_record() for _ in range(3)]
    store.upsert_records(records)
    store.save_response(make_response(records[0].id, "ann", values={"label": "good"}))
    store.save_response(make_response(records[1].id, "ann", values={"label": "bad"}, status="draft"))
    code, out, _ = invoke("stats", str(project), "--json")
    assert code == 0
    stats = json.loads(out)
    assert stats["records"] == 3
    assert stats["responses"] == {"submitted": 1, "draft": 1, "discarded": 0}
    assert stats["labels"] == {"good": 1}
    assert stats["users"] == 2
    code, out, _ = invoke("users", "list", str(project), "--json")
    assert json.loads(out) == [
        {"name": "ann", "role": "annotator", "password": False},
        {"name": "dana", "role": "owner", "password": False},
    ]


def test_errors_are_clean_messages_not_tracebacks(tmp_path: Path) -> None:
    code, out, err = invoke("stats", str(tmp_path / "missing"))
    assert code == 1
    assert "is not a pairsmith project" in err and "pairsmith init" in err
    assert "Traceback" not in out + err
    project = tmp_path / "proj"
    invoke("init", str(project))
    code, _, err = invoke("init", str(project))
    assert code == 1 and "already holds a pairsmith project" in err
    invoke("users", "add", str(project), "ann")
    code, _, err = invoke("users", "add", str(project), "ann")
    assert code == 1 and "already exists" in err
    code, out, err = invoke("users", "add", str(project), "bad name!")
    assert code == 1 and "invalid User: name" in err and "Traceback" not in out + err


def test_versions_create_and_list(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    invoke("init", str(project))
    open_store(project).upsert_records([make_record()])
    code, out, _ = invoke("versions", "create", str(project), "v1", "--json")
    assert code == 0 and json.loads(out)["record_count"] == 1
    code, out, _ = invoke("versions", "list", str(project), "--json")
    assert [v["name"] for v in json.loads(out)] == ["v1"]
    code, _, err = invoke("versions", "create", str(project), "v1")
    assert code == 1 and "immutable" in err
