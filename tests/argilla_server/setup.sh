#!/usr/bin/env bash
# Install what the `argilla` tests need (argilla-server 2.8.0 in .argilla-venv, Debian's redis-server).
# Idempotent: a second run only checks a marker file. Called by `make argilla-server` (part of `make test`).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PAIRSMITH_PYTHON:-.venv/bin/python}"
exec "$PY" -m tests.argilla_server.install
