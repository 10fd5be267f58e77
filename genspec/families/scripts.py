"""A reproduction of a red cell of `genspec families`, for the people who maintain the family: a script that needs torch and
transformers only, no genspec.

It builds the family's tiny config and the same weights as the cell's tiny checkpoint (genspec's recipe, written out in the
script) with the checkpoint's generation config, runs the two computations the claim compares on the same token ids, prints
where they part, and exits 1 while the finding holds, 0 once a release removes it, 2 when the script cannot run or its scores
cannot judge (NaN). A claim whose computation raised inside transformers runs the claim's own comparison again: the same raise
in the same place is the finding, any other exception the script's own failure. Written from what the family's row keeps
(`inputs`), so a change here rewrites every script without proving a family again.
"""

import json
from pathlib import Path

from genspec.embedded.small_models import BIAS_STD, MLP_GAIN, MLP_OUT, NORM_SPREAD
from genspec.embedded.weights import FREQUENT_GAIN, FREQUENT_RANKS
from genspec.families.builds import LAYER
from genspec.reports import crashes
from genspec.run.tolerances import KERNEL_ATOL

# What each claim compares, as the script's own check (COMPARISONS' keys are the claims reproduced this way).
COMPARISONS = {
    "K1": "prefix", "K3": "prefix", "K4": "prefix",  # a prefix's scores with and without later tokens
    "G1": "greedy_loop",  # the cached greedy loop against generate(do_sample=False)
    "G2": "eos_stop",  # an eos id generate() and the loop are told, and each of the checkpoint's made the top score: both end there
    "G6": "sampling",  # the sampling loop against generate(do_sample=True) under the same seeds
    "G4": "uncached_loop",  # the whole text read each step against generate() carrying its state
    "G8": "beams",  # the beam loop against generate(num_beams=3)
    "G10": "padded",  # a left-padded batch against each prompt alone
    "S5": "rows",  # one forward's rows of a right-padded batch against each text alone
    "C2": "classifier",  # 001's classifier against the causal LM's last (non-pad) position, alone and in padded batches
    "C3": "classify_loop",  # the classification loop against greedy generate()
    "C1": "stored_head",  # what the checkpoint stores for 001's key_mapping to rename
    "S1": "hidden_shape",  # the base model's hidden states 1×N×hidden_size, the head's scores 1×N×vocab_size
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

# 001's classifier over the causal LM's weights, as the C scripts build it.
CLASSIFIER = '''
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
'''

# The loop the G scripts share: as genspec's (genspec/loops.py), written out.
LOOP = '''
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
    print(f"{loop_name}: {looped}\\ngenerate(): {generated}")
    step = next((i for i, (a, b) in enumerate(zip(looped, generated)) if a != b), None)
    if step is None and len(looped) == len(generated):
        print("they agree at every step")
        return False
    print(f"they part at step {step if step is not None else min(len(looped), len(generated))}")
    return True
'''

DIFFERENCE = '''
class CannotJudge(Exception):
    """The scores are not finite: they say nothing of the claim (no finding, and no proof that it is gone)."""


def largest_difference(first, second):
    """The largest difference between two score tensors, compared in the wider of their dtypes; CannotJudge where either holds
    NaN or inf."""
    if not (torch.isfinite(first).all() and torch.isfinite(second).all()):
        raise CannotJudge("the scores are not finite (NaN or inf)")
    wider = torch.promote_types(first.dtype, second.dtype)
    return (first.to(wider) - second.to(wider)).abs().max().item()
'''

CHECKS = {
    "prefix": DIFFERENCE + '''
def finding(model, tolerance):
    """A prefix's scores with and without later tokens."""
    with torch.no_grad():
        alone = model(PREFIX).logits[0]
        extended = model(torch.cat([PREFIX, LATER], dim=-1)).logits[0, : PREFIX.shape[1]]
    moved = largest_difference(alone, extended)
    print(f"the prefix's {PREFIX.shape[1]} positions score otherwise once {LATER.shape[1]} tokens follow: by up to {moved:.4g} "
          f"(tolerance {tolerance})")
    return moved > tolerance
''',
    "greedy_loop": LOOP + '''

def finding(model, tolerance):
    """G1: the greedy loop the articles write (the state fed back with the newest token, numbered as the model numbers the
    text) against generate(do_sample=False)."""
    with torch.no_grad():
        generated = model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, max_new_tokens=STEPS)
        generated = generated[0, PROMPT.shape[1]:].tolist()
        looped = loop(model, PROMPT, len(generated), argmax)
    return parted("the loop", looped, generated)
''',
    "eos_stop": LOOP + '''
EOS_STEP = 6  # the step at which each of the checkpoint's eos ids is made the model's top score


def finding(model, tolerance):
    """G2: generation ends at the end-of-sequence token — told an eos id its greedy reply reaches, generate() and the loop end
    on it with the same tokens; each eos id the checkpoint names, made the model's top score at one step, ends both there."""
    holds = False
    with torch.no_grad():
        reply = model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, max_new_tokens=32)[0, PROMPT.shape[1]:].tolist()
        stop_at = next((i for i in range(4, len(reply)) if reply[i] not in reply[:i]), None)
        if stop_at is not None:
            eos = reply[stop_at]
            generated = model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, max_new_tokens=32, eos_token_id=eos)
            looped = loop(model, PROMPT, 32, argmax, stop={eos})
            print(f"told eos_token_id={eos} (its greedy reply's step {stop_at}):")
            holds |= parted("the loop", looped, generated[0, PROMPT.shape[1]:].tolist())
        takes = set(inspect.signature(model.forward).parameters)
        start = numbering_start(model, PROMPT) if "position_ids" in takes else 0  # asked before the hook counts forward calls
        for eos in CHECKPOINT_EOS:
            calls = []

            def eos_on_top(_module, _inputs, output, eos=eos):
                if len(calls) == EOS_STEP:
                    output.logits[:, -1, eos] = output.logits[:, -1].max() + 1
                calls.append(None)
                return output

            hook = model.register_forward_hook(eos_on_top)
            try:
                generated = model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, max_new_tokens=32)
                generated = generated[0, PROMPT.shape[1]:].tolist()
                calls.clear()
                looped = loop(model, PROMPT, 32, argmax, stop=set(CHECKPOINT_EOS), start=start)
            finally:
                hook.remove()
            for who, new in (("generate()", generated), ("the loop", looped)):
                ended = new[-1:] == [eos] and len(new) == EOS_STEP + 1
                print(f"eos {eos} the top score at step {EOS_STEP}: {who} " + ("ended there" if ended else f"went on: {len(new)} tokens, {new[-3:]}"))
                holds |= not ended
    return holds
''',
    "sampling": LOOP + '''
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
''',
    "beams": '''
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
    print(f"the beam loop's best beam: {looped}\\ngenerate(num_beams={BEAMS}): {generated[0, PROMPT.shape[1]:].tolist()}")
    return looped != generated[0, PROMPT.shape[1]:].tolist()
''',
    "uncached_loop": DIFFERENCE + '''
def finding(model, tolerance):
    """Each step's scores as generate() computes them, carrying its state, against a forward pass over the whole text so far."""
    with torch.no_grad():
        run = model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, max_new_tokens=STEPS, output_logits=True,
                             return_dict_in_generate=True)
        new = run.sequences[0, PROMPT.shape[1]:]
        moved = []
        for step, scores in enumerate(run.logits):
            whole = model(torch.cat([PROMPT, new[None, :step]], dim=-1), use_cache=False).logits[0, -1]
            # generate() hands its scores back in float32 whatever the model computes in: the whole text's rounded as they were
            moved.append(largest_difference(whole.to(scores.dtype), scores[0]))
        ulp = torch.finfo(run.logits[0].dtype).eps * max(scores.abs().max().item() for scores in run.logits) if model.dtype != run.logits[0].dtype else 0
    print("largest difference per step, generate() against the whole text: " + ", ".join(f"{value:.3g}" for value in moved)
          + f" (tolerance {tolerance:g}" + (f", and one float32 ulp, {ulp:.3g}: generate() hands back float32 scores)" if ulp else ")"))
    return max(moved) > tolerance + ulp
''',
    "rows": DIFFERENCE + '''
def finding(model, tolerance):
    """S5: one forward pass over a right-padded batch scores each row's positions as the text alone."""
    width = max(len(text) for text in TEXTS)
    ids = torch.tensor([text + [PAD] * (width - len(text)) for text in TEXTS])
    mask = torch.tensor([[1] * len(text) + [0] * (width - len(text)) for text in TEXTS])
    moved = []
    with torch.no_grad():
        batched = model(ids, attention_mask=mask).logits
        for row, text in enumerate(TEXTS):
            alone = model(torch.tensor([text])).logits[0]
            moved.append(largest_difference(batched[row, : len(text)], alone))
    print("largest difference per row, in the batch against alone: " + ", ".join(f"{value:.3g}" for value in moved) + f" (tolerance {tolerance})")
    return max(moved) > tolerance
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
    "classifier": DIFFERENCE + CLASSIFIER + '''

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
''',
    "classify_loop": CLASSIFIER + LOOP + '''

def finding(model, tolerance):
    """C3: classify the text, append the class, repeat — 001's classifier in a for-loop — against greedy generate()."""
    classifier = classifier_of(model)
    with torch.no_grad():
        generated = model.generate(PROMPT, attention_mask=torch.ones_like(PROMPT), do_sample=False, max_new_tokens=STEPS)
        ids, classified = PROMPT, []
        for _ in range(STEPS):
            classified.append(classifier(ids).logits[0].argmax().item())
            ids = torch.cat([ids, torch.tensor([[classified[-1]]])], dim=-1)
    return parted("the classification loop", classified, generated[0, PROMPT.shape[1]:].tolist())
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
    "hidden_shape": '''
def finding(model, tolerance):
    """S1: tokens 1×N → the base model's last_hidden_state 1×N×hidden_size → the head's logits 1×N×vocab_size (the config's sizes)."""
    n, config = PROMPT.shape[1], model.config
    with torch.no_grad():
        hidden = model.base_model(PROMPT).last_hidden_state
        logits = model(PROMPT).logits
    holds = False
    for name, seen, expected in (("last_hidden_state", tuple(hidden.shape), (1, n, config.hidden_size)),
                                 ("logits", tuple(logits.shape), (1, n, config.vocab_size))):
        print(f"{name}: {seen}, where the claim expects {expected}")
        holds |= seen != expected
    return holds
''',
}
# A claim whose computation raised inside transformers: the claim's own comparison run again (CHECKS[COMPARISONS[claim]]). The
# finding holds while the same exception is raised in the same function of the same transformers file (its line may move
# between releases); a comparison that runs is judged as written; any other exception is the script's own failure (exit 2).
CRASH = '''
RAISED = {raised}  # what the proof saw: the exception's type, and transformers' file and function it was raised in


def raised_here(error):
    """Whether `error` is the raise the proof saw: its type, in the same function of the same transformers file."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if "/transformers/" in frame.filename.replace("\\\\", "/")]
    if not frames or type(error).__name__ != RAISED["type"]:
        return False
    innermost = frames[-1]
    return innermost.filename.replace("\\\\", "/").endswith(RAISED["file"]) and innermost.name == RAISED["function"]


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
'''


TEMPLATE = """\"\"\"{family} — {claim}: {claim_text}

Red in `genspec families` on transformers {release}: {verdict}

Reproduces it with torch and transformers alone: the family's tiny config and the tiny checkpoint's weights (seed {seed}),
its generation config, the token ids the proof used, and the two computations the claim compares, in float32 and in float64
(the arbiter of rounding). Exits 1 while the finding holds (in float32, and in float64 where float64 can judge: it says when
it cannot), 0 once a release removes it (or float64 shows it was rounding), 2 when the script itself cannot run or its
scores cannot judge the claim, saying why.
\"\"\"

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
    print(f"could not run: {{type(error).__name__}}: {{error}}")
    sys.exit(2)

MODEL_TYPE = {family!r}
CONFIG_JSON = {config!r}  # config.json of the tiny checkpoint, read as from_pretrained reads it (in main)
GENERATION_JSON = {generation!r}  # its generation_config.json: the eos ids generate() is told, as the proof's load tells it
SEED, EMBEDDING_GAIN, LAYER_GAIN = {seed}, {embedding_gain}, {layer_gain}
PROMPT = torch.tensor([{prompt}])  # the articles' how-are-you chat, in Qwen3's token ids
PROMPTS = [{prompt}, {other_prompt}]  # and why-are-you-running, the batch's other row
OTHER = torch.tensor([{other_prompt}])  # why-are-you-running, the prompt the proof samples on
TEXTS = {texts}  # "Hi dog how are you?", "Hello dog", "how are you?": the batch of S5 and C2
CHECKPOINT_EOS = {eos}  # the eos ids the tiny checkpoint's generation config names
PREFIX, LATER = torch.tensor([{prefix}]), torch.tensor([{later}])  # "Hi dog", then " how are you?"
PAD, STEPS = {pad}, 6
# the proof's kernel tolerance, per dtype (genspec's tolerances.py): a difference within it is the order kernels sum in
TOLERANCE = {tolerance}
CHECKPOINT_SHA256 = {sha256!r}  # the tiny checkpoint's weights, as genspec built them
{weights}
{check}

def weights_sha256(model):
    \"\"\"The hash genspec's tiny.json gives a build: every safetensors file save_pretrained writes, in name order.\"\"\"
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        for path in sorted(pathlib.Path(folder).glob("*.safetensors")):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def in_float64(model):
    \"\"\"The model as the arbiter computes it: float64, a mixture of experts through the eager loop (grouped_mm has no float64).\"\"\"
    exact = copy.deepcopy(model).double()
    if getattr(exact.config, "_experts_implementation", None) not in (None, "eager") and hasattr(exact, "set_experts_implementation"):
        exact.set_experts_implementation("eager")
    return exact


if __name__ == "__main__":
    print(f"{{MODEL_TYPE}} on transformers {{transformers.__version__}}, torch {{torch.__version__}}")
    try:  # anything the script itself cannot do is no finding: exit 2, saying what
        if MODEL_TYPE not in CONFIG_MAPPING:
            raise LookupError(f"transformers {{transformers.__version__}} has no family {{MODEL_TYPE!r}}")
        model = built(CONFIG_MAPPING[MODEL_TYPE].from_dict(json.loads(CONFIG_JSON)), SEED, EMBEDDING_GAIN, LAYER_GAIN)
        model.generation_config = GenerationConfig.from_dict(json.loads(GENERATION_JSON))
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
        exact = finding(in_float64(model), TOLERANCE["float64"])
    except Exception as error:
        print(f"float64 cannot judge ({{type(error).__name__}}: {{error}}): unarbitrated, the float32 verdict stands")
        exact = holds
    if holds and not exact:
        print("float32 rounding: the finding is gone in float64")
    holds = holds and exact
    print("the finding holds" if holds else "the finding is gone on this release")
    sys.exit(1 if holds else 0)
"""


def inputs(checkpoint: Path, tokenizer) -> dict:
    """What a family's scripts are written from, read from its tiny checkpoint: kept in the family's row (JSON)."""
    config = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    for key in ("model_type", "transformers_version", "architectures", "_name_or_path", "dtype", "torch_dtype"):
        config.pop(key, None)
    generation = json.loads((checkpoint / "generation_config.json").read_text(encoding="utf-8"))
    generation.pop("transformers_version", None)
    manifest = json.loads((checkpoint / "tiny.json").read_text(encoding="utf-8"))
    ids = token_ids(tokenizer) | {"pad": manifest.get("pad id", tokenizer.pad_token_id)}  # the id the checkpoint's tokenizer pads with
    return {"config": config, "generation": generation, "seed": manifest["seed"] + manifest["recipe"]["seed_shift"],
            "recipe": manifest["recipe"], "weights sha256": manifest.get("weights sha256", ""), "ids": ids}


def script(family: str, claim: str, claim_text: str, verdict: str, given: dict, release: str) -> str:
    """The reproduction of `family`'s red `claim`, from the inputs its row keeps (`inputs`)."""
    ids, recipe, eos = given["ids"], given["recipe"], given["generation"].get("eos_token_id")
    raised = crashes.raise_site(verdict)
    check = CHECKS[COMPARISONS[claim]] + (CRASH.replace("{raised}", repr(raised)) if raised else "")
    return TEMPLATE.format(
        family=family, claim=claim, claim_text=claim_text, release=release, verdict=" ".join(verdict.split())[:600],
        config=json.dumps(given["config"], sort_keys=True), generation=json.dumps(given["generation"], sort_keys=True),
        seed=given["seed"], embedding_gain=recipe["embedding_gain"], layer_gain=recipe["layer_gain"],
        prompt=ids["prompt"], other_prompt=ids["other_prompt"], prefix=ids["prefix"], later=ids["later"], pad=ids["pad"], texts=ids["texts"],
        eos=sorted(eos if isinstance(eos, list) else [eos] if eos is not None else []),
        tolerance=TOLERANCE, sha256=given["weights sha256"], weights=WEIGHTS, check=check)


def token_ids(tokenizer) -> dict:
    """The token ids the scripts compare on, as the proof makes them."""
    chat = lambda text: tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True,
                                                      enable_thinking=False)
    encode = lambda text: tokenizer(text)["input_ids"]
    prefix = encode("Hi dog")
    return {"prompt": encode(chat("how are you?")), "other_prompt": encode(chat("Why are you running?")), "prefix": prefix,
            "later": encode("Hi dog how are you?")[len(prefix):], "pad": 151643,
            "texts": [encode(text) for text in ("Hi dog how are you?", "Hello dog", "how are you?")]}
