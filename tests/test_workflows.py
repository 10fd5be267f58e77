"""The GitHub workflows, which no run here can execute: each valid against GitHub's workflow schema, the reusable one
callable with a model and releases, and this repository's a call of it over the releases tox runs. `pytest -m tool`."""

import configparser
import json
import re
import subprocess
import sys

import pytest
import yaml

from genspec import PROOF_HOME

pytestmark = pytest.mark.tool

WORKFLOWS = PROOF_HOME / ".github" / "workflows"


def _workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def test_the_workflows_are_valid_github_workflows():
    """check-jsonschema's copy of GitHub's workflow schema accepts every workflow file."""
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           *map(str, sorted(WORKFLOWS.glob("*.yml")))], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_another_repository_calls_the_proof_with_its_model_and_releases():
    """proof.yml is a reusable workflow taking a model and releases; one job per release runs genspec and writes its claims
    report, and a job after them joins the reports into the claims × releases matrix in the summary."""
    workflow = _workflow("proof.yml")
    called = workflow[True]["workflow_call"]["inputs"]  # YAML reads the key `on` as True
    assert {"model", "releases", "genspec"} <= set(called)
    prove = workflow["jobs"]["prove"]
    assert prove["strategy"]["matrix"]["release"] == "${{ fromJSON(inputs.releases) }}"
    commands = "\n".join(step.get("run", "") for step in prove["steps"])
    assert re.search(r"genspec --model \"\$MODEL\".*--claims-report", commands), commands
    joined = workflow["jobs"]["matrix"]
    assert joined["needs"] == "prove" and joined["if"] == "always()"
    assert any("genspec matrix" in step.get("run", "") for step in joined["steps"])
    assert any("GITHUB_STEP_SUMMARY" in step.get("run", "") for step in joined["steps"])


def test_this_repository_runs_the_same_matrix_over_the_releases_tox_runs():
    """genspec.yml calls proof.yml (one definition) on this checkout, over the releases tox.ini pins (plus the newest)."""
    job = _workflow("genspec.yml")["jobs"]["proof"]
    assert job["uses"] == "./.github/workflows/proof.yml" and job["with"]["genspec"] == "."
    tox = configparser.ConfigParser()
    tox.read(PROOF_HOME / "tox.ini", encoding="utf-8")
    pinned = re.findall(r"transformers==([\d.]+)", tox["testenv"]["deps"])
    assert json.loads(job["with"]["releases"]) == [*pinned, "latest"]


def test_every_family_runs_in_shards_joined_into_one_matrix():
    """families.yml proves every family in eight shares and joins their matrices into one, in the run's summary."""
    jobs = _workflow("families.yml")["jobs"]
    shards = jobs["shard"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1))
    assert any(f"--shard ${{{{ matrix.shard }}}}/{len(shards)}" in step.get("run", "") for step in jobs["shard"]["steps"])
    assert jobs["join"]["needs"] == "shard" and any("genspec families --join" in step.get("run", "") for step in jobs["join"]["steps"])
