"""Install what the Argilla tests need: argilla-server 2.8.0 in its own venv, and Debian's redis-server.

Idempotent and fast when already done (a marker file records the pinned requirements; a second run
only checks it). Run it before the tests that carry the ``argilla`` marker::

    .venv/bin/python -m tests.argilla_server.install

argilla-server lives apart from pairsmith's venv because its pins (click<8.2, huggingface-hub<1,
datasets<4) clash with ours; the tests talk to it over HTTP only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("PAIRSMITH_ARGILLA_VENV", REPO / ".argilla-venv"))
REQUIREMENTS = ["argilla-server==2.8.0", "click<8.2", "huggingface-hub<1", "datasets<4"]
MARKER = VENV / ".pairsmith-installed.json"


def server_python() -> Path:
    return VENV / "bin" / "python"


def venv_ready() -> bool:
    if not server_python().exists() or not MARKER.exists():
        return False
    try:
        return json.loads(MARKER.read_text(encoding="utf-8")).get("requirements") == REQUIREMENTS
    except (OSError, json.JSONDecodeError):
        return False


def install_venv() -> None:
    """Create ``.argilla-venv`` and install the pinned server (skipped when the marker matches)."""
    if venv_ready():
        return
    started = time.monotonic()
    python = shutil.which("python3.11") or sys.executable
    if not server_python().exists():
        subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [
            str(server_python()),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *REQUIREMENTS,
        ],
        check=True,
    )
    MARKER.write_text(json.dumps({"requirements": REQUIREMENTS}) + "\n", encoding="utf-8")
    print(f"argilla-server installed in {VENV} ({time.monotonic() - started:.0f} s)", file=sys.stderr)


def redis_binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


def install_redis() -> None:
    """``apt-get install redis-server`` when the binary is missing (needs root, as on CI)."""
    if redis_binary():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(["apt-get", "install", "-y", "-q", "redis-server"], env=env, check=False)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "redis-server"], env=env, check=True)


def main() -> int:
    install_redis()
    install_venv()
    print(f"argilla test server ready to start: {server_python()}, {redis_binary()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
