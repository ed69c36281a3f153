"""Where the analysis runs: ``local`` (this process, :mod:`curation.analysis.pipeline`) or ``ray``
(a Ray cluster, :mod:`curation.analysis.engines.ray_engine`). Both run the same step functions;
the Ray engine is imported only when asked for, so a local-only install never loads ray."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from curation.analysis.embeddings.models import Embedder
from curation.analysis.pipeline import AnalysisReport, AnalysisSettings, Progress, analyze_project
from curation.errors import BadInputError

Engine = Literal["local", "ray"]
ENGINES = ("local", "ray")


def run_analysis(
    project_dir: Path | str,
    *,
    engine: str = "local",
    address: str | None = None,
    settings: AnalysisSettings | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> AnalysisReport:
    """Analyse a project on the chosen engine (``address``: the Ray cluster, only for ``ray``)."""
    if engine == "local":
        if address is not None:
            raise BadInputError("--address names a Ray cluster; add --engine ray to use it")
        return analyze_project(project_dir, settings=settings, embedder=embedder, progress=progress)
    if engine == "ray":
        try:
            from curation.analysis.engines.ray_engine import analyze_project_ray
        except ModuleNotFoundError as exc:
            raise BadInputError(
                f"the ray engine needs Ray ({exc.name} is not installed): pip install 'pairsmith[ray]'"
            ) from None
        return analyze_project_ray(
            project_dir, address=address, settings=settings, embedder=embedder, progress=progress
        )
    raise BadInputError(f"unknown engine '{engine}'; choose one of: {', '.join(ENGINES)}")


def run_prefilter(shards: list[Path], out_dir: Path, **options: object) -> object:
    """`pairsmith prefilter` (:func:`curation.analysis.engines.ray_prefilter.prefilter`), which needs Ray."""
    try:
        from curation.analysis.engines.ray_prefilter import prefilter
    except ModuleNotFoundError as exc:
        raise BadInputError(
            f"prefilter runs on Ray ({exc.name} is not installed): pip install 'pairsmith[ray]'"
        ) from None
    return prefilter(shards, out_dir, **options)  # type: ignore[arg-type]
