"""Monocular depth: one interface (RGB -> relative inverse depth in [0, 1], 1 = nearest).

Backends (`make_depth_estimator(spec)`):
  none / constant   a flat 0.5 map (SSR without depth, the ablation)
  builtin[:FILE]    ssr's small network (the shipped set's depth_builtin.safetensors by default)
  hf:DIR            a transformers depth model (DPT, Depth Anything, ...) from a LOCAL folder
  midas:FILE        a MiDaS v3 DPT checkpoint from a local file
Nothing is ever downloaded. Backends are imported when chosen (they pull in torch/transformers).
"""

from __future__ import annotations

from pathlib import Path

from ssr.depth.base import DEFAULT_MAX_SIDE, ConstantDepth, DepthEstimator
from ssr.errors import ConfigError

BACKENDS = ("none", "builtin[:FILE]", "hf:DIR", "midas:FILE")


def make_depth_estimator(spec: str, max_side: int = DEFAULT_MAX_SIDE, weights: Path | None = None) -> DepthEstimator:
    """`weights`: the weight set whose depth network `builtin` (without a FILE) uses; None = shipped."""
    if spec in ("none", "constant"):
        return ConstantDepth()
    kind, _, location = spec.partition(":")
    if kind == "builtin":
        from ssr.depth.builtin import BuiltinDepth

        return BuiltinDepth(location or None, max_side, weights)
    if kind == "hf" and location:
        from ssr.depth.adapters import HuggingFaceDepth

        return HuggingFaceDepth(location, max_side)
    if kind == "midas" and location:
        from ssr.depth.adapters import MidasDepth

        return MidasDepth(location, max_side)
    raise ConfigError(f"unknown depth backend '{spec}' ({', '.join(BACKENDS)})")


__all__ = ["DepthEstimator", "ConstantDepth", "make_depth_estimator", "BACKENDS"]
