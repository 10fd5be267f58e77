"""Do two computations choose the same tokens? Exactly, or up to a near-tie that rounding decides.

Two differently shaped computations of the same scores (cached and uncached, batched and alone,
the classifier and the causal LM) round differently, by up to the kernel tolerance per logit
(genspec/run/tolerances.py). Where the top two scores lie closer than rounding can tell apart,
either may win: that is a near-tie, not a broken claim. So tokens are compared step by step; at the
first step where they differ, both computations have seen the same text, and the difference is
accepted only if, in *each* computation, the other's token scores within the near-tie bound of its
own top score. The comparison stops there, since the texts differ from then on. Any other
difference fails, naming the step, both tokens, both margins and the bound.

vLLM's `check_logprobs_close` (tests/models/utils.py) does the same with a top-N rank; here the
margin is bounded by a measured tolerance instead.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

# The row of scores a computation used to choose the token at a step, given that step.
ScoresAt = Callable[[int], torch.Tensor]


@dataclass(frozen=True)
class NearTie:
    step: int
    tokens: tuple[int, int]  # what each computation chose
    margins: tuple[float, float]  # in each computation: its top score minus its score of the other's token
    bound: float

    def describe(self, names: tuple[str, str]) -> str:
        return (f"at step {self.step} {names[0]} chose {self.tokens[0]} and {names[1]} {self.tokens[1]}, "
                f"margins {self.margins[0]:.4g} and {self.margins[1]:.4g}, within the near-tie bound {self.bound:g}")


@dataclass(frozen=True)
class Agreement:
    """How far two token sequences agree: every step compared, or up to a near-tie."""

    names: tuple[str, str]
    compared: int  # steps compared
    equal: int  # steps equal before the near-tie, or all of them
    near_tie: NearTie | None = None

    @property
    def evidence(self) -> str:
        if self.near_tie is None:
            return f"{self.names[0]} and {self.names[1]}: {self.equal} of {self.compared} steps equal"
        return f"{self.names[0]} and {self.names[1]}: {self.equal} steps equal, then a near-tie: {self.near_tie.describe(self.names)}"


def near_tie_between(first: torch.Tensor, second: torch.Tensor, bound: float) -> tuple[float, float] | None:
    """The two margins when two rows of scores choose different tokens within `bound` of each other's top; else None."""
    first, second = first.float(), second.float()
    top_first, top_second = int(first.argmax()), int(second.argmax())
    margins = (float(first[top_first] - first[top_second]), float(second[top_second] - second[top_first]))
    return margins if max(margins) <= bound else None


def agree(left: Sequence[int], right: Sequence[int], left_scores: ScoresAt, right_scores: ScoresAt,
          bound: float, names: tuple[str, str] = ("left", "right")) -> Agreement:
    """Compare two continuations step by step; fail unless they agree, or part at a near-tie within `bound`."""
    left, right = [int(token) for token in left], [int(token) for token in right]
    compared = min(len(left), len(right))
    for step in range(compared):
        if left[step] == right[step]:
            continue
        left_row, right_row = left_scores(step), right_scores(step)
        for name, chosen, row in ((names[0], left[step], left_row), (names[1], right[step], right_row)):
            if int(row.float().argmax()) != chosen:  # not greedy: something besides the scores chose the token
                raise AssertionError(f"{name} chose {chosen} at step {step}, but its own scores put {int(row.float().argmax())} on top: "
                                     "it did not take the token with the highest score")
        margins = near_tie_between(left_row, right_row, bound)
        if margins is None:
            raise AssertionError(_parted(step, left, right, left_row, right_row, bound, names))
        return Agreement(names, compared, step, NearTie(step, (left[step], right[step]), margins, bound))
    if len(left) != len(right):
        raise AssertionError(f"{names[0]} gave {len(left)} tokens and {names[1]} {len(right)}, "
                             f"equal for the first {compared}: {left[compared:compared + 4]} vs {right[compared:compared + 4]}")
    return Agreement(names, compared, compared)


def same_choice(first: torch.Tensor, second: torch.Tensor, bound: float, where: str = "") -> NearTie | None:
    """The same argmax in two rows of scores of one text, or a near-tie (returned); any other difference fails."""
    top_first, top_second = int(first.float().argmax()), int(second.float().argmax())
    if top_first == top_second:
        return None
    margins = near_tie_between(first, second, bound)
    if margins is None:
        raise AssertionError(f"{where}top-1 {top_first} in one and {top_second} in the other, margins "
                             f"{_margins_text(first, second)}: more than the near-tie bound {bound:g}, so not rounding")
    return NearTie(0, (top_first, top_second), margins, bound)


def _margins_text(first: torch.Tensor, second: torch.Tensor) -> str:
    first, second = first.float(), second.float()
    a, b = int(first.argmax()), int(second.argmax())
    return f"{float(first[a] - first[b]):.4g} and {float(second[b] - second[a]):.4g}"


def _parted(step, left, right, left_row, right_row, bound, names) -> str:
    return (f"{names[0]} and {names[1]} part at step {step} after {step} equal steps: {names[0]} chose {left[step]}, "
            f"{names[1]} {right[step]}; margins {_margins_text(left_row, right_row)}, more than the near-tie bound "
            f"{bound:g}: not rounding. {names[0]}: {left[:step + 3]}, {names[1]}: {right[:step + 3]}")


def assert_scores_agree(observed: torch.Tensor, expected: torch.Tensor, atol: float, what: str, dimensions: Sequence[str]) -> None:
    """Two computations' scores of the same text, equal up to the kernel tolerance `atol`, or an AssertionError in the claim's
    words: what was compared, how many scores differ beyond the tolerance, the largest difference, where (`dimensions` names
    each axis; an axis of one is not named) and both values."""
    wide = torch.float64 if torch.float64 in (observed.dtype, expected.dtype) else torch.float32
    observed, expected = observed.detach().to(wide).cpu(), expected.detach().to(wide).cpu()
    if observed.shape != expected.shape:
        raise AssertionError(f"{what}: the scores have shape {tuple(observed.shape)} against {tuple(expected.shape)}")
    difference = (observed - expected).abs().nan_to_num(nan=float("inf"))
    beyond = int((difference > atol).sum())
    if not beyond:
        return
    where = torch.unravel_index(difference.argmax(), difference.shape)
    place = ", ".join(f"{name} {int(index)}" for name, index, size in zip(dimensions, where, difference.shape, strict=True) if size > 1)
    raise AssertionError(f"{what}: {beyond:,} of {difference.numel():,} scores differ by more than the kernel tolerance {atol:g}; the largest "
                         f"by {difference.max().item():.4g}, at {place}: {observed[where].item():.6g} against {expected[where].item():.6g}")
