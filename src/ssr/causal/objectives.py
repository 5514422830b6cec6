"""CausalSR's training objectives as plain functions of tensors (the stage decides which are on).

Rows of a counterfactual batch come in groups (one HR crop each, `group[i]`); row order inside a
group is factual first. Every function here is differentiable where a loss needs it and has no
state, so each can be tested against a hand-computed case.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def charbonnier_per_row(sr: torch.Tensor, hr: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """(N,) mean Charbonnier distance of each row (the reconstruction term, kept per row for adaptivity)."""
    return torch.sqrt((sr - hr) ** 2 + eps * eps).flatten(1).mean(1)


def group_mean(values: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """Each row replaced by the mean of its group's rows (any trailing shape)."""
    count = int(group.max()) + 1
    sums = torch.zeros((count, *values.shape[1:]), dtype=values.dtype, device=values.device)
    sums.index_add_(0, group, values)
    sizes = torch.bincount(group, minlength=count).to(values.dtype).view(-1, *([1] * (values.dim() - 1)))
    return (sums / sizes)[group]


def sibling_consistency(sr: torch.Tensor, group: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Counterfactual consistency: siblings share one HR, so their outputs should agree.

    Each output is pulled toward its group's mean output, held fixed (stop-gradient) so the term
    cannot be lowered by moving the mean toward the worst-informed sibling. 0 when all agree.
    """
    target = group_mean(sr, group).detach()
    return torch.sqrt((sr - target) ** 2 + eps * eps).mean() - eps


def cell_tokens(features: torch.Tensor, cells: int) -> torch.Tensor:
    """(N, C, h, w) -> (N, cells*cells, C): features averaged over a cells x cells grid of regions."""
    pooled = F.adaptive_avg_pool2d(features, cells)
    return pooled.flatten(2).transpose(1, 2)


def multi_positive_info_nce(embeddings: torch.Tensor, identity: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE with several positives (SupCon form): rows with equal `identity` are positives.

    L = mean over anchors a of  -1/|P(a)| sum_{p in P(a)} log( exp(s_ap/t) / sum_{k != a} exp(s_ak/t) ),
    s = cosine similarity. Anchors without a positive are skipped; returns 0 when none has one.
    """
    z = F.normalize(embeddings, dim=1)
    logits = z @ z.T / temperature
    self_mask = torch.eye(len(z), dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    positive = (identity[:, None] == identity[None, :]) & ~self_mask
    counts = positive.sum(1)
    has = counts > 0
    if not bool(has.any()):
        return embeddings.sum() * 0.0
    per_anchor = -(log_prob.masked_fill(~positive, 0.0).sum(1)[has] / counts[has])
    return per_anchor.mean()


class ContentProjection(nn.Module):
    """SimCLR-style projection head for one depth of the content path (discarded after training)."""

    def __init__(self, channels: int, out: int = 32, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.net(tokens)


def hierarchical_contrast(stream: list[torch.Tensor], projections: nn.ModuleDict, group: torch.Tensor,
                          cells: int, temperature: float) -> torch.Tensor:
    """Mean over the chosen depths of the region-level InfoNCE on projected content features.

    A token is one region (cell) of one row; positives = the same region of the same crop in the
    other siblings (same content, different intervention); negatives = every other region and crop.
    `projections` maps depth (as a string) -> its head; `stream[d]` is the residual stream at depth d.
    """
    terms = []
    for depth, head in projections.items():
        tokens = cell_tokens(stream[int(depth)], cells)  # (N, R, C)
        n, r, c = tokens.shape
        identity = (group[:, None] * r + torch.arange(r, device=tokens.device)[None]).reshape(-1)
        terms.append(multi_positive_info_nce(head(tokens.reshape(n * r, c)), identity, temperature))
    return torch.stack(terms).mean()


class DegradationHead(nn.Module):
    """From the head features (depth 0) to the record's factors: what a degradation embedding must know."""

    def __init__(self, channels: int, outputs: int, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, outputs))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features.mean(dim=(2, 3)))
