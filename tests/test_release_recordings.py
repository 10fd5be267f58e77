"""Snapshots per transformers release range: which recording judges a release, and what `--snapshot-update` writes."""

import pytest
from packaging.version import Version

from genspec.reports import release_recordings
from genspec.reports.release_recordings import BY_RELEASE, Releases

pytestmark = pytest.mark.tool  # checks the tool, not the articles: `pytest -m tool`

SILU, SILU_ACTIVATION = {"act_fn": "SiLU()"}, {"act_fn": "SiLUActivation()"}
BY_RANGE = {BY_RELEASE: {"4.51.3": SILU, "4.57.6–5.23.0": SILU_ACTIVATION}}
same = lambda was, now: was == now


def judged(release: str, content=BY_RANGE, default=None):
    return release_recordings.judging(release_recordings.recordings(content, default), Version(release))


def test_a_release_inside_a_range_is_judged_by_it():
    verdict = judged("5.0.0")
    assert (verdict.releases.label, verdict.observation, verdict.inside) == ("4.57.6–5.23.0", SILU_ACTIVATION, True)
    assert verdict.describe(Version("5.0.0")) == "the recording for transformers 4.57.6–5.23.0"


def test_an_unseen_release_is_judged_by_the_nearest_range_below_and_the_line_says_so():
    newer, between, older = judged("5.24.0"), judged("4.54.1"), judged("4.50.0")
    assert (newer.releases.label, newer.inside) == ("4.57.6–5.23.0", False)
    assert newer.describe(Version("5.24.0")) == "the nearest recording, for transformers 4.57.6–5.23.0 (5.24.0 is not recorded)"
    assert between.observation == SILU  # a behaviour lasts until the release that changes it
    assert older.releases.label == "4.51.3"  # older than every range: the lowest


def test_a_plain_file_is_the_recording_for_the_default_range():
    default = Releases.parse("5.0.0–5.23.0")
    assert judged("5.10.4", SILU_ACTIVATION, default).inside
    assert not judged("5.24.0", SILU_ACTIVATION, default).inside
    assert judged("4.0.0", SILU_ACTIVATION, None).releases is None  # no releases.json: recorded for every release


def test_update_widens_the_range_that_still_matches():
    recorded = release_recordings.recordings(BY_RANGE, None)
    after = release_recordings.updated(recorded, Version("5.24.0"), SILU_ACTIVATION, same, None)
    assert release_recordings.content(after, None) == {BY_RELEASE: {"4.51.3": SILU, "4.57.6–5.24.0": SILU_ACTIVATION}}


def test_update_records_a_changed_release_as_a_new_range_naming_it():
    recorded = release_recordings.recordings(BY_RANGE, None)
    after = release_recordings.updated(recorded, Version("5.24.0"), {"act_fn": "Foo()"}, same, None)
    assert release_recordings.content(after, None)[BY_RELEASE] == {"4.51.3": SILU, "4.57.6–5.23.0": SILU_ACTIVATION, "5.24.0": {"act_fn": "Foo()"}}


def test_update_inside_a_range_overwrites_it_for_a_change_of_the_suite_not_the_library():
    recorded = release_recordings.recordings(BY_RANGE, None)
    after = release_recordings.updated(recorded, Version("5.0.0"), {"act_fn": "Foo()"}, same, None)
    assert release_recordings.content(after, None)[BY_RELEASE]["4.57.6–5.23.0"] == {"act_fn": "Foo()"}


def test_a_plain_file_splits_only_where_a_release_outside_its_range_differs():
    default = Releases.parse("5.0.0–5.23.0")
    plain = release_recordings.recordings(SILU_ACTIVATION, default)
    kept = release_recordings.updated(plain, Version("4.57.6"), SILU_ACTIVATION, same, default)
    assert release_recordings.content(kept, default) == SILU_ACTIVATION  # the default range widens once, for the whole set
    split = release_recordings.updated(plain, Version("4.51.3"), SILU, same, default)
    assert release_recordings.content(split, default) == {BY_RELEASE: {"4.51.3": SILU, "5.0.0–5.23.0": SILU_ACTIVATION}}
    rewritten = release_recordings.updated(plain, Version("5.10.4"), SILU, same, default)
    assert release_recordings.content(rewritten, default) == SILU


def test_a_release_between_two_ranges_joins_the_one_above_when_it_matches_that():
    recorded = release_recordings.recordings({BY_RELEASE: {"4.51.3": SILU, "5.0.0": SILU_ACTIVATION}}, None)
    after = release_recordings.updated(recorded, Version("4.57.6"), SILU_ACTIVATION, same, None)
    assert release_recordings.content(after, None)[BY_RELEASE] == {"4.51.3": SILU, "4.57.6–5.0.0": SILU_ACTIVATION}


def test_a_damaged_releases_file_is_named(tmp_path):
    (tmp_path / "releases.json").write_text('{"transformers": "five"}')
    with pytest.raises(ValueError, match="releases.json is not a release range"):
        release_recordings.read_default_range(tmp_path)
