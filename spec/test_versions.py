"""X1–X3: what depends on the transformers version, recorded for the version that runs (transformers-versions.md)."""

import pytest
import torch
import transformers
from packaging.version import Version
from transformers import AutoModelForCausalLM, BatchEncoding

from genspec.run.applicability import NOT_APPLICABLE
from genspec.run.loading import chat_text

TRANSFORMERS = Version(transformers.__version__)


@pytest.mark.claim("X1")
def test_printed_activation_depends_on_the_version(model, recorded):
    """X1 (000 vs 003): the act_fn prints `SiLU()` up to transformers 4.56 and `SiLUActivation()` from 4.57 on."""
    activation = getattr(model.config, "hidden_act", None) or getattr(model.config, "activation_function", None)
    if activation != "silu":
        pytest.skip(f"{NOT_APPLICABLE}this model's activation is {activation}; X1 is how the articles' SiLU prints")
    act_fn = repr(next(module for name, module in model.named_modules() if name.endswith("mlp.act_fn")))
    recorded({"transformers": transformers.__version__, "act_fn": act_fn})
    assert act_fn == ("SiLU()" if TRANSFORMERS < Version("4.57") else "SiLUActivation()")
    assert f"(act_fn): {act_fn}" in str(model)


@pytest.mark.claim("X2")
@pytest.mark.chat_template
def test_apply_chat_template_return_type_depends_on_the_version(tokenizer, recorded):
    """X2 (003): `apply_chat_template(..., return_tensors="pt")` returns a BatchEncoding on transformers 5 (indexed with ["input_ids"]) and a tensor on 4.x."""
    message = [{"role": "user", "content": "how are you?"}]
    returned = tokenizer.apply_chat_template(message, add_generation_prompt=True, enable_thinking=False, return_tensors="pt")
    recorded({"transformers": transformers.__version__, "returns": type(returned).__name__})
    expected_ids = tokenizer(chat_text(tokenizer, "how are you?"), return_tensors="pt")["input_ids"]
    if TRANSFORMERS >= Version("5"):
        assert isinstance(returned, BatchEncoding)
        assert torch.equal(returned["input_ids"], expected_ids)
    else:
        assert isinstance(returned, torch.Tensor)
        assert torch.equal(returned, expected_ids)


@pytest.mark.claim("X3")
def test_default_load_dtype_depends_on_the_version(tiny_stand_in, recorded):
    """X3 (003, 001): loading without a dtype gives bfloat16 on transformers 5 (the checkpoint's dtype, as the articles print) and float32 on 4.x."""
    loaded = AutoModelForCausalLM.from_pretrained(tiny_stand_in, use_safetensors=True)
    recorded({"transformers": transformers.__version__, "default dtype": str(loaded.dtype)})
    assert loaded.dtype == (torch.bfloat16 if TRANSFORMERS >= Version("5") else torch.float32)
