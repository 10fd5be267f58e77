"""Which kernels a run computes with: the key under which device-decided observations are recorded.

Two machines give the same scores only up to rounding (genspec/run/tolerances.py), so what the
rounding decides differs between them: which token wins an exact bfloat16 tie, and every step
after it. A seeded draw is the device's own: CUDA draws from another generator than the CPU.
As transformers keys its integration tests' expected values by device type and compute
capability (`Expectations` in transformers.testing_utils), observations the machine decides are
recorded per platform:

- cuda: the compute capability (`cuda-sm90` for an H100): other architectures pick other kernels.
- cpu: the vector instruction set torch dispatches to (`cpu-avx2`, `cpu-avx512`; `ATEN_CPU_CAPABILITY`
  changes it) and whether oneDNN has bfloat16 units to use (`-bf16`): without them bfloat16 is
  emulated in float32 and rounded per operation, with them it is not; and whether it has Intel's
  AMX tiles (`-amx`), whose bfloat16 matrix products accumulate in another order (measured: on an
  AMX Xeon the stand-in's greedy reply parts from an AVX512-BF16 machine's at step 19 in bfloat16). Thread count is not part of
  the key: measured on the stand-in in bfloat16, 1 and 2 threads give bitwise equal logits.
"""

from functools import cache

import torch


@cache
def platform(device: str) -> str:
    if device == "cuda":
        major, minor = torch.cuda.get_device_capability()
        return f"cuda-sm{major}{minor}"
    units = "-bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else ""
    tiles = "-amx" if getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)() else ""
    return f"cpu-{torch.backends.cpu.get_cpu_capability().lower()}{units}{tiles}"


def recording_key(decided_by: str | None, dtype: str, device: str) -> str | None:
    """The sub-directory an observation is recorded under, or None where every machine must agree.

    decided_by: None (scores, shapes, texts of the prompt: compared everywhere within tolerance),
    "generator" (seeded draws), "rounding" (tokens chosen by argmax, and what follows from them).
    In float32 rounding decides nothing on the stand-in or the real weights: the smallest top-1
    margin on the greedy paths (0.0029) is thirty times the largest drift between machines (1e-4).
    """
    if decided_by is None or (decided_by == "rounding" and dtype in ("float32", "float64")):
        return None
    if decided_by == "generator" and dtype in ("float32", "float64"):
        return f"on-{device}"  # the CPU generator draws the same on every CPU, given the same float32 scores
    if decided_by not in ("generator", "rounding"):
        raise ValueError(f"decided_by must be None, 'generator' or 'rounding', not {decided_by!r}")
    return f"on-{platform(device)}"
