"""Step k's scores computed afresh, one forward pass over the prompt and the first k new tokens: what a loop's or
generate()'s own step is checked against."""

from collections.abc import Callable

import torch


def eos_ids(model) -> set[int]:
    """The checkpoint's own end-of-sequence ids, as generate() reads them from its generation config."""
    eos = model.generation_config.eos_token_id
    return set(eos) if isinstance(eos, list) else {eos} - {None}


def _prefix(prompt_ids: torch.Tensor, new_tokens, step: int) -> torch.Tensor:
    new = torch.tensor([list(new_tokens[:step])], device=prompt_ids.device, dtype=prompt_ids.dtype)
    return torch.cat([prompt_ids, new], dim=-1)


def last_position_scores(model, prompt_ids: torch.Tensor, new_tokens) -> Callable[[int], torch.Tensor]:
    """Step k's scores as an uncached pass computes them: one forward over the prompt and the first k new tokens."""
    def at(step: int) -> torch.Tensor:
        with torch.inference_mode():
            return model(_prefix(prompt_ids, new_tokens, step)).logits[0, -1]
    return at


def classifier_scores(classifier, prompt_ids: torch.Tensor, new_tokens) -> Callable[[int], torch.Tensor]:
    """Step k's scores as the classification loop computes them: the classifier over the prompt and the first k new tokens."""
    def at(step: int) -> torch.Tensor:
        with torch.inference_mode():
            return classifier(_prefix(prompt_ids, new_tokens, step)).logits[0]
    return at
