"""X1–X3: what depends on the transformers version, judged by the rule each claim states (transformers-versions.md).

Each rule judges; the snapshot only records what this release did, per release range, so that a new
release that changes a behaviour reads as a verdict naming the release, not as a moved number.
"""

import pytest
import torch
from transformers import AutoModelForCausalLM, BatchEncoding

from genspec.run.applicability import NotApplicable
from genspec.run.loading import KERNELS_OFF, chat_text
from genspec.run.version_rules import SILU_ACTIVATION_FROM, TRANSFORMERS_5, on_this_release, printed_activation


@pytest.mark.claim("X1")
@pytest.mark.reads_no_scores
def test_printed_activation_depends_on_the_version(model, recorded):
    """X1 (000 vs 003): the act_fn prints `SiLU()` up to transformers 4.56 and `SiLUActivation()` from 4.57 on."""
    activation = getattr(model.config, "hidden_act", None) or getattr(model.config, "activation_function", None)
    if activation != "silu":
        raise NotApplicable(f"this model's activation is {activation}; X1 is how the articles' SiLU prints")
    act_fns = [module for name, module in model.named_modules() if name.endswith("mlp.act_fn")]
    if not act_fns:
        raise NotApplicable(f"{type(model).__name__} has no mlp.act_fn to print; X1 is how the articles' MLP activation prints")
    act_fn = repr(act_fns[0])
    seen = recorded({"act_fn": act_fn}, only_recorded=True)
    expected = printed_activation()
    assert act_fn == expected, on_this_release(
        "X1", f"act_fn prints {act_fn}; the rule: {expected} (SiLU() before {SILU_ACTIVATION_FROM}, SiLUActivation() from it on)", seen, "act_fn")
    assert f"(act_fn): {act_fn}" in str(model)


@pytest.mark.claim("X2")
@pytest.mark.chat_template
def test_apply_chat_template_return_type_depends_on_the_version(tokenizer, recorded):
    """X2 (003): `apply_chat_template(..., return_tensors="pt")` returns a BatchEncoding on transformers 5 (indexed with ["input_ids"]) and a tensor on 4.x."""
    message = [{"role": "user", "content": "how are you?"}]
    returned = tokenizer.apply_chat_template(message, add_generation_prompt=True, enable_thinking=False, return_tensors="pt")
    seen = recorded({"returns": type(returned).__name__}, only_recorded=True)
    expected_ids = tokenizer(chat_text(tokenizer, "how are you?"), return_tensors="pt")["input_ids"]
    expected_type = BatchEncoding if TRANSFORMERS_5 else torch.Tensor
    assert isinstance(returned, expected_type), on_this_release(
        "X2", f"apply_chat_template returns {type(returned).__name__}; the rule: {expected_type.__name__} "
        "(a tensor on 4.x, a BatchEncoding from 5 on)", seen, "returns")
    ids = returned["input_ids"] if isinstance(returned, BatchEncoding) else returned
    assert torch.equal(ids, expected_ids), f"the ids differ from the tokenized chat text: {ids.tolist()} against {expected_ids.tolist()}"


@pytest.mark.claim("X3")
def test_default_load_dtype_depends_on_the_version(tiny_stand_in, recorded):
    """X3 (003, 001): loading without a dtype gives bfloat16 on transformers 5 (the checkpoint's dtype, as the articles print) and float32 on 4.x."""
    loaded = AutoModelForCausalLM.from_pretrained(tiny_stand_in, use_safetensors=True, **KERNELS_OFF)
    seen = recorded({"default dtype": str(loaded.dtype)}, only_recorded=True)
    expected = torch.bfloat16 if TRANSFORMERS_5 else torch.float32
    assert loaded.dtype == expected, on_this_release(
        "X3", f"loading without a dtype gives {loaded.dtype}; the rule: {expected} (float32 on 4.x, the checkpoint's bfloat16 from 5 on)",
        seen, "default dtype")
