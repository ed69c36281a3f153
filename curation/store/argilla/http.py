"""HTTP to one Argilla server as one user: retries, and Argilla's errors as pairsmith's.

The client is a plain ``httpx.Client`` with the one header the Argilla SDK sends
(``X-Argilla-Api-Key``); no SDK module is imported (its builder is private). Transient failures
(connection refused or reset, timeouts, 502/503/504) are retried with backoff; everything else maps
to one of pairsmith's errors. The API key is only ever in the client's headers: it is never
formatted into a message, a log line or a repr.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from curation.errors import (
    BackendError,
    BadInputError,
    ConflictError,
    NotFoundError,
    PairsmithError,
    PermissionDeniedError,
)

log = logging.getLogger(__name__)

TRANSIENT_STATUS = {502, 503, 504}
API_KEY_HEADER = "X-Argilla-Api-Key"


class ArgillaHTTP:
    """Requests to one Argilla server as one user."""

    def __init__(self, api_url: str, api_key: str, *, timeout: float = 60.0, retries: int = 4) -> None:
        if not api_url or not api_key:
            raise BadInputError(
                "the Argilla backend needs a server URL and an API key: pass --api-url/--api-key or set "
                "ARGILLA_API_URL and ARGILLA_API_KEY"
            )
        self.api_url = api_url.rstrip("/")
        self.retries = retries
        self._client = httpx.Client(base_url=self.api_url, headers={API_KEY_HEADER: api_key}, timeout=timeout)

    def __repr__(self) -> str:
        return f"ArgillaHTTP(api_url={self.api_url!r})"

    def request(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        """Send one request; return its JSON (None when empty). ``what`` names the action in errors."""
        delay = 0.5
        for attempt in range(self.retries + 1):
            try:
                reply = self._client.request(method, path, **kwargs)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                if attempt == self.retries:
                    raise BackendError(
                        f"{what}: the Argilla server at {self.api_url} cannot be reached ({type(exc).__name__}) "
                        f"after {self.retries + 1} tries; check that it is running, then run the command again "
                        "(nothing already written is lost; a sync resumes where it stopped)"
                    ) from None
            else:
                if reply.status_code not in TRANSIENT_STATUS or attempt == self.retries:
                    return self._result(reply, what)
            log.info("%s: transient failure, retry %d in %.1f s", what, attempt + 1, delay)
            time.sleep(delay)
            delay = min(delay * 2, 8.0)
        raise AssertionError("unreachable")

    def create(self, path: str, *, json: Any, what: str, exists: Callable[[], bool]) -> Any:
        """POST something unique (a response, a record id); None when it already exists.

        Argilla refuses a duplicate with 409 or 422, or, when two requests race inside the server,
        with a 500 from its database's unique constraint: after any refusal ``exists()`` tells a
        duplicate (None) from a real failure (raised again).
        """
        try:
            return self.request("POST", path, json=json, what=what)
        except ConflictError:
            return None  # 409: Argilla says it exists
        except PairsmithError:
            if exists():
                return None
            raise

    def delete(self, path: str, *, what: str, **kwargs: Any) -> bool:
        """DELETE something that may be gone already; False when it was."""
        try:
            self.request("DELETE", path, what=what, **kwargs)
            return True
        except NotFoundError:
            return False

    def _result(self, reply: httpx.Response, what: str) -> Any:
        status = reply.status_code
        if status < 300:
            return reply.json() if reply.content else None
        detail = _detail(reply)
        if status == 401:
            raise PermissionDeniedError(
                f"{what}: the Argilla server rejected the API key; sign in again with a valid key"
            )
        if status == 403:
            raise PermissionDeniedError(
                f"{what}: your Argilla role does not allow this (owners and admins change guidelines, export "
                "and train; annotators label)"
            )
        if status == 404:
            raise NotFoundError(f"{what}: not found on the Argilla server ({detail})")
        if status == 409:
            raise ConflictError(f"{what}: {detail}")
        if status in (400, 422):
            raise BadInputError(f"{what}: the Argilla server refused it: {detail}")
        raise BackendError(f"{what}: the Argilla server answered {status}: {detail}")

    def close(self) -> None:
        self._client.close()


def _detail(reply: httpx.Response) -> str:
    try:
        body = reply.json()
    except ValueError:
        return reply.text[:300]
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        detail = detail.get("params", {}).get("detail") or detail.get("code") or detail
    return str(detail)[:500]
