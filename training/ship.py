"""`ship`: export → train → evaluate in one resumable call.

Each finished stage is recorded in ``run_dir/state.json``, with the run's ``status`` (running,
succeeded, failed with its ``error`` and ``failed_stage``, or cancelled); calling :func:`ship`
again on the same run directory skips finished stages and resumes the first unfinished one
(training resumes from its newest checkpoint). A lock file keeps two processes from writing the
same run directory. A clean set too small for its splits is refused before anything is written.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curation.errors import BadInputError, ConflictError, NotFoundError
from curation.files import atomic_write_json, atomic_write_text
from curation.project import open_store
from curation.review.auth import require_owner_for
from training.clean_set import select_clean_set
from training.config import TrainConfig
from training.evaluate import SCHEMA_FILE, evaluate_run
from training.export import export_clean_set
from training.export_config import ExportConfig
from training.preflight import preflight_export
from training.progress import within
from training.train import ProgressCallback, train_adapter

STAGES = ("export", "train", "eval")
STAGE_SPANS = {"export": (0.0, 0.05), "train": (0.05, 0.85), "eval": (0.85, 1.0)}
"""Where each stage sits on the run's one progress bar (training takes most of the time)."""
STATE_FILE = "state.json"
PROJECT_CONFIG = "ship.yaml"
"""A project's own ship settings (``DIR/ship.yaml``), used when no config is given."""
SHIP_ACTION = "export, train and ship"
"""What the owner check names when it refuses someone (\"ann is an annotator and cannot ...\")."""


class ShipConfig(BaseModel):
    """The export and training settings of a ship run (a YAML file with ``export:`` and ``train:``)."""

    model_config = ConfigDict(extra="forbid")

    export: ExportConfig = Field(default_factory=ExportConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)


def project_ship_config(project_dir: Path | str) -> ShipConfig:
    """The project's ``ship.yaml`` when it has one (the example's is sized for a CPU), else the defaults."""
    path = Path(project_dir) / PROJECT_CONFIG
    return load_ship_config(path) if path.exists() else ShipConfig()


def ship_config_with(
    base: ShipConfig,
    *,
    formats: list[str] | None = None,
    fractions: dict[str, float] | None = None,
    base_model: str | None = None,
    include_unreviewed: bool | None = None,
    select: int | None = None,
) -> ShipConfig:
    """``base`` (the project's ship.yaml) with what a person chose on the Export page.

    The Hugging Face dataset (``hf``) is always written, since training reads it. Bad choices raise
    BadInputError naming them (fractions that do not add up to 1, an unknown format, a base model
    that is neither the bundled one nor a model folder; see :func:`training.base_model.check_base_model`).
    """
    from training.base_model import check_base_model
    from training.export_formats import format_names

    export = base.export.model_dump()
    train = base.train.model_dump()
    if formats is not None:
        unknown = [f for f in formats if f not in format_names()]
        if unknown:
            raise BadInputError(
                f"unknown export format {', '.join(unknown)}; choose from {', '.join(format_names())}"
            )
        export["formats"] = list(dict.fromkeys(["hf", *formats]))
    if fractions is not None:
        export["fractions"] = fractions
    if include_unreviewed is not None:
        export["include_unreviewed"] = include_unreviewed
    if select is not None:
        export["select"] = select or None
    if base_model is not None:
        train["base_model"] = check_base_model(base_model)
    try:
        return ShipConfig.model_validate({"export": export, "train": train})
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise BadInputError(f"these settings cannot be used: {problems}") from None


def write_ship_config(config: ShipConfig, path: Path | str) -> Path:
    """Save a ship config as YAML (what a background ship job reads with ``params["config"]``)."""
    return atomic_write_text(path, yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))


def load_ship_config(path: Path | str | None = None) -> ShipConfig:
    """Read a ship config from YAML (sections ``export`` and ``train``), or the defaults."""
    if path is None:
        return ShipConfig()
    file = Path(path)
    if not file.exists():
        raise NotFoundError(f"ship config file {file} does not exist")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        return ShipConfig.model_validate(data)
    except yaml.YAMLError as exc:
        raise BadInputError(f"cannot parse the config: {exc}", where=str(file)) from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BadInputError(f"invalid ship config: {problems}", where=str(file)) from None


@dataclass
class ShipResult:
    """What ship produced; :meth:`to_json` is the shape of `pairsmith ship --json`."""

    run_dir: Path
    stages: dict[str, dict[str, Any]]
    report: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    """What the run said first: a clean set that dedup or quality flags would collapse."""

    def to_json(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "export_dir": str(self.run_dir / "export"),
            "adapter_dir": str(self.run_dir / "adapter"),
            "report": str(self.run_dir / "eval" / "report.json"),
            "stages": self.stages,
            "primary_metric": self.report.get("primary_metric"),
            "base": self.report.get("base", {}).get(self.report.get("primary_metric", ""), None),
            "tuned": self.report.get("tuned", {}).get(self.report.get("primary_metric", ""), None),
            "warnings": list(self.warnings),
        }


def read_state(run_dir: Path | str) -> dict[str, Any]:
    path = Path(run_dir) / STATE_FILE
    if not path.exists():
        return {"stages": {}}
    state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return state


@contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``run_dir`` (released by the OS if the process dies)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    handle = (run_dir / ".lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ConflictError(
            f"another process is writing {run_dir}; wait for it or choose another --out"
        ) from None
    try:
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def check_ship_allowed(
    project_dir: Path | str, *, user: str | None = None, api_key: str | None = None, action: str | None = None
) -> None:
    """PermissionDeniedError unless ``user`` (or, on Argilla, the key's owner) may export, train and
    ship (or ``action``, for other owner-only work such as analysis)."""
    store = open_store(project_dir, api_key=api_key)
    try:
        require_owner_for(store, action or SHIP_ACTION, user)
    finally:
        store.close()


def ship(
    project_dir: Path | str,
    run_dir: Path | str,
    *,
    include_unreviewed: bool = False,
    select: int | None = None,
    config: ShipConfig | None = None,
    progress: ProgressCallback | None = None,
    user: str | None = None,
    api_key: str | None = None,
) -> ShipResult:
    """Export the clean set, train an adapter and evaluate it, into ``run_dir``; resumable.

    ``run_dir`` ends up holding ``export/``, ``adapter/``, ``eval/report.json`` and
    ``state.json``. Without ``config`` the project's ``ship.yaml`` is used when it has one, else
    the defaults. ``include_unreviewed`` and ``select`` (keep the N best training records, see
    training/selection.py) override the config's export section. The config is saved as
    ``ship_config.yaml``; a re-run resumes at the first unfinished stage.

    Only owners ship: ``user`` is the signed-in person (None for the CLI on a local project) and
    ``api_key`` opens an Argilla project with that person's key (else ``ARGILLA_API_KEY``); an
    annotator gets PermissionDeniedError before anything is written, also when resuming.
    """
    check_ship_allowed(project_dir, user=user, api_key=api_key)
    config = config or project_ship_config(project_dir)
    overrides: dict[str, Any] = {"include_unreviewed": True} if include_unreviewed else {}
    if select is not None:
        overrides["select"] = select
    if overrides:
        export = ExportConfig.model_validate(config.export.model_dump() | overrides)
        config = config.model_copy(update={"export": export})
    run = Path(run_dir)
    if not read_state(run)["stages"].get("export", {}).get("done"):
        # Refuse before anything is written: a clean set too small for its splits never reaches training.
        store = open_store(project_dir, api_key=api_key)
        try:
            preflight_export(store, config.export)
        finally:
            store.close()
    say: Callable[[dict[str, Any]], None] = progress or (lambda _: None)
    with run_lock(run):
        state = read_state(run)
        state.setdefault("project_dir", str(Path(project_dir).resolve()))
        atomic_write_text(
            run / "ship_config.yaml", yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
        )

        def mark(status: str, **extra: Any) -> None:
            state.update(status=status, updated_at=datetime.now(UTC).isoformat(), **extra)
            atomic_write_json(run / STATE_FILE, state)

        def finish(stage: str, result: dict[str, Any]) -> None:
            state["stages"][stage] = {"done": True, "finished_at": datetime.now(UTC).isoformat(), **result}
            atomic_write_json(run / STATE_FILE, state)

        mark("running", error=None, failed_stage=None)
        stage = "export"
        try:
            if not state["stages"].get("export", {}).get("done"):
                say({"stage": "export", "message": "selecting the clean set", "fraction": 0.0, "eta_s": None})
                store = open_store(project_dir, api_key=api_key)
                try:
                    collapse = select_clean_set(store, config.export).collapse
                    if collapse is not None:
                        # Said before anything is exported or trained, and kept with the run.
                        state["warnings"] = [collapse.message()]
                        atomic_write_json(run / STATE_FILE, state)
                        say(
                            {"stage": "export", "fraction": 0.0, "eta_s": None, "warning": collapse.message()}
                        )
                    result = export_clean_set(
                        store, run / "export", config.export, project_dir=project_dir, user=user
                    )
                    schema = store.get_project().output_schema
                finally:
                    store.close()
                if schema is not None:
                    atomic_write_json(run / SCHEMA_FILE, schema)
                finish(
                    "export",
                    {"counts": result.counts, "version": result.version.name, "hash": result.export_hash},
                )

            stage = "train"
            if not state["stages"].get("train", {}).get("done"):
                trained = train_adapter(
                    run / "export", run, config.train, progress=within(STAGE_SPANS["train"], progress)
                )
                finish("train", {"steps": trained.steps, "eval_loss": trained.metrics["eval_loss"]})

            stage = "eval"
            if not state["stages"].get("eval", {}).get("done"):
                report = evaluate_run(
                    run, config=config.train, progress=within(STAGE_SPANS["eval"], progress)
                )
                finish("eval", {"primary_metric": report["primary_metric"]})
            else:
                from training.report import load_report

                report = load_report(run)
        except BaseException as exc:
            cancelled = isinstance(exc, KeyboardInterrupt | SystemExit)
            mark(
                "cancelled" if cancelled else "failed",
                error=None if cancelled else (str(exc) or type(exc).__name__)[:2000],
                failed_stage=stage,
            )
            raise
        mark("succeeded", error=None, failed_stage=None)
    return ShipResult(run_dir=run, stages=state["stages"], report=report, warnings=state.get("warnings", []))
