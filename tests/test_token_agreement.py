"""The near-tie comparison (genspec/agreement.py) accepts rounding and nothing else.

Without a second machine, the other machine is simulated: one side's scores moved within the
measured drift keep the verdict; a token chosen by a margin larger than rounding makes it fail.
"""

import pytest
import torch

from genspec import agreement
from genspec.agreement import agree, same_choice
from genspec.run.tolerances import kernel_atol, near_tie_bound

pytestmark = pytest.mark.tool  # checks the tool, not the articles: `pytest -m tool`

VOCAB = 50
STEPS = 8
BOUND = near_tie_bound("bfloat16")


def scores_with_margins(margins, seed=0):
    """One row per step whose top token is step + 1, ahead of the runner-up (token 0) by the given margin."""
    rows = torch.randn(len(margins), VOCAB, generator=torch.Generator().manual_seed(seed))
    for step, margin in enumerate(margins):
        rows[step, 0] = rows[step].max() + 1
        rows[step, step + 1] = rows[step, 0] + margin
    return rows


def chosen(rows):
    return rows.argmax(-1).tolist()


def test_equal_tokens_agree_on_every_step():
    rows = scores_with_margins([3.0] * STEPS)
    agreement = agree(chosen(rows), chosen(rows), rows.__getitem__, rows.__getitem__, BOUND)
    assert (agreement.equal, agreement.compared, agreement.near_tie) == (STEPS, STEPS, None)
    assert agreement.evidence.endswith(f"{STEPS} of {STEPS} steps equal")


@pytest.mark.parametrize("seed", range(5))
def test_drift_within_the_kernel_tolerance_keeps_the_verdict(seed):
    """Scores moved by up to the bf16 kernel tolerance: where no margin is near a tie, nothing changes."""
    rows = scores_with_margins([3.0] * STEPS)
    drift = (torch.rand(rows.shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1) * kernel_atol("bfloat16")
    moved = rows + drift
    assert agree(chosen(rows), chosen(moved), rows.__getitem__, moved.__getitem__, BOUND).near_tie is None


def test_a_flip_inside_the_bound_is_a_near_tie_and_stops_the_comparison():
    rows = scores_with_margins([3.0, 3.0, 0.1, 3.0])
    moved = rows.clone()
    moved[2, 0] += 0.2  # the runner-up overtakes by 0.1: rounding could do that
    agreement = agree(chosen(rows), chosen(moved), rows.__getitem__, moved.__getitem__, BOUND, ("a", "b"))
    assert agreement.equal == 2 and agreement.near_tie.step == 2 and agreement.near_tie.tokens == (3, 0)
    assert agreement.near_tie.margins == pytest.approx((0.1, 0.1), abs=1e-5)
    assert "2 steps equal, then a near-tie: at step 2 a chose 3 and b 0" in agreement.evidence


def test_a_token_favoured_beyond_rounding_fails_naming_step_tokens_and_margins():
    rows = scores_with_margins([3.0] * STEPS)
    favoured = rows.clone()
    favoured[4, 0] += 5.0  # a generate() that favours token 0
    with pytest.raises(AssertionError, match=r"part at step 4 after 4 equal steps: a chose 5, b 0; margins 3 and 2, more than the near-tie bound 0.5"):
        agree(chosen(rows), chosen(favoured), rows.__getitem__, favoured.__getitem__, BOUND, ("a", "b"))


def test_a_token_its_own_scores_did_not_put_on_top_fails():
    """A generate() that favours a token after scoring: the token it chose is not the top of its own scores."""
    rows = scores_with_margins([3.0] * STEPS)
    other = chosen(rows)
    other[1] = 0
    with pytest.raises(AssertionError, match="b chose 0 at step 1, but its own scores put 2 on top"):
        agree(chosen(rows), other, rows.__getitem__, rows.__getitem__, BOUND, ("a", "b"))


def test_different_lengths_fail():
    rows = scores_with_margins([3.0] * STEPS)
    with pytest.raises(AssertionError, match="a gave 8 tokens and b 6"):
        agree(chosen(rows), chosen(rows)[:6], rows.__getitem__, rows.__getitem__, BOUND, ("a", "b"))


def test_same_choice_of_one_text():
    row = scores_with_margins([0.2])[0]
    assert same_choice(row, row + 0.01, BOUND) is None
    moved = row.clone()
    moved[0] += 0.3
    assert same_choice(row, moved, BOUND).margins == pytest.approx((0.2, 0.1), abs=1e-5)
    moved[0] += 5
    with pytest.raises(AssertionError, match="top-1 1 in one and 0 in the other"):
        same_choice(row, moved, BOUND)


def test_scores_that_differ_are_worded_as_the_claim_compares_them():
    """What was compared, how many scores differ beyond the tolerance, the largest difference, where and both values — never a
    test library's "Tensor-likes are not close!"."""
    expected = torch.zeros(1, 3, 5)
    observed = expected.clone()
    observed[0, 2, 4], observed[0, 1, 0] = 0.25, 1e-5
    agreement.assert_scores_agree(observed, observed + 1e-5, 1e-4, "the same", ("row", "prefix position", "token"))
    with pytest.raises(AssertionError) as said:
        agreement.assert_scores_agree(observed, expected, 1e-4, "the prefix [1, 2, 3] scored with the continuation [4] against alone",
                                      ("row", "prefix position", "token"))
    assert str(said.value) == ("the prefix [1, 2, 3] scored with the continuation [4] against alone: 1 of 15 scores differ by more than the "
                               "kernel tolerance 0.0001; the largest by 0.25, at prefix position 2, token 4: 0.25 against 0")
