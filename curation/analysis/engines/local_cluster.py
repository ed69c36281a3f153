"""A throw-away Ray cluster on this machine: `ray start --head` on 127.0.0.1, dashboard off, its own
port and temp dir, stopped by ending its process group (only the processes it started).

For tests and benchmarks; users start their cluster with `ray start` or KubeRay (docs/scale.md).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from curation.errors import BackendError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_cluster(
    num_cpus: int | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """Start a head node; yields (address, process-group id). Workers see ``env`` (PYTHONPATH etc.)."""
    port = _free_port()
    temp_dir = Path(tempfile.mkdtemp(prefix="pairsmith-ray-", dir="/tmp"))
    environ = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", **(env or {}))
    ray_bin = Path(sys.executable).with_name("ray")
    command = [
        str(ray_bin),
        "start",
        "--head",
        "--block",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
    ]
    if num_cpus is not None:
        command.append(f"--num-cpus={num_cpus}")
    process = subprocess.Popen(
        command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            probe = subprocess.run(
                [str(ray_bin), "status", f"--address={address}"],
                env=environ,
                capture_output=True,
                timeout=120,
            )
            if probe.returncode == 0:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise BackendError(f"the local Ray cluster did not start: {probe.stderr.decode()[-400:]}")
            time.sleep(2)
        yield address, process.pid
    finally:
        stop_group(process)
        shutil.rmtree(temp_dir, ignore_errors=True)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Ray starts some workers in sessions of their own)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """End the cluster: its process group and every process below it, SIGTERM then SIGKILL."""
    below = descendants(process.pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        for pid in below:
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        if sig == signal.SIGTERM:
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
            time.sleep(1)
    process.wait()


def group_memory(pgid: int) -> dict[int, tuple[str, int]]:
    """Resident memory (bytes) of every process in a process group, by pid, with its name."""
    out: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            status = (entry / "status").read_text()
            name = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except (OSError, ProcessLookupError):
            continue
        rss = next(
            (int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
        out[int(entry.name)] = (os.path.basename(name)[:60], rss)
    return out
