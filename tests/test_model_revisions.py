"""`--model REPO@REV`: a revision of a hub model from the local Hugging Face cache, as a model update leaves it there.

A throwaway cache holds two revisions of one repository (the tiny stand-in, the second with another generation config),
refs/main at the newer one and a tag at the older. Each way of naming a revision — a full commit, its first characters as the
hub's pages show them, a branch, a tag — resolves offline to that snapshot; one the cache lacks is one line naming what it
holds. `pytest -m tool`.
"""

import json
import shutil

import pytest

from genspec.embedded.hub_cache import MANIFEST, add_revision
from genspec.run import model_source
from tests.test_model_option import _run_until_it_stops

pytestmark = pytest.mark.tool

REPO_ID = "my-org/qwen3-tiny"
OLD, NEW = "1111111111aaaaaaaaaa2222222222bbbbbbbbbb", "3333333333cccccccccc4444444444dddddddddd"  # made up


@pytest.fixture(scope="module")
def hub_cache(tiny_stand_in, tmp_path_factory):
    root = tmp_path_factory.mktemp("revisions")
    newer = root / "newer-checkpoint"
    shutil.copytree(tiny_stand_in, newer, ignore=shutil.ignore_patterns(MANIFEST))
    settings = json.loads((newer / "generation_config.json").read_text(encoding="utf-8"))
    (newer / "generation_config.json").write_text(json.dumps(settings | {"temperature": 0.7}), encoding="utf-8")
    cache = root / "hub"
    add_revision(tiny_stand_in, cache, REPO_ID, OLD, refs=("v1.0",))
    add_revision(newer, cache, REPO_ID, NEW, refs=("main",))
    return cache


def _resolved(hub_cache, tmp_path, requested):
    return model_source.resolve(requested, seed=0, cache_root=tmp_path, hub_cache=hub_cache)


@pytest.mark.parametrize(("revision", "commit"), [(OLD, OLD), (OLD[:7], OLD), ("v1.0", OLD), ("main", NEW), (NEW[:12], NEW)],
                         ids=["full-commit", "short-commit", "tag", "branch", "short-newer"])
def test_a_revision_resolves_to_its_snapshot(hub_cache, tmp_path, revision, commit):
    source = _resolved(hub_cache, tmp_path, f"{REPO_ID}@{revision}")
    assert source.path.name == commit and source.revision == commit, source
    assert source.identity == f"{REPO_ID}@{commit}" and source.requested == f"{REPO_ID}@{revision}", source
    assert not source.is_stand_in and source.weights_sha256


def test_the_plain_id_takes_what_main_points_at(hub_cache, tmp_path):
    assert _resolved(hub_cache, tmp_path, REPO_ID).revision == NEW


def test_the_two_revisions_share_their_weights_but_not_their_settings(hub_cache, tmp_path):
    old, new = (_resolved(hub_cache, tmp_path, f"{REPO_ID}@{revision}") for revision in ("v1.0", "main"))
    assert old.weights_sha256 == new.weights_sha256
    settings = [json.loads((source.path / "generation_config.json").read_text(encoding="utf-8"))["temperature"] for source in (old, new)]
    assert settings[0] != settings[1] == 0.7


def test_a_revision_the_cache_lacks_is_one_line_naming_what_it_holds(hub_cache, tmp_path):
    with pytest.raises(model_source.ModelSourceError) as missing:
        _resolved(hub_cache, tmp_path, f"{REPO_ID}@v2.0")
    assert str(missing.value) == (f"--model {REPO_ID}@v2.0: revision v2.0 of {REPO_ID} is not in the local Hugging Face cache, which holds "
                                  f"{OLD[:12]} (v1.0); {NEW[:12]} (main). On a machine with network run "
                                  f"`hf download {REPO_ID} --revision v2.0`."), missing.value


def test_a_short_commit_that_begins_two_revisions_asks_for_more(hub_cache, tmp_path):
    twin = "1111111111eeeeeeeeee2222222222ffffffffff"
    snapshots = hub_cache / "models--my-org--qwen3-tiny" / "snapshots"
    add_revision(snapshots / OLD, hub_cache, REPO_ID, twin, refs=())
    try:
        with pytest.raises(model_source.ModelSourceError, match="1111111 begins 2 cached revisions"):
            _resolved(hub_cache, tmp_path, f"{REPO_ID}@1111111")
    finally:
        shutil.rmtree(snapshots / twin)


def test_a_missing_revision_stops_the_run_with_that_line(hub_cache):
    line = _run_until_it_stops(["--model", f"{REPO_ID}@v2.0"], {"HF_HUB_CACHE": str(hub_cache)})
    assert line.startswith(f"ERROR: --model {REPO_ID}@v2.0: revision v2.0 of {REPO_ID} is not in the local Hugging Face cache"), line
