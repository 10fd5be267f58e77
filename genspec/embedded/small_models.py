"""Tiny checkpoints of causal LMs that are not Qwen3-0.6B, to run the whole suite on with `--model DIR`.

What a user points the suite at when the model is not the article's: a Qwen3 of another size (the
2-layer stand-in), GPT-2 (the model of the Part 1 stub, 002: a tied head, no chat template), Llama
and Qwen2 (untied heads, a chat template). Each is written as its family saves itself
(save_pretrained, safetensors) with random weights of unit gain, so that greedy continuations are
varied rather than one token repeated. The tokenizer is Qwen3's where any tokenizer serves, and
for GPT-2 a plain one with Qwen's BPE ranks (no GPT-2 vocabulary can be had offline): one special
token, no chat template, not Qwen3's — as GPT-2's own is not.
"""

import re
import shutil
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, GenerationConfig, GPT2Config, LlamaConfig, Qwen2Config

from genspec.embedded import model_card
from genspec.embedded.checkpoint import MANIFEST, ensure_stand_in
from genspec.embedded.tokenizer import build_plain_tokenizer, build_tokenizer
from genspec.embedded.weights import FREQUENT_GAIN, FREQUENT_RANKS
from genspec.stored import stored_lm_head

END_OF_TEXT, IM_END = 151643, 151645
# Qwen's 151,643 BPE ranks and <|endoftext|>, rounded up to a multiple of 64 as checkpoints pad their heads.
PLAIN_VOCAB = 151680
SMALL = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}
CHAT = {"vocab_size": model_card.config()["vocab_size"], "tie_word_embeddings": False, "bos_token_id": END_OF_TEXT,
        "eos_token_id": IM_END}

FAMILIES = {
    # 002's model: GPT-2 ties its head to the embedding, so its save stores no lm_head.weight.
    "gpt2": lambda: GPT2Config(n_layer=2, n_embd=64, n_head=4, n_positions=1024, vocab_size=PLAIN_VOCAB,
                               tie_word_embeddings=True, bos_token_id=END_OF_TEXT, eos_token_id=END_OF_TEXT),
    "llama": lambda: LlamaConfig(**SMALL, **CHAT),
    "qwen2": lambda: Qwen2Config(**SMALL, **CHAT),
}
NORM_SPREAD, BIAS_STD = 0.3, 0.02
# The MLPs write more into the residual stream than the embedding (as in the stand-in, weights.py): with a head tied to
# the embedding (GPT-2) a stream close to the current token's embedding would score that token highest, again and again.
MLP_GAIN = 4.0
MLP_OUT = re.compile(r"mlp(_block)?\.(down_proj|c_proj)\.weight$")
STAND_IN_FAMILIES = {"qwen3-small": "embedded-small"}  # built by the stand-in builder, copied as a user's local checkpoint
ALL_FAMILIES = (*STAND_IN_FAMILIES, *FAMILIES)


def write_family_checkpoint(family: str, directory: Path, cache_root: Path, seed: int = 0) -> Path:
    """Write a tiny checkpoint of `family` (one of ALL_FAMILIES) into `directory`, which must not exist yet."""
    if family in STAND_IN_FAMILIES:
        stand_in = ensure_stand_in(STAND_IN_FAMILIES[family], seed, cache_root)
        shutil.copytree(stand_in.path, directory, ignore=shutil.ignore_patterns(MANIFEST))
        return directory
    config = FAMILIES[family]()
    model = randomized(AutoModelForCausalLM.from_config(config), seed)
    if config.tie_word_embeddings:
        build_plain_tokenizer(directory)
        model.generation_config = GenerationConfig(bos_token_id=END_OF_TEXT, eos_token_id=END_OF_TEXT)
    else:
        build_tokenizer(directory)
        model.generation_config = GenerationConfig(**model_card.generation_config())
        model = model.to(torch.bfloat16)  # stored as the chat checkpoints of these families store theirs
    model.save_pretrained(directory, safe_serialization=True)
    _check_head_storage(directory, tied=config.tie_word_embeddings)
    return directory


def randomized(model, seed: int, mlp_gain: float = MLP_GAIN):
    """`model` with random weights of unit gain, as every tiny family checkpoint has them (see the module's docstring)."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            # unit gain: the last hidden state is a pseudo-random function of the context (a mixture of experts's too, whose
            # experts transformers 5 stores fused, one 3-d tensor a projection)
            if parameter.ndim == 2 or (parameter.ndim == 3 and "experts" in name):
                parameter.copy_(noise / parameter.shape[-1] ** 0.5 * (mlp_gain if MLP_OUT.search(name) else 1.0))
            elif name.endswith("bias"):
                parameter.copy_(noise * BIAS_STD)
            else:  # norm weights away from 1.0, as the stand-in's: a norm that ignored its weight would show
                parameter.copy_(torch.exp(noise * NORM_SPREAD))
        # Frequent pieces (the lowest BPE ranks) score high in many contexts, as in the stand-in (weights.py): the
        # prompt's own tokens then rank in the top-k, where a repetition penalty acts (G7).
        head = model.get_output_embeddings().weight
        head *= (1 + FREQUENT_GAIN * torch.exp(-torch.arange(head.shape[0], dtype=head.dtype) / FREQUENT_RANKS))[:, None]
    return model


def _check_head_storage(directory: Path, tied: bool) -> None:
    # The families differ in exactly this: a tied save keeps no lm_head.weight (C1's general form), an untied one does.
    stored = stored_lm_head(directory) is not None
    if stored == tied:
        raise RuntimeError(f"{directory.name}: lm_head.weight {'stored' if stored else 'missing'} in a {'tied' if tied else 'untied'} save")
