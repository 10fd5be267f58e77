"""The claims catalogue (fixtures/claims.json) and the `claim` marker that ties a test to it."""

import json
from dataclasses import dataclass
from functools import cache

import pytest

from genspec import FIXTURES

CATALOGUE = FIXTURES / "claims.json"
MARKER = "claim"


@dataclass(frozen=True)
class Claim:
    id: str
    kind: str
    topic: str
    claim: str
    where: str


@cache
def catalogue() -> dict[str, Claim]:
    rows = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return {row["id"]: Claim(**row) for row in rows}


def claims_of(item: pytest.Item) -> list[Claim]:
    """The claims a test names with @pytest.mark.claim("ID"); an unknown id is a usage error."""
    named = []
    for marker in item.iter_markers(MARKER):
        for claim_id in marker.args:
            if claim_id not in catalogue():
                raise pytest.UsageError(f"{item.nodeid} names claim {claim_id!r}, which is not in {CATALOGUE.name}")
            named.append(catalogue()[claim_id])
    return named
