"""What the benchmarks share: the default proof run in a subprocess, the yardstick (one generate() of 32 new tokens), and
after pytest-benchmark's timing table, the figures each benchmark records (tokens per second, memory, the proof's ratio)."""

import os
import subprocess
import sys
import time

import pytest
import torch

from genspec import PROOF_HOME

NEW_TOKENS = 32


def run_proof(settings, dtype: str, environment=None, plugins=()) -> tuple[float, int]:
    """(wall seconds, peak resident bytes) of the default proof (`pytest spec`, this run's --model and --device) in a subprocess."""
    command = [sys.executable, "-m", "pytest", "spec", "-q", "-p", "no:cacheprovider", *plugins, "--model", settings.model, "--dtype", dtype,
               "--device", settings.device, "--stand-in-cache", str(settings.cache_root)]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=PROOF_HOME, env=os.environ | (environment or {}), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, f"the proof did not pass (exit code {process.returncode}): its time would not be the proof's"
    return time.perf_counter() - start, usage.ru_maxrss * 1024  # kilobytes on Linux


def generate_seconds(model, tokenizer, device: str) -> float:
    """The yardstick: one greedy generate() of exactly 32 new tokens after "how are you?", warm."""
    ids = tokenizer("how are you?", return_tensors="pt")["input_ids"].to(device)
    start = time.perf_counter()
    with torch.inference_mode():
        model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, min_new_tokens=NEW_TOKENS, max_new_tokens=NEW_TOKENS)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


@pytest.fixture(scope="session")
def proof_run():
    """`proof_run(settings, dtype, environment=None, plugins=())`: (wall seconds, peak resident bytes) of the default proof."""
    return run_proof


@pytest.fixture(scope="session")
def yardstick():
    """`yardstick(model, tokenizer, device)`: seconds of one generate() of 32 new tokens."""
    return generate_seconds


# extra_info key -> column heading
SPEED_COLUMNS = {
    "tokens_per_second": "tokens/s",
    "bandwidth_bound_share": "share of bound",
    "spread_percent": "spread %",
    "loop_speed_over_generate_median": "loop speed / generate",
    "ratio_spread_percent": "ratio spread %",
}


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)  # pytest-benchmark's results of this run
    rows = [bench for bench in (session.benchmarks if session else []) if bench.extra_info]
    for bench in rows:
        if "parts_GB" in bench.extra_info:  # benchmarks/test_memory.py
            info = bench.extra_info
            terminalreporter.section("memory of the default proof")
            terminalreporter.write_line(f"peak resident {info['peak_rss_GB']} GB = {info['peak_over_weights']} × the weights ({info['weights_GB']} GB); "
                                        f"{info['proof_seconds']} s = {info['proof_over_generate_32']} × generate-32 ({info['generate_32_seconds']} s)")
            for part, gigabytes in info["parts_GB"].items():
                terminalreporter.write_line(f"  {part:<36} {gigabytes:>6} GB  {gigabytes / info['weights_GB']:.2f} × the weights")
        if "proof_over_generate_32" in bench.extra_info and "pairs" in bench.extra_info:  # benchmarks/test_proof_speed.py
            info = bench.extra_info
            terminalreporter.section(f"the proof against generate-32, {info['dtype']}")
            terminalreporter.write_line(f"proof ÷ generate-32: {info['proof_over_generate_32']} (median of {len(info['pairs'])} pairs, "
                                        f"{min(info['ratios'])}–{max(info['ratios'])})")
            for proof, generate in info["pairs"]:
                terminalreporter.write_line(f"  proof {proof} s beside generate-32 {generate} s: {proof / generate:.1f}")
        if "seconds_per_family" in bench.extra_info:  # benchmarks/test_families_speed.py
            info = bench.extra_info
            terminalreporter.section("genspec families, the whole release")
            terminalreporter.write_line(f"{info['families']} families in {info['minutes']} min on {info['cores']} cores "
                                        f"({info['seconds_per_family']} s a family); rows: {info['rows']}")
    rows = [bench for bench in rows if not {"parts_GB", "pairs", "seconds_per_family"} & set(bench.extra_info)]
    if not rows:
        return
    terminalreporter.section("speed side by side")
    width = max(len(bench.name) for bench in rows)
    terminalreporter.write_line(f"{'benchmark':<{width}}  " + "  ".join(SPEED_COLUMNS.values()))
    for bench in sorted(rows, key=lambda bench: (bench.group or "", bench.name)):
        cells = [f"{bench.extra_info.get(key, ''):>{len(heading)}}" for key, heading in SPEED_COLUMNS.items()]
        terminalreporter.write_line(f"{bench.name:<{width}}  " + "  ".join(cells))
