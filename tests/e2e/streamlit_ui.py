"""Small Playwright helpers for driving a Streamlit app without flaky sleeps.

Streamlit reruns the whole script after each interaction. The app root carries
``data-test-script-state`` (``running`` / ``notRunning`` / ``rerunRequested``) and
``data-test-connection-state``; waiting for ``notRunning`` after every action, plus for the text we
expect, is what keeps these tests stable on a slow machine.
"""

from __future__ import annotations

from typing import Any

APP_TIMEOUT_MS = 90_000
NAV_LINK = "[data-testid='stSidebarNavLink'], [data-testid='stTopNavLink']"


def wait_for_app(page: Any, timeout_ms: int = APP_TIMEOUT_MS) -> None:
    """Wait until the app is connected and no script run is under way or requested.

    A short grace period first lets the rerun that the last action triggered begin, so that we do
    not mistake the state before it for the state after it.
    """
    page.wait_for_timeout(300)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", state="attached", timeout=timeout_ms
    )
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", state="attached", timeout=timeout_ms
    )
    page.wait_for_timeout(200)


def open_app(page: Any, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded", timeout=APP_TIMEOUT_MS)
    wait_for_app(page)


def app_exceptions(page: Any) -> list[str]:
    """Texts of the exceptions Streamlit shows in the page (an uncaught error in a script run)."""
    return [str(t) for t in page.locator("[data-testid='stException']").all_inner_texts()]


def assert_no_exception(page: Any, where: str) -> None:
    errors = app_exceptions(page)
    assert not errors, f"{where}: the app shows an exception:\n" + "\n".join(errors)


def nav_labels(page: Any) -> list[str]:
    """The labels of every page in the navigation, expanding "View more" when Streamlit folds it."""
    more = page.locator("[data-testid='stSidebarNavViewButton']")
    if more.count() and "more" in (more.first.inner_text() or "").lower():
        more.first.click()
    return [_link_label(t) for t in page.locator(NAV_LINK).all_inner_texts() if t.strip()]


def _link_label(text: str) -> str:
    """A navigation link's title: its text holds the Material icon's name first (``rate_review``)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def go_to(page: Any, label: str) -> None:
    """Open a page through the navigation (keeps the session, unlike a fresh URL)."""
    # The link's text starts with its Material icon's name; match the title's own element instead.
    link = page.locator(NAV_LINK).filter(has=page.get_by_text(label, exact=True))
    link.first.click()
    wait_for_app(page)


# --- layout checks (issue 15) -------------------------------------------------------------------


def horizontal_overflow(page: Any) -> list[str]:
    """What sticks out sideways: the document or the main area scrolling horizontally, or a visible
    element of the main area reaching past the viewport's right edge (empty when nothing does)."""
    return [
        str(item)
        for item in page.evaluate(
            """() => {
            const out = [];
            const doc = document.documentElement;
            if (doc.scrollWidth > doc.clientWidth + 1) out.push(`document ${doc.scrollWidth} > ${doc.clientWidth}`);
            const main = document.querySelector("[data-testid='stMain']");
            if (main && main.scrollWidth > main.clientWidth + 1) out.push(`main ${main.scrollWidth} > ${main.clientWidth}`);
            const right = window.innerWidth;
            for (const el of document.querySelectorAll("[data-testid='stMainBlockContainer'] [data-testid]")) {
                const box = el.getBoundingClientRect();
                if (box.width > 0 && box.height > 0 && box.right > right + 1) {
                    out.push(`${el.getAttribute('data-testid')} ends at ${Math.round(box.right)} > ${right}`);
                    if (out.length > 5) break;
                }
            }
            return out;
        }"""
        )
    ]


def outside_viewport(page: Any, selectors: list[str]) -> list[str]:
    """The selectors whose first element is not wholly on screen without scrolling (empty when all are)."""
    size = page.viewport_size
    missing = []
    for selector in selectors:
        box = page.locator(selector).first.bounding_box()
        if (
            box is None
            or box["x"] < 0
            or box["y"] < 0
            or box["x"] + box["width"] > size["width"]
            or box["y"] + box["height"] > size["height"]
        ):
            missing.append(f"{selector}: {box}")
    return missing


def cut_off_labels(page: Any) -> list[str]:
    """Button labels in the main area that do not fit their button (shown with an ellipsis)."""
    return [
        str(text)
        for text in page.evaluate(
            """() => [...document.querySelectorAll("[data-testid='stMainBlockContainer'] button p")]
                .filter(p => p.offsetWidth > 0 && p.scrollWidth > p.clientWidth + 1)
                .map(p => p.textContent)"""
        )
    ]
