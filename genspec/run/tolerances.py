"""Every tolerance the suite uses, and where its number comes from.

Where two computations are the same operations on the same numbers (a loop and generate(), a
composed forward and model.forward) the suite asserts exact equality. A tolerance is used only
where the same logits come out of matrix products of a different shape — another sequence length
or batch size, one row instead of N — which BLAS kernels block and sum in a different order.
"""

# float32 (24-bit mantissa): measured on the full-size stand-in, such reshaped products move
# logits of magnitude ~10 by at most 5e-5 after 28 layers; 1e-4 is about 100 float32 ulps at that
# magnitude — loose enough for any blocking order, tight enough that a wrong position or a leak
# of a later token (logit changes of order 1) fails by four orders of magnitude.
# bfloat16 (8-bit mantissa): every layer rounds its output to 8 bits, and a reshaped product
# rounds differently; the differences compound through 28 layers' residual stream. Measured on
# the stand-in on CPU: up to 0.31 on logits of magnitude ≤ 8 (a sequence of 8 tokens against the
# same 8 inside 16) — about ten bf16 steps at that magnitude. 0.5 bounds it; a wrong position or
# a leaked later token still moves logits by several units.
# On CUDA the same bounds apply: cuBLAS and SDPA also accumulate bfloat16 products in float32 and
# round each layer's output to 8 bits, and pick kernels (split-K, flash or memory-efficient
# attention) by shape — the same reordering, compounded through the same 28 layers. Not yet
# measured on a GPU; a GPU run that exceeds a bound fails naming the largest difference.
KERNEL_ATOL = {"float32": 1e-4, "bfloat16": 0.5}


def kernel_atol(dtype: str) -> float:
    return KERNEL_ATOL[dtype]


# Snapshots: a rerun of the same weights, dtype and device. (atol, rtol) per (dtype, device).
# float32 on CPU: another BLAS build or instruction set reorders reductions (drift < 5e-5, as
# above). float32 on CUDA: other kernels for attention and matmul, about ten times that.
# bfloat16: a reordered reduction can flip the last of 8 mantissa bits in any layer; at the
# magnitudes we store (≤ ~40) that is up to 0.25, and 2% relative for the large values.
SNAPSHOT_TOLERANCE = {
    ("float32", "cpu"): (1e-4, 1e-5),
    ("float32", "cuda"): (1e-3, 1e-4),
    ("bfloat16", "cpu"): (0.25, 0.02),
    ("bfloat16", "cuda"): (0.25, 0.02),
}


def snapshot_tolerance(dtype: str, device: str) -> tuple[float, float]:
    return SNAPSHOT_TOLERANCE[(dtype, device)]


# The articles' printed bfloat16 values (4 decimals of a bf16 number): another CPU or GPU may round
# any of 28 layers' outputs differently, moving a value by a step or two — up to 0.25 at the
# magnitudes printed (≤ 34) — plus 2% of large values for the accumulated drift.
ARTICLE_BF16 = (0.25, 0.02)
