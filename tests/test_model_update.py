"""A model update, end to end: two revisions of one hub model in the local cache, each proven by revision, and the regression
report between them.

The full-size stand-in stands for Qwen/Qwen3-0.6B at an old revision (tagged v1.0); the new revision, which refs/main points
at, has its head nudged by 1 % (a fine-tune's worth of change) and its generation config's temperature moved from the model
card's 0.6 to 0.7. `pytest --model Qwen/Qwen3-0.6B@<old commit, short>` and `@main` run the claims that read the weights and
the settings, and `genspec-regression` between their reports names both commits, both weights' hashes, the changed setting,
the claim whose status changed (G5, the model card's settings) and the observations that drifted. `pytest -m end_to_end`.
"""

import json

import pytest
from safetensors.torch import load_file, save_file

from genspec.embedded.checkpoint import ensure_stand_in
from genspec.embedded.hub_cache import MANIFEST, add_revision, place
from genspec.reports import regression
from genspec.run.subprocess_run import run_suite

pytestmark = pytest.mark.end_to_end

REPO_ID = "Qwen/Qwen3-0.6B"
OLD, NEW = "a" * 7 + "1" * 33, "b" * 7 + "2" * 33  # made-up commits
CLAIMS = "G5,S3,K1"  # the model card's sampling settings; the next token's scores; the scores of "dog"


@pytest.fixture(scope="module")
def hub_cache(settings, tmp_path_factory):
    stand_in = ensure_stand_in("embedded", settings.seed, settings.cache_root)
    root = tmp_path_factory.mktemp("model-update")
    newer = root / "newer"
    for file in stand_in.path.iterdir():
        if file.name not in (MANIFEST, "model.safetensors", "generation_config.json"):
            place(file, newer / file.name)
    tensors = load_file(str(stand_in.path / "model.safetensors"))
    tensors["lm_head.weight"] = tensors["lm_head.weight"] * 1.01
    save_file(tensors, str(newer / "model.safetensors"), metadata={"format": "pt"})
    card = json.loads((stand_in.path / "generation_config.json").read_text(encoding="utf-8"))
    (newer / "generation_config.json").write_text(json.dumps(card | {"temperature": 0.7}, indent=2), encoding="utf-8")
    cache = root / "hub"
    add_revision(stand_in.path, cache, REPO_ID, OLD, refs=("v1.0",))
    add_revision(newer, cache, REPO_ID, NEW, refs=("main",))
    return cache


def test_a_model_update_by_revision_with_its_regression_report(hub_cache, settings, tmp_path):
    reports = {}
    for name, revision in (("before", OLD[:7]), ("after", "main")):
        done, report = run_suite(["--model", f"{REPO_ID}@{revision}", "--claims", CLAIMS], "float32", tmp_path / name, settings.cache_root,
                                 environment_extra={"HF_HUB_CACHE": str(hub_cache)})
        commit = OLD if name == "before" else NEW
        assert f"genspec model: {REPO_ID}@{revision} -> {REPO_ID}@{commit}" in done.stdout, done.stdout[-2000:]
        assert report["environment"]["revision"] == commit, report["environment"]
        reports[name] = tmp_path / name / "report.json"
    output = tmp_path / "regression.md"
    status = regression.main([str(reports["before"]), str(reports["after"]), "-o", str(output)])
    markdown = output.read_text(encoding="utf-8")
    before, after = (json.loads(reports[name].read_text(encoding="utf-8"))["environment"] for name in ("before", "after"))
    assert f"| identity | {REPO_ID}@{OLD} | {REPO_ID}@{NEW} |" in markdown and f"| revision | {OLD} | {NEW} |" in markdown, markdown
    assert f"Weights changed: sha256 {before['weights_sha256'][:12]} before, {after['weights_sha256'][:12]} after." in markdown, markdown
    assert "| generation_config.temperature | 0.6 | 0.7 |" in markdown, markdown
    # the update left the model card's settings, and the verdict says which
    assert "| G5 ⚠ | proven | failed | the checkpoint's generation config samples with temperature 0.7 where the model card has 0.6 |" in markdown, markdown
    drifted = markdown.split("## Observations that drifted")[1]
    assert "test_next_token_scores_and_top_1" in drifted and "test_later_tokens_do_not_change_dog" in drifted, markdown
    assert status == 1  # a claim got worse
