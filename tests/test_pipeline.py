"""SVKR pipeline: rounds, momentum, intermediates, and tiled == untiled."""


import numpy as np
import pytest
import torch

from conftest import smooth_image
from ssr.depth.base import ConstantDepth
from ssr.models.dkenet import DKENet
from ssr.models.kernel_code import sample_prior_kernels
from ssr.models.registry import load_model, save_model
from ssr.models.rrdb import KernelConditionedRRDB
from ssr.pipeline import SVKRPipeline, ramp, tile_starts


class GradientDepth:
    """A deterministic stand-in estimator whose output depends on the image (mean brightness rows)."""

    name = "test"

    def __call__(self, rgb):
        rows = rgb.mean(axis=(1, 2))
        return np.repeat(((rows - rows.min()) / (np.ptp(rows) + 1e-6))[:, None], rgb.shape[1], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    rrdb = KernelConditionedRRDB(scale=4, channels=8, growth=4, blocks=1, code_dim=6)
    rrdb.code.fit(sample_prior_kernels(2000, 21, 4))
    dkenet = DKENet(channels=8, depth_channels=4)
    save_model(folder / "rrdb.safetensors", "ssr.rrdb", rrdb, 4,
               {"scale": 4, "channels": 8, "growth": 4, "blocks": 1, "code_dim": 6})
    save_model(folder / "dkenet.safetensors", "ssr.dkenet", dkenet, 4, {"channels": 8, "depth_channels": 4})
    return load_model(folder / "dkenet.safetensors"), load_model(folder / "rrdb.safetensors")


def test_rounds_keep_every_intermediate_and_follow_the_momentum_rule(tiny_models):
    dkenet, rrdb = tiny_models
    lr = smooth_image(0, 20, 24)
    pipeline = SVKRPipeline(dkenet, rrdb, GradientDepth(), rounds=3, beta=0.9, tile=0)
    result = pipeline(lr)
    assert len(result.sr_rounds) == len(result.depth_rounds) == len(result.code_rounds) == 3
    assert result.sr.shape == (80, 96, 3) and np.array_equal(result.sr, result.sr_rounds[-1])
    # K_2 = 0.9 K_1 + 0.1 K̂_2 with K̂_2 = DKENet(LR, D_1)
    estimate_2 = pipeline.estimate_codes(lr, result.depth_rounds[1])
    np.testing.assert_allclose(result.code_rounds[1], 0.9 * result.code_rounds[0] + 0.1 * estimate_2, atol=1e-5)
    assert not np.allclose(result.depth_rounds[0], result.depth_rounds[1])  # depth re-estimated from SR


def test_tiled_equals_untiled_within_one_grey_level(tiny_models):
    dkenet, rrdb = tiny_models
    lr = smooth_image(1, 70, 90)
    whole = SVKRPipeline(dkenet, rrdb, ConstantDepth(), rounds=2, tile=0)(lr).sr
    tiled = SVKRPipeline(dkenet, rrdb, ConstantDepth(), rounds=2, tile=40, overlap=16)(lr).sr
    assert np.abs(whole - tiled).max() <= 1 / 255


def test_tiles_cover_and_ramps_blend():
    assert tile_starts(100, 40, 16) == [0, 24, 48, 60]
    assert tile_starts(30, 40, 16) == [0]
    weight = ramp(40, 8, at_start=False, at_end=True)
    assert weight[0] < weight[7] < weight[8] == 1 and weight[-1] == 1


def test_rounds_with_unchanged_depth_equal_one_round(tiny_models):
    dkenet, rrdb = tiny_models
    lr = smooth_image(3, 20, 24)
    three = SVKRPipeline(dkenet, rrdb, ConstantDepth(), rounds=3, tile=0)(lr)
    one = SVKRPipeline(dkenet, rrdb, ConstantDepth(), rounds=1, tile=0)(lr)
    assert np.array_equal(three.sr, one.sr) and len(three.sr_rounds) == 3


def test_bf16_precision_stays_close_to_fp32_and_bad_precision_is_refused(tiny_models):
    from ssr.errors import ConfigError

    dkenet, rrdb = tiny_models
    lr = smooth_image(2, 24, 28)
    full = SVKRPipeline(dkenet, rrdb, ConstantDepth(), rounds=1, tile=0)(lr).sr
    half = SVKRPipeline(dkenet, rrdb, ConstantDepth(), rounds=1, tile=0, precision="bf16")(lr).sr
    assert half.dtype == np.float32 and half.shape == full.shape
    difference = np.abs(full - half)
    assert 0 < difference.max() and difference.mean() < 2 / 255  # really ran in bf16, and close
    with pytest.raises(ConfigError, match="precision"):
        SVKRPipeline(dkenet, rrdb, ConstantDepth(), precision="fp8")
