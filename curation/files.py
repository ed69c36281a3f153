"""Files on disk: atomic writes (a crash never leaves half a file) and the per-user cache of derived
model files (converted tokenizers, base models, ONNX exports)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def atomic_write_text(path: Path | str, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_write_json(path: Path | str, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _recover(target: Path) -> None:
    """Tidy what a killed writer of ``target`` left: its staging folders, and a half-done swap.

    Staging folders carry their writer's pid (``.<name>.<pid>.<random>.partial``); those of dead
    processes are removed. If a writer died between moving the old directory aside and moving the
    new one in, the old one is put back, so a finished export is never lost nor replaced by a
    partial one.
    """
    for leftover in target.parent.glob(f".{target.name}.*.partial"):
        parts = leftover.name[len(target.name) + 2 :].split(".")
        pid = int(parts[0]) if parts and parts[0].isdigit() else None
        if pid is not None and pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(leftover, ignore_errors=True)
    old = target.with_name(f".{target.name}.old")
    if old.exists() and not target.exists():
        os.replace(old, target)


@contextmanager
def atomic_directory(path: Path | str) -> Iterator[Path]:
    """Build a directory under a temporary name and move it into place only when the block succeeds.

    An existing directory at ``path`` is replaced. If the block raises, ``path`` is untouched; if
    the process is killed, ``path`` is untouched too, and the next call tidies what it left.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _recover(target)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".partial", dir=target.parent)
    )
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


CACHE_ENV = "PAIRSMITH_CACHE"


def user_cache_dir(kind: str) -> Path:
    """``$PAIRSMITH_CACHE/<kind>``, or ``~/.cache/pairsmith/<kind>`` when the variable is unset."""
    root = os.environ.get(CACHE_ENV)
    return (Path(root) if root else Path.home() / ".cache" / "pairsmith") / kind


CONFIG_FILE = "pairsmith.json"


@dataclass(frozen=True)
class ProjectPaths:
    """Every well-known path inside a project directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def database(self) -> Path:
        return self.root / "pairsmith.db"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def analysis(self) -> Path:
        return self.root / "analysis"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def jobs(self) -> Path:
        return self.root / "jobs"
