"""Snapshots compare what they should: ids and texts exactly, numbers within tolerance, and a damaged file is named."""

import json

import pytest
import torch

from genspec.reports import observations
from genspec.reports.snapshots import ObservationExtension, readable_json
from genspec.run.platform import platform, recording_key

pytestmark = pytest.mark.tool  # checks the tool, not the articles: `pytest -m tool`

ATOL, RTOL = 1e-4, 1e-5


@pytest.fixture
def row():
    return observations.scores(torch.tensor([[0.5, -1.0, 3.0, 2.0, 0.25, 7.0, -2.0, 1.5, 0.0, 4.0]]))


def test_numbers_within_tolerance_match(row):
    nudged = json.loads(json.dumps(row))
    nudged["head"][0][0] += ATOL / 2
    assert observations.compare(row, nudged, ATOL, RTOL) == []


def test_numeric_drift_reports_count_largest_errors_indices_and_top_1_flips(row):
    moved = json.loads(json.dumps(row))
    moved["head"][0][1] += 0.5
    moved["top_tokens"][0][0] = 3
    [drift] = observations.compare(row, moved, ATOL, RTOL)
    assert drift.numeric["differing"] == 1
    assert drift.numeric["largest_abs"] == pytest.approx(0.5)
    assert drift.numeric["first_differing"] == ["head[0, 1]"]
    assert drift.numeric["top1_flips"] == [{"row": 0, "recorded": 5, "observed": 3}]
    assert "top-1 flips row 0: 5 → 3" in drift.message


def test_dtype_then_shape_are_checked_before_values(row):
    other_dtype = dict(row, dtype="bfloat16")
    assert "dtype changed" in observations.compare(row, other_dtype, ATOL, RTOL)[0].message
    other_shape = dict(row, shape=[2, 10])
    assert "shape changed" in observations.compare(row, other_shape, ATOL, RTOL)[0].message


def test_ids_and_texts_compare_exactly():
    [drift] = observations.compare({"ids": [1, 2, 3], "text": "Hello"}, {"ids": [1, 2, 4], "text": "Hello"}, ATOL, RTOL)
    assert drift.path == "ids" and "differs from index 2" in drift.message


def test_a_string_that_differs_is_shown_whole_on_both_sides():
    [drift] = observations.compare({"act_fn": "SiLU()"}, {"act_fn": "SiLUActivation()"}, ATOL, RTOL)
    assert drift.message == "recorded 'SiLU()', observed 'SiLUActivation()' (they differ from character 4)", drift.message


def test_corrupt_snapshot_fails_naming_the_file(tmp_path):
    damaged = tmp_path / "test_something.json"
    damaged.write_text('{"ids": [1, 2')
    extension = ObservationExtension.for_run(tmp_path, ATOL, RTOL)()
    recalled = extension.read_snapshot_data_from_location(snapshot_location=str(damaged), snapshot_name="test_something", session_id="0")
    observed = readable_json({"ids": [1, 2]})
    assert not extension.matches(serialized_data=observed, snapshot_data=recalled)
    [line] = extension.diff_lines(observed, recalled)
    assert str(damaged) in line and "--snapshot-update" in line


def test_readable_json_round_trips(row):
    assert json.loads(readable_json({"row": row, "ids": [1, 2], "text": "é"})) == {"row": row, "ids": [1, 2], "text": "é"}


def test_a_top_1_flip_within_the_tolerance_is_a_tie_not_a_drift():
    tied = observations.scores(torch.tensor([[7.0, 7.0 + ATOL / 2, 1.0, 0.5, 0.25, 0.0]]))
    flipped = json.loads(json.dumps(tied))
    flipped["top_tokens"][0][:2] = flipped["top_tokens"][0][1::-1]
    assert observations.compare(tied, flipped, ATOL, RTOL) == []


def test_what_the_machine_decides_is_recorded_per_platform():
    assert recording_key(None, "bfloat16", "cpu") is None
    assert recording_key("rounding", "float32", "cpu") is None  # float32 margins dwarf the drift between machines
    assert recording_key("generator", "float32", "cuda") == "on-cuda"
    assert recording_key("rounding", "bfloat16", "cpu") == f"on-{platform('cpu')}"
    assert platform("cpu").startswith("cpu-")
    with pytest.raises(ValueError, match="decided_by"):
        recording_key("the weather", "float32", "cpu")


def test_a_run_owns_only_its_own_platforms_recordings(tmp_path):
    extension = ObservationExtension.for_run(tmp_path, ATOL, RTOL)()
    owns = lambda path: extension.owns_snapshot_collection(filepath=str(path), test_location=None)
    assert owns(tmp_path / "test_generation" / "test_x.json")
    # Another platform's recordings: never reported unused, never deleted by --snapshot-update here.
    assert not owns(tmp_path / "on-cuda-sm90" / "test_generation" / "test_x.json")
