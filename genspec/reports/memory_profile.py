"""Where a run's memory goes: the peak resident memory of each part, for the memory benchmark (benchmarks/test_memory.py).

Loaded with `-p genspec.reports.memory_profile` in the subprocess the benchmark times; never by a plain run. Linux keeps a
process's peak resident set (VmHWM) and lets the process reset it (/proc/self/clear_refs, "5"), so each part's own peak is
read: loading the causal LM before the first test, then each test with the fixtures it builds first (the classifier inside
the first C test). On a GPU, torch's peak of allocated device memory the same way. The parts go to the JSON file named by
GENSPEC_MEMORY_PROFILE; elsewhere than Linux nothing is recorded.
"""

import json
import os
import re
from pathlib import Path

import pytest
import torch

STATUS, CLEAR_REFS = Path("/proc/self/status"), Path("/proc/self/clear_refs")
parts: dict[str, dict] = {}


def _kib(field: str) -> int:
    return int(re.search(rf"{field}:\s+(\d+)", STATUS.read_text()).group(1))


def _reset_peak() -> None:
    CLEAR_REFS.write_text("5")  # the peak resident set starts again from what is resident now
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def _peak() -> dict:
    peak = {"peak_rss_bytes": _kib("VmHWM") * 1024, "rss_after_bytes": _kib("VmRSS") * 1024}
    if torch.cuda.is_available():
        peak["peak_device_bytes"] = torch.cuda.max_memory_allocated()
    return peak


def _measured(name: str):
    _reset_peak()
    yield
    parts[name] = _peak()


ENABLED = STATUS.exists() and CLEAR_REFS.exists() and "GENSPEC_MEMORY_PROFILE" in os.environ


@pytest.hookimpl(wrapper=True)
def pytest_collection_finish(session):
    if not ENABLED:
        return (yield)
    parts["before loading"] = _peak()  # torch, transformers, the tokenizer: what the process holds before any model
    measuring = _measured("loading the causal LM")
    next(measuring)
    try:
        return (yield)
    finally:
        next(measuring, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if not ENABLED:
        return (yield)
    measuring = _measured(item.nodeid)
    next(measuring)
    try:
        return (yield)
    finally:
        next(measuring, None)


def pytest_sessionfinish(session):
    if ENABLED:
        Path(os.environ["GENSPEC_MEMORY_PROFILE"]).write_text(json.dumps(parts, indent=1), encoding="utf-8")
