"""The one error hierarchy of pairsmith.

Every error a user can cause or fix derives from :class:`PairsmithError`; the CLI and the UI turn
these into a clean message without a traceback. Messages say what went wrong, where (file, line,
field) and what to do about it.
"""

from __future__ import annotations


class PairsmithError(Exception):
    """Base class of every error pairsmith reports to a user."""


class BadInputError(PairsmithError):
    """Input that cannot be used: a malformed file, row, field or option value.

    ``where`` names the place (``file.csv:12``, ``field 'output'``) so a user can find it.
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class NotFoundError(PairsmithError):
    """A project, record, user, version, run or file that does not exist."""


class ConflictError(PairsmithError):
    """A write that would overwrite someone else's newer change (a stale response, a name in use)."""


class PermissionDeniedError(PairsmithError):
    """The signed-in user's role does not allow this action."""


class BackendError(PairsmithError):
    """The storage backend (SQLite file, Argilla server) failed or could not be reached."""


class JobError(PairsmithError):
    """A background job failed, was cancelled, or cannot be resumed."""


class ConfirmationRequiredError(PairsmithError):
    """A decision would drop many records at once: nothing was changed; ask first, then call again
    with ``confirm=True``. ``count`` says how many records it drops, ``examples`` names a few."""

    def __init__(self, message: str, *, count: int, examples: list[str]) -> None:
        self.count = count
        self.examples = examples
        super().__init__(message)
