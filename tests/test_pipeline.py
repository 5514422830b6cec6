"""SVKR pipeline: rounds, momentum, intermediates, and tiled == untiled."""


import numpy as np
import pytest

from util import smooth_image
from ssr.depth.base import ConstantDepth
from ssr.errors import ConfigError
from ssr.imresize import resize_float
from ssr.models.registry import load_model
from ssr.options import SVKROptions
from ssr.pipeline import SVKRPipeline, ramp, tile_starts


class GradientDepth:
    """A deterministic stand-in estimator whose output depends on the image (mean brightness rows)."""

    name = "test"

    def __call__(self, rgb, out_shape=None):
        rows = rgb.mean(axis=(1, 2))
        plane = np.repeat(((rows - rows.min()) / (np.ptp(rows) + 1e-6))[:, None], rgb.shape[1], axis=1)
        plane = plane.astype(np.float32)
        return plane if out_shape in (None, plane.shape) else resize_float(plane, *out_shape)


@pytest.fixture
def tiny_models(tiny_weights):
    return load_model(tiny_weights / "dkenet.safetensors"), load_model(tiny_weights / "rrdb.safetensors")


def run(dkenet, rrdb, depth, lr, **options):
    return SVKRPipeline(dkenet, rrdb, depth, SVKROptions(**options))(lr)


def test_rounds_keep_every_intermediate_and_follow_the_momentum_rule(tiny_models):
    dkenet, rrdb = tiny_models
    lr = smooth_image(0, 20, 24)
    pipeline = SVKRPipeline(dkenet, rrdb, GradientDepth(), SVKROptions(rounds=3, beta=0.9, tile=0))
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
    whole = run(dkenet, rrdb, ConstantDepth(), lr, rounds=2, tile=0).sr
    tiled = run(dkenet, rrdb, ConstantDepth(), lr, rounds=2, tile=40, overlap=16).sr
    assert np.abs(whole - tiled).max() <= 1 / 255


def test_tiles_cover_and_ramps_blend():
    assert tile_starts(100, 40, 16) == [0, 24, 48, 60]
    assert tile_starts(30, 40, 16) == [0]
    weight = ramp(40, 8, at_start=False, at_end=True)
    assert weight[0] < weight[7] < weight[8] == 1 and weight[-1] == 1


def test_rounds_with_unchanged_depth_equal_one_round(tiny_models):
    dkenet, rrdb = tiny_models
    lr = smooth_image(3, 20, 24)
    three = run(dkenet, rrdb, ConstantDepth(), lr, rounds=3, tile=0)
    one = run(dkenet, rrdb, ConstantDepth(), lr, rounds=1, tile=0)
    assert np.array_equal(three.sr, one.sr) and len(three.sr_rounds) == 3


def test_bf16_precision_stays_close_to_fp32_and_bad_precision_is_refused(tiny_models):
    dkenet, rrdb = tiny_models
    lr = smooth_image(2, 24, 28)
    full = run(dkenet, rrdb, ConstantDepth(), lr, rounds=1, tile=0).sr
    half = run(dkenet, rrdb, ConstantDepth(), lr, rounds=1, tile=0, precision="bf16").sr
    assert half.dtype == np.float32 and half.shape == full.shape
    difference = np.abs(full - half)
    assert 0 < difference.max() and difference.mean() < 2 / 255  # really ran in bf16, and close
    with pytest.raises(ConfigError, match="precision"):
        SVKROptions(precision="fp8")


def test_pipeline_depth_is_asked_at_the_lr_size_only(tiny_models):
    """Depth is produced straight at the LR grid: the estimator never sees an output-size request."""
    dkenet, rrdb = tiny_models
    asked = []

    class Recording(GradientDepth):
        def __call__(self, rgb, out_shape=None):
            asked.append((rgb.shape[:2], out_shape))
            return super().__call__(rgb, out_shape)

    lr = smooth_image(4, 20, 24)
    SVKRPipeline(dkenet, rrdb, Recording(), SVKROptions(rounds=2, tile=0))(lr)
    assert asked == [((20, 24), (20, 24)), ((80, 96), (20, 24))]  # D_0 from the LR, D_1 from SR_1


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_banded_quantised_output_equals_the_float_path_quantised(tiny_models, dtype):
    """The bounded-memory path (bands quantised as they finish) gives exactly what quantising the
    full float image gives, tiled or not."""
    dkenet, rrdb = tiny_models
    lr = smooth_image(6, 61, 75)  # odd sizes: the last tile row/column overlaps more
    for tile in (0, 24):
        pipeline = SVKRPipeline(dkenet, rrdb, ConstantDepth(), SVKROptions(rounds=1, tile=tile, overlap=6))
        full = pipeline(lr).sr
        banded = pipeline(lr, out_dtype=dtype).sr
        top = np.iinfo(dtype).max
        expected = np.clip(np.round(full.astype(np.float64) * top), 0, top).astype(dtype)
        assert banded.dtype == dtype and banded.shape == expected.shape
        assert np.abs(banded.astype(np.int64) - expected.astype(np.int64)).max() <= 1  # float32 sum order
        assert (banded != expected).mean() < 1e-3
