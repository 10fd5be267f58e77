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


def on_this_release(claim_id: str, what: str, seen, key: str, part=lambda value: value) -> str:
    """A version rule's verdict, naming the release: what it did, and what was recorded (`part` of it) for the nearest
    release range (`seen`: the Judged recording that `recorded` returned, or None)."""
    line = f"{claim_id} on transformers {TRANSFORMERS}: {what}"
    if seen is not None and seen.releases is not None and isinstance(seen.observation, dict) and key in seen.observation:
        line += f"; recorded {part(seen.observation[key])} for {seen.releases.label}"
    return line
