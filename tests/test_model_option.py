"""`--model` either resolves to a usable checkpoint or stops the run with one clear sentence."""

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import torch
import transformers
from safetensors.torch import save_file

from genspec import PROOF_HOME
from genspec.embedded.unusual import write_broken_checkpoint
from genspec.run import model_source
from genspec.run.loading import HUB_KERNELS

pytestmark = pytest.mark.tool  # checks the tool, not the articles: `pytest -m tool`

REPO = PROOF_HOME


def _checkpoint(directory: Path, weights: bytes | None = None, config: str = "{}") -> Path:
    directory.mkdir()
    (directory / "config.json").write_text(config)
    if weights is not None:
        (directory / "model.safetensors").write_bytes(weights)
    return directory


def _safetensors_bytes(tmp_path) -> bytes:
    save_file({"weight": torch.zeros(64)}, str(tmp_path / "good.safetensors"))
    return (tmp_path / "good.safetensors").read_bytes()


def test_missing_directory(tmp_path):
    with pytest.raises(model_source.ModelSourceError, match="no such directory"):
        model_source.check_checkpoint(tmp_path / "nowhere")


def test_directory_without_config(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(model_source.ModelSourceError, match="no config.json"):
        model_source.check_checkpoint(tmp_path / "empty")


def test_config_that_is_not_json(tmp_path):
    directory = _checkpoint(tmp_path / "ckpt", _safetensors_bytes(tmp_path), config="{not json")
    with pytest.raises(model_source.ModelSourceError, match="config.json is not valid JSON"):
        model_source.check_checkpoint(directory)


def test_truncated_safetensors(tmp_path):
    directory = _checkpoint(tmp_path / "ckpt", _safetensors_bytes(tmp_path)[:-16])
    with pytest.raises(model_source.ModelSourceError, match="model.safetensors is corrupt or truncated"):
        model_source.check_checkpoint(directory)


def test_pickle_only_checkpoint_is_refused(tmp_path):
    directory = _checkpoint(tmp_path / "ckpt")
    torch.save({"weight": torch.zeros(4)}, directory / "pytorch_model.bin")
    with pytest.raises(model_source.ModelSourceError, match="safetensors only"):
        model_source.check_checkpoint(directory)


def test_hub_id_missing_from_cache_falls_back_with_the_how_to_line(tmp_path, monkeypatch):
    """Whatever the user's own cache holds: this reads an empty one."""
    monkeypatch.setattr(model_source, "_stand_in", lambda *args, **kwargs: kwargs["unavailable"])
    reason = model_source.resolve("Qwen/Qwen3-0.6B", seed=0, cache_root=tmp_path, hub_cache=tmp_path / "empty-hub-cache")
    assert "not in the local Hugging Face cache" in reason and "hf download Qwen/Qwen3-0.6B" in reason


def test_bad_model_stops_the_run_with_one_line(tmp_path):
    """`pytest --model /no/such/dir` ends with one ERROR line naming the problem, no traceback."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--model", str(tmp_path / "no-such-dir"), "-p", "no:cacheprovider"],
        check=False, cwd=REPO, capture_output=True, text=True, env=os.environ | {"HF_HUB_OFFLINE": "1"}, timeout=300,
    )
    output = run.stdout + run.stderr
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert f"ERROR: --model {tmp_path / 'no-such-dir'}: no such directory" in output
    assert "Traceback" not in output


def test_checkpoint_without_a_loadable_tokenizer_stops_the_run_with_one_line(tmp_path):
    """A checkpoint whose tokenizer does not load (a class this transformers lacks) ends the run with one ERROR line, no traceback."""
    directory = _checkpoint(tmp_path / "no-tokenizer", _safetensors_bytes(tmp_path), config='{"model_type": "qwen3"}')
    (directory / "tokenizer_config.json").write_text('{"tokenizer_class": "NoSuchTokenizer"}')
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--model", str(directory), "-p", "no:cacheprovider"],
        check=False, cwd=REPO, capture_output=True, text=True, env=os.environ | {"HF_HUB_OFFLINE": "1"}, timeout=300,
    )
    output = run.stdout + run.stderr
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert f"ERROR: --model {directory}: its tokenizer does not load" in output
    assert "Traceback" not in output and "INTERNALERROR" not in output


# pytest in a Python where a package is not installed: importlib finds no module the name maps to None in sys.modules.
WITHOUT = "import sys; sys.modules.update(dict.fromkeys(sys.argv[1].split(','))); import pytest; sys.exit(pytest.main(sys.argv[2:]))"


def _run_until_it_stops(arguments: list[str], environment: dict | None = None, without: tuple[str, ...] = ()) -> str:
    """`pytest ARGS` as a user runs it (where `without` packages are not installed); asserts it stopped before any test with one
    ERROR line and no traceback; returns that line."""
    python = [sys.executable, "-c", WITHOUT, ",".join(without)] if without else [sys.executable, "-m", "pytest"]
    run = subprocess.run([*python, *arguments, "-p", "no:cacheprovider"], check=False, cwd=REPO,
                         capture_output=True, text=True, env=os.environ | {"HF_HUB_OFFLINE": "1"} | (environment or {}), timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, output[-3000:]
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, output[-3000:]
    return errors[0]


@pytest.mark.parametrize(("kind", "expected"), [
    ("seq2seq", ("T5ForConditionalGeneration (model_type 't5') is an encoder-decoder (seq2seq) model: transformers {release} has no "
                "AutoModelForCausalLM class for it")),
    ("remote_code", ("model_type 'my-own-lm' is not a family transformers {release} ships; the checkpoint brings its own Python code "
                    "(AutoConfig: configuration_my_own.MyOwnConfig, AutoModelForCausalLM: modeling_my_own.MyOwnForCausalLM), which "
                    "genspec never runs")),
    ("short_window", "this model reads at most 24 tokens (its config's max_position_embeddings), and the proof's texts run to 64"),
    ("vocab_disagrees", ("model.safetensors stores transformer.tokens_embed.weight as 151680×64, but config.json makes it 151000×64: "
                        "the config and the weights disagree")),
    ("quantized", ("a quantized checkpoint (bitsandbytes, 4-bit, config.json's quantization_config): genspec proves the claims on the "
                   "model's float weights")),
    ("gguf_only", "only GGUF weights (model-Q4_K_M.gguf, llama.cpp's format); genspec loads safetensors. transformers dequantizes"),
    ("adapter_only", ("a PEFT adapter (adapter_config.json), not a model: it holds only the adapter's own weights. Merge it into its base "
                     "model (Qwen/Qwen3-0.6B)")),
    ("tokenizer_larger", "the tokenizer has 151,644 tokens but the model embeds 151,000 (config.json's vocab_size)"),
])
def test_a_checkpoint_that_is_not_a_causal_lm_stops_the_run_with_one_line(kind, expected, tmp_path):
    """A seq2seq model, a model that needs its own code, a config that disagrees with the weights, a quantized checkpoint, GGUF
    weights, an adapter without its model, a tokenizer larger than the model's embedding: one line before any test."""
    directory = write_broken_checkpoint(kind, tmp_path / kind)
    line = _run_until_it_stops(["--model", str(directory)])
    assert line.startswith(f"ERROR: --model {directory}: " + expected.format(release=transformers.__version__)), line
    assert not (directory / "modeling_my_own.py").exists()  # nothing was fetched or written to run


def test_cuda_without_a_cuda_device_stops_the_run_with_one_line():
    """`--device cuda` where torch sees no CUDA device (hidden here even on a GPU machine): one line, at the start."""
    line = _run_until_it_stops(["--device", "cuda"], {"CUDA_VISIBLE_DEVICES": ""})
    assert line.startswith("ERROR: --device cuda: this torch (") and "sees no CUDA device" in line and "--device cpu" in line, line


def test_a_cache_folder_that_cannot_be_made_stops_the_run_with_one_line(tmp_path):
    """GENSPEC_CACHE under a regular file: the line names the variable and the path, instead of an INTERNALERROR."""
    (tmp_path / "a-file").write_text("not a folder")
    cache = tmp_path / "a-file" / "genspec"
    line = _run_until_it_stops([], {"GENSPEC_CACHE": str(cache)})
    assert line == f"ERROR: GENSPEC_CACHE={cache}: the stand-in cache folder {cache} cannot be made (Not a directory). " \
                   "Point it at a folder you can write to.", line


def test_a_gguf_file_given_as_the_model_says_what_it_is(tmp_path):
    gguf = write_broken_checkpoint("gguf_only", tmp_path / "download") / "model-Q4_K_M.gguf"
    with pytest.raises(model_source.ModelSourceError, match=r"a GGUF file \(llama.cpp's format\), not a checkpoint directory"):
        model_source.check_checkpoint(gguf)


def test_a_fine_tune_saved_without_its_tokenizer_stops_the_run_with_one_line(tiny_stand_in, tmp_path):
    """Weights and config only, as many fine-tune outputs are saved: one line saying which files to copy, not 52 errors."""
    directory = tmp_path / "my-fine-tune"
    directory.mkdir()
    for name in ("config.json", "generation_config.json", "model.safetensors"):
        (directory / name).write_bytes((tiny_stand_in / name).read_bytes())
    line = _run_until_it_stops(["--model", str(directory)])
    assert line.startswith(f"ERROR: --model {directory}: no tokenizer in {directory}") and "tokenizer.json" in line, line


def test_a_checkpoint_that_fails_to_load_stops_the_run_with_one_line(tiny_stand_in):
    """The safety net: what no check foresaw (a release's from_pretrained raising) stops before any test in the same form, exit 4."""
    line = _run_until_it_stops(["--model", str(tiny_stand_in), "-p", "genspec.faults.fake_release"], {"FAKE_TRANSFORMERS_RELEASE": "load_fails"})
    assert line.startswith(f"ERROR: --model {tiny_stand_in}: does not load as a causal LM with transformers {transformers.__version__} "
                           "(ImportError: Using bitsandbytes 4-bit quantization requires accelerate"), line


def test_hub_kernels_asked_for_without_the_kernels_package_stop_the_run_with_one_line():
    """`--kernels hub` where the kernels package is missing (as on any index without the release transformers asks for): one line
    naming the package, the requirement and the way back, before any model is loaded."""
    line = _run_until_it_stops(["--kernels", "hub"], without=("kernels",))
    if not HUB_KERNELS:
        assert line == (f"ERROR: --kernels hub: transformers {transformers.__version__} loads no kernels from the hub (from 5.25 its "
                        "from_pretrained does by default); run without --kernels."), line
        return
    assert line.startswith("ERROR: --kernels hub: the kernels package is not installed; transformers "
                           f"{transformers.__version__} asks for kernels") and line.endswith("pip install it, or run without --kernels."), line


# A kernels package that refuses what transformers asks of it at import, as kernels 0.19 refuses transformers 5.10.4's mapping.
REFUSING_KERNELS = """
def _refuse(*args, **kwargs):
    raise ValueError("Either a revision or a version must be specified.")


class LayerRepository:
    def __init__(self, *args, **kwargs):
        _refuse()


_refuse()
"""


def test_a_release_that_cannot_import_beside_the_installed_kernels_stops_with_one_line(tmp_path):
    """transformers imported beside a kernels it cannot work with: one line naming the release, the kernels version, what
    refused and the way out, before any test (it was pytest's internal error, exit 3, and a long traceback)."""
    (tmp_path / "kernels").mkdir()
    (tmp_path / "kernels" / "__init__.py").write_text(REFUSING_KERNELS, encoding="utf-8")
    line = _run_until_it_stops(["--claims", "S3"], {"PYTHONPATH": str(tmp_path)})
    release, installed = metadata.version("transformers"), metadata.version("kernels")
    assert re.fullmatch(rf"ERROR: transformers {re.escape(release)} cannot be imported beside kernels {re.escape(installed)}: kernels refused "
                        r"what transformers/[\w/]+\.py:\d+ asks of it \(ValueError: Either a revision or a version must be specified\.\); to "
                        r"run the proof: (pip uninstall kernels \(.+\)(, or )?)?(pip install 'kernels[<>=.,\d]+', the range transformers "
                        rf"{re.escape(release)} declares)?\.", line), line
