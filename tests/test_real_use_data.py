"""Real-use training pairs: seeded, fresh per seed, and the resize kind is exactly MATLAB's downscale."""

import numpy as np
import pytest
import torch

from util import smooth_image
from ssr.degradation import protocols as P
from ssr.imresize import imresize
from ssr.models.kernel_code import KernelCode
from ssr.train.real_use_data import KINDS, build_coded_cache, render_resize_pair, resize_code
from ssr.train.stages.ksr import code_prior


def _code() -> KernelCode:
    code = KernelCode(21, 8)
    code.fit(code_prior(21, 4, seed=0))
    return code


def _cache(seed: int, mix: dict, count: int = 12):
    images = [smooth_image(i, 120, 130) for i in range(3)]
    settings = P.ProtocolSettings.for_scale(4).with_overrides({"grid": "2", "sigma_min": "0.2", "jpeg_min": "30"})
    return build_coded_cache(images, [], count, 4, 8, seed, _code(), mix, settings, second_order=0.5)


def test_same_seed_same_pairs_new_seed_new_pairs():
    mix = {"sv": 0.5, "resize": 0.5}
    a, b, c = _cache(1, mix), _cache(1, mix), _cache(2, mix)
    assert torch.equal(a.lr, b.lr) and torch.equal(a.codes, b.codes) and torch.equal(a.hr, b.hr)
    assert not torch.equal(a.lr, c.lr)
    assert a.lr.shape == (12, 3, 8, 8) and a.hr.shape == (12, 3, 32, 32) and a.codes.shape == (12, 8, 8, 8)
    assert set(a.kind.tolist()) <= {KINDS.index("sv"), KINDS.index("resize")}


def test_resize_pairs_are_matlab_downscales_with_the_bicubic_code():
    image = smooth_image(5, 120, 130)
    rng = np.random.default_rng(3)
    exact = 0
    for _ in range(8):
        hr, lr = render_resize_pair(image, rng, 4, 8)
        clean = np.clip(imresize(hr.astype(np.float64), scale=0.25), 0, 1)
        inner = np.abs(lr[2:-2, 2:-2] - clean[2:-2, 2:-2])  # the crop's margin was cut after the resize
        # half of the pairs are the downscale itself up to 8-bit rounding, the others add light noise + JPEG
        exact += inner.max() <= 0.5 / 255 + 1e-6
    assert 2 <= exact <= 6  # (JPEG's 4:2:0 chroma moves the saturated test colours far: no bound on those)
    cache = _cache(4, {"resize": 1.0}, count=4)
    expected = resize_code(_code(), 4).half()
    assert torch.equal(cache.codes[:, :, 3, 5], expected.expand(4, -1))


def _mean_luma_depth(lr: np.ndarray) -> np.ndarray:
    """A stand-in depth estimator with a value we can recompute: each pixel's mean over the channels."""
    return lr.mean(axis=2).astype(np.float16)


def test_estimated_depth_share_replaces_depth_by_the_estimate_and_zero_changes_nothing():
    images = [smooth_image(i, 120, 130) for i in range(3)]
    settings = P.ProtocolSettings.for_scale(4).with_overrides({"grid": "2", "sigma_min": "0.2", "jpeg_min": "30"})
    mix = {"sv": 0.5, "resize": 0.5}

    def cache(share, estimator=None):
        return build_coded_cache(images, [], 10, 4, 8, 3, _code(), mix, settings, 0.5, share, estimator)

    plain, zero = _cache(3, mix, count=10), cache(0.0, _mean_luma_depth)
    assert torch.equal(plain.lr, zero.lr) and torch.equal(plain.depth, zero.depth)  # share 0: bit-identical
    every = cache(1.0, _mean_luma_depth)
    lr = every.lr.float() / 255
    # the estimator saw the quantised LR the network gets: depth = its channel mean, pair by pair
    assert torch.allclose(every.depth[:, 0].float(), lr.mean(1).half().float(), atol=1e-3)
    assert not torch.equal(every.depth, plain.depth)
    half = cache(0.5, _mean_luma_depth)
    replaced = [not torch.equal(half.depth[i], plain.depth[i]) for i in range(10)]
    assert 1 <= sum(replaced) <= 9
    with pytest.raises(ValueError, match="needs a depth_estimator"):
        cache(0.5)
