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
