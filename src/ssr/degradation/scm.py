"""Degradation as a structural causal model (CausalSR), with every exogenous value explicit.

Graph (one mechanism per arrow head; exogenous inputs in brackets):

    [scene] ──► HR, depth
    [U_K: kernel node draws | focus, aperture] + depth ──► K  (spatially variant kernel field)
    HR, K ──► B = keep_every_s((HR ⊛ K))                  (apply.blur_downsample)
    [U_N: noise seed], noise kind/level/colour, B ──► N   (additive noise field)
    B + N ──► Y = clip(B + N, 0, 1)
    Y, [JPEG quality] ──► LR = JPEG_q(Y), quantised to 8 bits
    optional second order (Real-ESRGAN style): LR ──► blur ─► resize down/up ─► noise ─► JPEG

A *record* is the JSON-serialisable assignment of all exogenous values (the kernel field parameters,
the focus/aperture, the noise seed and level, the JPEG quality, ...). `render(record, hr, depth)` is
deterministic. `intervene(record, factor, value)` is do(factor = value): it returns a counterfactual
record that differs in that one factor and keeps every other exogenous value, noise seed included,
so the counterfactual image differs from the factual one only through the intervened path.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from ssr.degradation.apply import blur_downsample
from ssr.degradation.field import DefocusField, GridField
from ssr.degradation.jpeg import jpeg_roundtrip
from ssr.degradation.noise import NOISE_KINDS, noise_field
from ssr.errors import ConfigError
from ssr.imresize import resize_float
from ssr.arrays import to_uint8

SCHEMA = "ssr.degradation/1"
_TOP_KEYS = {"schema", "scale", "kernel", "noise", "jpeg", "second_order", "interventions"}
_NOISE_KEYS = {"kind", "level", "color", "seed"}
_JPEG_KEYS = {"quality"}
_SECOND_KEYS = {"blur_sigma", "resize", "noise", "jpeg"}
#: Factors that `intervene` accepts (dotted paths into the record).
FACTORS = ("kernel", "kernel.focus", "kernel.aperture", "noise", "noise.level", "noise.kind",
           "noise.color", "jpeg", "jpeg.quality", "second_order")


def _check_keys(where: str, data: Any, allowed: set[str], required: set[str]) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"degradation record: '{where}' must be a mapping")
    unknown = sorted(set(data) - allowed)
    missing = sorted(required - set(data))
    if unknown:
        raise ConfigError(f"degradation record: unknown key(s) {unknown} in '{where}' (allowed: {sorted(allowed)})")
    if missing:
        raise ConfigError(f"degradation record: missing key(s) {missing} in '{where}'")


def _check_noise(where: str, noise: dict) -> None:
    _check_keys(where, noise, _NOISE_KEYS, _NOISE_KEYS)
    if noise["kind"] not in NOISE_KINDS:
        raise ConfigError(f"degradation record: {where}.kind must be one of {NOISE_KINDS}")
    if not 0 <= float(noise["level"]) <= 1:
        raise ConfigError(f"degradation record: {where}.level must be in [0, 1] (intensity scale)")


def validate(record: dict) -> dict:
    """Check a record's structure; a typo in a key is an error, never silently ignored."""
    _check_keys("record", record, _TOP_KEYS, {"schema", "scale", "kernel", "noise", "jpeg"})
    if record["schema"] != SCHEMA:
        raise ConfigError(f"degradation record: schema '{record['schema']}' is not '{SCHEMA}'")
    if int(record["scale"]) < 1:
        raise ConfigError("degradation record: scale must be >= 1")
    kernel = record["kernel"]
    if not isinstance(kernel, dict) or "family" not in kernel:
        raise ConfigError("degradation record: 'kernel' needs a 'family'")
    if kernel["family"] == "defocus":
        _check_keys("kernel", kernel, {"family", "size", "focus", "aperture", "occlusion"},
                    {"family", "size", "focus", "aperture"})
    else:
        _check_keys("kernel", kernel, {"family", "size", "params"}, {"family", "size", "params"})
    _check_noise("noise", record["noise"])
    if record["jpeg"] is not None:
        _check_keys("jpeg", record["jpeg"], _JPEG_KEYS, _JPEG_KEYS)
    second = record.get("second_order")
    if second is not None:
        _check_keys("second_order", second, _SECOND_KEYS, _SECOND_KEYS)
        _check_noise("second_order.noise", second["noise"])
        if second["jpeg"] is not None:
            _check_keys("second_order.jpeg", second["jpeg"], _JPEG_KEYS, _JPEG_KEYS)
    return record


def build_field(record: dict, depth: np.ndarray | None = None) -> GridField | DefocusField:
    """The kernel-field mechanism K = f(U_K, depth)."""
    kernel = record["kernel"]
    if kernel["family"] == "defocus":
        if depth is None:
            raise ConfigError("a defocus kernel field needs a depth map")
        return DefocusField(np.asarray(depth, np.float64), float(kernel["focus"]), float(kernel["aperture"]),
                            int(kernel["size"]), bool(kernel.get("occlusion", True)))
    return GridField.from_dict(kernel)


@dataclass
class Rendering:
    """Every node of the graph for one record, so tests and training can look inside."""

    blurred: np.ndarray  # B: blurred + downsampled, float32 (h, w, C), before noise
    noise: np.ndarray  # N: additive noise field
    noisy: np.ndarray  # Y: clip(B + N)
    lr: np.ndarray  # final LR, float32 in [0, 1], exactly representable in 8 bits
    stages: dict[str, np.ndarray] = field(default_factory=dict)


def _compress(image: np.ndarray, jpeg: dict | None) -> np.ndarray:
    if jpeg is None:
        return to_uint8(image).astype(np.float32) / 255.0
    return jpeg_roundtrip(image, int(jpeg["quality"]))


def _second_order(lr: np.ndarray, second: dict) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    h, w, _ = lr.shape
    sigma = float(second["blur_sigma"])
    blurred = np.stack([gaussian_filter(lr[..., c], sigma, mode="reflect", truncate=3.0)
                        for c in range(lr.shape[2])], axis=2) if sigma > 0 else lr
    factor = float(second["resize"])
    small = resize_float(blurred, max(1, round(h * factor)), max(1, round(w * factor)), "bicubic")
    back = resize_float(small, h, w, "bicubic")
    noise = second["noise"]
    n2 = noise_field(back, noise["kind"], float(noise["level"]), bool(noise["color"]), int(noise["seed"]))
    noisy = np.clip(back + n2, 0.0, 1.0)
    return _compress(noisy, second["jpeg"]), {"second_blurred": blurred, "second_resized": back,
                                              "second_noise": n2}


def render(record: dict, hr: np.ndarray, depth: np.ndarray | None = None) -> Rendering:
    """Deterministically render the LR image of a record from a (H, W, C) float HR image."""
    validate(record)
    scale = int(record["scale"])
    kernel_field = build_field(record, depth)
    hr_t = torch.from_numpy(np.ascontiguousarray(np.transpose(hr, (2, 0, 1))).astype(np.float64))
    blurred = blur_downsample(hr_t, kernel_field, scale).numpy().transpose(1, 2, 0).astype(np.float32)
    noise = record["noise"]
    n = noise_field(blurred, noise["kind"], float(noise["level"]), bool(noise["color"]), int(noise["seed"]))
    noisy = np.clip(blurred + n, 0.0, 1.0)
    lr = _compress(noisy, record["jpeg"])
    stages: dict[str, np.ndarray] = {}
    if record.get("second_order") is not None:
        lr, stages = _second_order(lr, record["second_order"])
    return Rendering(blurred, n, noisy, lr, stages)


#: What an intervention on each factor changes: the graph's nodes from that point on.
_DOWNSTREAM = {"kernel": "B", "noise": "N", "jpeg": "JPEG", "second_order": "second"}


def rerender(record: dict, hr: np.ndarray, parent: Rendering, factor: str, depth: np.ndarray | None = None) -> Rendering:
    """Render a counterfactual record re-using the parent's nodes upstream of the intervened factor.

    `record` must differ from the parent's record only in `factor` (what `intervene` returns). A kernel
    intervention re-renders everything; a noise intervention keeps B; a JPEG or second-order one keeps
    B, N and Y. The result equals `render(record, hr, depth)` exactly (tests/test_causal.py) at a
    fraction of the cost.
    """
    validate(record)
    start = _DOWNSTREAM[factor.split(".")[0]]
    if start == "B":
        return render(record, hr, depth)
    blurred = parent.blurred
    if start == "N":
        noise = record["noise"]
        n = noise_field(blurred, noise["kind"], float(noise["level"]), bool(noise["color"]), int(noise["seed"]))
        noisy = np.clip(blurred + n, 0.0, 1.0)
    else:
        n, noisy = parent.noise, parent.noisy
    lr = _compress(noisy, record["jpeg"])
    stages: dict[str, np.ndarray] = {}
    if record.get("second_order") is not None:
        lr, stages = _second_order(lr, record["second_order"])
    return Rendering(blurred, n, noisy, lr, stages)


def intervene(record: dict, factor: str, value: Any) -> dict:
    """do(factor = value): a counterfactual record with one factor changed, all else (seeds too) kept."""
    if factor not in FACTORS:
        raise ConfigError(f"cannot intervene on '{factor}' (one of {', '.join(FACTORS)})")
    counterfactual = copy.deepcopy(record)
    parts = factor.split(".")
    target = counterfactual
    for part in parts[:-1]:
        if target.get(part) is None:
            raise ConfigError(f"cannot intervene on '{factor}': the record has no '{part}'")
        target = target[part]
    if parts[-1] not in target and len(parts) > 1:
        raise ConfigError(f"cannot intervene on '{factor}': not present in this record")
    target[parts[-1]] = copy.deepcopy(value)
    counterfactual.setdefault("interventions", []).append({"factor": factor, "value": copy.deepcopy(value)})
    return validate(counterfactual)
