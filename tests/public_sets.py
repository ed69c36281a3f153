"""Where the real-data tests find a public set.

1. The copy committed under ``tests/data/public-sets/<name>`` (sets whose licence allows it, each
   file at most 1 MB; ``python -m benchmarks.public_sets sample NAME`` writes it): the same on
   every clone, so CI runs these tests.
2. The fetched cache (``python -m benchmarks.public_sets fetch NAME``), for sets we may not commit.
3. Otherwise the test is skipped, saying why the set is not here and how to get it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.files import user_cache_dir

COMMITTED = Path(__file__).resolve().parent / "data" / "public-sets"


def find_public_set(name: str) -> Path | None:
    """The folder of a public set (committed copy first, then the cache), or None."""
    for folder in (COMMITTED / name, user_cache_dir("public-sets") / name):
        if (folder / "SOURCE.json").exists():
            return folder
    return None


def public_set(name: str) -> Path:
    """The folder of a public set (committed copy first, then the cache), or skip the test."""
    folder = find_public_set(name)
    if folder is not None:
        return folder
    from benchmarks.public_sets import catalogue

    known = catalogue()
    if name not in known:
        raise KeyError(f"{name} is not a public set of benchmarks/public_sets: {', '.join(sorted(known))}")
    if known[name].redistributable:
        pytest.fail(
            f"public set {name} may be committed but is not under {COMMITTED}: "
            f"python -m benchmarks.public_sets fetch {name} && python -m benchmarks.public_sets sample {name}"
        )
    pytest.skip(
        f"public set {name} (licence: {known[name].licence}) is not committed, its licence does not allow "
        f"redistribution; fetch it to run this test: python -m benchmarks.public_sets fetch {name}"
    )
