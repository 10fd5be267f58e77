"""A: a causal LM is a base model (Qwen3Model) plus a task head (lm_head) (000, 003, 001)."""

import re

import pytest
import torch
from transformers import AutoModelForCausalLM
from transformers.modeling_outputs import BaseModelOutputWithPast, CausalLMOutputWithPast

from genspec import FIXTURES, state
from genspec.run.loading import KERNELS_OFF
from genspec.run.tolerances import kernel_atol
from genspec.run.version_rules import TRANSFORMERS_5, on_this_release, printed_activation
from genspec.stored import stored_norm_weights, stored_shapes, stored_tensors

PRINTED = FIXTURES / "printed"
# The articles print the tree twice, differing only in the act_fn line (see X1).
PRINTED_TREES = {path.stem.removeprefix("model-tree-"): path.read_text(encoding="utf-8") for path in PRINTED.glob("model-tree-*.txt")}


@pytest.mark.claim("A1")
@pytest.mark.reads_no_scores
def test_printed_tree_has_the_configs_sizes(model):
    """A1 (000, 003), general form: `print(model)` shows the embedding, the decoder layers and the task head with the model's own config sizes."""
    printed, config = str(model), model.config
    layers = config.num_hidden_layers
    expected = {  # what must show, and how it may print: with a padding index; layers as "N x" or one by one, up to (N-1)
        f"Embedding({config.vocab_size}, {config.hidden_size})": rf"Embedding\({config.vocab_size}, {config.hidden_size}(, padding_idx=\d+)?\)",
        f"{layers} decoder layers": rf"\b{layers} x |\({layers - 1}\): |-{layers - 1}\): ",
        f"Linear(in_features={config.hidden_size}, out_features={config.vocab_size}, bias=False)":
            re.escape(f"Linear(in_features={config.hidden_size}, out_features={config.vocab_size}, bias=False)"),
    }
    missing = [line for line, pattern in expected.items() if not re.search(pattern, printed)]
    assert not missing, f"print(model) lacks {missing}:\n{printed}"


@pytest.mark.claim("A1")
@pytest.mark.article_config
@pytest.mark.reads_no_scores
def test_print_model_is_the_printed_tree(model, recorded):
    """A1 (000 The Transformer, 003): `print(model)` is the printed Qwen3ForCausalLM tree, layer for layer."""
    printed = str(model) + "\n"
    seen = recorded({"print(model)": printed.splitlines()}, only_recorded=True)
    # The articles print the tree twice, one act_fn apart; which one a release prints is X1's rule.
    expected = PRINTED_TREES[printed_activation().removesuffix("()")]
    lines, wanted = printed.splitlines(), expected.splitlines()
    index = next((index for index, (line, want) in enumerate(zip(lines, wanted, strict=False)) if line != want), min(len(lines), len(wanted)))
    shown = lambda tree: repr(tree[index].strip()) if index < len(tree) else "nothing"
    assert printed == expected, on_this_release(
        "A1", f"print(model) line {index + 1} is {shown(lines)}, the article's tree for this release has {shown(wanted)}", seen, "print(model)", shown)


@pytest.mark.claim("A1")
@pytest.mark.reads_no_scores
def test_the_trees_norms_scale_by_the_checkpoints_weights(model, source, settings, evidence):
    """A1 (000, 003): each norm of the tree (Qwen3RMSNorm: x / rms(x) · weight; GPT-2's LayerNorm: (x - mean) / std · weight + bias)
    computes its formula with the weight the checkpoint stores; checked on the first decoder layer's norms and the final one."""
    norms = {name: module for name, module in model.named_modules() if is_norm(module) and not OTHER_LAYER.search(name + ".")}
    stored = stored_tensors(source.path, [f"{name}.{part}" for name in norms for part in ("weight", "bias")], model.base_model_prefix)
    renamed = stored_under_other_names(source.path, {name: norm for name, norm in norms.items() if f"{name}.weight" not in stored})
    stored |= {f"{name}.weight": tensor for name, (_, tensor) in renamed.items()}
    assert norms and all(f"{name}.weight" in stored for name in norms), f"norms {sorted(norms)}, stored {sorted(stored)}"
    if renamed:
        evidence(f"stored under other names, which this release renames on loading: {', '.join(f'{name} as {key}' for name, (key, _) in renamed.items())}")
    forms = set()
    for name, norm in norms.items():
        weight = stored[f"{name}.weight"].to(settings.device, torch.float32)
        x = torch.randn(3, weight.shape[0], generator=torch.Generator().manual_seed(0)).to(settings.device)
        if isinstance(norm, torch.nn.LayerNorm):
            bias = stored[f"{name}.bias"].to(settings.device, torch.float32) if f"{name}.bias" in stored else 0.0
            candidates = {"(x - mean) / std · weight + bias":
                          (x - x.mean(-1, keepdim=True)) * torch.rsqrt(x.var(-1, unbiased=False, keepdim=True) + norm.eps) * weight + bias}
        else:
            normalised = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + getattr(norm, "variance_epsilon", getattr(norm, "eps", 1e-6)))
            # Gemma's families store the offset from 1: x / rms(x) · (1 + weight)
            candidates = {"x / rms(x) · weight": normalised * weight, "x / rms(x) · (1 + weight)": normalised * (1 + weight)}
        with torch.inference_mode():
            observed = norm(x.to(getattr(torch, settings.dtype)))
        # In the run's dtype, with torch's tolerance for it: bfloat16 rounds the normalised x before the product, one more rounding.
        misses = {}
        for form, expected in candidates.items():
            try:
                torch.testing.assert_close(observed, expected.to(observed.dtype))
                forms.add(form)
                break
            except AssertionError as miss:
                misses[form] = str(miss).splitlines()[0:4]
        else:
            raise AssertionError(f"{name} ({type(norm).__name__}) does not compute {' or '.join(candidates)} with its stored weight: "
                                 + "; ".join(f"{form}: {' '.join(lines)}" for form, lines in misses.items()))
    weights = [stored[f"{name}.weight"] for name in norms]
    evidence(f"{len(norms)} norms checked ({', '.join(sorted(forms))}), their stored weights from "
             f"{min(w.min() for w in weights):.3g} to {max(w.max() for w in weights):.3g}")


def stored_under_other_names(checkpoint, norms) -> dict:
    """Norms whose weight the checkpoint stores under another name (Nemotron-H's backbone.*, OLMo-hybrid's attention_layer_norm, which
    transformers 5 renames on loading): found by their values, where exactly one stored norm weight holds them. {name: (key, tensor)}"""
    if not norms:
        return {}
    candidates = stored_norm_weights(checkpoint)
    found = {}
    for name, norm in norms.items():
        weight = norm.weight.detach().cpu()
        matches = [(key, tensor) for key, tensor in candidates.items() if tensor.shape == weight.shape and torch.equal(tensor.to(weight.dtype), weight)]
        if len(matches) == 1:
            found[name] = matches[0]
    return found


OTHER_LAYER = re.compile(r"\.[1-9]\d*\.")  # a module of a decoder layer other than the first


def is_norm(module) -> bool:
    return isinstance(module, torch.nn.LayerNorm) or type(module).__name__.endswith("RMSNorm")


@pytest.mark.claim("A2")
@pytest.mark.reads_no_scores
def test_base_model_and_task_head(model):
    """A2 (003 Task Head), general form: the causal LM is its base model plus a task head, a Linear from hidden_size to vocab_size."""
    head = model.get_output_embeddings()
    assert model.base_model is not model and model.base_model in model.children(), \
        f"{type(model).__name__} has no base model of its own beside the head (base_model is {type(model.base_model).__name__})"
    assert isinstance(head, torch.nn.Linear) and head.bias is None, f"the task head is {head!r}, expected a Linear without bias"
    assert (head.in_features, head.out_features) == (model.config.hidden_size, model.config.vocab_size), \
        f"the task head maps {head.in_features} → {head.out_features}, the config {model.config.hidden_size} → {model.config.vocab_size}"


@pytest.mark.claim("A2")
@pytest.mark.article_config
@pytest.mark.reads_no_scores
def test_base_model_is_qwen3model(model, articles):
    """A2 (003 Task Head): `model.model` is the base model, Qwen3Model."""
    assert model.model is model.base_model
    assert type(model.model).__name__ == articles["architecture"]["base_model_class"]


@pytest.mark.claim("A2")
@pytest.mark.article_config
@pytest.mark.reads_no_scores
def test_task_head_is_the_printed_linear(model, articles):
    """A2 (003 Task Head): the task head prints as `Linear(in_features=1024, out_features=151936, bias=False)`."""
    assert repr(model.lm_head) == articles["architecture"]["task_head"]


@pytest.fixture(scope="module")
def base_output(model, forward_passes):
    """`base_model(**tokens)` on "Hi", once for both A3 tests: the causal LM's forward passes keep no cache."""
    with torch.inference_mode():
        return model.base_model(**forward_passes["hi"].tokens)


@pytest.mark.claim("A3")
def test_base_model_returns_the_last_hidden_state(model, forward_passes, base_output):
    """A3 (000, 001): the base model returns last_hidden_state, one vector per token."""
    tokens = forward_passes["hi"].tokens
    hidden = getattr(base_output, "last_hidden_state", None)
    assert hidden is not None, f"{type(model.base_model).__name__} returned {type(base_output).__name__} without last_hidden_state"
    assert hidden.shape[:2] == tokens["input_ids"].shape, f"last_hidden_state is {tuple(hidden.shape)}, the tokens {tuple(tokens['input_ids'].shape)}"


@pytest.mark.claim("A3")
def test_base_model_returns_what_it_keeps_per_layer(model, base_output, state_summary, needs_a_state, evidence):
    """A3 (000, 001): beside last_hidden_state the base model returns what it keeps of the text: one cache layer per decoder layer,
    keys and values of the model's heads in every attention layer (a hybrid's other layers keep a recurrent state)."""
    needs_a_state(state_summary)
    returned_as, handed = state.handed_back(model.base_model, base_output)
    assert returned_as is not None, f"{type(model.base_model).__name__} returned {', '.join(base_output.keys())}: nothing it keeps for the next step"
    described = state.summary(returned_as, handed)
    evidence(f"the base model keeps {described}")
    layers = model.config.num_hidden_layers
    assert described.layers in (None, layers), f"{described}: {described.layers} layers, the config has {layers}"
    tokens = base_output.last_hidden_state.shape[1]
    shapes = state.key_value_shapes(handed)
    expected = (1, model.config.num_key_value_heads, tokens, model.config.head_dim) if hasattr(model.config, "head_dim") else None
    wrong = {layer: shape for layer, shape in shapes.items() if expected and shape != expected}
    assert not wrong, f"keys of layers {sorted(wrong)} are {sorted(set(wrong.values()))}, expected {expected} (1 text, kv heads, tokens, head_dim)"


@pytest.mark.claim("A3")
@pytest.mark.article_config
def test_cache_has_the_printed_28_layers(articles, model, base_output):
    """A3 (000, 001): BaseModelOutputWithPast with the printed DynamicCache of 28 DynamicLayers."""
    assert type(base_output).__name__ == BaseModelOutputWithPast.__name__, f"the base model returned {type(base_output).__name__}"
    _, cache = state.handed_back(model.base_model, base_output)
    assert type(cache).__name__ == "DynamicCache", f"the base model's cache is {type(cache).__name__}"
    assert len(cache) == articles["architecture"]["layers"], f"{len(cache)} cache layers, the article printed {articles['architecture']['layers']}"


@pytest.mark.claim("A4")
def test_causal_lm_output_fields(model, forward_passes):
    """A4 (001): the causal LM's output: loss None, logits; hidden_states and attentions only when asked for."""
    tokens = forward_passes["how-are-you-chat"].tokens
    with torch.inference_mode():
        output = model.forward(tokens["input_ids"])
        asked = model.forward(tokens["input_ids"], output_hidden_states=True)
    assert output.loss is None, f"loss is {output.loss}, expected None without labels"
    assert output.logits.shape[:2] == tokens["input_ids"].shape, f"logits {tuple(output.logits.shape)} for tokens {tuple(tokens['input_ids'].shape)}"
    assert output.get("hidden_states") is None and output.get("attentions") is None, "hidden states or attentions returned unasked"
    # One hidden state for the embeddings plus one per decoder layer.
    assert len(asked.hidden_states) == model.config.num_hidden_layers + 1, \
        f"{len(asked.hidden_states)} hidden states when asked, expected {model.config.num_hidden_layers} layers + the embeddings"


@pytest.fixture(scope="module")
def lm_output(model, forward_passes):
    """`model.forward(ids, use_cache=True)` on the how-are-you chat, once for both A4 tests of what it returns."""
    with torch.inference_mode():
        return model.forward(forward_passes["how-are-you-chat"].tokens["input_ids"], use_cache=True)


@pytest.mark.claim("A4")
def test_causal_lm_output_carries_what_it_keeps(model, lm_output, base_output, greedy_runs, state_summary, needs_a_state, evidence, settings):
    """A4 (001): the logits come with what the model keeps for the next step (past_key_values; `cache` from transformers 5.24): the
    same kind of state that generate() carries between its steps, as it returns it."""
    needs_a_state(state_summary)
    returned_as, handed = state.handed_back(model, lm_output)
    assert handed is not None, f"{type(lm_output).__name__} carries only {', '.join(lm_output.keys())}: nothing kept for the next step"
    # What generate() itself carried (it returns it beside the sequences); where it returns none, what the base model returns.
    run = greedy_runs["how-are-you-chat"]
    carried, by = next(((run[name], f"generate()'s `{name}`") for name in ("cache", "past_key_values") if run.get(name) is not None),
                       (state.handed_back(model.base_model, base_output)[1], "the base model's output"))
    assert type(handed) is type(carried), (f"the causal LM hands back a {type(handed).__name__} as `{returned_as}`, but "
                                           f"{by} is a {type(carried).__name__}")
    if hasattr(handed, "__len__") and hasattr(carried, "__len__"):
        assert len(handed) == len(carried), f"the causal LM's {type(handed).__name__} has {len(handed)} entries, {by} {len(carried)}"
    # What the state holds: the keys and values of every token it has seen. After the prompt, the prompt's; after generate(),
    # every token but the last, which no step has read yet — the prompt's first, as the forward pass computed them.
    prompt = lm_output.logits.shape[1]
    seen_by_generate = run.sequences.shape[1] - 1 if by.startswith("generate()") else prompt
    held = holds_the_prompt(state.key_values(handed), state.key_values(carried), prompt, seen_by_generate, by, settings) \
        if state_summary.key_value_layers else ""  # a recurrent state counts no tokens
    evidence(f"the forward pass hands back a {type(handed).__name__} as `{returned_as}`, as {by} is" + held)


def holds_the_prompt(handed: dict, carried: dict, prompt: int, seen_by_generate: int, by: str, settings) -> str:
    """Check that the state after the prompt holds the prompt's keys and values, and that generate()'s state begins with them."""
    seen = {index: keys.shape[-2] for index, (keys, _) in handed.items()}
    assert seen and max(seen.values()) == prompt, (f"after a forward pass over the prompt's {prompt} tokens the state holds keys and values "
                                                   f"of {max(seen.values(), default=0)} tokens in its fullest layer: it does not hold what it has seen")
    whole = [index for index, count in seen.items() if count == prompt]  # a sliding-window layer keeps only its last tokens
    held = {index: carried[index][0].shape[-2] if index in carried else 0 for index in whole}
    assert all(count == seen_by_generate for count in held.values()), (
        f"{by} should hold keys and values of the {seen_by_generate} tokens it has read in each full-attention layer; it holds "
        f"{sorted(set(held.values()))}")
    atol = kernel_atol(settings.dtype)  # generate() reads the prompt with its attention mask: another kernel path
    for index in whole:
        for part, mine, theirs in zip(("keys", "values"), handed[index], carried[index], strict=True):
            difference = (mine.float() - theirs[..., :prompt, :].float()).abs().max().item()
            assert difference <= atol, (f"layer {index}: {by} begins with other {part} than the forward pass over the prompt holds "
                                        f"(by up to {difference:.3g}, beyond the kernel tolerance {atol})")
    return (f", holding the prompt's {prompt} tokens in {len(whole)} key/value layers; {by} holds {seen_by_generate}, the prompt's "
            f"keys and values first (within {atol})")


@pytest.mark.claim("A4")
@pytest.mark.article_config
def test_causal_lm_output_is_the_printed_class(lm_output):
    """A4 (001): it is a CausalLMOutputWithPast."""
    assert isinstance(lm_output, CausalLMOutputWithPast), f"the causal LM returned {type(lm_output).__name__}, expected {CausalLMOutputWithPast.__name__}"


@pytest.mark.claim("A5")
@pytest.mark.parametrize("prompt", ["hi", "how-are-you-chat", "why-are-you-running-chat"])
def test_forward_is_task_head_of_base_model(model, forward_passes, prompt):
    """A5 (003, 000): `model.forward(x).logits` equals `task_head(base_model(x).last_hidden_state)`, bit for bit."""
    observed = forward_passes[prompt]
    with torch.inference_mode():
        composed = model.get_output_embeddings()(observed.last_hidden_state)
    # The same two modules run on the same input: no tolerance is needed.
    difference = (observed.logits.float() - composed.float()).abs().max().item()
    assert torch.equal(observed.logits, composed), (
        f"{prompt}: model.forward's logits are not the task head ({type(model.get_output_embeddings()).__name__}) applied to "
        f"base_model's last_hidden_state: they differ by up to {difference:.4g}; this family computes more between the two "
        "(a transform before the head, a cap on the scores after it)")


@pytest.mark.claim("A6")
def test_requires_grad_false_means_no_graph(tiny_stand_in, settings):
    """A6 (003): `requires_grad_(False)` leaves no parameter requiring grad, and a forward pass then builds no graph to backpropagate."""
    model = AutoModelForCausalLM.from_pretrained(tiny_stand_in, use_safetensors=True, **KERNELS_OFF).to(settings.device)
    assert all(parameter.requires_grad for parameter in model.parameters()), "from_pretrained leaves weights trainable"
    ids = torch.tensor([[13048, 0]], device=settings.device)
    assert model(ids).logits.grad_fn is not None, "with trainable weights a forward pass records a graph"
    model.requires_grad_(False)
    assert not any(parameter.requires_grad for parameter in model.parameters())
    logits = model(ids).logits
    assert logits.grad_fn is None and not logits.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        logits.sum().backward()


@pytest.mark.claim("A7")
def test_checkpoint_holds_every_weight_the_architecture_needs(loaded_model):
    """A7 (001 Getting the model), general form: loading reports no weight missing, unexpected or mismatched in shape."""
    _, _, info = loaded_model
    problems = {kind: sorted(keys) for kind, keys in info.items() if kind != "error_msgs" and keys}
    assert not problems, f"from_pretrained reported {problems}"


@pytest.mark.claim("A7")
@pytest.mark.article_config
def test_loading_reports_311_weights(loaded_model, articles):
    """A7 (001 Getting the model): loading reports 311 weights, lm_head among them."""
    model, _, info = loaded_model
    loaded = set(model.state_dict()) - set(info["missing_keys"])
    assert len(loaded) == articles["architecture"]["weights_reported"], f"{len(loaded)} weights loaded"
    assert {"model.embed_tokens.weight", "lm_head.weight"} <= loaded


@pytest.mark.claim("A7")
def test_embeddings_and_head_tied_as_the_version_does(loaded_model, source, recorded):
    """A7 (001): a checkpoint holding both embed_tokens and lm_head under a config that says tie is not tied on transformers 5
    (with the warning 001 quotes); 4.x ties them. A config that says no tie keeps them apart; a tied save (no lm_head stored) is tied."""
    model, log, _ = loaded_model
    tied = model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    warned = any("both are present in the checkpoints" in line and "will NOT tie" in line for line in log)
    seen = recorded({"tied": tied, "warned": warned}, only_recorded=True)
    # A checkpoint stores a head of its own where it holds two tensors of the head's shape, whatever it names them
    # (lm_head.weight; GPT-NeoX's embed_out.weight, RWKV's head.weight): the embedding and the head.
    head_shape = tuple(model.get_output_embeddings().weight.shape)
    stores_head = sum(shape == head_shape for shape in stored_shapes(source.path).values()) >= 2
    says_tie = model.config.tie_word_embeddings
    if not stores_head:
        expected, why = (True, False), "a tied save: the head is the embedding"
    elif not says_tie:
        expected, why = (False, False), "the config says tie_word_embeddings=false"
    elif TRANSFORMERS_5:
        expected, why = (False, True), "both stored, the config says tie: transformers 5 keeps the stored head and warns"
    else:
        # transformers-versions.md: 4.x ties them; both keys write one shared parameter.
        expected, why = (True, False), "both stored, the config says tie: 4.x ties them"
    assert (tied, warned) == expected, on_this_release(
        "A7", f"tied={tied}, warned={warned}; expected tied={expected[0]}, warned={expected[1]} ({why}); log={log}", seen, "tied")
