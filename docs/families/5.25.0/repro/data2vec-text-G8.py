"""data2vec-text — G8: walking the tree while keeping path scores (beam search) written as a loop equals `generate(num_beams=k, do_sample=False)`

Red in `genspec families` on transformers 5.25.0: the beam loop's best beam and generate() part at step 0 of 6: the beam loop's best beam took 85, generate() took 71; equal before it: [] (beams reordered at steps [1, 2, 3, 4, 5])

Reproduces it with torch and transformers alone: the family's tiny config and the tiny checkpoint's weights (seed 2),
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

MODEL_TYPE = 'data2vec-text'
CONFIG_JSON = '{"add_cross_attention": false, "attention_probs_dropout_prob": 0.1, "bos_token_id": 151643, "classifier_dropout": null, "eos_token_id": 151643, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 64, "initializer_range": 0.02, "intermediate_size": 128, "is_decoder": true, "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "num_attention_heads": 4, "num_hidden_layers": 4, "pad_token_id": 1, "tie_word_embeddings": true, "type_vocab_size": 2, "use_cache": true, "vocab_size": 151936}'  # config.json of the tiny checkpoint, read as from_pretrained reads it (in main)
GENERATION_JSON = '{"bos_token_id": 151643, "eos_token_id": [151645, 151643]}'  # its generation_config.json: the eos ids generate() is told, as the proof's load tells it
SEED, EMBEDDING_GAIN, LAYER_GAIN = 2, 0.1, 1.0
PROMPT = torch.tensor([[151644, 872, 198, 5158, 525, 498, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]])  # the articles' how-are-you chat, in Qwen3's token ids
PROMPTS = [[151644, 872, 198, 5158, 525, 498, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271], [151644, 872, 198, 10234, 525, 498, 4303, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]]  # and why-are-you-running, the batch's other row
OTHER = torch.tensor([[151644, 872, 198, 10234, 525, 498, 4303, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]])  # why-are-you-running, the prompt the proof samples on
TEXTS = [[13048, 5562, 1246, 525, 498, 30], [9707, 5562], [5158, 525, 498, 30]]  # "Hi dog how are you?", "Hello dog", "how are you?": the batch of S5 and C2
CHECKPOINT_EOS = [151643, 151645]  # the eos ids the tiny checkpoint's generation config names
PREFIX, LATER = torch.tensor([[13048, 5562]]), torch.tensor([[1246, 525, 498, 30]])  # "Hi dog", then " how are you?"
PAD, STEPS = 1, 6
# the proof's kernel tolerance, per dtype (genspec's tolerances.py): a difference within it is the order kernels sum in
TOLERANCE = {'float32': 0.0005, 'float64': 1e-12}
CHECKPOINT_SHA256 = '94fe980f4a61d771c8653175c90836752b7b568ad0a81d102cc399c6c925ad85'  # the tiny checkpoint's weights, as genspec built them

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


BEAMS = 3


def beam_loop(model, prompt, steps):
    """001's walk of the tree: keep the BEAMS paths of highest summed log-probability; each step reads every path whole."""
    beams, scores = prompt.repeat(BEAMS, 1), torch.full((BEAMS,), float("-inf"))
    scores[0] = 0.0  # one live path at the start
    for _ in range(steps):
        log_probs = model(beams).logits[:, -1].float().log_softmax(dim=-1)
        scores, flat = (scores[:, None] + log_probs).view(-1).topk(BEAMS)
        beams = torch.cat([beams[flat // log_probs.shape[-1]], (flat % log_probs.shape[-1])[:, None]], dim=-1)
    return beams[scores.argmax()][prompt.shape[1]:].tolist()


def finding(model, tolerance):
    """G8: the beam loop against generate(num_beams=3, do_sample=False)."""
    with torch.no_grad():
        generated = model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, num_beams=BEAMS, max_new_tokens=STEPS)
        looped = beam_loop(model, PROMPT, STEPS)
    print(f"the beam loop's best beam: {looped}\ngenerate(num_beams={BEAMS}): {generated[0, PROMPT.shape[1]:].tolist()}")
    return looped != generated[0, PROMPT.shape[1]:].tolist()


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
