"""Depth models of other projects, loaded from LOCAL files only (never downloaded).

hf:DIR  any transformers depth-estimation model saved with save_pretrained (DPT, Depth Anything,
        GLPN, ...), plus its image processor; DPT/Depth Anything predict relative inverse depth.
midas:FILE  a MiDaS v3 DPT-ViT checkpoint (.pt state dict), renamed into transformers' DPT
        (midas_dpt.py); other MiDaS families are refused with a one-line error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ssr.depth.base import Shape, finish, record_user_files, reduce_for_depth
from ssr.errors import UnavailableError
from ssr.imresize import resize_float


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
        self.files = record_user_files(sorted(p for p in path.iterdir()
                                              if p.suffix in (".safetensors", ".bin", ".pt", ".pth")))

    @torch.no_grad()
    def __call__(self, rgb: np.ndarray, out_shape: Shape | None = None) -> np.ndarray:
        small = reduce_for_depth(rgb, self.max_side).astype(np.float32)
        inputs = self.processor(images=small, return_tensors="pt", do_rescale=False)
        predicted = self.model(**inputs).predicted_depth[0].float().numpy()
        return finish(predicted, out_shape or rgb.shape[:2])


class MidasDepth:
    """A MiDaS v3 DPT checkpoint (isl-org/MiDaS `dpt_large_384.pt`, `dpt_base_384.pt`, or the
    original `dpt_large-midas-*.pt`), loaded into transformers' DPTForDepthEstimation.

    The DPT-ViT MiDaS models are the architecture transformers implements as DPT, so the checkpoint's
    keys are renamed (midas_dpt.py) and the configuration is read off the tensor shapes; nothing is
    downloaded and no MiDaS/timm code is needed. Other MiDaS families (v2.1 ResNeXt/EfficientNet,
    DPT-hybrid, BEiT, Swin) are refused with a one-line error. Input as in MiDaS: RGB normalised with
    mean 0.5 / std 0.5, resized to the network's square size (transformers' DPT-ViT reassembles a
    square token grid only, as its own image processor does); the map is resized back.
    """

    name = "midas"

    def __init__(self, file: str, max_side: int) -> None:  # max_side unused: DPT runs at its own size
        path = Path(file)
        if not path.is_file():
            raise UnavailableError(f"midas checkpoint not found: {file}")
        try:
            import transformers
        except Exception as exc:
            raise UnavailableError(f"midas:FILE needs the transformers package ({type(exc).__name__})") from None
        from ssr.depth.midas_dpt import dpt_config_from_midas, midas_to_dpt_state

        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise UnavailableError(f"{path}: not a readable PyTorch checkpoint ({type(exc).__name__})") from None
        if isinstance(state, dict) and isinstance(state.get("model"), dict):
            state = state["model"]
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise UnavailableError(f"{path}: not a MiDaS state dict")
        config_values = dpt_config_from_midas(state, str(path))
        self.model = transformers.DPTForDepthEstimation(transformers.DPTConfig(**config_values)).eval()
        missing, unexpected = self.model.load_state_dict(midas_to_dpt_state(state, config_values["hidden_size"]),
                                                         strict=False)
        if missing or unexpected:
            raise UnavailableError(f"{path}: checkpoint does not fit a DPT model (missing {missing[:3]}, "
                                   f"unexpected {unexpected[:3]})")
        self.net_size = config_values["image_size"]
        self.files = record_user_files([path])

    def network_input(self, rgb: np.ndarray) -> torch.Tensor:
        # one resize straight to the network's square size (transformers' DPT-ViT takes no other)
        square = np.clip(resize_float(rgb, self.net_size, self.net_size, "bicubic"), 0, 1)
        return (torch.from_numpy(np.ascontiguousarray(square.transpose(2, 0, 1)))[None] - 0.5) / 0.5

    @torch.no_grad()
    def __call__(self, rgb: np.ndarray, out_shape: Shape | None = None) -> np.ndarray:
        predicted = self.model(pixel_values=self.network_input(rgb)).predicted_depth[0].float().numpy()
        return finish(predicted, out_shape or rgb.shape[:2])
