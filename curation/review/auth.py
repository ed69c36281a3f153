"""Who is working: sign-in for the UI, and what each role may do.

A local project signs in by user name (a user added with `pairsmith users add`): there is no
password, the local store trusts its machine. An Argilla project signs in with the person's own
Argilla API key; the store is opened with that key, so the server enforces the same roles. The key
is held only by the store's HTTP client: it is never put in a message, a log line, a repr or the
session (issue 6 §3).

Roles: owners (Argilla owners and admins) may do everything; annotators label and look at
clusters and runs. :func:`can` answers that for the UI's pages; :func:`require_owner_for` is the
guard that export, training and shipping call before they start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol, cast

from curation.errors import BadInputError, NotFoundError, PermissionDeniedError
from curation.model import Role, User
from curation.project import default_backend, open_store, read_config
from curation.store.base import RecordStore


class Action(StrEnum):
    """What a person can do in pairsmith; the UI shows a page only when :func:`can` allows it."""

    review = "review"
    view_clusters = "view_clusters"
    view_runs = "view_runs"
    edit_guidelines = "edit_guidelines"
    import_data = "import_data"
    analyze = "analyze"
    manage_users = "manage_users"
    create_version = "create_version"
    export = "export"
    train = "train"
    ship = "ship"


ANNOTATOR_ACTIONS = frozenset({Action.review, Action.view_clusters, Action.view_runs})
"""Annotators label records and may look at clusters and runs (read-only); owners may do everything."""


@dataclass
class Session:
    """A signed-in person: the store opened for them (for Argilla, with their key) and who they are."""

    store: RecordStore = field(repr=False)
    user: User
    project_dir: Path

    @property
    def backend(self) -> str:
        return self.store.backend

    def can(self, action: Action | str) -> bool:
        return can(self.user, action)

    def require_owner(self, action: str) -> None:
        """PermissionDeniedError unless this person may ``action`` (see :func:`require_owner_for`)."""
        require_owner_for(self.store, action, self.user)

    def close(self) -> None:
        self.store.close()


class _KeyedStore(Protocol):
    """A store opened with credentials knows whose they are (ArgillaStore)."""

    def current_user(self) -> User: ...


def sign_in(project_dir: Path | str, *, user_name: str | None = None, api_key: str | None = None) -> Session:
    """Open the project for one person.

    Local projects: ``user_name`` must be a user of the project (NotFoundError lists the valid
    names). Argilla projects: ``api_key`` is the person's own key; a key the server rejects gives
    PermissionDeniedError, an unreachable server BackendError, and neither message contains the
    key. ``user_name`` is optional there and, when given, must match the key's user.
    """
    root = Path(project_dir)
    backend = read_config(root).get("backend") or default_backend()
    if backend == "argilla":
        return _sign_in_argilla(root, user_name, api_key)
    if api_key:
        raise BadInputError(
            f"{root} is a local project: sign in with your user name; API keys are for Argilla projects"
        )
    store = open_store(root)
    try:
        names = [u.name for u in store.list_users()]
        if not user_name:
            raise BadInputError(f"choose who you are to sign in to {root}: one of {_listing(names)}")
        if user_name not in names:
            raise NotFoundError(
                f"no user named '{user_name}' in {root}; valid names: {_listing(names)} "
                f"(an owner adds people with `pairsmith users add {root} NAME --role annotator`)"
            )
        return Session(store=store, user=store.get_user(user_name), project_dir=root)
    except BaseException:
        store.close()
        raise


def _sign_in_argilla(root: Path, user_name: str | None, api_key: str | None) -> Session:
    if not api_key:
        raise BadInputError(
            f"{root} lives on an Argilla server: sign in with your own Argilla API key "
            "(Argilla → My settings → API key)"
        )
    try:
        store = open_store(root, api_key=api_key)
    except PermissionDeniedError:
        raise PermissionDeniedError(
            "the Argilla server did not accept this API key; copy your key again from Argilla "
            "(My settings → API key) and sign in again"
        ) from None
    try:
        user = cast(_KeyedStore, store).current_user()
        if user_name and user_name != user.name:
            raise PermissionDeniedError(
                f"this API key belongs to {user.name}, not {user_name}; sign in with your own key"
            )
        try:
            store.get_project()  # the dataset is visible only to members of its workspace
        except NotFoundError:
            raise PermissionDeniedError(
                f"{user.name} cannot see the project of {root} on the Argilla server; ask an owner to add "
                f"you (`pairsmith users add {root} {user.name}`)"
            ) from None
        return Session(store=store, user=user, project_dir=root)
    except BaseException:
        store.close()
        raise


def can(session_user: User | None, action: Action | str) -> bool:
    """Whether this person may ``action``: owners everything, annotators review and read-only views.

    An unknown action raises BadInputError (a typo in a page must not silently hide or show it);
    nobody signed in (None) may do nothing.
    """
    try:
        wanted = Action(action)
    except ValueError:
        raise BadInputError(
            f"unknown action '{action}'; choose one of: {', '.join(a.value for a in Action)}"
        ) from None
    if session_user is None:
        return False
    return session_user.role == Role.owner or wanted in ANNOTATOR_ACTIONS


def require_owner_for(store: RecordStore, action: str, user: User | str | None = None) -> None:
    """The guard owner-only work calls first: PermissionDeniedError unless ``user`` may ``action``.

    ``user`` is the signed-in person (a User or a name); None means nobody signed in, as when the
    CLI works on a local project, which is allowed. On Argilla the store's API key decides.
    ``action`` completes the message "<user> ... cannot <action>", e.g. "export the dataset".
    """
    name = user.name if isinstance(user, User) else user
    store.require_owner(action, name)


def _listing(names: list[str]) -> str:
    return ", ".join(names) if names else "(none yet)"
