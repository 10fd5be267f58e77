"""A: a causal LM is a base model (Qwen3Model) plus a task head (lm_head) (000, 003, 001)."""


import pytest
import torch
import transformers
from packaging.version import Version
from safetensors import safe_open
from transformers.modeling_outputs import BaseModelOutputWithPast, CausalLMOutputWithPast

from genspec import FIXTURES

PRINTED = FIXTURES / "printed"
# The articles print the tree twice, differing only in the act_fn line (see X1).
PRINTED_TREES = {path.stem.removeprefix("model-tree-"): path.read_text(encoding="utf-8") for path in PRINTED.glob("model-tree-*.txt")}
TRANSFORMERS_5 = Version(transformers.__version__) >= Version("5")


@pytest.mark.claim("A1")
@pytest.mark.article_sizes
def test_print_model_is_the_printed_tree(model, recorded):
    """A1 (000 The Transformer, 003): `print(model)` is the printed Qwen3ForCausalLM tree, layer for layer."""
    printed = str(model) + "\n"
    recorded({"print(model)": printed.splitlines()})
    assert printed in PRINTED_TREES.values(), f"print(model) matches neither printed tree:\n{printed}"


@pytest.mark.claim("A2")
def test_base_model_and_task_head(model, articles):
    """A2 (003 Task Head): `model.model` is the base model Qwen3Model and `model.lm_head` the printed Linear task head."""
    printed = articles["architecture"]
    assert type(model.model).__name__ == printed["base_model_class"]
    assert isinstance(model.lm_head, torch.nn.Linear) and model.lm_head.bias is None
    assert model.lm_head.in_features == model.config.hidden_size


@pytest.mark.claim("A2")
@pytest.mark.article_sizes
def test_task_head_is_the_printed_linear(model, articles):
    """A2 (003 Task Head): the task head prints as `Linear(in_features=1024, out_features=151936, bias=False)`."""
    assert repr(model.lm_head) == articles["architecture"]["task_head"]


@pytest.mark.claim("A3")
def test_base_model_returns_hidden_state_and_cache(model, forward_passes):
    """A3 (000, 001): the base model returns BaseModelOutputWithPast: last_hidden_state and a DynamicCache, one layer per decoder layer."""
    tokens = forward_passes["hi"].tokens
    with torch.inference_mode():
        output = model.model(**tokens)
    assert isinstance(output, BaseModelOutputWithPast)
    assert type(output.past_key_values).__name__ == "DynamicCache"
    assert len(output.past_key_values) == len(model.model.layers) == model.config.num_hidden_layers
    assert output.last_hidden_state.shape[:2] == tokens["input_ids"].shape


@pytest.mark.claim("A3")
@pytest.mark.article_sizes
def test_cache_has_the_printed_28_layers(model, articles, forward_passes):
    """A3 (000, 001): the printed DynamicCache holds 28 DynamicLayers."""
    with torch.inference_mode():
        output = model.model(**forward_passes["hi"].tokens)
    assert len(output.past_key_values) == articles["architecture"]["layers"]


@pytest.mark.claim("A4")
def test_causal_lm_output_fields(model, forward_passes):
    """A4 (001 CausalLMOutputWithPast): loss None, logits, past_key_values; hidden_states and attentions only when asked for."""
    tokens = forward_passes["how-are-you-chat"].tokens
    with torch.inference_mode():
        output = model.forward(tokens["input_ids"])
        asked = model.forward(tokens["input_ids"], output_hidden_states=True)
    assert isinstance(output, CausalLMOutputWithPast)
    assert output.loss is None
    assert output.logits.shape[:2] == tokens["input_ids"].shape
    assert output.past_key_values is not None
    assert output.hidden_states is None and output.attentions is None
    # One hidden state for the embeddings plus one per decoder layer.
    assert len(asked.hidden_states) == model.config.num_hidden_layers + 1


@pytest.mark.claim("A5")
@pytest.mark.parametrize("prompt", ["hi", "how-are-you-chat", "why-are-you-running-chat"])
def test_forward_is_task_head_of_base_model(model, forward_passes, prompt):
    """A5 (003, 000): `model.forward(x).logits` equals `task_head(base_model(x).last_hidden_state)`, bit for bit."""
    observed = forward_passes[prompt]
    with torch.inference_mode():
        composed = model.lm_head(observed.last_hidden_state)
    # The same two modules run on the same input: no tolerance is needed.
    assert torch.equal(observed.logits, composed)


@pytest.mark.claim("A6")
def test_inference_mode_needs_no_grad(model, forward_passes):
    """A6 (003): after `requires_grad_(False)` no parameter requires grad, and a forward pass builds no graph."""
    assert not any(parameter.requires_grad for parameter in model.parameters())
    output = model(**forward_passes["hi"].tokens)
    assert not output.logits.requires_grad and output.logits.grad_fn is None


@pytest.mark.claim("A7")
@pytest.mark.article_sizes
def test_checkpoint_holds_311_weights(source, articles):
    """A7 (001 Getting the model): loading reports 311 weights: the checkpoint holds 311 tensors, lm_head among them."""
    names = set()
    for file in source.path.glob("*.safetensors"):
        with safe_open(str(file), framework="pt") as handle:
            names |= set(handle.keys())
    assert len(names) == articles["architecture"]["weights_reported"]
    assert {"model.embed_tokens.weight", "lm_head.weight"} <= names


@pytest.mark.claim("A7")
def test_embeddings_and_head_tied_as_the_version_does(loaded_model, recorded):
    """A7 (001): a checkpoint holding both embed_tokens and lm_head is not tied on transformers 5 (with the warning 001 quotes); 4.x ties them."""
    model, log = loaded_model
    tied = model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    warned = any("both are present in the checkpoints" in line and "will NOT tie" in line for line in log)
    recorded({"transformers": transformers.__version__, "tied": tied, "warned": warned})
    if TRANSFORMERS_5:
        assert not tied and warned, f"transformers {transformers.__version__}: tied={tied}, log={log}"
    else:
        # transformers-versions.md: 4.x ties them; both keys write one shared parameter.
        assert tied and not warned, f"transformers {transformers.__version__}: tied={tied}, log={log}"
