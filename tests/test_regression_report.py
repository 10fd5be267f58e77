"""The regression report, end to end: two real runs that differ only in dtype, compared.

Runs pytest twice in subprocesses on the small profile, so it is deselected from the default run;
`pytest -m end_to_end` (and CI) runs it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from genspec import PROOF_HOME
from genspec.reports import regression
from genspec.reports.proof_report import generation_settings

REPO = PROOF_HOME
OBSERVING_TESTS = ["spec/test_shapes.py::test_next_token_scores_and_top_1", "spec/test_causality.py::test_later_tokens_do_not_change_dog"]


def run_claims(report: Path, dtype: str) -> None:
    command = [sys.executable, "-m", "pytest", *OBSERVING_TESTS, "-p", "no:cacheprovider", "-q",
               "--model", "embedded-small", "--dtype", dtype, "--claims-report", str(report)]
    done = subprocess.run(command, check=False, cwd=REPO, capture_output=True, text=True, env=os.environ | {"HF_HUB_OFFLINE": "1"}, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.end_to_end
def test_float32_against_bfloat16_names_exactly_what_moved(tmp_path):
    before, after = tmp_path / "float32.json", tmp_path / "bfloat16.json"
    run_claims(before, "float32")
    run_claims(after, "bfloat16")
    output = tmp_path / "regression.md"

    status = regression.main([str(before), str(after), "-o", str(output)])
    strict = regression.main([str(before), str(after), "-o", str(tmp_path / "strict.md"), "--fail-on-drift"])

    report = output.read_text()
    drifted = {d["test"] for d in regression.drifts(json.loads(before.read_text()), json.loads(after.read_text()))}
    assert drifted == set(OBSERVING_TESTS)  # exactly the two observing tests moved
    assert "| dtype | float32 | bfloat16 |" in report
    assert "## Claims whose status changed\n\nNone." in report  # S3 and K1 hold in both dtypes
    assert "| S3 |" in report and "| K1 |" in report and "dtype changed: recorded float32, observed bfloat16" in report
    assert (status, strict) == (0, 1)


@pytest.mark.tool
def test_what_changed_besides_the_weights_is_named(tmp_path):
    """A changed sampling setting and another transformers release are rows of the environment, beside the weights' hash."""
    runs = []
    for name, temperature, release, digest in (("before", 0.6, "5.23.0", "aa"), ("after", 0.7, "5.24.0", "bb")):
        checkpoint = tmp_path / name
        checkpoint.mkdir()
        (checkpoint / "generation_config.json").write_text(json.dumps({"do_sample": True, "temperature": temperature, "top_k": 20,
                                                                      "transformers_version": release}))
        runs.append({"environment": {"weights_sha256": digest * 32, "transformers": release, **generation_settings(checkpoint)},
                     "claims": [], "tests": {}})
    before, after = runs
    markdown = regression.to_markdown([], [], regression.environment_changes(before, after), regression.weights_verdict(before, after))
    assert "| generation_config.temperature | 0.6 | 0.7 |" in markdown
    assert "| transformers | 5.23.0 | 5.24.0 |" in markdown
    assert "Weights changed: sha256 aaaaaaaaaaaa before, bbbbbbbbbbbb after." in markdown
    assert "top_k" not in markdown and "transformers_version" not in markdown  # unchanged, and the file's writer is not a setting


# The packages a proof run needs and a report reader must not: tox's matrix environment installs only `packaging`.
HEAVY = ("torch", "transformers", "numpy", "safetensors", "tokenizers", "huggingface_hub")
WITHOUT_HEAVY = f"""
import runpy, sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {HEAVY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (absent here, as in tox's matrix environment)")
sys.meta_path.insert(0, Absent())
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__")
"""


@pytest.mark.tool
@pytest.mark.parametrize("command", ["genspec.reports.matrix", "genspec.reports.regression"])
def test_reports_are_read_without_the_proofs_packages(tmp_path, command):
    """The matrix and the regression report join proof reports on a machine with no torch or transformers (tox's matrix
    environment, a workflow's join job): reading a report must not import what running the proof needs."""
    paths = []
    for version in ("5.0.0", "5.1.0"):
        report = {"environment": {"transformers": version, "identity": "embedded-small-seed0", "dtype": "float32", "device": "cpu", "torch": "2"},
                  "claims": [{"id": "C1", "kind": "structural", "status": "proven", "detail": "evidence"}], "tests": {}}
        paths.append(tmp_path / f"{version}.json")
        paths[-1].write_text(json.dumps(report), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", WITHOUT_HEAVY, command, *map(str, paths), "-o", str(tmp_path / "out.md")],
                          check=False, cwd=tmp_path, capture_output=True, text=True, env=os.environ | {"PYTHONPATH": str(PROOF_HOME)}, timeout=120)
    assert done.returncode == 0, f"{command} needs a package a report reader does not have:\n{done.stderr[-2000:]}"
    assert (tmp_path / "out.md").exists()
