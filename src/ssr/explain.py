"""`ssr explain IMAGE`: abduction of the degradation's exogenous factors from one LR photo.

What it reads off the photo (each factor of the SCM, ssr.degradation):
* JPEG quality: the "JPEG ghost" — re-encoding a decoded JPEG at its own quality changes it least, so
  the quality q in 20..96 with the smallest re-encoding error is the estimate (with ssr's libjpeg
  settings it recovers the protocols' quality exactly on B100 sv); a photo whose error keeps falling to
  the top of the range was not (or only lightly) compressed: "none or > 95".
* noise level (0..255 per channel, before compression): Immerkaer's fast noise estimator (a 3x3
  Laplacian difference, robust to smooth content) over the whole image and over its flattest blocks,
  mapped to the level the SCM added by a linear calibration fitted on SCM renders of TRAINING images
  (bench/explain_eval.py --fit), because JPEG erases part of the noise and texture adds some.
* blur: the kernel field DKENet estimates (what `ssr upscale` uses): width (std, output pixels) and
  elongation/orientation of each pixel's kernel, summarised on a 3x3 grid of regions.
* depth: the builtin depth map (relative, 1 = nearest).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ssr.arrays import to_rgb, to_uint8

QUALITIES = range(20, 97)
#: noise calibration, fitted by `bench/explain_eval.py --fit` on 240 sv renders of BSDS200 crops
#: features: 1, global estimate g, flat-block estimate f, f*t, g*t, t, f^2/10 with t = (100 - q) / 50
NOISE_COEFFICIENTS = (1.9266, -2.077, 4.3454, -0.3111, 4.2806, -1.0864, -1.9035)
_LAPLACE = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64)


def jpeg_quality(image: np.ndarray) -> tuple[int | None, list[float]]:
    """(estimated quality, or None for "none or > 95"; the re-encoding errors per quality)."""
    from PIL import Image

    data = to_uint8(to_rgb(image))
    errors = []
    for quality in QUALITIES:
        buffer = io.BytesIO()
        Image.fromarray(data).save(buffer, "JPEG", quality=quality, subsampling=2)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), np.float32)
        errors.append(float(np.abs(decoded - data).mean()))
    best = int(np.argmin(errors))
    if best >= len(errors) - 2:  # still falling at the top of the range: no clear ghost
        return None, errors
    return QUALITIES[best], errors


def noise_features(image: np.ndarray, quality: int | None, block: int = 12) -> list[float]:
    from scipy.ndimage import convolve

    rgb = to_rgb(image).astype(np.float64) * 255.0
    whole, flat = [], []
    for c in range(3):
        response = np.abs(convolve(rgb[..., c], _LAPLACE))[1:-1, 1:-1] * np.sqrt(np.pi / 2) / 6
        whole.append(response.mean())
        h, w = response.shape
        if h >= block and w >= block:
            blocks = response[: h // block * block, : w // block * block].reshape(
                h // block, block, w // block, block).mean(axis=(1, 3)).ravel()
            flat.append(np.percentile(blocks, 15))
        else:
            flat.append(response.mean())
    g, f = float(np.median(whole)), float(np.median(flat))
    t = (100 - (quality if quality is not None else 100)) / 50
    return [1.0, g, f, f * t, g * t, t, f * f / 10]


def noise_level(image: np.ndarray, quality: int | None) -> float:
    """Estimated noise standard deviation in 0..255 units (per channel, before compression).

    Without JPEG the flat-block Immerkaer estimate is used as it is (nothing erased the noise); after
    JPEG the calibration fitted on SCM renders maps the estimates to the level before compression."""
    features = noise_features(image, quality)
    if quality is None:
        return features[2]
    return max(0.0, float(np.dot(features, NOISE_COEFFICIENTS)))


def quality_from_file(path: Path) -> int | None:
    """The IJG quality whose luminance table equals the JPEG file's own (exact), or None."""
    from PIL import Image

    with Image.open(path) as image:
        tables = getattr(image, "quantization", None)
    if not tables:
        return None
    probe = Image.new("RGB", (8, 8))
    for quality in range(1, 101):
        buffer = io.BytesIO()
        probe.save(buffer, "JPEG", quality=quality)
        if Image.open(io.BytesIO(buffer.getvalue())).quantization[0] == tables[0]:
            return quality
    return None


def kernel_geometry(codes: np.ndarray, decode) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per LR pixel: blur width (std, HR pixels), elongation (major/minor std) and the long axis's angle in
    degrees, in the SCM's theta convention (ssr.degradation.kernels), so it compares with a record."""
    import torch

    with torch.no_grad():
        kernels = decode(torch.from_numpy(np.ascontiguousarray(codes))[None].float())[0].clamp_min(0)
    taps, h, w = kernels.shape
    size = int(round(taps ** 0.5))
    kernels = kernels / kernels.sum(0, keepdim=True).clamp_min(1e-12)
    axis = torch.arange(size, dtype=torch.float32) - size // 2
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    yy, xx = yy.reshape(-1, 1, 1), xx.reshape(-1, 1, 1)
    my, mx = (kernels * yy).sum(0), (kernels * xx).sum(0)
    cyy = (kernels * (yy - my) ** 2).sum(0)
    cxx = (kernels * (xx - mx) ** 2).sum(0)
    cxy = (kernels * (xx - mx) * (yy - my)).sum(0)
    half_trace, det_part = (cxx + cyy) / 2, torch.sqrt(((cxx - cyy) / 2) ** 2 + cxy ** 2)
    major, minor = (half_trace + det_part).clamp_min(1e-8), (half_trace - det_part).clamp_min(1e-8)
    width = torch.sqrt(half_trace.clamp_min(0))
    elongation = torch.sqrt(major / minor)
    angle = torch.rad2deg(0.5 * torch.atan2(2 * cxy, cxx - cyy)) % 180  # the SCM's theta convention
    return width.numpy(), elongation.numpy(), angle.numpy()


def explain(image: np.ndarray, upscale_scale: int = 4, weights: str | None = None,
            source: Path | None = None) -> dict:
    """Every factor's estimate for one LR image (H, W, C) float [0, 1]; JSON-ready (except "_maps").
    A JPEG `source` file gives its quality exactly from its quantisation table."""
    from ssr.methods import make_method

    quality = quality_from_file(source) if source is not None and source.suffix.lower() in (".jpg", ".jpeg") else None
    if quality is None:
        quality, _ = jpeg_quality(image)
    noise = noise_level(image, quality)
    method = make_method("ssr", scale=upscale_scale, weights=weights)
    result = method.upscale(to_rgb(np.asarray(image, np.float32)), upscale_scale)
    width, elongation, angle = kernel_geometry(result.kernel_codes, result.decode_kernels)
    h, w = width.shape
    regions = []
    names = ("top", "middle", "bottom"), ("left", "centre", "right")
    for i in range(3):
        for j in range(3):
            ys, xs = slice(i * h // 3, (i + 1) * h // 3 or None), slice(j * w // 3, (j + 1) * w // 3 or None)
            regions.append({"region": f"{names[0][i]} {names[1][j]}", "blur_px": float(np.median(width[ys, xs])),
                            "elongation": float(np.median(elongation[ys, xs])),
                            "angle_deg": float(np.median(angle[ys, xs]))})
    return {"jpeg_quality": quality, "noise_level_255": round(noise, 2),
            "blur_px": {"median": float(np.median(width)), "p10": float(np.percentile(width, 10)),
                        "p90": float(np.percentile(width, 90))},
            "blur_regions": regions, "depth_near_share": float((result.depth > 0.5).mean()),
            "_maps": {"width": width, "depth": result.depth}}


def summary(name: str, facts: dict) -> str:
    q = facts["jpeg_quality"]
    blur = facts["blur_px"]
    sharpest = min(facts["blur_regions"], key=lambda r: r["blur_px"])
    softest = max(facts["blur_regions"], key=lambda r: r["blur_px"])
    lines = [f"{name}:",
             f"  JPEG: {'quality about ' + str(q) if q is not None else 'none detected (or quality > 95)'}",
             f"  noise: about {facts['noise_level_255']:.1f}/255 per channel (before compression)",
             f"  blur (at x4 output size): median {blur['median']:.1f} px, from {blur['p10']:.1f} to "
             f"{blur['p90']:.1f} px across the frame; sharpest {sharpest['region']} ({sharpest['blur_px']:.1f} px), "
             f"softest {softest['region']} ({softest['blur_px']:.1f} px"
             + (f", {softest['elongation']:.1f}:1 at {softest['angle_deg']:.0f} deg" if softest["elongation"] > 1.3 else "")
             + ")"]
    return "\n".join(lines)


def picture(image: np.ndarray, facts: dict) -> np.ndarray:
    """The blur-width heat map over the photo (enlarged to >= 512 px) with its scale in x4-output pixels."""
    from ssr.imresize import resize_float
    from ssr.visualize import blur_picture

    rgb = to_rgb(np.asarray(image, np.float32))
    factor = max(1, int(np.ceil(512 / max(rgb.shape[:2]))))  # small photos are enlarged to be readable
    photo = np.clip(resize_float(rgb, rgb.shape[0] * factor, rgb.shape[1] * factor, "bicubic"), 0, 1)
    return blur_picture(facts["_maps"]["width"], photo, title="blur (px at x4)")


def public(facts: dict) -> dict:
    return {k: v for k, v in facts.items() if not k.startswith("_")}


def run(path: Path, out: Path | None, as_json: bool, weights: str | None = None) -> str:
    import json

    from ssr.io import read_image, write_image

    loaded = read_image(path)
    facts = explain(loaded.pixels, weights=weights, source=path)
    if out is not None:
        write_image(out, picture(loaded.pixels, facts), overwrite=False)
    text = json.dumps({"image": str(path), **public(facts)}, indent=2) if as_json else summary(path.name, facts)
    return text + ("" if as_json or out is None else f"\n  picture: {out}")
