"""Users on Argilla: pairsmith owners are Argilla admins (or owners), annotators are annotators.

A project's users are the members of its Argilla workspace. Argilla users are server-wide, so
adding a user who exists elsewhere on the server adds them to the workspace (and sets the role).
These are the bodies of :class:`~curation.store.argilla.store.ArgillaStore`'s user methods, plus the
name ↔ id lookups the record and response code need (cached on the store).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from curation.errors import ConflictError, NotFoundError
from curation.model import Role, User, new_id

if TYPE_CHECKING:
    from curation.store.argilla.store import ArgillaStore

MANAGER_ROLES = ("owner", "admin")


def role_of(argilla_role: str) -> Role:
    """Argilla owners and admins are pairsmith owners; everyone else labels."""
    return Role.owner if argilla_role in MANAGER_ROLES else Role.annotator


def user_of(data: dict[str, Any]) -> User:
    return User(name=data["username"], role=role_of(data["role"]), id=str(data["id"]).replace("-", ""))


def all_users(store: ArgillaStore) -> list[dict[str, Any]]:
    """Every user on the server (owners and admins only); refreshes the store's id → name cache."""
    users: list[dict[str, Any]] = store.http.request("GET", "/api/v1/users", what="list users")["items"]
    store._users_by_id.update({str(u["id"]): u["username"] for u in users})
    return users


def workspace_users(store: ArgillaStore) -> list[dict[str, Any]]:
    path = f"/api/v1/workspaces/{store._workspace()}/users"
    return list(store.http.request("GET", path, what="list users")["items"])


def add_user(store: ArgillaStore, user: User) -> User:
    store.require_owner("add users")
    if any(u["username"] == user.name for u in workspace_users(store)):
        raise ConflictError(f"user '{user.name}' already exists in workspace '{store.workspace_name}'")
    existing = next((u for u in all_users(store) if u["username"] == user.name), None)
    role = "admin" if user.role == Role.owner else "annotator"
    if existing is None:
        existing = store.http.request(
            "POST",
            "/api/v1/users",
            what=f"create user '{user.name}'",
            json={"username": user.name, "first_name": user.name, "role": role, "password": new_id()},
        )
    elif existing["role"] != role and existing["role"] != "owner":
        existing = store.http.request(
            "PATCH", f"/api/v1/users/{existing['id']}", json={"role": role}, what="set role"
        )
    store.http.request(
        "POST",
        f"/api/v1/workspaces/{store._workspace()}/users",
        json={"user_id": str(existing["id"])},
        what=f"add '{user.name}' to workspace",
    )
    store._users_by_id[str(existing["id"])] = user.name
    return user_of(existing)


def get_user(store: ArgillaStore, name: str) -> User:
    for u in workspace_users(store):
        if u["username"] == name:
            return user_of(u)
    raise NotFoundError(f"no user '{name}' in workspace '{store.workspace_name}' on {store.http.api_url}")


def api_key_of(store: ArgillaStore, name: str) -> str:
    """A user's API key (owners only): how a team hands each person their sign-in key."""
    store.require_owner("read other users' API keys")
    user = next((u for u in all_users(store) if u["username"] == name), None)
    if user is None:
        raise NotFoundError(f"no Argilla user '{name}'")
    return str(store.http.request("GET", f"/api/v1/users/{user['id']}", what="read user")["api_key"])


def user_id(store: ArgillaStore, name: str) -> str:
    """The Argilla id of a user by name; unknown names become annotators (as the local store accepts any name)."""
    for uid, uname in store._users_by_id.items():
        if uname == name:
            return uid
    if name == store._me["username"]:
        return str(store._me["id"])
    for u in all_users(store):
        if u["username"] == name:
            return str(u["id"])
    try:
        created = add_user(store, User(name=name, role=Role.annotator))
    except ConflictError:
        return user_id(store, name)
    return next(uid for uid, uname in store._users_by_id.items() if uname == created.name)


def user_name(store: ArgillaStore, uid: str) -> str:
    """The name of an Argilla user id; annotators only ever see their own responses."""
    if uid not in store._users_by_id:
        if uid == str(store._me["id"]) or not store.is_manager:
            return str(store._me["username"])
        all_users(store)
    return store._users_by_id.get(uid, uid)
