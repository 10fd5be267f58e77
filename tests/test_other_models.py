"""Any causal LM as `--model`: the whole suite on checkpoints that are not Qwen3-0.6B, end to end.

Tiny checkpoints of four families (genspec/embedded/small_models.py) are written into a temporary
directory, as a user's local checkpoint would be, and the suite runs on each in a subprocess:
it ends green, every claim proven in its general form or not applicable with its reason, and the
article's numbers never reported as failed. Deselected from the default run: `pytest -m end_to_end`.
"""

import pytest

from genspec.embedded.small_models import ALL_FAMILIES, write_family_checkpoint
from genspec.run import claims
from genspec.run.subprocess_run import run_suite

# Claims with no general form: all their tests are the article's (its token ids, its printed values).
ARTICLE_ONLY = {"P1", "P2", "P3", "P4", "P5", "P6", "P8", "V1", "V2", "V3", "V4", "V5", "V6", "V7"}
# What each family lacks, and so which claims its run must call not applicable, with the words of the reason.
LACKS = {
    "qwen3-small": {},
    "llama": {},
    "qwen2": {},
    # 002's model: its own tokenizer without a chat template, a GPT-2 activation, a tied save.
    "gpt2": {"P9": "no chat template", "X1": "activation is gelu_new", "X2": "no chat template"},
}
TOKENIZER_NOT_QWEN3 = {"gpt2"}
# C1's own promise: it fails loudly where the checkpoint stores no lm_head.weight, as a tied save does (002's GPT-2).
FAILS = {"gpt2": {"C1": "stores no lm_head.weight (a tied save)"}}
FORMS = {"qwen3-small": "001's key_mapping", "llama": "001's key_mapping", "qwen2": "001's key_mapping", "gpt2": "tied save"}


@pytest.mark.end_to_end
@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_suite_on_another_model(family, settings, tmp_path):
    """`pytest --model DIR` on a tiny checkpoint of `family`: the general forms proven, the article's parts not applicable, and no
    failure but C1's loud one on a tied save."""
    directory = write_family_checkpoint(family, tmp_path / f"my-{family}", settings.cache_root)
    done, report = run_suite(["--model", str(directory)], "float32", tmp_path, settings.cache_root)
    rows = {row["id"]: row for row in report["claims"]}
    summary = "\n".join(f"{row['id']} {row['status']}: {row['detail'][:160]}" for row in rows.values())
    expected_exit = pytest.ExitCode.TESTS_FAILED if family in FAILS else pytest.ExitCode.OK
    assert done.returncode == expected_exit, f"{family}: exit {done.returncode}\n{summary}\n{done.stdout[-3000:]}"
    for claim, words in FAILS.get(family, {}).items():
        assert rows[claim]["status"] == "failed" and words in rows[claim]["detail"], (claim, rows[claim])

    not_applicable = set(LACKS[family]) | {claim for claim in ARTICLE_ONLY if claim.startswith("V") or family in TOKENIZER_NOT_QWEN3}
    assert {claim for claim, row in rows.items() if row["status"] == "not applicable"} == not_applicable, summary
    assert all(row["status"] == "proven" for claim, row in rows.items() if claim not in not_applicable | set(FAILS.get(family, {}))), summary
    for claim, words in LACKS[family].items():
        assert words in rows[claim]["detail"], (claim, rows[claim]["detail"])
    # Every value claim says why: the model is not the article's.
    value_claims = [claim.id for claim in claims.catalogue().values() if claim.kind == "value"]
    assert all("Qwen3-0.6B" in rows[claim]["detail"] for claim in value_claims), summary
    # The article's numbers of the structural claims: reported as not applicable, with the reason, beside the proven general form.
    for claim in ("A1", "A2", "A3", "A7", "S1", "S2"):
        assert "the article's numbers: not applicable (this model" in rows[claim]["detail"], (claim, rows[claim]["detail"])
    if family not in FAILS:
        assert FORMS[family] in rows["C1"]["detail"], rows["C1"]["detail"]
