"""The diffusion refiner's sampling loop (issue 11): SVKR output y0 -> a textured, LR-faithful SR.

The pipeline owns the loop; the schedule and the step are plain functions (ssr.diffusion), the
network is ssr.models.refiner. Sampling runs in pixel-unshuffled space at the LR grid, so it tiles
like SVKR: at EVERY step the x0 estimate is computed on overlapping LR tiles (each with `overlap`
pixels of context that are cut away, blended with linear ramps: `pipeline.run_tiled`), then the
reverse step updates the whole state at once. Noise is drawn per absolute position
(`diffusion.positional_noise`), so a tiled run equals an untiled one up to the blending of the x0
estimates, and the same seed gives a bit-identical output.

Options and their defaults: `ssr.options.SVKROptions` (refine, steps, seed, fidelity).
`fidelity` in [0, 1] scales the injected noise: 0 = the trained stochastic sampler (most texture),
1 = deterministic (the conditional mean: closest to the SVKR output's fidelity).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ssr.diffusion import DiffusionSchedule, inference_timesteps, initial_state, positional_noise, reverse_step
from ssr.errors import ConfigError
from ssr.pipeline import run_tiled


@torch.no_grad()
def sample(net, y0: torch.Tensor, lr: torch.Tensor, codes: torch.Tensor, depth: torch.Tensor, *, steps: int,
           seed: int, fidelity: float, tile: int = 0, overlap: int = 16,
           tick: Callable[[], None] = lambda: None) -> torch.Tensor:
    """(1, 3, sH, sW) refined image in [0, 1] from the SVKR output y0 and the LR, its codes and depth."""
    schedule = DiffusionSchedule(net.steps, net.kappa)
    if steps > schedule.steps:
        raise ConfigError(f"this refiner was trained with {schedule.steps} steps; --steps must be 1..{schedule.steps}")
    etas = schedule.etas().tolist()
    timesteps = inference_timesteps(schedule, steps)
    noise_scale = 1.0 - fidelity
    start = net.unshuffle(y0)
    channels, h, w = start.shape[1:]
    if depth.shape[-2:] != (h, w):
        depth = torch.nn.functional.interpolate(depth, size=(h, w), mode="bilinear", align_corners=False)
    x = initial_state(start, etas[-1], net.kappa, positional_noise(seed, 0, channels, 0, 0, h, w), noise_scale)
    conditions: dict[tuple[int, int, int, int], list[torch.Tensor]] = {}

    for i, t in enumerate(timesteps):
        t_tensor = torch.tensor([t])

        def one_tile(top: int, left: int, th: int, tw: int) -> np.ndarray:
            key = (top, left, th, tw)
            window = (slice(None), slice(None), slice(top, top + th), slice(left, left + tw))
            cond = conditions.get(key)
            if cond is None:
                cond = net.condition(lr[window], codes[window], depth[window])
                if len(conditions) < 64:  # reused by later steps; beyond that, recomputed (memory bound)
                    conditions[key] = cond
            return net(x[window], start[window], t_tensor, cond)[0].numpy()

        x0_hat = torch.from_numpy(run_tiled(np.empty((h, w, 1)), one_tile, channels, 1, tile, overlap, tick))[None]
        later = timesteps[i + 1] if i + 1 < len(timesteps) else None
        noise = positional_noise(seed, i + 1, channels, 0, 0, h, w) if later is not None else None
        x = reverse_step(x, x0_hat, etas[t], etas[later] if later is not None else None, net.kappa, noise, noise_scale)
    return net.shuffle(x).clamp(0, 1)
