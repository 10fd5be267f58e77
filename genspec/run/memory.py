"""How much memory a run will take, said before it loads anything, and how much the machine has free.

Measured on the full-size stand-in (benchmarks/test_memory.py, peak resident memory of the whole default proof in a
subprocess): 4.1 GB in float32 beside 3.0 GB of weights, 3.4 GB in bfloat16 beside 1.5 GB. The process holds about
0.7 GB before any model (torch, transformers, the tokenizer); on top of one copy of the weights, float32 adds about 0.12
of them at its peak, bfloat16 about 0.8 (its beam search: oneDNN repacks the weights for bfloat16 products of several
rows). The estimate rounds up.
"""

import os
import re
from pathlib import Path

import torch

from genspec.stored import stored_shapes

BEFORE_ANY_MODEL = int(0.75e9)  # bytes: torch, transformers, tokenizers, the proof's modules and the tokenizer (measured 0.71 GB)
# The peak past what the process holds before any model, in copies of the weights (measured 1.12 and 1.81, module docstring).
OVER_THE_WEIGHTS = {"float32": 1.2, "bfloat16": 1.85, "float64": 1.2}  # float64 as float32: the same copies, twice the bytes each


def weights_bytes(checkpoint: Path, dtype: str) -> int:
    """One copy of the checkpoint's weights in the run's dtype, from its safetensors headers (no tensor is read)."""
    element = torch.empty((), dtype=getattr(torch, dtype)).element_size()
    return sum(_numel(shape) for shape in stored_shapes(checkpoint).values()) * element


def _numel(shape: tuple) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def needed(checkpoint: Path, dtype: str) -> int:
    """The peak resident memory the proof is expected to reach on this checkpoint in this dtype."""
    return BEFORE_ANY_MODEL + int(OVER_THE_WEIGHTS[dtype] * weights_bytes(checkpoint, dtype))


def available() -> int | None:
    """Bytes the machine can give a new process without swapping: Linux's MemAvailable; elsewhere the free pages; None if unknown."""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemAvailable:\s+(\d+) kB", meminfo.read_text())
        if found:
            return int(found.group(1)) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def shortfall_warning(checkpoint: Path, dtype: str, device: str, model: str) -> str | None:
    """One line where the run will not fit in the memory free now (None where it fits or the machine does not say)."""
    if device != "cpu":
        return None  # the weights live on the GPU; the host holds little beyond the process itself
    need, free = needed(checkpoint, dtype), available()
    if free is None or need <= free:
        return None
    ways = []
    if dtype == "float32":
        ways.append(f"`--dtype bfloat16` needs about {_gb(needed(checkpoint, 'bfloat16'))}")
    if model == "embedded":
        ways.append("`--model embedded-small` about 2.4 GB")
    return (f"genspec memory: this run needs about {_gb(need)} at its peak ({dtype} weights {_gb(weights_bytes(checkpoint, dtype))}), and "
            f"{_gb(free)} is free now: it may swap for minutes or be stopped by the system. Close programs, or run it smaller: "
            + (", ".join(ways) if ways else "a smaller model") + ".")


def _gb(count: int) -> str:
    return f"{count / 1e9:.1f} GB"
