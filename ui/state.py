"""Every session-state key the app uses, in one place, and typed accessors for the common ones.

Defaults are computed per session when first read (never at import), so two browser sessions
never share a mutable default. The project directory is fixed when the server starts: it comes from
``PAIRSMITH_PROJECT`` (set by `pairsmith ui DIR`) or the script's argument, never from a session.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import streamlit as st
from pydantic import SecretStr

from curation.review.auth import Session

PROJECT_ENV = "PAIRSMITH_PROJECT"
HOST_ENV = "PAIRSMITH_HOST"  # the address `pairsmith ui` serves on (loopback when unset)
IMPORT_ROOTS_ENV = "PAIRSMITH_IMPORT_ROOTS"  # folders owners may import from on a non-loopback server
TOKEN_PARAM = "session"  # the URL query parameter holding the signed session token


class Keys:
    """Session-state keys. Widget keys (stable, for tests and the browser test) are listed too."""

    SESSION = "auth_session"  # curation.review.auth.Session of the signed-in person
    TOKEN = "auth_token"  # the signed session token (curation.review.sessions), also in the URL
    NEXT_PAGE = "next_page"  # the page a deep link asked for, opened once the person signs in
    API_KEY = "auth_api_key"  # pydantic.SecretStr: the Argilla key the person signed in with
    REVISION = "revision"  # bumped after every write this session makes (cache keys)
    JUST_SIGNED_IN = "just_signed_in"  # go to the review page on the next run
    FLASH = "flash"  # a message to show once after a rerun: (kind, text)

    # review
    QUEUE = "review_queue"  # curation.review.queue.ReviewQueue
    QUEUE_INDEX = "review_index"
    QUEUE_ORDER = "review_order"
    QUEUE_FILTERS = "review_filters"  # curation.review.queue.QueueFilters
    OPENED_VERSION = "review_opened_version"  # record id -> response version the reviewer opened
    CONFLICT = "review_conflict"  # id of the record whose last save hit a ConflictError
    FILTERS_OPEN = "queue_filters_open"  # the filter expander's state: closed again after Apply
    QUEUE_LIST_PAGE = "review_list_page"  # the page of the queue list shown in the sidebar
    # review widgets (keys hold the record id suffix where they belong to one record)
    W_LABEL = "review_label"
    W_RATING = "review_rating"
    W_CORRECTION = "review_correction"
    W_COMMENT = "review_comment"  # the comment's own text (reason tags are kept apart)
    W_REASONS = "review_reasons"  # reason tags for a bad label (curation.review.reasons)
    W_GOLDEN = "review_golden"  # owners: the record's golden toggle

    # duplicates
    PENDING_DROP = "dup_pending_drop"  # a decision that drops > 10 records, waiting for confirmation
    LAST_DECISION = "dup_last_decision"  # {"decision" or "batch", "what"}: what the Undo button undoes
    BULK_SKIPPED = "dup_bulk_skipped"  # groups the last bulk resolve skipped, with reasons

    # runs
    W_COMPARE_A = "runs_compare_a"  # select boxes: the two runs compared side by side
    W_COMPARE_B = "runs_compare_b"

    # clusters
    MAP_SELECTION = "clusters_selection"  # record ids chosen on the map
    PENDING_BULK = "clusters_pending_bulk"  # a bulk label of > 10 records as bad, waiting for confirmation
    LAST_BULK = "clusters_last_bulk"  # {"batch", "what"}: the bulk label the Undo button undoes

    # export & train
    JOB_ID = "train_job_id"
    CONFIRM_TRAIN = "train_confirm_open"  # the confirm dialog before a run starts is open
    W_SELECT = "train_select"  # number input: train on only the best N records (0: all)
    ANALYSIS_JOB_ID = "analysis_job_id"
    W_ANALYSIS_INT8 = "analysis_int8"  # checkbox: approximate int8 embeddings for the next analysis
    W_ANALYSIS_QUALITY = "analysis_quality"  # radio: full (default) or fast analysis


def get(key: str, default: Any = None) -> Any:
    return st.session_state.get(key, default)


def put(key: str, value: Any) -> None:
    st.session_state[key] = value


def project_dir() -> Path | None:
    """The project this server serves: ``$PAIRSMITH_PROJECT``, else the script's argument."""
    env = os.environ.get(PROJECT_ENV)
    if env:
        return Path(env)
    # `streamlit run ui/app.py -- DIR` passes the directory as the script's only argument.
    if len(sys.argv) == 2 and sys.argv[0].endswith("app.py"):
        return Path(sys.argv[1])
    return None


def server_host() -> str:
    """The address this server listens on (``pairsmith ui --host``); loopback when not told."""
    return os.environ.get(HOST_ENV) or "127.0.0.1"


def import_roots() -> list[Path]:
    """Folders owners may preview and import from on a server reachable from other machines."""
    return [Path(p) for p in os.environ.get(IMPORT_ROOTS_ENV, "").split(os.pathsep) if p.strip()]


def session() -> Session | None:
    """The signed-in person's session, or None."""
    value = st.session_state.get(Keys.SESSION)
    return value if isinstance(value, Session) else None


def api_key() -> str | None:
    """The signed-in person's Argilla API key (None on local projects), for the jobs they start.

    Kept only in this session's state, wrapped in a ``SecretStr`` so that printing the session
    state shows ``**********``; never rendered, logged or put in a message.
    """
    value = st.session_state.get(Keys.API_KEY)
    return value.get_secret_value() if isinstance(value, SecretStr) else None


def revision() -> int:
    """A counter this session bumps after each write, so cached reads see its own changes."""
    return int(st.session_state.get(Keys.REVISION, 0))


def bump_revision() -> None:
    st.session_state[Keys.REVISION] = revision() + 1


def flash(kind: str, text: str) -> None:
    """Keep a message to show at the top of the next run (after st.rerun)."""
    st.session_state[Keys.FLASH] = (kind, text)


def pop_flash() -> tuple[str, str] | None:
    value = st.session_state.pop(Keys.FLASH, None)
    return value if isinstance(value, tuple) else None
