"""What a step costs as the text grows, on a hybrid as on Qwen3: the loops feed back what the model keeps, so each new token
costs the same; reading the whole text every step costs more and more.

    pytest benchmarks/test_state_cost.py

On a tiny Qwen3.5 (genspec/embedded/unusual.py: key/value layers for attention, linear-attention layers for the rest),
the greedy loop's seconds per new token for 16, 64 and 256 new tokens, fed back and reading the whole text. Never asserted;
the full-size Qwen3 stand-in's growth is test_generation_speed.py's test_cost_growth.
"""

import pytest
import torch
from transformers import AutoModelForCausalLM

from genspec import loops
from genspec.embedded.unusual import HYBRIDS, write_stateful_checkpoint
from genspec.run.loading import KERNELS_OFF

HYBRID = "qwen3_5_text"


@pytest.fixture(scope="module")
def hybrid(tmp_path_factory):
    if HYBRID not in HYBRIDS:
        pytest.skip(f"this transformers ships no {HYBRID}")
    directory = write_stateful_checkpoint(HYBRID, tmp_path_factory.mktemp("hybrid") / "checkpoint")
    return AutoModelForCausalLM.from_pretrained(directory, use_safetensors=True, **KERNELS_OFF).eval()


@pytest.mark.benchmark(group="a hybrid's cost per new token as the text grows")
@pytest.mark.parametrize("new_tokens", [16, 64, 256])
@pytest.mark.parametrize("use_cache", [None, False], ids=["state-fed-back", "whole-text"])
def test_cost_per_new_token_on_a_hybrid(benchmark, hybrid, new_tokens, use_cache):
    prompt = torch.randint(300, 3000, (1, 16), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        benchmark.pedantic(lambda: loops.greedy(hybrid, prompt, new_tokens, use_cache=use_cache), rounds=2, iterations=1, warmup_rounds=1)
    benchmark.extra_info["milliseconds_per_new_token"] = round(1000 * benchmark.stats.stats.min / new_tokens, 2)
