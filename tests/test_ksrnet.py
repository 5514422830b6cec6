"""KSRNet: the compact kernel-conditioned SR body; codes and explicit kernels are the same input."""

import torch

from ssr.models.ksrnet import KSRNet
from ssr.train.stages.ksr import code_prior


def test_codes_or_kernels_give_the_same_output_at_the_scale():
    torch.manual_seed(0)
    net = KSRNet(scale=4, channels=8, blocks=2, code_dim=6).eval()
    net.code.fit(code_prior(21, 4, seed=0))
    lr = torch.rand(1, 3, 9, 11)
    kernels = torch.softmax(torch.randn(1, 441, 9, 11), 1)
    with torch.no_grad():
        from_kernels = net(lr, kernels)
        from_codes = net(lr, net.code(kernels))
    assert from_kernels.shape == (1, 3, 36, 44)
    torch.testing.assert_close(from_kernels, from_codes, rtol=0, atol=1e-6)


def test_the_kernel_code_changes_the_output():
    torch.manual_seed(0)
    net = KSRNet(scale=2, channels=8, blocks=1, code_dim=4).eval()
    lr = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # away from the identity-like init
        a, b = net(lr, torch.zeros(1, 4, 8, 8)), net(lr, torch.ones(1, 4, 8, 8))
    assert a.shape == (1, 3, 16, 16) and float((a - b).abs().max()) > 1e-4
