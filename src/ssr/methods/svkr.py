"""The SVKR pipeline (SSR: depth -> DKENet kernels -> kernel-conditioned SR, T rounds) as a method.

Weights: the shipped defaults (`ssr.weights`, checksum-verified) for the requested scale. The depth
backend is `options.depth`, or the shipped builtin DepthNet when the weights include one (`ssr info`
says which). `options.kernels == "true"` is the oracle ablation: the set's true kernel field replaces
DKENet's estimate (needs a synthetic set's meta maps).
"""

from __future__ import annotations

import numpy as np
import torch

from ssr.arrays import to_rgb
from ssr.degradation.kernel_maps import truth_kernels
from ssr.depth import make_depth_estimator
from ssr.errors import DataError
from ssr.imresize import resize_float
from ssr.methods.base import UpscaleResult
from ssr.options import SVKROptions
from ssr.pipeline import SVKRPipeline
from ssr.weights import has_role, load_default, resolve


def default_depth_spec(folder=None) -> str:
    """The depth backend used when none is asked for: builtin if the weight set has it."""
    return "builtin" if has_role("depth", folder) else "none"


class SVKRMethod:
    def __init__(self, name: str, scale: int, options: SVKROptions, keep_rounds: bool = False) -> None:
        folder = resolve(options.weights)
        dkenet, rrdb = load_default("dkenet", scale, folder), load_default("sr", scale, folder)
        depth_spec = options.depth or default_depth_spec(folder)
        depth = make_depth_estimator("none" if depth_spec == "gt" else depth_spec, weights=folder)
        self.name, self.scale, self.options = name, scale, options
        self.needs_truth = options.kernels == "true" or depth_spec == "gt"
        self.intermediates = True
        self.pipeline = SVKRPipeline(dkenet, rrdb, depth, options, keep_rounds=keep_rounds)
        #: every weight file this method runs, with its SHA-256 (shipped ones verified against the manifest)
        self.weights = {**{str(d.path): d.sha256 for d in (dkenet, rrdb)}, **depth.files}

    def _true_codes(self, truth: dict[str, np.ndarray]) -> np.ndarray:
        kernels = truth_kernels(truth, self.pipeline.dkenet.kernel_size, self.scale)
        with torch.no_grad():
            return self.pipeline.rrdb.code(kernels)[0].numpy()

    def upscale(self, image: np.ndarray, scale: int, truth: dict | None = None, *,
                out_dtype: type | None = None) -> UpscaleResult:
        if scale != self.scale:
            raise DataError(f"{self.name} was loaded for x{self.scale}, asked for x{scale}")
        if self.needs_truth and truth is None:
            raise DataError(f"{self.name} needs a synthetic set with known kernels (not protocol real)")
        lr = to_rgb(np.asarray(image, np.float32))
        codes, fixed_depth = None, None
        if self.options.kernels == "true":
            codes = self._true_codes(truth)
        elif self.options.kernels == "prior":  # the code is centred on the prior's mean kernel: 0 everywhere
            codes = np.zeros((self.pipeline.rrdb.code.dim, *lr.shape[:2]), np.float32)
        if self.options.depth == "gt":
            if "depth" not in truth:
                raise DataError(f"{self.name} needs a set with true depth (protocol dof)")
            fixed_depth = resize_float(np.asarray(truth["depth"], np.float32), *lr.shape[:2])
        result = self.pipeline(lr, true_codes=codes, out_dtype=out_dtype, fixed_depth=fixed_depth)
        return UpscaleResult(result.sr, depth=result.depth_rounds[-1], kernel_codes=result.code_rounds[-1],
                             decode_kernels=self.pipeline.rrdb.code.decode, rounds=result.sr_rounds,
                             seconds=dict(result.seconds))
