"""An update of some claims re-records those claims and loses nothing else; an update of the whole proof deletes only the
recordings of tests the proof no longer has, and names them.

Run as a user runs it: in a user's recordings folder (`--recordings DIR`, a tiny Qwen3 as `--model DIR`), and in a clone of the
checkout, where the recordings folder is fixtures/snapshots itself. `pytest -m tool`.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from genspec import PROOF_HOME
from genspec.embedded.small_models import write_family_checkpoint
from genspec.run.subprocess_run import run_suite

pytestmark = pytest.mark.tool

S3_RECORDING = Path("test_shapes") / "test_next_token_scores_and_top_1.json"
# Recordings of tests the proof does not have: one in a module it has, one in a platform's folder, one in a module it lacks.
OBSOLETE = (Path("test_shapes") / "test_that_was_removed.json", Path("on-cpu") / "test_generation" / "test_that_was_removed.json",
            Path("test_a_removed_module") / "test_anything.json")


def contents(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.rglob("*")) if path.is_file()}


def place_obsolete(recordings: Path) -> None:
    for path in OBSOLETE:
        (recordings / path).parent.mkdir(parents=True, exist_ok=True)
        (recordings / path).write_text('{"ids": [1, 2, 3]}\n', encoding="utf-8")


def changed(before: dict[str, str], after: dict[str, str]) -> dict[str, str]:
    """Each file that was deleted, added or rewritten, and how."""
    return ({name: "deleted" for name in before.keys() - after.keys()} | {name: "added" for name in after.keys() - before.keys()}
            | {name: "rewritten" for name in before.keys() & after.keys() if before[name] != after[name]})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, settings):
    """(a tiny Qwen3 checkpoint, a user's recordings folder holding its whole proof's recordings and three obsolete ones)."""
    root = tmp_path_factory.mktemp("recorded")
    checkpoint = write_family_checkpoint("qwen3-small", root / "qwen3-small", settings.cache_root)
    done, _ = run_suite(["--model", str(checkpoint), "--snapshot-update", "--recordings", str(root / "recordings")], "float32", root,
                        settings.cache_root)
    assert done.returncode == 0, done.stdout[-3000:]
    [folder] = (root / "recordings").glob("*/float32")
    assert (folder / S3_RECORDING).exists() and len(contents(folder)) > 20, sorted(contents(folder))
    place_obsolete(folder)
    return checkpoint, folder


def test_updating_one_claim_keeps_every_other_recording_in_a_users_folder(recorded, settings, tmp_path):
    checkpoint, folder = recorded
    before = contents(folder)
    done, report = run_suite(["--model", str(checkpoint), "--claims", "S3", "--snapshot-update", "--recordings", str(folder.parent.parent)],
                             "float32", tmp_path, settings.cache_root)
    assert done.returncode == 0, done.stdout[-3000:]
    assert [row["id"] for row in report["claims"] if row["status"] == "proven"] == ["S3"], report["claims"]
    assert set(changed(before, contents(folder))) <= {str(S3_RECORDING)}, changed(before, contents(folder))
    assert "unused" not in done.stdout and "no longer has" not in done.stdout, done.stdout[-2000:]


def test_updating_the_whole_proof_deletes_only_the_recordings_of_tests_it_no_longer_has(recorded, settings, tmp_path):
    checkpoint, folder = recorded
    before = contents(folder)
    done, _ = run_suite(["--model", str(checkpoint), "--snapshot-update", "--recordings", str(folder.parent.parent)], "float32", tmp_path,
                        settings.cache_root)
    assert done.returncode == 0, done.stdout[-3000:]
    assert changed(before, contents(folder)) == {str(path): "deleted" for path in OBSOLETE}, changed(before, contents(folder))
    [line] = [line for line in done.stdout.splitlines() if "no longer has" in line]
    assert line.startswith(f"genspec snapshots: deleted 3 recordings of tests the proof no longer has, from {folder}: "), line
    assert all(str(path) in line for path in OBSOLETE), line


def test_a_run_of_the_whole_proof_names_recordings_of_tests_it_no_longer_has(recorded, settings, tmp_path):
    """Without --snapshot-update nothing is deleted: the line says which recordings are obsolete and how to delete them."""
    checkpoint, folder = recorded
    place_obsolete(folder)
    before = contents(folder)
    done, _ = run_suite(["--model", str(checkpoint), "--recordings", str(folder.parent.parent)], "float32", tmp_path, settings.cache_root)
    assert done.returncode == 0, done.stdout[-3000:]
    assert contents(folder) == before
    [line] = [line for line in done.stdout.splitlines() if "no longer has" in line]
    assert line.startswith(f"genspec snapshots: 3 recordings in {folder} belong to tests the proof no longer has ("), line
    assert line.endswith("--snapshot-update of the whole proof deletes them"), line


def test_updating_one_claim_in_a_clone_keeps_every_other_recording(settings, tmp_path):
    """In a checkout the recordings folder is fixtures/snapshots: `pytest --claims S3 --snapshot-update`, the README's command, in a
    copy of this checkout whose own genspec is the one imported."""
    clone = tmp_path / "clone"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=PROOF_HOME, capture_output=True,
                            text=True, check=True).stdout.split("\0")
    for name in (name for name in listed if name and (PROOF_HOME / name).is_file()):
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROOF_HOME / name, clone / name)
    snapshots = clone / "fixtures" / "snapshots"
    before = contents(snapshots)
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("GENSPEC_", "HF_"))}
    environment |= {"PYTHONPATH": str(clone), "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf-home")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--claims", "S3", "--snapshot-update",
                           "--stand-in-cache", str(settings.cache_root)], check=False, cwd=clone, capture_output=True, text=True, env=environment, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"genspec snapshots: {snapshots}" in done.stdout, "the clone's own genspec ran, reading the clone's recordings"
    kept = changed(before, contents(snapshots))
    assert set(kept) <= {str(next(snapshots.glob("*/float32")).relative_to(snapshots) / S3_RECORDING)}, kept
    assert "unused" not in done.stdout, done.stdout[-2000:]
