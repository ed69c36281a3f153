"""Signed, expiring session tokens: a browser refresh keeps a person signed in.

A token names the user and when it expires, signed with HMAC-SHA256 under a secret kept in the
project (``DIR/.session-secret``, created on first use, readable by its owner only). It also holds a
fingerprint of the user's password hash, so changing a password signs every old session out. The
token holds no password and no API key: for an Argilla project the app keeps the key on the server,
under the token's ``sid``, and a server restart asks for it again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from typing import cast

from pydantic import BaseModel

from curation.errors import PermissionDeniedError
from curation.project import default_backend, open_store, read_config
from curation.review.auth import KeyedStore, Session
from curation.store.base import PasswordStore, RecordStore

SECRET_FILE = ".session-secret"
DEFAULT_TTL_S = 12 * 3600
"""A session lasts 12 hours, then the person signs in again."""


class TokenClaims(BaseModel):
    user: str
    expires: float
    sid: str
    fingerprint: str


def _secret(project_dir: Path | str) -> bytes:
    path = Path(project_dir) / SECRET_FILE
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode()


def _fingerprint(store: RecordStore, user: str) -> str:
    stored = store.password_hash(user) if isinstance(store, PasswordStore) else None
    return hashlib.sha256((stored or "").encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(
    project_dir: Path | str, store: RecordStore, user: str, *, ttl_s: float = DEFAULT_TTL_S
) -> str:
    """A token for ``user`` valid ``ttl_s`` seconds: ``<claims>.<signature>``, URL-safe."""
    claims = TokenClaims(
        user=user,
        expires=time.time() + ttl_s,
        sid=secrets.token_urlsafe(12),
        fingerprint=_fingerprint(store, user),
    )
    body = _b64(claims.model_dump_json().encode())
    signature = hmac.new(_secret(project_dir), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{signature}"


def read_token(project_dir: Path | str, store: RecordStore, token: str) -> TokenClaims:
    """The claims of a valid token; PermissionDeniedError when it is forged, expired or revoked."""
    body, _, signature = token.partition(".")
    expected = hmac.new(_secret(project_dir), body.encode(), hashlib.sha256).hexdigest()
    if not signature or not hmac.compare_digest(signature, expected):
        raise PermissionDeniedError("this sign-in link is not valid; sign in again")
    try:
        claims = TokenClaims.model_validate_json(_unb64(body))
    except ValueError:
        raise PermissionDeniedError("this sign-in link is not valid; sign in again") from None
    if claims.expires < time.time():
        raise PermissionDeniedError("your session has expired; sign in again")
    store.get_user(claims.user)  # NotFoundError for a user removed since
    if not hmac.compare_digest(claims.fingerprint, _fingerprint(store, claims.user)):
        raise PermissionDeniedError("your password changed since you signed in; sign in again")
    return claims


def session_from_token(project_dir: Path | str, token: str, *, api_key: str | None = None) -> Session:
    """Reopen a signed-in person's session from their token (after a refresh or a deep link).

    Local projects need only the token. Argilla projects need the person's key too (the app keeps it
    on the server under the token's ``sid``); without it, PermissionDeniedError asks to sign in again.
    """
    root = Path(project_dir)
    backend = read_config(root).get("backend") or default_backend()
    if backend == "argilla" and not api_key:
        raise PermissionDeniedError("sign in again with your Argilla API key")
    store = open_store(root, api_key=api_key) if backend == "argilla" else open_store(root)
    try:
        claims = read_token(root, store, token)
        if backend == "argilla":
            user = cast(KeyedStore, store).current_user()
            if user.name != claims.user:
                raise PermissionDeniedError("this sign-in link belongs to someone else; sign in again")
        else:
            user = store.get_user(claims.user)
        return Session(store=store, user=user, project_dir=root)
    except BaseException:
        store.close()
        raise


def token_id(token: str) -> str:
    """The ``sid`` of a token without checking it (a key for server-side state; check the token first)."""
    try:
        return TokenClaims.model_validate_json(_unb64(token.partition(".")[0])).sid
    except ValueError:
        return ""
