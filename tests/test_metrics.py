"""Metrics against hand-computed values, scikit-image and the published MATLAB NIQE value."""

import importlib
import math

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from util import smooth_image
from ssr.imresize import imresize
from ssr.io import read_image
from ssr.metrics import depth_errors, kernel_errors, niqe, psnr_rgb, psnr_y, rgb_to_y, ssim_rgb, ssim_y

niqe_module = importlib.import_module("ssr.metrics.niqe")


def test_psnr_hand_computed():
    ref = np.full((20, 20, 3), 0.5)
    img = ref + 10 / 255  # every channel off by 10 grey levels
    assert psnr_rgb(img, ref) == pytest.approx(10 * math.log10(255 ** 2 / 10 ** 2), abs=1e-10)
    # Y moves by 10 * (65.481 + 128.553 + 24.966) / 255 = 10 * 219 / 255
    dy = 10 * 219 / 255
    assert psnr_y(img, ref) == pytest.approx(10 * math.log10(255 ** 2 / dy ** 2), abs=1e-10)
    assert psnr_y(ref, ref) == math.inf


def test_crop_border_ignores_the_frame():
    ref = smooth_image(1, 32, 32)
    img = ref.copy()
    img[:4] = 0
    img[:, -4:] = 1
    assert psnr_y(img, ref, crop_border=4) == math.inf
    assert psnr_y(img, ref, crop_border=3) < 40


def test_y_formula_matches_matlab_rgb2ycbcr():
    # MATLAB rgb2ycbcr(uint8([255 255 255])) -> Y = 235; black -> 16; pure red -> 81.481
    colours = np.array([[[255, 255, 255], [0, 0, 0], [255, 0, 0]]], np.float64)
    np.testing.assert_allclose(rgb_to_y(colours)[0, :, 0], [235.0, 16.0, 81.481], atol=1e-9)


def test_ssim_matches_scikit_image_gaussian_setting():
    ref = smooth_image(2, 60, 70)
    rng = np.random.default_rng(0)
    img = np.clip(ref + rng.normal(0, 0.05, ref.shape), 0, 1)
    y_img, y_ref = rgb_to_y(img * 255)[..., 0], rgb_to_y(ref * 255)[..., 0]
    expected = structural_similarity(y_img, y_ref, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                     data_range=255)
    assert ssim_y(img, ref) == pytest.approx(expected, abs=1e-9)
    expected_rgb = np.mean([structural_similarity(img[..., c] * 255, ref[..., c] * 255, gaussian_weights=True,
                                                  sigma=1.5, use_sample_covariance=False, data_range=255)
                            for c in range(3)])
    assert ssim_rgb(img, ref) == pytest.approx(expected_rgb, abs=1e-9)
    assert ssim_y(ref, ref) == pytest.approx(1.0)


def test_imresize_reproduces_linear_ramps_and_constants():
    ramp = np.tile(np.arange(16, dtype=np.float64), (16, 1))
    up = imresize(ramp, scale=4)
    # MATLAB maps output x (1-based) to input u = x/4 + 0.5 (1 - 1/4); cubic reproduces lines inside
    x = np.arange(1, 65)
    u = x / 4 + 0.375 - 1  # 0-based input coordinate
    interior = slice(12, 52)
    np.testing.assert_allclose(up[0, interior], u[interior], atol=1e-12)
    np.testing.assert_allclose(imresize(np.full((20, 30), 0.3), scale=0.5), 0.3, atol=1e-12)
    assert imresize(np.zeros((21, 30, 3)), scale=0.5).shape == (11, 15, 3)


def test_niqe_reproduces_published_matlab_value(shared_data):
    # MATLAB R2021a niqe on baboon.png = 5.72957338 (BasicSR documentation); ssr is float64
    baboon = read_image(shared_data / "val" / "Set14" / "baboon.png").pixels
    if niqe_module.niqe_params_path() is None:
        pytest.skip("niqe_pris_params.npz not found")
    assert niqe(baboon) == pytest.approx(5.72957338, abs=1e-3)


def test_niqe_is_unavailable_without_parameters(monkeypatch, tmp_path):
    monkeypatch.delenv("SSR_NIQE_PARAMS", raising=False)
    monkeypatch.setattr(niqe_module, "data_root", lambda: None)
    monkeypatch.setattr(niqe_module, "CACHE_DIR", tmp_path)
    assert niqe(smooth_image(0, 200, 200)) is None


def test_kernel_errors_hand_computed():
    true = np.zeros((2, 3, 3))
    true[:, 1, 1] = 1
    est = np.full((2, 3, 3), 1 / 9)
    mse = ((1 - 1 / 9) ** 2 + 8 * (1 / 9) ** 2) / 9
    result = kernel_errors(est, true)
    assert result["kernel_mse"] == pytest.approx(mse)
    assert result["kernel_psnr"] == pytest.approx(10 * math.log10(1 / mse))
    assert kernel_errors(true, true)["kernel_psnr"] == math.inf


def test_depth_errors_are_scale_and_shift_invariant():
    gt = np.random.default_rng(0).uniform(0.1, 1.0, (30, 40))
    perfect = depth_errors(3.0 * gt - 0.7, gt)
    assert perfect["abs_rel"] == pytest.approx(0, abs=1e-10) and perfect["delta1"] == 1.0
    assert perfect["scale"] == pytest.approx(1 / 3)
    # hand cases: a constant prediction aligns to the mean of gt
    result = depth_errors(np.array([5.0, 5.0]), np.array([1.0, 2.0]))  # aligned 1.5
    assert result["abs_rel"] == pytest.approx((0.5 / 1 + 0.5 / 2) / 2)
    assert result["delta1"] == 0.0  # ratios 1.5 and 1.33 are both >= 1.25
    result = depth_errors(np.array([5.0, 5.0]), np.array([1.0, 1.2]))  # aligned 1.1
    assert result["abs_rel"] == pytest.approx((0.1 / 1 + 0.1 / 1.2) / 2)
    assert result["delta1"] == 1.0
