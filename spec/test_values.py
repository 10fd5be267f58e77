"""V: the values the articles print from the real Qwen/Qwen3-0.6B (001, 003).

Skipped on the stand-in, with the line that says how to get the real weights.
"""

import pytest
import torch

# bfloat16 keeps 8 significant bits: at magnitude 16-32 one step is 0.125, at 4-8 it is 0.03125.
# Different CPU/GPU kernels may round the last step differently, so one bf16 step is allowed.
BF16_STEP_AT = {27.75: 0.125, 7.5625: 0.03125}


@pytest.mark.claim("V1")
def test_top_1_after_how_are_you_is_hello(tokenizer, forward_passes, articles):
    """V1 (003 step-by-step, 001): the top-1 next token after the "how are you?" chat is 9707 "Hello", score 27.75 in bf16."""
    printed = articles["values"]["next_token"]
    top_score, top_index = forward_passes[printed["prompt"]].logits[:, -1, :].topk(1, dim=-1)
    assert top_index.item() == printed["top_index"]
    assert tokenizer.decode(top_index[0]) == printed["top_text"]
    assert top_score.item() == pytest.approx(printed["top_score"], abs=BF16_STEP_AT[printed["top_score"]])


@pytest.mark.claim("V2")
def test_position_4_predicts_the(tokenizer, forward_passes, articles):
    """V2 (001 Final output): after "<|im_start|>user\\nhow are" the model predicts " the"; logits[0, 3, 25] is 7.5625 in bf16."""
    printed = articles["values"]["position_4"]
    observed = forward_passes[printed["prompt"]]
    ids = observed.tokens["input_ids"]
    assert tokenizer.decode(ids[0, : printed["position"] + 1]) == printed["previous_text"]
    assert tokenizer.decode(observed.logits[0, printed["position"]].topk(1).indices) == printed["top_text"]
    value = observed.logits[tuple(printed["logit_index"])].item()
    assert value == pytest.approx(printed["logit_value"], abs=BF16_STEP_AT[printed["logit_value"]])


@pytest.mark.claim("V3")
def test_per_position_table(model, tokenizer, settings, articles):
    """V3 (001 Parse raw output): the per-position top-1 table for "Hi, how are you doing today?"."""
    printed = articles["values"]["per_position_table"]
    tokens = tokenizer(printed["text"], return_tensors="pt").to(settings.device)
    with torch.inference_mode():
        logits = model(**tokens).logits
    rows = [
        [tokenizer.decode(tokens["input_ids"][0, : index + 1]), tokenizer.decode(logits[0, index].topk(1).indices)]
        for index in range(tokens["input_ids"].shape[1])
    ]
    assert rows == printed["rows"]
