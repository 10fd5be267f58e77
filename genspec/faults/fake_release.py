"""A fake transformers release: `-p genspec.faults.fake_release` with FAKE_TRANSFORMERS_RELEASE naming what it changes in Qwen3's
causal LM. Loaded only by the tests of the tool (tests/test_fake_releases.py, …), in a subprocess; never by a run of the proof.

Declarations only (the verdicts must not move):
- stateful_mark: Qwen3's classes marked stateful, as transformers marks Mamba's;
- forward_as_kwargs: a forward declared as (*args, **kwargs), its parameters' names hidden;
- field_renamed: the state returned and taken back as `past_key_values` again, as before 5.24 renamed it `cache`.
Behaviour (the claims about the state must fail, naming it):
- no_state: the forward no longer hands back what it keeps;
- state_forgets: a state fed back has lost its first token's keys and values, so it changes the tokens.
Loading (the run must stop in one ERROR line, tests/test_model_option.py):
- load_fails: from_pretrained raises what no check before the run foresaw (bitsandbytes' missing accelerate).
"""

import os
from dataclasses import dataclass

from transformers import AutoModelForCausalLM, Cache, Qwen3ForCausalLM, Qwen3Model
from transformers.modeling_outputs import CausalLMOutputWithPast

RELEASE = os.environ.get("FAKE_TRANSFORMERS_RELEASE", "")
original_forward = Qwen3ForCausalLM.forward


@dataclass
class OutputWithPastKeyValues(CausalLMOutputWithPast):
    past_key_values: Cache | None = None


def forward_as_kwargs(self, *args, **kwargs):
    return original_forward(self, *args, **kwargs)


def forward_with_past_key_values(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None, inputs_embeds=None,
                                 labels=None, use_cache=None, logits_to_keep=0, **kwargs):
    cache = past_key_values if past_key_values is not None else kwargs.pop("cache", None)  # generate() passes its own as `cache`
    output = original_forward(self, input_ids, attention_mask, position_ids, cache, inputs_embeds, labels, use_cache, logits_to_keep, **kwargs)
    return OutputWithPastKeyValues(loss=output.loss, logits=output.logits, past_key_values=output.get("cache"),
                                   hidden_states=output.hidden_states, attentions=output.attentions)


def forward_without_state(self, *args, **kwargs):
    output = original_forward(self, *args, **kwargs)
    return CausalLMOutputWithPast(loss=output.loss, logits=output.logits, hidden_states=output.hidden_states, attentions=output.attentions)


def forward_forgetting_the_first_token(self, *args, **kwargs):
    cache = kwargs.get("cache")
    if isinstance(cache, Cache) and cache.get_seq_length() > 0:
        for layer in cache.layers:
            layer.keys, layer.values = layer.keys[:, :, 1:], layer.values[:, :, 1:]
    return original_forward(self, *args, **kwargs)


FORWARDS = {"forward_as_kwargs": forward_as_kwargs, "field_renamed": forward_with_past_key_values, "no_state": forward_without_state,
            "state_forgets": forward_forgetting_the_first_token}
def from_pretrained_failing(*args, **kwargs):
    raise ImportError("Using bitsandbytes 4-bit quantization requires accelerate: pip install 'accelerate>=1.1.0'")


if RELEASE == "stateful_mark":
    Qwen3ForCausalLM._is_stateful = Qwen3Model._is_stateful = True
elif RELEASE in FORWARDS:
    Qwen3ForCausalLM.forward = FORWARDS[RELEASE]
elif RELEASE == "load_fails":
    AutoModelForCausalLM.from_pretrained = from_pretrained_failing
elif RELEASE:
    raise ValueError(f"FAKE_TRANSFORMERS_RELEASE={RELEASE!r}: not a fake release this module knows")
