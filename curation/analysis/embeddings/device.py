"""Where embeddings run: a CUDA device when one is present, else the CPU, with no flag needed.

On a CUDA device the transformer runs on PyTorch in half precision (fp16 by default; bf16 on
request) with large batches; on a CPU it runs on ONNX Runtime in float32
(curation/analysis/embeddings/onnx.py). Detection costs nothing on a machine without an NVIDIA
driver: torch (seconds to import) is only asked when the driver is there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

Device = Literal["cpu", "cuda"]

_DRIVER_FILES = (Path("/proc/driver/nvidia/version"), Path("/dev/nvidia0"), Path("/dev/nvidiactl"))

CPU_BATCH = 32
"""Texts per batch on a CPU: bigger batches pad more and gain nothing on two cores."""
CUDA_BATCH = 256
"""Texts per batch on a GPU: enough to keep the device busy; MiniLM at 128 tokens needs < 1 GiB."""


def nvidia_driver_present() -> bool:
    """True when the machine shows an NVIDIA driver (its /proc entry or device nodes)."""
    return any(path.exists() for path in _DRIVER_FILES)


def torch_sees_cuda() -> bool:
    """True when torch can use a CUDA device (False when torch is missing or built for CPU only)."""
    try:
        import torch
    except ImportError:
        return False
    try:
        return bool(torch.cuda.is_available())
    except Exception:  # a broken driver raises from inside torch; the CPU still works
        return False


def cuda_available() -> bool:
    """True when embeddings can run on a CUDA device; ``CUDA_VISIBLE_DEVICES=""`` hides it."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) == "":
        return False
    return nvidia_driver_present() and torch_sees_cuda()


def resolve_device(requested: str) -> str:
    """``auto`` → ``cuda`` when :func:`cuda_available`, else ``cpu``; anything else as given."""
    if requested != "auto":
        return requested
    return "cuda" if cuda_available() else "cpu"


def default_batch_size(device: str) -> int:
    return CPU_BATCH if device == "cpu" else CUDA_BATCH
