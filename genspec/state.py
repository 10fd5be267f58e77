"""What a model hands back between steps, found by what it does rather than by how a release declares it.

001: "caching ... speeds up generation": a forward pass with `use_cache=True` returns, beside the
logits, what the model kept of the text — keys and values (Qwen3's DynamicCache), a recurrent state
(Mamba's, RWKV's), or both in one cache (Qwen3.5, Jamba, Falcon-H1: key/value layers for attention,
linear-attention layers for the rest). generate() feeds it back under the name it came out under
(`cache` from transformers 5.24, `past_key_values` before; `cache_params`, `state` for some
families), and so do the loops. The state is what the forward pass *returned* under a name its
forward *takes*: neither a class's stateful mark nor a renamed output decides it.
"""

import inspect
from dataclasses import dataclass

import torch
from transformers import Cache, cache_utils

# What a forward pass returns that is not kept for the next step: the scores, the hidden state, and what is returned only when
# asked for (hidden states, attentions, a mixture of experts' router logits and loss).
NOT_A_STATE = {"logits", "loss", "last_hidden_state", "hidden_states", "attentions", "cross_attentions", "router_logits", "aux_loss"}
# Layers that keep a recurrent (linear-attention, convolution or SSM) state, not keys and values.
RECURRENT_LISTS_4X = ("ssm_states", "conv_states", "conv_cache", "recurrent_states")  # transformers 4.x's hybrid caches
PER_LAYER_LISTS_4X = ("key_cache", "value_cache", *RECURRENT_LISTS_4X)
RECURRENT_LAYERS = tuple(getattr(cache_utils, name) for name in ("LinearAttentionCacheLayerMixin",) if hasattr(cache_utils, name))


def forward_parameters(model) -> set[str]:
    return set(inspect.signature(model.forward).parameters)


def handed_back(model, output) -> tuple[str | None, object]:
    """(returned_as, state): what `output` (a forward pass with use_cache=True, asked for nothing else) returned besides its
    scores, and the name the next step takes it back under; (None, None) where it returned nothing else. A name the forward
    takes as a parameter comes first; a forward declared as **kwargs takes it all the same."""
    takes = forward_parameters(model)
    names = [name for name in output.keys() if name not in NOT_A_STATE and output[name] is not None]  # noqa: SIM118 (a ModelOutput)
    names.sort(key=lambda name: name not in takes)
    return (names[0], output[names[0]]) if names else (None, None)


@dataclass(frozen=True)
class Summary:
    """What a model hands back between steps (its state), summarised as a reader of the proof needs it named."""

    returned_as: str | None  # the name the state came back under
    kind: str  # the state's type: DynamicCache, list, …
    key_value_layers: int  # layers that keep keys and values (attention)
    recurrent_layers: int  # layers that keep a recurrent state (linear attention, SSM, convolution)
    layers: int | None  # entries, one per decoder layer where the state is laid out by layer

    @property
    def nothing(self) -> bool:
        return self.returned_as is None

    def __str__(self) -> str:
        if self.nothing:
            return "nothing handed back between steps"
        parts = [f"{count} {what} layer{'s' if count > 1 else ''}" for count, what in ((self.key_value_layers, "key/value"),
                                                                                   (self.recurrent_layers, "recurrent")) if count]
        return f"{' and '.join(parts) or 'a recurrent state'} ({self.kind}, returned as `{self.returned_as}`)"


NOTHING = Summary(None, "", 0, 0, None)


def summary(returned_as: str | None, state) -> Summary:
    """Name what `state` holds: how many key/value layers, how many recurrent layers."""
    if returned_as is None:
        return NOTHING
    layers = getattr(state, "layers", None)
    if isinstance(state, Cache) and layers is not None:  # transformers 5: one cache layer per decoder layer
        recurrent = sum(isinstance(layer, RECURRENT_LAYERS) for layer in layers)
        # Falcon-H1's layers keep both: LinearAttentionAndFullAttentionLayer is a key/value layer too
        key_value = sum(not isinstance(layer, RECURRENT_LAYERS) or hasattr(layer, "keys") for layer in layers)
        return Summary(returned_as, type(state).__name__, key_value, recurrent, len(layers))
    if isinstance(state, tuple) and all(isinstance(layer, tuple) for layer in state):  # 4.x's legacy form: (key, value) per layer
        return Summary(returned_as, "tuple", len(state), 0, len(state))
    recurrent_lists = [getattr(state, name) for name in RECURRENT_LISTS_4X if isinstance(getattr(state, name, None), list)]
    if recurrent_lists:  # 4.x caches of hybrids and of Mamba, laid out by layer: keys beside SSM or convolution states
        keys = getattr(state, "key_cache", [])
        recurrent = max(sum(_holds(tensor) for tensor in tensors) for tensors in recurrent_lists)
        return Summary(returned_as, type(state).__name__, sum(_holds(tensor) for tensor in keys), recurrent, max(len(keys), *map(len, recurrent_lists)))
    if isinstance(state, Cache):  # a 4.x DynamicCache
        return Summary(returned_as, type(state).__name__, len(state), 0, len(state))
    # RWKV's list of state tensors, each holding every layer: not laid out by layer
    kind = f"{type(state).__name__} of {len(state)} tensors" if isinstance(state, (list, tuple)) else type(state).__name__
    return Summary(returned_as, kind, 0, 0, None)


def key_value_shapes(state) -> dict[int, tuple]:
    """The shape of each attention layer's keys, by layer index (a hybrid's recurrent layers have none)."""
    return {index: tuple(keys.shape) for index, (keys, _) in key_values(state).items()}


def key_values(state) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    """Each attention layer's keys and values (batch × heads × tokens seen × width), by layer index; a hybrid's recurrent layers,
    and layers that hold nothing yet, have none."""
    if isinstance(state, tuple) and all(isinstance(layer, tuple) for layer in state):
        return {index: (layer[0], layer[1]) for index, layer in enumerate(state)}
    if getattr(state, "layers", None) is not None:
        return {index: (layer.keys, layer.values) for index, layer in enumerate(state.layers) if _holds(getattr(layer, "keys", None))}
    return {index: (keys, values) for index, (keys, values) in enumerate(zip(getattr(state, "key_cache", ()), getattr(state, "value_cache", ()),
                                                                                 strict=False)) if _holds(keys)}


def _holds(tensor) -> bool:
    return isinstance(tensor, torch.Tensor) and tensor.numel() > 0


def reordered(state, parent: torch.Tensor):
    """The state of each surviving beam: its parent's (row `parent[i]` of every tensor along the batch)."""
    if isinstance(state, torch.Tensor):
        return state.index_select(0, parent)
    if isinstance(state, (tuple, list)):  # 4.x's (key, value) per layer; RWKV's list of state tensors
        return type(state)(reordered(part, parent) for part in state)
    if getattr(state, "layers", None) is None and any(isinstance(getattr(state, name, None), list) for name in PER_LAYER_LISTS_4X):
        # transformers 4.x's caches of Mamba and the hybrids: per-layer lists (MambaCache has no reorder_cache, LFM2's fails on
        # the empty keys of its convolution layers)
        for name in PER_LAYER_LISTS_4X:
            tensors = getattr(state, name, None)
            if isinstance(tensors, list):
                tensors[:] = [tensor.index_select(0, parent.to(tensor.device)) if _holds(tensor) else tensor for tensor in tensors]
        return state
    state.reorder_cache(parent)  # a Cache, key/value and recurrent layers alike
    return state
