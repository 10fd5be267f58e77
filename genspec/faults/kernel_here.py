"""A hub kernel that needs no hub: transformers' kernel mapping given an RMSNorm kernel for the CPU, loaded from this module, so
that `from_pretrained(use_kernels=True)` replaces every RMSNorm's forward on a machine without a GPU or a network (the fake
release rmsnorm_kernel_here, genspec/faults/fake_release.py)."""

import torch
from kernels import Mode
from transformers.integrations import hub_kernels

REPOSITORY = "genspec-faults/rmsnorm-here"


class RMSNormHere(torch.nn.Module):
    """Qwen3's RMSNorm, computed as the model computes it: the kernel must change which forward runs, not the scores."""

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        as_float = hidden_states.to(torch.float32)
        normed = as_float * torch.rsqrt(as_float.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        return self.weight * normed.to(hidden_states.dtype)


class RepositoryHere:
    """What kernels asks of a layer repository: the layer's name and its class."""

    layer_name = "RMSNormHere"
    repo_id = REPOSITORY

    def load(self) -> type[torch.nn.Module]:
        return RMSNormHere

    def __str__(self) -> str:
        return REPOSITORY


def map_rmsnorm_on_the_cpu() -> None:
    mapping_of = hub_kernels.get_kernel_mapping_transformers

    def with_rmsnorm_here() -> dict:
        mapping = mapping_of()
        every_mode = {mode | Mode.TORCH_COMPILE: RepositoryHere() for mode in (Mode.INFERENCE, Mode.TRAINING)}
        return mapping | {"RMSNorm": {**mapping.get("RMSNorm", {}), "cpu": every_mode}}

    hub_kernels.get_kernel_mapping_transformers = with_rmsnorm_here
