"""The SVKR pipeline as a benchmark/upscale method, with its ablations.

ssr          full pipeline: T = 3 rounds, momentum 0.9, depth backend = shipped builtin depth if the
             weights manifest has one, else flat ('none') -- `ssr info` says which
ssr-t1       one round (no iterative refinement)
ssr-nodepth  flat depth everywhere (DKENet sees no depth information)
ssr-oracle   ground-truth kernel field of the synthetic set instead of DKENet (upper bound)
ssr-bf16     full pipeline with DKENet and RRDB under bfloat16 autocast (speed; same weights)
"""

from __future__ import annotations

import numpy as np
import torch

from ssr.bench.methods import Method
from ssr.degradation import kernels as K
from ssr.degradation.apply import kernel_offset
from ssr.depth.base import make_depth_estimator
from ssr.pipeline import DEFAULT_OVERLAP, DEFAULT_TILE, SVKRPipeline
from ssr.train.data import covariance_to_kernels
from ssr.weights import load_default, manifest


def default_depth_spec() -> str:
    roles = {e["role"] for e in manifest()["files"]}
    return "builtin" if "depth" in roles else "none"


def truth_kernels(truth: dict, size: int, scale: int) -> torch.Tensor:
    """(1, size*size, h, w) kernels from a set's meta maps (sv: covariance; dof: disk radius)."""
    if "c_xx" in truth:
        cov = np.stack([truth[k] for k in ("c_xx", "c_xy", "c_yy")])[None]
        return covariance_to_kernels(torch.from_numpy(cov.astype(np.float32)), size, scale)
    h, w = truth["radius"].shape
    kernels = K.disk_kernels(size, torch.from_numpy(np.asarray(truth["radius"], np.float64).reshape(-1)),
                             offset=kernel_offset(scale), dtype=torch.float32)
    return kernels.view(h, w, -1).permute(2, 0, 1)[None].contiguous()


def ssr_method(spec: str, *, scale: int = 4, depth: str | None = None, tile: int | None = None,
               rounds: int | None = None, overlap: int = DEFAULT_OVERLAP, device: str = "cpu",
               precision: str = "fp32") -> Method:
    dkenet, rrdb = load_default("dkenet", scale), load_default("rrdb", scale)
    depth_spec = "none" if spec == "ssr-nodepth" else (depth or default_depth_spec())
    pipeline = SVKRPipeline(dkenet, rrdb, make_depth_estimator(depth_spec),
                            rounds=1 if spec == "ssr-t1" else (rounds or 3),
                            tile=DEFAULT_TILE if tile is None else tile, overlap=overlap, device=device,
                            keep_rounds=False, precision="bf16" if spec == "ssr-bf16" else precision)

    def run(lr: np.ndarray, asked_scale: int) -> np.ndarray:
        return pipeline(_rgb(lr)).sr

    def run_with_truth(lr: np.ndarray, asked_scale: int, truth: dict) -> np.ndarray:
        kernels = truth_kernels(truth, dkenet.model.kernel_size, scale)
        with torch.no_grad():
            codes = rrdb.model.code(kernels)[0].numpy()
        return pipeline(_rgb(lr), true_codes=codes).sr

    oracle = spec == "ssr-oracle"
    return Method(spec, run, scale, with_truth=run_with_truth if oracle else None, pipeline=pipeline)


def _rgb(lr: np.ndarray) -> np.ndarray:
    return np.repeat(lr, 3, axis=2) if lr.shape[2] == 1 else lr
