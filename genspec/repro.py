"""A reproduction of a red cell of `genspec families`, for the people who maintain the family: a script that needs torch and
transformers only, no genspec.

It builds the family's tiny config and the same weights as the cell's tiny checkpoint (genspec's recipe, written out in the
script), runs the two computations the claim compares on the same token ids, prints where they part, and exits 1 while the
finding holds, 0 once a release removes it. A claim whose computation crashed inside transformers is reproduced by that call;
one whose comparison no script is written for yet exits 2, saying so.
"""

import json
from pathlib import Path

from genspec.embedded.families import BIAS_STD, MLP_GAIN, MLP_OUT, NORM_SPREAD
from genspec.embedded.tiny import LAYER
from genspec.embedded.weights import FREQUENT_GAIN, FREQUENT_RANKS
from genspec.run.tolerances import KERNEL_ATOL

# What each claim compares, as the script's own check (COMPARISONS' keys are the claims reproduced this way).
COMPARISONS = {
    "K1": "prefix", "K3": "prefix", "K4": "prefix",  # a prefix's scores with and without later tokens
    "G1": "greedy_loop", "G2": "greedy_loop", "G6": "greedy_loop",  # the cached loop against generate()
    "G4": "uncached_loop",  # the whole text read each step against generate() carrying its state
    "G8": "beams",  # generate(num_beams=3) with its state reordered against without a state
    "G10": "padded",  # a left-padded batch against each prompt alone
    "S5": "padded",
    "C2": "classifier", "C3": "classifier",  # 001's classifier against the causal LM's head
    "C1": "stored_head",  # what the checkpoint stores for 001's key_mapping to rename
}
# The proof's kernel tolerance, per dtype (genspec/run/tolerances.py says where each comes from): a difference within it is the
# order in which kernels sum, never a finding.
TOLERANCE = {dtype: KERNEL_ATOL[dtype] for dtype in ("float32", "float64")}

WEIGHTS = f'''
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
                gain = ({MLP_GAIN} if re.search({MLP_OUT.pattern!r}, name) else 1.0) * (layer_gain if re.search({LAYER.pattern!r}, name) else 1.0)
                parameter.copy_(noise / parameter.shape[-1] ** 0.5 * gain)
                continue
            own = parameter.detach().float()
            if not torch.isfinite(own).all():
                own = torch.ones_like(own)
            parameter.copy_(torch.where(own == 0, noise * {BIAS_STD}, own * torch.exp(noise * {NORM_SPREAD})))
        model.get_input_embeddings().weight *= embedding_gain
        head = model.get_output_embeddings().weight
        head *= (1 + {FREQUENT_GAIN} * torch.exp(-torch.arange(head.shape[0], dtype=head.dtype) / {FREQUENT_RANKS}))[:, None]
    return model.eval()
'''

CHECKS = {
    "prefix": '''
def finding(model, tolerance):
    """A prefix's scores with and without later tokens."""
    with torch.no_grad():
        alone = model(PREFIX).logits[0].float()
        extended = model(torch.cat([PREFIX, LATER], dim=-1)).logits[0, : PREFIX.shape[1]].float()
    moved = (alone - extended).abs().max().item()
    print(f"the prefix's {PREFIX.shape[1]} positions score otherwise once {LATER.shape[1]} tokens follow: by up to {moved:.4g} "
          f"(tolerance {tolerance})")
    return moved > tolerance
''',
    "greedy_loop": '''
STATE_NAMES = ("cache", "past_key_values", "cache_params", "state", "mems")


def finding(model, tolerance):
    """The greedy loop the articles write (the state fed back with the newest token and its position) against generate()."""
    with torch.no_grad():
        generated = model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, max_new_tokens=STEPS)
        generated = generated[0, PROMPT.shape[1]:].tolist()
        ids, state, name, looped = PROMPT, None, None, []
        takes = set(inspect.signature(model.forward).parameters)
        for _ in range(len(generated)):
            if state is None:
                output = model(ids, use_cache=True)
                name = next((key for key in STATE_NAMES if output.get(key) is not None), None)
            else:
                position = torch.tensor([[ids.shape[1] - 1]])
                extra = {"position_ids": position} if "position_ids" in takes else {}
                extra |= {"cache_position": position[0]} if "cache_position" in takes else {}
                output = model(ids[:, -1:], **{name: state}, use_cache=True, **extra)
            state = output.get(name) if name else None
            token = output.logits[0, -1].argmax().item()
            looped.append(token)
            ids = torch.cat([ids, torch.tensor([[token]])], dim=-1)
            if state is None:  # nothing handed back: the loop reads the whole text each step
                name = None
    parted = next((step for step, (a, b) in enumerate(zip(looped, generated)) if a != b), None)
    print(f"the loop: {looped}\\ngenerate(): {generated}")
    if parted is None:
        print("they agree at every step")
        return False
    print(f"they part at step {parted}: the loop took {looped[parted]}, generate() {generated[parted]}")
    return True
''',
    "uncached_loop": '''
def finding(model, tolerance):
    """Each step's scores as generate() computes them, carrying its state, against a forward pass over the whole text so far."""
    with torch.no_grad():
        run = model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, max_new_tokens=STEPS, output_logits=True,
                             return_dict_in_generate=True)
        new = run.sequences[0, PROMPT.shape[1]:]
        moved = []
        for step, scores in enumerate(run.logits):
            whole = model(torch.cat([PROMPT, new[None, :step]], dim=-1), use_cache=False).logits[0, -1].float()
            moved.append((whole - scores[0].float()).abs().max().item())
    print("largest difference per step, generate() against the whole text: " + ", ".join(f"{value:.3g}" for value in moved)
          + f" (tolerance {tolerance})")
    return max(moved) > tolerance
''',
    "beams": '''
def finding(model, tolerance):
    """generate(num_beams=3) carrying its state between steps against the same search reading the whole text each step."""
    with torch.no_grad():
        kept = model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, num_beams=3, max_new_tokens=STEPS)
        whole = model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, num_beams=3, max_new_tokens=STEPS,
                               use_cache=False)
    kept, whole = kept[0, PROMPT.shape[1]:].tolist(), whole[0, PROMPT.shape[1]:].tolist()
    print(f"with its state: {kept}\\nwithout:        {whole}")
    return kept != whole
''',
    "padded": '''
def finding(model, tolerance):
    """Each prompt's greedy reply in a left-padded batch against the prompt alone."""
    width = max(len(prompt) for prompt in PROMPTS)
    ids = torch.tensor([[PAD] * (width - len(prompt)) + prompt for prompt in PROMPTS])
    mask = torch.tensor([[0] * (width - len(prompt)) + [1] * len(prompt) for prompt in PROMPTS])
    differs = False
    with torch.no_grad():
        batched = model.generate(ids, attention_mask=mask, do_sample=False, max_new_tokens=STEPS, pad_token_id=PAD)[:, width:].tolist()
        for row, prompt in enumerate(PROMPTS):
            alone = torch.tensor([prompt])
            single = model.generate(alone, attention_mask=torch.ones_like(alone), do_sample=False, max_new_tokens=STEPS, pad_token_id=PAD)
            single = single[0, len(prompt):].tolist()
            print(f"row {row} in the batch: {batched[row]}\\nrow {row} alone:        {single}")
            differs |= batched[row][: len(single)] != single
    return differs
''',
    "classifier": '''
def finding(model, tolerance):
    """001's classifier (the causal LM's head as its score) against the causal LM: the last position's scores."""
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        stored = "lm_head.weight" in safe_open(f"{folder}/model.safetensors", framework="pt").keys()
        classifier = AutoModelForSequenceClassification.from_pretrained(
            folder, num_labels=model.config.vocab_size, key_mapping={"lm_head.weight": "score.weight"} if stored else None)
        classifier = classifier.to(model.dtype).eval()
        if not stored:  # a tied save: the head is the embedding
            classifier.score.weight = classifier.get_input_embeddings().weight
    with torch.no_grad():
        causal = model(PROMPT).logits[0, -1].float()
        classified = classifier(PROMPT).logits[0].float()
    moved = (causal - classified).abs().max().item()
    print(f"the classifier's scores and the causal LM's last-position scores differ by up to {moved:.4g} (tolerance {tolerance})")
    return moved > tolerance
''',
    "stored_head": '''
def finding(model, tolerance):
    """001's key_mapping renames the lm_head.weight a checkpoint stores: does a save of this family store one?"""
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        keys = set(safe_open(f"{folder}/model.safetensors", framework="pt").keys())
    print(f"save_pretrained stores {len(keys)} tensors; lm_head.weight {'among them' if 'lm_head.weight' in keys else 'not among them'}"
          f" (tie_word_embeddings={model.config.tie_word_embeddings})")
    return "lm_head.weight" not in keys
''',
    "unwritten": '''
def finding(model, tolerance):
    raise NotImplementedError("no reproduction of this claim's comparison is written yet: see the verdict above")
''',
    "crash": '''
def finding(model, tolerance):
    """The call that raised inside transformers."""
    try:
        with torch.no_grad():
            model(PROMPT, use_cache=True)
            model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, max_new_tokens=STEPS)
            model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, num_beams=3, max_new_tokens=STEPS)
    except Exception:
        traceback.print_exc()
        return True
    print("forward and generate() (greedy, beams) ran without raising")
    return False
''',
}

TEMPLATE = '''"""{family} — {claim}: {claim_text}

Red in `genspec families` on transformers {release}: {verdict}

Reproduces it with torch and transformers alone: the family's tiny config and the tiny checkpoint's weights (seed {seed}),
the token ids the proof used, and the two computations the claim compares, in float32 and in float64 (the arbiter of
rounding). Exits 1 while the finding holds in both, 0 once a release removes it (or float64 shows it was rounding), 2 when
the script itself cannot run, saying why.
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

import torch
import transformers
from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification
from transformers.models.auto.configuration_auto import CONFIG_MAPPING

MODEL_TYPE = {family!r}
# config.json of the tiny checkpoint, read as from_pretrained reads it
CONFIG = CONFIG_MAPPING[MODEL_TYPE].from_dict(json.loads({config!r}))
SEED, EMBEDDING_GAIN, LAYER_GAIN = {seed}, {embedding_gain}, {layer_gain}
PROMPT = torch.tensor([{prompt}])  # the articles' how-are-you chat, in Qwen3's token ids
PROMPTS = [{prompt}, {other_prompt}]  # and why-are-you-running, the batch's other row
PREFIX, LATER = torch.tensor([{prefix}]), torch.tensor([{later}])  # "Hi dog", then " how are you?"
PAD, STEPS = {pad}, 6
# the proof's kernel tolerance, per dtype (genspec's tolerances.py): a difference within it is the order kernels sum in
TOLERANCE = {tolerance}
CHECKPOINT_SHA256 = {sha256!r}  # the tiny checkpoint's weights, as genspec built them
{weights}
{check}

def weights_sha256(model):
    """The hash genspec's tiny.json gives a build: every safetensors file save_pretrained writes, in name order."""
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        for path in sorted(pathlib.Path(folder).glob("*.safetensors")):
            digest.update(path.read_bytes())
    return digest.hexdigest()


if __name__ == "__main__":
    print(f"{{MODEL_TYPE}} on transformers {{transformers.__version__}}, torch {{torch.__version__}}")
    try:  # anything the script itself cannot do is no finding: exit 2, saying what
        model = built(CONFIG, SEED, EMBEDDING_GAIN, LAYER_GAIN)
        sha256 = weights_sha256(model)
        print(f"weights sha256 {{sha256[:12]}}: " + ("the tiny checkpoint's" if sha256 == CHECKPOINT_SHA256 else
              f"not the tiny checkpoint's ({{CHECKPOINT_SHA256[:12]}}): this release initializes the family otherwise"))
        print("in float32:")
        holds = finding(model, TOLERANCE["float32"])
    except Exception as error:
        print(f"could not run: {{type(error).__name__}}: {{error}}")
        sys.exit(2)
    try:  # float64 is the arbiter: a difference float32 rounding made is gone there
        print("in float64, the arbiter of rounding:")
        exact = finding(copy.deepcopy(model).double(), TOLERANCE["float64"])
    except Exception as error:
        print(f"float64 could not run ({{type(error).__name__}}: {{error}}): the float32 verdict stands")
        exact = holds
    if holds and not exact:
        print("float32 rounding: the finding is gone in float64")
    holds = holds and exact
    print("the finding holds" if holds else "the finding is gone on this release")
    sys.exit(1 if holds else 0)
'''


def script(family: str, claim: str, claim_text: str, verdict: str, checkpoint: Path, ids: dict, release: str) -> str:
    """The reproduction of `family`'s red `claim` built from its tiny checkpoint's config and manifest."""
    config = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    for key in ("model_type", "transformers_version", "architectures", "_name_or_path", "dtype", "torch_dtype"):
        config.pop(key, None)
    manifest = json.loads((checkpoint / "tiny.json").read_text(encoding="utf-8"))
    recipe = manifest["recipe"]
    kind = "crash" if verdict.startswith("transformers itself raised") else COMPARISONS.get(claim, "unwritten")
    return TEMPLATE.format(
        family=family, claim=claim, claim_text=claim_text, release=release, verdict=" ".join(verdict.split())[:600],
        config=json.dumps(config, sort_keys=True),
        seed=manifest["seed"] + recipe["seed_shift"], embedding_gain=recipe["embedding_gain"], layer_gain=recipe["layer_gain"],
        prompt=ids["prompt"], other_prompt=ids["other_prompt"], prefix=ids["prefix"], later=ids["later"], pad=ids["pad"],
        tolerance=TOLERANCE, sha256=manifest.get("weights sha256", ""), weights=WEIGHTS, check=CHECKS[kind])


def token_ids(tokenizer) -> dict:
    """The token ids the scripts compare on, as the proof makes them."""
    chat = lambda text: tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True,
                                                      enable_thinking=False)
    encode = lambda text: tokenizer(text)["input_ids"]
    prefix = encode("Hi dog")
    return {"prompt": encode(chat("how are you?")), "other_prompt": encode(chat("Why are you running?")), "prefix": prefix,
            "later": encode("Hi dog how are you?")[len(prefix):], "pad": 151643}
