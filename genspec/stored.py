"""Reading what a checkpoint's safetensors store without holding a second copy of the weights.

safetensors maps a file into memory by default, and every page read stays resident until the file is closed: reading the
1.5 GB of Qwen3-0.6B's weights beside the float32 model (3 GB) would add half a copy to the run's peak. These read a whole
tensor with pread into a buffer that is freed after use (safetensors' own backend, which transformers 5 uses on Windows),
and compare a large tensor block by block, each block through a mapping closed after it.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from safetensors import safe_open
from transformers import modeling_utils

ROWS_AT_ONCE = 4096  # rows of a stored matrix compared at a time: 4096 × 1024 float32 is 16 MB


def open_unmapped(file: Path):
    """safe_open reading with pread, where this safetensors has that backend (0.6 and newer); else as it maps."""
    try:
        return safe_open(str(file), framework="pt", backend="pread")
    except TypeError:
        return safe_open(str(file), framework="pt")


def stored_keys(path: Path) -> Iterator[tuple[Path, str]]:
    for file in sorted(Path(path).glob("*.safetensors")):
        with open_unmapped(file) as handle:
            for key in handle.keys():  # noqa: SIM118 (not a dict)
                yield file, key


def same_as_stored(tensor: torch.Tensor, file: Path, key: str) -> bool:
    """Whether `tensor` holds exactly what `file` stores under `key`, converted to its dtype. A block of rows at a time, each read
    through a mapping opened and closed for it: its pages leave the process's memory with it (pread would read the whole
    tensor for every block), and a float32 copy of a whole embedding (0.6 GB) is never made."""
    with open_unmapped(file) as handle:
        shape = tuple(handle.get_slice(key).get_shape())
    if shape != tuple(tensor.shape):
        return False
    if tensor.ndim == 0:
        return torch.equal(read(file, key, tensor), tensor)
    for start in range(0, shape[0], ROWS_AT_ONCE):
        stop = min(start + ROWS_AT_ONCE, shape[0])  # safetensors' slices do not stop at the end as Python's do
        with safe_open(str(file), framework="pt") as handle:
            block = handle.get_slice(key)[start:stop]
        if not torch.equal(block.to(tensor), tensor[start:stop]):
            return False
    return True


def read(file: Path, key: str, like: torch.Tensor | None = None) -> torch.Tensor:
    """One stored tensor (in `like`'s dtype and on its device, if given)."""
    with open_unmapped(file) as handle:
        stored = handle.get_tensor(key)
    return stored if like is None else stored.to(like)


@contextmanager
def loading_unmapped():
    """While transformers 5 loads a checkpoint, it reads the files with pread rather than mapping them, as it does on Windows:
    the loaded float32 weights are then the only copy (measured on Qwen3-0.6B: peak 3.3 GB where the mapped read peaks at
    4.7 GB). A release without that seam loads as it does by default."""
    original = getattr(modeling_utils, "safe_open", None)
    if original is None:
        yield
        return
    modeling_utils.safe_open = lambda *args, backend="mmap", **kwargs: _unmapped(original, args, kwargs, backend)
    try:
        yield
    finally:
        modeling_utils.safe_open = original


def _unmapped(original, args, kwargs, backend):
    try:
        return original(*args, **kwargs, backend="pread" if backend == "mmap" else backend)
    except TypeError:  # a safetensors without backends
        return original(*args, **kwargs)


def stored_shapes(path) -> dict[str, tuple]:
    """Every tensor the checkpoint's safetensors store, with its shape, read from the headers (no tensor is loaded)."""
    shapes = {}
    for file in sorted(Path(path).glob("*.safetensors")):
        shapes |= stored_shapes_of(file)
    return shapes


def stored_shapes_of(file: Path) -> dict[str, tuple]:
    with safe_open(str(file), framework="pt") as handle:
        return {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}  # noqa: SIM118 (not a dict)


def file_storing(path: Path, key: str) -> Path | None:
    """The safetensors file of the checkpoint that stores `key`, or None."""
    return next((file for file, stored in stored_keys(path) if stored == key), None)


def key_storing(path: Path, tensor: torch.Tensor) -> str | None:
    """The name under which the checkpoint stores exactly `tensor`'s values (compared block by block), or None."""
    for file in sorted(Path(path).glob("*.safetensors")):  # each file's header read once; only tensors of that shape compared
        for key, shape in stored_shapes_of(file).items():
            if shape == tuple(tensor.shape) and same_as_stored(tensor, file, key):
                return key
    return None


def stored_lm_head(path, like: torch.Tensor | None = None) -> torch.Tensor | None:
    """`lm_head.weight` as the checkpoint stores it (None if it stores none, as a tied save does).

    With `like`, in that tensor's dtype and on its device: the file is read onto the CPU, and a
    comparison with a model's weight on a GPU would otherwise fail before it judged anything.
    """
    file = file_storing(path, "lm_head.weight")
    return None if file is None else read(file, "lm_head.weight", like)


NORM_WEIGHT = re.compile(r"norm[^.]*\.weight$")


def stored_norm_weights(path: Path) -> dict[str, torch.Tensor]:
    """Every norm weight as the checkpoint's safetensors store it, by name (read from the files, not from a loaded model)."""
    found = {}
    for file, key in stored_keys(path):
        # Qwen3's "…norm.weight"; other families name them "…norm_f.weight", "…layernorm.weight"
        if NORM_WEIGHT.search(key):
            found[key] = read(file, key)
    return found


def stored_tensors(path: Path, names, base_prefix: str = "") -> dict[str, torch.Tensor]:
    """The named tensors as the checkpoint's safetensors store them (read from the files, not from a loaded model).

    A checkpoint may store the base model's tensors without its prefix (GPT-2's `h.0.ln_1.weight` for
    `transformer.h.0.ln_1.weight`); such names are found too, and returned under the model's name."""
    wanted = {name: name for name in names} | {name.removeprefix(f"{base_prefix}."): name for name in names if base_prefix}
    return {wanted[key]: read(file, key) for file, key in stored_keys(path) if key in wanted}
