"""xlm-roberta-xl — G6: sampling is "drawing the next token with probabilities from the scores": a hand-written sampling loop (softmax, the same top-k / top-p / temperature edits, a seeded draw) gives exactly `generate(do_sample=True)` under the same seed

Red in `genspec families` on transformers 5.25.0: the sampling loop under seed 0 and generate() part at step 0 of 8: the sampling loop under seed 0 took 258, generate() took 68; equal before it: []

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

MODEL_TYPE = 'xlm-roberta-xl'
CONFIG_JSON = '{"add_cross_attention": false, "attention_probs_dropout_prob": 0.1, "bos_token_id": 151643, "classifier_dropout": null, "eos_token_id": 151643, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 64, "initializer_range": 0.02, "intermediate_size": 128, "is_decoder": true, "layer_norm_eps": 1e-05, "max_position_embeddings": 512, "num_attention_heads": 4, "num_hidden_layers": 4, "pad_token_id": 1, "tie_word_embeddings": true, "type_vocab_size": 1, "use_cache": true, "vocab_size": 151936}'  # config.json of the tiny checkpoint, read as from_pretrained reads it (in main)
GENERATION_JSON = '{"bos_token_id": 151643, "eos_token_id": [151645, 151643]}'  # its generation_config.json: the eos ids generate() is told, as the proof's load tells it
SEED, EMBEDDING_GAIN, LAYER_GAIN = 0, 0.1, 4.0
PROMPT = torch.tensor([[151644, 872, 198, 5158, 525, 498, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]])  # the articles' how-are-you chat, in Qwen3's token ids
PROMPTS = [[151644, 872, 198, 5158, 525, 498, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271], [151644, 872, 198, 10234, 525, 498, 4303, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]]  # and why-are-you-running, the batch's other row
OTHER = torch.tensor([[151644, 872, 198, 10234, 525, 498, 4303, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]])  # why-are-you-running, the prompt the proof samples on
TEXTS = [[13048, 5562, 1246, 525, 498, 30], [9707, 5562], [5158, 525, 498, 30]]  # "Hi dog how are you?", "Hello dog", "how are you?": the batch of S5 and C2
CHECKPOINT_EOS = [151643, 151645]  # the eos ids the tiny checkpoint's generation config names
PREFIX, LATER = torch.tensor([[13048, 5562]]), torch.tensor([[1246, 525, 498, 30]])  # "Hi dog", then " how are you?"
PAD, STEPS = 1, 6
# the proof's kernel tolerance, per dtype (genspec's tolerances.py): a difference within it is the order kernels sum in
TOLERANCE = {'float32': 0.0005, 'float64': 1e-12}
CHECKPOINT_SHA256 = 'e0c954d59b0c12c8deb19fed603ded2f2f47b5d0d6bdb48eac64a1f1dae42ee3'  # the tiny checkpoint's weights, as genspec built them

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


STATE_NAMES = ("cache", "past_key_values", "cache_params", "state", "mems")


def numbering_start(model, ids):
    """Where the model's own forward numbers a text's first token: 0, or after its padding id (RoBERTa-style positions)."""
    own = model(ids, use_cache=False).logits[:, -1]
    pad = model.config.pad_token_id
    for start in dict.fromkeys([0] + ([pad + 1] if isinstance(pad, int) and pad >= 0 else [])):
        numbered = model(ids, position_ids=torch.arange(start, start + ids.shape[1])[None], use_cache=False).logits[:, -1]
        if torch.equal(numbered, own):
            return start
    return 0


def argmax(scores, ids):
    return scores.argmax().item()


def loop(model, prompt, steps, choose, stop=(), start=None):
    """The loop the articles write: the state the model hands back fed back with the newest token, numbered as the model's own
    forward numbers the whole text (a model that hands back nothing reads the whole text each step)."""
    takes = set(inspect.signature(model.forward).parameters)
    if start is None:
        start = numbering_start(model, prompt) if "position_ids" in takes else 0
    ids, state, name, new = prompt, None, None, []
    for _ in range(steps):
        if name is None:
            output = model(ids, use_cache=True)
            name = next((key for key in STATE_NAMES if output.get(key) is not None), None)
        else:
            position = torch.tensor([ids.shape[1] - 1])
            extra = {"position_ids": (position + start)[None]} if "position_ids" in takes else {}
            extra |= {"cache_position": position} if "cache_position" in takes else {}
            output = model(ids[:, -1:], **{name: state}, use_cache=True, **extra)
        state = output.get(name) if name else None
        name = name if state is not None else None
        token = choose(output.logits[0, -1], ids)
        new.append(token)
        ids = torch.cat([ids, torch.tensor([[token]])], dim=-1)
        if token in stop:
            break
    return new


def parted(loop_name, looped, generated):
    print(f"{loop_name}: {looped}\ngenerate(): {generated}")
    step = next((i for i, (a, b) in enumerate(zip(looped, generated)) if a != b), None)
    if step is None and len(looped) == len(generated):
        print("they agree at every step")
        return False
    print(f"they part at step {step if step is not None else min(len(looped), len(generated))}")
    return True

SEEDS, SAMPLED_STEPS = (0, 1), 8
EDITS = {"temperature": 0.6, "top_k": 20, "top_p": 0.95}  # the model card's, which the proof passes where a config does not sample


def edited_draw(generator):
    def draw(scores, ids):
        scores = scores.float() / EDITS["temperature"]
        scores = scores.masked_fill(scores < scores.topk(EDITS["top_k"]).values[..., -1:], float("-inf"))
        ascending, order = scores.sort(dim=-1)
        drop = ascending.softmax(dim=-1).cumsum(dim=-1) <= 1 - EDITS["top_p"]
        drop[..., -1] = False
        scores = scores.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
        return torch.multinomial(scores.softmax(dim=-1), num_samples=1, generator=generator).item()
    return draw


def finding(model, tolerance):
    """G6: the sampling loop (temperature, top-k, top-p, then a draw from a generator under the seed) against
    generate(do_sample=True) under the same seed."""
    holds = False
    with torch.no_grad():
        for seed in SEEDS:
            torch.manual_seed(seed)
            generated = model.generate(OTHER, attention_mask=torch.ones_like(OTHER), do_sample=True, max_new_tokens=SAMPLED_STEPS, **EDITS)
            looped = loop(model, OTHER, SAMPLED_STEPS, edited_draw(torch.Generator().manual_seed(seed)))
            print(f"under seed {seed}:")
            holds |= parted("the sampling loop", looped, generated[0, OTHER.shape[1]:].tolist())
    return holds


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
