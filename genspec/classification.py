"""The article's trick: a sequence-classification model with one class per token (001).

"using lm_head.weight parameter stored at the checkpoint" as the classification head.
"""

import json

import torch
from packaging.version import Version
from safetensors import safe_open
from transformers import AutoConfig, AutoModelForSequenceClassification
from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING

from genspec import stored
from genspec.run.loading import DTYPE_KEYWORD, KERNELS_OFF, TRANSFORMERS, kernels_as_loaded, load_pretrained
from genspec.stored import stored_shapes


# 001: `key_mapping = {"lm_head.weight": "score.weight"}`
def load_classifier(path, vocab_size: int, dtype: str, device: str, head_key: str = "lm_head.weight"):
    """001's call: `AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=vocab_size, key_mapping=...)`.

    head_key: the name the checkpoint stores the head under (001's lm_head.weight; GPT-NeoX's embed_out.weight)."""
    return load_pretrained(
        AutoModelForSequenceClassification, path, dtype, device, num_labels=vocab_size, key_mapping={head_key: "score.weight"}
    )


KEY_MAPPING_FORM = "001's key_mapping: score.weight is the lm_head.weight the checkpoint stores"
TIED_FORM = ("the general form on a tied save: score.weight is the embedding, which is the causal LM's head "
             "(the checkpoint stores no lm_head.weight for 001's key_mapping to rename)")


def build_classifier(path, causal_lm, dtype: str, device: str, head_key: str | None):
    """The classifier of 001's loop, and which form it was built in: 001's call where the checkpoint stores its head
    (`head_key`, from stored_head_key); on a tied save (None: GPT-2 saves so), the same model with score tied to the
    embedding, as the causal LM's head is. Returns (classifier, loading info, form).

    One copy of the weights: the call reads the checkpoint's tensors from `causal_lm`, which loaded the same checkpoint in the
    same dtype, wherever they are equal to what the files store (checkpoint_tensors), instead of loading them a second time."""
    tensors = checkpoint_tensors(path, causal_lm, dtype, device)
    if head_key is None:
        classifier, info = _load_shared(path, tensors, causal_lm.config.vocab_size, dtype, device, **kernels_as_loaded(causal_lm))
        classifier.score.weight = classifier.get_input_embeddings().weight
        return classifier, info, TIED_FORM
    form = KEY_MAPPING_FORM if head_key == "lm_head.weight" else \
        f"001's key_mapping with this checkpoint's name for the head: score.weight is the {head_key} it stores"
    classifier, info = _load_shared(path, tensors, causal_lm.config.vocab_size, dtype, device,
                                    key_mapping={head_key: "score.weight"}, **kernels_as_loaded(causal_lm))
    return classifier, info, form


def checkpoint_tensors(path, causal_lm, dtype: str, device: str) -> dict[str, torch.Tensor]:
    """Every tensor the checkpoint stores, by its stored name, in `dtype` on `device`: the causal LM's own parameter where it holds
    exactly the stored values (shared, not copied), else the stored tensor (transformers 4.x's tied lm_head holds the embedding)."""
    held = causal_lm.state_dict()
    tensors = {}
    for file, key in stored.stored_keys(path):
        own = held.get(key)
        tensors[key] = own if own is not None and stored.same_as_stored(own, file, key) else stored.read(file, key).to(device, getattr(torch, dtype))
    return tensors


def _load_shared(path, tensors: dict, vocab_size: int, dtype: str, device: str, **kwargs):
    """001's from_pretrained(checkpoint, num_labels=vocab_size, key_mapping=...) with the checkpoint's config, over `tensors` (the
    checkpoint's, already in memory): transformers renames and places them as it would the files', and keeps them, uncopied."""
    config = AutoConfig.from_pretrained(path, trust_remote_code=False)
    # The labels set after loading, not passed to it: transformers logs a loaded config's repr, whose JSON of 151,936
    # labels took 2.2 s of the proof (measured); the classifier is built from the same config either way.
    config.num_labels = vocab_size
    family = MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING[type(config)]
    model, info = family.from_pretrained(None, config=config, state_dict=tensors, **{DTYPE_KEYWORD: getattr(torch, dtype)},
                                         output_loading_info=True, **{**KERNELS_OFF, **kwargs})
    model.to(device)
    model.requires_grad_(False)
    return model.eval(), info


def stored_head_key(path, model) -> str | None:
    """The name under which the checkpoint stores `model`'s head: lm_head.weight (001), else the one stored tensor that holds
    the head's values and is not the embedding (GPT-NeoX's embed_out.weight, which transformers 5 loads as lm_head); None
    where the head is the embedding (a tied save)."""
    if "lm_head.weight" in stored_shapes(path):
        return "lm_head.weight"
    head, embedding = model.get_output_embeddings().weight, model.get_input_embeddings().weight
    if head.data_ptr() == embedding.data_ptr():
        return None
    for file, key in stored.stored_keys(path):
        if stored.same_as_stored(head, file, key) and not stored.same_as_stored(embedding, file, key):
            return key
    return None


def head_replaced_by_tying(path) -> bool:
    """True when this transformers ties lm_head to embed_tokens although the checkpoint stores a different lm_head.

    transformers 4.x ties them whenever the config says tie_word_embeddings, and the embedding
    then scores every token; 5.x keeps a stored lm_head that differs (the warning 001 quotes).
    """
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    if TRANSFORMERS >= Version("5") or not config.get("tie_word_embeddings", True):
        return False
    rows = {}
    for file in sorted(path.glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as handle:
            for name in ("lm_head.weight", "model.embed_tokens.weight"):
                if name in set(handle.keys()):
                    rows[name] = handle.get_slice(name)[:64]  # a few rows tell equal from different
    return len(rows) == 2 and not torch.equal(*rows.values())


def check_score_is_lm_head(classifier, loading_info: dict, lm_head_weight: torch.Tensor) -> None:
    """Fail, saying why, unless the classifier's head is `lm_head_weight`, loaded from the checkpoint."""
    _check_nothing_missing(loading_info)
    assert torch.equal(classifier.score.weight, lm_head_weight), "C1: score.weight differs from lm_head.weight"


def check_score_is_stored_head(classifier, loading_info: dict, path, head_key: str) -> None:
    """Fail, saying why, unless the classifier's head holds what the checkpoint stores under `head_key` (read block by block)."""
    _check_nothing_missing(loading_info)
    assert stored.same_as_stored(classifier.score.weight, stored.file_storing(path, head_key), head_key), \
        f"C1: score.weight differs from the stored {head_key}"


def _check_nothing_missing(loading_info: dict) -> None:
    if "score.weight" in loading_info["missing_keys"]:
        raise AssertionError(
            "C1: the checkpoint has no lm_head.weight — a tied save keeps only embed_tokens — so "
            "key_mapping had nothing to rename and score.weight was randomly initialised; this "
            "classifier cannot reproduce generation. Save the checkpoint with lm_head.weight."
        )
    assert not loading_info["missing_keys"], f"C1: loading reported missing keys {loading_info['missing_keys']}"


def shared_with(classifier, causal_lm) -> tuple[int, int]:
    """How many of the classifier's weights are the causal LM's own tensors (one copy in memory), of how many."""
    held = {tensor.data_ptr() for tensor in causal_lm.state_dict().values()}
    weights = list(classifier.state_dict().values())
    return sum(tensor.data_ptr() in held for tensor in weights), len(weights)


def head_bias_the_score_lacks(classifier, causal_lm) -> str:
    """Why a classifier's scores can differ from the causal LM's by more than rounding: its head adds a bias (Phi's does)
    that the family's sequence classifier, whose score is a Linear without one, cannot hold. Empty where there is none."""
    bias = getattr(causal_lm.get_output_embeddings(), "bias", None)
    if bias is None or getattr(classifier.score, "bias", None) is not None:
        return ""
    return (f"{type(causal_lm).__name__}'s head adds a bias (largest |bias| {bias.abs().max().item():.4g}) that "
            f"{type(classifier).__name__}'s score, a Linear without bias, does not hold: ")
