"""Real roles on local projects: passwords, no owner made from the browser, a fixed project, server
paths only where allowed, a refresh that keeps the session and deep links that open after sign-in."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from curation.errors import PermissionDeniedError
from curation.model import Role
from curation.project import init_project
from curation.review.auth import set_password, sign_in
from curation.review.sessions import issue_token
from tests.factories import make_record
from tests.ui.conftest import ANNOTATOR, APP, OWNER, app_as, no_exception
from ui.state import HOST_ENV, IMPORT_ROOTS_ENV, PROJECT_ENV, TOKEN_PARAM, Keys

OWNER_PW, ANN_PW = "olivias-passphrase", "anns-passphrase"


@pytest.fixture
def team(seeded_project):
    root, store = seeded_project([make_record(id=f"r{i}") for i in range(3)])
    set_password(store, OWNER, OWNER_PW)
    set_password(store, ANNOTATOR, ANN_PW)
    return root, store


def sign_in_form(at: AppTest, name: str, password: str) -> AppTest:
    at.selectbox(key="sign_in_user").select(name)
    at.text_input(key="sign_in_password").input(password)
    return at.button(key="sign_in_submit").click().run()


def test_an_annotator_cannot_sign_in_as_the_owner(team):
    root, _ = team
    at = sign_in_form(app_as(root, None), OWNER, ANN_PW)
    no_exception(at)
    assert "wrong user name or password" in at.error[0].value
    assert Keys.SESSION not in at.session_state
    at = sign_in_form(at, OWNER, "")
    assert "wrong user name or password" in at.error[0].value
    at = sign_in_form(at, ANNOTATOR, ANN_PW)
    assert at.session_state[Keys.SESSION].user.name == ANNOTATOR


def test_once_anyone_has_a_password_everyone_needs_one(seeded_project):
    root, store = seeded_project()
    set_password(store, OWNER, OWNER_PW)
    at = sign_in_form(app_as(root, None), ANNOTATOR, "")
    assert "has no password yet" in at.error[0].value and Keys.SESSION not in at.session_state


def test_a_project_without_passwords_signs_in_by_name_only_on_loopback(seeded_project, monkeypatch):
    root, _ = seeded_project()
    at = sign_in_form(app_as(root, None), ANNOTATOR, "")
    assert at.session_state[Keys.SESSION].user.name == ANNOTATOR
    monkeypatch.setenv(HOST_ENV, "0.0.0.0")
    at = sign_in_form(app_as(root, None), OWNER, "")
    assert "may not sign anyone in" in at.error[0].value


def test_the_first_owner_is_made_on_the_command_line_only(tmp_path, monkeypatch):
    root = tmp_path / "empty"
    init_project(root, "empty").close()
    monkeypatch.setenv(PROJECT_ENV, str(root))
    at = app_as(root, None)
    no_exception(at)
    assert "pairsmith users add" in at.info[0].value
    assert not at.button and not at.text_input  # no "Create owner and sign in"


def test_a_refresh_keeps_the_session_and_a_bad_token_does_not(team):
    root, store = team
    at = sign_in_form(app_as(root, None), OWNER, OWNER_PW)
    token = at.query_params[TOKEN_PARAM]
    assert token and at.title[0].value == "Review"
    # A refresh is a new script run with an empty session state and the same URL.
    fresh = AppTest.from_file(str(APP), default_timeout=30)
    fresh.query_params[TOKEN_PARAM] = token
    fresh.run()
    no_exception(fresh)
    assert fresh.session_state[Keys.SESSION].user.name == OWNER and fresh.title[0].value == "Review"
    forged = AppTest.from_file(str(APP), default_timeout=30)
    forged.query_params[TOKEN_PARAM] = token[:-4] + "0000"
    forged.run()
    assert forged.title[0].value == "Sign in" and "not valid" in forged.warning[0].value
    set_password(store, OWNER, "a-new-passphrase")  # a password change signs old sessions out
    revoked = AppTest.from_file(str(APP), default_timeout=30)
    revoked.query_params[TOKEN_PARAM] = token
    revoked.run()
    assert revoked.title[0].value == "Sign in" and "password changed" in revoked.warning[0].value


def test_an_expired_token_signs_nobody_in(team):
    root, store = team
    token = issue_token(root, store, OWNER, ttl_s=-1)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params[TOKEN_PARAM] = token
    at.run()
    assert at.title[0].value == "Sign in" and "expired" in at.warning[0].value


def follow_link(page: str) -> AppTest:
    """Open ``page`` by URL without a session: the app shows the sign-in page instead."""
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.switch_page(page).run()
    no_exception(at)
    assert at.title[0].value == "Sign in"
    # The browser's URL is the sign-in page's now; AppTest keeps its own page, so move it there too.
    return at.switch_page("app_pages/sign_in.py").run()


def test_a_deep_link_opens_its_page_after_sign_in(team):
    at = sign_in_form(follow_link("app_pages/agreement.py"), OWNER, OWNER_PW)
    no_exception(at)
    assert at.title[0].value == "Agreement & adjudication"
    # An annotator following an owner's link lands on their own default page instead.
    at = sign_in_form(follow_link("app_pages/agreement.py"), ANNOTATOR, ANN_PW)
    assert at.title[0].value == "Review"


def test_server_paths_only_for_an_owner_on_loopback_or_under_an_allowed_root(team, tmp_path, monkeypatch):
    root, _ = team
    inside, outside = tmp_path / "allowed", tmp_path / "private"
    for folder in (inside, outside):
        folder.mkdir()
        (folder / "pairs.jsonl").write_text('{"prompt": "q", "response": "a"}\n')
    page = "app_pages/project_import.py"
    at = app_as(root, OWNER, page)
    assert at.radio(key="import_source").options == ["Upload", "Path on this machine"]
    monkeypatch.setenv(HOST_ENV, "0.0.0.0")
    at = app_as(root, OWNER, page)
    assert at.radio(key="import_source").options == ["Upload"]  # no roots: no server paths at all
    monkeypatch.setenv(IMPORT_ROOTS_ENV, str(inside))
    at = app_as(root, OWNER, page)
    at.radio(key="import_source").set_value("Path on this machine").run()
    at.text_input(key="import_path").input(str(inside / ".." / "private" / "pairs.jsonl")).run()
    no_exception(at)
    assert "only files under the allowed roots" in at.error[0].value and not at.dataframe[1:]
    at.text_input(key="import_path").input(str(inside / "pairs.jsonl")).run()
    no_exception(at)
    assert "Preview: the first 1 rows" in " ".join(c.value for c in at.caption)


def test_the_library_refuses_an_annotator_whatever_the_page_shows(team, tmp_path):
    from curation.importing import import_file
    from curation.review.auth import add_person, check_server_path

    root, store = team
    data = tmp_path / "pairs.jsonl"
    data.write_text('{"prompt": "q", "response": "a"}\n')
    with pytest.raises(PermissionDeniedError, match="ann is an annotator"):
        import_file(store, data, quarantine_dir=tmp_path / "q", user=ANNOTATOR)
    with pytest.raises(PermissionDeniedError, match="ann is an annotator"):
        add_person(store, "mallory", Role.owner, password="mallorys-pass", by=ANNOTATOR)
    with pytest.raises(PermissionDeniedError):
        set_password(store, OWNER, "taken-over-now", by=ANNOTATOR)
    annotator = sign_in(root, user_name=ANNOTATOR, password=ANN_PW)
    with pytest.raises(PermissionDeniedError, match="cannot read files on the server"):
        check_server_path(data, annotator.user, loopback=True)
    annotator.close()
