"""The path the suite exists for, end to end: a user's real checkpoint, from the hub cache or a directory.

The full-size stand-in stands where a user's real Qwen3-0.6B would be: in a throwaway Hugging Face
cache under the id `Qwen/Qwen3-0.6B` at a made-up revision (the layout `hf download` leaves), and
as a local directory given with a space (`--model DIR`). The suite then takes exactly the user's
path: every non-value claim is proven, and every value claim is judged against the articles and
fails with its article-against-observed line, since the stand-in's numbers are not the article's.
The user's own caches and genspec's environment variables play no part.

Runs the suite in subprocesses, so it is deselected from the default run: `pytest -m end_to_end`.
"""

import subprocess
from pathlib import Path

import pytest

from genspec import PROOF_HOME
from genspec.embedded.checkpoint import ensure_stand_in
from genspec.embedded.hub_cache import MANIFEST, add_revision, place
from genspec.run import claims
from genspec.run.printed import articles as printed
from genspec.run.subprocess_run import run_suite

REAL_ID = "Qwen/Qwen3-0.6B"
REVISION = "0123456789abcdef0123456789abcdef01234567"  # made up: no such commit exists on the hub


def as_hub_cache(checkpoint: Path, hub_cache: Path) -> None:
    """The checkpoint laid out as `hf download` leaves it: blobs, a snapshot of links to them, refs/main."""
    add_revision(checkpoint, hub_cache, REAL_ID, REVISION)


def as_local_directory(checkpoint: Path, directory: Path) -> None:
    for file in checkpoint.iterdir():
        if file.name != MANIFEST:
            place(file, directory / file.name)


# Where each value claim's printed values are kept in fixtures/articles.json.
PRINTED_VALUES = {"V1": ["next_token"], "V2": ["position_4"], "V3": ["per_position_table"], "V4": ["classification_loop"],
                  "V5": ["hi_chat_reply"], "V6": printed()["values"]["printed_rows"], "V7": printed()["values"]["sampled_outputs"]}


def printed_dtypes(claim_id: str) -> set[str]:
    return {(printed()["values"][value] if isinstance(value, str) else value)["dtype"] for value in PRINTED_VALUES[claim_id]}


def assert_claims_proven_and_values_judged(done: subprocess.CompletedProcess, report: dict, dtype: str) -> None:
    by_status = {row["id"]: row for row in report["claims"]}
    value_ids = {claim.id for claim in claims.catalogue().values() if claim.kind == "value"}
    not_proven = {claim_id: row["detail"] for claim_id, row in by_status.items() if claim_id not in value_ids and row["status"] != "proven"}
    assert not not_proven, f"claims not proven on the real path: {not_proven}\n{done.stdout[-4000:]}"
    assert value_ids == set(PRINTED_VALUES)
    for claim_id in sorted(value_ids):
        row = by_status[claim_id]
        if dtype in printed_dtypes(claim_id):
            # Judged, not skipped: the stand-in's numbers are not the article's, and the line says how they differ.
            assert row["status"] == "failed", (claim_id, row)
            assert "the article printed" in row["detail"] or "could not have been drawn" in row["detail"], (claim_id, row["detail"])
        else:
            # Printed in the other dtype only: the line names the run that judges it.
            assert row["status"] == "skipped" and f"--dtype {printed_dtypes(claim_id).pop()}" in row["detail"], (claim_id, row)
    assert done.returncode == pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="module")
def stand_in(settings):
    return ensure_stand_in("embedded", settings.seed, settings.cache_root)


@pytest.mark.end_to_end
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_hub_cache_path(stand_in, settings, tmp_path, dtype):
    """`pytest --model Qwen/Qwen3-0.6B` on a cache that holds it: the hub id and revision in the header, the claims on trial."""
    as_hub_cache(stand_in.path, tmp_path / "hub")
    done, report = run_suite(["--model", REAL_ID], dtype, tmp_path, settings.cache_root)
    assert f"genspec model: {REAL_ID} -> {REAL_ID}@{REVISION}" in done.stdout  # the header
    assert report["environment"]["identity"] == f"{REAL_ID}@{REVISION}" and report["environment"]["revision"] == REVISION and report["environment"]["fell_back"] is None
    # The same weights as the stand-in, recognised by content under another name.
    assert report["environment"]["weights_sha256"] == stand_in.weights_sha256
    assert_claims_proven_and_values_judged(done, report, dtype)


@pytest.mark.end_to_end
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_local_directory_given_with_a_space(stand_in, settings, tmp_path, dtype):
    """`pytest --model DIR` (a space, not `=`) on a checkpoint directory outside the repository."""
    directory = tmp_path / "my-checkpoint"
    as_local_directory(stand_in.path, directory)
    done, report = run_suite(["--model", str(directory)], dtype, tmp_path, settings.cache_root)
    assert f"genspec model: {directory} -> local-my-checkpoint" in done.stdout
    assert f"rootdir: {PROOF_HOME}" in done.stdout
    assert report["environment"]["weights_sha256"] == stand_in.weights_sha256
    assert_claims_proven_and_values_judged(done, report, dtype)
