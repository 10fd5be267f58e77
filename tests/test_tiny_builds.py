"""A tiny build is a model its family could have: every structural count its config derives from the small sizes is checked
(none below zero, a per-layer pattern covering every layer), and where the generic sizes would break a family's structure it
is scaled down with them, or the family's row says why it cannot be built tiny. Its weights start from the family's own
initialization and keep each parameter's meaning; it computes in float32 what it computes in float64; its probe asks what the
claims ask. `pytest -m tool`."""

import json
import math
from types import SimpleNamespace

import pytest
import torch
from transformers import AutoModelForCausalLM

from genspec.embedded.small_models import BIAS_STD, NORM_SPREAD
from genspec.families import builds as tiny

pytestmark = pytest.mark.tool

ships_dory = pytest.mark.skipif("dory" not in tiny.model_types(), reason="this transformers ships no Dory (from 5.24)")


@ships_dory
def test_dory_at_the_generic_sizes_is_refused_with_the_count_it_derived(monkeypatch):
    """Dory derives its recurrent section from num_hidden_layers less its input and output sections: at 4 layers against its
    default 8 + 8, -24 blocks, which transformers builds without complaint and which no Dory checkpoint could be."""
    monkeypatch.delitem(tiny.FAMILY_SETTINGS, "dory")
    with pytest.raises(tiny.CannotBuild) as refused:
        tiny.tiny_config("dory")
    assert str(refused.value) == "its structure does not scale to the small sizes: n_recurrent_layers = -24 derived from the others"


@ships_dory
def test_dory_is_built_with_its_sections_scaled_down_together():
    config = tiny.tiny_config("dory").to_dict()
    sections = [config["n_input_layers"], config["n_recurrent_layers"], config["n_output_layers"]]
    assert all(count > 0 for count in sections) and sum(sections) == config["num_hidden_layers"], config
    assert len(config["layer_types"]) == config["num_hidden_layers"]


def config_of(**settings):
    """A family's config as incoherence reads it (transformers' own base config refuses an uncovered pattern itself)."""
    return SimpleNamespace(to_dict=lambda: settings)


def test_a_pattern_that_does_not_cover_the_layers_or_a_negative_count_is_incoherent():
    assert tiny.incoherence(config_of(num_hidden_layers=4, layer_types=["full_attention"] * 2)) == \
        "layer_types names 2 layers, num_hidden_layers is 4"
    assert tiny.incoherence(config_of(num_hidden_layers=4, num_experts=-2)) == "num_experts = -2 derived from the others"
    assert tiny.incoherence(config_of(num_hidden_layers=2, layer_types=["full_attention"] * 2, num_experts=4, pad_token_id=-1)) is None


# A build keeps each parameter's meaning (issue: Dory's nGPT scales, stored as s and used as s·s_init/initializer_range, at ~56
# times their meaning when every one-dimensional parameter was reset to about 1, amplified float32 rounding into red cells).
SPREAD = 5  # standard deviations of the recipe's spread: a parameter farther from its family's value has lost its meaning


def family_init(config, recipe: dict, seed: int = 0) -> dict:
    """The family's own initialization, as the build starts from it (the same seed before from_config)."""
    torch.manual_seed(seed + recipe["seed_shift"])
    return {name: parameter.detach().clone() for name, parameter in AutoModelForCausalLM.from_config(config).named_parameters()}


@ships_dory
def test_a_build_spreads_each_parameter_around_its_familys_value(tmp_path):
    """Every parameter that is not a matrix keeps its family's sign and scale within the recipe's spread; a zero stays near zero."""
    config = tiny.tiny_config("dory")
    recipe = tiny.RECIPES[0]
    own, built = family_init(config, recipe), dict(tiny.built(config, recipe, 0).named_parameters())
    scales = [name for name, value in own.items() if value.ndim == 1 and torch.allclose(value, torch.full_like(value, config.initializer_range))]
    assert scales, "Dory initializes its nGPT scales to initializer_range: some one-dimensional parameter holds it"
    for name, value in own.items():
        if value.ndim >= 2 and (value.ndim == 2 or "experts" in name):
            continue  # matrices are drawn at unit gain
        got, zero = built[name].detach(), value == 0
        assert (got[zero].abs() <= SPREAD * BIAS_STD).all(), f"{name}: a zero of its family's moved by more than {SPREAD * BIAS_STD}"
        ratio = got[~zero] / value[~zero]
        assert ((ratio > math.exp(-SPREAD * NORM_SPREAD)) & (ratio < math.exp(SPREAD * NORM_SPREAD))).all(), (
            f"{name}: built {got[~zero][:4].tolist()} from its family's {value[~zero][:4].tolist()}: off by more than the spread")


@ships_dory
def test_dory_with_its_scales_reset_to_one_is_not_admissible_and_its_build_is(tmp_path):
    """The old recipe (every one-dimensional parameter about 1) makes Dory's float32 scores differ from float64's by far more than
    the kernel tolerance; the build genspec writes stays within it, and its manifest records by how much."""
    config = tiny.tiny_config("dory")
    prompt = torch.tensor([[151644, 872, 198, 5158, 525, 498, 30, 151645, 198, 151644, 77091, 198]])
    reset = tiny.built(config, tiny.RECIPES[0], 0)
    with torch.no_grad():
        for name, parameter in reset.named_parameters():
            if parameter.ndim == 1 and not name.endswith("bias"):
                parameter.copy_(torch.exp(torch.randn(parameter.shape) * NORM_SPREAD))
    assert tiny.float32_drift(reset, [prompt]) > tiny.CONDITIONING_ATOL
    assert not tiny.admissible(tiny.float32_drift(reset, [prompt]))
    written = tiny.write_tiny("dory", tmp_path / "dory")
    conditioning = json.loads((written / tiny.MANIFEST).read_text(encoding="utf-8"))["float32 against float64"]
    assert conditioning["largest score difference"] <= conditioning["tolerance"] == tiny.CONDITIONING_ATOL, conditioning


def test_a_family_that_cannot_compute_in_float64_is_built_and_says_so():
    assert tiny.admissible("it does not compute in float64 (RuntimeError: value cannot be converted to type float without overflow)")


def test_the_probe_asks_of_each_reply_what_g1_asks():
    """G1 needs min(10, half the reply) distinct tokens of each chat reply, which the loop ends at an eos (spec/test_generation.py)."""
    assert tiny.shortfall({"how are you?": list(range(9)) * 3 + [1] * 5}) == 1  # 32 tokens, 9 distinct: one short of 10
    assert tiny.shortfall({"how are you?": list(range(10)) * 3 + [1, 2]}) == 0
    assert tiny.shortfall({"Why are you running?": [5, 6, 7, 8, 5, 6, 7, 8]}) == 0  # 8 tokens: 4 distinct suffice
    assert tiny.shortfall({"Why are you running?": [5, 6, 5, 6, tiny.IM_END]}) == 0  # ended at the eos after 5: 2 suffice
