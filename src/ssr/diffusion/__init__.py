"""Few-step residual-shifting diffusion (ResShift, arXiv 2307.12348) as plain functions.

`schedules` gives the shifting sequence eta_t; `samplers` the forward marginal and the reverse step;
`noise` the seeded Gaussian noise fixed per absolute position (tiling never changes it). No network
lives here: the denoiser is `ssr.models.refiner`, the loop that calls it is `ssr.refine`.
"""

from ssr.diffusion.noise import positional_noise
from ssr.diffusion.samplers import initial_state, q_sample, reverse_step
from ssr.diffusion.schedules import DiffusionSchedule, inference_timesteps

__all__ = ["DiffusionSchedule", "inference_timesteps", "initial_state", "positional_noise", "q_sample",
           "reverse_step"]
