"""The reviewer's day in a real browser (issue 15): every page laid out at 1400×900 and usable at
1280×800, and the new tools used as a person would.

The same real harness as `test_browser_review.py`: the bundled example analysed by the real pipeline
(hashing embedder), served by `pairsmith ui`, Debian's chromium through Playwright. It checks:

- every page at 1400×900: no horizontal overflow; a screenshot of what fits on the screen
  (`test-artifacts/e2e/layout/`, the source of the pictures in docs/ui.md);
- Review: the label buttons, *Submit* and *Next* are on screen without scrolling, the verdict buttons
  are green / red / amber, a JSON correction shows a side-by-side diff, a reason tag goes with *B*;
- Duplicates: riskiest first, the words that differ from the keeper are marked;
- Clusters: a lasso on the map labels the records it encloses at once;
- Export: the dry run downloads as CSV, and *Export, train and evaluate* asks first;
- every page again at 1280×800: no horizontal overflow, Review's controls still on screen.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from curation.model import LABEL_BAD, LABEL_GOOD
from curation.project import open_store
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.streamlit_ui import (
    assert_no_exception,
    cut_off_labels,
    go_to,
    horizontal_overflow,
    open_app,
    outside_viewport,
    wait_for_app,
)
from tests.e2e.test_browser_review import click_button, css_key, current_record_id, expect_flash, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = ARTIFACTS / "layout"
PAGES = [
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
REVIEW_CONTROLS = [
    css_key("review_good") + " button",
    css_key("review_bad") + " button",
    css_key("review_fix") + " button",
    css_key("review_submit") + " button",
    css_key("review_next") + " button",
    "[class*='st-key-review_label-']",
]
GREEN, RED, AMBER = "rgb(26, 127, 55)", "rgb(207, 34, 46)", "rgb(191, 135, 0)"


def shot(page: Any, name: str) -> Path:
    """What the screen shows (not the whole page): the layout a person sees first."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def visit(page: Any, label: str) -> None:
    go_to(page, label)
    page.locator("[data-testid='stHeading'] h1").filter(has_text=label.split(" &")[0]).first.wait_for()
    assert_no_exception(page, label)


def check_layout(page: Any, where: str) -> None:
    overflow = horizontal_overflow(page)
    assert not overflow, f"{where}: content wider than the window: {overflow}"


def background(page: Any, key: str) -> str:
    return str(
        page.locator(css_key(key) + " button").first.evaluate("b => getComputedStyle(b).backgroundColor")
    )


def lasso(page: Any, fraction: float = 0.45) -> None:
    """Draw a lasso round the middle of the clusters map (plotly's drag layer), as a person would."""
    box = page.locator(css_key("clusters_map") + " .nsewdrag").first.bounding_box()
    assert box, "the map has no drag layer"
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    rx, ry = box["width"] * fraction / 2, box["height"] * fraction / 2
    corners = [
        (cx - rx, cy - ry),
        (cx + rx, cy - ry),
        (cx + rx, cy + ry),
        (cx - rx, cy + ry),
        (cx - rx, cy - ry),
    ]
    page.mouse.move(*corners[0])
    page.mouse.down()
    for x, y in corners[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()
    wait_for_app(page)


def test_every_page_fits_the_screen_and_the_reviewers_tools_work(
    make_e2e_project: Any, serve_app: Any, browser_context: Any
) -> None:
    started = time.monotonic()
    project = make_e2e_project(embedder="hashing")
    server = serve_app(project.root)
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1400, "height": 900})
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    open_app(page, server.url)
    page.get_by_role("heading", name="Sign in").wait_for()
    check_layout(page, "sign-in")
    shot(page, "sign-in")
    assert not page.get_by_text("Deploy", exact=True).count(), "Streamlit's Deploy button is hidden"
    sign_in(page, project, project.owner, "owner")
    page.get_by_role("heading", name="Review").first.wait_for()

    # --- Project: share the records between the annotator and the owner, a tenth reviewed by both ----
    visit(page, "Project & import")
    page.locator(css_key("assign_reviewers")).scroll_into_view_if_needed()
    page.get_by_text("Assign records to reviewers").click()
    wait_for_app(page)
    reviewers = page.locator(css_key("assign_reviewers")).get_by_role("combobox")
    reviewers.click()
    reviewers.press_sequentially(project.owner)
    page.get_by_role("option", name=project.owner, exact=True).wait_for()
    reviewers.press("Enter")
    page.keyboard.press("Escape")
    page.locator(css_key("assign_reviewers")).get_by_text(project.owner, exact=True).wait_for()
    page.locator(css_key("assign_overlap")).get_by_role("slider").focus()
    for _ in range(2):  # 0 % → 10 %
        page.keyboard.press("ArrowRight")
    click_button(page, "assign_run")
    expect_flash(page, "for the Agreement page")
    visit(page, "Review")  # the queue was built before the assignment: ask for "assigned to me"
    page.locator(css_key("queue_filters_open")).get_by_text(re.compile("^Queue:")).click()
    page.locator(css_key("queue_mine")).get_by_text("Only records assigned to me").click()
    click_button(page, "queue_apply")
    page.get_by_text(f"assigned to {project.owner}").first.wait_for()

    # --- Review: the controls are on screen, coloured by meaning --------------------------------------
    check_layout(page, "review")
    assert not cut_off_labels(page), cut_off_labels(page)
    assert not outside_viewport(page, REVIEW_CONTROLS), outside_viewport(page, REVIEW_CONTROLS)
    assert (
        background(page, "review_good"),
        background(page, "review_bad"),
        background(page, "review_fix"),
    ) == (
        GREEN,
        RED,
        AMBER,
    )
    shot(page, "review")

    # The filters folded away after Apply (above).
    assert not page.locator(css_key("queue_apply") + " button").is_visible()

    # A JSON correction: the box starts pretty-printed; the change shows side by side. (The example
    # plants broken outputs: move on to a record whose output is a JSON object.)
    for _ in range(20):
        corrected = current_record_id(page)
        box = page.locator(f"{css_key('review_correction:' + corrected)} textarea")
        original = box.input_value()
        if original.startswith("{\n  "):
            break
        click_button(page, "review_next")
    assert original.startswith("{\n  "), "the correction starts from the pretty-printed output"
    box.fill(json.dumps({**json.loads(original), "urgency": "high"}, indent=2))
    box.press("Control+Enter")
    wait_for_app(page)
    page.get_by_text("Changes to the original output").wait_for()
    page.locator(".ps-diff ins").first.wait_for()
    page.get_by_text("Changes to the original output").scroll_into_view_if_needed()
    shot(page, "review-correction")
    click_button(page, "review_fix")
    expect_flash(page, f"Submitted: record {corrected}.")

    # Bad with a reason tag, by keyboard.
    rejected = current_record_id(page)
    page.locator(css_key(f"review_reasons:{rejected}")).get_by_role("button", name="not-json").click()
    wait_for_app(page)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("b")
    wait_for_app(page)
    expect_flash(page, f"Submitted: record {rejected}.")

    # --- Duplicates: riskiest first, differences marked --------------------------------------------
    visit(page, "Duplicates")
    check_layout(page, "duplicates")
    page.locator(".ps-diff").first.wait_for()
    assert page.locator(".ps-diff del, .ps-diff ins").count() > 0, "the words that differ are marked"
    shot(page, "duplicates")
    page.locator(css_key("dup_order")).get_by_text("riskiest first", exact=True).click()
    wait_for_app(page)
    check_layout(page, "duplicates, riskiest first")

    # --- Clusters: a lasso labels what it encloses ---------------------------------------------------
    visit(page, "Clusters & diversity")
    check_layout(page, "clusters")
    shot(page, "clusters")
    lasso(page, 0.6)
    selected = page.get_by_text(re.compile(r"^\d+ records selected on the map$"))
    selected.wait_for()
    count = int(selected.inner_text().split()[0])
    assert count >= 10, f"the lasso selected only {count} records"
    check_layout(page, "clusters with a selection")
    page.locator(css_key("clusters_bulk_apply")).scroll_into_view_if_needed()
    shot(page, "clusters-selection")
    click_button(page, "clusters_bulk_apply")
    expect_flash(page, "Labelled")

    # --- Export: the dry run downloads, training asks first ------------------------------------------
    visit(page, "Export & train")
    check_layout(page, "export")
    shot(page, "export")
    with page.expect_download() as download:
        page.locator(css_key("train_dry_run") + " button").first.click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows and set(rows[0]) == {"id", "exported", "why", "reason_code", "detail"}
    assert sum(r["exported"] == "yes" for r in rows) >= 7
    click_button(page, "train_start")
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Start a run?").wait_for()
    check_layout(page, "export confirmation")
    shot(page, "export-confirm")
    click_button(page, "train_confirm_cancel")
    dialog.wait_for(state="hidden")

    # --- every other page, then everything again at 1280×800 ----------------------------------------
    for label in PAGES:
        visit(page, label)
        check_layout(page, label)
        assert not cut_off_labels(page), f"{label}: buttons cut off: {cut_off_labels(page)}"
        shot(page, "1400-" + re.sub(r"\W+", "-", label.lower()).strip("-"))
    page.set_viewport_size({"width": 1280, "height": 800})
    for label in PAGES:
        visit(page, label)
        check_layout(page, f"{label} at 1280x800")
        if label == "Review":
            missing = outside_viewport(page, REVIEW_CONTROLS)
            assert not missing, f"Review at 1280x800: {missing}"
        assert not cut_off_labels(page), f"{label} at 1280x800: buttons cut off: {cut_off_labels(page)}"
        shot(page, "1280-" + re.sub(r"\W+", "-", label.lower()).strip("-"))
    assert not page_errors, page_errors

    # --- the store holds what the browser did --------------------------------------------------------
    store = open_store(project.root)
    try:
        assigned = [r.metadata.get("assigned_to") or [] for r in store.query_records().records]
        both = sum(len(a) == 2 for a in assigned)
        assert abs(both - len(assigned) // 10) <= 1 and all(assigned), (
            "every record assigned, a tenth to both"
        )
        mine = {r.record_id: r for r in store.get_responses(user=project.owner)}
        assert mine[corrected].values["label"] == "needs_fix"
        stored = mine[corrected].values["corrected_output"]
        assert (
            "\n" not in stored and json.loads(stored)["urgency"] == "high"
        )  # in the output's one-line layout
        assert mine[rejected].values["label"] == LABEL_BAD and mine[rejected].values["comment"] == "#not-json"
        assert sum(r.values["label"] == LABEL_GOOD for r in mine.values()) >= min(count, 10)
    finally:
        store.close()
    print(f"browser layout e2e took {time.monotonic() - started:.0f}s")
