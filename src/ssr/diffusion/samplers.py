"""ResShift's forward marginal and reverse step (x0-prediction), generalised to skipped timesteps.

For timesteps s < t with eta_s < eta_t, the posterior of the Markov chain is Gaussian:
    q(x_s | x_t, x0) = N( (eta_s/eta_t) x_t + (1 - eta_s/eta_t) x0 ,  kappa^2 (eta_s/eta_t)(eta_t - eta_s) I )
(ResShift Eq. 7 for s = t-1). The last step (to "s = -1", eta = 0) returns x0_hat itself.
`noise_scale` multiplies every injected noise: 1 = the trained stochastic sampler, 0 = deterministic.
"""

from __future__ import annotations

import math

import torch


def q_sample(x0: torch.Tensor, y0: torch.Tensor, eta_t: torch.Tensor, kappa: float, noise: torch.Tensor) -> torch.Tensor:
    """x_t ~ q(x_t | x0, y0); `eta_t` broadcastable (e.g. (B, 1, 1, 1))."""
    return x0 + eta_t * (y0 - x0) + kappa * eta_t.sqrt() * noise


def initial_state(y0: torch.Tensor, eta_T: float, kappa: float, noise: torch.Tensor, noise_scale: float = 1.0) -> torch.Tensor:
    """x_T = y0 + kappa sqrt(eta_T) noise: where sampling starts."""
    return y0 + noise_scale * kappa * math.sqrt(eta_T) * noise


def reverse_step(x_t: torch.Tensor, x0_hat: torch.Tensor, eta_t: float, eta_s: float | None, kappa: float,
                 noise: torch.Tensor | None, noise_scale: float = 1.0) -> torch.Tensor:
    """One sampler step from timestep t to the earlier s (None: the end, returns x0_hat)."""
    if eta_s is None:
        return x0_hat
    ratio = eta_s / eta_t
    mean = ratio * x_t + (1 - ratio) * x0_hat
    if noise is None or noise_scale == 0:
        return mean
    return mean + noise_scale * kappa * math.sqrt(ratio * (eta_t - eta_s)) * noise
