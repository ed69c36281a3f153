"""The background job runner shared by the UI and the CLI.

A job is one row in ``<project>/jobs/jobs.db`` (SQLite, WAL) and one detached process
(``python -m training.jobs run PROJECT_DIR JOB_ID``, in its own session so cancel can signal its
whole process group). The process updates its row's status, progress and message as it works and
writes its log to ``<project>/jobs/<id>.log``. The work itself (ship, train, eval) is resumable,
so :func:`resume_job` simply starts the same job again.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from curation.errors import BadInputError, ConflictError, JobError, NotFoundError
from curation.files import ProjectPaths
from curation.model import new_id
from training.progress import QUIET_ENV, describe, quiet_progress_bars

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE = ("queued", "running")
LOG_EVERY_S = 10.0
"""A running job writes a progress line to its log at every new stage, every tenth of the work, and
at least this often."""
OWNER_KINDS = frozenset({"ship", "train", "analyze"})
"""Job kinds only owners may start: they analyse, export the dataset and train on it."""
ACTIONS = {"analyze": "analyse the project"}
"""What the owner check names for a kind (ship and train: "export, train and ship")."""
JobFunction = Callable[[Path, dict[str, Any], Callable[[dict[str, Any]], None]], dict[str, Any]]
_KINDS: dict[str, JobFunction] = {}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '', pid INTEGER,
    created TEXT NOT NULL, started TEXT, finished TEXT, log_path TEXT NOT NULL,
    result TEXT, attempts INTEGER NOT NULL DEFAULT 0
)"""
_COLUMNS = {"resumable": "INTEGER NOT NULL DEFAULT 1", "error_kind": "TEXT"}
"""Columns added after the first release: created on old job tables when they are opened."""
NOT_RESUMABLE = ("BadInputError", "NotFoundError", "PermissionDeniedError")
"""Failures a resume would repeat: the input, the project or the person must change first."""
RESUMABLE_ERRORS = ("BackendError", "ConflictError", "OSError", "KeyboardInterrupt", "SystemExit")
"""Failures from outside the work (a server down, a lock, a full disk, a signal): resuming can work."""


def register_job_kind(kind: str, function: JobFunction) -> None:
    """Make ``kind`` runnable: ``function(project_dir, params, progress) -> result dict``."""
    _KINDS[kind] = function


def _now() -> str:
    return datetime.now(UTC).isoformat()


def jobs_db(project_dir: Path | str) -> Path:
    return ProjectPaths(Path(project_dir)).jobs / "jobs.db"


@contextlib.contextmanager
def _connect(project_dir: Path | str) -> Iterator[sqlite3.Connection]:
    path = jobs_db(project_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute(_SCHEMA)
        have = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
        for column, kind in _COLUMNS.items():
            if column not in have:
                with contextlib.suppress(sqlite3.OperationalError):  # another process added it first
                    conn.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
        conn.row_factory = sqlite3.Row
        yield conn
    finally:
        conn.close()


def _update(project_dir: Path | str, job_id: str, **values: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    with _connect(project_dir) as conn:
        conn.execute(f"UPDATE jobs SET {sets} WHERE id = ?", [*values.values(), job_id])


def _row(row: sqlite3.Row) -> dict[str, Any]:
    job = dict(row)
    job["params"] = json.loads(job["params"])
    job["result"] = json.loads(job["result"]) if job["result"] else None
    job["resumable"] = bool(job.get("resumable", 1)) and job["status"] in ("failed", "cancelled")
    job["error"] = job["message"] if job["status"] == "failed" else None
    return job


def resumable_failure(exc: BaseException) -> bool:
    """Whether resuming after ``exc`` can work: not for bad input, a missing project or a refused
    person (a resume would fail the same way), nor for an unexpected error (a bug to report)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & set(NOT_RESUMABLE):
        return False
    return bool(names & set(RESUMABLE_ERRORS))


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    with contextlib.suppress(ChildProcessError, OSError):
        # Reap it when it is our own child, so an exited job is not mistaken for a live zombie.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def get_job(project_dir: Path | str, job_id: str) -> dict[str, Any]:
    """One job's row; a 'running' job whose process has died is reported (and stored) as failed."""
    with _connect(project_dir) as conn:
        row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise NotFoundError(
            f"no job '{job_id}' in {project_dir}; list jobs with `pairsmith jobs {project_dir}`"
        )
    job = _row(row)
    if job["status"] == "running" and not _alive(job["pid"]):
        message = "the job's process ended without reporting (killed?); resume it to continue"
        _update(project_dir, job_id, status="failed", message=message, finished=_now(), resumable=1)
        job.update(status="failed", message=message, resumable=True, error=message, error_kind="killed")
    return job


def list_jobs(project_dir: Path | str) -> list[dict[str, Any]]:
    """Every job of the project, newest first."""
    with _connect(project_dir) as conn:
        ids = [r["id"] for r in conn.execute("SELECT id FROM jobs ORDER BY created DESC")]
    return [get_job(project_dir, i) for i in ids]


def latest_job(
    project_dir: Path | str,
    *,
    kinds: frozenset[str] | None = None,
    exclude: frozenset[str] = frozenset(),
    job_id: str | None = None,
) -> dict[str, Any] | None:
    """Job ``job_id`` when it exists, else the newest job of ``kinds`` (any kind when None) that is
    not of ``exclude``; None when there is none. A page finds its running job again after a refresh."""
    if job_id:
        with contextlib.suppress(NotFoundError):
            return get_job(project_dir, job_id)
    for job in list_jobs(project_dir):
        if (kinds is None or job["kind"] in kinds) and job["kind"] not in exclude:
            return job
    return None


def log_tail(path: Path | str, lines: int = 40) -> str:
    """The last ``lines`` lines of a job's log (at most its last 64 kB); empty when there is none yet."""
    log = Path(path)
    if not log.exists():
        return ""
    with log.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 64_000))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def _launch(project_dir: Path, job_id: str, log_path: Path, api_key: str | None = None) -> int:
    env = dict(os.environ)
    if api_key:
        env["ARGILLA_API_KEY"] = api_key  # the job opens an Argilla project with it; never stored
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.update(QUIET_ENV)  # the log holds readable progress lines, not redrawn progress bars
    with log_path.open("a", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "training.jobs", "run", str(project_dir), job_id],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: cancel signals the job and its children
            env=env,
        )
    return process.pid


def _check_owner(root: Path, kind: str, user: str | None, api_key: str | None) -> None:
    """PermissionDeniedError when ``user`` (or the key's owner) may not run owner-only ``kind``."""
    if kind in OWNER_KINDS and (user is not None or api_key):
        from training.ship import check_ship_allowed

        check_ship_allowed(root, user=user, api_key=api_key, action=ACTIONS.get(kind))


def _preflight(root: Path, kind: str, params: dict[str, Any], api_key: str | None) -> None:
    """Refuse before the process starts what would fail for lack of data (training.preflight)."""
    if kind == "ship" and ProjectPaths(root).config.exists() and params.get("run_dir"):
        from curation.project import open_store
        from training.preflight import preflight_export
        from training.ship import load_ship_config, project_ship_config, read_state

        if read_state(params["run_dir"])["stages"].get("export", {}).get("done"):
            return  # the run exported already; training checks the export itself
        config = load_ship_config(params["config"]) if params.get("config") else project_ship_config(root)
        export = config.export
        if params.get("include_unreviewed"):
            export = export.model_copy(update={"include_unreviewed": True})
        store = open_store(root, api_key=api_key)
        try:
            preflight_export(store, export)
        finally:
            store.close()
    elif kind == "train" and params.get("export_dir"):
        from training.preflight import require_trainable

        require_trainable(params["export_dir"])


def start_job(
    project_dir: Path | str,
    kind: str,
    params: dict[str, Any],
    *,
    user: str | None = None,
    api_key: str | None = None,
) -> str:
    """Queue a job and start its background process; return the job id.

    Refuses (ConflictError) a second active job writing the same ``run_dir``. ``user`` is the
    signed-in person: for the owner-only kinds (ship, train) an annotator is refused here
    (PermissionDeniedError) and the job checks again when it runs. ``api_key`` (Argilla) reaches
    the job's process through its environment only, never the jobs table or the log.
    """
    _load_kinds()
    if kind not in _KINDS:
        raise BadInputError(f"unknown job kind '{kind}'; choose one of {sorted(_KINDS)}")
    root = Path(project_dir).resolve()
    _check_owner(root, kind, user, api_key)
    _preflight(root, kind, params, api_key)
    if user is not None:
        params = {**params, "user": user}
    run_dir = params.get("run_dir")
    if run_dir:
        for job in list_jobs(root):
            if job["status"] in ACTIVE and job["params"].get("run_dir") == str(run_dir):
                raise ConflictError(
                    f"job {job['id']} is already writing {run_dir}; cancel it or choose another run dir"
                )
    job_id = new_id()[:12]
    log_path = ProjectPaths(root).jobs / f"{job_id}.log"
    with _connect(root) as conn:
        conn.execute(
            "INSERT INTO jobs (id, kind, params, status, created, log_path) VALUES (?, ?, ?, 'queued', ?, ?)",
            (job_id, kind, json.dumps(params, default=str), _now(), str(log_path)),
        )
    pid = _launch(root, job_id, log_path, api_key)
    _update(root, job_id, pid=pid)
    return job_id


def cancel_job(project_dir: Path | str, job_id: str) -> dict[str, Any]:
    """Stop a job: mark it cancelled and send SIGTERM to its process group. Its state stays resumable."""
    job = get_job(project_dir, job_id)
    if job["status"] not in ACTIVE:
        raise JobError(f"job {job_id} is {job['status']}, not running; nothing to cancel")
    _update(project_dir, job_id, status="cancelled", message="cancelled by user", finished=_now())
    if job["pid"] and _alive(job["pid"]):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(job["pid"], signal.SIGTERM)
    return get_job(project_dir, job_id)


def resume_job(
    project_dir: Path | str, job_id: str, *, user: str | None = None, api_key: str | None = None
) -> dict[str, Any]:
    """Start a failed or cancelled job again; its work resumes where it stopped.

    ``user`` and ``api_key`` as for :func:`start_job`: resuming owner-only work needs an owner.
    """
    job = get_job(project_dir, job_id)
    if job["status"] in ACTIVE:
        raise JobError(f"job {job_id} is {job['status']}; only failed or cancelled jobs can be resumed")
    if job["status"] == "succeeded":
        raise JobError(f"job {job_id} already succeeded; start a new one instead")
    if not job["resumable"]:
        raise JobError(
            f"job {job_id} failed in a way a resume would repeat ({job['message']}); fix that and start a "
            "new job instead"
        )
    root = Path(project_dir).resolve()
    _check_owner(root, job["kind"], user, api_key)
    _update(root, job_id, status="queued", message="resuming", finished=None)
    pid = _launch(root, job_id, Path(job["log_path"]), api_key)
    _update(root, job_id, pid=pid)
    return get_job(root, job_id)


def wait_job(project_dir: Path | str, job_id: str, timeout: float = 600, poll: float = 0.5) -> dict[str, Any]:
    """Block until the job is no longer active (or ``timeout`` seconds pass); return its row."""
    deadline = time.monotonic() + timeout
    while True:
        job = get_job(project_dir, job_id)
        if job["status"] not in ACTIVE or time.monotonic() > deadline:
            return job
        time.sleep(poll)


def run_job(project_dir: Path | str, job_id: str) -> int:
    """The body of a job's process: run the kind's function and record the outcome."""
    _load_kinds()
    root = Path(project_dir)
    job = get_job(root, job_id)
    if job["status"] == "cancelled":
        return 0

    def on_term(signum: int, frame: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_term)
    quiet_progress_bars()
    _update(
        root,
        job_id,
        status="running",
        pid=os.getpid(),
        started=_now(),
        attempts=job["attempts"] + 1,
        resumable=1,
    )
    last_db, last_log, last_phase = [0.0], [0.0], [("", "", -1)]

    def progress(info: dict[str, Any]) -> None:
        now = time.monotonic()
        line = describe(info)
        tenth = int(10 * float(info.get("fraction") or 0.0))
        phase = (str(info.get("stage") or ""), str(info.get("message") or ""), tenth)
        if phase != last_phase[0] or now - last_log[0] >= LOG_EVERY_S:
            print(f"[{datetime.now(UTC):%H:%M:%S}] {line}", flush=True)  # stdout is the job's log
            last_log[0], last_phase[0] = now, phase
        if now - last_db[0] < 1.0 and info.get("fraction") not in (0.0, 1.0) and not info.get("message"):
            return  # throttle database writes
        last_db[0] = now
        _update(root, job_id, progress=float(info.get("fraction") or 0.0), message=line[:500])

    try:
        result = _KINDS[job["kind"]](root, job["params"], progress)
    except BaseException as exc:
        current = get_job(root, job_id)["status"]
        if current != "cancelled":
            traceback.print_exc()
            message = str(exc) or type(exc).__name__
            _update(
                root,
                job_id,
                status="failed",
                message=message[:2000],
                finished=_now(),
                resumable=int(resumable_failure(exc)),
                error_kind=type(exc).__name__,
            )
            print(f"[{datetime.now(UTC):%H:%M:%S}] failed: {message[:2000]}", flush=True)
        return 1
    _update(
        root,
        job_id,
        status="succeeded",
        progress=1.0,
        message="done",
        finished=_now(),
        result=json.dumps(result, default=str),
    )
    return 0


# --- the job kinds -------------------------------------------------------------------------------


def _ship_job(
    project_dir: Path, params: dict[str, Any], progress: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    from training.ship import load_ship_config, ship

    config = load_ship_config(params["config"]) if params.get("config") else None  # None: DIR/ship.yaml
    result = ship(
        project_dir,
        params["run_dir"],
        include_unreviewed=bool(params.get("include_unreviewed")),
        select=params.get("select"),
        config=config,
        progress=progress,
        user=params.get("user"),
    )
    return result.to_json()


def _train_job(
    project_dir: Path, params: dict[str, Any], progress: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    from training.config import load_train_config
    from training.ship import check_ship_allowed
    from training.train import train_adapter

    check_ship_allowed(project_dir, user=params.get("user"))
    config = load_train_config(params.get("config"), **params.get("overrides", {}))
    return train_adapter(params["export_dir"], params["run_dir"], config, progress=progress).to_json()


def _eval_job(
    project_dir: Path, params: dict[str, Any], progress: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    from training.evaluate import evaluate_run

    report = evaluate_run(params["run_dir"], export_dir=params.get("export_dir"), progress=progress)
    return {k: report[k] for k in ("primary_metric", "base", "tuned")}


# Share of an analysis's time each step takes (embedding dominates), for one progress fraction.
_ANALYZE_WEIGHTS = {"embed": (0.0, 0.8), "dedup": (0.8, 0.1), "clusters": (0.9, 0.08), "write": (0.98, 0.02)}


def _analyze_job(
    project_dir: Path, params: dict[str, Any], progress: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    from curation.analysis.pipeline import AnalysisSettings, analyze_project
    from training.ship import check_ship_allowed

    if params.get("user"):
        check_ship_allowed(project_dir, user=params["user"], action=ACTIONS["analyze"])
    settings = AnalysisSettings(**params.get("settings", {}))

    def on_step(step: str, done: int, total: int) -> None:
        start, width = _ANALYZE_WEIGHTS.get(step, (0.0, 0.0))
        fraction = start + width * (done / total if total else 1.0)
        progress(
            {"stage": step, "step": done, "total": total, "fraction": min(fraction, 0.99), "eta_s": None}
        )

    return analyze_project(project_dir, settings=settings, progress=on_step).model_dump(mode="json")


def _sleep_job(
    project_dir: Path, params: dict[str, Any], progress: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """A job that writes a file in steps: for testing the runner without a model."""
    out = Path(params["run_dir"])
    out.mkdir(parents=True, exist_ok=True)
    steps = int(params.get("steps", 10))
    for step in range(1, steps + 1):
        time.sleep(float(params.get("seconds", 0.1)))
        (out / "steps.txt").open("a").write(f"{step}\n")
        progress({"stage": "sleep", "step": step, "total": steps, "fraction": step / steps, "eta_s": None})
    return {"steps": steps}


def _load_kinds() -> None:
    for kind, function in (
        ("ship", _ship_job),
        ("train", _train_job),
        ("eval", _eval_job),
        ("analyze", _analyze_job),
        ("sleep", _sleep_job),
    ):
        _KINDS.setdefault(kind, function)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "run":
        print("usage: python -m training.jobs run PROJECT_DIR JOB_ID", file=sys.stderr)
        return 2
    return run_job(argv[1], argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
