"""How fast each loop generates, side by side with `generate()`, on the full-size stand-in.

    pytest benchmarks --benchmark-save=NAME      # then: pytest-benchmark compare

Each benchmark records tokens per second and the share of the memory-bandwidth bound: a
memory-bound decoder reads every weight matrix once per new token, so
bound = measured bandwidth / bytes of weights read per token.
"""

import statistics
import time

import pytest
import torch

from genspec import loops
from genspec.classification import load_classifier
from genspec.embedded import model_card
from genspec.run.loading import chat_text

NEW_TOKENS = 32
PAIRED_ROUNDS = 10  # enough pairs that the ratio's spread stays within a few percent
CARD = model_card.generation_config()
SAMPLING = {name: CARD[name] for name in ("temperature", "top_k", "top_p")}


@pytest.fixture(scope="session")
def prompt_ids(tokenizer, settings):
    return tokenizer(chat_text(tokenizer, "how are you?"), return_tensors="pt")["input_ids"].to(settings.device)


@pytest.fixture(scope="session")
def bytes_per_token(model):
    """Weights a decoding step reads: every matrix but the embedding table, of which it reads one row."""
    return sum(p.numel() * p.element_size() for name, p in model.named_parameters() if "embed_tokens" not in name)


@pytest.fixture(scope="session")
def bandwidth(settings):
    """Memory bandwidth measured in this run: bytes per second of reading a 1 GiB tensor."""
    block = torch.ones(256 * 1024 * 1024, device=settings.device)  # 1 GiB of float32
    block.sum()  # warm up
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        block.sum()
        if settings.device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return block.numel() * block.element_size() / best


def synchronised(run):
    """`run`, returning only when the device has finished it: CUDA queues kernels and returns at once."""
    def finished():
        result = run()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return result
    return finished


def measure(benchmark, bandwidth, bytes_per_token, new_tokens, run, rounds=3):
    with torch.inference_mode():
        benchmark.pedantic(synchronised(run), rounds=rounds, iterations=1, warmup_rounds=1)
    record_speed(benchmark, bandwidth, bytes_per_token, new_tokens)


def record_speed(benchmark, bandwidth, bytes_per_token, new_tokens):
    """Tokens per second of the fastest round, its share of the bandwidth bound, and the rounds' spread."""
    tokens_per_second = new_tokens / benchmark.stats.stats.min
    benchmark.extra_info["tokens_per_second"] = round(tokens_per_second, 2)
    benchmark.extra_info["bandwidth_bound_share"] = round(tokens_per_second / (bandwidth / bytes_per_token), 3)
    benchmark.extra_info["bandwidth_GBps"] = round(bandwidth / 1e9, 1)
    benchmark.extra_info["spread_percent"] = round(100 * benchmark.stats.stats.stddev / benchmark.stats.stats.mean, 1)


def greedy_generate(model, ids, n):
    return model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=n)


@pytest.mark.benchmark(group="greedy, 32 new tokens")
def test_generate_greedy(benchmark, model, prompt_ids, bandwidth, bytes_per_token):
    measure(benchmark, bandwidth, bytes_per_token, NEW_TOKENS, lambda: greedy_generate(model, prompt_ids, NEW_TOKENS))


@pytest.mark.benchmark(group="greedy, 32 new tokens")
def test_greedy_loop_cached(benchmark, model, prompt_ids, bandwidth, bytes_per_token):
    measure(benchmark, bandwidth, bytes_per_token, NEW_TOKENS, lambda: loops.greedy(model, prompt_ids, NEW_TOKENS))


@pytest.mark.benchmark(group="greedy, 32 new tokens")
def test_greedy_loop_uncached(benchmark, model, prompt_ids, bandwidth, bytes_per_token):
    measure(benchmark, bandwidth, bytes_per_token, NEW_TOKENS, lambda: loops.greedy(model, prompt_ids, NEW_TOKENS, use_cache=False))


@pytest.mark.benchmark(group="greedy, 32 new tokens")
def test_classification_loop(benchmark, source, model, settings, prompt_ids, bandwidth, bytes_per_token):
    classifier, _ = load_classifier(source.path, model.config.vocab_size, settings.dtype, settings.device)
    measure(benchmark, bandwidth, bytes_per_token, NEW_TOKENS, lambda: loops.classify_greedily(classifier, prompt_ids, NEW_TOKENS))


@pytest.mark.benchmark(group="cached greedy loop against generate(), paired rounds")
def test_greedy_loop_against_generate_paired(benchmark, model, prompt_ids, bandwidth, bytes_per_token):
    """Each round times generate() just before the loop, so a shared machine's drift hits both alike."""
    generate_seconds = []

    def time_generate():
        start = time.perf_counter()
        synchronised(lambda: greedy_generate(model, prompt_ids, NEW_TOKENS))()
        generate_seconds.append(time.perf_counter() - start)

    with torch.inference_mode():
        benchmark.pedantic(synchronised(lambda: loops.greedy(model, prompt_ids, NEW_TOKENS)), setup=time_generate,
                           rounds=PAIRED_ROUNDS, iterations=1, warmup_rounds=1)
    ratios = [generate / loop for generate, loop in zip(generate_seconds[1:], benchmark.stats.stats.data, strict=True)]
    benchmark.extra_info["loop_speed_over_generate_median"] = round(statistics.median(ratios), 3)
    benchmark.extra_info["ratio_spread_percent"] = round(100 * statistics.stdev(ratios) / statistics.mean(ratios), 1)
    record_speed(benchmark, bandwidth, bytes_per_token, NEW_TOKENS)


@pytest.mark.benchmark(group="sampling, 32 new tokens")
def test_generate_sampling(benchmark, model, prompt_ids, bandwidth, bytes_per_token):
    def run():
        torch.manual_seed(0)
        return model.generate(prompt_ids, attention_mask=torch.ones_like(prompt_ids), do_sample=True, max_new_tokens=NEW_TOKENS, **SAMPLING)
    measure(benchmark, bandwidth, bytes_per_token, NEW_TOKENS, run)


@pytest.mark.benchmark(group="sampling, 32 new tokens")
def test_sampling_loop(benchmark, model, prompt_ids, bandwidth, bytes_per_token):
    run = lambda: loops.sample(model, prompt_ids, NEW_TOKENS, seed=0, **SAMPLING)
    measure(benchmark, bandwidth, bytes_per_token, NEW_TOKENS, run)


@pytest.mark.benchmark(group="growth with new tokens")
@pytest.mark.parametrize("new_tokens", [8, 32, 128])
@pytest.mark.parametrize("use_cache", [True, False], ids=["cached", "uncached"])
def test_cost_growth(benchmark, model, prompt_ids, bandwidth, bytes_per_token, new_tokens, use_cache):
    """Cached steps cost the same each; uncached steps re-read the whole growing text: linear vs quadratic."""
    rounds = 1 if (not use_cache and new_tokens == 128) else 2
    measure(benchmark, bandwidth, bytes_per_token, new_tokens, lambda: loops.greedy(model, prompt_ids, new_tokens, use_cache=use_cache), rounds)
