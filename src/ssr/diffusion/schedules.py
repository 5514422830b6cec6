"""ResShift's shifting sequence and the timesteps used for 1..T sampling steps.

ResShift diffuses from the HR image x0 toward the starting image y0 (here the SVKR output):
    q(x_t | x0, y0) = N(x0 + eta_t (y0 - x0), kappa^2 eta_t I),   0 < eta_1 < ... < eta_T ~ 1.
sqrt(eta_t) grows geometrically with a power-warped exponent (ResShift Eq. 10):
    sqrt(eta_t) = sqrt(eta_1) * b0^(beta_t),  beta_t = ((t-1)/(T-1))^p (T-1),
    b0 = exp(log(sqrt(eta_T) / sqrt(eta_1)) / (T-1)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DiffusionSchedule:
    steps: int = 4  # T, the training chain length
    kappa: float = 0.5  # noise scale (pixel values in [0, 1], unshuffled)
    eta_1: float = 0.04 ** 2  # sqrt(eta_1) = 0.04, ResShift's min noise level
    eta_T: float = 0.99
    power: float = 0.3

    def __post_init__(self) -> None:
        if self.steps < 1 or not 0 < self.eta_1 < self.eta_T <= 1 or self.kappa <= 0 or self.power <= 0:
            raise ValueError("need steps >= 1, 0 < eta_1 < eta_T <= 1, kappa > 0 and power > 0")

    def etas(self) -> torch.Tensor:
        """(T,) float64 eta_1 .. eta_T."""
        t = self.steps
        if t == 1:
            return torch.tensor([self.eta_T], dtype=torch.float64)
        b0 = math.exp(math.log(math.sqrt(self.eta_T) / math.sqrt(self.eta_1)) / (t - 1))
        beta = torch.linspace(0, 1, t, dtype=torch.float64) ** self.power * (t - 1)
        return (math.sqrt(self.eta_1) * b0 ** beta) ** 2


def inference_timesteps(schedule: DiffusionSchedule, count: int) -> list[int]:
    """0-based indices of the timesteps visited by a `count`-step sampler, from T-1 down (always ends at 0)."""
    if not 1 <= count <= schedule.steps:
        raise ValueError(f"steps must be in 1..{schedule.steps}, got {count}")
    if count == 1:
        return [schedule.steps - 1]
    chosen = torch.linspace(schedule.steps - 1, 0, count).round().long().tolist()
    return sorted(set(chosen), reverse=True)
