"""Showing records safely: user text is always shown as text, never as HTML or Markdown.

Everything a record holds (input, output, chat turns, metadata, corrections, comments) came from
someone's file, so it goes through ``st.text``, ``st.code`` or a dataframe cell, which display it
literally. Nothing here passes ``unsafe_allow_html``; Markdown is used only for our own labels
with values escaped by :func:`md_escape`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import streamlit as st

from curation import metadata_keys
from curation.model import Record

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


def output_block(text: str, *, label: str | None = None) -> None:
    """An output shown literally: JSON pretty-printed as code, anything else as plain text."""
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
        st.code(json.dumps(parsed, ensure_ascii=False, indent=2), language="json", wrap_lines=True)
    else:
        st.text(text)


def record_input(record: Record) -> None:
    """The input: chat turns as message bubbles, a plain prompt as one user bubble."""
    if record.system and not record.is_chat:
        with st.chat_message("system", avatar=_ROLE_AVATAR["system"]):
            st.text(record.system)
    if isinstance(record.input, str):
        with st.chat_message("user"):
            st.text(record.input)
        return
    for message in record.input:
        with st.chat_message(message.role, avatar=_ROLE_AVATAR.get(message.role)):
            if message.role == "tool":
                what = "tool call" if message.kind == "call" else "tool result"
                st.caption(md_escape(f"{what}: {message.name}" if message.name else what))
            st.text(message.content)


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
