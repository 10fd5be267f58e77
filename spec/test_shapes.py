"""S: 1×N ids → 1×N×1024 hidden states → 1×N×151936 scores (000, 003, 001)."""

import pytest
import torch

from genspec.agreement import assert_scores_agree, same_choice
from genspec.reports import observations, pictures
from genspec.run.printed import PROMPTS
from genspec.run.tolerances import kernel_atol, near_tie_bound, softmax_sum_bound


def shape(tensor) -> str:
    return "×".join(str(size) for size in tensor.shape)


# Token counts the articles print: "Hi" (000), "how are you?" as chat (003), "Why are you running?" as chat (000).
PRINTED_LENGTHS = {"hi": 1, "how-are-you-chat": 16, "why-are-you-running-chat": 17}


@pytest.mark.claim("S1")
@pytest.mark.parametrize("prompt", PROMPTS)
def test_shapes_follow_the_models_config(model, tokenizer, forward_passes, prompt, picture):
    """S1 (000, 003, 001), general form: tokens 1×N → last_hidden_state 1×N×hidden_size → logits 1×N×vocab_size, from the model's own config."""
    observed, config = forward_passes[prompt], model.config
    n = observed.tokens["input_ids"].shape[1]
    ids = observed.tokens["input_ids"][0].tolist()
    picture(pictures.flow(f"000's flowchart on {prompt}, with the shapes this run saw", [
        ("raw input", repr(tokenizer.decode(ids))[:40]),
        ("tokenizer: input_ids", f"{shape(observed.tokens['input_ids'])} {ids[:4]}{' …' if n > 4 else ''}"),
        (f"embedding + {config.num_hidden_layers} decoder layers", f"last_hidden_state {shape(observed.last_hidden_state)}"),
        ("task head", f"logits {shape(observed.logits)}"),
        ("output: top score at the last position", repr(tokenizer.decode(observed.logits[0, -1].argmax().item()))),
    ]))
    assert observed.tokens["input_ids"].shape == (1, n)
    assert observed.last_hidden_state.shape == (1, n, config.hidden_size), \
        f"hidden states {tuple(observed.last_hidden_state.shape)}, where the claim expects {(1, n, config.hidden_size)} (1×N×hidden_size)"
    assert observed.logits.shape == (1, n, config.vocab_size), \
        f"logits {tuple(observed.logits.shape)}, where the claim expects {(1, n, config.vocab_size)} (1×N×vocab_size)"


@pytest.mark.claim("S1")
@pytest.mark.article_config
@pytest.mark.article_tokenizer
@pytest.mark.parametrize("prompt", PROMPTS)
def test_shapes_through_base_model_and_head(forward_passes, articles, prompt, recorded):
    """S1 (000, 003, 001): tokens 1×N → last_hidden_state 1×N×1024 → logits 1×N×151936."""
    observed, sizes = forward_passes[prompt], articles["architecture"]
    # The rows the articles print: first and last values of each position.
    recorded({"last_hidden_state": observations.scores(observed.last_hidden_state[0]), "logits": observations.scores(observed.logits[0])})
    n = PRINTED_LENGTHS[prompt]
    assert observed.tokens["input_ids"].shape == (1, n)
    assert observed.last_hidden_state.shape == (1, n, sizes["hidden_size"])
    assert observed.logits.shape == (1, n, sizes["logits_width"])


@pytest.mark.claim("S2")
def test_scores_cover_the_head_not_the_tokenizer(model, tokenizer, forward_passes):
    """S2 (001), general form: the logits' last dimension is the task head's out_features, one score for every id the tokenizer can give."""
    width = forward_passes["how-are-you-chat"].logits.shape[-1]
    assert width == model.get_output_embeddings().out_features == model.config.vocab_size
    assert width >= len(tokenizer), f"{width} scores for a tokenizer of {len(tokenizer)} ids"


@pytest.mark.claim("S2")
@pytest.mark.article_config
@pytest.mark.article_tokenizer
def test_head_width_is_151936(model, tokenizer, articles):
    """S2 (001): lm_head.out_features is the printed 151936, larger than tokenizer.vocab_size (151643)."""
    assert model.lm_head.out_features == articles["architecture"]["logits_width"]
    assert model.lm_head.out_features > tokenizer.vocab_size


@pytest.mark.claim("S3")
def test_next_token_scores_and_top_1(forward_passes, recorded):
    """S3 (003): `logits[:, -1, :]` is 1×151936; its top-1 index is 1×1."""
    logits = forward_passes["how-are-you-chat"].logits
    next_token_score = logits[:, -1, :]
    top_score, top_token_index = next_token_score.topk(1, dim=-1)
    recorded({"next_token_score": observations.scores(next_token_score)})  # its top_tokens hold the top-1
    assert next_token_score.shape == (1, logits.shape[-1])
    assert top_token_index.shape == (1, 1) and top_score.shape == (1, 1)
    assert top_score.item() == next_token_score.max().item()


@pytest.mark.claim("S4")
@pytest.mark.parametrize("prompt", PROMPTS)
def test_softmax_gives_probabilities_in_the_same_order(forward_passes, prompt, recorded):
    """S4 (003): softmax makes non-negative probabilities summing to 1, in the scores' order; the top-1 is unchanged."""
    scores = forward_passes[prompt].logits[0, -1].float()
    probabilities = torch.softmax(scores, dim=-1)
    recorded({"next_token_probability": observations.scores(probabilities)})
    assert (probabilities >= 0).all()
    # The claim is about the exact softmax: computed in float64, the same scores' probabilities sum to 1.
    exact_sum = torch.softmax(scores.double(), dim=-1).sum().item()
    assert abs(exact_sum - 1) <= 1e-12, f"the exact (float64) softmax of the scores sums to {exact_sum!r}, not 1"
    # The float32 kernel's, summed exactly, within what rounding its own sum of n exponentials allows (tolerances.py).
    kernel_sum, bound = probabilities.double().sum().item(), softmax_sum_bound(scores.numel())
    assert abs(kernel_sum - 1) <= bound, (f"the float32 softmax of {scores.numel():,} scores sums to {kernel_sum!r}: {abs(kernel_sum - 1):.3g} from 1, "
                                          f"where rounding alone stays within {bound:.3g}")
    by_score = torch.argsort(scores, descending=True)
    assert (probabilities[by_score].diff() <= 0).all(), "softmax changed the order of the scores"
    assert probabilities.argmax() == scores.argmax()


@pytest.mark.claim("S5")
def test_batch_rows_score_like_single_texts(model, tokenizer, settings):
    """S5 (001): a batch of B texts gives B×N×V scores, and `logits[b, i]` scores the token after position i of row b."""
    texts = ["Hi dog how are you?", "Hello dog", "how are you?"]
    # Right padding: rows start at position 0, so position i means the same in batch and alone.
    batch = tokenizer(texts, return_tensors="pt", padding=True, padding_side="right").to(settings.device)
    with torch.inference_mode():
        logits = model(**batch).logits
        assert logits.shape == (len(texts), batch["input_ids"].shape[1], model.config.vocab_size)
        for row, text in enumerate(texts):
            alone = model(**tokenizer(text, return_tensors="pt").to(settings.device)).logits[0]
            n = alone.shape[0]
            # A batch of 3 and a single text are differently shaped products (see tolerances.py).
            assert_scores_agree(logits[row, :n], alone, kernel_atol(settings.dtype), f"row {row} of the batch against {text!r} alone",
                                ("position", "token"))
            for position in range(n):
                same_choice(logits[row, position], alone[position], near_tie_bound(settings.dtype), f"row {row}, position {position}: ")
