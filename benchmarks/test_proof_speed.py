"""The proof's time as a multiple of one generate(): paired rounds, in both dtypes.

    pytest benchmarks/test_proof_speed.py --benchmark-save=NAME     # add --model, --device; -k float32 for one dtype

The machine's speed drifts between hours by more than a change to the proof moves it, so a time alone says little. Each
round times one generate() of 32 new tokens (the yardstick, the model loaded in this process, warm) and then the default
proof in a subprocess, in the parameter's dtype: each pair's ratio cancels the drift, and the median of PAIRS pairs is the
figure (docs/speed.md). Measured, printed and saved; never asserted.
"""

import statistics

import pytest
from transformers import AutoModelForCausalLM

from genspec.run.loading import load_pretrained

PAIRS = 3  # A B A B A B: three proofs, each beside its own yardstick


@pytest.mark.benchmark(group="the proof against generate-32")
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_proof_over_generate_32(benchmark, source, settings, tokenizer, dtype, proof_run, yardstick):
    model, _ = load_pretrained(AutoModelForCausalLM, source.path, dtype, settings.device)
    yardstick(model, tokenizer, settings.device)  # warm: the first generate() also builds kernels and caches

    def pairs():
        return [(yardstick(model, tokenizer, settings.device), proof_run(settings, dtype)[0]) for _ in range(PAIRS)]

    measured = benchmark.pedantic(pairs, rounds=1, iterations=1)
    ratios = [proof / generate for generate, proof in measured]
    benchmark.extra_info.update({
        "dtype": dtype, "pairs": [(round(proof, 1), round(generate, 2)) for generate, proof in measured],
        "ratios": [round(ratio, 1) for ratio in ratios], "proof_over_generate_32": round(statistics.median(ratios), 1),
    })
