"""Users on Argilla: pairsmith owners are Argilla owners or admins, annotators are annotators.

A project's users are the members of its Argilla workspace. Argilla users are server-wide, so
adding a user who exists elsewhere on the server adds them to the workspace (and sets the role).
Accounts are created only by :meth:`Users.add` (``pairsmith users add``, and ``push`` for the
project's users): a response or a lookup for a name that is not a member raises NotFoundError.
"""

from __future__ import annotations

from typing import Any

from curation.errors import ConflictError, NotFoundError, PermissionDeniedError
from curation.model import Role, User, new_id
from curation.store.argilla.http import ArgillaHTTP

MANAGER_ROLES = ("owner", "admin")


def role_of(argilla_role: str) -> Role:
    """Argilla owners and admins are pairsmith owners; everyone else labels."""
    return Role.owner if argilla_role in MANAGER_ROLES else Role.annotator


def user_of(data: dict[str, Any]) -> User:
    return User(name=data["username"], role=role_of(data["role"]), id=str(data["id"]).replace("-", ""))


def require_manager(me: dict[str, Any], api_url: str, action: str) -> None:
    """PermissionDeniedError unless ``me`` (``/api/v1/me``) is an Argilla owner or admin."""
    if me["role"] not in MANAGER_ROLES:
        raise PermissionDeniedError(
            f"{me['username']} is an annotator on {api_url} and cannot {action}; ask an owner or admin"
        )


class Users:
    """The members of one workspace, seen by the signed-in user (``me``, from ``/api/v1/me``)."""

    def __init__(self, http: ArgillaHTTP, me: dict[str, Any], workspace_id: str, workspace_name: str) -> None:
        self.http = http
        self.me = me
        self.workspace_id = workspace_id
        self.workspace_name = workspace_name
        self._names: dict[str, str] = {str(me["id"]): str(me["username"])}

    @property
    def manager(self) -> bool:
        return self.me["role"] in MANAGER_ROLES

    def require_manager(self, action: str) -> None:
        require_manager(self.me, self.http.api_url, action)

    def _member_rows(self) -> list[dict[str, Any]]:
        path = f"/api/v1/workspaces/{self.workspace_id}/users"
        members: list[dict[str, Any]] = self.http.request("GET", path, what="list users")["items"]
        self._names.update((str(u["id"]), u["username"]) for u in members)
        return members

    def _everyone(self) -> list[dict[str, Any]]:
        """Every account on the server (owners and admins only)."""
        users: list[dict[str, Any]] = self.http.request("GET", "/api/v1/users", what="list users")["items"]
        return users

    def members(self) -> list[User]:
        return [user_of(u) for u in self._member_rows()]

    def get(self, name: str) -> User:
        for u in self._member_rows():
            if u["username"] == name:
                return user_of(u)
        raise NotFoundError(f"no user '{name}' in workspace '{self.workspace_name}' on {self.http.api_url}")

    def add(self, user: User) -> User:
        """Add a user to the workspace, creating the account when the server has none (owners only)."""
        self.require_manager("add users")
        if any(u["username"] == user.name for u in self._member_rows()):
            raise ConflictError(f"user '{user.name}' already exists in workspace '{self.workspace_name}'")
        existing = next((u for u in self._everyone() if u["username"] == user.name), None)
        role = "admin" if user.role == Role.owner else "annotator"
        if existing is None:
            existing = self.http.request(
                "POST",
                "/api/v1/users",
                what=f"create user '{user.name}'",
                json={"username": user.name, "first_name": user.name, "role": role, "password": new_id()},
            )
        elif existing["role"] != role and existing["role"] != "owner":
            existing = self.http.request(
                "PATCH", f"/api/v1/users/{existing['id']}", json={"role": role}, what="set role"
            )
        self.http.request(
            "POST",
            f"/api/v1/workspaces/{self.workspace_id}/users",
            json={"user_id": str(existing["id"])},
            what=f"add '{user.name}' to workspace",
        )
        self._names[str(existing["id"])] = user.name
        return user_of(existing)

    def api_key_of(self, name: str) -> str:
        """A user's API key (owners only): how a team hands each person their sign-in key."""
        self.require_manager("read other users' API keys")
        user = next((u for u in self._everyone() if u["username"] == name), None)
        if user is None:
            raise NotFoundError(f"no Argilla user '{name}'")
        return str(self.http.request("GET", f"/api/v1/users/{user['id']}", what="read user")["api_key"])

    def id_of(self, name: str) -> str:
        """The Argilla id of a member by name; NotFoundError for anyone else (no account is made up)."""
        if name == self.me["username"]:
            return str(self.me["id"])
        for uid, known in self._names.items():
            if known == name:
                return uid
        if self.manager:
            for u in self._member_rows():
                if u["username"] == name:
                    return str(u["id"])
        raise NotFoundError(
            f"no user '{name}' in workspace '{self.workspace_name}' on {self.http.api_url}; add them first "
            f"(`pairsmith users add DIR {name}`)"
        )

    def name_of(self, user_id: str) -> str:
        """The name of an Argilla user id (annotators only ever see their own responses)."""
        user_id = str(user_id)
        if user_id not in self._names and self.manager:
            self._member_rows()
            if user_id not in self._names:
                self._names.update((str(u["id"]), u["username"]) for u in self._everyone())
        return self._names.get(user_id, user_id)
