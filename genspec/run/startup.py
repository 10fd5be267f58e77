"""Whether a run can start, decided before any test: the device exists, the cache folder can be made, the
checkpoint loads as a causal LM. Each check raises CannotStart with one line that says what is wrong and what to do.

The checkpoint is checked without reading its weights: its config, the class transformers has for it, and a
model built on the meta device whose tensor shapes are compared with the safetensors headers — so a run that
cannot prove anything ends in one line instead of a traceback per test.
"""

import importlib.util
import json
from importlib import metadata
from pathlib import Path

import torch
import transformers
from safetensors import safe_open
from transformers import AutoConfig, AutoModelForCausalLM
from transformers.models.auto.configuration_auto import CONFIG_MAPPING
from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING

from genspec.run.loading import HUB_KERNELS

RELEASE = f"transformers {transformers.__version__}"


class CannotStart(Exception):
    """A run that cannot start; the message is the one line the user sees."""


def check_device(device: str) -> None:
    if device == "cuda" and not torch.cuda.is_available():
        raise CannotStart(f"--device cuda: this torch ({torch.__version__}) sees no CUDA device (torch.cuda.is_available() is "
                          "False). Run with --device cpu, or with a CUDA build of torch on a machine with an NVIDIA GPU.")


def check_kernels(kernels: str) -> None:
    """--kernels hub needs a release that kernelizes at load and the kernels package it declares."""
    if kernels != "hub":
        return
    if not HUB_KERNELS:
        raise CannotStart(f"--kernels hub: transformers {transformers.__version__} loads no kernels from the hub (from 5.25 its "
                          "from_pretrained does by default); run without --kernels.")
    if importlib.util.find_spec("kernels") is None:
        wanted = next((requirement for requirement in metadata.requires("transformers") or () if requirement.startswith("kernels")), "kernels")
        raise CannotStart(f"--kernels hub: the kernels package is not installed; transformers {transformers.__version__} asks for "
                          f"{wanted.split(';')[0].strip()}: pip install it, or run without --kernels.")


def check_cache_folder(root: Path, given_as: str) -> None:
    """`given_as`: where the folder was set (`GENSPEC_CACHE=...`), so that the line names what to change."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CannotStart(f"{given_as}: the stand-in cache folder {root} cannot be made ({error.strerror}). "
                          "Point it at a folder you can write to.") from None


def check_causal_lm(directory: Path, where: str) -> None:
    """Raise CannotStart unless transformers can load `directory` as a causal LM without running the checkpoint's own code."""
    stored = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    _check_not_quantized(stored, where)
    model_type = stored.get("model_type")
    if model_type not in CONFIG_MAPPING:
        brought = ", ".join(f"{name}: {code}" for name, code in (stored.get("auto_map") or {}).items())
        if brought:
            raise CannotStart(f"{where}: model_type {model_type!r} is not a family {RELEASE} ships; the checkpoint brings its own "
                              f"Python code ({brought}), which genspec never runs (trust_remote_code stays False). Give a "
                              "checkpoint of a family transformers ships.")
        raise CannotStart(f"{where}: {RELEASE} does not know model_type {model_type!r}; a newer release may. "
                          "Give a checkpoint of a family this transformers ships, or upgrade transformers.")
    try:
        config = AutoConfig.from_pretrained(directory, trust_remote_code=False)
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise CannotStart(f"{where}: its config.json does not load with {RELEASE} ({_first_line(error)}).") from None
    if type(config) not in MODEL_FOR_CAUSAL_LM_MAPPING:
        kind = "an encoder-decoder (seq2seq) model" if config.is_encoder_decoder else "not a causal LM"
        architecture = ", ".join(config.architectures or [type(config).__name__])
        raise CannotStart(f"{where}: {architecture} (model_type {model_type!r}) is {kind}: {RELEASE} has no "
                          "AutoModelForCausalLM class for it. genspec proves what the articles say about causal LMs, which "
                          "score the next token from the tokens before it: give one (Qwen/Qwen3-0.6B, GPT-2, Llama, …).")
    _check_context_window(config, where)
    _check_shapes(directory, config, where)


def _check_not_quantized(stored: dict, where: str) -> None:
    """A quantized checkpoint (bitsandbytes, GPTQ, AWQ, …) stores integer weights that only its method's kernels read; the claims
    are about the model's float computation, in float32 or bfloat16."""
    quantization = stored.get("quantization_config")
    if not quantization:
        return
    method = quantization.get("quant_method", "an unnamed method")
    bits = next((f", {bits}-bit" for bits, key in ((4, "load_in_4bit"), (8, "load_in_8bit")) if quantization.get(key)), "")
    bits = bits or (f", {quantization['bits']}-bit" if quantization.get("bits") else "")
    raise CannotStart(f"{where}: a quantized checkpoint ({method}{bits}, config.json's quantization_config): genspec proves the "
                      "claims on the model's float weights, in float32 or bfloat16 (--dtype). Give the checkpoint it was quantized "
                      "from (for Qwen3-0.6B: --model Qwen/Qwen3-0.6B).")


def check_tokenizer(tokenizer, directory: Path, where: str) -> None:
    """The tokenizer must be the model's own: present (a fine-tune saved with weights and config only has none) and within the
    model's embedding (an id past vocab_size has no row to look up)."""
    if not tokenizer("Hi")["input_ids"]:
        raise CannotStart(f"{where}: no tokenizer in {directory} (no tokenizer.json, vocab or merges: it turns text into no "
                          "ids). Copy the tokenizer files of the model it was trained from (tokenizer.json, tokenizer_config.json) "
                          "beside its config.json, as save_pretrained of the tokenizer writes them.")
    vocab_size = getattr(AutoConfig.from_pretrained(directory, trust_remote_code=False), "vocab_size", None)
    if isinstance(vocab_size, int) and len(tokenizer) > vocab_size:
        raise CannotStart(f"{where}: the tokenizer has {len(tokenizer):,} tokens but the model embeds {vocab_size:,} (config.json's "
                          f"vocab_size): ids from {vocab_size:,} on have no embedding row. The tokenizer is not this model's, or "
                          "tokens were added without resize_token_embeddings before saving.")


# The proof's longest text: the articles' longest chat prompt (17 tokens with Qwen3's tokenizer) and 32 new tokens, rounded up.
LONGEST_TEXT = 64


def _check_context_window(config, where: str) -> None:
    window = getattr(config, "max_position_embeddings", None)  # n_positions (GPT-2), context_length (RWKV) map onto it
    # XLNet's -1 is no limit (its positions are relative), not a window of -1 tokens
    if isinstance(window, int) and 0 < window < LONGEST_TEXT:
        raise CannotStart(f"{where}: this model reads at most {window} tokens (its config's max_position_embeddings), and the "
                          f"proof's texts run to {LONGEST_TEXT} (a chat prompt and 32 new tokens). Give a model with a longer context window.")


def _check_shapes(directory: Path, config, where: str) -> None:
    """The weights' shapes as the config makes them (a model on the meta device) against the shapes the files store."""
    try:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
    except (ValueError, TypeError, RuntimeError, AttributeError) as error:
        raise CannotStart(f"{where}: {RELEASE} cannot build this {type(config).__name__} model ({_first_line(error)}).") from None
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    prefix = f"{model.base_model_prefix}." if model.base_model_prefix else ""
    for file in sorted(directory.glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as handle:
            for key in handle.keys():  # noqa: SIM118 (not a dict)
                name = key if key in expected else prefix + key  # some families store the base model's tensors unprefixed
                if name not in expected:
                    continue  # a name transformers renames or ignores on load: A7 reports such keys
                shape = tuple(handle.get_slice(key).get_shape())
                if shape != expected[name]:
                    raise CannotStart(f"{where}: {file.name} stores {key} as {_shape(shape)}, but config.json makes it "
                                      f"{_shape(expected[name])}: the config and the weights disagree (vocab_size, "
                                      "hidden_size, …). Give the config the weights were saved with.")


def _shape(shape: tuple) -> str:
    return "×".join(map(str, shape)) or "a scalar"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
