"""Faults lose nothing: an update of the recordings that does not run to its end keeps every recording, whole.

A small Qwen3 as a user's `--model DIR`, its recordings made by a complete `pytest --snapshot-update` into a throwaway folder
(genspec/faults/interruptions.py). Then updates that stop before their end — Ctrl-C after 20 tests, `-x` at a claim that a fake release
breaks (genspec/faults/fake_release.py) — leave every file as it was, and say so; the plain run after them is judged by all of them.
`pytest -m tool`.
"""

import os
import subprocess
import sys

import pytest

from genspec import PROOF_HOME
from genspec.embedded.small_models import write_family_checkpoint

pytestmark = pytest.mark.tool


def _pytest(arguments, environment, tmp_path) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("GENSPEC_", "HF_"))}
    clean |= {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf-home"), **environment}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "genspec.faults.interruptions", "--tb=line", *arguments],
                          check=False, cwd=PROOF_HOME, capture_output=True, text=True, env=clean, timeout=900)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, settings):
    """(arguments, environment, the recordings' folder, their contents): the whole proof recorded once, as a user would."""
    root = tmp_path_factory.mktemp("update")
    checkpoint = write_family_checkpoint("qwen3-small", root / "my-qwen3", settings.cache_root)
    environment = {}
    arguments = ["--model", str(checkpoint), "--stand-in-cache", str(settings.cache_root), "--recordings", str(root / "snapshots")]
    done = _pytest([*arguments, "--snapshot-update"], environment, root)
    assert done.returncode == 0, done.stdout[-3000:]
    files = {path: path.read_bytes() for path in (root / "snapshots").rglob("*.json")}
    assert len(files) > 20, sorted(files)
    return arguments, environment, root, files


def _unchanged(files) -> list[str]:
    return [f"{path.name}: {'deleted' if not path.exists() else 'changed'}" for path, content in files.items()
            if not path.exists() or path.read_bytes() != content]


@pytest.mark.parametrize(("how", "extra", "environment", "exit_code", "why"), [
    ("ctrl-c", [], {"GENSPEC_TEST_INTERRUPT_AFTER": "20"}, pytest.ExitCode.INTERRUPTED, "it was interrupted"),
    ("stopped-by-x", ["-x", "-p", "genspec.faults.fake_release"], {"FAKE_TRANSFORMERS_RELEASE": "state_forgets"}, pytest.ExitCode.TESTS_FAILED,
     "it stopped early"),
], ids=["ctrl-c", "stopped-by-x"])
def test_an_update_that_stops_early_loses_no_recording(recorded, tmp_path, how, extra, environment, exit_code, why):
    arguments, base_environment, _, files = recorded
    done = _pytest([*arguments, "--snapshot-update", *extra], base_environment | environment, tmp_path)
    assert done.returncode == exit_code, done.stdout[-3000:]
    assert not _unchanged(files), f"{how}: {_unchanged(files)}"
    assert f"recordings no test used this time are kept, not deleted: the update did not run to its end ({why}" in done.stdout, done.stdout[-2000:]


def test_the_recordings_still_judge_the_next_run(recorded, tmp_path):
    arguments, environment, _, _ = recorded
    done = _pytest(arguments, environment, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "snapshots passed" in done.stdout and "unused" not in done.stdout, done.stdout[-1500:]
