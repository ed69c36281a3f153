"""Progress reports as people read them: one line per report for the CLI, the job row and its log.

Work reports progress as a dict (``ProgressCallback``): ``stage`` (export, train, eval:base, …),
optionally ``step`` and ``total``, ``loss``, ``eta_s``, a ``message`` for a step without a count
(loading the base model), and ``fraction`` (0–1) for a progress bar.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

ProgressCallback = Callable[[dict[str, Any]], None]

QUIET_ENV = {
    "TQDM_DISABLE": "1",  # tqdm ≥ 4.66 reads TQDM_* for every bar's defaults
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}
"""Set in a job's environment: its log holds our progress lines, not progress bars redrawn with \\r."""


def describe(info: dict[str, Any]) -> str:
    """``train: step 12/90 · loss 1.234 · ETA 40 s`` or ``train: loading the base model``."""
    parts = []
    stage = str(info.get("stage") or "working")
    if info.get("step") is not None and info.get("total"):
        parts.append(f"step {info['step']}/{info['total']}")
    if info.get("message"):
        parts.insert(0, str(info["message"]))
    if info.get("loss") is not None:
        parts.append(f"loss {float(info['loss']):.3f}")
    if info.get("eta_s") is not None:
        parts.append(f"ETA {format_seconds(float(info['eta_s']))}")
    return f"{stage}: {' · '.join(parts)}" if parts else stage


def format_seconds(seconds: float) -> str:
    """``40 s``, ``3 min 5 s``, ``1 h 2 min``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def quiet_progress_bars() -> None:
    """Turn off the progress bars of datasets, transformers and tqdm in this process (job logs)."""
    os.environ.update(QUIET_ENV)
    try:
        from datasets.utils import disable_progress_bars

        disable_progress_bars()
    except ImportError:  # pragma: no cover - datasets is a dependency
        pass
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def within(stage_span: tuple[float, float], progress: ProgressCallback | None) -> ProgressCallback:
    """A callback that maps a stage's own fraction into ``stage_span`` of an overall bar."""
    start, end = stage_span

    def report(info: dict[str, Any]) -> None:
        if progress is None:
            return
        inner = float(info.get("fraction") or 0.0)
        progress({**info, "fraction": start + (end - start) * min(max(inner, 0.0), 1.0)})

    return report
