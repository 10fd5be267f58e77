"""What the articles print (fixtures/articles.json), as pytest parameters with readable ids."""

import json
from functools import cache

import pytest

from genspec import FIXTURES

ARTICLES = FIXTURES / "articles.json"


@cache
def articles() -> dict:
    return json.loads(ARTICLES.read_text(encoding="utf-8"))


def cases(section: str, having: str | None = None) -> list:
    """One pytest.param per printed example of `section`; only those that print `having`."""
    return [
        pytest.param(case, id=case["id"])
        for case in articles()[section]
        if having is None or having in case
    ]


# The articles' prompts: raw "Hi" (000), and "how are you?" / "Why are you running?" as chat (raw where the
# tokenizer has no chat template: genspec.run.loading.prompt_text).
PROMPTS = {"hi": ("Hi", False), "how-are-you-chat": ("how are you?", True), "why-are-you-running-chat": ("Why are you running?", True)}
CHAT_PROMPTS = ("how-are-you-chat", "why-are-you-running-chat")
# Not the articles' 20: in 20 steps a tiny GPT-2's reply repeats too much for G1's varied-continuation guard.
GREEDY_STEPS = 32
