"""X4: the structural claims hold for other causal LMs too — GPT-2 (the model of 002), Llama, Qwen2.

Each family is a tiny random checkpoint saved with save_pretrained and loaded back through the
Auto classes; every shape comes from its config.
"""

import pytest
import torch
from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig, Qwen2Config

from genspec import loops
from genspec.agreement import agree
from genspec.classification import check_score_is_lm_head, load_classifier
from genspec.run.loading import load_pretrained
from genspec.run.tolerances import near_tie_bound
from genspec.steps import classifier_scores, last_position_scores

VOCAB = 1000
STEPS = 12
COMMON = {"vocab_size": VOCAB, "tie_word_embeddings": False, "bos_token_id": None, "eos_token_id": None, "pad_token_id": None}
FAMILIES = {
    "gpt2": GPT2Config(n_layer=2, n_embd=64, n_head=4, n_positions=128, **COMMON),
    "llama": LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, **COMMON),
    "qwen2": Qwen2Config(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, **COMMON),
}


def hidden_size(config):
    return config.hidden_size  # GPT2Config maps hidden_size to n_embd


@pytest.fixture(scope="module", params=FAMILIES, ids=list(FAMILIES))
def family(request, tmp_path_factory):
    """(checkpoint directory, causal LM loaded from it) for one family."""
    config = FAMILIES[request.param]
    model = AutoModelForCausalLM.from_config(config)
    # Unit-gain random matrices: like the Qwen3 stand-in, the last hidden state becomes a
    # pseudo-random function of the context, so greedy output is varied, not one repeated token.
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.ndim == 2:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) / parameter.shape[-1] ** 0.5)
    path = tmp_path_factory.mktemp(request.param)
    model.save_pretrained(path, safe_serialization=True)
    return path, load_pretrained(AutoModelForCausalLM, path, "float32", "cpu")[0]


@pytest.fixture(scope="module")
def prompt():
    return torch.randint(0, VOCAB, (1, 7), generator=torch.Generator().manual_seed(1))


@pytest.mark.claim("X4")
def test_shapes_follow_the_config(family):
    """X4 with S1/S5: B×N ids → B×N×hidden_size hidden states → B×N×vocab_size scores."""
    _, model = family
    ids = torch.randint(0, VOCAB, (2, 5))
    with torch.inference_mode():
        hidden = model.base_model(ids).last_hidden_state
        logits = model(ids).logits
    assert hidden.shape == (2, 5, hidden_size(model.config))
    assert logits.shape == (2, 5, model.config.vocab_size)


@pytest.mark.claim("X4")
def test_continuation_never_changes_prefix_logits(family, prompt):
    """X4 with K1/K3: appending tokens leaves the prefix positions' logits unchanged."""
    _, model = family
    with torch.inference_mode():
        alone = model(prompt).logits
        extended = model(torch.cat([prompt, prompt.flip(-1)], dim=-1)).logits[:, : prompt.shape[1]]
    torch.testing.assert_close(extended, alone, rtol=0, atol=1e-5)  # tiny model: reshaped products drift < 1e-6


@pytest.mark.claim("X4")
def test_greedy_loops_equal_generate(family, prompt, recorded, evidence):
    """X4 with G1/G4: the hand-written cached greedy loop equals generate(do_sample=False); the uncached one too, up to a near-tie."""
    _, model = family
    with torch.inference_mode():
        generated = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False, max_new_tokens=STEPS,
                                   output_logits=True, return_dict_in_generate=True)
        cached = loops.greedy(model, prompt, STEPS)
        uncached = loops.greedy(model, prompt, STEPS, use_cache=False)[0, prompt.shape[1]:].tolist()
    new = generated.sequences[0, prompt.shape[1]:].tolist()
    recorded({"generate": new})
    assert cached.tolist() == generated.sequences.tolist()  # the same computation: exactly
    evidence(agree(uncached, new, last_position_scores(model, prompt, uncached), lambda step: generated.logits[step][0],
                   near_tie_bound("float32"), ("uncached loop", "generate()")).evidence)
    assert len(set(new)) >= STEPS // 2


@pytest.mark.claim("X4")
def test_classification_model_reproduces_greedy(family, prompt, evidence):
    """X4 with C1/C3: the classification model built with key_mapping has lm_head as its head and reproduces greedy generation."""
    path, model = family
    classifier, info = load_classifier(path, model.config.vocab_size, "float32", "cpu")
    check_score_is_lm_head(classifier, info, model.lm_head.weight)
    with torch.inference_mode():
        generated = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False, max_new_tokens=STEPS,
                                   output_logits=True, return_dict_in_generate=True)
        classified = loops.classify_greedily(classifier, prompt, STEPS)[0, prompt.shape[1]:].tolist()
    evidence(agree(classified, generated.sequences[0, prompt.shape[1]:].tolist(), classifier_scores(classifier, prompt, classified),
                   lambda step: generated.logits[step][0], near_tie_bound("float32"), ("classification loop", "generate()")).evidence)
