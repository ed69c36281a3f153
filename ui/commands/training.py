"""CLI commands: train, eval, compare, ship and jobs (LoRA training and evaluation, docs/training.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from ui.commands.common import API_KEY, USER, console, print_json, user_errors


def _printer(enabled: bool) -> Any:
    """A progress callback that prints a line (step, loss, ETA) at each new phase and every ~10%."""
    from training.progress import describe

    last: dict[str, Any] = {"phase": None, "tenth": -1}

    def show(info: dict[str, Any]) -> None:
        if not enabled:
            return
        if info.get("warning"):
            console.print(f"Warning: {info['warning']}", style="bold yellow", markup=False, highlight=False)
        phase = (info.get("stage"), info.get("message"))
        tenth = int(10 * float(info.get("fraction") or 0))
        if phase != last["phase"] or tenth != last["tenth"]:
            last.update(phase=phase, tenth=tenth)
            # markup=False: "[train]" would otherwise be read as a rich style tag and vanish.
            console.print(f"{tenth * 10:3d}% {describe(info)}", markup=False, highlight=False)

    return show


def train(
    export_dir: Path = typer.Argument(..., help="An export folder (holding hf/), from `pairsmith export`."),
    out: Path = typer.Option(
        ..., "--out", help="Run folder: adapter/, checkpoints/, logs and metrics go here."
    ),
    config_file: Path = typer.Option(None, "--config", help="Training config (YAML); flags override it."),
    base_model: str = typer.Option(
        None, "--base-model", help="smollm2-135m-instruct, a local HF folder or a hub id."
    ),
    max_steps: int = typer.Option(None, "--max-steps", help="Optimizer steps (overrides --epochs)."),
    epochs: float = typer.Option(None, "--epochs", help="Passes over the training split."),
    learning_rate: float = typer.Option(None, "--lr", help="Peak learning rate."),
    r: int = typer.Option(None, "--r", help="LoRA rank."),
    batch_size: int = typer.Option(None, "--batch-size", help="Examples per step."),
    max_length: int = typer.Option(
        None, "--max-length", help="Tokens per example (longer ones are truncated)."
    ),
    seed: int = typer.Option(None, "--seed", help="Random seed."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object (docs/training.md)."),
) -> None:
    """Train a LoRA adapter on an export; re-running on the same --out resumes from the last checkpoint."""
    from training.config import load_train_config
    from training.train import train_adapter

    with user_errors():
        config = load_train_config(
            config_file,
            base_model=base_model,
            max_steps=max_steps,
            epochs=epochs,
            learning_rate=learning_rate,
            r=r,
            batch_size=batch_size,
            max_length=max_length,
            seed=seed,
        )
        result = train_adapter(export_dir, out, config, progress=_printer(not as_json)).to_json()
    if as_json:
        print_json(result)
        return
    m = result["metrics"]
    console.print(
        f"Adapter saved to {result['adapter_dir']} after {result['steps']} steps: "
        f"validation loss {m['eval_loss']:.4f}, {m['tokens_per_s']} tokens/s."
    )


def evaluate(
    run_dir: Path = typer.Argument(
        ..., help="A run folder holding adapter/ (from `pairsmith train` or `ship`)."
    ),
    export_dir: Path = typer.Option(
        None, "--export", help="Export to evaluate on (default: RUN_DIR/export)."
    ),
    project: Path = typer.Option(None, "--project", help="Project directory: its output schema, and --ab."),
    ab: bool = typer.Option(False, "--ab", help="Also create a blind A/B review of base vs. tuned answers."),
    user: str = USER,
    api_key: str = API_KEY,
    as_json: bool = typer.Option(
        False, "--json", help="Print the report summary as JSON (docs/training.md)."
    ),
) -> None:
    """Generate on the test split with the base and the tuned model; write eval/report.json and report.html."""
    from curation.project import open_store
    from training.ab_review import ab_win_rate, create_ab_review
    from training.evaluate import evaluate_run
    from training.ship import check_ship_allowed

    with user_errors():
        schema = None
        if project is not None and ab and (user is not None or api_key):
            # Creating the A/B review is an owner's act: refuse before minutes of generation.
            check_ship_allowed(project, user=user, api_key=api_key)
        if project is not None:
            store = open_store(project, api_key=api_key)
            schema = store.get_project().output_schema
            store.close()
        win_rate = None
        if project is not None and (run_dir / "eval" / "ab_key.json").exists():
            win_rate = ab_win_rate(project, run_dir)
        report = evaluate_run(
            run_dir, export_dir=export_dir, output_schema=schema, ab=win_rate, progress=_printer(not as_json)
        )
        ab_dir = str(create_ab_review(project, run_dir)) if ab and project is not None else None
    summary = {k: report[k] for k in ("primary_metric", "base", "tuned", "improved", "test_examples", "ab")}
    summary |= {"report": str(run_dir / "eval" / "report.json"), "ab_project": ab_dir}
    if as_json:
        print_json(summary)
        return
    table = Table(title=f"{report['test_examples']} test examples (primary: {report['primary_metric']})")
    for column in ("metric", "base", "tuned"):
        table.add_column(column)
    for name in report["tuned"]:
        table.add_row(name, f"{report['base'].get(name, float('nan')):.4f}", f"{report['tuned'][name]:.4f}")
    Console().print(table)
    console.print(f"Report: {run_dir / 'eval' / 'report.html'}")
    if ab_dir:
        console.print(f"A/B review created at {ab_dir}")


def compare(
    run_dirs: list[Path] = typer.Argument(..., help="Run folders with eval/report.json."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
) -> None:
    """Compare evaluated runs on their primary metric."""
    from training.report import compare_runs

    with user_errors():
        rows = compare_runs(list(run_dirs))
    if as_json:
        print_json(rows)
        return
    table = Table(title="Runs")
    for column in ("run", "primary_metric", "base", "tuned", "gain"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(f"{row[c]:.4f}" if isinstance(row[c], float) else str(row[c]) for c in table.columns_names())
        )
    Console().print(table)


def ship(
    directory: Path = typer.Argument(..., help="The project directory.", file_okay=False),
    out: Path = typer.Option(..., "--out", help="Run folder: export/, adapter/ and eval/ go here."),
    include_unreviewed: bool = typer.Option(
        False, "--include-unreviewed", help="Also take unlabeled records (still deduplicated and filtered)."
    ),
    select: int = typer.Option(
        None,
        "--select",
        min=1,
        help="Train on only the N records that best cover the data and are of the highest quality.",
    ),
    config_file: Path = typer.Option(
        None,
        "--config",
        help="Ship config (YAML with export: and train: sections); default: DIR/ship.yaml if present.",
    ),
    background: bool = typer.Option(False, "--background", help="Run as a background job; print its id."),
    user: str = USER,
    api_key: str = API_KEY,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object (docs/training.md)."),
) -> None:
    """Export, train and evaluate in one go; re-running on the same --out resumes the first unfinished stage."""
    from training.jobs import start_job
    from training.ship import load_ship_config
    from training.ship import ship as run_ship

    with user_errors():
        if background:
            params = {
                "run_dir": str(out.resolve()),
                "include_unreviewed": include_unreviewed,
                "select": select,
            }
            params["config"] = str(config_file.resolve()) if config_file else None
            job_id = start_job(directory, "ship", params, user=user, api_key=api_key)
            result: dict[str, Any] = {"job_id": job_id}
        else:
            config = load_ship_config(config_file) if config_file else None
            result = run_ship(
                directory,
                out,
                include_unreviewed=include_unreviewed,
                select=select,
                config=config,
                progress=_printer(not as_json),
                user=user,
                api_key=api_key,
            ).to_json()
    if as_json:
        print_json(result)
    elif background:
        console.print(
            f"Started job {result['job_id']}; follow it with `pairsmith jobs {directory} show {job_id}`."
        )
    else:
        console.print(
            f"Done: {result['run_dir']}. {result['primary_metric']}: base {result['base']:.4f} → "
            f"tuned {result['tuned']:.4f}. Report: {result['report']}"
        )


def jobs(
    directory: Path = typer.Argument(..., help="The project directory.", file_okay=False),
    action: str = typer.Argument("list", help="list, show, cancel or resume."),
    job_id: str = typer.Argument(None, help="The job id (for show, cancel and resume)."),
    user: str = USER,
    api_key: str = API_KEY,
    as_json: bool = typer.Option(False, "--json", help="Print JSON (docs/training.md)."),
) -> None:
    """List, show, cancel or resume background jobs (ship, train, eval, analyze).

    Resuming a ship or train job checks again that --user (or the --api-key's owner) may ship.
    """
    from training import jobs as runner

    if action not in ("list", "show", "cancel", "resume"):
        typer.echo(f"Error: unknown action '{action}'; choose list, show, cancel or resume", err=True)
        raise typer.Exit(code=2)
    if action != "list" and not job_id:
        typer.echo(f"Error: `{action}` needs a JOB_ID; see `pairsmith jobs {directory} list`", err=True)
        raise typer.Exit(code=2)
    with user_errors():
        if action == "list":
            rows: Any = runner.list_jobs(directory)
        elif action == "resume":
            rows = runner.resume_job(directory, job_id, user=user, api_key=api_key)
        else:
            act = {"show": runner.get_job, "cancel": runner.cancel_job}[action]
            rows = act(directory, job_id)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"Jobs in {directory}")
    for column in ("id", "kind", "status", "progress", "message", "created"):
        table.add_column(column)
    for row in rows if isinstance(rows, list) else [rows]:
        table.add_row(
            row["id"], row["kind"], row["status"], f"{row['progress']:.0%}", row["message"], row["created"]
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("train")(train)
    app.command("eval")(evaluate)
    app.command("compare")(compare)
    app.command("ship")(ship)
    app.command("jobs")(jobs)
