"""The fast chunked blur+downsample against independent references."""

import numpy as np
import pytest
import torch
from scipy.ndimage import correlate

from util import smooth_image
from ssr.degradation.apply import Geometry, blur_downsample
from ssr.degradation.field import DefocusField, GridField, random_gaussian_field


def direct_reference(hr: np.ndarray, field, scale: int) -> np.ndarray:
    """Per-pixel loop: explicit reflect indexing, the field's kernel for each kept pixel."""
    c, h, w = hr.shape
    g = Geometry.for_hr(h, w, scale, field.size)
    weights = field.weights(g, 0, g.lr_h).numpy().reshape(g.lr_h, g.lr_w, field.size, field.size)
    half = field.size // 2

    def reflect(i, n):
        while i < 0 or i >= n:
            i = -i if i < 0 else 2 * (n - 1) - i
        return i

    out = np.zeros((c, g.lr_h, g.lr_w))
    for i in range(g.lr_h):
        for j in range(g.lr_w):
            cy, cx = scale * i + g.anchor, scale * j + g.anchor
            rows = [reflect(cy + dy, g.lr_h * scale) for dy in range(-half, half + 1)]
            cols = [reflect(cx + dx, g.lr_w * scale) for dx in range(-half, half + 1)]
            patch = hr[:, rows][:, :, cols]
            out[:, i, j] = np.einsum("cyx,yx->c", patch, weights[i, j])
    return out


@pytest.mark.parametrize("scale", [2, 4])
def test_grid_field_matches_direct_reference(scale):
    rng = np.random.default_rng(1)
    hr = smooth_image(3, 44, 52).transpose(2, 0, 1).astype(np.float64)
    field = random_gaussian_field(rng, (3, 3), 21, (0.6, 5.0))
    fast = blur_downsample(torch.from_numpy(hr), field, scale, chunk_elements=20_000).numpy()  # many chunks
    np.testing.assert_allclose(fast, direct_reference(hr, field, scale), atol=1e-5)


def test_defocus_field_with_occlusion_matches_direct_reference():
    hr = smooth_image(4, 40, 48).transpose(2, 0, 1).astype(np.float64)
    depth = np.zeros((40, 48))
    depth[:, 20:] = 0.9  # near half on the right, far half on the left
    field = DefocusField(depth, focus=0.9, aperture=10.0, size=21)
    fast = blur_downsample(torch.from_numpy(hr), field, 4, chunk_elements=30_000).numpy()
    np.testing.assert_allclose(fast, direct_reference(hr, field, 4), atol=1e-5)


def test_occlusion_keeps_a_sharp_foreground_out_of_the_blurred_background():
    hr = np.zeros((1, 64, 64))
    hr[:, :, 32:] = 1.0  # bright, in-focus, NEAR right half
    depth = np.zeros((64, 64))
    depth[:, 32:] = 1.0
    with_occlusion = DefocusField(depth, focus=1.0, aperture=8.0, size=21, occlusion=True)
    without = DefocusField(depth, focus=1.0, aperture=8.0, size=21, occlusion=False)
    lr_occ = blur_downsample(torch.from_numpy(hr), with_occlusion, 4).numpy()[0]
    lr_raw = blur_downsample(torch.from_numpy(hr), without, 4).numpy()[0]
    # the far, defocused left half next to the edge: bright foreground light leaks in only without occlusion
    assert lr_occ[:, 6].max() < 1e-12
    assert lr_raw[:, 6].max() > 0.05


def test_constant_field_equals_scipy_correlate_then_subsample():
    """A 1x1 grid is spatially invariant: blur (scipy, mirror borders) then keep pixels a::s."""
    scale = 3  # odd scale: no half-pixel offset
    hr = smooth_image(5, 45, 39).transpose(2, 0, 1).astype(np.float64)
    field = GridField("gaussian", 15, {"sigma_x": [[2.5]], "sigma_y": [[1.0]], "theta": [[0.4]]})
    g = Geometry.for_hr(45, 39, scale, 15)
    kernel = field.weights(g, 0, 1).numpy()[0, 0].reshape(15, 15)
    blurred = np.stack([correlate(ch, kernel, mode="mirror") for ch in hr])
    expected = blurred[:, g.anchor::scale, g.anchor::scale][:, :g.lr_h, :g.lr_w]
    fast = blur_downsample(torch.from_numpy(hr), field, scale).numpy()
    np.testing.assert_allclose(fast, expected, atol=1e-10)


def test_near_delta_kernel_at_scale_one_is_identity():
    hr = smooth_image(6, 30, 30).transpose(2, 0, 1).astype(np.float64)
    field = GridField("gaussian", 5, {"sigma_x": [[0.05]], "sigma_y": [[0.05]], "theta": [[0.0]]})
    out = blur_downsample(torch.from_numpy(hr), field, 1).numpy()
    np.testing.assert_allclose(out, hr, atol=1e-12)
