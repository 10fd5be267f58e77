"""A run that will not fit in the memory free says so in one line of the header, before it loads anything. `pytest -m tool`."""

import os
import subprocess
import sys

import pytest

from genspec import PROOF_HOME
from genspec.run import memory

pytestmark = pytest.mark.tool


def _header(arguments, free_bytes) -> list[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GENSPEC_")}
    environment |= {"HF_HUB_OFFLINE": "1", "GENSPEC_TEST_MEMORY_FREE": str(free_bytes)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "genspec.faults.interruptions", "--collect-only",
                           *arguments], check=False, cwd=PROOF_HOME, capture_output=True, text=True, env=environment, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if line.startswith("genspec memory:")]


def test_a_laptop_with_3_gb_free_hears_why_and_the_way_out(settings):
    """The default proof in float32 (about 4.4 GB at its peak) on a machine with 3 GB free: one line naming both ways out."""
    [line] = _header(["--stand-in-cache", str(settings.cache_root)], 3 * 10**9)
    assert line.startswith("genspec memory: this run needs about 4.4 GB at its peak (float32 weights 3.0 GB), and 3.0 GB is free now"), line
    assert "`--dtype bfloat16` needs about 3.5 GB" in line and "`--model embedded-small` about 2.4 GB" in line, line


def test_a_machine_with_room_hears_nothing(settings):
    assert _header(["--stand-in-cache", str(settings.cache_root)], 16 * 10**9) == []


def test_the_estimate_is_one_copy_of_the_weights_and_the_measured_rest(tmp_path):
    """needed() from the safetensors headers alone: 1000 float32 parameters are 4 kB, a fifth more and what the process holds before."""
    import torch
    from safetensors.torch import save_file
    save_file({"weight": torch.zeros(10, 100)}, str(tmp_path / "model.safetensors"))
    assert memory.weights_bytes(tmp_path, "float32") == 4000 and memory.weights_bytes(tmp_path, "bfloat16") == 2000
    assert memory.needed(tmp_path, "float32") == memory.BEFORE_ANY_MODEL + 4800
