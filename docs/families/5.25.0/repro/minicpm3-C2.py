"""minicpm3 — C2: sequence classification scores the last non-padding token: its logits equal the causal LM's `logits[:, -1]`, with and without padding in the batch

Red in `genspec families` on transformers 5.25.0: 001's classifier against the causal LM's last position: 151,745 of 151,936 scores differ by more than the kernel tolerance 0.0005; the largest by 2.742, at token 47: 0.913892 against 3.65557

Reproduces it with torch and transformers alone: the family's tiny config and the tiny checkpoint's weights (seed 0),
its generation config, the token ids the proof used, and the two computations the claim compares, in float32 and in float64
(the arbiter of rounding). Exits 1 while the finding holds (in float32, and in float64 where float64 can judge: it says when
it cannot), 0 once a release removes it (or float64 shows it was rounding), 2 when the script itself cannot run or its
scores cannot judge the claim, saying why.
"""

import copy
import hashlib
import inspect
import json
import pathlib
import re
import sys
import tempfile
import traceback

try:  # a missing or broken package is no finding: exit 2, saying what
    import torch
    import transformers
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, GenerationConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING
except Exception as error:
    print(f"could not run: {type(error).__name__}: {error}")
    sys.exit(2)

MODEL_TYPE = 'minicpm3'
CONFIG_JSON = '{"attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 151643, "dim_model_base": 256, "eos_token_id": 151643, "head_dim": 8, "hidden_act": "silu", "hidden_size": 64, "initializer_range": 0.1, "intermediate_size": 128, "kv_lora_rank": 16, "max_position_embeddings": 512, "mlp_bias": false, "num_attention_heads": 4, "num_hidden_layers": 4, "num_key_value_heads": 4, "pad_token_id": null, "pretraining_tp": 1, "q_lora_rank": 16, "qk_head_dim": 16, "qk_nope_head_dim": 8, "qk_rope_head_dim": 8, "rms_norm_eps": 1e-05, "rope_parameters": {"rope_theta": 10000.0, "rope_type": "default"}, "scale_depth": 1.4, "scale_emb": 12, "tie_word_embeddings": true, "use_cache": true, "v_head_dim": 16, "vocab_size": 151936}'  # config.json of the tiny checkpoint, read as from_pretrained reads it (in main)
GENERATION_JSON = '{"bos_token_id": 151643, "eos_token_id": [151645, 151643]}'  # its generation_config.json: the eos ids generate() is told, as the proof's load tells it
SEED, EMBEDDING_GAIN, LAYER_GAIN = 0, 0.1, 2.0
PROMPT = torch.tensor([[151644, 872, 198, 5158, 525, 498, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]])  # the articles' how-are-you chat, in Qwen3's token ids
PROMPTS = [[151644, 872, 198, 5158, 525, 498, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271], [151644, 872, 198, 10234, 525, 498, 4303, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]]  # and why-are-you-running, the batch's other row
OTHER = torch.tensor([[151644, 872, 198, 10234, 525, 498, 4303, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]])  # why-are-you-running, the prompt the proof samples on
TEXTS = [[13048, 5562, 1246, 525, 498, 30], [9707, 5562], [5158, 525, 498, 30]]  # "Hi dog how are you?", "Hello dog", "how are you?": the batch of S5 and C2
CHECKPOINT_EOS = [151643, 151645]  # the eos ids the tiny checkpoint's generation config names
PREFIX, LATER = torch.tensor([[13048, 5562]]), torch.tensor([[1246, 525, 498, 30]])  # "Hi dog", then " how are you?"
PAD, STEPS = 151643, 6
# the proof's kernel tolerance, per dtype (genspec's tolerances.py): a difference within it is the order kernels sum in
TOLERANCE = {'float32': 0.0005, 'float64': 1e-12}
CHECKPOINT_SHA256 = '9cc47bf5f0a1c9010e693775ae52812f628d0c2108e7f866fc8ca1b5fe84e072'  # the tiny checkpoint's weights, as genspec built them

def built(config, seed, embedding_gain, layer_gain):
    """The tiny checkpoint's weights: the family's own initialization under the seed, then each matrix drawn at unit gain, every
    other parameter spread around its family's value (a zero one near zero), and the recipe's gains."""
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if parameter.ndim == 2 or (parameter.ndim == 3 and "experts" in name):
                gain = (4.0 if re.search('mlp(_block)?\\.(down_proj|c_proj)\\.weight$', name) else 1.0) * (layer_gain if re.search('\\.(layers?|h|blocks?)\\.\\d+\\.', name) else 1.0)
                parameter.copy_(noise / parameter.shape[-1] ** 0.5 * gain)
                continue
            own = parameter.detach().float()
            if not torch.isfinite(own).all():
                own = torch.ones_like(own)
            parameter.copy_(torch.where(own == 0, noise * 0.02, own * torch.exp(noise * 0.3)))
        model.get_input_embeddings().weight *= embedding_gain
        head = model.get_output_embeddings().weight
        head *= (1 + 2.0 * torch.exp(-torch.arange(head.shape[0], dtype=head.dtype) / 300))[:, None]
    return model.eval()


class CannotJudge(Exception):
    """The scores are not finite: they say nothing of the claim (no finding, and no proof that it is gone)."""


def largest_difference(first, second):
    """The largest difference between two score tensors, compared in the wider of their dtypes; CannotJudge where either holds
    NaN or inf."""
    if not (torch.isfinite(first).all() and torch.isfinite(second).all()):
        raise CannotJudge("the scores are not finite (NaN or inf)")
    wider = torch.promote_types(first.dtype, second.dtype)
    return (first.to(wider) - second.to(wider)).abs().max().item()

def classifier_of(model):
    """AutoModelForSequenceClassification from the model's save, its score the stored lm_head.weight (001's key_mapping), or
    the embedding where a tied save stores none."""
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        stored = "lm_head.weight" in safe_open(f"{folder}/model.safetensors", framework="pt").keys()
        classifier = AutoModelForSequenceClassification.from_pretrained(
            folder, num_labels=model.config.vocab_size, key_mapping={"lm_head.weight": "score.weight"} if stored else None)
        classifier = classifier.to(model.dtype).eval()
        if not stored:
            classifier.score.weight = classifier.get_input_embeddings().weight
    return classifier


def finding(model, tolerance):
    """C2: 001's classifier (the causal LM's head as its score) scores a text by its last token — alone, and in a batch padded
    either side by its last non-pad token (a pad token set) — as the causal LM scores that position."""
    classifier = classifier_of(model)
    classifier.config.pad_token_id = PAD
    moved = {}
    with torch.no_grad():
        moved["one text"] = largest_difference(model(PROMPT).logits[0, -1], classifier(PROMPT).logits[0])
        width = max(len(text) for text in TEXTS[:2])
        for side in ("right", "left"):
            pads = [[PAD] * (width - len(text)) for text in TEXTS[:2]]
            ids = torch.tensor([text + pad if side == "right" else pad + text for text, pad in zip(TEXTS[:2], pads)])
            mask = (torch.tensor([[1] * len(text) + [0] * len(pad) if side == "right" else [0] * len(pad) + [1] * len(text)
                                  for text, pad in zip(TEXTS[:2], pads)]))
            last = (mask * torch.arange(width)).argmax(-1)
            causal = model(ids, attention_mask=mask).logits[torch.arange(2), last]
            moved[f"a batch padded {side}"] = largest_difference(causal, classifier(ids, attention_mask=mask).logits)
    print("the classifier's scores against the causal LM's at the last (non-pad) token: "
          + ", ".join(f"{what} by up to {value:.4g}" for what, value in moved.items()) + f" (tolerance {tolerance})")
    return max(moved.values()) > tolerance


def weights_sha256(model):
    """The hash genspec's tiny.json gives a build: every safetensors file save_pretrained writes, in name order."""
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        for path in sorted(pathlib.Path(folder).glob("*.safetensors")):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def in_float64(model):
    """The model as the arbiter computes it: float64, a mixture of experts through the eager loop (grouped_mm has no float64)."""
    exact = copy.deepcopy(model).double()
    if getattr(exact.config, "_experts_implementation", None) not in (None, "eager") and hasattr(exact, "set_experts_implementation"):
        exact.set_experts_implementation("eager")
    return exact


if __name__ == "__main__":
    print(f"{MODEL_TYPE} on transformers {transformers.__version__}, torch {torch.__version__}")
    try:  # anything the script itself cannot do is no finding: exit 2, saying what
        if MODEL_TYPE not in CONFIG_MAPPING:
            raise LookupError(f"transformers {transformers.__version__} has no family {MODEL_TYPE!r}")
        model = built(CONFIG_MAPPING[MODEL_TYPE].from_dict(json.loads(CONFIG_JSON)), SEED, EMBEDDING_GAIN, LAYER_GAIN)
        model.generation_config = GenerationConfig.from_dict(json.loads(GENERATION_JSON))
        sha256 = weights_sha256(model)
        print(f"weights sha256 {sha256[:12]}: " + ("the tiny checkpoint's" if sha256 == CHECKPOINT_SHA256 else
              f"not the tiny checkpoint's ({CHECKPOINT_SHA256[:12]}): this release initializes the family otherwise"))
        print("in float32:")
        holds = finding(model, TOLERANCE["float32"])
    except Exception as error:
        print(f"could not run: {type(error).__name__}: {error}")
        sys.exit(2)
    try:  # float64 is the arbiter: a difference float32 rounding made is gone there
        print("in float64, the arbiter of rounding:")
        exact = finding(in_float64(model), TOLERANCE["float64"])
    except Exception as error:
        print(f"float64 cannot judge ({type(error).__name__}: {error}): unarbitrated, the float32 verdict stands")
        exact = holds
    if holds and not exact:
        print("float32 rounding: the finding is gone in float64")
    holds = holds and exact
    print("the finding holds" if holds else "the finding is gone on this release")
    sys.exit(1 if holds else 0)
