"""SVKR (SSR Algorithm 1): depth -> kernels -> SR, T rounds with momentum on the kernel field.

    D_0 = Depth(LR)
    for t = 1..T:
        K̂_t = DKENet(LR, D_{t-1})
        K_t = K̂_1                          if t = 1
              beta * K_{t-1} + (1 - beta) * K̂_t   otherwise        (Eq. 2 as ssr reads it)
        SR_t = RRDB(LR, K_t)
        D_t = Depth(SR_t)

Eq. (2) is lost in the paper's text extraction; ssr reads it as an exponential moving average of the
kernel field whose weight beta (default 0.9) stays on the history, which matches "retains the
influence of historical information ... mitigating oscillations". Convex mixing keeps every kernel
non-negative and summing to 1.

Memory: the kernel field is carried as the RRDB's PCA code (16 numbers per LR pixel, not 441 taps);
the code is affine in the kernel, so momentum on codes equals momentum on the (projected) kernels the
RRDB sees. DKENet and RRDB run on overlapping LR tiles whose outputs are blended with linear ramps
(seam-free: every tile also sees `overlap` pixels of context that are cut away); depth runs on the
whole image reduced to <= 384 px (builtin: 192 px) and is resized once, straight to the LR grid
(the estimator takes the output shape). Peak memory is therefore bounded by the tile size plus the
output image itself, whatever the input size. Every option and its default: `ssr.options.SVKROptions`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ssr.arrays import hwc_to_chw
from ssr.depth.base import DepthEstimator
from ssr.imresize import imresize
from ssr.models.registry import ModelDescriptor
from ssr.options import SVKROptions, resolve_precision
from ssr.progress import progress_bar


@dataclass
class SVKRResult:
    sr: np.ndarray  # (sH, sW, 3) final
    sr_rounds: list[np.ndarray] = field(default_factory=list)
    depth_rounds: list[np.ndarray] = field(default_factory=list)  # D_0 .. D_{T-1} at LR size
    code_rounds: list[np.ndarray] = field(default_factory=list)  # K_t as PCA codes (dim, h, w)
    seconds: dict[str, float] = field(default_factory=lambda: {"depth": 0.0, "kernels": 0.0, "sr": 0.0})


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step)) + [length - tile]
    return sorted(set(starts))


def ramp(length: int, overlap: int, at_start: bool, at_end: bool) -> np.ndarray:
    """1-D blending weight: linear ramps over the overlap on sides that touch another tile."""
    weight = np.ones(length, np.float32)
    if overlap > 0:
        ramp_up = (np.arange(overlap, dtype=np.float32) + 0.5) / overlap
        if not at_start:
            weight[:overlap] = np.minimum(weight[:overlap], ramp_up)
        if not at_end:
            weight[-overlap:] = np.minimum(weight[-overlap:], ramp_up[::-1])
    return weight


def tile_positions(h: int, w: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    if tile <= 0 or (h <= tile and w <= tile):
        return [(0, 0)]
    return [(top, left) for top in tile_starts(h, tile, overlap) for left in tile_starts(w, tile, overlap)]


def run_tiled(lr: np.ndarray, fn: Callable[[int, int, int, int], np.ndarray], out_channels: int, scale: int,
              tile: int, overlap: int, tick: Callable[[], None] = lambda: None,
              out_dtype: type | None = None) -> np.ndarray:
    """Blend fn(top, left, h, w) -> (C, h*scale, w*scale) over overlapping LR tiles.

    Each tile is computed with `overlap` extra LR pixels of context on every side (clamped to the
    image) that are cut away, so no kept pixel sees a tile border; neighbouring tiles then overlap by
    `overlap` pixels and are blended with linear ramps. `tick` is called once per tile (progress).

    out_dtype None: returns float32 (C, sH, sW). out_dtype uint8/uint16: returns (sH, sW, C) of that
    type, built band by band: a row of tiles is blended in a float buffer as tall as one tile, and the
    rows no later tile touches are quantised (as `to_uint8` does) into the output at once, so memory
    holds the quantised image plus one band, never a full-size float image.
    """
    h, w = lr.shape[:2]
    if tile <= 0 or (h <= tile and w <= tile):
        out = fn(0, 0, h, w)
        tick()
        return out if out_dtype is None else _quantise(out, out_dtype).transpose(1, 2, 0)
    tops, lefts = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    th, tw = min(tile, h), min(tile, w)
    s = scale
    if out_dtype is None:
        out = np.zeros((out_channels, h * s, w * s), np.float32)
        weight_sum = np.zeros((h * s, w * s), np.float32)
        band_top = 0
    else:
        out = np.empty((h * s, w * s, out_channels), out_dtype)
        carry = None  # (accumulator, weights, first row) of rows a finished band left unfinished
    for i, top in enumerate(tops):
        if out_dtype is not None:
            band_top, band_rows = top * s, th * s
            acc = np.zeros((out_channels, band_rows, w * s), np.float32)
            wsum = np.zeros((band_rows, w * s), np.float32)
            if carry is not None:
                c_acc, c_w, c_top = carry
                rows = c_acc.shape[1]
                acc[:, c_top - band_top:c_top - band_top + rows] += c_acc
                wsum[c_top - band_top:c_top - band_top + rows] += c_w
            target, target_w = acc, wsum
        else:
            target, target_w = out, weight_sum
        for left in lefts:
            y0, y1 = max(0, top - overlap), min(h, top + th + overlap)
            x0, x1 = max(0, left - overlap), min(w, left + tw + overlap)
            wy = ramp(th * s, overlap * s, top == 0, top + th >= h)
            wx = ramp(tw * s, overlap * s, left == 0, left + tw >= w)
            piece = fn(y0, x0, y1 - y0, x1 - x0)
            piece = piece[:, (top - y0) * s:(top - y0 + th) * s, (left - x0) * s:(left - x0 + tw) * s]
            weight = wy[:, None] * wx[None, :]
            r0 = top * s - band_top
            target[:, r0:r0 + th * s, left * s:(left + tw) * s] += piece * weight
            target_w[r0:r0 + th * s, left * s:(left + tw) * s] += weight
            tick()
        if out_dtype is not None:
            final = (tops[i + 1] * s if i + 1 < len(tops) else h * s) - band_top
            out[band_top:band_top + final] = _quantise(acc[:, :final] / wsum[:final], out_dtype).transpose(1, 2, 0)
            carry = (acc[:, final:], wsum[final:], band_top + final) if final < acc.shape[1] else None
    return out / weight_sum if out_dtype is None else out


def _quantise(values: np.ndarray, dtype: type) -> np.ndarray:
    """Float [0, 1] -> uint8/uint16 exactly as the image writer rounds (x * max, half to even, clip)."""
    top = float(np.iinfo(dtype).max)
    return np.clip(np.round(np.asarray(values, np.float64) * top), 0, top).astype(dtype)


class SVKRPipeline:
    """LR (H, W, 3) float [0, 1] -> SR (sH, sW, 3), with every intermediate kept."""

    def __init__(self, dkenet: ModelDescriptor, rrdb: ModelDescriptor, depth: DepthEstimator,
                 options: SVKROptions = SVKROptions(), *, keep_rounds: bool = True) -> None:
        device = options.device
        self.dkenet, self.rrdb, self.depth = dkenet.model.to(device), rrdb.model.to(device), depth
        self.scale = rrdb.scale
        self.options = options
        self.rounds, self.beta, self.tile, self.overlap, self.device = (options.rounds, options.beta, options.tile,
                                                                       options.overlap, device)
        # bf16: DKENet and RRDB run under autocast (oneDNN bf16 kernels on CPUs with AVX512-BF16/AMX,
        # tensor cores on GPUs); inputs, the kernel code, momentum and blending stay float32.
        self.precision = resolve_precision(options.precision, device)
        # False keeps only the latest depth/code/SR (big images: each SR round is a full output image)
        self.keep_rounds = keep_rounds
        self._tick: Callable[[], None] = lambda: None

    def _autocast(self):
        device_type = "cuda" if str(self.device).startswith("cuda") else "cpu"
        return torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.array(array, dtype=np.float32)).to(self.device)

    @torch.no_grad()
    def estimate_codes(self, lr: np.ndarray, depth_lr: np.ndarray) -> np.ndarray:
        """DKENet on tiles -> PCA codes (dim, h, w) of the per-pixel kernels."""
        code = self.rrdb.code

        def one_tile(top, left, th, tw):
            lr_t = self._tensor(hwc_to_chw(lr[top:top + th, left:left + tw]))[None]
            d_t = self._tensor(depth_lr[top:top + th, left:left + tw])[None, None]
            with self._autocast():
                out = self.dkenet(lr_t, d_t)
            return self.dkenet.as_codes(out.float(), code)[0].cpu().numpy()

        return run_tiled(lr, one_tile, code.dim, 1, self.tile, self.overlap, self._tick)

    @torch.no_grad()
    def restore(self, lr: np.ndarray, codes: np.ndarray, out_dtype: type | None = None) -> np.ndarray:
        """The kernel-conditioned SR network on tiles; float (sH, sW, 3), or uint8/uint16 built band by band."""
        def one_tile(top, left, th, tw):
            lr_t = self._tensor(hwc_to_chw(lr[top:top + th, left:left + tw]))[None]
            c_t = self._tensor(codes[:, top:top + th, left:left + tw])[None]
            with self._autocast():
                sr = self.rrdb.forward_codes(lr_t, c_t)  # codes, not k*k taps per pixel
            sr = sr.float()[0].clamp(0, 1).cpu().numpy()
            if self.options.strength < 1:  # blend toward plain bicubic (per tile: the context covers its support)
                base = np.clip(imresize(lr[top:top + th, left:left + tw], scale=self.scale), 0, 1).transpose(2, 0, 1)
                sr = np.clip(base + self.options.strength * (sr - base), 0, 1).astype(np.float32)
            return sr

        if out_dtype is not None:
            return run_tiled(lr, one_tile, 3, self.scale, self.tile, self.overlap, self._tick, out_dtype)
        sr = run_tiled(lr, one_tile, 3, self.scale, self.tile, self.overlap, self._tick)
        return np.clip(sr.transpose(1, 2, 0), 0, 1)

    def __call__(self, lr: np.ndarray, true_codes: np.ndarray | None = None, out_dtype: type | None = None,
                 label: str = "", fixed_depth: np.ndarray | None = None) -> SVKRResult:
        """Run T rounds; `true_codes` (oracle ablation) replaces the kernel estimate. `out_dtype`
        (uint8/uint16) returns every SR as that type, built band by band (bounded memory at any size);
        one progress bar per call shows the round, the stage and an ETA."""
        lr = np.asarray(lr, np.float32)
        h, w = lr.shape[:2]
        result = SVKRResult(sr=np.empty(0))
        tiles = len(tile_positions(h, w, self.tile, self.overlap))
        bar = progress_bar(2 * self.rounds * tiles, label or "SVKR")
        self._tick = lambda: bar.update(1)
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            result.seconds[stage] += now - clock
            clock = now

        depth = self.depth(lr, (h, w)) if fixed_depth is None else fixed_depth  # fixed: the gt-depth ablation
        lap("depth")
        codes, sr, previous_depth = None, None, None
        for t in range(self.rounds):
            result.depth_rounds.append(depth)
            # A round whose inputs did not change (same depth, or fixed oracle kernels) gives the same
            # estimate, and mixing equal fields changes nothing: reuse it instead of recomputing.
            stationary = t > 0 and (true_codes is not None or np.array_equal(depth, previous_depth))
            bar.set_postfix_str(f"round {t + 1}/{self.rounds}: kernels")
            if stationary:
                bar.update(2 * tiles)
            if not stationary:
                estimate = true_codes if true_codes is not None else self.estimate_codes(lr, depth)
                codes = estimate if codes is None else self.beta * codes + (1 - self.beta) * estimate
            result.code_rounds.append(codes)
            lap("kernels")
            bar.set_postfix_str(f"round {t + 1}/{self.rounds}: SR")
            if not stationary:
                sr = self.restore(lr, codes, out_dtype)
            result.sr_rounds.append(sr)
            lap("sr")
            previous_depth = depth
            if t + 1 < self.rounds and fixed_depth is None:
                depth = self.depth(sr, (h, w))
                lap("depth")
            if not self.keep_rounds:
                del result.depth_rounds[:-1], result.code_rounds[:-1], result.sr_rounds[:-1]
        result.sr = result.sr_rounds[-1]
        bar.close()
        return result
