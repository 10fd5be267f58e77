"""genspec as a user installs it: the wheel built from this checkout, installed (not editable) into a fresh virtual
environment outside the checkout, run as `genspec` from an empty directory — the proof on the embedded default, a tiny
checkpoint as --model DIR recorded into that directory, and the regression report between the two runs.
`pytest -m end_to_end` (it installs torch and transformers into the new environment from the package index's cache)."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from genspec import PROOF_HOME
from genspec.embedded.small_models import write_family_checkpoint

pytestmark = pytest.mark.end_to_end


def _run(command, cwd: Path, environment: dict, timeout=1800) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], check=False, cwd=cwd, capture_output=True, text=True, env=environment, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory, settings):
    """(the environment's bin folder, the installed package's folder, a clean environment for its commands)."""
    root = tmp_path_factory.mktemp("installed")
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("GENSPEC_", "HF_", "PYTHON", "VIRTUAL_ENV"))}
    clean |= {"HF_HOME": str(root / "hf-home"), "HF_HUB_OFFLINE": "1", "GENSPEC_CACHE": str(settings.cache_root)}
    built = _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", root / "dist", PROOF_HOME], root, clean)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((root / "dist").glob("genspec-*.whl"))
    _run([sys.executable, "-m", "venv", root / "venv"], root, clean).check_returncode()
    bin_folder = root / "venv" / ("Scripts" if sys.platform == "win32" else "bin")
    # The same torch and transformers as this run: the installed proof is held to the same verdicts.
    pins = [f"torch=={metadata.version('torch').split('+')[0]}", f"transformers=={metadata.version('transformers')}"]
    done = _run([bin_folder / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, *pins], root, clean)
    assert done.returncode == 0, done.stderr[-3000:]
    where = _run([bin_folder / "python", "-c", "import genspec; print(genspec.PACKAGE)"], root, clean)
    package = Path(where.stdout.strip())
    assert package.parent.name == "site-packages" and PROOF_HOME not in package.parents, package
    return bin_folder, package, clean


def _contents(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_the_installed_proof_runs_anywhere_and_writes_only_where_it_is_run(installed, tmp_path, settings):
    """The proof from the wheel in an empty directory: 46 of 53 claims proven against the shipped recordings; a tiny model's
    recordings land in that directory; nothing in the installation changes; `genspec regression` compares the two runs."""
    bin_folder, package, environment = installed
    work = tmp_path / "empty"
    work.mkdir()
    before = _contents(package)

    default = _run([bin_folder / "genspec", "--claims-report", "default.json"], work, environment)
    assert default.returncode == 0, default.stdout[-3000:] + default.stderr[-2000:]
    assert "proven: 46 of the 53 claims that apply" in default.stdout, default.stdout[-2000:]
    shipped = package / "fixtures" / "snapshots"
    assert f"genspec snapshots: {shipped}" in default.stdout, "the default is judged by the recordings the wheel ships"
    assert "snapshots passed" in default.stdout and "snapshot failed" not in default.stdout, default.stdout[-1500:]

    checkpoint = write_family_checkpoint("qwen3-small", tmp_path / "my-qwen3", settings.cache_root)
    recording = _run([bin_folder / "genspec", "--model", checkpoint, "--snapshot-update", "--claims-report", "mine.json"], work, environment)
    assert recording.returncode == 0, recording.stdout[-3000:]
    recordings = sorted((work / "genspec-recordings").rglob("*.json"))
    assert len(recordings) > 20, f"recordings written in {work}: {recordings}"
    again = _run([bin_folder / "genspec", "--model", checkpoint], work, environment)
    assert again.returncode == 0 and "snapshots passed" in again.stdout, again.stdout[-2000:]
    assert str(work / "genspec-recordings") in again.stdout, "the second run reads the recordings the first wrote"
    before_one_claim = _contents(work / "genspec-recordings")
    one_claim = _run([bin_folder / "genspec", "--model", checkpoint, "--claims", "S3", "--snapshot-update"], work, environment)
    assert one_claim.returncode == 0 and "unused" not in one_claim.stdout, one_claim.stdout[-2000:]
    rewritten = {name for name, digest in _contents(work / "genspec-recordings").items() if before_one_claim.get(name) != digest}
    assert _contents(work / "genspec-recordings").keys() == before_one_claim.keys(), "an update of S3 deleted or added recordings"
    assert {Path(name).name for name in rewritten} <= {"test_next_token_scores_and_top_1.json"}, rewritten

    assert _contents(package) == before, "the runs changed files inside the installation"

    compared = _run([bin_folder / "genspec", "regression", "default.json", "mine.json", "-o", "regression.md"], work, environment)
    assert compared.returncode in (0, 1), compared.stderr  # 1: a claim is worse on the tiny model (its value claims do not apply)
    report = (work / "regression.md").read_text(encoding="utf-8")
    assert "# genspec regression report" in report and "Weights changed" in report, report[:1500]


def test_the_installed_command_says_what_it_cannot_use(installed, tmp_path):
    """Each subcommand, given what it cannot use, ends in one ERROR line and exit code 4, never a traceback."""
    bin_folder, _, environment = installed
    for arguments in (["--model", tmp_path / "nowhere"], ["regression", tmp_path / "nothing.json", tmp_path / "nothing.json"],
                      ["matrix"], ["bisect", "Z9", "4.51.3", "4.57.6"], ["--claims", "Z9"]):
        done = _run([bin_folder / "genspec", *arguments], tmp_path, environment, timeout=600)
        said = (done.stdout + done.stderr).strip().splitlines()
        errors = [line for line in said if line.startswith("ERROR:")]
        assert done.returncode == 4 and len(errors) == 1 and "Traceback" not in done.stderr, (arguments, done.returncode, said[-5:])
    helped = _run([bin_folder / "genspec", "--help"], tmp_path, environment)
    assert helped.returncode == 0 and all(f"genspec {name}" in helped.stdout for name in ("regression", "matrix", "bisect")), helped.stdout


def test_the_installed_proof_words_a_drift_a_damaged_recording_and_a_crash_in_transformers(installed, tmp_path, settings):
    """What a user of the wheel reads (tests/test_failure_words.py holds the checkout to the same words): a drifted recording
    named with its releases and both values, a damaged one named as damaged, transformers' own crash named as such."""
    bin_folder, package, environment = installed
    work = tmp_path / "work"
    shipped = next((package / "fixtures" / "snapshots").glob("embedded-seed0-*")) / "float32"
    own = work / "genspec-recordings" / shipped.parent.name / "float32"  # the user's recordings folder, read before the shipped
    shutil.copytree(shipped, own)
    recording = own / "test_shapes" / "test_next_token_scores_and_top_1.json"
    text = recording.read_text(encoding="utf-8")

    def s3_line(*arguments, extra_environment=None) -> str:
        done = _run([bin_folder / "genspec", "--claims", "S3,G1", *arguments], work, environment | (extra_environment or {}))
        assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout[-3000:]
        return done.stdout

    recording.write_text(json.dumps(_drifted(json.loads(text))), encoding="utf-8")
    said = s3_line()
    assert re.search(r"\nS3 +structural +failed +snapshot differs: on transformers \S+, against the (recording for|nearest recording, for) "
                     r"transformers \S+ (\(\S+ is not recorded\) )?\("
                     r"genspec-recordings/.+/test_next_token_scores_and_top_1\.json\): next_token_score: 1 of 13 values differ beyond "
                     r"atol=0\.0001 \+ rtol=1e-05·\|recorded\|; largest absolute error 0\.1 at head\[0, 0\]", said), said[-3000:]

    recording.write_text(text[: len(text) // 2], encoding="utf-8")
    said = s3_line()
    assert re.search(r"\nS3 +structural +damaged recording genspec-recordings/.+\.json is cut short", said), said[-3000:]

    recording.write_text(text, encoding="utf-8")
    said = s3_line("-p", "genspec.faults.fake_release", extra_environment={"FAKE_TRANSFORMERS_RELEASE": "rope_breaks"})
    assert re.search(r"\nG1 +structural +failed +transformers itself raised RuntimeError: .+ — called as Qwen3ForCausalLM\.\w+\(\), "
                     r"raised at transformers/models/qwen3/modeling_qwen3\.py:\d+", said), said[-3000:]


def _drifted(content: dict) -> dict:
    """S3's first recorded score moved by 0.1 in every release range's recording."""
    for recording in content.get("recorded per transformers release", {"": content}).values():
        recording["next_token_score"]["head"][0][0] += 0.1
    return content
