"""Sign in: choose who you are (local projects) or give your Argilla API key (Argilla projects)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from curation.errors import PairsmithError
from curation.model import Role, User
from curation.project import default_backend, open_store, read_config
from ui import services, state

st.title("Sign in")
services.show_flash()

session = state.session()
if session is not None:
    st.success(f"Signed in as {session.user.name} ({session.user.role}) to {session.project_dir}.")

current = state.project_dir()
typed = st.text_input(
    "Project directory",
    value=str(current) if current else "",
    key="sign_in_project",
    help="Set by `pairsmith ui DIR`; change it to open another project.",
)
project_dir = Path(typed) if typed else None
if project_dir is None:
    st.info("Enter the directory of a pairsmith project (created with `pairsmith init DIR`).")
    st.stop()
assert project_dir is not None

try:
    backend = read_config(project_dir).get("backend") or default_backend()
except PairsmithError as exc:
    st.error(str(exc))
    st.stop()

if backend == "argilla":
    # Each person signs in with their own Argilla key (curation.auth.sign_in): the store is opened
    # with it, so the Argilla server enforces their role. The form forgets the typed key as soon
    # as it is submitted; the key is never shown again, nor logged, nor put in a message.
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

# A local project trusts its machine: people pick their name. The first person creates the owner.
store = open_store(project_dir)
try:
    users = store.list_users()
    if not users:
        st.info("This project has no users yet. Create the first one: the project owner.")
        with st.form("first_owner"):
            owner_name = st.text_input("Your user name", key="first_owner_name")
            if st.form_submit_button("Create owner and sign in", type="primary", key="first_owner_submit"):
                try:
                    store.add_user(User(name=owner_name.strip(), role=Role.owner))
                    services.open_session(project_dir, owner_name.strip())
                except (PairsmithError, ValueError) as exc:
                    st.error(str(exc))
                else:
                    st.rerun()
        st.stop()
    labels = {u.name: f"{u.name} ({u.role})" for u in users}
    with st.form("sign_in_local"):
        chosen = st.selectbox(
            "Who are you?", list(labels), format_func=labels.__getitem__, key="sign_in_user", index=None
        )
        if st.form_submit_button("Sign in", type="primary", key="sign_in_submit"):
            try:
                services.open_session(project_dir, chosen)
            except PairsmithError as exc:
                st.error(str(exc))
            else:
                st.rerun()
    st.caption(
        "Owners add people on the Project page or with `pairsmith users add DIR NAME --role annotator`."
    )
finally:
    store.close()
