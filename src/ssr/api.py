"""The Python API: `from ssr import Upscaler`.

    from ssr import Upscaler
    upscaler = Upscaler(scale=4)                 # shipped weights, CPU, default SVKR options
    big = upscaler.upscale(image)                # PIL image, numpy array or torch tensor in -> the same kind out
    result = upscaler.run(image)                 # + depth, kernel codes, blur map, per-round SR, seconds per stage

Accepted inputs and what comes back (same kind, same value range, same layout):
* PIL images: modes L, LA, RGB, RGBA (and P/CMYK converted to RGB) -> a PIL image of the same mode;
* numpy arrays, (H, W), (H, W, 1|3|4), dtype uint8 (0..255), uint16 (0..65535) or float (0..1);
* torch tensors, (C, H, W) or (N, C, H, W), C in 1, 3, 4, float (0..1) or uint8.
Grey stays grey (upscaled as RGB and converted back), alpha is upscaled separately with bicubic.
Anything else is a TypeError/ValueError that says what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ssr.errors import ConfigError
from ssr.methods import make_method
from ssr.methods.base import UpscaleResult
from ssr.methods.classical import bicubic

_PIL_MODES = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


@dataclass
class Result:
    """What `Upscaler.run` returns: the image in the caller's kind, plus the pipeline's intermediates."""

    image: Any
    depth: np.ndarray | None = None  # (h, w) relative inverse depth at LR size, 1 = nearest
    kernel_codes: np.ndarray | None = None  # (dim, h, w) PCA codes of the per-pixel kernels
    blur_map: np.ndarray | None = None  # (h, w) estimated blur width per LR pixel (HR pixels, std)
    rounds: list[np.ndarray] = field(default_factory=list)  # SR (H, W, 3) float after each SVKR round
    seconds: dict[str, float] = field(default_factory=dict)


class _Layout:
    """How to give an image back in the kind, layout and range it came in."""

    def __init__(self, kind: str, **info) -> None:
        self.kind, self.info = kind, info


def _to_float(image: Any) -> tuple[np.ndarray, np.ndarray | None, _Layout]:
    """Any accepted image -> (colour (H, W, 1|3) float32 [0, 1], alpha (H, W) or None, layout)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        Image = None
    if Image is not None and isinstance(image, Image.Image):
        mode = image.mode
        if mode not in _PIL_MODES:
            image, mode = image.convert("RGBA" if "A" in mode or "transparency" in image.info else "RGB"), None
        array = np.asarray(image)
        layout = _Layout("pil", mode=mode or image.mode)
        return *_split(array.astype(np.float32) / 255.0), layout
    if type(image).__module__.startswith("torch"):
        import torch

        if not isinstance(image, torch.Tensor):
            raise TypeError(f"Upscaler: unsupported torch object {type(image).__name__}")
        batched = image.dim() == 4
        if image.dim() not in (3, 4) or (batched and image.shape[0] != 1) or image.shape[-3] not in (1, 3, 4):
            raise ValueError(f"Upscaler: a tensor must be (C, H, W) or (1, C, H, W) with C in 1, 3, 4; got "
                             f"{tuple(image.shape)}")
        chw = image[0] if batched else image
        dtype = chw.dtype
        if dtype == torch.uint8:
            array = chw.permute(1, 2, 0).cpu().numpy().astype(np.float32) / 255.0
        elif dtype.is_floating_point:
            array = chw.detach().permute(1, 2, 0).float().cpu().numpy()
        else:
            raise TypeError(f"Upscaler: tensor dtype {dtype} (expected float in [0, 1] or uint8)")
        layout = _Layout("torch", batched=batched, dtype=dtype, device=image.device)
        return *_split(array), layout
    if isinstance(image, np.ndarray):
        if image.ndim == 2:
            image = image[..., None]
        if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
            raise ValueError(f"Upscaler: an array must be (H, W) or (H, W, C) with C in 1..4; got {image.shape}")
        if image.dtype == np.uint8:
            array = image.astype(np.float32) / 255.0
        elif image.dtype == np.uint16:
            array = image.astype(np.float32) / 65535.0
        elif np.issubdtype(image.dtype, np.floating):
            array = image.astype(np.float32)
            if array.size and (np.nanmin(array) < -1e-6 or np.nanmax(array) > 1 + 1e-6):
                raise ValueError("Upscaler: float arrays must hold values in [0, 1] (use uint8/uint16 for 0..255/65535)")
        else:
            raise TypeError(f"Upscaler: array dtype {image.dtype} (expected uint8, uint16 or float in [0, 1])")
        if not np.isfinite(array).all():
            raise ValueError("Upscaler: the image contains NaN or infinite values")
        layout = _Layout("numpy", dtype=image.dtype)
        return *_split(array), layout
    raise TypeError(f"Upscaler.upscale expects a PIL image, a numpy array or a torch tensor, got "
                    f"{type(image).__name__}")


def _split(array: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    if array.ndim == 2:
        array = array[..., None]
    channels = array.shape[2]
    if channels in (2, 4):
        return np.ascontiguousarray(array[..., :-1]), np.ascontiguousarray(array[..., -1])
    return np.ascontiguousarray(array), None


def _from_float(colour: np.ndarray, alpha: np.ndarray | None, layout: _Layout, original_ndim: int) -> Any:
    array = np.clip(colour, 0, 1)
    if alpha is not None:
        array = np.concatenate([array, np.clip(alpha, 0, 1)[..., None]], axis=2)
    if layout.kind == "pil":
        from PIL import Image

        data = np.round(array * 255).astype(np.uint8)
        return Image.fromarray(data[..., 0] if data.shape[2] == 1 else data, layout.info["mode"])
    if layout.kind == "torch":
        import torch

        tensor = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))
        if layout.info["dtype"] == torch.uint8:
            tensor = torch.round(tensor * 255).to(torch.uint8)
        else:
            tensor = tensor.to(layout.info["dtype"])
        tensor = tensor.to(layout.info["device"])
        return tensor[None] if layout.info["batched"] else tensor
    dtype = layout.info["dtype"]
    if dtype == np.uint8:
        out = np.round(array * 255).astype(np.uint8)
    elif dtype == np.uint16:
        out = np.round(array * 65535).astype(np.uint16)
    else:
        out = array.astype(dtype)
    return out[..., 0] if original_ndim == 2 else out


class Upscaler:
    """An upscaler with fixed settings; reuse one object for many images (weights load once).

    method: "ssr" (default) or any name `ssr upscale --method` takes ("bicubic", "spandrel:PATH", ...).
    depth, tile, precision, device, rounds, weights, strength: the SVKR options; refine="diffusion" with
    steps, seed, fidelity, backend: the diffusion refiner (see `ssr.options.SVKROptions`); leave them None
    for the defaults.
    """

    def __init__(self, scale: int = 4, *, method: str = "ssr", device: str | None = None, tile: int | None = None,
                 precision: str | None = None, depth: str | None = None, rounds: int | None = None,
                 weights: str | None = None, refine: str | None = None, steps: int | None = None,
                 seed: int | None = None, fidelity: float | None = None, backend: str | None = None,
                 strength: float | None = None, keep_rounds: bool = False) -> None:
        if scale not in (2, 4) and method.startswith("ssr"):
            raise ConfigError(f"scale must be 2 or 4 for the ssr weights, got {scale}")
        self.scale = scale
        self.method = make_method(method, scale=scale, keep_rounds=keep_rounds, device=device, tile=tile,
                                  precision=precision, depth=depth, rounds=rounds, weights=weights, refine=refine,
                                  steps=steps, seed=seed, fidelity=fidelity, backend=backend, strength=strength)
        if self.method.scale is not None and self.method.scale != scale:
            raise ConfigError(f"{self.method.name} is a x{self.method.scale} model, asked for x{scale}")

    def run(self, image: Any) -> Result:
        colour, alpha, layout = _to_float(image)
        grey = colour.shape[2] == 1
        raw: UpscaleResult = self.method.upscale(colour, self.scale)
        sr = raw.image
        if grey and sr.shape[2] == 3:  # grey stays grey (the networks see RGB)
            sr = sr.mean(axis=2, keepdims=True)
        up_alpha = bicubic(alpha[..., None], self.scale)[..., 0] if alpha is not None else None
        ndim = np.ndim(image) if isinstance(image, np.ndarray) else 3
        blur = blur_map(raw) if raw.kernel_codes is not None else None
        return Result(_from_float(sr, up_alpha, layout, ndim), raw.depth, raw.kernel_codes, blur, raw.rounds,
                      raw.seconds)

    def upscale(self, image: Any) -> Any:
        return self.run(image).image


def blur_map(raw: UpscaleResult) -> np.ndarray:
    """Blur width per LR pixel in HR pixels: the standard deviation of each decoded kernel (sqrt of the
    mean of its two principal variances), from the kernel codes the pipeline carries."""
    from ssr.explain import kernel_geometry

    return kernel_geometry(raw.kernel_codes, raw.decode_kernels)[0]
