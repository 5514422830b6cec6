"""Training pair cache: sv pairs as before, dof pairs with depth and explicit defocus kernels."""

import numpy as np
import torch

from util import smooth_image
from ssr.degradation.kernel_maps import covariance_to_kernels
from ssr.train.data import build_cache


def _images() -> list[np.ndarray]:
    return [smooth_image(i, 140, 150) for i in range(3)]


def _real_pair() -> tuple[np.ndarray, np.ndarray]:
    ramp = np.tile(np.linspace(0.0, 1.0, 160, dtype=np.float32)[:, None], (1, 170))
    return smooth_image(7, 160, 170), ramp


def test_cache_is_seeded_and_mixes_the_requested_share_of_dof_pairs():
    a = build_cache(_images(), 40, 4, 8, 2, seed=3, dof_fraction=0.5, real_depth=[_real_pair()])
    b = build_cache(_images(), 40, 4, 8, 2, seed=3, dof_fraction=0.5, real_depth=[_real_pair()])
    for name in ("hr", "lr", "cov", "depth", "dof_row", "dof_kernels"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    dof = int((a.dof_row >= 0).sum())
    assert 10 <= dof <= 30 and a.dof_kernels.shape == (dof, 441, 8, 8)
    assert sorted(a.dof_row[a.dof_row >= 0].tolist()) == list(range(dof))  # every stored kernel row used once


def test_sv_only_cache_feeds_flat_depth_and_kernels_from_covariances():
    cache = build_cache(_images(), 6, 4, 8, 2, seed=0)
    assert len(cache.dof_kernels) == 0 and bool((cache.dof_row == -1).all())
    batch = cache.batch(torch.arange(6))
    assert bool((batch["depth"] == 0.5).all())
    torch.testing.assert_close(batch["kernels"], covariance_to_kernels(cache.cov, 21, 4))


def test_dof_kernels_are_normalised_disks_that_grow_away_from_the_sharp_depth():
    cache = build_cache(_images(), 30, 4, 16, 2, seed=5, dof_fraction=1.0, real_depth=[_real_pair()])
    batch = cache.batch(torch.arange(30))
    kernels, depth = batch["kernels"], batch["depth"][:, 0]
    assert float(kernels.min()) >= 0
    torch.testing.assert_close(kernels.sum(1), torch.ones(30, 16, 16), rtol=0, atol=2e-3)  # float16 storage
    # Thin lens: blur radius = aperture * |depth - focus|. Per pair, the spread of each kernel (mean
    # squared tap distance) must rise with the depth distance from its sharpest pixel (rank correlation).
    ty, tx = torch.meshgrid(torch.arange(21.0) - 10, torch.arange(21.0) - 10, indexing="ij")
    spread = (kernels * (ty * ty + tx * tx).reshape(1, 441, 1, 1)).sum(1)  # (N, 16, 16)
    correlations = []
    for n in range(30):
        s, d = spread[n].flatten(), depth[n].flatten()
        if float(s.max() - s.min()) < 1.0:
            continue  # (nearly) all in focus or a flat scene: nothing to rank
        focus = d[torch.argmin(s)]
        distance = (d - focus).abs()
        rank_s, rank_d = s.argsort().argsort().float(), distance.argsort().argsort().float()
        correlations.append(float(torch.corrcoef(torch.stack([rank_s, rank_d]))[0, 1]))
    assert len(correlations) >= 10
    assert float(np.median(correlations)) > 0.7
