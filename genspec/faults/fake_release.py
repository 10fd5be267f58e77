"""A fake transformers release: `-p genspec.faults.fake_release` with FAKE_TRANSFORMERS_RELEASE naming what it changes in Qwen3's
causal LM. Loaded only by the tests of the tool (tests/test_fake_releases.py, …), in a subprocess; never by a run of the proof.

Declarations only (the verdicts must not move):
- stateful_mark: Qwen3's classes marked stateful, as transformers marks Mamba's;
- forward_as_kwargs: a forward declared as (*args, **kwargs), its parameters' names hidden;
- field_renamed: the state returned and taken back as `past_key_values` again, as before 5.24 renamed it `cache`.
Behaviour (the claims about the state must fail, naming it):
- no_state: the forward no longer hands back what it keeps;
- state_forgets: a state fed back has lost its first token's keys and values, so it changes the tokens;
- empty_state: the forward hands back an empty cache of the right kind and length (A4 must look inside it);
- first_eos_only: generate() honours only the first of the generation config's eos ids (G2 must show each one stop it).
What a user reads (tests/test_failure_words.py):
- rope_breaks: transformers itself raises inside a claim (the rotary embedding, on every step after the prompt);
- one_token_everywhere: the model scores one token on top everywhere, so the loops cannot be told apart (cannot show);
- batch_near_tie: in a batch the runner-up wins by 1e-5 where alone it loses by 1e-5, a near-tie rounding could decide.
Hub kernels (tests/test_hub_kernels.py):
- rmsnorm_kernel_here: transformers' kernel mapping gives RMSNorm a kernel on the CPU, from a repository here (no hub): with
  --kernels hub, kernels replaces every RMSNorm's forward, and the header must count them.
Loading (the run must stop in one ERROR line, tests/test_model_option.py):
- load_fails: from_pretrained raises what no check before the run foresaw (bitsandbytes' missing accelerate).
"""

import os
from dataclasses import dataclass

from transformers import AutoModelForCausalLM, Cache, DynamicCache, Qwen3ForCausalLM, Qwen3Model
from transformers.modeling_outputs import CausalLMOutputWithPast
from transformers.models.qwen3 import modeling_qwen3

RELEASE = os.environ.get("FAKE_TRANSFORMERS_RELEASE", "")
original_forward = Qwen3ForCausalLM.forward
original_generate = Qwen3ForCausalLM.generate
original_rotary = modeling_qwen3.apply_rotary_pos_emb
ONE_TOKEN = 13  # "." in Qwen3's vocabulary
NEAR_TIE = 1e-5  # far inside the float32 near-tie bound


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


def forward_handing_back_an_empty_state(self, *args, **kwargs):
    output = original_forward(self, *args, **kwargs)
    for name in ("cache", "past_key_values"):
        if output.get(name) is not None:
            output[name] = DynamicCache(config=self.config)
    return output


def forward_scoring_one_token_on_top(self, *args, **kwargs):
    output = original_forward(self, *args, **kwargs)
    output.logits[..., ONE_TOKEN] = output.logits.max() + 10
    return output


def forward_with_a_near_tie_in_batches(self, *args, **kwargs):
    output = original_forward(self, *args, **kwargs)
    last = output.logits[:, -1]
    top = last.topk(2, dim=-1)
    runner_up = top.values[:, :1] + (NEAR_TIE if last.shape[0] > 1 else -NEAR_TIE)
    last.scatter_(-1, top.indices[:, 1:], runner_up)
    return output


def generate_honouring_the_first_eos_only(self, *args, **kwargs):
    eos = self.generation_config.eos_token_id
    if "eos_token_id" not in kwargs and isinstance(eos, list):
        kwargs["eos_token_id"] = eos[0]
    return original_generate(self, *args, **kwargs)


def rotary_breaking_after_the_prompt(q, k, cos, sin, *args, **kwargs):
    if q.shape[-2] == 1:  # one new token, read against a state: the rotation's tables arrive one position too long
        cos, sin = cos.repeat_interleave(2, dim=-2), sin.repeat_interleave(2, dim=-2)
    return original_rotary(q, k, cos, sin, *args, **kwargs)


FORWARDS = {"forward_as_kwargs": forward_as_kwargs, "field_renamed": forward_with_past_key_values, "no_state": forward_without_state,
            "state_forgets": forward_forgetting_the_first_token, "empty_state": forward_handing_back_an_empty_state,
            "one_token_everywhere": forward_scoring_one_token_on_top, "batch_near_tie": forward_with_a_near_tie_in_batches}
def from_pretrained_failing(*args, **kwargs):
    raise ImportError("Using bitsandbytes 4-bit quantization requires accelerate: pip install 'accelerate>=1.1.0'")


if RELEASE == "stateful_mark":
    Qwen3ForCausalLM._is_stateful = Qwen3Model._is_stateful = True
elif RELEASE in FORWARDS:
    Qwen3ForCausalLM.forward = FORWARDS[RELEASE]
elif RELEASE == "first_eos_only":
    Qwen3ForCausalLM.generate = generate_honouring_the_first_eos_only
elif RELEASE == "rope_breaks":
    modeling_qwen3.apply_rotary_pos_emb = rotary_breaking_after_the_prompt
elif RELEASE == "load_fails":
    AutoModelForCausalLM.from_pretrained = from_pretrained_failing
elif RELEASE == "rmsnorm_kernel_here":
    from genspec.faults import kernel_here

    kernel_here.map_rmsnorm_on_the_cpu()
elif RELEASE:
    raise ValueError(f"FAKE_TRANSFORMERS_RELEASE={RELEASE!r}: not a fake release this module knows")
