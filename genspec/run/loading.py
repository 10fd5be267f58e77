"""Load tokenizer and models the way the articles do: AutoTokenizer / AutoModelFor*.from_pretrained.

Safetensors only, never remote code, never the hub's kernels, on every supported transformers version.
"""

import inspect
import logging
from contextlib import contextmanager
from pathlib import Path

import torch
import transformers
from packaging.version import Version
from transformers import AutoTokenizer, PreTrainedModel

from genspec.embedded.tokenizer import preloaded
from genspec.stored import loading_unmapped

TRANSFORMERS = Version(transformers.__version__)
# `dtype=` exists from 4.56; older releases only know `torch_dtype=`.
DTYPE_KEYWORD = "dtype" if TRANSFORMERS >= Version("4.56") else "torch_dtype"
SAFE = {"use_safetensors": True, "trust_remote_code": False}
# transformers 5.25 swaps layers for kernels downloaded from the hub at every load unless told not to (`use_kernels` on by
# default; without the `kernels` package the load stops). The proof's computations are the model's own forward, so every load
# turns them off, on every release whose from_pretrained takes the keyword, offline or not.
HUB_KERNELS = "use_kernels" in inspect.getsource(PreTrainedModel.from_pretrained)
KERNELS_OFF = {"use_kernels": False} if HUB_KERNELS else {}
# A mixture of experts loads with grouped_mm as its experts' implementation from transformers 5, and grouped_mm has no float64
# kernel ("Expected mat_a to be Float32, BFloat16 or Float16 matrix, got Double"): float64, the arbiter of rounding, computes the
# experts with the eager loop, which every dtype has. Other dtypes keep transformers' default.
FLOAT64_EXPERTS = {"experts_implementation": "eager"} if "experts_implementation" in inspect.getsource(PreTrainedModel.from_pretrained) else {}


def kernels_as_loaded(model) -> dict:
    """The kernels keyword that loads another model as `model` was loaded: kernelized from the hub, or not (001's classifier
    follows the causal LM)."""
    return {"use_kernels": bool(getattr(model, "use_kernels", False))} if HUB_KERNELS else {}


def kernels_line(kernels: str) -> str:
    """The proof header's line on the hub's kernels."""
    if not HUB_KERNELS:
        return f"genspec kernels: transformers {transformers.__version__} loads no kernels from the hub"
    if kernels == "hub":
        return ("genspec kernels: hub (--kernels hub): the causal LM and 001's classifier load with use_kernels=True, as "
                "from_pretrained's default does from transformers 5.25; which layers compute a hub kernel is counted once the causal LM "
                "has loaded")
    return ("genspec kernels: off: every load computes the model's own forward (use_kernels=False), not kernels from the hub "
            "(--kernels hub proves the kernelized model)")


def load_tokenizer(path: Path):
    ahead = preloaded(path)  # genspec families: the tokenizer its tiny checkpoints share, loaded once
    return ahead if ahead is not None else AutoTokenizer.from_pretrained(path, trust_remote_code=False)


def load_pretrained(model_class, path: Path, dtype: str, device: str, **kwargs):
    """`model_class.from_pretrained(...)` in inference mode, as the articles set it up; also the loading info. Hub kernels off
    unless `use_kernels=True` is passed (--kernels hub)."""
    with loading_unmapped():  # the loaded weights are then the one copy in memory (genspec/stored.py)
        model, info = model_class.from_pretrained(
            path, **{**SAFE, **KERNELS_OFF, **(FLOAT64_EXPERTS if dtype == "float64" else {}), DTYPE_KEYWORD: getattr(torch, dtype),
                     "output_loading_info": True, **kwargs}
        )
    model.to(device)
    model.requires_grad_(False)  # "setting our model in inference mode" (003)
    return model.eval(), info


@contextmanager
def transformers_messages():
    """Collect what transformers logs (warnings such as the tied-weights notice of 001)."""
    messages: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def chat_text(tokenizer, user: str) -> str:
    """The articles' chat formatting: one user message, generation prompt, thinking disabled."""
    message = [{"role": "user", "content": user}]
    return tokenizer.apply_chat_template(message, tokenize=False, add_generation_prompt=True, enable_thinking=False)


def prompt_text(tokenizer, user: str, as_chat: bool) -> str:
    """What a prompt goes in as: the articles' chat formatting where asked for and the tokenizer has a chat
    template; raw text where it has none (GPT-2, the model of 002, has none)."""
    return chat_text(tokenizer, user) if as_chat and tokenizer.chat_template else user


def encode(tokenizer, user: str, as_chat: bool, device: str):
    return tokenizer(prompt_text(tokenizer, user, as_chat), return_tensors="pt").to(device)


def token_texts(tokenizer, tokens) -> list[str]:
    """Each token's own text, as 001's tables and tree show them."""
    return [tokenizer.decode([token]) for token in tokens]
