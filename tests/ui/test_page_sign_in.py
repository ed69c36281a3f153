"""Sign-in and roles: who sees which pages, and designer pages refuse annotators."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from curation.review.auth import sign_in
from tests.ui.conftest import ANNOTATOR, APP, DESIGNER_PAGES, OWNER, app_as, no_exception
from ui.state import Keys


def test_signing_in_by_picking_a_user(seeded_project):
    root, _ = seeded_project()
    at = app_as(root, None)
    no_exception(at)
    assert at.title[0].value == "Sign in"
    at.selectbox(key="sign_in_user").select(ANNOTATOR)
    at.button(key="sign_in_submit").click().run()
    no_exception(at)
    session = at.session_state[Keys.SESSION]
    assert session.user.name == ANNOTATOR
    assert at.title[0].value == "Review"  # the default page once signed in


def test_the_project_is_the_one_the_server_was_started_for(seeded_project, tmp_path, monkeypatch):
    seeded_project()
    at = app_as(tmp_path, None)
    no_exception(at)
    assert not [t for t in at.text_input if t.key == "sign_in_project"]  # no way to open another path
    monkeypatch.setenv("PAIRSMITH_PROJECT", str(tmp_path / "nowhere"))
    at = app_as(tmp_path, None)
    no_exception(at)
    assert "not a pairsmith project" in at.error[0].value


@pytest.mark.parametrize("page", DESIGNER_PAGES)
def test_an_annotator_cannot_open_designer_pages(seeded_project, page):
    root, _ = seeded_project()
    at = app_as(root, ANNOTATOR)
    # Navigation does not register the page for an annotator, so it cannot be reached by URL...
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page)
    # ...and run directly, the page refuses before showing anything.
    direct = AppTest.from_file(str(APP.parent / page), default_timeout=30)
    direct.session_state[Keys.SESSION] = sign_in(root, user_name=ANNOTATOR)
    direct.run()
    no_exception(direct)
    assert "this page is for project owners" in direct.error[0].value
    assert not direct.button and not direct.text_area


@pytest.mark.parametrize("page", ["app_pages/review.py", "app_pages/clusters.py", "app_pages/runs.py"])
def test_an_annotator_can_open_review_clusters_and_runs(seeded_project, page):
    root, _ = seeded_project()
    at = app_as(root, ANNOTATOR, page)
    no_exception(at)
    assert not any("project owners" in e.value for e in at.error)


@pytest.mark.parametrize(
    "page", [*DESIGNER_PAGES, "app_pages/review.py", "app_pages/clusters.py", "app_pages/runs.py"]
)
def test_an_owner_opens_every_page(seeded_project, page):
    root, _ = seeded_project()
    at = app_as(root, OWNER, page)
    no_exception(at)


def test_sign_out_forgets_the_session(seeded_project):
    root, _ = seeded_project()
    at = app_as(root, OWNER)
    at.sidebar.button(key="sign_out").click().run()
    no_exception(at)
    assert Keys.SESSION not in at.session_state
    assert at.title[0].value == "Sign in"


def test_after_sign_out_the_next_person_starts_on_the_sign_in_page(seeded_project):
    root, _ = seeded_project()
    at = app_as(root, OWNER, "app_pages/agreement.py")
    at.sidebar.button(key="sign_out").click().run()
    no_exception(at)
    assert at.title[0].value == "Sign in"
    # The page the previous person was on is not remembered as a deep link for the next one
    # (tests/e2e/test_browser_review.py signs the next person in and checks they land on Review).
    assert Keys.NEXT_PAGE not in at.session_state
