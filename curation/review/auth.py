"""Who is working: sign-in for the UI, passwords, and what each role may do.

A local project signs in with a user name and that user's password (set with `pairsmith users
passwd`, stored as an argon2 hash). Only a project where nobody has a password yet may be opened by
name alone, and only by a server on this machine (loopback): as soon as one person has a password,
everyone needs one, so nobody can pick an owner's name from the list. An Argilla project signs in
with the person's own Argilla API key; the store is opened with that key, so the server enforces the
same roles. The key is held only by the store's HTTP client: it is never put in a message, a log
line, a repr or the session (issue 6 §3).

Roles: owners (Argilla owners and admins) may do everything; annotators label and look at
clusters and runs. :func:`can` answers that for the UI's pages; the library functions behind every
action check it again (``store.require_owner``), so hiding a page is never the only guard.
Previewing files on the server's disk is for owners on a loopback server, or under roots the
server allows (:func:`check_server_path`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol, cast

from curation.errors import BadInputError, NotFoundError, PermissionDeniedError
from curation.model import Role, User
from curation.project import default_backend, open_store, read_config
from curation.store.base import PasswordStore, RecordStore


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


class KeyedStore(Protocol):
    """A store opened with credentials knows whose they are (ArgillaStore)."""

    def current_user(self) -> User: ...


def sign_in(
    project_dir: Path | str,
    *,
    user_name: str | None = None,
    api_key: str | None = None,
    password: str | None = None,
    allow_passwordless: bool = True,
) -> Session:
    """Open the project for one person.

    Local projects: ``user_name`` must be a user of the project (NotFoundError lists the valid
    names) and ``password`` their password. Without any password set in the project, a name alone
    signs in when ``allow_passwordless`` (a server on loopback; PermissionDeniedError otherwise).
    A wrong password gives PermissionDeniedError that does not say which part was wrong.
    Argilla projects: ``api_key`` is the person's own key; a key the server rejects gives
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
        _check_password(store, root, user_name, password, allow_passwordless)
        return Session(store=store, user=store.get_user(user_name), project_dir=root)
    except BaseException:
        store.close()
        raise


# --- passwords (local projects) -------------------------------------------------------------------

MIN_PASSWORD = 8


def _accounts(store: RecordStore) -> PasswordStore:
    if not isinstance(store, PasswordStore):
        raise BadInputError(
            "passwords are for local projects; on Argilla each person signs in with their own API key"
        )
    return store


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (argon2-cffi's defaults); BadInputError when it is too short."""
    from argon2 import PasswordHasher

    if len(password) < MIN_PASSWORD:
        raise BadInputError(f"a password needs at least {MIN_PASSWORD} characters")
    return PasswordHasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return bool(PasswordHasher().verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_password(store: RecordStore, name: str, password: str | None, *, by: str | None = None) -> None:
    """Set (None: remove) a local user's password. ``by`` None is the command line (trusted); a
    signed-in person may change their own password, an owner anyone's."""
    if by is not None and by != name:
        store.require_owner("set other people's passwords", by)
    accounts = _accounts(store)
    store.get_user(name)
    accounts.set_password_hash(name, hash_password(password) if password is not None else None)


def users_without_password(store: RecordStore) -> list[str]:
    """Names of local users with no password (empty on Argilla, where keys sign people in)."""
    if not isinstance(store, PasswordStore):
        return []
    return [u.name for u in store.list_users() if not store.password_hash(u.name)]


def passwords_in_use(store: RecordStore) -> bool:
    """Whether anyone in the project has a password (then everyone needs one to sign in)."""
    if not isinstance(store, PasswordStore):
        return True
    return any(store.password_hash(u.name) for u in store.list_users())


def add_person(
    store: RecordStore, name: str, role: Role, *, password: str | None = None, by: str | None = None
) -> User:
    """Add a user (owners only when ``by`` is a signed-in person), with a password on a local project."""
    store.require_owner("add people to the project", by)
    if password is not None:
        hash_password(password)  # refuse a short password before the user exists
    user = store.add_user(User(name=name.strip(), role=role))
    if password is not None:
        set_password(store, user.name, password)
    return user


def _check_password(
    store: RecordStore, root: Path, name: str, password: str | None, allow_passwordless: bool
) -> None:
    accounts = _accounts(store)
    stored = accounts.password_hash(name)
    if stored:
        if not password or not verify_password(stored, password):
            raise PermissionDeniedError(f"wrong user name or password for {root}; try again")
        return
    if passwords_in_use(store):
        raise PermissionDeniedError(
            f"{name} has no password yet and this project uses passwords; ask an owner to run "
            f"`pairsmith users passwd {root} {name}`"
        )
    if not allow_passwordless:
        raise PermissionDeniedError(
            f"nobody in {root} has a password, so this server may not sign anyone in; set passwords with "
            f"`pairsmith users passwd {root} NAME`"
        )


# --- files on the server's disk -------------------------------------------------------------------

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(host: str) -> bool:
    """Whether a server bound to ``host`` is reachable from this machine only."""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def check_servable(project_dir: Path | str, host: str) -> None:
    """Refuse (PermissionDeniedError) to serve a local project beyond this machine while anyone in it
    has no password: on a network, a name alone must never sign anyone in. NotFoundError for a
    directory that is not a project."""
    read_config(project_dir)
    if is_loopback(host):
        return
    store = open_store(project_dir)
    try:
        users = store.list_users()
        missing = users_without_password(store)
    finally:
        store.close()
    if not users:
        raise PermissionDeniedError(
            f"refusing to serve {project_dir} on {host}: it has no users; add an owner with a password "
            f"(`pairsmith users add {project_dir} NAME --role owner`, then `pairsmith users passwd`)"
        )
    if missing:
        raise PermissionDeniedError(
            f"refusing to serve {project_dir} on {host}: {', '.join(missing)} "
            f"{'has' if len(missing) == 1 else 'have'} no password, so anyone on the network could sign "
            f"in as them; set one with `pairsmith users passwd {project_dir} NAME`, or serve on 127.0.0.1"
        )


def check_server_path(
    path: Path | str, user: User, *, loopback: bool, allowed_roots: list[Path] | None = None
) -> Path:
    """The resolved ``path`` if ``user`` may read it through the app, else PermissionDeniedError.

    Allowed: an owner on a server bound to this machine (loopback), or anyone who may import under
    one of ``allowed_roots`` (``pairsmith ui --import-root DIR``). Symlinks and ``..`` are resolved
    first, so a path cannot step out of a root.
    """
    resolved = Path(path).expanduser().resolve()
    if user.role != Role.owner:
        raise PermissionDeniedError(f"{user.name} is an annotator and cannot read files on the server")
    if loopback:
        return resolved
    for root in allowed_roots or []:
        if resolved.is_relative_to(Path(root).expanduser().resolve()):
            return resolved
    roots = ", ".join(str(r) for r in allowed_roots or []) or "none"
    raise PermissionDeniedError(
        f"this server is reachable from other machines, so only files under the allowed roots can be "
        f"previewed (allowed: {roots}); upload the file instead, or start the server with "
        "`pairsmith ui DIR --import-root FOLDER`"
    )


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
        user = cast(KeyedStore, store).current_user()
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
