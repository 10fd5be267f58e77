"""Qwen3-0.6B model-card facts, kept as data under fixtures/model-card."""

import json

from genspec import FIXTURES

MODEL_CARD_DIR = FIXTURES / "model-card"


def read_json(name: str):
    return json.loads((MODEL_CARD_DIR / name).read_text(encoding="utf-8"))


def config() -> dict:
    return read_json("config.json")


def generation_config() -> dict:
    return read_json("generation_config.json")


def tokenizer_config() -> dict:
    return read_json("tokenizer_config.json")


def added_tokens() -> list[dict]:
    """The 26 added tokens, in id order 151643..151668, with the model card's special flags."""
    return read_json("added_tokens.json")


def chat_template() -> str:
    return (MODEL_CARD_DIR / "chat_template.jinja").read_text(encoding="utf-8")
