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
# bfloat16 (8-bit mantissa): one rounding step at magnitude 16-32 is 0.125; a reshaped product
# can flip the last bit of each layer's output, so two steps are allowed.
KERNEL_ATOL = {"float32": 1e-4, "bfloat16": 0.25}


def kernel_atol(dtype: str) -> float:
    return KERNEL_ATOL[dtype]
