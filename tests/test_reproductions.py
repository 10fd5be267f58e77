"""A red cell's script, run as a family's maintainer runs it — torch and transformers alone, no genspec: it exits 1 while the
finding holds, 0 against a transformers patched so that it is gone, 2 when the script itself cannot run, saying why.

Each comparison kind on a family where its finding holds: XLM's generate() appends a mask token to the text it is given
(prepare_inputs_for_generation), so its loops part from generate() (G1, G2, G6, G8) and its padded batch from each prompt
alone (G10); GPT-2's tied save stores no lm_head.weight (C1). The patch removes XLM's mask token. `pytest -m tool`.
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
GONE_WITH_THE_PATCH = ("G1", "G6", "G8")  # the mask token alone parts them; G10's batch reads XLM's padding as well
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
