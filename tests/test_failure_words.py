"""What a user reads when a claim is not proven: for each kind of failure a user can meet, the proof table's line and the claims
report's detail, held word for word to what the line must say — what was expected, what was seen, by how much, and where.

Each case runs the proof in a subprocess on a few claims (`--claims`), as a user runs it, with the fault made as it happens to a
user: a recording edited or cut short in the user's recordings folder, transformers changed (genspec/faults/fake_release.py),
another model, the stand-in placed where the real checkpoint would be. The installed wheel is held to the same words in
tests/test_installed_wheel.py. `pytest -m tool`.
"""

import json
import re
import shutil
from pathlib import Path

import pytest

from genspec.embedded.checkpoint import ensure_stand_in
from genspec.embedded.hub_cache import MANIFEST, place
from genspec.embedded.small_models import write_family_checkpoint
from genspec.reports.snapshots import identity_directory
from genspec.run.loading import HUB_KERNELS
from genspec.run.subprocess_run import run_suite

pytestmark = pytest.mark.tool

S3_RECORDING = Path("test_shapes") / "test_next_token_scores_and_top_1.json"
DRIFT = 0.1  # added to one recorded score: a thousand times S3's float32 tolerance


def table_line(stdout: str, claim: str) -> str:
    """The proof table's line for `claim`, as the terminal shows it (plain: the output is not a terminal)."""
    lines = [line for line in stdout.splitlines() if re.match(rf"{claim} +\S+ ", line)]
    assert len(lines) == 1, f"no single table line for {claim}:\n{stdout[-3000:]}"
    return lines[0]


def verdict(done, report: dict, claim: str) -> tuple[str, str]:
    """(status, detail) of `claim` in the claims report, with the table's line checked to say the same."""
    row = next(row for row in report["claims"] if row["id"] == claim)
    line = table_line(done.stdout, claim)
    assert f" {row['status']} " in line, (line, row["status"])
    shown = line.split(row["status"], 1)[1].strip()
    assert row["detail"].startswith(shown.removesuffix("…")), f"the table and the report differ:\n{line}\n{row['detail']}"
    return row["status"], row["detail"]


@pytest.fixture(scope="module")
def stand_in(settings):
    return ensure_stand_in("embedded", settings.seed, settings.cache_root)


def own_recordings(stand_in, root: Path) -> Path:
    """A copy of the default's shipped float32 recordings in a user's recordings folder, which a run reads before the shipped."""
    copy = identity_directory(stand_in.identity, "float32", root)
    shutil.copytree(identity_directory(stand_in.identity, "float32"), copy)
    return copy


def drift_every_recording(path: Path) -> None:
    """Move S3's first recorded score by DRIFT in every release range's recording, so whichever judges this release drifts."""
    content = json.loads(path.read_text(encoding="utf-8"))
    by_release = content.get("recorded per transformers release", {"": content})
    for recording in by_release.values():
        recording["next_token_score"]["head"][0][0] += DRIFT
    path.write_text(json.dumps(content), encoding="utf-8")


def test_a_drifted_recording_names_the_recording_its_releases_and_both_values(stand_in, settings, tmp_path):
    recordings = own_recordings(stand_in, tmp_path / "recordings")
    drift_every_recording(recordings / S3_RECORDING)
    done, report = run_suite(["--claims", "S3", "--recordings", str(tmp_path / "recordings")], "float32", tmp_path, settings.cache_root)
    status, detail = verdict(done, report, "S3")
    assert status == "failed" and done.returncode == pytest.ExitCode.TESTS_FAILED, (status, detail)
    assert detail.startswith("snapshot differs: on transformers "), detail
    # the recording for the range that holds this release, or, on a release newer than every recording, the nearest
    assert re.search(r"against the (recording for|nearest recording, for) transformers [\d.]+(–[\d.]+)? (\([\d.]+ is not recorded\) )?\(",
                     detail), detail
    assert str(S3_RECORDING) in detail, "the recording's file is named"
    assert re.search(r"next_token_score: 1 of 13 values differ beyond atol=0\.0001 \+ rtol=1e-05·\|recorded\|; largest absolute error "
                     r"0\.1 at head\[0, 0\]: recorded -?[\d.]+, observed -?[\d.]+", detail), detail
    assert "--snapshot-update records it" in detail


@pytest.mark.parametrize("damage, words", [("cut_short", "is cut short"), ("not_json", "is not valid JSON"),
                                           ("key_missing", "lacks next_token_score.top_scores, which this test records")])
def test_a_damaged_recording_is_named_as_damaged_not_as_a_refutation(stand_in, settings, tmp_path, damage, words):
    recordings = own_recordings(stand_in, tmp_path / "recordings")
    path = recordings / S3_RECORDING
    text = path.read_text(encoding="utf-8")
    if damage == "cut_short":
        path.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "not_json":
        path.write_text("<html>rate limited</html>\n", encoding="utf-8")
    else:
        path.write_text(text.replace('"top_scores"', '"top_score_s"'), encoding="utf-8")
    done, report = run_suite(["--claims", "S3", "--recordings", str(tmp_path / "recordings")], "float32", tmp_path, settings.cache_root)
    status, detail = verdict(done, report, "S3")
    assert status == "damaged recording", (status, detail)
    assert detail.startswith(f"{path} {words}"), detail
    assert "The claim's own checks ran and passed" in detail and "--snapshot-update" in detail, detail
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, "a damaged recording still fails the run"
    assert "proven: 0 of the 1 claims that apply to this model (1 damaged recording)" in done.stdout


def fake_release(release: str, claims: str, settings, tmp_path):
    return run_suite(["--claims", claims], "float32", tmp_path, settings.cache_root, extra=["-p", "genspec.faults.fake_release"],
                     environment_extra={"FAKE_TRANSFORMERS_RELEASE": release})


def test_a_near_tie_decided_by_rounding_is_proven_and_says_so(settings, tmp_path):
    done, report = fake_release("batch_near_tie", "G10", settings, tmp_path)
    status, detail = verdict(done, report, "G10")
    assert status == "proven", (status, detail)
    assert re.search(r"batch row 0 and how-are-you-chat alone: 0 steps equal, then a near-tie: at step 0 batch row 0 chose \d+ and "
                     r"how-are-you-chat alone \d+, margins 1\.\d+e-05 and 1\.\d+e-05, within the near-tie bound [\d.e-]+", detail), detail


def test_transformers_raising_inside_a_claim_is_named_as_a_crash_in_transformers(settings, tmp_path):
    done, report = fake_release("rope_breaks", "G1", settings, tmp_path)
    status, detail = verdict(done, report, "G1")
    assert status == "failed", (status, detail)
    assert re.match(r"transformers itself raised RuntimeError: .+ — called as Qwen3ForCausalLM\.(forward|generate)\(\), raised at "
                    r"transformers/models/qwen3/modeling_qwen3\.py:\d+ \(in Qwen3\w+\.\w+\), transformers \d", detail), detail
    assert str(Path.home()) not in detail and "site-packages" not in detail, "no machine paths"


def test_cannot_show_on_the_articles_model_fails_saying_why(settings, tmp_path):
    done, report = fake_release("one_token_everywhere", "G1", settings, tmp_path)
    status, detail = verdict(done, report, "G1")
    assert status == "failed", (status, detail)
    assert detail.startswith("the continuation repeats: 1 distinct tokens of 32, fewer than the 10 that would tell two loops apart "
                             "([13, 13, 13"), detail
    assert detail.endswith("the articles' model (Qwen3-0.6B's configuration and tokenizer) must show every claim: on it a claim it "
                           "cannot show fails"), detail


def test_a_part_another_model_lacks_is_not_applicable_with_the_reason(settings, tmp_path):
    checkpoint = write_family_checkpoint("gpt2", tmp_path / "my-gpt2", settings.cache_root)
    done, report = run_suite(["--model", str(checkpoint), "--claims", "P1,X1"], "float32", tmp_path, settings.cache_root)
    status, detail = verdict(done, report, "P1")
    assert status == "not applicable" and detail.startswith("this tokenizer is not Qwen3's: "), (status, detail)
    status, detail = verdict(done, report, "X1")
    assert status == "not applicable" and "activation is gelu_new" in detail, (status, detail)
    assert done.returncode == pytest.ExitCode.OK
    # Every load, this model's too, is the model's own forward: the header says so where the release could kernelize it.
    assert ("genspec kernels: off: every load computes the model's own forward (use_kernels=False)" if HUB_KERNELS
            else "loads no kernels from the hub") in done.stdout


def test_a_value_claim_off_on_the_real_checkpoint_says_printed_observed_difference_and_tolerance(stand_in, settings, tmp_path):
    directory = tmp_path / "my-qwen3-0.6b"  # the stand-in where a user's real checkpoint would be: its numbers are not the article's
    for file in stand_in.path.iterdir():
        if file.name != MANIFEST:
            place(file, directory / file.name)
    done, report = run_suite(["--model", str(directory), "--claims", "V1"], "bfloat16", tmp_path, settings.cache_root)
    status, detail = verdict(done, report, "V1")
    assert status == "failed", (status, detail)
    assert re.fullmatch(r"top-1 after the how-are-you chat: \d+ '.*' \(-?[\d.]+\); the article printed 9707 'Hello' \(27\.75\); the score "
                        r"differs by [\d.]+, the tolerance in bfloat16 is [\d.]+", detail), detail
