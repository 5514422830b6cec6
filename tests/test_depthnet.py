"""DepthNet: the builtin monocular depth network."""

import torch

from ssr.models.depthnet import DepthNet


def test_output_has_the_input_size_for_any_even_or_odd_shape():
    torch.manual_seed(0)
    net = DepthNet(widths=(4, 8, 8))
    with torch.no_grad():
        for h, w in [(32, 32), (37, 51), (20, 64)]:
            assert net(torch.rand(1, 3, h, w)).shape == (1, 1, h, w)


def test_row_coordinate_lets_the_net_tell_top_from_bottom():
    torch.manual_seed(0)
    grey = torch.full((1, 3, 32, 32), 0.5)
    plain, with_rows = DepthNet(widths=(4, 8)), DepthNet(widths=(4, 8), row_coordinate=True)
    with torch.no_grad():
        flat = plain(grey)[0, 0, 8:-8, 8:-8]  # away from the zero-padded borders
        rows = with_rows(grey)[0, 0, 8:-8, 8:-8]
    assert float(flat.std()) < 1e-6  # translation-equivariant: a flat image gives a flat map
    down, across = float(rows.std(dim=0).mean()), float(rows.std(dim=1).max())
    assert down > 1e-4 and across < 0.02 * down  # varies down the frame, (almost) not across it
