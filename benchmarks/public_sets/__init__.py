"""Public datasets the benchmarks and the real-data tests use, fetched into a cache outside the repo.

Each dataset is a :class:`PublicSet`: the public GitHub repository it comes from, the files taken,
its licence, and a loader that turns the files into plain rows. ``fetch`` copies the files into
``$PAIRSMITH_CACHE/public-sets/<name>/`` (default ``~/.cache/pairsmith/public-sets``) and records
where they came from in ``SOURCE.json`` (repository, commit, files, licence). Nothing fetched is
committed to this repository, except copies of the sets whose licence allows it (``redistributable``),
cut to at most 1 MB a file, under ``tests/data/public-sets/`` (``sample``): the real-data tests run
on them on any clone, CI included.

Where the files come from, first match wins:

1. a local git mirror of the repository (``$PAIRSMITH_MIRROR/<owner>+<name>/repo``, default
   ``/work/.mirror``), as the development machines have;
2. ``git clone --depth 1 https://github.com/<owner>/<name>`` on a machine with internet access.

Catalogue modules (``benchmarks/public_sets/*.py``) each register their sets with
:func:`register`; every module in this package is loaded by :func:`catalogue`.

Command line::

    .venv/bin/python -m benchmarks.public_sets list
    .venv/bin/python -m benchmarks.public_sets fetch NAME [NAME ...] | --all
    .venv/bin/python -m benchmarks.public_sets sample NAME [NAME ...] | --all   # tests/data copies
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
    redistributable: bool = False
    """The licence lets us commit a copy (MIT, Apache-2.0, CC-BY): ``sample`` writes one for the tests."""


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


SAMPLE_ROOT = Path(__file__).resolve().parents[2] / "tests" / "data" / "public-sets"
SAMPLE_MAX_BYTES = 1_000_000


def _cut_json_array(data: bytes, max_bytes: int) -> tuple[bytes, int, int]:
    """The leading rows of a JSON array that fit in ``max_bytes``: (text, rows kept, rows in all)."""
    rows = json.loads(data)
    kept: list[Any] = []
    size = 2
    for row in rows:
        size += len(json.dumps(row, ensure_ascii=False).encode()) + 4
        if size > max_bytes:
            break
        kept.append(row)
    text = json.dumps(kept, ensure_ascii=False, indent=1).encode()
    while len(text) > max_bytes:  # indentation is not in the estimate
        kept.pop()
        text = json.dumps(kept, ensure_ascii=False, indent=1).encode()
    return text, len(kept), len(rows)


def write_sample(name: str, root: Path = SAMPLE_ROOT, max_bytes: int = SAMPLE_MAX_BYTES) -> Path:
    """Copy a fetched, redistributable set into ``root/<name>`` for the tests: every file of at most
    ``max_bytes`` as it is, a larger JSON array cut to its leading rows; the licence file and a
    ``SOURCE.json`` that says what was cut go with it."""
    public_set = catalogue()[name]
    if not public_set.redistributable:
        raise ValueError(f"{name}: licence {public_set.licence!r} does not allow committing a copy")
    folder = cached_dir(name)
    if folder is None:
        raise FileNotFoundError(f"{name} is not fetched (python -m benchmarks.public_sets fetch {name})")
    source = json.loads((folder / "SOURCE.json").read_text(encoding="utf-8"))
    cuts: dict[str, str] = {}
    with atomic_directory(root / name) as staging:
        for path in public_set.files:
            data = (folder / path).read_bytes()
            if len(data) > max_bytes:
                if not path.endswith(".json"):
                    raise ValueError(f"{name}: {path} is {len(data):,} bytes and is not a JSON array to cut")
                data, kept, total = _cut_json_array(data, max_bytes)
                cuts[path] = f"the first {kept:,} of {total:,} rows"
            destination = staging / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
        source.pop("fetched_at", None)
        source["copy"] = (
            "committed for the tests: every file as published, except "
            + "; ".join(f"{p}: {c}" for p, c in cuts.items())
            if cuts
            else "committed for the tests: every file as published"
        )
        (staging / "SOURCE.json").write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
    return root / name
