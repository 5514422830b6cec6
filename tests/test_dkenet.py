"""DKENet: one normalised kernel per LR pixel, conditioned on depth."""

import torch

from ssr.models.dkenet import DKENet


def test_every_pixel_gets_a_kernel_that_sums_to_one():
    torch.manual_seed(0)
    net = DKENet(channels=8, depth_channels=4)
    with torch.no_grad():
        kernels = net(torch.rand(2, 3, 14, 18), torch.rand(2, 1, 14, 18))
    assert kernels.shape == (2, 21 * 21, 14, 18) and float(kernels.min()) >= 0
    torch.testing.assert_close(kernels.sum(1), torch.ones(2, 14, 18), rtol=0, atol=1e-5)


def test_depth_is_an_input_that_changes_the_estimate():
    torch.manual_seed(0)
    net = DKENet(channels=8, depth_channels=4)
    lr = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        flat = net(lr, torch.full((1, 1, 16, 16), 0.5))
        ramp = net(lr, torch.linspace(0, 1, 16).view(1, 1, 16, 1).expand(1, 1, 16, 16))
    assert float((flat - ramp).abs().max()) > 1e-6
