"""Start argilla-server with the ``pairsmith_sql`` search engine registered (run by the server's venv).

Usage: ``.argilla-venv/bin/python tests/argilla_server/serve.py --host 127.0.0.1 --port 6900``.
Importing the engine module before uvicorn imports the app is what makes the name resolvable.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pairsmith_sql_engine  # noqa: F401  (registers the engine)
import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6900)
    args = parser.parse_args()
    uvicorn.run("argilla_server:app", host=args.host, port=args.port, log_level="warning", workers=1)


if __name__ == "__main__":
    main()
