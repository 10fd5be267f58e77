"""Shared, session-scoped forward passes: each prompt goes through the model once per run."""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from safetensors import safe_open

from genspec import loops, state
from genspec.classification import build_classifier, stored_head_key
from genspec.embedded import checkpoint
from genspec.reports.release_recordings import Judged
from genspec.run.applicability import NOT_APPLICABLE
from genspec.run.finite_scores import not_finite
from genspec.run.loading import TRANSFORMERS, encode

# A one-layer, 64-wide member of the family (same tokenizer, same 151,936 rows) for tests of
# loading behaviour that do not need the full-size weights.
TINY = {"num_hidden_layers": 1, "max_window_layers": 1, "hidden_size": 64, "intermediate_size": 128,
        "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 32}

# The articles' prompts: raw "Hi" (000), and "how are you?" / "Why are you running?" as chat (raw where the
# tokenizer has no chat template: genspec.run.loading.prompt_text).
PROMPTS = {"hi": ("Hi", False), "how-are-you-chat": ("how are you?", True), "why-are-you-running-chat": ("Why are you running?", True)}


def on_this_release(claim_id: str, what: str, seen: Judged | None, key: str, part=lambda value: value) -> str:
    """A version rule's verdict, naming the release: what it did, and what was recorded (`part` of it) for the nearest release range."""
    line = f"{claim_id} on transformers {TRANSFORMERS}: {what}"
    if seen is not None and seen.releases is not None and isinstance(seen.observation, dict) and key in seen.observation:
        line += f"; recorded {part(seen.observation[key])} for {seen.releases.label}"
    return line


@dataclass(frozen=True)
class ForwardPass:
    tokens: dict  # the tokenizer's BatchEncoding: input_ids, attention_mask
    last_hidden_state: torch.Tensor  # base_model(**tokens).last_hidden_state
    logits: torch.Tensor  # model(**tokens).logits


@pytest.fixture(scope="session")
def forward_of(model, tokenizer, settings):
    """`forward_of(text, as_chat)`: the ForwardPass of a text, computed once per session."""
    @functools.cache
    def forward(text: str, as_chat: bool = False) -> ForwardPass:
        tokens = encode(tokenizer, text, as_chat, settings.device)
        # One pass: the base model's output is caught as model.forward hands it to the task head.
        caught = []
        hook = model.base_model.register_forward_hook(lambda _module, _inputs, output: caught.append(output.last_hidden_state))
        try:
            with torch.inference_mode():
                logits = model(**tokens).logits
        finally:
            hook.remove()
        if not caught:  # a family whose causal LM calls a part of its base model directly (OPT calls model.decoder)
            with torch.inference_mode():
                caught.append(model.base_model(**tokens).last_hidden_state)
        return ForwardPass(tokens, caught[0], logits)

    return forward


@pytest.fixture(scope="session")
def forward_passes(forward_of) -> dict[str, ForwardPass]:
    """The articles' prompts, by name."""
    return {name: forward_of(user, as_chat) for name, (user, as_chat) in PROMPTS.items()}


@pytest.fixture(scope="session")
def finite_scores(model, forward_passes) -> None:
    """Fails, once for the session, where the scores of the articles' prompts are not finite; every test that reads scores
    then fails at once with that cause (pytest keeps a session fixture's failure) instead of in its own confusing way."""
    problem = not_finite(model, {name: forward.logits for name, forward in forward_passes.items()})
    assert problem is None, problem


def pytest_collection_modifyitems(items):
    """A test that uses the model reads its scores, unless marked reads_no_scores (the printed tree, the errors of E1/E2):
    it needs finite_scores first, before any of its own fixtures runs the model. (Tests of the tool bring their own models.)"""
    for item in items:
        own_models = any(item.get_closest_marker(marker) for marker in ("reads_no_scores", "tool", "end_to_end"))
        if "model" in getattr(item, "fixturenames", ()) and not own_models:
            item.fixturenames.insert(0, "finite_scores")


# Not the articles' 20: in 20 steps a tiny GPT-2's reply repeats too much for G1's varied-continuation guard.
GREEDY_STEPS = 32
CHAT_PROMPTS = ("how-are-you-chat", "why-are-you-running-chat")


NORM_WEIGHT = re.compile(r"norm[^.]*\.weight$")


def stored_norm_weights(checkpoint_path) -> dict[str, torch.Tensor]:
    """Every norm weight as the checkpoint's safetensors store it, by name (read from the files, not from a loaded model)."""
    stored = {}
    for file in checkpoint_path.glob("*.safetensors"):
        with safe_open(str(file), framework="pt") as handle:
            # Qwen3's "…norm.weight"; other families name them "…norm_f.weight", "…layernorm.weight"
            stored |= {name: handle.get_tensor(name) for name in handle.keys() if NORM_WEIGHT.search(name)}  # noqa: SIM118 (not a dict)
    return stored


def stored_tensors(checkpoint_path, names, base_prefix: str = "") -> dict[str, torch.Tensor]:
    """The named tensors as the checkpoint's safetensors store them (read from the files, not from a loaded model).

    A checkpoint may store the base model's tensors without its prefix (GPT-2's `h.0.ln_1.weight` for
    `transformer.h.0.ln_1.weight`); such names are found too, and returned under the model's name."""
    wanted = {name: name for name in names} | {name.removeprefix(f"{base_prefix}."): name for name in names if base_prefix}
    stored = {}
    for file in checkpoint_path.glob("*.safetensors"):
        with safe_open(str(file), framework="pt") as handle:
            stored |= {wanted[key]: handle.get_tensor(key) for key in handle.keys() if key in wanted}  # noqa: SIM118 (not a dict)
    return stored


def token_texts(tokenizer, tokens) -> list[str]:
    """Each token's own text, as 001's tables and tree show them."""
    return [tokenizer.decode([token]) for token in tokens]


def eos_ids(model) -> set[int]:
    """The checkpoint's own end-of-sequence ids, as generate() reads them from its generation config."""
    eos = model.generation_config.eos_token_id
    return set(eos) if isinstance(eos, list) else {eos} - {None}


@pytest.fixture(scope="session")
def greedy_runs(model, forward_passes) -> dict:
    """`model.generate(**tokens, do_sample=False, max_new_tokens=32)` on each chat prompt, with the scores of each step."""
    with torch.inference_mode():
        return {
            name: model.generate(**forward_passes[name].tokens, do_sample=False, max_new_tokens=GREEDY_STEPS,
                                 output_logits=True, return_dict_in_generate=True)
            for name in CHAT_PROMPTS
        }


@pytest.fixture(scope="session")
def greedy_results(greedy_runs) -> dict[str, torch.Tensor]:
    """Prompt + new ids of `greedy_runs`, as `generate()` returns them by default."""
    return {name: run.sequences for name, run in greedy_runs.items()}


@pytest.fixture(scope="session")
def greedy_step_scores(greedy_runs) -> dict[str, torch.Tensor]:
    """The raw scores generate() chose each new token from: one row per step."""
    return {name: torch.cat(run.logits) for name, run in greedy_runs.items()}


def last_position_scores(model, prompt_ids: torch.Tensor, new_tokens) -> Callable[[int], torch.Tensor]:
    """Step k's scores as an uncached pass computes them: one forward over the prompt and the first k new tokens."""
    def at(step: int) -> torch.Tensor:
        prefix = torch.cat([prompt_ids, torch.tensor([list(new_tokens[:step])], device=prompt_ids.device, dtype=prompt_ids.dtype)], dim=-1)
        with torch.inference_mode():
            return model(prefix).logits[0, -1]
    return at


def classifier_scores(classifier, prompt_ids, new_tokens):
    """Step k's scores as the classification loop computes them: the classifier over the prompt and the first k new tokens."""
    def at(step):
        prefix = torch.cat([prompt_ids, torch.tensor([new_tokens[:step]], device=prompt_ids.device, dtype=prompt_ids.dtype)], dim=-1)
        with torch.inference_mode():
            return classifier(prefix).logits[0]
    return at


@pytest.fixture
def evidence(request):
    """`evidence(text)`: what the test saw that makes its claim hold (a near-tie, steps equal), for the proof report."""
    return lambda text: request.node.user_properties.append(("evidence", text))


@pytest.fixture
def picture(request):
    """`picture(data)`: what the test saw, drawn as the article draws it (genspec.reports.pictures), for the proof report's pages."""
    return lambda data: request.node.user_properties.append(("picture", data))


@pytest.fixture(scope="session")
def greedy_continuations(greedy_results, forward_passes) -> dict[str, torch.Tensor]:
    """The new ids of `greedy_results`: `result[0, input_len:]` (003)."""
    return {name: result[0, forward_passes[name].tokens["input_ids"].shape[1]:] for name, result in greedy_results.items()}


@pytest.fixture(scope="session")
def stored_head(source, model) -> str | None:
    """The name the checkpoint stores the causal LM's head under (lm_head.weight in 001), None on a tied save."""
    return stored_head_key(source.path, model)


@pytest.fixture(scope="session")
def classifier_and_info(source, settings, model, stored_head):
    """001's Qwen3ForSequenceClassification built from the same checkpoint, its loading info, and the form it was built in."""
    return build_classifier(source.path, model, settings.dtype, settings.device, stored_head)


@pytest.fixture(scope="session")
def classifier(classifier_and_info):
    return classifier_and_info[0]


@pytest.fixture(scope="session")
def tiny_stand_in(settings):
    """A tiny stand-in checkpoint, built on first use into the stand-in cache beside the default (atomically, under its lock),
    and only read by the tests (one that edits it edits a copy)."""
    checkpoint.PROFILES.setdefault("tiny", TINY)
    return checkpoint.ensure_stand_in("tiny", 0, settings.cache_root).path


@pytest.fixture(scope="session")
def kept_between_steps(model, forward_passes) -> state.Kept:
    """What the model hands back between steps (genspec/state.py): keys and values, a recurrent state, both, or nothing."""
    with torch.inference_mode():
        return loops.state_kept_by(model, forward_passes["hi"].tokens["input_ids"])


@pytest.fixture(scope="session")
def not_applicable(applies):
    """`not_applicable(reason)`: the part of the claim this test checks is one the model lacks. True of another family, so a
    skip that says why; on the article's model (its configuration and tokenizer) nothing is lacking, so a failure that says so."""
    def verdict(reason: str):
        if applies.article_model:
            pytest.fail(applies.missing_on_the_article_model(reason), pytrace=False)
        pytest.skip(f"{NOT_APPLICABLE}{reason}")
    return verdict


@pytest.fixture(scope="session")
def needs_a_state(model, not_applicable):
    """`needs_a_state(kept)`: a claim about what the model keeps between steps is not applicable where it hands back nothing."""
    def check(kept: state.Kept):
        if kept.nothing:
            not_applicable(f"{type(model).__name__} hands back nothing between steps (a forward pass with use_cache=True returns "
                           "nothing besides its scores); the claim is about what the model keeps between steps")
    return check
