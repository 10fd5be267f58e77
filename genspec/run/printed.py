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
