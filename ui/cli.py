"""The `pairsmith` command: a thin layer over the library.

Each command parses its arguments, calls one library function, prints, and turns pairsmith's own
errors into a clean exit (code 1, the message on stderr, no traceback). Commands live in
``ui/commands/<area>.py``, each with a ``register(app)`` function.
"""

from __future__ import annotations

import os

import typer

from ui.commands import (
    analysis,
    argilla_sync,
    export,
    importing,
    project,
    review,
    runs,
    serve,
    training,
    workload,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

app = typer.Typer(
    name="pairsmith",
    help="Turn raw input → output pairs into a clean fine-tuning set and a trained, evaluated LoRA adapter.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for module in (project, importing, analysis, review, workload, export, training, runs, argilla_sync, serve):
    module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
