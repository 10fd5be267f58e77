"""`pytest -n 2` (pytest-xdist) gives the same proof report as `pytest`: one report, written once, by the process that reports;
and the tests that share the classifier and the greedy runs run in one worker, which computes them once.

Deselected from the default run (`pytest -m end_to_end`): it runs part of the suite twice in subprocesses.
"""

import re

import pytest

from genspec.run.subprocess_run import run_suite

# Modules with claims of every layer: general forms, the article's sizes (not applicable on embedded-small), snapshots;
# and C's tests, which share the classifier and the greedy runs (genspec/run/parallel.py).
PART = ("spec/test_architecture.py", "spec/test_shapes.py", "spec/test_causality.py", "spec/test_classification.py")


@pytest.mark.end_to_end
def test_two_workers_report_the_same_proof(settings, tmp_path):
    pytest.importorskip("xdist", reason="pytest-xdist is not installed: pip install -e '.[parallel]'")
    alone, one = run_suite(["--model", "embedded-small"], "float32", tmp_path, settings.cache_root, paths=PART, report_name="alone.json")
    parallel, two = run_suite(["--model", "embedded-small"], "float32", tmp_path, settings.cache_root, paths=PART,
                              report_name="parallel.json", extra=["-n", "2", "-v"])
    assert alone.returncode == parallel.returncode == pytest.ExitCode.OK, parallel.stdout[-3000:]
    assert "2 workers" in parallel.stdout, parallel.stdout[:2000]
    rows = {row["id"]: (row["status"], row["detail"]) for row in one["claims"]}
    assert {row["id"]: (row["status"], row["detail"]) for row in two["claims"]} == rows
    assert {nodeid: test["outcome"] for nodeid, test in two["tests"].items()} == {nodeid: test["outcome"] for nodeid, test in one["tests"].items()}
    assert sum(status == "proven" for status, _ in rows.values()) >= 10
    # Written once, by the controller: one table in its output.
    assert parallel.stdout.count("genspec proof:") == 1
    # Every test that compares with the classifier ran where the classifier and the greedy runs were computed: one worker.
    ran_on = {nodeid: worker for worker, nodeid in re.findall(r"^\[(gw\d+)\] \[ *\d+%\] \w+ (\S+)", parallel.stdout, flags=re.MULTILINE)}
    sharing = {nodeid: worker for nodeid, worker in ran_on.items() if "test_classification.py" in nodeid and "emoji" not in nodeid}
    assert len(sharing) >= 8 and len(set(sharing.values())) == 1, f"the classifier's tests ran on workers {sharing}"
