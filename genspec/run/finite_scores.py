"""Scores that are not finite (NaN, ±inf) say nothing about any claim: name them once, with where they come from."""

import torch

SHOWN = 2  # tensors named in the message
NOT_FINITE = "the model's scores are not finite"  # how the message begins


def not_finite(model, scores_by_prompt: dict[str, torch.Tensor]) -> str | None:
    """None where every score is finite; otherwise one message: which prompts' scores are not, and which weights hold NaN or inf."""
    counts = {name: int((~torch.isfinite(scores)).sum()) for name, scores in scores_by_prompt.items()}
    if not any(counts.values()):
        return None
    prompts = ", ".join(f"{name} {count:,} of {scores_by_prompt[name].numel():,}" for name, count in counts.items() if count)
    broken = [(name, int((~torch.isfinite(weight)).sum())) for name, weight in model.named_parameters() if not torch.isfinite(weight).all()]
    weights = (f"the weights hold NaN or inf in {', '.join(f'{name} ({count:,} values)' for name, count in broken[:SHOWN])}"
               + (f" and {len(broken) - SHOWN} more tensors" if len(broken) > SHOWN else "")
               + ": the checkpoint is corrupt or was converted badly"
               if broken else "every weight is finite: the forward pass overflows (try --dtype float32)")
    return f"{NOT_FINITE} (NaN or inf): {prompts} scores of the articles' prompts; {weights}. No claim that reads scores can be judged."
