"""The article's trick: a sequence-classification model with one class per token (001).

"using lm_head.weight parameter stored at the checkpoint" as the classification head.
"""

import torch
from transformers import AutoModelForSequenceClassification

from spec.loading import load_pretrained

# 001: `key_mapping = {"lm_head.weight": "score.weight"}`
LM_HEAD_AS_SCORE = {"lm_head.weight": "score.weight"}


def load_classifier(path, vocab_size: int, dtype: str, device: str):
    """001's call: `AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=vocab_size, key_mapping=...)`."""
    return load_pretrained(
        AutoModelForSequenceClassification, path, dtype, device, num_labels=vocab_size, key_mapping=LM_HEAD_AS_SCORE
    )


def check_score_is_lm_head(classifier, loading_info: dict, lm_head_weight: torch.Tensor) -> None:
    """Fail, saying why, unless the classifier's head is the causal LM's head, loaded from the checkpoint."""
    if "score.weight" in loading_info["missing_keys"]:
        raise AssertionError(
            "C1: the checkpoint has no lm_head.weight — a tied save keeps only embed_tokens — so "
            "key_mapping had nothing to rename and score.weight was randomly initialised; this "
            "classifier cannot reproduce generation. Save the checkpoint with lm_head.weight."
        )
    assert not loading_info["missing_keys"], f"C1: loading reported missing keys {loading_info['missing_keys']}"
    assert torch.equal(classifier.score.weight, lm_head_weight), "C1: score.weight differs from lm_head.weight"
