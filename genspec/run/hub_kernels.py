"""What the hub's kernels compute in a model loaded kernelized (`--kernels hub`): which layers run a kernel, of which kinds, from
which repository, on which device — and why every other layer that could take one keeps the model's own forward.

Asking for kernels is not getting them: transformers kernelizes with every fallback on, so a layer whose kind has no kernel for
the device, or whose kernel does not load (no hub offline), silently computes its own forward. The header says what ran.
"""

import os
from collections import Counter
from dataclasses import dataclass, field

import pytest

KERNEL_USE_KEY = pytest.StashKey[str]()  # --kernels hub: which layers of the loaded causal LM compute a hub kernel, in words


@dataclass
class KernelUse:
    device: str
    kernelized: Counter = field(default_factory=Counter)  # (kind, repository) -> layers computing that hub kernel
    kept: Counter = field(default_factory=Counter)  # (kind, why) -> layers that could take a kernel and compute their own forward

    def line(self) -> str:
        could = sum(self.kernelized.values()) + sum(self.kept.values())
        if not could:
            return "genspec kernels: hub (--kernels hub): no layer of this model can take a hub kernel; every layer computes its own forward"
        reasons: dict[str, list[str]] = {}
        for (kind, why), count in sorted(self.kept.items()):
            reasons.setdefault(why, []).append(f"{count} {kind}")
        kept = "; ".join(f"{', '.join(kinds)}: {why}" for why, kinds in reasons.items())
        if not self.kernelized:
            return (f"genspec kernels: hub (--kernels hub): no layer computes a hub kernel on {self.device}; the {could} that could take "
                    f"one compute the model's own forward ({kept})")
        ran = ", ".join(f"{count} {kind} from {repository}" for (kind, repository), count in sorted(self.kernelized.items()))
        return (f"genspec kernels: hub (--kernels hub): {sum(self.kernelized.values())} of the {could} layers that can take a hub kernel "
                f"compute one on {self.device} ({ran})" + (f"; the others compute the model's own forward ({kept})" if kept else ""))


def kernel_use(model) -> KernelUse:
    """Counted on the loaded model itself: kernels' own record of what it replaced (`_kernel_repo`, as get_kernelized_layers
    reads it), and transformers' kernel mapping for why a layer was left alone."""
    device = str(getattr(model, "_kernels_device", None) or model.device).split(":")[0]
    use = KernelUse(device)
    for place, kind in _places(model):
        repository = place.__dict__.get("_kernel_repo")
        if repository is not None:
            use.kernelized[(kind, _name(repository))] += 1
        else:
            use.kept[(kind, _why_not(kind, device))] += 1
    return use


def _places(model):
    """(the module or function, its kernel kind) for every layer that kernels may replace: a module of a class that transformers
    marks with a kernel layer name, and a function attached for kernelizing (its name followed by ())."""
    for _, module in model.named_modules():
        kind = getattr(type(module), "kernel_layer_name", None)
        if kind is not None:
            yield module, kind
        for name, function in getattr(module, "_kernel_funcs", {}).items():
            yield function, f"{getattr(function, 'kernel_layer_name', name)}()"


def _why_not(kind: str, device: str) -> str:
    from transformers.integrations import hub_kernels  # only releases that kernelize at load get here

    mapping = hub_kernels.get_kernel_mapping_transformers() if hasattr(hub_kernels, "get_kernel_mapping_transformers") else {}
    by_device = mapping.get(kind.removesuffix("()"))
    if by_device is None:
        return "transformers maps no hub kernel to it"
    if device not in {getattr(key, "type", key) for key in by_device}:
        return f"no hub kernel for {device}"
    repositories = {_name(repo) for key, repo in by_device.items() if getattr(key, "type", key) == device for repo in _repositories(repo)}
    offline = " (offline: HF_HUB_OFFLINE is set)" if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on") else ""
    return f"its kernel from {', '.join(sorted(repositories))} did not load{offline}"


def _repositories(entry):
    return entry.values() if isinstance(entry, dict) else [entry]


def _name(repository) -> str:
    return getattr(repository, "repo_id", None) or getattr(repository, "_repo_id", None) or str(repository)
