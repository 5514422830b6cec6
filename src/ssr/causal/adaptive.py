"""Adaptive, bounded interventions: strengths drawn toward where the current model does worst.

Each factor's values are split into `levels` strength levels (ordered by severity). For every
(factor, level) the stage keeps a running score of how badly the model restores siblings made with
it: the model's reconstruction loss divided by the loss of plain bilinear upsampling of the same LR
(a ratio, so a level is not preferred merely because it is harder for everyone). Levels are drawn
with probability

    p(level) = (1 - floor) * softmax(score / temperature) + floor / levels

Bounds, both tested (tests/test_causal_objectives.py):
* every level keeps at least `floor / levels` and at most `1 - floor + floor / levels` of the draws,
  so the curriculum cannot collapse onto one strength;
* what an intervention may do to the input is capped where siblings are rendered (the sibling's LR
  must stay within `min_lr_psnr` dB of the factual LR, `SiblingSampler`); rejected siblings are
  never drawn, and the share of draws that found an accepted sibling is logged (`acceptance`).
"""

from __future__ import annotations

import numpy as np


class AdaptiveLevels:
    def __init__(self, factors: tuple[str, ...], levels: dict[str, int], temperature: float = 0.05,
                 floor: float = 0.25, momentum: float = 0.05, adaptive: bool = True) -> None:
        if not 0 < floor <= 1 or temperature <= 0 or not 0 < momentum <= 1:
            raise ValueError("need 0 < floor <= 1, temperature > 0 and 0 < momentum <= 1")
        self.factors, self.levels = factors, levels
        self.temperature, self.floor, self.momentum, self.adaptive = temperature, floor, momentum, adaptive
        self.score = {f: np.ones(levels[f]) for f in factors}
        self.seen = {f: np.zeros(levels[f], dtype=bool) for f in factors}

    def probabilities(self, factor: str) -> np.ndarray:
        count = self.levels[factor]
        if not self.adaptive:
            return np.full(count, 1.0 / count)
        logits = self.score[factor] / self.temperature
        soft = np.exp(logits - logits.max())
        return (1 - self.floor) * soft / soft.sum() + self.floor / count

    def choose(self, rng: np.random.Generator, factor: str, allowed: np.ndarray | None = None) -> int | None:
        """A level of `factor` (None if no level is allowed); `allowed` masks levels without an accepted sibling."""
        p = self.probabilities(factor)
        if allowed is not None:
            p = p * allowed
            if p.sum() <= 0:
                return None
        return int(rng.choice(len(p), p=p / p.sum()))

    def update(self, factor: str, level: int, ratio: float) -> None:
        """Fold one observed loss ratio (model / bilinear) into the level's running score."""
        scores, seen = self.score[factor], self.seen[factor]
        scores[level] = ratio if not seen[level] else (1 - self.momentum) * scores[level] + self.momentum * ratio
        seen[level] = True

    def state(self) -> dict[str, list[float]]:
        return {f: self.probabilities(f).round(3).tolist() for f in self.factors}
