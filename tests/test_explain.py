"""`ssr explain`: factors read back from photos whose true values the test sets."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from util import smooth_image
from ssr import explain as E
from ssr.cli import main


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(buffer, "JPEG", quality=quality, subsampling=2)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), np.float32) / 255


@pytest.mark.parametrize("quality", [35, 62, 88])
def test_jpeg_quality_is_read_back_exactly(quality):
    image = _jpeg(smooth_image(1, 64, 80), quality)
    assert E.jpeg_quality(image)[0] == quality


def test_an_uncompressed_image_has_no_jpeg_quality():
    assert E.jpeg_quality(smooth_image(2, 64, 80))[0] is None


def test_more_noise_reads_as_more_noise():
    rng = np.random.default_rng(0)
    clean = smooth_image(3, 96, 96)
    levels = [E.noise_level(np.clip(clean + rng.normal(0, s / 255, clean.shape), 0, 1).astype(np.float32), None)
              for s in (2, 8, 16)]
    assert levels[0] < levels[1] < levels[2]


def test_kernel_geometry_of_known_gaussians():
    import torch

    from ssr.degradation import kernels as K

    round_kernel = K.gaussian_kernels(21, 2.0, 2.0, 0.0).float()[0]
    long_kernel = K.gaussian_kernels(21, 3.0, 1.0, np.pi / 4).float()[0]
    field = torch.stack([round_kernel, long_kernel], 1).view(1, 441, 1, 2)
    width, elongation, angle = E.kernel_geometry(np.zeros((1, 1, 2), np.float32), lambda codes: field)
    np.testing.assert_allclose(width[0], [2.0, np.sqrt(5.0)], atol=0.02)
    np.testing.assert_allclose(elongation[0], [1.0, 3.0], atol=0.05)
    assert abs(angle[0, 1] - 45) < 2  # counter-clockwise from +x, as the SCM's theta


def test_cli_summary_json_and_picture(tiny_weights, tmp_path, capsys):
    path = tmp_path / "web.jpg"
    Image.fromarray(np.round(smooth_image(4, 40, 48) * 255).astype(np.uint8)).save(path, quality=70)
    assert main(["-q", "explain", str(path), "-o", str(tmp_path / "blur.png")]) == 0
    text = capsys.readouterr().out
    assert "JPEG: quality about 70" in text and "noise: about" in text and "blur (at x4 output size)" in text
    assert (tmp_path / "blur.png").is_file()
    assert main(["-q", "explain", str(path), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["jpeg_quality"] == 70 and len(facts["blur_regions"]) == 9 and facts["noise_level_255"] >= 0
    assert main(["explain", str(path), "-o", str(tmp_path / "blur.png")]) == 2  # never overwrites
