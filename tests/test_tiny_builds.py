"""A tiny build is a model its family could have: every structural count its config derives from the small sizes is checked
(none below zero, a per-layer pattern covering every layer), and where the generic sizes would break a family's structure it
is scaled down with them, or the family's row says why it cannot be built tiny. `pytest -m tool`."""

from types import SimpleNamespace

import pytest

from genspec.embedded import tiny

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
