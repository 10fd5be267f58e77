"""G: generation is forward run in a for-loop; each hand-written loop equals `model.generate` (001, 003, 004)."""

import copy
import traceback
from pathlib import Path
from typing import NamedTuple

import pytest
import torch
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from transformers import pipeline
from transformers.generation import (
    LogitsProcessorList,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from genspec import loops, state
from genspec.agreement import agree, assert_scores_agree
from genspec.reports import observations, pictures
from genspec.run.applicability import CannotShow, NotApplicable
from genspec.run.loading import prompt_text, token_texts
from genspec.run.printed import CHAT_PROMPTS, GREEDY_STEPS, PROMPTS
from genspec.run.tolerances import kernel_atol, near_tie_bound
from genspec.steps import eos_ids, last_position_scores

PROMPT = "how-are-you-chat"
SHORT = 6  # new tokens for the comparisons that need several generate() runs
# The short reply is looped to its end (on eos, or max_new_tokens), which G2 reuses; the long one in part.
G1_STEPS = {"how-are-you-chat": GREEDY_STEPS, "why-are-you-running-chat": 8}
SEEDS = (0, 1)
# generate() fills every setting not passed from the checkpoint's generation config, so a loop
# compared with it must name all of them; these values switch an edit off.
NEUTRAL = {"temperature": 1.0, "top_k": 0, "top_p": 1.0}
# Qwen3-0.6B's default sampling settings, as G5 and the model card state them.
CARD_SAMPLING = {"temperature": 0.6, "top_k": 20, "top_p": 0.95}


def new_tokens(result, prompt_ids):
    return result[0, prompt_ids.shape[1]:].tolist()


def parting(looped, generated, loop="the loop") -> str:
    """Where two token sequences part, for a verdict a reader can follow."""
    step = next((i for i, (a, b) in enumerate(zip(looped, generated, strict=False)) if a != b), min(len(looped), len(generated)))
    took = [tokens[step] if step < len(tokens) else "nothing (it had ended)" for tokens in (looped, generated)]
    return (f"{loop} and generate() part at step {step} of {max(len(looped), len(generated))}: {loop} took {took[0]}, "
            f"generate() took {took[1]}; equal before it: {looped[:step]}")


def attends_to_later_tokens(model, ids, continuation, settings) -> str:
    """Why a loop and generate() may part on a model that is no causal LM: its scores of the prompt move when the reply is appended,
    and generate() reads only the newest token each step against what it kept, where the loop reads the whole text."""
    with torch.inference_mode():
        alone = model(ids).logits[0].float()
        extended = model(torch.cat([ids, torch.tensor([continuation], device=ids.device, dtype=ids.dtype)], dim=-1)).logits[0, : ids.shape[1]].float()
    moved = (extended - alone).abs().max().item()
    if moved <= kernel_atol(settings.dtype):
        return ""
    return (f"; why: the prompt's own scores move by up to {moved:.3g} when the reply is appended (kernel paths move them by at most "
            f"{kernel_atol(settings.dtype)}): {type(model).__name__} attends to later tokens, so generate(), which feeds each step only the "
            "newest token, shows it fewer tokens than the loop, which reads the whole text")


def positions_restart(model, ids, generated, settings) -> str:
    """A finding of its own, not a refutation of G1: handed its cache and the next token without position_ids, as a hand-written
    loop may call it, the model numbers that token from 0 again (Bamba); generate() and the loops pass the positions. "" if not."""
    with torch.inference_mode():
        returned_as, kept = state.handed_back(model, model(ids, use_cache=True))
        if returned_as is None:
            return ""
        following = torch.tensor([[generated[0]]], device=ids.device, dtype=ids.dtype)
        unnumbered = model(following, **{returned_as: copy.deepcopy(kept)}, use_cache=True).logits[0, -1].float()
        numbered = model(following, **{returned_as: copy.deepcopy(kept)}, use_cache=True,
                         position_ids=torch.tensor([[ids.shape[1] + loops.numbering_start(model, ids)]],
                                                   device=ids.device)).logits[0, -1].float()
    moved = (unnumbered - numbered).abs().max().item()
    if moved <= kernel_atol(settings.dtype):
        return ""
    return (f"handed its cache and the next token without position_ids, {type(model).__name__} scores that token otherwise than at "
            f"position {ids.shape[1]} (by up to {moved:.3g}): it does not number the token from its cache, so a hand-written cached "
            "loop must pass position_ids, as generate() and genspec's loops do")


def numbering_departs(model, ids, settings) -> str:
    """Why a loop that numbers every step as the model's own forward does parts from generate(): generate() hands position_ids
    counted from 0, where the model numbers a text from after its padding id (RoBERTa and its kin). "" where they agree."""
    if "position_ids" not in state.forward_parameters(model):
        return ""
    with torch.inference_mode():
        own = model(ids).logits[:, -1:]
        start = loops.numbering_start(model, ids)
        if start == 0:
            return ""
        from_zero = model(ids, position_ids=torch.arange(ids.shape[1], device=ids.device)[None]).logits[0, -1].float()
    moved = (from_zero - own[0, -1].float()).abs().max().item()
    return (f"generate() hands position_ids counted from 0, where {type(model).__name__}'s own forward numbers a text from {start} (after its "
            f"padding id {start - 1}): numbered by generate(), the prompt's last token scores otherwise by up to {moved:.3g} (the kernel "
            f"tolerance is {kernel_atol(settings.dtype)}); genspec's loops number every step as the model does")


def padding_is_read(model, batch, row, alone_ids, settings) -> str:
    """Why a left-padded row may part from its prompt alone: whether one forward pass over the padded batch already scores it otherwise."""
    with torch.inference_mode():
        batched = model(**batch).logits[row, -1].float()
        alone = model(alone_ids).logits[0, -1].float()
    difference, padded = (batched - alone).abs().max().item(), int((batch["attention_mask"][row] == 0).sum())
    atol = kernel_atol(settings.dtype)
    if difference > atol:
        return (f"; why: one forward pass over row {row}, {padded} padding tokens on its left marked 0 in the attention mask, already scores "
                f"its next token otherwise than the prompt alone (by up to {difference:.3g}, where kernel paths move a score by at most {atol}): "
                f"{type(model).__name__} reads the padding the mask marks")
    return (f"; why: one forward pass over row {row} scores as the prompt alone (within {difference:.3g}), so the rows part later, in what "
            "generate() carries between steps for the batch")


def assert_varied(tokens, at_least=SHORT // 2):
    """Equality of two loops means nothing if the model repeats one token: then this model cannot show the claim (a verdict
    about the evidence, not a refutation; on the articles' model, a failure)."""
    if len(set(tokens)) < at_least:
        raise CannotShow(f"the continuation repeats: {len(set(tokens))} distinct tokens of {len(tokens)}, fewer than the {at_least} "
                         f"that would tell two loops apart ({tokens[:12]}{' …' if len(tokens) > 12 else ''})")


@pytest.fixture(scope="module")
def prompt_ids(forward_passes):
    return forward_passes[PROMPT].tokens["input_ids"]


@pytest.fixture(scope="module")
def greedy_loops(model, forward_passes) -> dict[str, torch.Tensor]:
    """The cached greedy loop on each chat prompt, G1_STEPS steps or to the checkpoint's eos."""
    with torch.inference_mode():
        return {name: loops.greedy(model, forward_passes[name].tokens["input_ids"], G1_STEPS[name], eos_token_ids=eos_ids(model))
                for name in CHAT_PROMPTS}


@pytest.mark.claim("G1")
@pytest.mark.parametrize("prompt", CHAT_PROMPTS)
def test_greedy_loop_equals_generate(model, tokenizer, settings, forward_passes, greedy_loops, greedy_results, greedy_step_scores, prompt, recorded,
                                     picture, evidence):
    """G1 (001, 004): argmax of the last position, append, repeat — exactly `generate(do_sample=False)`."""
    ids = forward_passes[prompt].tokens["input_ids"]
    steps, looped = G1_STEPS[prompt], new_tokens(greedy_loops[prompt], ids)
    generated = new_tokens(greedy_results[prompt], ids)
    recorded({"generate": generated, "text": tokenizer.decode(generated)}, decided_by="rounding")
    first = greedy_step_scores[prompt][0]
    picture(pictures.flow(f"001's loop, its first step on {prompt}", [
        ("text sequence", f"…{tokenizer.decode(ids[0, -4:])!r}"), ("model.forward()", f"scores 1×{first.shape[-1]}"),
        ("selected token", f"argmax {first.argmax().item()} {tokenizer.decode([first.argmax().item()])!r} ({first.max().item():.2f})"),
        ("appended", f"{ids.shape[1]} → {ids.shape[1] + 1} tokens")], loop_back=f"repeated for {len(generated)} steps"))
    picture(pictures.strip(f"the greedy loop beside generate(do_sample=False) on {prompt}", ("greedy loop", "generate()"),
                           token_texts(tokenizer, looped), token_texts(tokenizer, generated[:steps])))
    unnumbered, departs = positions_restart(model, ids, generated, settings), numbering_departs(model, ids, settings)
    assert looped == generated[:steps], (parting(looped, generated[:steps], "the greedy loop") + attends_to_later_tokens(model, ids, generated, settings)
                                         + (f"; why: {departs}" if departs else "") + (f"; note: {unnumbered}" if unnumbered and not departs else ""))
    if unnumbered:
        evidence(f"note: {unnumbered}")
    # Past the looped steps, generate() itself must do nothing but take the argmax of the model's scores:
    # a greedy generate() that edited them (a repetition penalty) picks another token where a word recurs.
    argmax = greedy_step_scores[prompt].argmax(dim=-1).tolist()
    edited = [(step, token, best) for step, (token, best) in enumerate(zip(generated, argmax, strict=True)) if token != best]
    assert not edited, "generate(do_sample=False) did not take the top score at (step, chose, top): " + str(edited[:5])
    assert_varied(looped, at_least=min(10, len(looped) // 2))


@pytest.mark.claim("G2")
def test_generation_stops_at_the_checkpoints_eos_or_max_new_tokens(model, forward_passes, greedy_loops, greedy_results, greedy_continuations,
                                                                   evidence):
    """G2 (001, 003): without eos_token_id passed, generate() stops on the checkpoint's own eos or after max_new_tokens, whichever comes first."""
    eos = eos_ids(model)
    ended = []
    for name in CHAT_PROMPTS:
        continuation = greedy_continuations[name].tolist()
        at = [step for step, token in enumerate(continuation) if token in eos]
        if at:
            assert at == [len(continuation) - 1], f"{name}: eos {sorted(eos)} at steps {at} of {len(continuation)}: generation went on past it"
            ended.append(name)
        else:
            assert len(continuation) == GREEDY_STEPS, f"{name}: {len(continuation)} new tokens, no eos, max_new_tokens {GREEDY_STEPS}"
    if not eos:
        raise NotApplicable(f"the checkpoint names no eos_token_id (generation config and config): only the max_new_tokens stop applies, "
                            f"and both replies ran its {GREEDY_STEPS} steps")
    # Every eos id the checkpoint names stops generation, not only the one a reply happens to end on (Qwen3-0.6B names two:
    # <|im_end|> ends its chat replies, <|endoftext|> its plain text): each made the model's top score at one step, generate()
    # and the loop told the same ids must both end there.
    for token in sorted(eos):
        eos_stop_when_the_model_scores_it_top(model, forward_passes[CHAT_PROMPTS[0]].tokens, token, eos)
    evidence(f"each of the checkpoint's eos {sorted(eos)}, made the model's top score at step {SHORT}, ended generate() and the loop there")
    if not ended:  # no reply reaches an eos here (another model; 4.x's tied head, A7; a bfloat16 near-tie broken another way)
        evidence(f"no reply reaches an eos within {GREEDY_STEPS} steps here, so they show the max_new_tokens stop")
        return
    # The loop knows nothing of generation configs: told the same eos ids, it stops where generate() stopped by itself.
    looped = greedy_loops[ended[0]]
    if G1_STEPS[ended[0]] < GREEDY_STEPS:  # G1 looped this reply only in part
        with torch.inference_mode():
            looped = loops.greedy(model, forward_passes[ended[0]].tokens["input_ids"], GREEDY_STEPS, eos_token_ids=eos)
    assert looped.tolist() == greedy_results[ended[0]].tolist(), parting(looped[0].tolist(), greedy_results[ended[0]][0].tolist(), "the greedy loop")
    evidence(f"{ended[0]} ends on eos {greedy_continuations[ended[0]][-1].item()} after {len(greedy_continuations[ended[0]])} tokens"
             + "".join(f", {name} runs {GREEDY_STEPS}" for name in CHAT_PROMPTS if name not in ended))


def eos_stop_when_the_model_scores_it_top(model, tokens, eos: int, all_eos: set[int], step=SHORT) -> None:
    """generate() without eos_token_id, and the loop told `all_eos`, with the model's own scores at step `step` edited so that `eos`
    tops them: both must end on it there. The edit is made to what the model returns, before any of generate()'s processors: a
    generate() that suppressed or ignored one of the checkpoint's eos ids would go on, and fail here."""
    calls = []
    if "position_ids" in state.forward_parameters(model):  # the loop's numbering, asked before the hook counts the forward's calls
        with torch.inference_mode():
            loops.numbering_start(model, tokens["input_ids"])

    def eos_on_top(_module, _inputs, output):
        if len(calls) == step:  # the first call reads the prompt and scores step 0; each later call one step more
            output.logits[:, -1, eos] = output.logits[:, -1].max() + 1
        calls.append(None)
        return output

    hook = model.register_forward_hook(eos_on_top)
    try:
        with torch.inference_mode():
            generated = new_tokens(model.generate(**tokens, do_sample=False, max_new_tokens=GREEDY_STEPS), tokens["input_ids"])
            calls.clear()
            looped = new_tokens(loops.greedy(model, tokens["input_ids"], GREEDY_STEPS, eos_token_ids=all_eos), tokens["input_ids"])
    finally:
        hook.remove()
    for who, new in (("generate()", generated), ("the loop", looped)):
        assert new[-1] == eos and len(new) == step + 1, (
            f"the checkpoint's eos {eos} was the model's top score at step {step}, yet {who} went on: {len(new)} new tokens, the last "
            f"{new[-3:]}" + ("" if who == "the loop" else f" (generate() reads the eos ids {sorted(all_eos)} from the generation config)"))


@pytest.mark.claim("G2")
def test_generation_stops_at_eos(model, prompt_ids, greedy_continuations):
    """G2 (001 "till model generates end of sequence token"): with eos_token_id set to a token it will produce, generation ends on it."""
    continuation = greedy_continuations[PROMPT].tolist()
    # The first token from step 4 on that did not occur before: generation must run past 4 steps and stop there.
    stop_at = next((i for i in range(4, len(continuation)) if continuation[i] not in continuation[:i]), None)
    if stop_at is None:
        raise CannotShow(f"the reply repeats: no token after step 4 that did not come before it, to stop on ({continuation})")
    eos = continuation[stop_at]
    with torch.inference_mode():
        generated = model.generate(prompt_ids, attention_mask=torch.ones_like(prompt_ids), do_sample=False, max_new_tokens=GREEDY_STEPS, eos_token_id=eos)
        looped = loops.greedy(model, prompt_ids, GREEDY_STEPS, eos_token_ids={eos})
    generated, looped = new_tokens(generated, prompt_ids), new_tokens(looped, prompt_ids)
    assert generated == continuation[: stop_at + 1], \
        f"told eos_token_id={eos}, generate() should end on it at step {stop_at}: " + parting(continuation[: stop_at + 1], generated, "the greedy reply cut at it")
    assert looped == generated, parting(looped, generated, "the greedy loop")


@pytest.mark.claim("G3")
@pytest.mark.parametrize("prompt", CHAT_PROMPTS)
def test_output_starts_with_the_input(greedy_results, forward_passes, prompt):
    """G3 (003, 001): the output of `generate()` starts with the input tokens."""
    ids = forward_passes[prompt].tokens["input_ids"]
    result = greedy_results[prompt]
    assert result.shape[1] > ids.shape[1]
    assert torch.equal(result[:, : ids.shape[1]], ids)


@pytest.mark.claim("G4")
def test_cache_changes_nothing_but_speed(model, tokenizer, prompt_ids, greedy_results, greedy_step_scores, settings, state_summary, needs_a_state,
                                        evidence, picture):
    """G4 (001): what the model keeps between steps (past_key_values) only speeds things up: the loop that reads the whole text every
    step gives the same tokens as generate() feeding back its state, up to a near-tie that rounding decides."""
    needs_a_state(state_summary)
    with torch.inference_mode():
        uncached = new_tokens(loops.greedy(model, prompt_ids, SHORT, use_cache=False), prompt_ids)
    cached = new_tokens(greedy_results[PROMPT], prompt_ids)[:SHORT]  # the cached loop equals generate (G1)
    agreement = agree(uncached, cached, last_position_scores(model, prompt_ids, uncached), greedy_step_scores[PROMPT].__getitem__,
                      near_tie_bound(settings.dtype), ("uncached loop", "cached generate()"))
    evidence(f"kept between steps: {state_summary}; {agreement.evidence}")
    picture(pictures.strip("the loop without past_key_values beside cached generate()", ("uncached loop", "cached generate()"),
                           token_texts(tokenizer, uncached), token_texts(tokenizer, cached), agreement.near_tie))
    assert_varied(uncached)


@pytest.mark.claim("G4")
def test_cached_and_uncached_scores_agree(model, prompt_ids, greedy_results, greedy_step_scores, settings, state_summary, needs_a_state):
    """G4 (001): the scores generate() computes step by step with what the model keeps are those of one uncached pass over the result."""
    needs_a_state(state_summary)
    with torch.inference_mode():
        uncached = model(greedy_results[PROMPT]).logits[0, prompt_ids.shape[1] - 1 : -1]
    step_scores = greedy_step_scores[PROMPT]  # one row per generated token
    what, atol = "generate()'s scores step by step, carrying its state, against one uncached pass over the result", kernel_atol(settings.dtype)
    if uncached.dtype.itemsize > step_scores.dtype.itemsize:
        # generate() hands its scores back in float32 whatever the model computes in (generation/utils.py: `.to(copy=True,
        # dtype=torch.float32, ...)`): in float64 the uncached pass is rounded as they were, and may differ by one float32 ulp.
        uncached = uncached.to(step_scores.dtype)
        atol += torch.finfo(step_scores.dtype).eps * uncached.abs().max().item()
        what += f", rounded to the {str(step_scores.dtype).removeprefix('torch.')} generate() hands its scores back in"
    # One token at a time against the whole sequence at once: reshaped products (tolerances.py).
    assert_scores_agree(step_scores, uncached, atol, what, ("step", "token"))


class Sampling(NamedTuple):
    edits: dict  # the loop's temperature, top_k, top_p
    generate_settings: dict  # what generate() is passed to draw with the same edits
    how: str  # for the proof report


@pytest.fixture(scope="module")
def sampling(model) -> Sampling:
    """How G5–G7 sample: generate() as the checkpoint configures it where its generation config samples with all three edits
    set (Qwen3-0.6B's); where it does not (GPT-2's is greedy), do_sample=True with the model card's settings passed."""
    config = model.generation_config
    configured = {name: getattr(config, name, None) for name in CARD_SAMPLING}
    if config.do_sample and None not in configured.values():
        return Sampling(configured, {}, f"generate() as the checkpoint's generation config samples: {configured}")
    return Sampling(CARD_SAMPLING, {"do_sample": True, **CARD_SAMPLING},
                    f"the checkpoint's generation config does not sample (do_sample={config.do_sample}): do_sample=True and {CARD_SAMPLING} passed")


@pytest.mark.claim("G5")
@pytest.mark.article_config
def test_default_generation_config_is_the_model_cards(model):
    """G5 (000 "text generation is a randomised process"): the checkpoint's default config samples with temperature 0.6, top_k 20, top_p 0.95."""
    config = model.generation_config
    assert config.do_sample is True, f"the checkpoint's generation config does not sample (do_sample={config.do_sample}); the model card's does"
    configured = {name: getattr(config, name) for name in CARD_SAMPLING}
    differing = ", ".join(f"{name} {configured[name]} where the model card has {CARD_SAMPLING[name]}" for name in CARD_SAMPLING
                          if configured[name] != CARD_SAMPLING[name])
    assert not differing, f"the checkpoint's generation config samples with {differing}"


# Sampling runs on the prompt whose reply runs long: a draw of <|im_end|> at the second step would leave nothing to compare.
SAMPLING_PROMPT = "why-are-you-running-chat"
SAMPLED_STEPS = 8
G7_SEED = 2
# Whether an edit changes one of 8 draws depends on the seed and on the machine's rounding (in bfloat16 on
# another CPU's kernels the first top-p change came at seed 13: top-p drops at most 5% of the mass, so a
# draw changes with at most that chance): the checks that each edit matters try these seeds in turn, each
# only while none so far shows it, and need one of them to.
MORE_SEEDS = range(40)


@pytest.fixture(scope="module")
def sampling_ids(forward_passes):
    return forward_passes[SAMPLING_PROMPT].tokens["input_ids"]


def generate_sampled(model, prompt_ids, seed, **settings):
    """`generate()` with the global RNG seeded, as a user runs it: its new ids, and the raw scores it drew each one from."""
    torch.manual_seed(seed)
    with torch.inference_mode():
        result = model.generate(prompt_ids, attention_mask=torch.ones_like(prompt_ids), max_new_tokens=SAMPLED_STEPS,
                                output_logits=True, return_dict_in_generate=True, **settings)
    return new_tokens(result.sequences, prompt_ids), [step[0] for step in result.logits]


def loop_sampled(model, prompt_ids, seed, **edits):
    """The sampling loop with its own generator seeded like the global one; new ids only."""
    with torch.inference_mode():
        return new_tokens(loops.sample(model, prompt_ids, SAMPLED_STEPS, seed, eos_token_ids=eos_ids(model), **edits), prompt_ids)


def first_seed_an_edit_changes(model, prompt_ids, runs, edits, without, **generate_settings) -> dict:
    """Seeds in turn — those of `runs` (seed: (drawn, step scores)), then fresh generate() runs — until one draws
    differently without the edit: {seed: first differing step, or None} for every seed tried."""
    tried = {}
    for seed in [*runs, *(seed for seed in MORE_SEEDS if seed not in runs)]:
        drawn, step_scores = runs[seed] if seed in runs else generate_sampled(model, prompt_ids, seed, **generate_settings)
        tried[seed] = first_draw_an_edit_changes(prompt_ids, drawn, step_scores, seed, edits, without)
        if tried[seed] is not None:
            break
    return tried


def describe(edits, without) -> str:
    """The edit that `without` leaves out, as `name=value`."""
    return ", ".join(f"{name}={value}" for name, value in edits.items() if without.get(name) != value)


def first_draw_an_edit_changes(prompt_ids, drawn, step_scores, seed, edits, without):
    """Replays the draws of a run from the scores it drew from, each step once with `edits` and once with `without`
    from the same generator state: the first step whose token differs, or None. Up to that step both runs saw the
    same text, so the run's own scores are the ones either would have used."""
    generator = loops.seeded_generator(prompt_ids.device, seed)
    for step, scores in enumerate(step_scores):
        ids = torch.cat([prompt_ids, torch.tensor([drawn[:step]], device=prompt_ids.device, dtype=prompt_ids.dtype)], dim=-1)
        generator_state = generator.get_state()
        tokens = []
        for chosen in (edits, without):
            generator.set_state(generator_state)
            tokens.append(torch.multinomial(loops.edit_scores(scores[None].float(), ids, **chosen).softmax(-1), 1, generator=generator).item())
        if tokens[0] != tokens[1]:
            assert drawn[step] == tokens[0], (f"at step {step} the run drew {drawn[step]}, what its scores draw without {describe(edits, without)}; "
                                              f"with it they draw {tokens[0]}: the run did not apply the edit")
            return step
        assert tokens[0] == drawn[step], f"the replay drew {tokens[0]} at step {step}, the run drew {drawn[step]}"
    return None


@pytest.fixture(scope="module")
def sampled_by_seed(model, sampling_ids, sampling):
    """Per seed: (the sampling loop with the checkpoint's temperature, top-k and top-p, `generate()` as the checkpoint configures it)."""
    return {seed: (loop_sampled(model, sampling_ids, seed, **sampling.edits), generate_sampled(model, sampling_ids, seed, **sampling.generate_settings))
            for seed in SEEDS}


@pytest.mark.claim("G5")
def test_default_sampling_varies_by_seed_repeats_by_seed(model, sampling_ids, sampling, sampled_by_seed, recorded, evidence):
    """G5 (000): with the default config output varies run to run and repeats under a fixed seed."""
    (_, (first, _)), (_, (other, _)) = sampled_by_seed[0], sampled_by_seed[1]
    recorded({"seed 0": first, "seed 1": other}, decided_by="generator")
    evidence(sampling.how)
    again = generate_sampled(model, sampling_ids, 0, **sampling.generate_settings)[0]
    assert again == first, "under seed 0 twice: " + parting(again, first, "the second run")
    assert first != other, (f"seeds 0 and 1 drew the same {len(first)} tokens {first}: the sampled output does not vary "
                            "(a model this sure of every next token samples what greedy decoding picks)")


@pytest.mark.claim("G5")
def test_greedy_generation_is_deterministic(model, sampling_ids, greedy_continuations):
    """G5 (000): with do_sample=False generation is deterministic: under another seed it gives the greedy reply again."""
    again, greedy = generate_sampled(model, sampling_ids, 2, do_sample=False)[0], greedy_continuations[SAMPLING_PROMPT][:SAMPLED_STEPS].tolist()
    assert again == greedy, parting(again, greedy, "generate(do_sample=False) under seed 2") + " (the greedy reply's generate() ran first)"


@pytest.mark.claim("G6")
@pytest.mark.parametrize("seed", SEEDS)
def test_sampling_loop_equals_generate_under_one_seed(sampled_by_seed, seed, recorded):
    """G6 (001 Generation strategy): softmax of the edited scores and a seeded draw give exactly the default `generate()`."""
    looped, (generated, _) = sampled_by_seed[seed]
    recorded({"generate": generated}, decided_by="generator")
    assert looped == generated, parting(looped, generated, f"the sampling loop under seed {seed}")
    assert_varied(looped)


@pytest.mark.claim("G6")
@pytest.mark.parametrize("dropped", ["temperature", "top_k", "top_p"])
def test_each_default_edit_changes_a_draw(model, sampling_ids, sampling, sampled_by_seed, dropped, evidence):
    """G6: the equality above is only worth something if each edit matters: without it, some seed's draws differ."""
    if sampling.edits[dropped] in (None, NEUTRAL[dropped]):
        raise NotApplicable(f"the checkpoint's generation config leaves {dropped} off ({sampling.edits[dropped]}): there is no edit to drop")
    without = sampling.edits | {dropped: NEUTRAL[dropped] if dropped == "temperature" else None}
    changed = first_seed_an_edit_changes(model, sampling_ids, {seed: sampled_by_seed[seed][1] for seed in SEEDS}, sampling.edits, without,
                                         **sampling.generate_settings)
    if all(step is None for step in changed.values()):
        raise CannotShow(f"dropping {dropped} changes no draw under seeds {list(changed)}: G6 could not tell a generate() that forgot it")
    seed, step = list(changed.items())[-1]
    evidence(f"without {dropped}: seed {seed} draws differently at step {step}" + (f" ({len(changed) - 1} seed{'s' * (len(changed) > 2)} before it unchanged)" if len(changed) > 1 else ""))


@pytest.mark.claim("G6")
def test_sampling_loop_differs_under_another_seed(sampled_by_seed):
    """G6: the equality comes from the shared seed — a loop seeded differently from generate draws differently."""
    looped_seed_0, (_, (generated_seed_1, _)) = sampled_by_seed[0][0], sampled_by_seed[1]
    if looped_seed_0 == generated_seed_1:
        raise CannotShow(f"the loop under seed 0 and generate() under seed 1 drew the same tokens {looped_seed_0}: the draws do not "
                         "depend on the seed here, so their equality under one seed proves nothing")


@pytest.mark.claim("G7")
@pytest.mark.parametrize("edits", [{"repetition_penalty": 1.3, "top_k": 50}, {"top_k": 5, "temperature": 1.5}],
                         ids=["repetition-penalty-top-50", "top-5-hot"])
def test_score_edits_before_selection_equal_generate(model, sampling_ids, edits, recorded, evidence):
    """G7 (001): repetition penalty and top-k are score edits before the draw; each changes the draw, and loops with them equal generate."""
    looped = loop_sampled(model, sampling_ids, G7_SEED, **edits)
    generated, step_scores = generate_sampled(model, sampling_ids, G7_SEED, do_sample=True, **(NEUTRAL | edits))
    recorded({"generate": generated}, decided_by="generator")
    assert looped == generated, parting(looped, generated, f"the loop with {edits} under seed {G7_SEED}")
    assert_varied(looped)
    for edit in edits:
        without = {name: value for name, value in edits.items() if name != edit}
        changed = first_seed_an_edit_changes(model, sampling_ids, {G7_SEED: (generated, step_scores)}, edits, without,
                                             do_sample=True, **(NEUTRAL | edits))
        if all(step is None for step in changed.values()):
            raise CannotShow(f"{edit}={edits[edit]} changes no draw under seeds {list(changed)}: the equality could not tell a generate() "
                             "that ignored it")
        evidence(f"without {edit}={edits[edit]}: " + ", ".join(f"seed {seed} step {step}" for seed, step in changed.items() if step is not None))


@pytest.mark.claim("G6", "G7")
@hypothesis_settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 2**31), temperature=st.sampled_from([0.6, 1.0, 1.7]), top_k=st.sampled_from([None, 1, 20, 500]),
       top_p=st.sampled_from([None, 0.5, 0.95]), repetition_penalty=st.sampled_from([None, 0.7, 1.3]))
def test_score_edits_equal_transformers_processors(seed, temperature, top_k, top_p, repetition_penalty):
    """G6, G7 (001 "editing to the model's output score"): each edit, in transformers' order, gives exactly what its processors give."""
    generator = torch.Generator().manual_seed(seed)
    scores = torch.randn(2, 1000, generator=generator) * 4  # both signs, so the penalty's two branches both run
    ids = torch.randint(0, 1000, (2, 12), generator=generator)
    processors = LogitsProcessorList(
        ([RepetitionPenaltyLogitsProcessor(repetition_penalty)] if repetition_penalty else [])
        + [TemperatureLogitsWarper(temperature)]
        + ([TopKLogitsWarper(top_k)] if top_k else [])
        + ([TopPLogitsWarper(top_p)] if top_p else [])
    )
    edited = loops.edit_scores(scores, ids, temperature=temperature, top_k=top_k, top_p=top_p, repetition_penalty=repetition_penalty)
    assert torch.equal(edited, processors(ids, scores.clone()))


@pytest.mark.claim("G8")
def test_beam_search_loop_equals_generate(model, prompt_ids, recorded):
    """G8 (001): walking the tree while keeping path scores equals `generate(num_beams=3, do_sample=False)`."""
    parents = []
    with torch.inference_mode():
        looped = loops.beam_search(model, prompt_ids, num_beams=3, max_new_tokens=SHORT, parents=parents)
        try:
            generated = model.generate(prompt_ids, attention_mask=torch.ones_like(prompt_ids), num_beams=3, do_sample=False, max_new_tokens=SHORT)
        except ValueError as refusal:  # RWKV: "cannot use beam search with a cache currently, as the cache cannot be reordered"
            if "beam search" not in str(refusal):
                raise
            raise NotApplicable(f"transformers' generate() has no beam search for {type(model).__name__}: {refusal}") from None
        except (IndexError, RuntimeError) as crash:  # transformers' own beam search broke on this family (LFM2's cache on 4.57)
            where = traceback.extract_tb(crash.__traceback__)[-1]
            pytest.fail(f"transformers' generate(num_beams=3) itself raised {type(crash).__name__}: {crash} (in {Path(where.filename).name}, "
                        f"{where.name}), so it cannot equal the beam loop, which walked {new_tokens(looped, prompt_ids)}", pytrace=False)
    recorded({"generate": new_tokens(generated, prompt_ids)}, decided_by="rounding")
    # A beam that takes another beam's history needs that beam's cache: only such steps test the cache reorder.
    # (Step 0 does not count: all beams start from the same prompt.)
    reordered = [step for step, parent in enumerate(parents[1:], start=1) if parent.tolist() != list(range(len(parent)))]
    assert new_tokens(looped, prompt_ids) == new_tokens(generated, prompt_ids), \
        parting(new_tokens(looped, prompt_ids), new_tokens(generated, prompt_ids), "the beam loop's best beam") + f" (beams reordered at steps {reordered})"
    if len(reordered) < 2:
        raise CannotShow(f"beams took another beam's history only at steps {reordered}: too few to prove the walk")
    assert_varied(new_tokens(looped, prompt_ids), at_least=SHORT // 3)


@pytest.mark.claim("G9")
def test_top_branch_at_each_step_is_the_greedy_path(model, tokenizer, prompt_ids, greedy_continuations, greedy_step_scores, settings, recorded,
                                                     picture):
    """G9 (001 Decision Tree): the top-3 branches at each step; following the highest score at each step is the greedy path."""
    depth = SHORT // 2
    with torch.inference_mode():
        tree = loops.top_k_tree(model, prompt_ids, k=3, depth=depth)
    recorded({"branches": [[token for token, _ in step] for step in tree],
              "scores": observations.tensor(torch.tensor([[score for _, score in step] for step in tree]))}, decided_by="rounding")
    picture(pictures.tree("001's decision tree: the top-3 branches at each step and their scores; the greedy path in red",
                          tokenizer.decode(prompt_ids[0, -4:]), [[(tokenizer.decode([token]), score) for token, score in step] for step in tree]))
    top_path, greedy_path = [branches[0][0] for branches in tree], greedy_continuations[PROMPT][:depth].tolist()
    assert top_path == greedy_path, parting(top_path, greedy_path, "the path of the top branches")
    # Each branch's score is the one generate() computed at that step (another kernel path: within the kernel tolerance),
    # and no token left out of the tree scores above its third branch.
    for step, branches in enumerate(tree):
        generated_row = greedy_step_scores[PROMPT][step].float()
        tokens = [token for token, _ in branches]
        torch.testing.assert_close(torch.tensor([score for _, score in branches]), generated_row[tokens].cpu(),
                                   rtol=0, atol=kernel_atol(settings.dtype), msg=lambda m, step=step: f"step {step}: {m}")
        left_out = generated_row.clone()
        left_out[tokens] = float("-inf")
        assert left_out.max() <= branches[-1][1] + kernel_atol(settings.dtype), f"step {step}: token {left_out.argmax().item()} outscores the third branch"


@pytest.mark.claim("G10")
def test_left_padded_batch_generates_row_by_row(model, tokenizer, settings, greedy_continuations, greedy_step_scores, evidence):
    """G10 (003, batch dimension): batched generation with left padding gives each prompt what it gives alone, up to a near-tie."""
    texts = [prompt_text(tokenizer, *PROMPTS[name]) for name in CHAT_PROMPTS]
    batch = tokenizer(texts, return_tensors="pt", padding=True, padding_side="left").to(settings.device)
    assert (batch["attention_mask"] == 0).any(), "the prompts should differ in length, so one row is padded"
    with torch.inference_mode():
        result = model.generate(**batch, do_sample=False, max_new_tokens=SHORT, output_logits=True, return_dict_in_generate=True)
    for row, name in enumerate(CHAT_PROMPTS):
        generated = result.sequences[row, batch["input_ids"].shape[1]:].tolist()
        try:
            agreement = agree(generated, greedy_continuations[name][:SHORT].tolist(), lambda step, row=row: result.logits[step][row],
                              greedy_step_scores[name].__getitem__, near_tie_bound(settings.dtype), (f"batch row {row}", f"{name} alone"))
        except AssertionError as parted:
            alone = tokenizer(texts[row], return_tensors="pt").to(settings.device)["input_ids"]
            raise AssertionError(f"{parted}{padding_is_read(model, batch, row, alone, settings)}") from None
        evidence(agreement.evidence)
        assert_varied(generated)


@pytest.mark.claim("G11")
def test_pipeline_is_preprocess_forward_postprocess(model, tokenizer, greedy_continuations, recorded):
    """G11 (002, 003 further reading): TextGenerationPipeline does the same preprocess → generate → decode as the hand-written code."""
    generator = pipeline("text-generation", model=model, tokenizer=tokenizer)
    [answer] = generator(prompt_text(tokenizer, *PROMPTS[PROMPT]), max_new_tokens=SHORT, do_sample=False, return_full_text=False)
    by_hand = tokenizer.decode(greedy_continuations[PROMPT][:SHORT], skip_special_tokens=True)
    recorded({"generated_text": answer["generated_text"]}, decided_by="rounding")
    assert answer["generated_text"] == by_hand
    assert_varied(greedy_continuations[PROMPT][:SHORT].tolist())
