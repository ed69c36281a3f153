"""The pairsmith Streamlit app: `pairsmith ui DIR` runs `streamlit run ui/app.py`.

``st.navigation`` over thin page modules in ``ui/app_pages/`` (not ``pages/``: Streamlit treats a
``pages/`` folder beside the entrypoint as its older multipage mode, which AppTest then runs
instead). The signed-in person's role decides which pages exist for them: owners see every page; annotators see review, clusters (read-only)
and runs (read-only). Pages an annotator may not use are not registered for them, and each such
page refuses them again if it is run anyway (``ui.services.require``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# `streamlit run ui/app.py` puts ui/ first on sys.path; the packages live one level up.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import streamlit as st  # noqa: E402

from curation.review.auth import Action  # noqa: E402
from ui import render, services, state  # noqa: E402

# (file, title, icon, the action that must be allowed)
PAGES: list[tuple[str, str, str, Action | None]] = [
    ("app_pages/project_import.py", "Project & import", ":material/upload_file:", Action.import_data),
    ("app_pages/guidelines.py", "Guidelines", ":material/menu_book:", Action.edit_guidelines),
    ("app_pages/review.py", "Review", ":material/rate_review:", Action.review),
    ("app_pages/duplicates.py", "Duplicates", ":material/content_copy:", Action.analyze),
    ("app_pages/clusters.py", "Clusters & diversity", ":material/scatter_plot:", Action.view_clusters),
    ("app_pages/agreement.py", "Agreement", ":material/groups:", Action.edit_guidelines),
    ("app_pages/export_train.py", "Export & train", ":material/model_training:", Action.train),
    ("app_pages/runs.py", "Runs & evaluation", ":material/monitoring:", Action.view_runs),
    ("app_pages/decisions.py", "Decision log", ":material/history:", Action.review),
]


SIGN_IN = "app_pages/sign_in.py"
DEFAULT = "app_pages/review.py"


def allowed_pages() -> dict[str, st.Page]:
    """Page path → page: what the signed-in person may open; every page before anyone signs in (so a
    deep link resolves and can be opened after sign-in; each page refuses without a session)."""
    session = state.session()
    sign_in = st.Page(SIGN_IN, title="Sign in", icon=":material/login:", default=session is None)
    pages = {
        path: st.Page(path, title=title, icon=icon, default=session is not None and path == DEFAULT)
        for path, title, icon, action in PAGES
        if session is None or action is None or session.can(action)
    }
    return {**pages, SIGN_IN: sign_in}


def sidebar() -> None:
    session = state.session()
    with st.sidebar:
        if session is None:
            st.caption("Not signed in")
            return
        st.caption(f"Project: {session.project_dir.name} ({session.backend})")
        st.caption(f"Signed in as {session.user.name} ({session.user.role})")
        if st.button("Sign out", key="sign_out"):
            services.sign_out()
            st.switch_page(SIGN_IN)  # the next person starts on the sign-in page, not on this one


st.set_page_config(page_title="pairsmith", page_icon=":material/handyman:", layout="wide")
# No Deploy button or developer menu, also under `streamlit run ui/app.py` (`pairsmith ui` passes the flag).
st.set_option("client.toolbarMode", "minimal")
render.page_style()
services.restore_session(state.project_dir())
pages = allowed_pages()
signed_in = state.session() is not None
navigation = st.navigation(list(pages.values()), position="sidebar" if signed_in else "hidden")
sidebar()
if not signed_in and navigation.url_path != pages[SIGN_IN].url_path:
    wanted = next(path for path, page in pages.items() if page.url_path == navigation.url_path)
    state.put(state.Keys.NEXT_PAGE, wanted)  # a deep link: open it once the person has signed in
    st.switch_page(pages[SIGN_IN])
if st.session_state.pop(state.Keys.JUST_SIGNED_IN, False):
    wanted = st.session_state.pop(state.Keys.NEXT_PAGE, None)
    st.switch_page(pages.get(wanted or DEFAULT) or pages[DEFAULT])
navigation.run()
