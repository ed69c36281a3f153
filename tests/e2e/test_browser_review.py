"""The real-browser end-to-end test: sign in, review, resolve a duplicate group, check the store.

Everything is real: a project built from the bundled example (a local SQLite file, and again on a
real Argilla server where each person signs in with their own API key) and analysed by the real
pipeline (the hashing embedder, so the test needs no model and stays fast on a 2-core machine),
the app served by `pairsmith ui DIR` on 127.0.0.1, and Debian's chromium driven by Playwright
(`tests/e2e/conftest.py`). Every page visited is saved as a screenshot in `test-artifacts/e2e/`.

Run it with `.venv/bin/pytest -m browser` (the Argilla run also needs the test server: `-m "browser"`
starts it; `-m "browser and not argilla"` runs the local one only).
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from curation import metadata_keys
from curation.analysis.results import load_artifact
from curation.model import (
    CORRECTION_QUESTION,
    LABEL_BAD,
    LABEL_GOOD,
    LABEL_NEEDS_FIX,
    LABEL_QUESTION,
    ResponseStatus,
)
from curation.project import open_store
from curation.review.duplicates import order_groups
from tests.e2e.streamlit_ui import assert_no_exception, go_to, nav_labels, open_app, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OWNER_PAGES = [
    "Project & import",
    "Guidelines",
    "Review",
    "Duplicates",
    "Clusters & diversity",
    "Agreement",
    "Export & train",
    "Runs & evaluation",
    "Decision log",
]
ANNOTATOR_PAGES = ["Review", "Clusters & diversity", "Runs & evaluation", "Decision log"]
CORRECTED = (
    '{"category": "plant_care", "urgency": "low", "order_id": null, "summary": "Corrected in the e2e test."}'
)


def css_key(key: str) -> str:
    """The CSS class Streamlit gives the element of a widget with this key."""
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key)


def click_button(page: Any, key: str) -> None:
    page.locator(f"{css_key(key)} button").first.click()
    wait_for_app(page)


def sign_in(page: Any, project: Any, name: str, role: str) -> None:
    """Sign in as ``name``: pick "name (role)" on a local project, type one's own API key on Argilla."""
    if project.backend == "argilla":
        page.locator(f"{css_key('sign_in_argilla_user')} input").fill(name)
        page.locator(f"{css_key('sign_in_api_key')} input").fill(project.keys[name])
    else:
        page.locator(css_key("sign_in_user")).get_by_role("combobox").click()
        page.get_by_role("option", name=f"{name} ({role})", exact=True).click()
    click_button(page, "sign_in_submit")


def current_record_id(page: Any) -> str:
    """The record on screen: its label radio carries the record id in its key."""
    radio = page.locator("[class*='st-key-review_label-']").first
    radio.wait_for(state="visible")
    classes = radio.get_attribute("class") or ""
    match = re.search(r"st-key-review_label-(\S+)", classes)
    assert match, classes
    return match.group(1)


def choose_label(page: Any, label: str) -> None:
    page.locator("[class*='st-key-review_label-']").first.get_by_text(label, exact=True).click()
    wait_for_app(page)


def expect_flash(page: Any, text: str) -> None:
    """The one-off message a save leaves for the next run (``ui.state.flash``)."""
    page.locator("[data-testid='stAlert']").filter(has_text=text).first.wait_for(state="visible")


def _prefixed(screenshot: Any, backend: str) -> Any:
    """Screenshots of the Argilla run get their own names (the local run's stay as they were)."""
    if backend == "local":
        return screenshot
    return lambda page, name: screenshot(page, f"argilla-{name}")


def visit(page: Any, label: str, shot: Any, name: str) -> None:
    go_to(page, label)
    page.locator("[data-testid='stHeading'] h1").filter(has_text=label.split(" &")[0]).first.wait_for()
    assert_no_exception(page, label)
    shot(page, name)


@pytest.fixture(params=["local", pytest.param("argilla", marks=pytest.mark.argilla)])
def backend(request: pytest.FixtureRequest) -> str:
    """The project's store: the local SQLite file, or a real Argilla server (each person signs in with their key)."""
    if request.param == "argilla":
        request.getfixturevalue("argilla_env")  # the server, and the owner's key for the CLI and this test
    return str(request.param)


def test_review_and_resolve_duplicates_in_a_real_browser(
    backend: str, make_e2e_project: Any, serve_app: Any, browser_context: Any, screenshot: Any
) -> None:
    started = time.monotonic()
    project = make_e2e_project(embedder="hashing", backend=backend)
    screenshot = _prefixed(screenshot, backend)
    groups = load_artifact(project.root, "duplicates")["groups"]
    assert groups, "the example dataset has planted duplicates; analysis must find them"
    server = serve_app(project.root)
    page = browser_context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))

    # --- an annotator signs in and reviews three records -------------------------------------------
    open_app(page, server.url)
    page.get_by_role("heading", name="Sign in").wait_for()
    assert_no_exception(page, "sign-in")
    screenshot(page, "01-sign-in")
    sign_in(page, project, project.annotator, "annotator")
    page.get_by_role("heading", name="Review").first.wait_for()
    assert_no_exception(page, "review")
    assert nav_labels(page) == [*ANNOTATOR_PAGES, "Sign in"], "an annotator sees only their pages"
    screenshot(page, "02-review")

    # Accept: label good, then submit.
    accepted = current_record_id(page)
    choose_label(page, LABEL_GOOD)
    click_button(page, "review_submit")
    expect_flash(page, f"Submitted: record {accepted}.")

    # Correct: label needs_fix, write the corrected output (Ctrl+Enter commits it), then submit.
    corrected = current_record_id(page)
    assert corrected != accepted, "submitting moves on to the next record"
    choose_label(page, LABEL_NEEDS_FIX)
    box = page.locator(f"{css_key('review_correction:' + corrected)} textarea")
    box.fill(CORRECTED)
    box.press("Control+Enter")
    wait_for_app(page)
    page.get_by_text("Changes to the original output").wait_for()
    screenshot(page, "03-review-correction-diff")
    click_button(page, "review_submit")
    expect_flash(page, f"Submitted: record {corrected}.")

    # Reject: the B shortcut labels bad and submits (keyboard review, outside any text box).
    rejected = current_record_id(page)
    assert rejected not in (accepted, corrected)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("b")
    wait_for_app(page)
    expect_flash(page, f"Submitted: record {rejected}.")
    assert_no_exception(page, "review after three submissions")
    screenshot(page, "04-review-after-three")

    visit(page, "Clusters & diversity", screenshot, "05-clusters-annotator")
    visit(page, "Runs & evaluation", screenshot, "06-runs-annotator")

    # --- the owner signs in and resolves a duplicate group -----------------------------------------
    click_button(page, "sign_out")
    page.get_by_role("heading", name="Sign in").wait_for()
    sign_in(page, project, project.owner, "owner")
    page.get_by_role("heading", name="Review").first.wait_for()
    assert nav_labels(page) == [*OWNER_PAGES, "Sign in"], "an owner sees every page"

    visit(page, "Duplicates", screenshot, "07-duplicates")
    # The first group on the first page: the page shows the largest first.
    group = order_groups(groups, "size", load_artifact(project.root, "duplicates")["conflicts"])[0]
    gid = group["group"]
    members = [m["id"] for m in group["records"]]
    keeper = next((m for m in members if m != group.get("keeper")), members[0])
    click_button(page, f"dup_keep_{gid}_{keeper}")
    expect_flash(page, f"Kept one: group {gid} kept 1, dropped {len(members) - 1}.")
    page.locator(css_key(f"dup_group_{gid}")).get_by_text("decided").first.wait_for()
    assert_no_exception(page, "duplicates after keep one")
    screenshot(page, "08-duplicates-resolved")

    for n, label in enumerate(
        [
            "Project & import",
            "Guidelines",
            "Clusters & diversity",
            "Agreement",
            "Export & train",
            "Runs & evaluation",
        ],
        start=9,
    ):
        visit(page, label, screenshot, f"{n:02d}-{label}")
    visit(page, "Review", screenshot, "15-review-owner")
    visit(page, "Sign in", screenshot, "16-sign-in-signed-in")
    assert not page_errors, page_errors

    # --- the store holds what the browser did (on Argilla: read back from the server) ----------------
    store = open_store(project.root)
    assert store.backend == backend
    try:
        responses = {r.record_id: r for r in store.get_responses(user=project.annotator)}
        assert set(responses) == {accepted, corrected, rejected}
        assert all(r.status == ResponseStatus.submitted for r in responses.values())
        assert responses[accepted].values[LABEL_QUESTION] == LABEL_GOOD
        assert responses[corrected].values[LABEL_QUESTION] == LABEL_NEEDS_FIX
        assert responses[corrected].values[CORRECTION_QUESTION] == CORRECTED
        assert responses[rejected].values[LABEL_QUESTION] == LABEL_BAD
        assert not store.get_responses(user=project.owner), "the owner only resolved duplicates"
        decisions = {m: store.get_record(m).metadata.get(metadata_keys.DUP_RESOLUTION) for m in members}
        assert decisions == {m: ("keep" if m == keeper else "drop") for m in members}
    finally:
        store.close()
    print(f"browser e2e ({backend}) took {time.monotonic() - started:.0f}s")
