"""Which backend a project uses: --backend, then pairsmith.json, then ARGILLA_API_URL + ARGILLA_API_KEY.

The Argilla side of this (a real server) is in tests/argilla/test_auth.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.errors import BadInputError
from curation.project import default_backend, init_project, open_store


@pytest.fixture
def no_argilla_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("ARGILLA_API_URL", raising=False)
    monkeypatch.delenv("ARGILLA_API_KEY", raising=False)
    return monkeypatch


def test_argilla_is_the_default_only_when_url_and_key_are_both_set(
    no_argilla_env: pytest.MonkeyPatch,
) -> None:
    assert default_backend() == "local"
    no_argilla_env.setenv("ARGILLA_API_URL", "http://127.0.0.1:6900")
    assert default_backend() == "local"
    no_argilla_env.setenv("ARGILLA_API_KEY", "k")
    assert default_backend() == "argilla"


def test_init_without_backend_is_local_and_records_it(
    no_argilla_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store = init_project(tmp_path / "p", "p", backend=None)
    store.close()
    config = json.loads((tmp_path / "p" / "pairsmith.json").read_text())
    assert config["backend"] == "local"
    # Once recorded, the environment no longer switches the project to Argilla.
    no_argilla_env.setenv("ARGILLA_API_URL", "http://127.0.0.1:9")
    no_argilla_env.setenv("ARGILLA_API_KEY", "k")
    reopened = open_store(tmp_path / "p")
    assert reopened.backend == "local"
    reopened.close()


def test_an_api_key_in_pairsmith_json_is_refused_without_echoing_it(
    no_argilla_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    init_project(tmp_path / "p", "p").close()
    path = tmp_path / "p" / "pairsmith.json"
    config = json.loads(path.read_text())
    config["backend_options"]["api_key"] = "owner.s3cret"
    path.write_text(json.dumps(config))
    with pytest.raises(BadInputError, match="must not hold an API key") as refused:
        open_store(tmp_path / "p")
    assert "s3cret" not in str(refused.value)
