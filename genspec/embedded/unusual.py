"""Tiny checkpoints outside the mold the suite was first written against, for the tests of what a user sees on them.

Families transformers ships that generate differently: GPT-1 keeps no key/value cache; Mamba, RWKV and
RecurrentGemma carry a recurrent state instead; BERT loads as a causal LM but attends both ways. And checkpoints
that cannot be proven on: a seq2seq model (T5), a model that needs its own Python code, a config that disagrees
with its weights, weights with a layer of NaN. Each is written as a user's local checkpoint would be
(save_pretrained, safetensors) with the random weights of the tool's other small models (small_models.py) and the plain
tokenizer: none of these is Qwen3, and none has a chat template.
"""

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import (
    CONFIG_MAPPING,
    AutoModelForCausalLM,
    BertConfig,
    Gemma2Config,
    GenerationConfig,
    MambaConfig,
    OpenAIGPTConfig,
    RecurrentGemmaConfig,
    RwkvConfig,
    T5Config,
    T5ForConditionalGeneration,
)

from genspec.embedded.small_models import END_OF_TEXT, PLAIN_VOCAB, randomized
from genspec.embedded.tokenizer import build_plain_tokenizer

TOKENS = {"vocab_size": PLAIN_VOCAB, "bos_token_id": END_OF_TEXT, "eos_token_id": END_OF_TEXT, "pad_token_id": END_OF_TEXT}
# Causal LMs of families whose generation differs from Qwen3's: how each keeps what it has read.
STATEFUL = {
    "gpt1": lambda: OpenAIGPTConfig(n_embd=64, n_layer=2, n_head=4, n_positions=512, **TOKENS),  # no cache at all
    "mamba": lambda: MambaConfig(hidden_size=64, num_hidden_layers=2, state_size=8, **TOKENS),  # a recurrent state
    "rwkv": lambda: RwkvConfig(hidden_size=64, num_hidden_layers=2, attention_hidden_size=64, intermediate_size=128,
                               context_length=512, **TOKENS),  # a recurrent state
    # recurrent blocks and local attention, the state kept inside the model
    "recurrent_gemma": lambda: RecurrentGemmaConfig(hidden_size=64, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=1,
                                                    head_dim=16, intermediate_size=128, lru_width=64, attention_window_size=64, **TOKENS),
    # an encoder loaded as a causal LM: without is_decoder it attends to later tokens too
    "bert": lambda: BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                               architectures=["BertLMHeadModel"], **TOKENS),
}
# Hybrids: attention layers that keep keys and values beside layers that keep a recurrent state (linear attention, SSM,
# convolution), all in one cache; and Mamba-2's pure state. Built where this transformers ships the family (by model_type).
FOUR_LAYERS = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
               "head_dim": 16, **TOKENS}
ALTERNATING = {"layer_types": ["linear_attention", "full_attention"] * 2}
LINEAR_HEADS = {"linear_num_key_heads": 2, "linear_num_value_heads": 4, "linear_key_head_dim": 16, "linear_value_head_dim": 16}
HYBRID_SETTINGS = {
    "qwen3_5_text": {**ALTERNATING, **LINEAR_HEADS},  # Qwen3.5, the next Qwen generation
    "qwen3_next": {**ALTERNATING, **LINEAR_HEADS, "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 32,
                   "shared_expert_intermediate_size": 32},
    "jamba": {"attn_layer_period": 2, "attn_layer_offset": 1, "expert_layer_period": 2, "expert_layer_offset": 1, "num_experts": 2,
              "mamba_d_state": 8, "mamba_dt_rank": 8,
              "use_mamba_kernels": False},  # 4.x: the CUDA kernels otherwise (5.x picks the implementation itself)
    "falcon_h1": {"mamba_d_ssm": 64, "mamba_n_heads": 4, "mamba_d_head": 16, "mamba_d_state": 8, "mamba_n_groups": 1,
                  "mamba_chunk_size": 16},
    "lfm2": {"layer_types": ["conv", "full_attention"] * 2, "block_ff_dim": 128},
    "nemotron_h": {"hybrid_override_pattern": "M*M*", "mamba_num_heads": 4, "mamba_head_dim": 16, "ssm_state_size": 8, "n_groups": 1,
                   "chunk_size": 16},
    "olmo_hybrid": ALTERNATING,
}
HYBRIDS = {family: (lambda family=family: CONFIG_MAPPING[family](**FOUR_LAYERS, **HYBRID_SETTINGS[family]))
           for family in HYBRID_SETTINGS if family in CONFIG_MAPPING}
STATEFUL |= HYBRIDS
# GPT-1 normalises after each block, not before: with a larger MLP gain, and the seed two on, its greedy continuations of
# the articles' prompts vary (seeds 0 and 1 repeat a token within the first 8 steps). Qwen3-Next on seed 0 samples the same
# reply under seeds 0 and 1 (G5 has nothing to show); four on, it varies.
MLP_GAINS = {"gpt1": 8.0}
SEED_SHIFTS = {"gpt1": 2, "qwen3_next": 4}
BROKEN = ("seq2seq", "remote_code", "vocab_disagrees", "short_window", "nan_layer", "quantized", "gguf_only", "adapter_only",
          "tokenizer_larger")


def write_stateful_checkpoint(family: str, directory: Path, seed: int = 0) -> Path:
    """A tiny causal LM of `family` (one of STATEFUL), saved into `directory`."""
    model = AutoModelForCausalLM.from_config(STATEFUL[family]())
    gain = {"mlp_gain": MLP_GAINS[family]} if family in MLP_GAINS else {}
    return _save(randomized(model, seed + SEED_SHIFTS.get(family, 0), **gain), directory)


def write_soft_capped_checkpoint(directory: Path, seed: int = 0) -> Path:
    """A tiny Gemma2: its scores pass through 30·tanh(x/30), a flat distribution whose float32 softmax sums to 1 only up to
    rounding over 151,680 terms (S4's bound, genspec/run/tolerances.py)."""
    config = Gemma2Config(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
                          head_dim=16, final_logit_softcapping=30.0, attn_logit_softcapping=50.0, **TOKENS)
    return _save(randomized(AutoModelForCausalLM.from_config(config), seed), directory)


def write_broken_checkpoint(kind: str, directory: Path, seed: int = 0) -> Path:
    """A checkpoint genspec cannot prove anything on, or one whose scores are not finite (`kind`: one of BROKEN)."""
    if kind == "seq2seq":
        return _save(randomized(T5ForConditionalGeneration(T5Config(d_model=64, d_kv=16, d_ff=128, num_layers=1, num_heads=4,
                                                                    decoder_start_token_id=0, **TOKENS)), seed), directory)
    if kind == "tokenizer_larger":  # a model that embeds 151,000 ids beside a tokenizer of 151,644
        config = STATEFUL["gpt1"]()
        config.vocab_size = PLAIN_VOCAB - 680
        return _save(randomized(AutoModelForCausalLM.from_config(config), seed + SEED_SHIFTS["gpt1"]), directory)
    if kind == "gguf_only":  # what a GGUF download holds: one file in llama.cpp's format (its magic number, then nothing here)
        directory.mkdir(parents=True)
        (directory / "model-Q4_K_M.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")
        return directory
    if kind == "adapter_only":  # a LoRA adapter as peft saves it: its config and its own weights, no model
        directory.mkdir(parents=True)
        (directory / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "base_model_name_or_path": "Qwen/Qwen3-0.6B",
                                                                   "r": 8, "target_modules": ["q_proj", "v_proj"]}), encoding="utf-8")
        save_file({"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": torch.zeros(8, 1024)},
                  str(directory / "adapter_model.safetensors"), metadata={"format": "pt"})
        return directory
    write_stateful_checkpoint("gpt1", directory, seed)
    config_path = directory / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if kind == "remote_code":  # as a hub model with its own modeling file names it; the file itself need not exist
        config |= {"model_type": "my-own-lm", "auto_map": {"AutoConfig": "configuration_my_own.MyOwnConfig",
                                                           "AutoModelForCausalLM": "modeling_my_own.MyOwnForCausalLM"}}
    elif kind == "vocab_disagrees":  # an edited config: the weights keep their 151,680 rows
        config["vocab_size"] = PLAIN_VOCAB - 680
    elif kind == "short_window":  # learned positions for 24 tokens: a longer text indexes past them
        config["n_positions"] = 24
        tensors = load_file(str(directory / "model.safetensors"))
        tensors["transformer.positions_embed.weight"] = tensors["transformer.positions_embed.weight"][:24].clone()
        save_file(tensors, str(directory / "model.safetensors"), metadata={"format": "pt"})
    elif kind == "quantized":  # as bitsandbytes' 4-bit save writes it (its weights here are the float ones: it stops before)
        config["quantization_config"] = {"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
                                         "bnb_4bit_compute_dtype": "bfloat16"}
    elif kind == "nan_layer":
        weights = directory / "model.safetensors"
        tensors = load_file(str(weights))
        for name in [name for name in tensors if ".h.1." in name]:  # the second block, whole
            tensors[name] = torch.full_like(tensors[name], float("nan"))
        save_file(tensors, str(weights), metadata={"format": "pt"})
    else:
        raise ValueError(f"unknown broken checkpoint {kind!r}; one of {', '.join(BROKEN)}")
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return directory


def _save(model, directory: Path) -> Path:
    model.generation_config = GenerationConfig(bos_token_id=END_OF_TEXT, eos_token_id=END_OF_TEXT, pad_token_id=END_OF_TEXT)
    model.save_pretrained(directory, safe_serialization=True)
    build_plain_tokenizer(directory)
    return directory
