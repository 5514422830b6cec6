"""The kernel-conditioned RRDB and its kernel code (PCA of the SCM's kernel prior)."""

import torch

from ssr.models.kernel_code import KernelCode, sample_prior_kernels
from ssr.models.rrdb import KernelConditionedRRDB


def test_kernel_code_is_a_pca_that_round_trips_its_own_span():
    kernels = sample_prior_kernels(3000, 21, 4, seed=0)
    code = KernelCode(21, 16)
    kept = code.fit(kernels)
    assert 0.8 < kept < 1  # 16 of 441 components keep most of the prior's variance
    torch.testing.assert_close(code.basis.T @ code.basis, torch.eye(16), rtol=0, atol=1e-5)  # orthonormal
    # a kernel field inside the code's span (mean + basis combination) survives encode -> decode exactly
    coefficients = torch.randn(16, 6) * code.scale[:, None]
    field = (code.mean[:, None] + code.basis @ coefficients).view(1, 441, 2, 3)
    torch.testing.assert_close(code.decode(code(field)), field, rtol=0, atol=1e-5)
    torch.testing.assert_close(code.decode(torch.zeros(1, 16, 1, 1))[0, :, 0, 0], code.mean, rtol=0, atol=1e-7)


def test_output_is_scale_times_larger_for_x2_and_x4():
    torch.manual_seed(0)
    for scale in (2, 4):
        net = KernelConditionedRRDB(scale=scale, channels=8, growth=4, blocks=1, code_dim=6)
        net.code.fit(sample_prior_kernels(500, 21, scale))
        kernels = torch.softmax(torch.rand(1, 441, 9, 11), 1)
        with torch.no_grad():
            assert net(torch.rand(1, 3, 9, 11), kernels).shape == (1, 3, 9 * scale, 11 * scale)
