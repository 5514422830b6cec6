"""Depth models of other projects, loaded from LOCAL files only (never downloaded).

hf:DIR  any transformers depth-estimation model saved with save_pretrained (DPT, Depth Anything,
        GLPN, ...), plus its image processor; DPT/Depth Anything predict relative inverse depth.
midas:FILE  MiDaS checkpoints are not supported yet (they need the MiDaS/timm model code); a
        MiDaS v3 DPT model converted to transformers format loads through hf:DIR.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ssr.depth.base import normalise, reduce_for_depth, resize_plane
from ssr.errors import UnavailableError


class HuggingFaceDepth:
    name = "hf"

    def __init__(self, folder: str, max_side: int) -> None:
        path = Path(folder)
        if not (path / "config.json").is_file():
            raise UnavailableError(f"hf depth model: no config.json in {path} (a folder written by save_pretrained)")
        try:
            from transformers import AutoImageProcessor, AutoModelForDepthEstimation
        except Exception as exc:
            raise UnavailableError(f"hf depth model needs the transformers package ({type(exc).__name__})") from None
        try:
            self.model = AutoModelForDepthEstimation.from_pretrained(str(path), local_files_only=True).eval()
            self.processor = AutoImageProcessor.from_pretrained(str(path), local_files_only=True)
        except Exception as exc:
            raise UnavailableError(f"{path}: cannot load a depth model ({type(exc).__name__}: {exc})") from None
        self.max_side = max_side

    @torch.no_grad()
    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        small = reduce_for_depth(rgb, self.max_side).astype(np.float32)
        inputs = self.processor(images=small, return_tensors="pt", do_rescale=False)
        predicted = self.model(**inputs).predicted_depth[0].float().numpy()
        return normalise(resize_plane(predicted, *rgb.shape[:2]))


class MidasDepth:
    name = "midas"

    def __init__(self, file: str, max_side: int) -> None:
        if not Path(file).is_file():
            raise UnavailableError(f"midas checkpoint not found: {file}")
        raise UnavailableError("midas:FILE checkpoints are not supported yet; convert the model to "
                               "transformers format (DPTForDepthEstimation) and use hf:DIR")
