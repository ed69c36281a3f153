"""`pairsmith ui`: localhost by default, headless, no telemetry, clean error for a non-project."""

from __future__ import annotations

from typer.testing import CliRunner

from ui.cli import app
from ui.commands.serve import streamlit_command


def test_the_command_binds_localhost_headless_without_telemetry(tmp_path):
    command = streamlit_command(tmp_path, "127.0.0.1", 8501)
    joined = " ".join(command)
    assert "--server.address 127.0.0.1" in joined
    assert "--server.headless true" in joined
    assert "--browser.gatherUsageStats false" in joined
    assert command[-1] == str(tmp_path) and command[4].endswith("ui/app.py")


def test_default_host_is_localhost():
    result = CliRunner().invoke(app, ["ui", "--help"])
    assert result.exit_code == 0
    assert "127.0.0.1" in result.output


def test_a_directory_that_is_not_a_project_is_a_clean_error(tmp_path):
    result = CliRunner().invoke(app, ["ui", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a pairsmith project" in result.output


def test_serving_beyond_this_machine_is_refused_until_everyone_has_a_password(tmp_path, monkeypatch):
    import os

    import ui.commands.serve as serve

    project = tmp_path / "proj"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(project)]).exit_code == 0
    result = runner.invoke(app, ["ui", str(project), "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "has no users" in result.stderr
    runner.invoke(
        app,
        ["users", "add", str(project), "dana", "--role", "owner", "--password-stdin"],
        input="dana-secret-1\n",
    )
    runner.invoke(app, ["users", "add", str(project), "ann"])
    result = runner.invoke(app, ["ui", str(project), "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "ann has no password" in result.stderr
    result = runner.invoke(
        app, ["users", "passwd", str(project), "ann", "--password-stdin"], input="anns-secret-2\n"
    )
    assert result.exit_code == 0, result.stderr
    started: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(serve.os, "execve", lambda exe, argv, env: started.append((argv, env)))
    result = runner.invoke(app, ["ui", str(project), "--host", "0.0.0.0", "--import-root", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    [(argv, env)] = started
    assert "--server.address" in argv and "0.0.0.0" in argv
    assert env["PAIRSMITH_HOST"] == "0.0.0.0" and env["PAIRSMITH_IMPORT_ROOTS"] == str(tmp_path.resolve())
    assert os.environ.get("PAIRSMITH_HOST") is None  # only the server's environment


def test_passwords_are_argon2_hashes_and_short_ones_are_refused(tmp_path):
    import json

    from curation.project import open_store
    from curation.review.auth import verify_password

    project = tmp_path / "proj"
    runner = CliRunner()
    runner.invoke(app, ["init", str(project)])
    runner.invoke(app, ["users", "add", str(project), "dana", "--role", "owner"])
    result = runner.invoke(
        app, ["users", "passwd", str(project), "dana", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 1 and "at least 8 characters" in result.stderr
    result = runner.invoke(
        app, ["users", "passwd", str(project), "dana"], input="long-enough-1\nlong-enough-1\n"
    )
    assert result.exit_code == 0, result.stderr
    store = open_store(project)
    stored = store.password_hash("dana")
    store.close()
    assert stored.startswith("$argon2id$") and "long-enough-1" not in stored
    assert verify_password(stored, "long-enough-1") and not verify_password(stored, "long-enough-2")
    listed = json.loads(runner.invoke(app, ["users", "list", str(project), "--json"]).stdout)
    assert listed == [{"name": "dana", "role": "owner", "password": True}]
