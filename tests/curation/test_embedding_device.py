"""Embeddings pick a CUDA device when one is present (fp16, large batches), with no flag; else the CPU.

There is no GPU here, so the detection is faked at its two probes (the driver files and torch's
answer); what the embedder does with the answer is the real code. benchmarks/gpu_check.py runs the
same embedder on a real GPU.
"""

from __future__ import annotations

import pytest

from curation.analysis.embeddings import device
from curation.analysis.embeddings.models import get_embedder
from curation.errors import BadInputError


@pytest.fixture
def gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device, "nvidia_driver_present", lambda: True)
    monkeypatch.setattr(device, "torch_sees_cuda", lambda: True)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device, "nvidia_driver_present", lambda: False)

    def never(*_: object) -> bool:
        raise AssertionError("torch must not be asked when no NVIDIA driver is present")

    monkeypatch.setattr(device, "torch_sees_cuda", never)


def test_with_a_cuda_device_minilm_runs_there_in_fp16_with_large_batches(gpu: None) -> None:
    embedder = get_embedder("minilm")
    assert embedder.device == "cuda"
    assert embedder.precision == "fp16"  # type: ignore[attr-defined]
    assert embedder.batch_size() == device.CUDA_BATCH
    assert embedder._wants_onnx() is False  # type: ignore[attr-defined]  # PyTorch on the GPU
    # Half-precision vectors differ in the third decimal: they never mix with fp32 ones in the cache.
    assert embedder.key.endswith(":fp16") and embedder.key != get_embedder("minilm", device="cpu").key


def test_bf16_on_request_and_the_cpu_when_asked(gpu: None) -> None:
    assert get_embedder("minilm", precision="bf16").key.endswith(":bf16")
    on_cpu = get_embedder("minilm", device="cpu")
    assert on_cpu.device == "cpu" and on_cpu.precision == "fp32"  # type: ignore[attr-defined]
    assert on_cpu.batch_size() == device.CPU_BATCH
    # int8 is a CPU (ONNX) format: it stays there even with a GPU present.
    assert get_embedder("minilm", precision="int8").device == "cpu"


def test_without_a_driver_minilm_stays_on_the_cpu_in_fp32_on_onnx(no_gpu: None) -> None:
    embedder = get_embedder("minilm")
    assert embedder.device == "cpu" and embedder.precision == "fp32"  # type: ignore[attr-defined]
    assert embedder.batch_size() == device.CPU_BATCH
    assert embedder._wants_onnx() is True  # type: ignore[attr-defined]
    assert not embedder.key.endswith((":fp16", ":bf16", ":int8"))


def test_a_driver_that_torch_cannot_use_means_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device, "nvidia_driver_present", lambda: True)
    monkeypatch.setattr(device, "torch_sees_cuda", lambda: False)
    assert device.resolve_device("auto") == "cpu"


def test_hidden_devices_mean_cpu(gpu: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert device.resolve_device("auto") == "cpu"
    assert device.resolve_device("cuda:1") == "cuda:1"  # an explicit choice is kept


def test_half_precision_without_a_gpu_is_refused_with_a_clear_message(no_gpu: None) -> None:
    with pytest.raises(BadInputError, match="fp16 needs a CUDA device"):
        get_embedder("minilm", precision="fp16", device="cpu")
    with pytest.raises(BadInputError, match="none was found"):
        _ = get_embedder("minilm", precision="fp16").device
