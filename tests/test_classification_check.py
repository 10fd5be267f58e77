"""C1's check, tried on a checkpoint it must refuse: a tool test (`pytest -m tool`), not a claim of the articles."""

import json
import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from genspec.classification import check_score_is_lm_head, load_classifier
from genspec.embedded import checkpoint

pytestmark = pytest.mark.tool


def test_tied_checkpoint_without_lm_head_fails_c1_saying_why(tiny_stand_in, tmp_path, settings):
    """C1: against a tied save that keeps no lm_head.weight, the C1 check fails and says why."""
    tied = Path(shutil.copytree(tiny_stand_in, tmp_path / "tied"))
    weights = load_file(tied / checkpoint.WEIGHTS)
    lm_head = weights.pop("lm_head.weight")
    save_file(weights, str(tied / checkpoint.WEIGHTS), metadata={"format": "pt"})
    classifier, info = load_classifier(tied, json.loads((tied / "config.json").read_text())["vocab_size"], settings.dtype, "cpu")
    with pytest.raises(AssertionError, match="no lm_head.weight — a tied save"):
        check_score_is_lm_head(classifier, info, lm_head.to(classifier.score.weight.dtype))
