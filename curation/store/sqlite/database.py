"""The local store's one SQLite connection, shared by its parts (records, responses, vectors, versions).

WAL journaling lets readers work while one writer writes; a busy timeout makes concurrent writers
from several processes wait instead of failing; foreign keys keep responses and vectors tied to
their records. Writes run in ``BEGIN IMMEDIATE`` transactions so concurrent writers queue up.

Lists of ids travel as one JSON parameter expanded by ``json_each`` (:func:`in_list`), never as one
``?`` per id: SQLite refuses more than 32,766 variables in a statement on a stock build, and a list
of every reviewed id passes that on a large project. The connection is held to that stock limit even
where the system's SQLite allows more (Debian's allows 250,000), so what works here works anywhere.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from curation.errors import BackendError

STOCK_MAX_VARIABLES = 32_766
"""SQLITE_MAX_VARIABLE_NUMBER of a stock SQLite build (3.32 and later)."""


def in_list(expression: str) -> str:
    """SQL testing ``expression`` against a list given as one parameter (see :func:`list_param`)."""
    return f"{expression} IN (SELECT value FROM json_each(?))"


def list_param(values: Iterable[Any]) -> str:
    """The parameter for :func:`in_list`: the values as a JSON array, of any length."""
    return json.dumps(list(values), ensure_ascii=False)


class Database:
    """A project's ``pairsmith.db`` connection with its read and write-transaction discipline."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            # Streamlit serves a session from several threads; the lock serialises use of the one connection.
            self._conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise BackendError(f"cannot open the project database {self.path}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        limit = sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
        self._conn.setlimit(limit, min(self._conn.getlimit(limit), STOCK_MAX_VARIABLES))
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=60000")
        self._conn.execute("PRAGMA synchronous=NORMAL")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken with BEGIN IMMEDIATE so concurrent writers queue up."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise BackendError(f"the project database {self.path} is busy or locked: {exc}") from exc
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """The connection, held for several reads in a row (no transaction is opened)."""
        with self._lock:
            yield self._conn

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Every row of one query."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
