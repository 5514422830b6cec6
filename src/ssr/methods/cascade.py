"""A>B: run A, reduce its output back to the input size (MATLAB bicubic), run B on that.

Used as the refiner benchmark's zero-training control (`ssr>ncnn:realesrgan-x4plus`: Real-ESRGAN's
texture on top of SVKR's restoration). A's depth and kernel maps travel in the result.
"""

from __future__ import annotations

import numpy as np

from ssr.imresize import imresize
from ssr.methods.base import Method, UpscaleResult, as_dtype


class CascadeMethod:
    def __init__(self, first: Method, second: Method) -> None:
        self.first, self.second = first, second
        self.name = f"{first.name}>{second.name}"
        self.scale = first.scale or second.scale
        self.needs_truth = first.needs_truth
        self.intermediates = first.intermediates

    def upscale(self, image: np.ndarray, scale: int, truth: dict | None = None, *,
                out_dtype: type | None = None) -> UpscaleResult:
        a = self.first.upscale(image, scale, truth)
        h, w = image.shape[:2]
        reduced = np.clip(imresize(a.image, output_shape=(h, w)), 0, 1).astype(np.float32)
        b = self.second.upscale(reduced, scale)
        return UpscaleResult(as_dtype(b.image, out_dtype), depth=a.depth, kernel_codes=a.kernel_codes,
                             decode_kernels=a.decode_kernels,
                             seconds={**{f"a_{k}": v for k, v in a.seconds.items()},
                                      **{f"b_{k}": v for k, v in b.seconds.items()}})
