"""Public datasets the benchmarks and the real-data tests use, fetched into a cache outside the repo.

Each dataset is a :class:`PublicSet`: the public GitHub repository it comes from, the files taken,
its licence, and a loader that turns the files into plain rows. ``fetch`` copies the files into
``$PAIRSMITH_CACHE/public-sets/<name>/`` (default ``~/.cache/pairsmith/public-sets``) and records
where they came from in ``SOURCE.json`` (repository, commit, files, licence). Nothing fetched is
committed to this repository.

Where the files come from, first match wins:

1. a local git mirror of the repository (``$PAIRSMITH_MIRROR/<owner>+<name>/repo``, default
   ``/work/.mirror``), as the development machines have;
2. ``git clone --depth 1 https://github.com/<owner>/<name>`` on a machine with internet access.

Catalogue modules (``benchmarks/public_sets/*.py``) each register their sets with
:func:`register`; every module in this package is loaded by :func:`catalogue`.

Command line::

    .venv/bin/python -m benchmarks.public_sets list
    .venv/bin/python -m benchmarks.public_sets fetch NAME [NAME ...] | --all
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from curation.files import atomic_directory, user_cache_dir

Row = dict[str, Any]


@dataclass(frozen=True)
class PublicSet:
    """One public dataset: where it lives, under which licence, and how to read it."""

    name: str
    repo: str
    """``owner/name`` on GitHub."""
    files: tuple[str, ...]
    """Paths inside the repository that ``fetch`` copies."""
    licence: str
    description: str
    load: Callable[[Path], Iterator[Row]] = field(repr=False, compare=False)
    """Reads the fetched folder and yields rows (the keys are the set's own, documented in its module)."""
    shape: str = ""
    """What kind of data it is (classification, paraphrase pairs, chat, ...), for tables."""


_SETS: dict[str, PublicSet] = {}


def register(public_set: PublicSet) -> PublicSet:
    _SETS[public_set.name] = public_set
    return public_set


def catalogue() -> dict[str, PublicSet]:
    """Every registered set, after loading every catalogue module of this package."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return dict(sorted(_SETS.items()))


def cache_root() -> Path:
    return user_cache_dir("public-sets")


def cached_dir(name: str) -> Path | None:
    """The fetched folder of a set, or None when it has not been fetched on this machine."""
    folder = cache_root() / name
    return folder if (folder / "SOURCE.json").exists() else None


def rows(name: str) -> list[Row]:
    """The rows of a fetched set; a clear error naming the fetch command when it is missing."""
    public_set = catalogue()[name]
    folder = cached_dir(name)
    if folder is None:
        raise FileNotFoundError(
            f"public set '{name}' is not fetched; run `.venv/bin/python -m benchmarks.public_sets fetch {name}`"
        )
    return list(public_set.load(folder))


def _mirror(repo: str) -> Path | None:
    root = Path(os.environ.get("PAIRSMITH_MIRROR", "/work/.mirror"))
    candidate = root / repo.replace("/", "+") / "repo"
    # A bare mirror (repo/HEAD) or a clone without a work tree (repo/.git/HEAD).
    for git_dir in (candidate, candidate / ".git"):
        if (git_dir / "HEAD").exists():
            return git_dir
    return None


def _git(*args: str, cwd: Path | None = None) -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True).stdout


def fetch(name: str) -> Path:
    """Copy a set's files into the cache (atomically) and record its source; return the folder."""
    public_set = catalogue()[name]
    target = cache_root() / name
    with tempfile.TemporaryDirectory() as scratch:
        mirror = _mirror(public_set.repo)
        if mirror is None:
            clone = Path(scratch) / "clone"
            _git("clone", "--depth", "1", f"https://github.com/{public_set.repo}", str(clone))
            git_dir = clone / ".git"
        else:
            git_dir = mirror
        commit = _git("--git-dir", str(git_dir), "rev-parse", "HEAD").decode().strip()
        with atomic_directory(target) as staging:
            for path in public_set.files:
                destination = staging / path
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(_git("--git-dir", str(git_dir), "show", f"{commit}:{path}"))
            source = {
                "name": public_set.name,
                "repository": f"https://github.com/{public_set.repo}",
                "commit": commit,
                "files": list(public_set.files),
                "licence": public_set.licence,
                "description": public_set.description,
                "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            (staging / "SOURCE.json").write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
    return target


def remove(name: str) -> None:
    shutil.rmtree(cache_root() / name, ignore_errors=True)
