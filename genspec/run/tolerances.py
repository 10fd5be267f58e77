"""Every tolerance the suite uses, and where its number comes from.

Where two computations are the same operations on the same numbers (a loop and generate(), a
composed forward and model.forward) the suite asserts exact equality. A tolerance is used only
where the same logits come out of matrix products of a different shape — another sequence length
or batch size, one row instead of N — which BLAS kernels block and sum in a different order.
"""

# float32 (24-bit mantissa): such reshaped products move a logit by a few float32 ulps of the
# largest products summed into it, so the drift grows with the logits' magnitude. Measured: at most
# 1e-4 on the first stand-in (logits ≤ ~10); 1.3e-4 on the current one, whose frequent tokens score
# up to 17.5 (cached against uncached, 51 steps of two chat prompts). The real model's top scores
# reach ~30 (27.75 printed), so 5e-4 bounds it — still three orders of magnitude below what a wrong
# position or a leak of a later token does (logit changes of order 1).
# bfloat16 (8-bit mantissa): every layer rounds its output to 8 bits, and a reshaped product
# rounds differently; the differences compound through 28 layers' residual stream. Measured on
# the stand-in on CPU: up to 0.31 on logits of magnitude ≤ 8 (a sequence of 8 tokens against the
# same 8 inside 16) — about ten bf16 steps at that magnitude. 0.5 bounds it; a wrong position or
# a leaked later token still moves logits by several units.
# On CUDA the same bounds apply: cuBLAS and SDPA also accumulate bfloat16 products in float32 and
# round each layer's output to 8 bits, and pick kernels (split-K, flash or memory-efficient
# attention) by shape — the same reordering, compounded through the same 28 layers. Not yet
# measured on a GPU; a GPU run that exceeds a bound fails naming the largest difference.
# float64 (53-bit mantissa): the same reorderings, 2⁻²⁹ of float32's unit roundoff, so float32's bound scaled by it (9.3e-13),
# rounded up: a claim that holds in exact arithmetic holds in float64 within it, and what float32 rounding made of a
# difference shrinks by nine orders of magnitude.
KERNEL_ATOL = {"float32": 5e-4, "bfloat16": 0.5, "float64": 1e-12}
# Those bounds hold for logits up to 32 (the articles' top scores reach 27.75). The drift is a few units in the last place of the
# values summed into a logit, and both dtypes space their values relative to magnitude, so at another scale the bound scales with
# it: transformers 4.x's tied head gives the stand-in's logits about half that size, and half the drift.
KERNEL_ATOL_SCALE = 32.0


def kernel_atol(dtype: str) -> float:
    return KERNEL_ATOL[dtype]


def kernel_drift_at(dtype: str, scale: float) -> float:
    """The largest drift between kernel paths for logits whose largest magnitude is `scale` (at least that of logits of 1)."""
    return KERNEL_ATOL[dtype] * max(scale, 1.0) / KERNEL_ATOL_SCALE


# S4: a float32 softmax sums n exponentials in float32, then divides. By Higham and Mary's probabilistic rounding-error analysis
# ("A new approach to probabilistic rounding error analysis", SIAM J. Sci. Comput. 41, 2019, thm. 2.4) the relative error of a
# sum of n terms stays below λ·√n·u, u = 2⁻²⁴, with probability at least 1 − 2n·exp(−λ²/2); λ = 7 fails for n = 151,936 with
# probability below 1e-5, and bounds the sum of the probabilities at 1.6e-4 from 1, plus the exponential's and the division's
# rounding (a few u). Measured: Gemma2's flat, soft-capped distribution sums to 1.0000384 summed in float32; the stand-in's to
# within 1e-6. A normalisation bug moves the sum by far more; the exact (float64) softmax of the same scores sums to 1 within
# 1e-15.
SOFTMAX_LAMBDA, FLOAT32_UNIT_ROUNDOFF = 7.0, 2.0**-24


def softmax_sum_bound(n: int) -> float:
    """How far from 1 a float32 softmax of n scores may sum by rounding alone."""
    return (SOFTMAX_LAMBDA * n**0.5 + 4) * FLOAT32_UNIT_ROUNDOFF


# Snapshots: the same weights and dtype, maybe on another machine: a recording made on one CPU is
# compared on every CPU and GPU (only what the machine decides is recorded per platform:
# genspec/run/platform.py). (atol, rtol) per (dtype, device).
# float32 on CPU: another BLAS build or instruction set reorders reductions (drift ≤ 1.3e-4, as
# above, at logits up to 17.5: 1e-4 + 1e-5·|value| covers it). float32 on CUDA: other kernels for
# attention and matmul; measured 1e-4 between an H100 and a CPU (kernel-drift), bounded tenfold.
# bfloat16: measured 0.42 between an H100 and a CPU on one logit, 0.39 between this project's CPU
# kernels for AVX2 and for no vector unit (ATEN_CPU_CAPABILITY=default), the same prompt; the
# kernel tolerance, 0.5, bounds both; 2% relative for the large hidden-state values (up to ~40).
SNAPSHOT_TOLERANCE = {
    ("float32", "cpu"): (1e-4, 1e-5),
    ("float32", "cuda"): (1e-3, 1e-4),
    ("bfloat16", "cpu"): (KERNEL_ATOL["bfloat16"], 0.02),
    ("bfloat16", "cuda"): (KERNEL_ATOL["bfloat16"], 0.02),
    # float64: the kernel bound, absolute and relative (no machine's float64 recording ships)
    ("float64", "cpu"): (KERNEL_ATOL["float64"], KERNEL_ATOL["float64"]),
    ("float64", "cuda"): (KERNEL_ATOL["float64"], KERNEL_ATOL["float64"]),
}


def snapshot_tolerance(dtype: str, device: str) -> tuple[float, float]:
    return SNAPSHOT_TOLERANCE[(dtype, device)]


# The articles' printed bfloat16 values were computed on another machine's kernels. Measured
# on the full-size stand-in over 128 greedy steps of four chat prompts, every one of 151,936
# scores: one bf16 logit moves by at most 0.38 between two kernel paths of one CPU
# (cached/uncached, batched/alone) and 0.42 between a CPU and an H100 — about three bf16 steps at
# the magnitudes printed (16–32, where bf16's spacing is 0.125). That drift is measured in absolute
# terms, so the bound is absolute: 0.5, the bf16 kernel tolerance. A different weight (a fine-tune,
# a re-upload in another dtype) moves these values by units, not tenths.
ARTICLE_BF16 = KERNEL_ATOL["bfloat16"]
# 000 prints a float32 last_hidden_state to four decimals (rounding: ±5e-5). float32 paths agree to
# 1e-4 on one device and between a CPU and an H100 (kernel-drift measurements), so 0.01 leaves a
# hundredfold margin at the printed magnitudes (up to 30) and still tells apart the same values in
# bfloat16 (19.8593 printed in float32 is 18.75 in bfloat16).
ARTICLE_FLOAT32 = 0.01
ARTICLE_TOLERANCE = {"float32": ARTICLE_FLOAT32, "bfloat16": ARTICLE_BF16, "float64": ARTICLE_FLOAT32}  # float64: the print's rounding decides


# Near-ties (genspec/agreement.py): two computations of the same text may choose different tokens
# only where, in each, the other's token scores within this bound of its own top. A logit moves by
# at most the kernel tolerance between paths, and so, as measured, does the gap between two of them
# (the tie-breaking flips recorded in the proof report stay below it); a token that wins by more
# was not chosen by rounding.
def near_tie_bound(dtype: str) -> float:
    return KERNEL_ATOL[dtype]
