"""Sign-in on an Argilla project: the API key form, roles from the key's user, and the key kept secret.

No Argilla server here: ``ui.services.sign_in`` (curation.auth.sign_in) is replaced by a fake that
checks a known key and returns a Session around the seeded local store, dressed as an Argilla one.
The real sign-in against a server is covered by tests/argilla (marker ``argilla``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from streamlit.testing.v1 import AppTest

from curation.errors import PermissionDeniedError
from curation.files import ProjectPaths
from curation.review.auth import Session
from curation.store.base import RecordStore
from tests.factories import make_chat_record, make_record
from tests.ui.conftest import ANNOTATOR, APP, DESIGNER_PAGES, OWNER, no_exception
from ui import services
from ui.state import Keys

KEYS = {"ann-key-0123456789abcdef": ANNOTATOR, "olivia-key-fedcba9876543210": OWNER}


class FakeArgillaStore:
    """The seeded local store, reporting itself as an Argilla store (what the sidebar shows)."""

    backend = "argilla"

    def __init__(self, store: RecordStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def close(self) -> None:  # the seeded store belongs to the fixture
        pass


@pytest.fixture
def argilla_project(seeded_project, monkeypatch):
    """A seeded project whose config says Argilla; returns (root, calls made to the fake sign_in)."""
    # Ten records: enough for every split, so an export may start (training.preflight).
    root, store = seeded_project([make_record() for _ in range(9)] + [make_chat_record()])
    config = ProjectPaths(root).config
    settings = json.loads(config.read_text(encoding="utf-8"))
    settings.update(backend="argilla", backend_options={"api_url": "http://127.0.0.1:9", "workspace": "w"})
    config.write_text(json.dumps(settings), encoding="utf-8")
    calls: list[dict[str, Any]] = []

    def fake_sign_in(
        project_dir: Path, *, user_name: str | None = None, api_key: str | None = None, **_: Any
    ) -> Session:
        calls.append({"user_name": user_name, "api_key": api_key})
        if api_key == "explode":
            raise RuntimeError(f"connection reset while sending Authorization: {api_key}")
        if api_key not in KEYS:
            raise PermissionDeniedError(f"the Argilla server did not accept the API key {api_key}")
        if user_name and user_name != KEYS[api_key]:
            raise PermissionDeniedError(f"this API key belongs to {KEYS[api_key]}, not {user_name}")
        return Session(
            store=FakeArgillaStore(store), user=store.get_user(KEYS[api_key]), project_dir=Path(project_dir)
        )  # type: ignore[arg-type]

    monkeypatch.setattr(services, "sign_in", fake_sign_in)
    return root, calls


def sign_in_with_key(key: str, user: str = "") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    at.text_input(key="sign_in_argilla_user").input(user)
    at.text_input(key="sign_in_api_key").input(key)
    at.button(key="sign_in_submit").click().run()
    return at


def rendered(at: AppTest) -> bytes:
    """Every element the app sent to the browser, serialised: what a person could see or inspect."""
    out = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            out.append(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return b"".join(out)


def test_an_argilla_project_asks_for_an_api_key_not_a_name_list(argilla_project):
    _, calls = argilla_project
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    no_exception(at)
    assert at.title[0].value == "Sign in"
    assert (
        at.text_input(key="sign_in_api_key").proto.type == at.text_input(key="sign_in_api_key").proto.PASSWORD
    )
    assert not at.selectbox  # no "pick your name" on a server project
    assert not calls


def test_signing_in_with_a_key_goes_through_curation_auth_and_never_renders_the_key(argilla_project):
    _, calls = argilla_project
    key = "ann-key-0123456789abcdef"
    at = sign_in_with_key(key)
    no_exception(at)
    assert calls == [{"user_name": None, "api_key": key}]
    session = at.session_state[Keys.SESSION]
    assert (session.user.name, session.backend) == (ANNOTATOR, "argilla")
    assert at.title[0].value == "Review"
    assert b"Signed in as ann" in rendered(at)  # the walk does see what is on screen
    assert key.encode() not in rendered(at)
    # Kept for the jobs this person starts, as a SecretStr that prints as asterisks...
    stored = at.session_state[Keys.API_KEY]
    assert isinstance(stored, SecretStr) and stored.get_secret_value() == key
    assert key not in repr(stored) and key not in str(stored)
    # ...and the form forgot what was typed: back on the sign-in page the key box is empty.
    assert "sign_in_api_key" not in at.session_state or not at.session_state["sign_in_api_key"]
    at.switch_page("app_pages/sign_in.py").run()
    no_exception(at)
    assert at.text_input(key="sign_in_api_key").value == ""
    assert key.encode() not in rendered(at)


def test_the_user_name_is_checked_against_the_keys_user(argilla_project):
    _, calls = argilla_project
    at = sign_in_with_key("ann-key-0123456789abcdef", user=OWNER)
    no_exception(at)
    assert calls[-1]["user_name"] == OWNER
    assert "belongs to ann, not olivia" in at.error[0].value
    assert Keys.SESSION not in at.session_state


@pytest.mark.parametrize("key", ["wrong-key-0000000000", "explode"])
def test_errors_never_repeat_the_key(argilla_project, key):
    at = sign_in_with_key(key)
    no_exception(at)
    assert at.error, "a failed sign-in says why"
    assert "**********" in at.error[0].value
    assert key.encode() not in rendered(at)
    assert Keys.SESSION not in at.session_state and Keys.API_KEY not in at.session_state


@pytest.mark.parametrize("page", DESIGNER_PAGES)
def test_an_annotators_key_does_not_open_designer_pages(argilla_project, page):
    at = sign_in_with_key("ann-key-0123456789abcdef")
    no_exception(at)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page)


def test_an_owners_key_opens_designer_pages_and_sign_out_forgets_the_key(argilla_project):
    at = sign_in_with_key("olivia-key-fedcba9876543210")
    at.switch_page("app_pages/guidelines.py").run()
    no_exception(at)
    assert at.title[0].value == "Guidelines"
    at.sidebar.button(key="sign_out").click().run()
    no_exception(at)
    assert Keys.SESSION not in at.session_state and Keys.API_KEY not in at.session_state


def test_a_job_started_from_the_ui_gets_the_signed_in_user_and_key(argilla_project, monkeypatch):
    from training import jobs

    started: list[dict[str, Any]] = []

    def fake_start_job(project_dir: Path, kind: str, params: dict[str, Any], **kwargs: Any) -> str:
        started.append({"kind": kind, "params": params, **kwargs})
        return "job-1"

    monkeypatch.setattr(jobs, "start_job", fake_start_job)
    monkeypatch.setattr(jobs, "list_jobs", lambda project_dir: [])
    monkeypatch.setattr(jobs, "get_job", lambda project_dir, job_id: _job(job_id))
    key = "olivia-key-fedcba9876543210"
    at = sign_in_with_key(key)
    at.switch_page("app_pages/export_train.py").run()
    at.toggle(key="train_unreviewed").set_value(True).run()
    no_exception(at)
    at.button(key="train_start").click().run()
    at.button(key="train_confirm").click().run()  # the run starts once confirmed
    no_exception(at)
    assert [(s["kind"], s["user"], s["api_key"]) for s in started] == [("ship", OWNER, key)]
    assert "user" not in started[0]["params"] or started[0]["params"]["user"] == OWNER
    assert key.encode() not in rendered(at)


def _job(job_id: str) -> dict[str, Any]:
    return {
        "id": job_id,
        "kind": "ship",
        "status": "running",
        "progress": 0.1,
        "message": "export",
        "started": None,
        "created": "now",
        "result": None,
        "log_path": "/nonexistent.log",
        "params": {},
    }


def test_a_refresh_keeps_an_argilla_session_without_the_key_in_the_url(argilla_project, monkeypatch):
    from ui.state import TOKEN_PARAM

    _root, _ = argilla_project
    key = "olivia-key-fedcba9876543210"
    at = sign_in_with_key(key)
    token = at.query_params[TOKEN_PARAM]
    assert token and key not in token and key not in str(dict(at.query_params))
    reopened: list[str | None] = []

    def fake_session_from_token(project_dir: Path, token_: str, *, api_key: str | None = None) -> Session:
        reopened.append(api_key)  # the key comes from the server's memory, never from the URL
        return at.session_state[Keys.SESSION]

    monkeypatch.setattr(services, "session_from_token", fake_session_from_token)
    fresh = AppTest.from_file(str(APP), default_timeout=30)
    fresh.query_params[TOKEN_PARAM] = token
    fresh.run()
    no_exception(fresh)
    assert reopened == [key] and fresh.title[0].value == "Review"
    assert fresh.session_state[Keys.API_KEY].get_secret_value() == key
