"""Resume after a killed training run: kill it after its first checkpoint, run again, steps continue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.training.synthetic_task import write_export
from training.config import TrainConfig, save_train_config
from training.train import latest_checkpoint

ROOT = Path(__file__).resolve().parents[2]
TINY = TrainConfig(
    max_steps=6,
    batch_size=2,
    max_length=96,
    eval_steps=2,
    save_steps=2,
    save_total_limit=3,
    logging_steps=1,
    early_stopping_patience=0,
    r=4,
)
SCRIPT = textwrap.dedent(
    """
    import sys
    from training.config import load_train_config
    from training.train import train_adapter
    export, out = sys.argv[1], sys.argv[2]
    train_adapter(export, out, load_train_config(out + "/wanted.yaml"))
    """
)


def start_training(export: Path, out: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(export), str(out)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.mark.slow
def test_killed_training_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export", n_train=16, n_val=2, n_test=2)
    out = tmp_path / "run"
    out.mkdir()
    save_train_config(TINY, out)
    (out / "train_config.yaml").rename(out / "wanted.yaml")

    first = start_training(export, out)
    deadline = time.monotonic() + 400
    while latest_checkpoint(out / "checkpoints") is None:
        assert first.poll() is None, "training ended before its first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint within the time limit"
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    killed_at = latest_checkpoint(out / "checkpoints")
    assert killed_at is not None and not (out / "adapter").exists()
    steps_before = int(killed_at.rsplit("-", 1)[1])
    assert steps_before < TINY.max_steps

    second = start_training(export, out)
    assert second.wait(timeout=600) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resumed_from"] == killed_at
    assert metrics["global_step"] == TINY.max_steps
    losses = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    trained_steps = [e["step"] for e in losses if "loss" in e]
    # Steps up to the checkpoint were trained once; the second process went on from there.
    assert trained_steps.count(1) == 1 and max(trained_steps) == TINY.max_steps
    assert (out / "adapter" / "adapter_model.safetensors").exists()
