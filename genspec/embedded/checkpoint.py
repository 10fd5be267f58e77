"""Build the stand-in checkpoint once into a cache directory, atomically.

A build writes into a private staging directory and only a finished, hashed checkpoint is
renamed into place, so a build killed halfway leaves nothing a later run would load (its
staging directory is swept by the next build). A file lock makes concurrent runs wait for one
builder instead of racing it.
"""

import atexit
import functools
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from filelock import FileLock
from safetensors.torch import save_file

from genspec.embedded import model_card
from genspec.embedded.tokenizer import build_tokenizer
from genspec.embedded.weights import parameter_shapes, stand_in_tensor

# Bump when weights.py or the tokenizer rebuild changes what a build writes: a new recipe
# gets a new directory instead of silently reusing old weights.
RECIPE = 2
MANIFEST = "stand-in.json"
WEIGHTS = "model.safetensors"
ORDINARY_TOKENS = 151643  # the BPE ranks; ids above are added tokens and padding rows

# The full-size stand-in has the model card's config; the small one differs only in depth.
PROFILES = {
    "embedded": {},
    "embedded-small": {"num_hidden_layers": 2, "max_window_layers": 2},
}
# A one-layer, 64-wide member of the family (same tokenizer, same 151,936 rows) for tests of loading behaviour that do
# not need the full-size weights; a profile only where a test adds it, so `--model tiny` names nothing.
TINY = {"num_hidden_layers": 1, "max_window_layers": 1, "hidden_size": 64, "intermediate_size": 128,
        "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 32}


@dataclass(frozen=True)
class StandIn:
    path: Path
    profile: str
    seed: int
    weights_sha256: str

    @property
    def identity(self) -> str:
        return f"{self.profile}-seed{self.seed}-{self.weights_sha256[:12]}"


def ensure_stand_in(profile: str, seed: int, cache_root: Path) -> StandIn:
    """Return the stand-in checkpoint for (profile, seed), building it first if needed."""
    name = f"qwen3-0.6b-{profile}-seed{seed}-r{RECIPE}"
    final = cache_root / name
    if not (final / MANIFEST).exists():
        cache_root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(cache_root / f"{name}.lock")):
            if not (final / MANIFEST).exists():
                _sweep_stale_builds(cache_root, name)
                _build_into(final, profile, seed)
    manifest = json.loads((final / MANIFEST).read_text(encoding="utf-8"))
    return StandIn(final, profile, seed, manifest["weights_sha256"])


def _sweep_stale_builds(cache_root: Path, name: str) -> None:
    # Only called while holding the lock: any staging directory left is from a killed build.
    for stale in cache_root.glob(f".{name}.*"):
        shutil.rmtree(stale, ignore_errors=True)
    # A directory without a manifest was never published by a finished build.
    shutil.rmtree(cache_root / name, ignore_errors=True)


def _build_into(final: Path, profile: str, seed: int) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        config = model_card.config() | PROFILES[profile]
        _write_json(staging / "config.json", config)
        _write_json(staging / "generation_config.json", model_card.generation_config())
        _copy_tokenizer_into(staging)
        _write_weights(staging / WEIGHTS, config, seed)
        manifest = {
            "profile": profile,
            "seed": seed,
            "recipe": RECIPE,
            "weights_sha256": sha256_of_file(staging / WEIGHTS),
            "torch": torch.__version__,
        }
        _write_json(staging / MANIFEST, manifest)
        staging.chmod(0o755)  # mkdtemp makes it private; the published checkpoint is shared
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@functools.cache
def _built_tokenizer() -> Path:
    # The tokenizer does not depend on profile or seed: rebuild it once per process.
    directory = Path(tempfile.mkdtemp(prefix="genspec-tokenizer-"))
    atexit.register(shutil.rmtree, directory, True)
    build_tokenizer(directory)
    return directory


def _copy_tokenizer_into(directory: Path) -> None:
    for file in _built_tokenizer().iterdir():
        shutil.copy2(file, directory / file.name)


def _write_weights(path: Path, config: dict, seed: int) -> None:
    # Stored in bfloat16, the dtype of the real checkpoint; both embed_tokens and lm_head are
    # written, as the real checkpoint does (a tied save would drop lm_head).
    tensors = {
        name: stand_in_tensor(seed, name, shape, ORDINARY_TOKENS).to(torch.bfloat16)
        for name, shape in parameter_shapes(config).items()
    }
    save_file(tensors, str(path), metadata={"format": "pt"})
    with open(path, "rb") as written:
        os.fsync(written.fileno())


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()
