"""`--kernels hub` says what ran: how many layers compute a hub kernel, of which kinds, from which repository, on which device,
and why the others compute the model's own forward — in the header and in the claims report.

On a CPU, offline, transformers maps no hub kernel to any layer of Qwen3, so none is kernelized; a fake release maps an RMSNorm
kernel for the CPU from a repository here (genspec/faults/kernel_here.py), and kernels replaces every RMSNorm's forward: the line
must count them. Counts come from the checkpoint's configuration: per decoder layer Qwen3 has four RMSNorms (input, after
attention, the query's and the key's), one SiLU and one rotary function, and one RMSNorm after the last layer. `pytest -m tool`.
"""

import json

import pytest

from genspec.embedded.small_models import write_family_checkpoint
from genspec.run.loading import HUB_KERNELS
from genspec.run.subprocess_run import run_suite

pytestmark = [pytest.mark.tool, pytest.mark.skipif(not HUB_KERNELS, reason="this transformers release loads no kernels from the hub")]


@pytest.fixture(scope="module")
def tiny_qwen3(tmp_path_factory, settings):
    checkpoint = write_family_checkpoint("qwen3-small", tmp_path_factory.mktemp("kernels") / "qwen3-small", settings.cache_root)
    layers = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))["num_hidden_layers"]
    return checkpoint, {"RMSNorm": 4 * layers + 1, "SiLU": layers, "rotary_pos_emb()": layers}


def kernels_lines(done, report: dict) -> str:
    """The counted line, checked to be the same in the output (after the load and in the proof's section) and in the report."""
    lines = {line for line in done.stdout.splitlines() if line.startswith("genspec kernels: hub (--kernels hub): ") and "counted once" not in line}
    assert len(lines) == 1 and report["environment"]["kernels"] in lines, (lines, report["environment"]["kernels"])
    return lines.pop()


def test_on_a_cpu_offline_no_layer_computes_a_hub_kernel_and_the_header_says_why(tiny_qwen3, settings, tmp_path):
    checkpoint, places = tiny_qwen3
    done, report = run_suite(["--model", str(checkpoint), "--kernels", "hub", "--claims", "S3"], "float32", tmp_path, settings.cache_root)
    assert done.returncode == 0, done.stdout[-3000:]
    line = kernels_lines(done, report)
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(places.items()))
    assert line == (f"genspec kernels: hub (--kernels hub): no layer computes a hub kernel on cpu; the {sum(places.values())} that could "
                    f"take one compute the model's own forward ({kinds}: no hub kernel for cpu)"), line


def test_a_kernel_mapped_for_the_cpu_is_counted_with_its_repository(tiny_qwen3, settings, tmp_path):
    checkpoint, places = tiny_qwen3
    done, report = run_suite(["--model", str(checkpoint), "--kernels", "hub", "--claims", "S3"], "float32", tmp_path, settings.cache_root,
                             extra=["-p", "genspec.faults.fake_release"], environment_extra={"FAKE_TRANSFORMERS_RELEASE": "rmsnorm_kernel_here"})
    assert done.returncode == 0, done.stdout[-3000:]
    line = kernels_lines(done, report)
    assert line == (f"genspec kernels: hub (--kernels hub): {places['RMSNorm']} of the {sum(places.values())} layers that can take a hub "
                    f"kernel compute one on cpu ({places['RMSNorm']} RMSNorm from genspec-faults/rmsnorm-here); the others compute the "
                    f"model's own forward ({places['SiLU']} SiLU, {places['rotary_pos_emb()']} rotary_pos_emb(): no hub kernel for cpu)"), line
    assert next(row for row in report["claims"] if row["id"] == "S3")["status"] == "proven"
