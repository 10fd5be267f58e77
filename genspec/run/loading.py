"""Load tokenizer and models the way the articles do: AutoTokenizer / AutoModelFor*.from_pretrained.

Safetensors only, never remote code, on every supported transformers version.
"""

import logging
from contextlib import contextmanager
from pathlib import Path

import torch
import transformers
from packaging.version import Version
from transformers import AutoTokenizer

from genspec.embedded.tokenizer import preloaded
from genspec.stored import loading_unmapped

TRANSFORMERS = Version(transformers.__version__)
# `dtype=` exists from 4.56; older releases only know `torch_dtype=`.
DTYPE_KEYWORD = "dtype" if TRANSFORMERS >= Version("4.56") else "torch_dtype"
SAFE = {"use_safetensors": True, "trust_remote_code": False}


def load_tokenizer(path: Path):
    ahead = preloaded(path)  # genspec families: the tokenizer its tiny checkpoints share, loaded once
    return ahead if ahead is not None else AutoTokenizer.from_pretrained(path, trust_remote_code=False)


def load_pretrained(model_class, path: Path, dtype: str, device: str, **kwargs):
    """`model_class.from_pretrained(...)` in inference mode, as the articles set it up; also the loading info."""
    with loading_unmapped():  # the loaded weights are then the one copy in memory (genspec/stored.py)
        model, info = model_class.from_pretrained(
            path, **SAFE, **{DTYPE_KEYWORD: getattr(torch, dtype)}, output_loading_info=True, **kwargs
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
