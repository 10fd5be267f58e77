"""K: a token's scores depend on the tokens before it and never on the tokens after it (001 Parse raw output)."""

import pytest
import torch
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from genspec.agreement import assert_scores_agree, same_choice
from genspec.reports import observations, pictures
from genspec.run.applicability import CannotShow
from genspec.run.loading import token_texts
from genspec.run.tolerances import kernel_atol, kernel_drift_at, near_tie_bound

ORDINARY_IDS = st.integers(min_value=0, max_value=151642)  # the BPE tokens, no added tokens
# A fixed budget: each example is two forward passes of the full-size model.
PROPERTY_EXAMPLES = 8


@pytest.fixture(scope="module")
def dog_logits(forward_of):
    """001's four texts: the scores at the position of "dog" in each."""
    texts = {" dog": 0, "Hi dog": 1, "Hi dog how are you?": 1, "Hello dog": 1}
    return {text: forward_of(text).logits[0, position] for text, position in texts.items()}


@pytest.mark.claim("K1")
def test_later_tokens_do_not_change_dog(dog_logits, settings, recorded):
    """K1 (001): the logits of "dog" in "Hi dog" equal those of "dog" in "Hi dog how are you?"."""
    recorded({text: observations.scores(row) for text, row in dog_logits.items()})
    short, long = dog_logits["Hi dog"], dog_logits["Hi dog how are you?"]
    # Same value up to the reshaped-product tolerance (2 vs 6 rows, see tolerances.py)...
    assert_scores_agree(long, short, kernel_atol(settings.dtype), '"dog" scored in "Hi dog how are you?" against in "Hi dog"', ("token",))
    # ...and the same prediction, or a near-tie that rounding decides.
    same_choice(long, short, near_tie_bound(settings.dtype), '"dog" in the long and the short text: ')


@pytest.mark.claim("K2")
@pytest.mark.parametrize("other", [" dog", "Hello dog"], ids=["dog-alone", "hello-dog"])
def test_earlier_tokens_change_dog(dog_logits, settings, other):
    """K2 (001): "dog" scores differently alone and after "Hello": a token's logits depend on what comes before it."""
    after_hi, without = dog_logits["Hi dog"].float(), dog_logits[other].float()
    difference = (after_hi - without).abs().max().item()
    # Ten times the largest drift kernels can cause at this scale of logits: a real dependence, not rounding.
    scale = max(after_hi.abs().max().item(), without.abs().max().item())
    drift = kernel_drift_at(settings.dtype, scale)
    assert difference > 10 * drift, (
        f'"dog" after "Hi" and in {other!r}: the logits differ by at most {difference:.4g}; kernel paths move logits of this scale '
        f"(largest |logit| {scale:.4g}) by up to {drift:.4g}, so a dependence must exceed ten times that, {10 * drift:.4g}")


@pytest.mark.claim("K3")
def test_continuations_never_change_prefix_logits(model, settings):
    """K3 (001, general form): for any prefix and any continuation, the prefix positions' logits do not change."""
    device, atol = settings.device, kernel_atol(settings.dtype)

    @hypothesis_settings(max_examples=PROPERTY_EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow])
    @given(prefix=st.lists(ORDINARY_IDS, min_size=1, max_size=8), continuation=st.lists(ORDINARY_IDS, min_size=1, max_size=8))
    def prefix_scores_are_fixed(prefix, continuation):
        with torch.inference_mode():
            alone = model(torch.tensor([prefix], device=device)).logits
            extended = model(torch.tensor([prefix + continuation], device=device)).logits[:, : len(prefix)]
        assert_scores_agree(extended, alone, atol, f"the prefix {prefix} scored with the continuation {continuation} against alone",
                            ("row", "prefix position", "token"))
        for position in range(len(prefix)):
            same_choice(extended[0, position], alone[0, position], near_tie_bound(settings.dtype), f"position {position}: ")

    prefix_scores_are_fixed()


@pytest.mark.claim("K4")
def test_one_pass_gives_every_prefix_prediction(model, tokenizer, forward_of, recorded, picture):
    """K4 (001 table): the top-1 at position i of one forward pass is the prediction for the text up to i."""
    one_pass = forward_of("Hi, how are you doing today?")
    ids = one_pass.tokens["input_ids"]
    table = one_pass.logits[0].argmax(-1).tolist()
    with torch.inference_mode():
        one_prefix_at_a_time = [model(ids[:, : i + 1]).logits[0, -1].argmax().item() for i in range(ids.shape[1])]
    previous, predicted = [tokenizer.decode(ids[0, : i + 1]) for i in range(ids.shape[1])], token_texts(tokenizer, table)
    recorded({"previous text": previous, "token with highest score": predicted}, decided_by="rounding")
    picture(pictures.table("001's table from one forward pass: each position's top score is the prediction for the text up to it",
                           ["previous text", "token with highest score", "one prefix at a time"],
                           [[before, after, tokenizer.decode([alone])] for before, after, alone in zip(previous, predicted, one_prefix_at_a_time, strict=True)]))
    differ = [i for i, (one, alone) in enumerate(zip(table, one_prefix_at_a_time, strict=True)) if one != alone]
    assert not differ, (f"position {differ[0]} of one pass predicts {table[differ[0]]}, the text up to it alone "
                        f"{one_prefix_at_a_time[differ[0]]}; {len(differ)} of {len(table)} positions differ: a position's scores "
                        "depend on the tokens after it")
    if len(set(table)) == 1:  # one and the same token at every position would also agree with a model that ignored its context
        raise CannotShow(f"the table predicts {table[0]} at every position: it cannot tell a model that reads each prefix from one that ignores it")
