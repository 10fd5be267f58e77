"""A verdict follows what the model does, not how a release declares it: fake releases of transformers against the default proof.

Each runs the claims about what the model keeps between steps and when it stops (A3, A4, G1, G2, G4) on the embedded default in a subprocess, with
Qwen3's causal LM changed as genspec/faults/fake_release.py says. A change of declaration (a stateful mark, a forward declared as
**kwargs, the state's field renamed) changes no verdict; a change of behaviour (no state handed back, a state that changes the
tokens when fed back) fails the claim, naming it: on the articles' model nothing is "not applicable". `pytest -m tool`.
"""

import pytest

from genspec.run.subprocess_run import run_suite

pytestmark = pytest.mark.tool

CLAIMS = "A3,A4,G1,G2,G4"
STATE_CLAIMS = "A3,A4,G1,G4"  # what a change of declaration could move
DECLARATIONS = ["stateful_mark", "forward_as_kwargs", "field_renamed"]
# What each change of behaviour turns red, and the words of the verdict.
BEHAVIOURS = {
    "no_state": ({"A4", "G4"}, "hands back nothing between steps"),
    "state_forgets": ({"G4"}, "part at step"),
    "empty_state": ({"A4"}, "the state holds keys and values of 0 tokens in its fullest layer: it does not hold what it has seen"),
    "first_eos_only": ({"G2"}, "the checkpoint's eos 151643 was the model's top score at step 6, yet generate() went on"),
}


def _verdicts(tmp_path, settings, release: str, claims: str = CLAIMS) -> dict:
    _, report = run_suite(["--claims", claims], "float32", tmp_path / (release or "plain"), settings.cache_root,
                             extra=["-p", "genspec.faults.fake_release"], environment_extra={"FAKE_TRANSFORMERS_RELEASE": release})
    return {row["id"]: row for row in report["claims"] if row["id"] in claims.split(",")}


@pytest.fixture(scope="module")
def plain(tmp_path_factory, settings):
    verdicts = _verdicts(tmp_path_factory.mktemp("plain"), settings, "")
    assert all(row["status"] == "proven" for row in verdicts.values()), verdicts
    return verdicts


@pytest.mark.parametrize("release", DECLARATIONS)
def test_a_change_of_declaration_changes_no_verdict(release, plain, tmp_path, settings):
    faked = _verdicts(tmp_path, settings, release, STATE_CLAIMS)
    moved = {claim: (plain[claim]["status"], row["status"], row["detail"][:200]) for claim, row in faked.items() if row["status"] != plain[claim]["status"]}
    assert not moved, f"{release} changed only a declaration, yet verdicts moved (plain, faked, detail): {moved}"


@pytest.mark.parametrize("release", list(BEHAVIOURS))
def test_a_change_of_behaviour_fails_the_claim_naming_it(release, plain, tmp_path, settings):
    claims, words = BEHAVIOURS[release]
    faked = _verdicts(tmp_path, settings, release, ",".join(sorted(claims)))
    for claim in claims:
        assert faked[claim]["status"] == "failed" and words in faked[claim]["detail"], f"{release}: {claim} {faked[claim]}"
    assert not [row for row in faked.values() if row["status"] == "not applicable"], f"{release}: a part of a claim skipped: {faked}"
