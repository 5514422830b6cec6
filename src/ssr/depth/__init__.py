"""Monocular depth: one interface (RGB -> relative inverse depth in [0, 1], 1 = nearest)."""

from ssr.depth.base import ConstantDepth, DepthEstimator, make_depth_estimator

__all__ = ["DepthEstimator", "ConstantDepth", "make_depth_estimator"]
