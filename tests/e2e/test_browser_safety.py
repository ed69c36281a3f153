"""No decision loses work, in a real browser: passwords keep an annotator from acting as an owner, a
refresh keeps the session, a deep link opens after sign-in, adjudicating keeps every answer, and a
bulk drop asks first and undo brings the records back.

Real components throughout: a local project analysed by the real pipeline (hashing embedder), the
app served by `pairsmith ui`, Debian's chromium driven by Playwright. Run with
`.venv/bin/pytest -m browser`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from curation import metadata_keys
from curation.model import Record, RecordSource, Response, Role, User
from curation.project import init_project, open_store
from curation.review.auth import set_password
from tests.e2e.streamlit_ui import assert_no_exception, nav_labels, open_app, wait_for_app
from tests.e2e.test_browser_review import click_button, css_key, expect_flash

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OWNER, ANNOTATOR, SECOND = "olivia", "arun", "bea"
PASSWORDS = {OWNER: "olivias-passphrase", ANNOTATOR: "aruns-passphrase", SECOND: "beas-passphrase"}
COPIES = 6  # exact groups of three: a bulk resolve drops 2 × 6 = 12 records, more than ten


def build_project(root: Path) -> None:
    from curation.analysis.pipeline import AnalysisSettings, analyze_project

    store = init_project(root, "safety")
    for name, role in ((OWNER, Role.owner), (ANNOTATOR, Role.annotator), (SECOND, Role.annotator)):
        store.add_user(User(name=name, role=role))
        set_password(store, name, PASSWORDS[name])
    records = [
        Record(
            id=f"copy-{g}-{c}",
            input=f"Do you deliver to town number {g}?",
            output=f"Yes, town {g} in 3 days.",
            source=RecordSource(file="faq.csv", row=g * 3 + c),
        )
        for g in range(COPIES)
        for c in range(3)
    ]
    records += [
        Record(
            id=f"q-{i}",
            input=f"Distinct question {i} about {topic}",
            output=f"Answer {i}",
            source=RecordSource(file="faq.csv", row=100 + i),
        )
        for i, topic in enumerate(["refunds", "plants", "pots", "soil", "light", "water"])
    ]
    store.upsert_records(records)
    answers = {
        ANNOTATOR: {"label": "good", "comment": "looks right"},
        SECOND: {"label": "bad", "comment": "the answer is wrong"},
        OWNER: {"label": "good", "rating": 4, "comment": "my own view"},
    }
    for user, values in answers.items():
        store.save_response(Response(record_id="q-0", user=user, values=values, status="submitted"))
    store.close()
    analyze_project(root, settings=AnalysisSettings(embedder="hashing"))


def sign_in(page: Any, label: str, password: str) -> None:
    page.locator(css_key("sign_in_user")).get_by_role("combobox").click()
    page.get_by_role("option", name=label, exact=True).click()
    page.locator(f"{css_key('sign_in_password')} input").fill(password)
    click_button(page, "sign_in_submit")


def heading(page: Any, text: str) -> None:
    page.locator("[data-testid='stHeading'] h1").filter(has_text=text).first.wait_for()


def resolutions(root: Path) -> dict[str, str | None]:
    store = open_store(root)
    try:
        return {r.id: r.metadata.get(metadata_keys.DUP_RESOLUTION) for r in store.query_records().records}
    finally:
        store.close()


def test_safe_decisions_in_a_real_browser(
    tmp_path: Path, serve_app: Any, browser_context: Any, screenshot: Any
) -> None:
    root = tmp_path / "safety"
    build_project(root)
    server = serve_app(root)
    page = browser_context.new_page()

    # --- an annotator cannot act as an owner ------------------------------------------------------
    open_app(page, server.url)
    heading(page, "Sign in")
    sign_in(page, f"{OWNER} (owner)", PASSWORDS[ANNOTATOR])
    page.get_by_text("wrong user name or password").first.wait_for()
    screenshot(page, "safety-01-wrong-password")
    sign_in(page, f"{ANNOTATOR} (annotator)", PASSWORDS[ANNOTATOR])
    heading(page, "Review")
    assert "Duplicates" not in nav_labels(page) and "Agreement" not in nav_labels(page)
    token_url = page.url
    assert "session=" in token_url

    # --- a refresh keeps the session --------------------------------------------------------------
    page.reload(wait_until="domcontentloaded")
    wait_for_app(page)
    heading(page, "Review")
    page.get_by_text(f"Signed in as {ANNOTATOR} (annotator)").wait_for()
    screenshot(page, "safety-02-refreshed")
    # An owner's page by URL is not there for an annotator.
    page.goto(
        f"{server.url}/duplicates?session={token_url.split('session=')[1]}", wait_until="domcontentloaded"
    )
    wait_for_app(page)
    assert not page.locator(css_key("dup_bulk_exact")).count()
    assert_no_exception(page, "an annotator on an owner's URL")
    screenshot(page, "safety-02b-annotator-on-owner-url")
    page.goto(token_url, wait_until="domcontentloaded")  # away from Streamlit's "page not found" dialog
    wait_for_app(page)
    click_button(page, "sign_out")
    heading(page, "Sign in")

    # --- a deep link opens after sign-in ----------------------------------------------------------
    open_app(page, f"{server.url}/agreement")
    heading(page, "Sign in")
    sign_in(page, f"{OWNER} (owner)", PASSWORDS[OWNER])
    heading(page, "Agreement & adjudication")
    assert_no_exception(page, "agreement after the deep link")

    # --- adjudicating keeps every answer ------------------------------------------------------------
    box = page.locator(css_key("agreement_q-0"))
    # Every answer is shown with its comment (dataframe cells sit in the DOM behind a canvas).
    box.get_by_text("my own view").first.wait_for(state="attached")
    box.get_by_text("the answer is wrong").first.wait_for(state="attached")
    screenshot(page, "safety-03-agreement")
    box.locator(css_key("adjudicate_value_q-0")).get_by_text("bad", exact=True).click()
    box.locator(f"{css_key('adjudicate_why_q-0')} input").fill("bea is right")
    click_button(page, "adjudicate_save_q-0")
    expect_flash(page, "Record q-0: final answer set by olivia.")
    page.locator(css_key("agreement_show_done")).locator("label").first.click()
    wait_for_app(page)
    page.locator(css_key("agreement_q-0")).get_by_text("final answer by olivia").first.wait_for()
    screenshot(page, "safety-04-adjudicated-still-listed")
    store = open_store(root)
    try:
        kept = {r.user: (r.values, str(r.status)) for r in store.get_responses(record_ids=["q-0"])}
        final = store.get_record("q-0").metadata[metadata_keys.FINAL_ANSWER]
    finally:
        store.close()
    assert kept == {
        ANNOTATOR: ({"label": "good", "comment": "looks right"}, "submitted"),
        SECOND: ({"label": "bad", "comment": "the answer is wrong"}, "submitted"),
        OWNER: ({"label": "good", "rating": 4, "comment": "my own view"}, "submitted"),
    }
    assert final["values"] == {"label": "bad"} and final["by"] == OWNER

    # --- a bulk drop asks first, and undo brings the records back ----------------------------------
    page.goto(page.url.replace("/agreement", "/duplicates"), wait_until="domcontentloaded")
    wait_for_app(page)
    heading(page, "Duplicates")
    click_button(page, "dup_bulk_exact")
    page.get_by_text("drops 12 records").first.wait_for()
    assert set(resolutions(root).values()) == {None}, "nothing is dropped before confirming"
    screenshot(page, "safety-05-confirm-bulk-drop")
    click_button(page, "dup_confirm")
    expect_flash(page, f"Resolved {COPIES} exact groups")
    assert list(resolutions(root).values()).count("drop") == 2 * COPIES
    click_button(page, "dup_undo")
    expect_flash(page, "Undone")
    assert set(resolutions(root).values()) == {None}
    screenshot(page, "safety-06-undone")
    page.reload(wait_until="domcontentloaded")  # the owner stays signed in on the same page
    wait_for_app(page)
    heading(page, "Duplicates")
    assert_no_exception(page, "duplicates after a refresh")
