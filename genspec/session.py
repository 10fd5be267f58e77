"""The session's shared computations, as pytest fixtures: each prompt's forward pass, the greedy generations, 001's
classifier, what the model keeps between steps, computed once per run and shared by the proof (spec/) and the tool's
own tests. A plugin of genspec.suite."""

import functools
from dataclasses import dataclass

import pytest
import torch
from transformers import PreTrainedModel

from genspec import loops, state
from genspec.classification import build_classifier, stored_head_key
from genspec.embedded import checkpoint
from genspec.run.applicability import NotApplicable
from genspec.run.finite_scores import not_finite
from genspec.run.loading import encode
from genspec.run.printed import CHAT_PROMPTS, GREEDY_STEPS, PROMPTS


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
        base = base_model_of(model)
        hook = base.register_forward_hook(lambda _module, _inputs, output: caught.append(output.last_hidden_state))
        try:
            with torch.inference_mode():
                logits = model(**tokens).logits
        finally:
            hook.remove()
        if not caught:  # a family whose causal LM calls a part of its base model directly (OPT calls model.decoder)
            with torch.inference_mode():
                caught.append(base(**tokens).last_hidden_state)
        return ForwardPass(tokens, caught[0], logits)

    return forward


def base_model_of(model):
    """`model.base_model`; where that is the causal LM itself (Llama4ForCausalLM: its base_model_prefix names no attribute, which
    A1 reports), the one pretrained model among its children, which is the base model the S claims read."""
    if model.base_model is not model:
        return model.base_model
    inner = [child for child in model.children() if isinstance(child, PreTrainedModel)]
    return inner[0] if len(inner) == 1 else model.base_model


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


@pytest.fixture(scope="session")
def greedy_continuations(greedy_results, forward_passes) -> dict[str, torch.Tensor]:
    """The new ids of `greedy_results`: `result[0, input_len:]` (003)."""
    return {name: result[0, forward_passes[name].tokens["input_ids"].shape[1]:] for name, result in greedy_results.items()}


@pytest.fixture
def evidence(request):
    """`evidence(text)`: what the test saw that makes its claim hold (a near-tie, steps equal), for the proof report."""
    return lambda text: request.node.user_properties.append(("evidence", text))


@pytest.fixture
def picture(request):
    """`picture(data)`: what the test saw, drawn as the article draws it (genspec.reports.pictures), for the proof report's pages."""
    return lambda data: request.node.user_properties.append(("picture", data))


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
    checkpoint.PROFILES.setdefault("tiny", checkpoint.TINY)
    return checkpoint.ensure_stand_in("tiny", 0, settings.cache_root).path


@pytest.fixture(scope="session")
def state_summary(model, forward_passes) -> state.Summary:
    """What the model hands back between steps (genspec/state.py): keys and values, a recurrent state, both, or nothing."""
    with torch.inference_mode():
        return loops.state_summary_of(model, forward_passes["hi"].tokens["input_ids"])


@pytest.fixture(scope="session")
def not_applicable():
    """`not_applicable(reason)`: the part of the claim this test checks is one the model lacks; the one rule
    (Applicability.unjudged) makes it the verdict: not applicable on another family, a failure on the articles' model."""
    def verdict(reason: str):
        raise NotApplicable(reason)
    return verdict


@pytest.fixture(scope="session")
def needs_a_state(model, not_applicable):
    """`needs_a_state(summary)`: a claim about what the model keeps between steps is not applicable where it hands back nothing."""
    def check(summary: state.Summary):
        if summary.nothing:
            not_applicable(f"{type(model).__name__} hands back nothing between steps (a forward pass with use_cache=True returns "
                           "nothing besides its scores); the claim is about what the model keeps between steps")
    return check
