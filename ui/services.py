"""What the pages share: signing in, the page guard, and cached reads.

Caching rules (docs/ui.md): ``st.cache_resource`` holds things that are expensive to build and
safe to share (none hold a person's credentials); ``st.cache_data`` holds pure computations keyed
by a *stamp* (record count, response counts, the analysis run's mtime and this session's write
counter), so a page that did not change reads nothing twice, and one that did recomputes once.
The store itself is never a cache key (arguments starting with ``_`` are not hashed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from pydantic import SecretStr

from curation.analysis.results import accepted_query, load_artifact, map_rows
from curation.errors import BackendError, NotFoundError, PairsmithError
from curation.files import ProjectPaths
from curation.model import Record
from curation.review.auth import Action, Session, is_loopback, sign_in
from curation.review.labels import UNREVIEWED, clusters_now, latest_labels
from curation.review.sessions import issue_token, session_from_token, token_id
from curation.store.base import RecordQuery, RecordStore
from ui import state
from ui.state import TOKEN_PARAM, Keys

# --- signing in and the page guard --------------------------------------------------------------


def open_session(
    project_dir: Path, user_name: str | None, api_key: str | None = None, password: str | None = None
) -> Session:
    """Sign one person in (curation.review.auth); the store opened for them lives in their session only.

    Local projects check the password; only a project without passwords, served on loopback, signs
    in by name alone. On an Argilla project ``api_key`` is the person's own key: the store is opened
    with it, and it is kept (as a ``SecretStr``) in this session's state and in the server's key
    registry under the session token's id (so a refresh keeps the session), never in the URL. Any
    error is re-raised with the key blanked out of its message, whatever library raised it. The
    signed session token goes into the URL (``?session=``).
    """
    key = (api_key or "").strip() or None
    try:
        session = sign_in(
            project_dir,
            user_name=(user_name or "").strip() or None,
            api_key=key,
            password=password or None,
            allow_passwordless=is_loopback(state.server_host()),
        )
    except PairsmithError as exc:
        if key and key in str(exc):
            raise type(exc)(scrub(str(exc), key)) from None
        raise
    except Exception as exc:  # an SDK or network error must not reach the page with the key in it
        raise BackendError(
            f"signing in to {project_dir} failed: {scrub(str(exc), key) or type(exc).__name__}"
        ) from None
    old = state.session()
    if old is not None:
        old.close()
    st.session_state[Keys.SESSION] = session
    if key and session.backend != "local":
        st.session_state[Keys.API_KEY] = SecretStr(key)
    else:
        st.session_state.pop(Keys.API_KEY, None)
    token = issue_token(project_dir, session.store, session.user.name)
    if key and session.backend != "local":
        _keys()[token_id(token)] = SecretStr(key)
    st.session_state[Keys.TOKEN] = token
    st.query_params[TOKEN_PARAM] = token
    st.session_state[Keys.JUST_SIGNED_IN] = True
    return session


@st.cache_resource
def _keys() -> dict[str, SecretStr]:
    """Argilla keys of signed-in people by session-token id, on this server only (never in a URL)."""
    return {}


def restore_session(project_dir: Path | None) -> Session | None:
    """The person's session again after a refresh or a deep link, from the signed token in the URL.

    Keeps the token in the URL on every run (navigation drops query parameters). A forged, expired
    or revoked token signs nobody in and leaves a message for the sign-in page.
    """
    current = state.session()
    token = st.query_params.get(TOKEN_PARAM)
    if current is not None:
        mine = st.session_state.get(Keys.TOKEN)
        if mine and token != mine:
            st.query_params[TOKEN_PARAM] = mine
        return current
    if not token or project_dir is None:
        return None
    key = _keys().get(token_id(token))
    try:
        session = session_from_token(project_dir, token, api_key=key.get_secret_value() if key else None)
    except PairsmithError as exc:
        del st.query_params[TOKEN_PARAM]
        state.flash("warning", str(exc))
        return None
    st.session_state[Keys.SESSION] = session
    st.session_state[Keys.TOKEN] = token
    if key is not None:
        st.session_state[Keys.API_KEY] = key
    return session


def scrub(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by asterisks."""
    return text.replace(secret, "**********") if secret else text


def sign_out() -> None:
    old = state.session()
    if old is not None:
        old.close()
    token = st.session_state.get(Keys.TOKEN)
    if token:
        _keys().pop(token_id(token), None)
    if TOKEN_PARAM in st.query_params:
        del st.query_params[TOKEN_PARAM]
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def require(action: Action) -> Session:
    """The signed-in session if it may ``action``; otherwise explain why and stop the page.

    Every page calls this first, so a page opened directly by URL is refused for a role that may
    not see it, even though navigation never lists it for that role.
    """
    session = state.session()
    if session is None:
        st.warning("Sign in first: choose who you are on the sign-in page.")
        st.page_link("app_pages/sign_in.py", label="Go to sign-in", icon=":material/login:")
        st.stop()
    assert session is not None
    if not session.can(action):
        st.error(
            f"{session.user.name} is an annotator: this page is for project owners. Ask an owner to do "
            "this, or to make you an owner."
        )
        st.stop()
    return session


def show_flash() -> None:
    """Show (once) the message a previous run left before it called st.rerun()."""
    message = state.pop_flash()
    if message:
        kind, text = message
        {"success": st.success, "warning": st.warning, "error": st.error}.get(kind, st.info)(text)


# --- the first run ------------------------------------------------------------------------------

STEP_PAGES = {
    "import": "app_pages/project_import.py",
    "analyse": "app_pages/project_import.py",
    "guidelines": "app_pages/guidelines.py",
    "review": "app_pages/review.py",
    "export": "app_pages/export_train.py",
}
"""The page where each setup step (curation.review.onboarding) is done."""


def setup_checklist(session: Session, *, here: str | None = None) -> None:
    """The way through a new project (import → analyse → guidelines → review → export), each step
    marked done or not, with a link to the page that does it (for the steps this person may do)."""
    from curation.review.onboarding import next_step, setup_steps

    steps = setup_steps(session.project_dir, session.store)
    owner = session.can(Action.import_data)
    upcoming = next_step(steps)
    done = sum(s.done for s in steps)
    # Once most of the way is done, the list folds away: it is a guide, not the page's content.
    box = (
        st.expander(f"Get started: {done} of {len(steps)} steps done", icon=":material/flag:")
        if done > len(steps) // 2
        else st.container(border=True, key="setup_checklist")
    )
    with box:
        if done <= len(steps) // 2:
            st.subheader("Get started", anchor=False)
        if not owner and upcoming is not None and upcoming.owners_only:
            st.info(
                "This project has no records to review yet. An owner imports and analyses them first; "
                "this page fills as soon as they have."
            )
        for n, step in enumerate(steps, start=1):
            mark = ":material/check_circle:" if step.done else ":material/radio_button_unchecked:"
            cols = st.columns([6, 1], vertical_alignment="center")
            cols[0].markdown(f"{mark} **{n}. {step.title}**: {step.how}")
            page = STEP_PAGES[step.id]
            if (owner or not step.owners_only) and page != here and step is upcoming:
                cols[1].page_link(page, label="Go", icon=":material/arrow_forward:")


# --- stamps: what cached reads are keyed by -----------------------------------------------------


@dataclass(frozen=True)
class Stamp:
    """Changes whenever the data a cached read depends on may have changed."""

    project: str
    records: int
    responses: tuple[int, int, int]
    analysis_mtime: float
    revision: int


def analysis_mtime(project_dir: Path) -> float:
    report = ProjectPaths(project_dir).analysis / "report.json"
    return report.stat().st_mtime if report.exists() else 0.0


def stamp(session: Session) -> Stamp:
    """A few count queries: cheap at any size, and enough to notice most changes."""
    counts = session.store.response_counts()
    return Stamp(
        project=str(session.project_dir.resolve()),
        records=session.store.count_records(),
        responses=(counts.submitted, counts.draft, counts.discarded),
        analysis_mtime=analysis_mtime(session.project_dir),
        revision=state.revision(),
    )


def analysis_method(project_dir: Path) -> str:
    """How the last analysis was made, in one line."""
    from curation.analysis.results import analysis_method as method_of
    from curation.analysis.results import describe_method

    return describe_method(method_of(project_dir))


def has_analysis(project_dir: Path) -> bool:
    return analysis_mtime(project_dir) > 0


def analysis_missing_message(project_dir: Path) -> str:
    return (
        f"Run analysis first: `pairsmith analyze {project_dir}` finds duplicates, clusters and quality "
        "flags; this page shows them once it has run."
    )


# --- cached reads -------------------------------------------------------------------------------


@st.cache_data(max_entries=8, show_spinner=False)
def artifact(project_dir: str, name: str, mtime: float) -> Any:
    """One JSON artifact of the last analysis, re-read only when the analysis ran again."""
    return load_artifact(project_dir, name)


@st.cache_data(max_entries=4, show_spinner="Loading the map…")
def map_points(_store: RecordStore, key: Stamp) -> list[dict[str, Any]]:
    """The map's rows (curation.analysis.results.map_rows), coloured by the latest label; once per stamp."""
    return map_rows(_store, latest_labels(_store), unlabelled=UNREVIEWED)


@st.cache_data(max_entries=4, show_spinner=False)
def clusters(_store: RecordStore, key: Stamp) -> dict[str, Any]:
    """The clusters with their label mix as review stands now (curation.review.labels.clusters_now)."""
    return clusters_now(key.project, _store)


@st.cache_data(max_entries=8, show_spinner="Measuring diversity…")
def diversity(
    _store: RecordStore,
    key: Stamp,
    which: str,
    cluster_names: dict[int, str],
    topics: dict[int, int] | None = None,
) -> dict[str, Any]:
    """Diversity figures of the whole set (``all``) or the records labelled good (``accepted``)."""
    from curation.analysis.diversity import subset_figures

    query = accepted_query() if which == "accepted" else None
    return subset_figures(_store, query, cluster_names, topic_of=topics)


@st.cache_data(max_entries=4, show_spinner="Working out the clean set…")
def clean_set_preview(_store: RecordStore, key: Stamp, export_config: str) -> dict[str, Any]:
    """What an export with ``export_config`` (ExportConfig as JSON) would contain now and whether it
    may start (training.preflight.export_preview), once per stamp and config."""
    from training.export_config import ExportConfig
    from training.preflight import export_preview

    return export_preview(_store, ExportConfig.model_validate_json(export_config))


@st.cache_data(max_entries=2, show_spinner=False)
def dry_run_csv(_store: RecordStore, key: Stamp, export_config: str) -> str:
    """Every record with whether it would be exported and why (training.clean_set.dry_run_csv)."""
    from training.clean_set import dry_run_csv as as_csv
    from training.clean_set import select_clean_set
    from training.export_config import ExportConfig

    return as_csv(select_clean_set(_store, ExportConfig.model_validate_json(export_config)))


@st.cache_data(max_entries=4, show_spinner=False)
def people_progress(_store: RecordStore, key: Stamp) -> list[dict[str, Any]]:
    """Each person's counts and assigned records done (curation.review.progress.people_progress)."""
    from curation.review.progress import people_progress as compute

    return [p.model_dump() for p in compute(_store)]


@st.cache_data(max_entries=4, show_spinner=False)
def unreviewed(_store: RecordStore, key: Stamp) -> int:
    from curation.review.progress import unreviewed_count

    return unreviewed_count(_store)


@st.cache_data(max_entries=4, show_spinner=False)
def bad_reasons(_store: RecordStore, key: Stamp) -> dict[str, int]:
    """How often each reason tag was given with a bad label (curation.review.reasons.reason_counts)."""
    from curation.review.reasons import reason_counts

    return reason_counts(_store.get_responses())


@st.cache_data(ttl=30, max_entries=16, show_spinner=False)
def golden_examples(_store: RecordStore, project: str, revision: int, count: int = 3) -> list[Record]:
    """A few golden examples for the review sidebar. Finding them scans every record (13 ms at 50k),
    so it is not done per click: at most every 30 s, or after this session changed something."""
    return _store.query_records(RecordQuery(golden=True, limit=count)).records


@st.cache_data(max_entries=4, show_spinner="Choosing the records…")
def selection_preview(_store: RecordStore, key: Stamp, export_json: str) -> dict[str, Any]:
    """What the export config's ``select`` would keep of the training split (training.export.explain_clean_set)."""
    from training.export import explain_clean_set
    from training.export_config import ExportConfig

    selection: dict[str, Any] = explain_clean_set(_store, ExportConfig.model_validate_json(export_json))[
        "selection"
    ]
    return selection


@st.cache_data(max_entries=8, show_spinner="Comparing the runs…")
def run_comparison(run_a: str, run_b: str, reports_mtime: tuple[float, float]) -> dict[str, Any]:
    """Two runs side by side (training.compare), recomputed when either report is rewritten."""
    from training.compare import compare_runs_detail

    return compare_runs_detail(run_a, run_b)


def report_mtime(run_dir: Path) -> float:
    report = run_dir / "eval" / "report.json"
    return report.stat().st_mtime if report.exists() else 0.0


@st.cache_data(ttl=5, max_entries=64, show_spinner=False)
def review_progress(_store: RecordStore, project: str, user: str, revision: int) -> dict[str, Any]:
    """The progress bars' counts, refreshed at most every 5 s unless this session wrote."""
    from curation.review.progress import review_progress as compute

    progress = compute(_store, user)
    return {**progress.model_dump(), "mine_done": progress.mine_done}


def cluster_names(project_dir: Path) -> dict[int, str]:
    """Cluster id → name from the last analysis; NotFoundError when analysis has not run."""
    listing = artifact(str(project_dir), "clusters", analysis_mtime(project_dir))
    return {int(c["id"]): str(c["name"]) for c in listing["clusters"]}


def page_of(items: Sequence[Any], page: int, size: int) -> Sequence[Any]:
    return items[page * size : (page + 1) * size]


def safe(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a library call; show a pairsmith error as a message instead of a traceback (None then)."""
    try:
        return call(*args, **kwargs)
    except NotFoundError as exc:
        st.info(str(exc))
    except PairsmithError as exc:
        st.error(str(exc))
    return None
