import math

import numpy as np
import pytest
import torch

from ssr.degradation import kernels as K


@pytest.mark.parametrize("offset", [(0.0, 0.0), (0.5, 0.5)])
def test_every_family_sums_to_one(offset):
    size = 21
    families = [
        K.gaussian_kernels(size, [0.6, 2.0, 5.0], [0.6, 4.0, 1.0], [0.0, 1.0, 3.0], offset=offset),
        K.gaussian_kernels(size, [1.5, 3.0], [2.0, 1.0], [0.3, 2.0], shape="generalized", beta=[0.5, 3.0], offset=offset),
        K.gaussian_kernels(size, [1.5, 3.0], [2.0, 1.0], [0.3, 2.0], shape="plateau", beta=[1.0, 2.5], offset=offset),
        K.disk_kernels(size, [0.0, 0.75, 3.2, 9.5], offset=offset),
        K.motion_kernels(size, [0.0, 5.0, 15.0], [0.0, 0.7, 2.0], offset=offset),
    ]
    for kernels in families:
        assert torch.allclose(kernels.sum(dim=1), torch.ones(kernels.shape[0], dtype=kernels.dtype), atol=1e-12)
        assert (kernels >= 0).all()


def test_isotropic_gaussian_matches_closed_form():
    size, sigma = 15, 1.7
    ax = np.arange(size) - size // 2
    xx, yy = np.meshgrid(ax, ax)
    expected = np.exp(-(xx ** 2 + yy ** 2) / (2 * sigma ** 2))
    expected /= expected.sum()
    got = K.as_images(K.gaussian_kernels(size, sigma, sigma, 0.7), size)[0]
    np.testing.assert_allclose(got, expected, atol=1e-14)


def test_sigma_is_standard_deviation_and_theta_rotates_counterclockwise():
    size, sx, sy, theta = 61, 3.0, 1.0, math.pi / 6
    k = K.as_images(K.gaussian_kernels(size, sx, sy, theta), size)[0]
    ax = np.arange(size) - size // 2
    xx, yy = np.meshgrid(ax, ax)
    cov = np.array([[np.sum(k * xx * xx), np.sum(k * xx * yy)], [np.sum(k * xx * yy), np.sum(k * yy * yy)]])
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    expected = rot @ np.diag([sx ** 2, sy ** 2]) @ rot.T
    np.testing.assert_allclose(cov, expected, atol=1e-6)


def test_offset_moves_the_centroid():
    size = 21
    k = K.as_images(K.gaussian_kernels(size, 2.0, 2.0, 0.0, offset=(0.5, 0.5)), size)[0]
    ax = np.arange(size) - size // 2
    assert abs(np.sum(k.sum(axis=0) * ax) - 0.5) < 1e-4  # truncation at 21 taps
    assert abs(np.sum(k.sum(axis=1) * ax) - 0.5) < 1e-4  # truncation at 21 taps


def test_disk_is_flat_inside_and_zero_outside():
    size, radius = 21, 5.0
    k = K.as_images(K.disk_kernels(size, radius), size)[0]
    ax = np.arange(size) - size // 2
    xx, yy = np.meshgrid(ax, ax)
    distance = np.hypot(xx, yy)
    inside = k[distance <= radius - 0.5]
    assert np.ptp(inside) == 0 and inside[0] > 0
    assert np.all(k[distance >= radius + 0.5] == 0)


def test_horizontal_motion_is_a_line():
    size = 21
    k = K.as_images(K.motion_kernels(size, 9.0, 0.0), size)[0]
    centre = size // 2
    assert np.all(np.delete(k, centre, axis=0) == 0)
    row = k[centre]
    assert np.count_nonzero(row) == 9 and np.ptp(row[row > 0]) == 0


def test_even_sizes_are_rejected():
    with pytest.raises(ValueError):
        K.gaussian_kernels(20, 1.0, 1.0, 0.0)


def test_bicubic_resize_kernel_reproduces_matlab_imresize_away_from_the_border():
    from ssr.degradation.apply import Geometry, blur_downsample, kernel_offset
    from ssr.imresize import imresize
    from util import smooth_image

    hr = smooth_image(4, 96, 88)
    kernel = K.bicubic_resize_kernel(21, 4, offset=kernel_offset(4))
    assert abs(float(kernel.sum()) - 1) < 1e-12 and float(kernel.min()) < 0  # the cubic's negative lobes

    class Constant:  # a spatially invariant field of that one kernel
        size = 21

        def weights(self, geometry: Geometry, row0: int, row1: int, dtype=torch.float64):
            return kernel.to(dtype).expand((row1 - row0) * geometry.lr_w, -1).reshape(row1 - row0, geometry.lr_w, -1)

    ours = blur_downsample(torch.from_numpy(hr.transpose(2, 0, 1)).double(), Constant(), 4).numpy().transpose(1, 2, 0)
    matlab = imresize(hr.astype(np.float64), scale=0.25)
    inner = (slice(3, -3), slice(3, -3))  # imresize mirrors the border, the SCM reflects: compare inside
    np.testing.assert_allclose(ours[inner], matlab[inner], atol=1e-10)
