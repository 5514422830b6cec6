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


def test_a_code_predicting_dkenet_drives_the_pipeline(tiny_weights, tmp_path):
    """code_dim > 0: DKENet's output IS the SR net's kernel code (no 441-tap head, no projection)."""
    import numpy as np

    from ssr.depth.base import ConstantDepth
    from ssr.models.registry import load_model, save_model
    from ssr.options import SVKROptions
    from ssr.pipeline import SVKRPipeline
    from util import smooth_image

    torch.manual_seed(0)
    net = DKENet(channels=8, depth_channels=4, code_dim=6)
    assert net(torch.rand(1, 3, 9, 11), torch.rand(1, 1, 9, 11)).shape == (1, 6, 9, 11)
    save_model(tmp_path / "dk.safetensors", "ssr.dkenet", net, 4, {"channels": 8, "depth_channels": 4, "code_dim": 6})
    dkenet, rrdb = load_model(tmp_path / "dk.safetensors"), load_model(tiny_weights / "rrdb.safetensors")
    pipeline = SVKRPipeline(dkenet, rrdb, ConstantDepth(), SVKROptions(tile=0))
    lr = smooth_image(1, 12, 14)
    codes = pipeline.estimate_codes(lr, np.full((12, 14), 0.5, np.float32))
    with torch.no_grad():
        expected = net(torch.from_numpy(lr.transpose(2, 0, 1).copy())[None], torch.full((1, 1, 12, 14), 0.5))[0]
    np.testing.assert_allclose(codes, expected.numpy(), atol=1e-6)
    assert pipeline(lr).sr.shape == (48, 56, 3)
