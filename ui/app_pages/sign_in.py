"""Sign in: your name and password (local projects) or your Argilla API key (Argilla projects).

The project is the one the server was started for (`pairsmith ui DIR`); it cannot be changed here.
People, their roles and passwords are set up on the command line (`pairsmith users add`,
`pairsmith users passwd`): the first owner is created there, never from this page.
"""

from __future__ import annotations

import streamlit as st

from curation.errors import PairsmithError
from curation.project import default_backend, open_store, read_config
from ui import services, state

st.title("Sign in")
services.show_flash()

project_dir = state.project_dir()
if project_dir is None:
    st.error("This server was started without a project: run `pairsmith ui DIR` with a project directory.")
    st.stop()
assert project_dir is not None

session = state.session()
if session is not None:
    st.success(f"Signed in as {session.user.name} ({session.user.role}) to {project_dir}.")

try:
    backend = read_config(project_dir).get("backend") or default_backend()
except PairsmithError as exc:
    st.error(str(exc))
    st.stop()
st.caption(f"Project: {project_dir}")

if backend == "argilla":
    # Each person signs in with their own Argilla key (curation.review.auth.sign_in): the store is
    # opened with it, so the Argilla server enforces their role. The form forgets the typed key as
    # soon as it is submitted; the key is never shown again, nor logged, nor put in a message or URL.
    st.caption(
        "This project lives on an Argilla server. Sign in with your own API key "
        "(Argilla → My settings → API key); the server decides what your role lets you do."
    )
    with st.form("sign_in_argilla", clear_on_submit=True):
        name = st.text_input(
            "User name (optional)", key="sign_in_argilla_user", help="Checked against the key's user."
        )
        key = st.text_input("Your Argilla API key", type="password", key="sign_in_api_key")
        if st.form_submit_button("Sign in", type="primary", key="sign_in_submit"):
            try:
                services.open_session(project_dir, name, key)
            except PairsmithError as exc:
                st.error(str(exc))  # services.open_session blanks the key out of any message
            else:
                st.rerun()
    st.stop()

store = open_store(project_dir)
try:
    users = store.list_users()
finally:
    store.close()
if not users:
    st.info(
        "This project has no users yet. Create the owner on the command line: "
        f"`pairsmith users add {project_dir} NAME --role owner`, then "
        f"`pairsmith users passwd {project_dir} NAME`."
    )
    st.stop()
labels = {u.name: f"{u.name} ({u.role})" for u in users}
with st.form("sign_in_local", clear_on_submit=True):
    chosen = st.selectbox(
        "Who are you?", list(labels), format_func=labels.__getitem__, key="sign_in_user", index=None
    )
    password = st.text_input("Password", type="password", key="sign_in_password")
    if st.form_submit_button("Sign in", type="primary", key="sign_in_submit"):
        try:
            services.open_session(project_dir, chosen, password=password)
        except PairsmithError as exc:
            st.error(str(exc))
        else:
            st.rerun()
st.caption(
    "An owner adds people with `pairsmith users add DIR NAME --role annotator` and sets passwords with "
    "`pairsmith users passwd DIR NAME`."
)
