"""Run code as if on a GPU, without one: where it would mix devices, it fails as a GPU run would.

A GPU run fails at the first tensor left on the CPU ("Expected all tensors to be on the same
device") or the first CPU generator handed to a draw on the GPU. The audit puts the model on
PyTorch's `meta` device — tensors with a shape and a device but no data — to play the GPU:
any device other than the CPU shows the same fault. (PyTorch's FakeTensorMode can fake `cuda`
tensors, but in a CPU-only build indexing them fails: "PyTorch is not linked with support for
cuda devices".) `SameDevice` checks every torch call's tensors and generator, and answers the
calls that need data (`.item()`, `.tolist()`, `torch.equal`) with zeros once their devices agree:
the audit judges placement, never values.
"""

from contextlib import contextmanager, nullcontext
from unittest import mock

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves

MOVES = {torch.Tensor.to, torch.Tensor.copy_}  # the calls that legitimately take tensors across devices
NEEDS_DATA = {torch.Tensor.item, torch.Tensor.tolist, torch.equal, torch.Tensor.__bool__, torch.Tensor.__int__, torch.Tensor.__index__}


STAND_IN_GPU = torch.device("meta")


class DeviceMismatch(AssertionError):
    pass


class FakeGenerator(torch.Generator):
    """Stands in for torch.Generator, which cannot be made for a device without data: a CPU generator that says
    which device it was asked for. The draw itself is not made; only its device is checked."""

    def __new__(cls, device="cpu"):
        generator = super().__new__(cls)
        generator.asked_for = torch.device(device)
        return generator

    def __init__(self, device="cpu"):
        super().__init__()


class SameDevice(TorchFunctionMode):
    """Fails any torch call whose tensors (0-dim CPU scalars aside, as CUDA allows) or generator sit on different devices."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tensors = [leaf for leaf in tree_leaves((args, kwargs)) if isinstance(leaf, torch.Tensor)]
        devices = {t.device.type for t in tensors if not (t.dim() == 0 and t.device.type == "cpu")}
        generator = kwargs.pop("generator", None)
        if generator is not None:
            devices.add(getattr(generator, "asked_for", generator.device).type)
        if len(devices) > 1 and func not in MOVES:
            raise DeviceMismatch(f"{getattr(func, '__name__', func)} got tensors or a generator on {sorted(devices)}: "
                                 "a GPU run fails here (Expected all tensors to be on the same device)")
        if func in NEEDS_DATA:
            return _zeros_for(func, args)
        return func(*args, **kwargs)


def _zeros_for(func, args):
    if func is torch.equal:
        return True
    if func is torch.Tensor.tolist:
        return _nested_zeros(list(args[0].shape))
    return False if func is torch.Tensor.__bool__ else 0


def _nested_zeros(shape):
    return [_nested_zeros(shape[1:]) for _ in range(shape[0])] if shape else 0


def _autocast_off_on(device: torch.device):
    """torch.autocast that accepts `device` when it only turns autocast off, as transformers 4.x rotary
    embeddings do on the input's device (torch keeps no autocast state for meta; on a GPU this is a no-op too)."""
    real_autocast = torch.autocast

    def autocast(device_type, *args, enabled=True, **kwargs):
        if device_type == device.type and not enabled:
            return nullcontext()
        return real_autocast(device_type, *args, enabled=enabled, **kwargs)

    return autocast


@contextmanager
def on_fake_device(device: torch.device = STAND_IN_GPU):
    """Inside: `torch.Generator` records the device it is asked for, and a torch call that mixes devices raises
    DeviceMismatch. `device` plays the GPU (meta: no data); put the model there before entering."""
    with (mock.patch.object(torch, "Generator", FakeGenerator),
          mock.patch.object(torch, "autocast", _autocast_off_on(device)),
          SameDevice()):
        yield device
