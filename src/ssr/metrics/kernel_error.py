"""Error between an estimated and a true spatially variant kernel field.

Both fields are arrays of per-pixel kernels, shape (..., k, k) (e.g. (h, w, 21, 21)), each kernel
summing to 1. MSE is the mean over all pixels and taps; kernel PSNR = 10 log10(1 / MSE), i.e. the
peak is 1 (the largest value a normalised kernel tap can take), so numbers are comparable across
images and fields. This is the convention ssr reports; papers that normalise by each kernel's max
give different absolute values.
"""

from __future__ import annotations

import numpy as np


def kernel_errors(estimated: np.ndarray, true: np.ndarray) -> dict[str, float]:
    est, ref = np.asarray(estimated, np.float64), np.asarray(true, np.float64)
    if est.shape != ref.shape:
        raise ValueError(f"kernel fields differ in shape: {est.shape} vs {ref.shape}")
    mse = float(np.mean((est - ref) ** 2))
    return {"kernel_mse": mse, "kernel_psnr": float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))}
