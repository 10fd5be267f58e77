"""A red cell's script, run as a family's maintainer runs it — torch and transformers alone, no genspec: it exits 1 while the
finding holds, 0 against a transformers patched so that it is gone, 2 when the script itself cannot run, saying why.

Each comparison kind on a family where its finding holds: XLM's generate() appends a mask token to the text it is given
(prepare_inputs_for_generation), so its loops part from generate() (G1, G2, G6, G8) and its padded batch from each prompt
alone (G10); GPT-2's tied save stores no lm_head.weight (C1). The patch removes XLM's mask token. A crash reruns the claim's own
comparison: CPM-Ant's loop, fed one token with its cache, raises where the proof saw it raise (exit 1); any other exception is
the script's own failure (exit 2). `pytest -m tool`.
"""

import os
import subprocess
import sys

import pytest
import transformers

from genspec.embedded.tokenizer import build_tokenizer
from genspec.families import builds as tiny
from genspec.families import scripts as repro

pytestmark = [pytest.mark.tool, pytest.mark.skipif("xlm" not in tiny.model_types(), reason="this transformers ships no XLM")]

FINDINGS = {"xlm": ("G1", "G2", "G6", "G8", "G10"), "gpt2": ("C1",)}
# The mask token alone parts them (G2 as well: its script tells generate() both eos ids the checkpoint names, as the proof's load
# does, so a transformers that honours every eos ends where the loop ends); G10's batch reads XLM's padding as well.
GONE_WITH_THE_PATCH = ("G1", "G2", "G6", "G8")
WITHOUT_THE_MASK_TOKEN = """
import transformers.models.xlm.modeling_xlm as xlm

appending = xlm.XLMWithLMHeadModel.prepare_inputs_for_generation


def without_the_mask_token(self, input_ids, **kwargs):
    inputs = appending(self, input_ids, **kwargs)
    inputs["input_ids"] = inputs["input_ids"][:, :-1]
    if inputs.get("langs") is not None:
        inputs["langs"] = inputs["langs"][:, :-1]
    return inputs


xlm.XLMWithLMHeadModel.prepare_inputs_for_generation = without_the_mask_token
"""
BROKEN_TORCH = "raise ImportError('this environment holds a torch that does not import')\n"


@pytest.fixture(scope="module")
def scripts(tmp_path_factory):
    root = tmp_path_factory.mktemp("reproductions")
    build_tokenizer(root / "tokenizer")
    tokenizer = transformers.AutoTokenizer.from_pretrained(root / "tokenizer")
    written = {}
    for family, claims in FINDINGS.items():
        given = repro.inputs(tiny.write_tiny(family, root / family, tokenizer_files=root / "tokenizer"), tokenizer)
        for claim in claims:
            written[claim if family == "xlm" else f"{family}-{claim}"] = path = root / f"{family}-{claim}.py"
            path.write_text(repro.script(family, claim, "the claim", "the verdict", given, transformers.__version__), encoding="utf-8")
    return root, written


def run(script, cwd, site=None) -> subprocess.CompletedProcess:
    """As a maintainer runs it: `python script.py`, with nothing of genspec's (and `site` on the path first, where given)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("GENSPEC_", "PYTHON"))}
    environment |= {"PYTHONPATH": str(site)} if site else {}
    return subprocess.run([sys.executable, str(script)], check=False, cwd=cwd, capture_output=True, text=True, env=environment, timeout=600)


@pytest.mark.parametrize("claim", [*FINDINGS["xlm"], "gpt2-C1"])
def test_a_script_exits_1_while_its_finding_holds(scripts, claim):
    root, written = scripts
    done = run(written[claim], root)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "the tiny checkpoint's" in done.stdout, "the script builds the tiny checkpoint's weights (their hash printed)"
    assert "in float32:" in done.stdout and "in float64, the arbiter of rounding:" in done.stdout and "the finding holds" in done.stdout


@pytest.mark.parametrize("claim", GONE_WITH_THE_PATCH)
def test_a_script_exits_0_once_a_release_removes_its_finding(scripts, claim, tmp_path):
    root, written = scripts
    (tmp_path / "sitecustomize.py").write_text(WITHOUT_THE_MASK_TOKEN, encoding="utf-8")
    done = run(written[claim], root, site=tmp_path)
    assert done.returncode == 0 and "the finding is gone on this release" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


def test_a_script_that_cannot_run_exits_2_saying_why(scripts, tmp_path):
    """A package that does not import is the environment's fault, not a finding: exit 2, never the finding's 1."""
    root, written = scripts
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text(BROKEN_TORCH, encoding="utf-8")
    done = run(written["G1"], root, site=tmp_path)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.strip() == "could not run: ImportError: this environment holds a torch that does not import", done.stdout


# How the proof words the raise of CPM-Ant's G1 (genspec/reports/crashes.py): its loop feeds one token with the cache, and CPM-Ant
# builds its mask over the whole text it prepends its prompt to.
CPMANT_RAISED = ("transformers itself raised RuntimeError: The size of tensor a (48) must match the size of tensor b (33) at non-singleton "
                 "dimension 3 — called as CpmAntForCausalLM.forward(), raised at transformers/models/cpmant/modeling_cpmant.py:131 (in "
                 "CpmAntAttention.forward), transformers 5.25.0")
ANOTHER_FAILURE = """
import transformers.models.cpmant.modeling_cpmant as cpmant


def failing(self, *args, **kwargs):
    raise ValueError("a failure of another kind")


cpmant.CpmAntAttention.forward = failing
"""


@pytest.fixture(scope="module")
def crash_script(scripts):
    root, _ = scripts
    if "cpmant" not in tiny.model_types():
        pytest.skip("this transformers ships no CPM-Ant")
    tokenizer = transformers.AutoTokenizer.from_pretrained(root / "tokenizer")
    given = repro.inputs(tiny.write_tiny("cpmant", root / "cpmant", tokenizer_files=root / "tokenizer"), tokenizer)
    path = root / "cpmant-G1.py"
    path.write_text(repro.script("cpmant", "G1", "the claim", CPMANT_RAISED, given, transformers.__version__), encoding="utf-8")
    return root, path


def test_a_crash_script_holds_while_the_same_raise_recurs(crash_script):
    root, path = crash_script
    done = run(path, root)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "raised as the proof saw it: RuntimeError in forward (models/cpmant/modeling_cpmant.py)" in done.stdout, done.stdout[-2000:]


def test_a_crash_script_meeting_another_exception_exits_2(crash_script, tmp_path):
    """Broken by hand: the family raises otherwise. The script cannot tell whether the finding holds: exit 2, saying what."""
    root, path = crash_script
    (tmp_path / "sitecustomize.py").write_text(ANOTHER_FAILURE, encoding="utf-8")
    done = run(path, root, site=tmp_path)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "could not run: ValueError: a failure of another kind" in done.stdout, done.stdout[-2000:]
