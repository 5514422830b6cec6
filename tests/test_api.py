"""The Python API: `from ssr import Upscaler` (same kind and range out as in) and `ssr.degrade`."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from util import smooth_image
from ssr.errors import ConfigError

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def upscaler(tiny_weights):
    from ssr import Upscaler

    return Upscaler(scale=4, tile=0)


def test_numpy_kinds_and_ranges_come_back_as_they_came(upscaler):
    rgb = smooth_image(0, 12, 14)
    out = upscaler.upscale(rgb)
    assert out.dtype == np.float32 and out.shape == (48, 56, 3) and 0 <= out.min() and out.max() <= 1
    as8 = upscaler.upscale(np.round(rgb * 255).astype(np.uint8))
    assert as8.dtype == np.uint8 and as8.shape == (48, 56, 3)
    # uint8 in 0..255 is the same picture as float in 0..1: no saturation, no rescaling mistakes
    assert np.abs(as8.astype(np.float32) / 255 - out).mean() < 2 / 255
    as16 = upscaler.upscale(np.round(rgb * 65535).astype(np.uint16))
    assert as16.dtype == np.uint16 and np.abs(as16.astype(np.float32) / 65535 - out).mean() < 2 / 255
    grey = upscaler.upscale(rgb[..., 0])
    assert grey.shape == (48, 56)  # (H, W) in, (H, W) out: grey stays grey
    rgba = np.concatenate([rgb, np.full((12, 14, 1), 0.5, np.float32)], axis=2)
    out4 = upscaler.upscale(rgba)
    assert out4.shape == (48, 56, 4) and np.allclose(out4[..., 3], 0.5, atol=1e-4)


def test_pil_and_torch(upscaler):
    rgb = smooth_image(1, 10, 12)
    pil = Image.fromarray(np.round(rgb * 255).astype(np.uint8))
    out = upscaler.upscale(pil)
    assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == (48, 40)
    assert upscaler.upscale(pil.convert("L")).mode == "L"
    assert upscaler.upscale(pil.convert("RGBA")).mode == "RGBA"
    chw = torch.from_numpy(rgb.transpose(2, 0, 1).copy())
    out_t = upscaler.upscale(chw)
    assert isinstance(out_t, torch.Tensor) and out_t.shape == (3, 40, 48) and out_t.dtype == torch.float32
    assert upscaler.upscale(chw[None]).shape == (1, 3, 40, 48)
    assert upscaler.upscale((chw * 255).round().to(torch.uint8)).dtype == torch.uint8


def test_bad_inputs_are_clear_exceptions(upscaler):
    with pytest.raises(TypeError, match="expects a PIL image, a numpy array or a torch tensor, got str"):
        upscaler.upscale("photo.jpg")
    with pytest.raises(ValueError, match=r"float arrays must hold values in \[0, 1\]"):
        upscaler.upscale(np.full((8, 8, 3), 200.0, np.float32))
    with pytest.raises(TypeError, match="dtype int64"):
        upscaler.upscale(np.zeros((8, 8, 3), np.int64))
    with pytest.raises(ValueError, match=r"\(C, H, W\) or \(1, C, H, W\)"):
        upscaler.upscale(torch.zeros(2, 3, 8, 8))
    from ssr import Upscaler
    from ssr.errors import UnavailableError

    with pytest.raises(UnavailableError, match="no refiner weights for x4"):  # the tiny set has none
        Upscaler(refine="diffusion")
    with pytest.raises(ConfigError, match="--fidelity must be in"):
        Upscaler(refine="diffusion", fidelity=1.5)


def test_result_has_the_intermediates_and_a_blur_map_in_pixels(tiny_weights):
    from ssr import Upscaler

    result = Upscaler(scale=4, tile=0, rounds=3, keep_rounds=True).run(smooth_image(2, 12, 14))
    assert result.depth.shape == (12, 14) and result.kernel_codes.shape[1:] == (12, 14)
    assert result.blur_map.shape == (12, 14) and np.all(result.blur_map >= 0)
    assert len(result.rounds) == 3 and set(result.seconds) == {"depth", "kernels", "sr"}


def test_blur_map_measures_a_known_gaussian():
    """A Gaussian kernel of std s per axis decodes to a blur width of s (through an exact code)."""
    from ssr.api import blur_map
    from ssr.degradation import kernels as K
    from ssr.methods.base import UpscaleResult

    kernel = K.gaussian_kernels(21, 2.0, 2.0, 0.0).float()[0]  # centred, std 2 px on both axes
    result = UpscaleResult(np.zeros((1, 1, 3), np.float32), kernel_codes=np.ones((1, 2, 3), np.float32),
                           decode_kernels=lambda codes: kernel.view(1, -1, 1, 1).expand(1, -1, 2, 3))
    np.testing.assert_allclose(blur_map(result), 2.0, atol=0.01)


def test_degrade_api_samples_renders_and_intervenes():
    from ssr import degrade

    hr = smooth_image(3, 48, 56)
    record = degrade.sample("sv", scale=4, rng=0)
    nodes = degrade.render(record, hr)
    assert nodes.lr.shape == (12, 14, 3)
    quiet = degrade.render(degrade.intervene(record, "noise.level", 0.0), hr)
    assert np.array_equal(quiet.blurred, nodes.blurred) and not np.array_equal(quiet.lr, nodes.lr)
    assert degrade.sample("sv", 4, rng=0) == record  # seeded
    with pytest.raises(ConfigError, match="needs depth"):
        degrade.sample("dof")


def test_the_readme_python_example_runs(tiny_weights, tmp_path, monkeypatch):
    text = README.read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    Image.fromarray(np.round(smooth_image(4, 16, 20) * 255).astype(np.uint8)).save(tmp_path / "photo.jpg")
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert (tmp_path / "photo_x4.png").is_file()
    assert Image.open(tmp_path / "photo_x4.png").size == (80, 64)


def test_the_refiner_is_an_api_option_too(tmp_path, monkeypatch):
    from util import write_tiny_weights

    from ssr import Upscaler

    monkeypatch.setenv("SSR_WEIGHTS", str(write_tiny_weights(tmp_path / "w", with_refiner=True)))
    image = smooth_image(6, 14, 16)
    plain = Upscaler(tile=0).upscale(image)
    refined = Upscaler(tile=0, refine="diffusion", steps=2, seed=1, fidelity=0.2).upscale(image)
    again = Upscaler(tile=0, refine="diffusion", steps=2, seed=1, fidelity=0.2).upscale(image)
    assert refined.shape == plain.shape == (56, 64, 3)
    assert np.array_equal(refined, again) and float(np.abs(refined - plain).max()) > 0
