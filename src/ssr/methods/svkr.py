"""The SVKR pipeline (SSR: depth -> DKENet kernels -> kernel-conditioned SR, T rounds) as a method.

Weights: the shipped defaults (`ssr.weights`, checksum-verified) for the requested scale. The depth
backend is `options.depth`, or the shipped builtin DepthNet when the weights include one (`ssr info`
says which). `options.kernels == "true"` is the oracle ablation: the set's true kernel field replaces
DKENet's estimate (needs a synthetic set's meta maps).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ssr.arrays import to_rgb
from ssr.degradation.kernel_maps import truth_kernels
from ssr.depth import make_depth_estimator
from ssr.errors import DataError, UnavailableError
from ssr.imresize import resize_float
from ssr.methods.base import UpscaleResult
from ssr.options import SVKROptions
from ssr.pipeline import SVKRPipeline, _quantise
from ssr.weights import has_role, load_default, refiner_start, resolve


def default_depth_spec(folder=None) -> str:
    """The depth backend used when none is asked for: builtin if the weight set has it."""
    return "builtin" if has_role("depth", folder) else "none"


class SVKRMethod:
    def __init__(self, name: str, scale: int, options: SVKROptions, keep_rounds: bool = False) -> None:
        folder = resolve(options.weights)
        # refining: the SVKR networks the refiner was trained on (ssr.weights.refiner_start)
        load = refiner_start if options.refine == "diffusion" else load_default
        dkenet, rrdb = load("dkenet", scale, folder), load("sr", scale, folder)
        depth_spec = options.depth or default_depth_spec(folder)
        depth = make_depth_estimator("none" if depth_spec == "gt" else depth_spec, weights=folder)
        self.name, self.scale, self.options = name, scale, options
        self.needs_truth = options.kernels == "true" or depth_spec == "gt"
        self.intermediates = True
        self.pipeline = SVKRPipeline(dkenet, rrdb, depth, options, keep_rounds=keep_rounds)
        self.refiner, self.sd = None, None
        if options.refine == "diffusion" and options.backend == "own":
            self.refiner = load_default("refiner", scale, folder)
        elif options.refine == "diffusion":
            from ssr.sd_backend import SDComponents, load_adapter

            sd_dir = Path(options.backend[3:])
            self.sd = SDComponents(sd_dir, options.device)
            self.refiner = load_adapter(sd_dir)
        if self.refiner is not None and (
                self.refiner.model.code_dim != rrdb.model.code.dim
                or getattr(self.refiner.model, "code_id", None) not in (None, rrdb.model.code.fingerprint())):
            raise UnavailableError(f"the refiner {self.refiner.path} was trained on another SR network's kernel code "
                                   f"than {rrdb.path.name}'s; use the weight set it was trained with")
        #: every weight file this method runs, with its SHA-256 (shipped ones verified against the manifest)
        loaded = [d for d in (dkenet, rrdb, self.refiner) if d is not None]
        self.weights = {**{str(d.path): d.sha256 for d in loaded}, **depth.files}

    def _refine(self, lr: np.ndarray, sr: np.ndarray, codes: np.ndarray, depth: np.ndarray,
                 out_dtype: type | None) -> np.ndarray:
        """The diffusion refiner on the SVKR output (ssr.refine), tiled like SVKR, one bar tick per tile."""
        from ssr.pipeline import tile_positions
        from ssr.progress import progress_bar
        from ssr.refine import sample

        o = self.options
        image = sr.astype(np.float32) / np.iinfo(sr.dtype).max if sr.dtype.kind in "ui" else sr
        y0 = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]  # SVKR gives (sH, sW, 3)
        tiles = len(tile_positions(lr.shape[0], lr.shape[1], o.tile, o.overlap))
        lr_t = torch.from_numpy(lr.transpose(2, 0, 1).copy())[None]
        if getattr(self.refiner.model, "start", "svkr") == "bicubic":  # an ablation refiner (ssr.models.refiner)
            from ssr.models.refiner import bicubic_start

            y0 = bicubic_start(lr_t, self.scale)
        codes_t = torch.from_numpy(np.asarray(codes, np.float32))[None]
        depth_t = torch.from_numpy(np.asarray(depth, np.float32))[None, None]
        if self.sd is not None:  # a local Stable Diffusion, whole image at once (ssr.sd_backend)
            from ssr.sd_backend import sd_refine

            out = sd_refine(self.sd, self.refiner.model.eval(), y0, lr_t, codes_t, depth_t, steps=o.steps,
                            seed=o.seed, fidelity=o.fidelity)
        else:
            bar = progress_bar(o.steps * tiles, f"refine ({o.steps} steps)")
            out = sample(self.refiner.model, y0, lr_t, codes_t, depth_t, steps=o.steps, seed=o.seed,
                         fidelity=o.fidelity, tile=o.tile, overlap=o.overlap, tick=lambda: bar.update(1))
            bar.close()
        refined = out[0].numpy()
        return refined.transpose(1, 2, 0) if out_dtype is None else _quantise(refined, out_dtype).transpose(1, 2, 0)

    def _grain(self, image: np.ndarray) -> np.ndarray:
        """Seeded Gaussian grain (std options.grain / 255, the same field in every channel: film-like)."""
        rng = np.random.default_rng(self.options.seed)
        top = float(np.iinfo(image.dtype).max) if image.dtype.kind in "ui" else 1.0
        out = image.astype(np.float32) / top
        out += rng.normal(0.0, self.options.grain / 255.0, out.shape[:2]).astype(np.float32)[..., None]
        out = np.clip(out, 0, 1)
        return out if top == 1.0 else np.round(out * top).astype(image.dtype)

    def _true_codes(self, truth: dict[str, np.ndarray]) -> np.ndarray:
        kernels = truth_kernels(truth, self.pipeline.dkenet.kernel_size, self.scale)
        with torch.no_grad():
            return self.pipeline.rrdb.code(kernels)[0].numpy()

    def upscale(self, image: np.ndarray, scale: int, truth: dict | None = None, *,
                out_dtype: type | None = None) -> UpscaleResult:
        if scale != self.scale:
            raise DataError(f"{self.name} was loaded for x{self.scale}, asked for x{scale}")
        if self.needs_truth and truth is None:
            raise DataError(f"{self.name} needs a synthetic set with known kernels (not protocol real)")
        lr = to_rgb(np.asarray(image, np.float32))
        codes, fixed_depth = None, None
        if self.options.kernels == "true":
            codes = self._true_codes(truth)
        elif self.options.kernels == "prior":  # the code is centred on the prior's mean kernel: 0 everywhere
            codes = np.zeros((self.pipeline.rrdb.code.dim, *lr.shape[:2]), np.float32)
        if self.options.depth == "gt":
            if "depth" not in truth:
                raise DataError(f"{self.name} needs a set with true depth (protocol dof)")
            fixed_depth = resize_float(np.asarray(truth["depth"], np.float32), *lr.shape[:2])
        result = self.pipeline(lr, true_codes=codes, out_dtype=out_dtype, fixed_depth=fixed_depth)
        if self.refiner is not None:
            started = time.perf_counter()
            result.sr = self._refine(lr, result.sr, result.code_rounds[-1], result.depth_rounds[-1], out_dtype)
            result.seconds["refine"] = time.perf_counter() - started
        if self.options.grain > 0:
            result.sr = self._grain(result.sr)
        return UpscaleResult(result.sr, depth=result.depth_rounds[-1], kernel_codes=result.code_rounds[-1],
                             decode_kernels=self.pipeline.rrdb.code.decode, rounds=result.sr_rounds,
                             seconds=dict(result.seconds))
