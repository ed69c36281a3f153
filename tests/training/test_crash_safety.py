"""Crash safety with real processes: ``kill -9`` in the middle of an import, an analysis, an export
and a ship, then the store passes ``PRAGMA integrity_check``, no partial export is taken for a
finished one, running the same command again continues where it stopped, and no record is lost or
doubled. (Training killed between checkpoints is tests/training/test_train_resume.py.)"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from curation.files import ProjectPaths
from curation.project import init_project, open_store
from tests.factories import make_record

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
ENV = dict(
    os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1"
)


def start(*args: str) -> subprocess.Popen[bytes]:
    """A real process in its own group, as a person's terminal would run it."""
    return subprocess.Popen(
        [sys.executable, *args], env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip


def pairsmith(*args: str) -> subprocess.Popen[bytes]:
    return start("-m", "ui.cli", *args)


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float = 300) -> None:
    """SIGKILL the process group as soon as ``ready()`` holds (the work is under way, not done)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the process finished before it could be killed mid-way"
        assert time.monotonic() < deadline, "the work did not get under way in time"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # the table is not there yet, or the writer holds a lock
        return 0


def integrity_ok(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def finish(process: subprocess.Popen[bytes], timeout: float = 600) -> None:
    assert process.wait(timeout=timeout) == 0


def test_kill_9_mid_import_then_the_same_import_finishes_without_loss_or_doubles(tmp_path):
    root, rows = tmp_path / "p", 60_000
    init_project(root, "p").close()
    data = tmp_path / "pairs.csv"
    data.write_text("prompt,response\n" + "".join(f"question {i},answer {i}\n" for i in range(rows)))
    db = ProjectPaths(root).database
    first = pairsmith("import", str(root), str(data))
    kill_when(first, lambda: 0 < count(db, "SELECT COUNT(*) FROM records") < rows)
    integrity_ok(db)
    kept = count(db, "SELECT COUNT(*) FROM records")
    assert 0 < kept < rows
    finish(pairsmith("import", str(root), str(data)))
    integrity_ok(db)
    assert count(db, "SELECT COUNT(*) FROM records") == rows
    assert count(db, "SELECT COUNT(DISTINCT content_hash) FROM records") == rows


def project_with(root: Path, n: int, labelled: bool = False) -> None:
    from curation.model import Response

    store = init_project(root, root.name)
    records = [
        make_record(id=f"r{i:05d}", input=f"ticket {i} about order {i * 7}", output=f"reply {i}")
        for i in range(n)
    ]
    store.upsert_records(records)
    if labelled:
        for r in records:
            store.save_response(
                Response(record_id=r.id, user="ann", values={"label": "good"}, status="submitted")
            )
    store.close()


ANALYSE = (
    "import sys; from curation.analysis.pipeline import AnalysisSettings, analyze_project; "
    "r = analyze_project(sys.argv[1], settings=AnalysisSettings(embedder='hashing', batch_size=100)); "
    "print(r.model_dump_json())"
)


def test_kill_9_mid_analysis_then_analysis_resumes_from_the_embedding_cache(tmp_path):
    root, n = tmp_path / "p", 6000
    project_with(root, n)
    cache = ProjectPaths(root).cache / "embeddings.sqlite"
    first = start("-c", ANALYSE, str(root))
    kill_when(first, lambda: count(cache, "SELECT COUNT(*) FROM embeddings") > 0)
    integrity_ok(ProjectPaths(root).database)
    integrity_ok(cache)
    cached = count(cache, "SELECT COUNT(*) FROM embeddings")
    second = subprocess.run(
        [sys.executable, "-c", ANALYSE, str(root)],
        env=ENV,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert second.returncode == 0, second.stderr[-2000:]
    report = json.loads(second.stdout.strip().splitlines()[-1])
    assert report["records"] == n and report["cached_texts"] >= cached  # went on from the cache
    store = open_store(root)
    try:
        assert store.count_records() == n
        assert len({r.id for batch in store.iter_records() for r in batch}) == n
    finally:
        store.close()
    integrity_ok(ProjectPaths(root).database)


def test_kill_9_mid_export_leaves_no_export_and_the_next_one_is_whole(tmp_path):
    root, n = tmp_path / "p", 12_000
    project_with(root, n, labelled=True)
    out = tmp_path / "export"
    first = pairsmith("export", str(root), "--out", str(out))
    kill_when(first, lambda: any(tmp_path.glob(".export.*.partial")))
    integrity_ok(ProjectPaths(root).database)
    assert not out.exists()  # a killed export is never taken for a finished one
    finish(pairsmith("export", str(root), "--out", str(out), "--json"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert sum(manifest["counts"].values()) == n
    ids = [e["id"] for split in manifest["splits"].values() for e in split]
    assert len(ids) == len(set(ids)) == n
    assert not list(tmp_path.glob(".export.*")), "the killed export's staging folder is cleaned up"
    integrity_ok(ProjectPaths(root).database)


def test_kill_9_mid_ship_export_then_ship_redoes_the_export_whole(tmp_path, monkeypatch):
    """ship's state never records a stage the kill interrupted; the re-run does it again."""
    from training.ship import read_state

    root, n = tmp_path / "p", 12_000
    project_with(root, n, labelled=True)
    run = tmp_path / "run"
    first = pairsmith("ship", str(root), "--out", str(run))
    kill_when(first, lambda: any(run.glob(".export.*.partial")) if run.exists() else False)
    state = read_state(run)
    assert not state["stages"].get("export", {}).get("done") and not (run / "export").exists()
    assert state.get("status") == "running"  # what the Runs page shows as "interrupted"
    from training.runs import run_status

    assert run_status(run)["status"] == "interrupted" and run_status(run)["resumable"]
    # Resuming: only the export stage is exercised here (training has its own kill test).
    from training import ship as ship_module

    monkeypatch.setattr(ship_module, "train_adapter", _no_training)
    monkeypatch.setattr(
        ship_module, "evaluate_run", lambda run_dir, **_: {"primary_metric": "chrf", "base": {}, "tuned": {}}
    )
    ship_module.ship(root, run)
    manifest = json.loads((run / "export" / "manifest.json").read_text())
    assert sum(manifest["counts"].values()) == n
    assert read_state(run)["status"] == "succeeded"
    integrity_ok(ProjectPaths(root).database)


def _no_training(export_dir: Path, out_dir: Path, config: object, progress: object = None) -> object:
    (Path(out_dir) / "adapter").mkdir(parents=True, exist_ok=True)
    return type("Trained", (), {"steps": 0, "metrics": {"eval_loss": 0.0}})()


def test_a_checkpoint_killed_while_its_state_was_written_is_skipped(tmp_path):
    from training.train import latest_checkpoint

    checkpoints = tmp_path / "checkpoints"
    for step, state in ((2, '{"global_step": 2}'), (4, '{"global_st')):  # the kill cut the second write
        folder = checkpoints / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        (folder / "trainer_state.json").write_text(state)
    assert latest_checkpoint(checkpoints) == str(checkpoints / "checkpoint-2")


def test_a_swap_cut_in_half_puts_the_finished_export_back(tmp_path):
    from curation.files import atomic_directory

    out = tmp_path / "export"
    with atomic_directory(out) as staging:
        (staging / "manifest.json").write_text("{}")
    os.replace(out, tmp_path / ".export.old")  # killed right after moving the old export aside
    dead = tmp_path / ".export.999999.abc.partial"
    dead.mkdir()
    with pytest.raises(RuntimeError), atomic_directory(out):
        raise RuntimeError("the new export failed")
    assert (out / "manifest.json").exists() and not dead.exists()
