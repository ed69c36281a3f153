"""Showing records safely: user text is always shown as text, never as HTML or Markdown.

Everything a record holds (input, output, chat turns, metadata, corrections, comments) came from
someone's file, so it goes through ``st.text``, ``st.code`` or a dataframe cell, which display it
literally, or through ``st.html`` with every character of it escaped by ``html.escape`` (diffs, and
right-to-left text, which ``st.text`` cannot set a direction for; Streamlit also sanitises st.html
with DOMPurify and runs no script from it). Nothing here passes ``unsafe_allow_html``; Markdown is
used only for our own labels with values escaped by :func:`md_escape`.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import streamlit as st

from curation import metadata_keys
from curation.model import Record
from curation.review import diff, display
from curation.review.diff import DiffPart

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
_ROLE_AVATAR = {
    "system": ":material/settings:",
    "user": "user",
    "assistant": "assistant",
    "tool": ":material/build:",
}


def md_escape(text: str) -> str:
    """Text made inert for st.markdown (no links, images, emphasis or HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def output_block(text: str, *, label: str | None = None, key: str | None = None) -> None:
    """An output shown literally: JSON pretty-printed as code, anything else as plain text.

    With ``key``, a long output is clipped and gets a *Show all* toggle (stored under ``key``).
    """
    if label:
        st.caption(label)
    if not text.strip():
        st.caption("(empty)")
        return
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict | list):
        pretty = json.dumps(parsed, ensure_ascii=False, indent=2)
        clipped = display.clip(pretty)
        show_all = key is None or bool(st.session_state.get(key))
        st.code(pretty if show_all else clipped.shown, language="json", wrap_lines=True)
        if key is not None and clipped.clipped:
            st.toggle(f"Show all ({clipped.hidden_lines:,} more lines)", key=key)
    elif key is not None:
        text_block(text, key=key)
    else:
        st.text(text)


def record_input(record: Record) -> None:
    """The input: chat turns as message bubbles, a plain prompt as one user bubble; long turns clipped."""
    if record.system and not record.is_chat:
        with st.chat_message("system", avatar=_ROLE_AVATAR["system"]):
            text_block(record.system, key=f"show_all:{record.id}:system")
    if isinstance(record.input, str):
        with st.chat_message("user"):
            text_block(record.input, key=f"show_all:{record.id}:input")
        return
    for n, message in enumerate(record.input):
        with st.chat_message(message.role, avatar=_ROLE_AVATAR.get(message.role)):
            if message.role == "tool":
                what = "tool call" if message.kind == "call" else "tool result"
                st.caption(md_escape(f"{what}: {message.name}" if message.name else what))
            text_block(message.content, key=f"show_all:{record.id}:turn:{n}")


def record_facts(record: Record) -> None:
    """One caption line of what analysis found (cluster, duplicates, flags), escaped."""
    meta = record.metadata
    facts = []
    if meta.get(metadata_keys.CLUSTER_NAME) is not None:
        facts.append(f"cluster: {meta[metadata_keys.CLUSTER_NAME]}")
    if meta.get(metadata_keys.DUP_GROUP):
        tier = meta.get(metadata_keys.DUP_TIER, "?")
        facts.append(f"duplicate group {meta[metadata_keys.DUP_GROUP]} ({tier})")
    if meta.get(metadata_keys.CONFLICT_GROUP):
        facts.append(f"conflict {meta[metadata_keys.CONFLICT_GROUP]}")
    flags = meta.get(metadata_keys.FLAGS) or []
    if flags:
        facts.append("flags: " + ", ".join(str(f) for f in flags))
    if record.golden:
        facts.append("golden example")
    if record.source.file:
        facts.append(f"from {record.source.file} row {record.source.row}")
    if facts:
        st.caption(md_escape(" · ".join(facts)))


def metadata_table(record: Record) -> None:
    """The record's own metadata (source columns), as a two-column table of strings."""
    rows = [
        {"key": str(k), "value": v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)}
        for k, v in record.metadata.items()
        if k not in metadata_keys.ANALYSIS_KEYS and k not in metadata_keys.REVIEW_KEYS
    ]
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")


def snippet(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_cell(value: Any) -> str:
    """A value as a dataframe cell string."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def job_progress(job: dict[str, Any], log: str, *, log_label: str = "Log", expanded: bool = False) -> None:
    """A background job's progress bar with its status and message, and its log tail in an expander."""
    text = f"{job['status']}: {job['message'] or '…'}"
    st.progress(min(1.0, float(job["progress"] or 0.0)), text=text)
    with st.expander(log_label, expanded=expanded):
        st.code(log or "(no output yet)", language=None)


# --- layout helpers: direction, clipping, diffs, colours ---------------------------------------------

# One style sheet for the whole app (st.html with only a <style> goes to the page's event container
# and takes no space). Button colours say what a button does: green accepts, red rejects, amber asks
# for a fix; the guidelines' tables scroll inside the sidebar instead of spilling over it.
PAGE_STYLE = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; padding-bottom: 2rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 2.1rem; padding-top: 0.2rem; padding-bottom: 0.4rem; }
[data-testid="stMainBlockContainer"] h2 { font-size: 1.55rem; padding-top: 0.9rem; padding-bottom: 0.3rem; }
.st-key-review_good button { background: #1a7f37; border-color: #1a7f37; color: #fff; }
.st-key-review_good button:hover { background: #116329; border-color: #116329; color: #fff; }
.st-key-review_bad button { background: #cf222e; border-color: #cf222e; color: #fff; }
.st-key-review_bad button:hover { background: #a40e26; border-color: #a40e26; color: #fff; }
.st-key-review_fix button { background: #bf8700; border-color: #bf8700; color: #fff; }
.st-key-review_fix button:hover { background: #9a6700; border-color: #9a6700; color: #fff; }
.st-key-review_queue_list button { justify-content: flex-start; text-align: left; min-height: 1.9rem;
  padding: 0.1rem 0.5rem; width: 100%; }
.st-key-review_queue_list button p { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.st-key-review_queue_list button div { overflow: hidden; }
.st-key-review_answer_panel button { padding-left: 0.45rem; padding-right: 0.45rem; }
[class*="st-key-review_correction"] textarea { font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
  font-size: 0.85rem; }
[data-testid="stSidebar"] table { display: block; overflow-x: auto; max-width: 100%; font-size: 0.8rem; }
[data-testid="stSidebar"] pre { white-space: pre-wrap; }
.ps-text { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.95rem; line-height: 1.45; }
.ps-diff { white-space: pre-wrap; overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular,
  Menlo, monospace; font-size: 0.85rem; line-height: 1.5; padding: 0.5rem 0.75rem;
  border: 1px solid rgba(128,128,128,0.3); border-radius: 0.5rem; }
.ps-diff del { background: #ffd7d5; color: #82071e; text-decoration: line-through; }
.ps-diff ins { background: #ccffd8; color: #055d20; text-decoration: none; }
.ps-diff .ps-side { font-family: sans-serif; font-size: 0.75rem; opacity: 0.7; display: block; }
</style>"""


def page_style() -> None:
    """The app's style sheet (call once per run, before the page)."""
    st.html(PAGE_STYLE)


def text_block(text: str, *, key: str, limit: int = display.CLIP_CHARS) -> None:
    """Record text shown literally, in its reading direction, clipped with a *Show all* toggle.

    Left-to-right text goes through ``st.text``; right-to-left text through ``st.html`` with every
    character escaped (``dir="rtl"``), since ``st.text`` cannot set a direction.
    """
    clipped = display.clip(text, max_chars=limit)
    show_all = bool(st.session_state.get(key))
    shown = text if show_all or not clipped.clipped else clipped.shown
    if display.text_direction(text) == "rtl":
        st.html(f'<div class="ps-text" dir="rtl">{html.escape(shown)}</div>')
    else:
        st.text(shown)
    if clipped.clipped:
        more = f"{clipped.hidden_chars:,} more characters"
        st.toggle(f"Show all ({more})", key=key)


def _diff_html(parts: list[DiffPart], text: str) -> str:
    direction = display.text_direction(text)
    spans = []
    for part in parts:
        escaped = html.escape(part.text)
        spans.append(
            f"<del>{escaped}</del>"
            if part.kind == "delete"
            else f"<ins>{escaped}</ins>"
            if part.kind == "insert"
            else escaped
        )
    return f'<div class="ps-diff" dir="{direction}">{"".join(spans)}</div>'


def side_by_side_diff(parts: list[DiffPart], original: str, corrected: str) -> None:
    """Two columns: the original with what was removed (red), the new text with what was added (green)."""
    before, after = diff.side_by_side(parts)
    left, right = st.columns(2)
    with left:
        st.caption("Original (removed in red)")
        st.html(_diff_html(before, original))
    with right:
        st.caption("Corrected (added in green)")
        st.html(_diff_html(after, corrected))


def inline_diff(parts: list[DiffPart], text: str) -> None:
    """One block: kept text plain, removed text struck through in red, added text in green."""
    st.html(_diff_html(parts, text))


LABEL_COLOURS = {
    "good": "#1a7f37",
    "needs_fix": "#bf8700",
    "bad": "#cf222e",
    "(discarded)": "#6e7781",
    "unreviewed": "#afb8c1",
}
"""Map colours by label: the same meaning as the review buttons."""
DUPLICATE_COLOURS = {
    "keep": "#1a7f37",
    "drop": "#cf222e",
    "conflict": "#bf8700",
    "duplicate": "#0969da",
    "unique": "#afb8c1",
}
"""Map colours by duplicate status: kept green, dropped red, undecided duplicates blue."""


def distinct_colours(count: int) -> list[str]:
    """``count`` colours that differ from their neighbours in hue and lightness (any count).

    Hues step by the golden angle, so consecutive clusters (the largest ones come first) never get
    similar colours, and lightness cycles through three levels, so 30 or more clusters stay apart.
    """
    colours = []
    for i in range(count):
        hue = (i * 137.508) % 360
        lightness = (45, 62, 35)[i % 3]
        saturation = (70, 60, 80)[(i // 3) % 3]
        colours.append(_hsl_to_hex(hue, saturation / 100, lightness / 100))
    return colours


def _hsl_to_hex(hue: float, saturation: float, lightness: float) -> str:
    import colorsys

    r, g, b = colorsys.hls_to_rgb(hue / 360, lightness, saturation)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def interval(cell: dict[str, Any] | None) -> str:
    """A confidence interval ``{"low", "high"}`` as "low – high" ("–" when there is none)."""
    if not cell or cell.get("low") is None or cell.get("high") is None:
        return "–"
    return f"{cell['low']:.4g} – {cell['high']:.4g}"
