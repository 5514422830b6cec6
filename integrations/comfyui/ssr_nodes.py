"""ComfyUI custom node: "SSR Upscale" (ssr's SVKR upscaler through its Python API).

Install: `pip install ssr-*.whl` (and torch) into ComfyUI's Python, then copy this file into
`ComfyUI/custom_nodes/`. The node takes ComfyUI's IMAGE (torch float, (B, H, W, C) in [0, 1]) and
returns the upscaled IMAGE; options are the ones of `ssr upscale` (scale, tile, rounds, weights set).
chaiNNer users can call the same API from a "Run Python" node, or load the ONNX files of
`ssr export --format onnx` (see ssr/export.py for their inputs).
"""

from __future__ import annotations

import numpy as np
import torch


class SSRUpscale:
    CATEGORY = "image/upscaling"
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "upscale"

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 (ComfyUI's name)
        return {"required": {"image": ("IMAGE",),
                             "scale": ([4, 2],),
                             "tile": ("INT", {"default": 96, "min": 0, "max": 1024}),
                             "rounds": ("INT", {"default": 1, "min": 1, "max": 8})},
                "optional": {"weights": ("STRING", {"default": ""})}}

    _cache: dict = {}

    def upscale(self, image: torch.Tensor, scale: int, tile: int, rounds: int, weights: str = ""):
        from ssr import Upscaler

        key = (scale, tile, rounds, weights or None)
        if key not in self._cache:
            self._cache.clear()
            self._cache[key] = Upscaler(scale=scale, tile=tile, rounds=rounds, weights=weights or None)
        upscaler = self._cache[key]
        frames = [upscaler.upscale(np.ascontiguousarray(frame.cpu().numpy(), dtype=np.float32)) for frame in image]
        return (torch.from_numpy(np.stack(frames)).to(image.device),)


NODE_CLASS_MAPPINGS = {"SSRUpscale": SSRUpscale}
NODE_DISPLAY_NAME_MAPPINGS = {"SSRUpscale": "SSR Upscale (depth-aware blind SR)"}
