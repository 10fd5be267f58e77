"""`pytest -n 2` (pytest-xdist) gives the same proof report as `pytest`: one report, written once, by the process that reports.

Deselected from the default run (`pytest -m end_to_end`): it runs part of the suite twice in subprocesses.
"""

import pytest

from genspec.run.subprocess_run import run_suite

# Modules with claims of every layer: general forms, the article's sizes (not applicable on embedded-small), snapshots.
PART = ("spec/test_architecture.py", "spec/test_shapes.py", "spec/test_causality.py")


@pytest.mark.end_to_end
def test_two_workers_report_the_same_proof(settings, tmp_path):
    pytest.importorskip("xdist", reason="pytest-xdist is not installed: pip install -e '.[parallel]'")
    alone, one = run_suite(["--model", "embedded-small"], "float32", tmp_path, settings.cache_root, paths=PART, report_name="alone.json")
    parallel, two = run_suite(["--model", "embedded-small"], "float32", tmp_path, settings.cache_root, paths=PART,
                              report_name="parallel.json", extra=["-n", "2"])
    assert alone.returncode == parallel.returncode == pytest.ExitCode.OK, parallel.stdout[-3000:]
    assert "2 workers" in parallel.stdout, parallel.stdout[:2000]
    rows = {row["id"]: (row["status"], row["detail"]) for row in one["claims"]}
    assert {row["id"]: (row["status"], row["detail"]) for row in two["claims"]} == rows
    assert {nodeid: test["outcome"] for nodeid, test in two["tests"].items()} == {nodeid: test["outcome"] for nodeid, test in one["tests"].items()}
    assert sum(status == "proven" for status, _ in rows.values()) >= 10
    # Written once, by the controller: one table in its output.
    assert parallel.stdout.count("genspec proof:") == 1
