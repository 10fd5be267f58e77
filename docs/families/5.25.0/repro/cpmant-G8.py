"""cpmant — G8: walking the tree while keeping path scores (beam search) written as a loop equals `generate(num_beams=k, do_sample=False)`

Red in `genspec families` on transformers 5.25.0: transformers itself raised RuntimeError: The size of tensor a (48) must match the size of tensor b (33) at non-singleton dimension 3 — called as CpmAntForCausalLM.forward(), raised at transformers/models/cpmant/modeling_cpmant.py:131 (in CpmAntAttention.forward), transformers 5.25.0

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

MODEL_TYPE = 'cpmant'
CONFIG_JSON = '{"dim_ff": 10240, "dim_head": 128, "dropout_p": 0.0, "eps": 1e-06, "hidden_size": 64, "init_std": 1.0, "num_attention_heads": 4, "num_hidden_layers": 4, "position_bias_max_distance": 2048, "position_bias_num_buckets": 512, "prompt_length": 32, "prompt_types": 32, "segment_types": 32, "tie_word_embeddings": true, "use_cache": true, "vocab_size": 151936}'  # config.json of the tiny checkpoint, read as from_pretrained reads it (in main)
GENERATION_JSON = '{"bos_token_id": 151643, "eos_token_id": [151645, 151643]}'  # its generation_config.json: the eos ids generate() is told, as the proof's load tells it
SEED, EMBEDDING_GAIN, LAYER_GAIN = 0, 1.0, 2.0
PROMPT = torch.tensor([[151644, 872, 198, 5158, 525, 498, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]])  # the articles' how-are-you chat, in Qwen3's token ids
PROMPTS = [[151644, 872, 198, 5158, 525, 498, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271], [151644, 872, 198, 10234, 525, 498, 4303, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]]  # and why-are-you-running, the batch's other row
OTHER = torch.tensor([[151644, 872, 198, 10234, 525, 498, 4303, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]])  # why-are-you-running, the prompt the proof samples on
TEXTS = [[13048, 5562, 1246, 525, 498, 30], [9707, 5562], [5158, 525, 498, 30]]  # "Hi dog how are you?", "Hello dog", "how are you?": the batch of S5 and C2
CHECKPOINT_EOS = [151643, 151645]  # the eos ids the tiny checkpoint's generation config names
PREFIX, LATER = torch.tensor([[13048, 5562]]), torch.tensor([[1246, 525, 498, 30]])  # "Hi dog", then " how are you?"
PAD, STEPS = 0, 6
# the proof's kernel tolerance, per dtype (genspec's tolerances.py): a difference within it is the order kernels sum in
TOLERANCE = {'float32': 0.0005, 'float64': 1e-12}
CHECKPOINT_SHA256 = '0c940efc2e58ccd92561adf0a5b351dbb99469989e6471f317aa3cd21baf4e31'  # the tiny checkpoint's weights, as genspec built them

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

RAISED = {'type': 'RuntimeError', 'file': 'models/cpmant/modeling_cpmant.py', 'function': 'forward'}  # what the proof saw: the exception's type, and transformers' file and function it was raised in


def raised_here(error):
    """Whether `error` is the raise the proof saw: its type, in the same function of the same transformers file."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if "/transformers/" in frame.filename.replace("\\", "/")]
    if not frames or type(error).__name__ != RAISED["type"]:
        return False
    innermost = frames[-1]
    return innermost.filename.replace("\\", "/").endswith(RAISED["file"]) and innermost.name == RAISED["function"]


compared = finding


def finding(model, tolerance):
    """The claim's comparison, which raised inside transformers when the proof ran it."""
    try:
        return compared(model, tolerance)
    except Exception as error:
        if not raised_here(error):
            raise
        traceback.print_exc()
        print(f"raised as the proof saw it: {RAISED['type']} in {RAISED['function']} ({RAISED['file']})")
        return True


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
