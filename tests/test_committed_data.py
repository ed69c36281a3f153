"""The public data committed under tests/data: allowed to be there, attributed, and small."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.public_sets import _cut_json_array, catalogue, write_sample
from tests.public_sets import COMMITTED

MAX_BYTES = 1_000_000
PERMISSIVE = {"MIT", "Apache-2.0", "CC-BY-4.0", "BSD-3-Clause", "CC0-1.0"}
"""Licences that allow a copy in the repository with attribution and no share-alike condition."""


def test_every_committed_set_may_be_redistributed_and_names_its_source() -> None:
    folders = sorted(p for p in COMMITTED.iterdir() if p.is_dir())
    assert folders, "no public set is committed: the real-data tests would skip on a fresh clone"
    sets = catalogue()
    for folder in folders:
        assert folder.name in sets, f"{folder} is not a set of benchmarks/public_sets"
        assert sets[folder.name].redistributable, f"{folder.name}: licence {sets[folder.name].licence}"
        source = json.loads((folder / "SOURCE.json").read_text(encoding="utf-8"))
        # The catalogue's flag is checked against the licence itself, so a wrongly set flag is caught.
        assert source["licence"] in PERMISSIVE, (
            f"{folder.name}: licence {source['licence']} is not permissive"
        )
        assert source["licence"] == sets[folder.name].licence and source["repository"] and source["commit"]
        assert (folder / "LICENSE").exists(), f"{folder.name} has no LICENSE file"
        missing = [name for name in source["files"] if not (folder / name).is_file()]
        assert not missing, f"{folder.name}: SOURCE.json lists files that are not there: {missing}"
        for path in folder.rglob("*"):
            assert path.is_dir() or path.stat().st_size <= MAX_BYTES, f"{path} is over 1 MB"


def test_a_large_json_array_is_cut_to_leading_rows_that_fit() -> None:
    rows = [{"id": i, "text": "x" * 100} for i in range(100)]
    text, kept, total = _cut_json_array(json.dumps(rows).encode(), 2_000)
    assert len(text) <= 2_000 and total == 100 and 0 < kept < 100
    assert json.loads(text) == rows[:kept]


def test_a_set_we_may_not_redistribute_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not allow"):
        write_sample("mrpc", root=tmp_path)
