"""Parallel runs (`pytest -n N`, pytest-xdist): each expensive shared computation runs in one worker only.

Most of the suite's time is a few session fixtures that many tests compare against (the greedy
runs, the classifier, the seeded draws). Spread test by test, every worker would recompute them.
So the tests that share one of them form a group that goes to one worker, as `--dist loadgroup`
would do if it still worked (pytest 9.2 ignores the node-id suffix it relies on: pytest-xdist#1386):
each worker writes the groups it collected to a file the controller's scheduler reads.

A worker holds the full-size model, the classifier and their activations; `-n auto` starts no more
workers than the machine has cores and memory for, and the cores are shared out among them.
"""

import json
import os
import tempfile
from pathlib import Path

import pytest
import torch

# fixture -> the group of every test that uses it (directly or through another fixture)
SHARED_WORK = {"greedy_runs": "greedy runs", "classifier_and_info": "greedy runs", "sampling": "seeded draws"}
# Peak memory of one worker on the full-size model in float32 (measured: 4.1 GB resident; genspec/run/memory.py).
WORKER_MEMORY = int(4.4e9)
GROUPS_FILE = "genspec_groups_file"  # the worker input naming the file
GROUPS_KEY = pytest.StashKey[Path]()  # the controller's copy of its name


def cores() -> int:
    """The cores this process may run on (all of them where the OS does not say: macOS)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def free_memory() -> int:
    """Bytes of memory free now; where the OS does not say (macOS), all of it."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def group_of(item: pytest.Item) -> str | None:
    return next((SHARED_WORK[name] for name in item.fixturenames if name in SHARED_WORK), None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config) -> int:
    """As many workers as there are cores and memory for; 0 (no workers: one process) where only one fits."""
    workers = min(cores(), free_memory() // WORKER_MEMORY)
    return workers if workers > 1 else 0


def pytest_configure(config):
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:  # a worker: its share of the cores, not a thread per core each
        torch.set_num_threads(max(1, cores() // int(workers)))
    elif getattr(config.option, "numprocesses", None):  # the controller of a parallel run
        handle, name = tempfile.mkstemp(prefix="genspec-groups-", suffix=".json")
        os.close(handle)
        config.stash[GROUPS_KEY] = Path(name)


def pytest_unconfigure(config):
    if GROUPS_KEY in config.stash:
        config.stash[GROUPS_KEY].unlink(missing_ok=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    if GROUPS_KEY in node.config.stash:
        node.workerinput[GROUPS_FILE] = str(node.config.stash[GROUPS_KEY])


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    workerinput = getattr(config, "workerinput", {})
    if GROUPS_FILE in workerinput:  # every worker collects the same tests: the last write is as good as the first
        groups = {item.nodeid: group for item in items if (group := group_of(item))}
        written = Path(workerinput[GROUPS_FILE]).with_suffix(f".{workerinput['workerid']}")
        written.write_text(json.dumps(groups), encoding="utf-8")
        written.replace(workerinput[GROUPS_FILE])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "load" or GROUPS_KEY not in config.stash:  # the default of -n; an explicit --dist is the user's choice
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedWorkScheduling(LoadScopeScheduling):
        """Load scheduling in which the tests sharing an expensive computation are one unit of work."""

        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # read once every worker has collected (scheduling starts after)
                self.groups = json.loads(config.stash[GROUPS_KEY].read_text(encoding="utf-8") or "{}")
            return self.groups.get(nodeid, nodeid)

    return SharedWorkScheduling(config, log)
