"""The rules by which a transformers release is judged where the articles' behaviour depends on it (transformers-versions.md).

A rule states the release a behaviour changed in; the snapshots only record what each release did.
"""

from packaging.version import Version

from genspec.run.loading import TRANSFORMERS

# X1: the act_fn repr (000 prints SiLU(), 003 prints SiLUActivation()).
SILU_ACTIVATION_FROM = Version("4.57")
# X2, X3, A7: apply_chat_template returns a BatchEncoding, the default load dtype is the checkpoint's,
# and a stored lm_head that differs from the embedding is kept apart, all from transformers 5 on.
TRANSFORMERS_5 = TRANSFORMERS >= Version("5")


def printed_activation() -> str:
    """X1's rule: how this release prints Qwen3's act_fn."""
    return "SiLU()" if TRANSFORMERS < SILU_ACTIVATION_FROM else "SiLUActivation()"
