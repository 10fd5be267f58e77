"""Deterministic stand-in weights for a Qwen3 config, generated from a seed by our own code.

transformers' initialisers change between releases; these do not, so every transformers
version loads the very same numbers (torch is pinned, and each tensor has its own generator).

Why greedy continuations come out varied rather than one token repeated forever: with small
random weights the residual stream stays close to the current token's embedding, and a head
that resembles the embedding then scores the current token highest — so the model echoes it.
Here the MLPs write much more into the residual stream than the embedding does (MLP_GAIN), so
the final hidden state is a pseudo-random function of the token and its context; the head is
an independent random matrix, so its argmax is an unrelated token, and iterating a random
function over ~150k tokens visits hundreds of tokens before it cycles. Attention (ATTENTION_GAIN)
mixes in the earlier positions, so context changes the prediction too.
"""

import zlib

import torch

EMBEDDING_STD = 0.02
ATTENTION_GAIN = 1.0
MLP_GAIN = 4.0
HEAD_STD = 0.025
# Token ids past the tokenizer's 151,643 ranks and 26 added tokens are padding rows of the
# real checkpoint too; ordinary rows get the full head, these a quiet one, as in a trained model.
QUIET_HEAD_STD = 0.0025
# Frequent pieces: BPE ranks follow frequency, so the lowest ids ("\n", "?", " you", " are") are the
# commonest pieces of text, and a trained head scores them high in many contexts. Their rows are
# scaled up, falling off with rank: continuations then repeat tokens and the prompt's own tokens
# rank in the top-k (what a repetition penalty acts on: G7).
FREQUENT_GAIN = 2.0
FREQUENT_RANKS = 300
# The end of a chat turn is a likely token in a trained model; its row (a quiet added token's
# otherwise) gets EOS_GAIN times the ordinary head's scale, so that a reply can end on its own: G2
# stops on the model card's eos, not on a substituted one. With seed 0 the how-are-you reply ends
# on <|im_end|> after 18 tokens (greedy, float32), like the real model's short reply, and the
# why-are-you-running reply runs the full 32 steps. Margins of that choice: the how-are-you reply
# ends at the same step for any gain from 3.0 to 5.0, the other does not end below 4.6.
EOS_GAIN = 4.0
IM_END = 151645
# Norm weights drawn around 1.0 rather than the default 1.0: a norm that ignored its weight, or a
# weight that failed to load, would change every score.
NORM_SPREAD = 0.3


def parameter_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """The tensors a Qwen3ForCausalLM checkpoint stores, lm_head included, by name."""
    hidden, vocab = config["hidden_size"], config["vocab_size"]
    head_dim = config["head_dim"]
    q_width = config["num_attention_heads"] * head_dim
    kv_width = config["num_key_value_heads"] * head_dim
    inner = config["intermediate_size"]
    shapes = {"model.embed_tokens.weight": (vocab, hidden)}
    for layer in range(config["num_hidden_layers"]):
        prefix = f"model.layers.{layer}."
        shapes |= {
            prefix + "input_layernorm.weight": (hidden,),
            prefix + "self_attn.q_proj.weight": (q_width, hidden),
            prefix + "self_attn.k_proj.weight": (kv_width, hidden),
            prefix + "self_attn.v_proj.weight": (kv_width, hidden),
            prefix + "self_attn.o_proj.weight": (hidden, q_width),
            prefix + "self_attn.q_norm.weight": (head_dim,),
            prefix + "self_attn.k_norm.weight": (head_dim,),
            prefix + "post_attention_layernorm.weight": (hidden,),
            prefix + "mlp.gate_proj.weight": (inner, hidden),
            prefix + "mlp.up_proj.weight": (inner, hidden),
            prefix + "mlp.down_proj.weight": (hidden, inner),
        }
    shapes["model.norm.weight"] = (hidden,)
    shapes["lm_head.weight"] = (vocab, hidden)
    return shapes


def _std(name: str, shape: tuple[int, ...]) -> float:
    fan_in = shape[-1]
    if name.endswith("embed_tokens.weight"):
        return EMBEDDING_STD
    if name.endswith("o_proj.weight"):
        return ATTENTION_GAIN / fan_in**0.5
    if name.endswith("down_proj.weight"):
        return MLP_GAIN / fan_in**0.5
    return 1.0 / fan_in**0.5


def _normal(seed: int, name: str, shape: tuple[int, ...], std: float) -> torch.Tensor:
    # One generator per tensor, keyed by its name: a tensor's values never depend on the order
    # in which tensors are made.
    generator = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(name.encode()))
    return torch.randn(shape, generator=generator, dtype=torch.float32) * std


def stand_in_tensor(seed: int, name: str, shape: tuple[int, ...], ordinary_tokens: int) -> torch.Tensor:
    """One tensor of the stand-in, in float32."""
    if name.endswith("norm.weight"):
        return torch.exp(_normal(seed, name, shape, NORM_SPREAD))
    if name == "lm_head.weight":
        head = _normal(seed, name, shape, HEAD_STD)
        ranks = torch.arange(shape[0], dtype=torch.float32)
        head *= (1 + FREQUENT_GAIN * torch.exp(-ranks / FREQUENT_RANKS))[:, None]
        quiet = torch.ones(shape[0], dtype=torch.bool)
        quiet[:ordinary_tokens] = quiet[IM_END] = False
        head[quiet] *= QUIET_HEAD_STD / HEAD_STD
        head[IM_END] *= EOS_GAIN
        return head
    return _normal(seed, name, shape, _std(name, shape))
