"""`ssr bench`: set caching by checksum, method runs, tables, figure, spandrel models."""

import json

import time

import numpy as np
import pytest

from util import skip_without_peers, smooth_image
from ssr.bench import runner
from ssr.bench.memory import PeakMemory
from ssr.methods import make_method
from ssr.methods.classical import bicubic, bicubic_usm, lanczos, nearest
from ssr.io import read_image


def test_bench_builds_reuses_and_reports(hr_folder, tmp_path):
    cache = tmp_path / "cache"
    result = runner.run_bench("sv", hr_folder, ["nearest", "bicubic"], 4, tmp_path / "out", cache_dir=cache,
                              with_perceptual=False)
    summary = {row["method"]: row for row in result["summary"]}
    assert summary["bicubic"]["PSNR-Y"] > summary["nearest"]["PSNR-Y"]
    assert summary["bicubic"]["time/img (s)"] > 0 and summary["nearest"]["peak mem (MiB)"] >= 0
    table = (tmp_path / "out" / "table.md").read_text()
    assert "| bicubic |" in table and "NIQE" in table and "ST-LPIPS" in table
    figure = read_image(tmp_path / "out" / "figure.png").pixels
    assert figure.shape[1] > 4 * figure.shape[0] / 3 / 2  # 4 columns (LR, 2 methods, HR), 3 rows
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(data["per_image"]) == 6
    # second run reuses the cached set; a tampered file forces a rebuild
    set_dir = result["set"]
    stamp = (set_dir / "manifest.json").stat().st_mtime_ns
    again = runner.obtain_set("sv", 4, 0, hr_folder, None, {}, cache)
    assert again == set_dir and (set_dir / "manifest.json").stat().st_mtime_ns == stamp
    (set_dir / "lr" / "img0.png").write_bytes(b"broken")
    rebuilt = runner.obtain_set("sv", 4, 0, hr_folder, None, {}, cache)
    assert read_image(rebuilt / "lr" / "img0.png").pixels.shape == (16, 18, 3)


def test_classical_methods_shapes_and_sanity():
    lr = smooth_image(0, 12, 10)
    for method in (nearest, bicubic, lanczos, bicubic_usm):
        out = method(lr, 4)
        assert out.shape == (48, 40, 3) and out.min() >= 0 and out.max() <= 1
    # bicubic of a constant is the constant; nearest replicates exactly
    np.testing.assert_allclose(bicubic(np.full((5, 5, 3), 0.25, np.float32), 2), 0.25, atol=1e-6)
    assert np.array_equal(nearest(lr, 2)[::2, ::2], lr)


def test_peak_memory_sees_a_large_allocation():
    with PeakMemory() as peak:
        block = np.ones(64 * 2**20 // 8)  # 64 MiB
        block.sum()
        time.sleep(0.2)  # held long enough for the sampler thread to see it, even on a loaded machine
        del block
    assert peak.delta_bytes > 48 * 2**20


@pytest.mark.peers
def test_spandrel_model_from_disk(tmp_path):
    try:
        import torch
        from spandrel.architectures.Compact import Compact as SRVGGNetCompact
    except Exception as exc:  # spandrel imports torchvision, which the CPU torch wheel cannot load
        skip_without_peers(f"spandrel unavailable here ({type(exc).__name__})")
    torch.manual_seed(0)
    model = SRVGGNetCompact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=2, upscale=4)
    path = tmp_path / "tiny_compact_x4.pth"
    torch.save(model.state_dict(), path)
    method = make_method(f"spandrel:{path}")
    assert method.scale == 4
    lr = smooth_image(0, 10, 12)
    out = method.upscale(lr, 4).image
    with torch.no_grad():
        expected = model(torch.from_numpy(lr.transpose(2, 0, 1))[None]).clamp(0, 1)[0].numpy().transpose(1, 2, 0)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_perceptual_columns_are_real_or_unavailable():
    from ssr.metrics.perceptual import PerceptualMetrics

    metrics = PerceptualMetrics(names=("ST-LPIPS", "MUSIQ"))
    ref = smooth_image(0, 64, 64)
    noisy = np.clip(ref + np.random.default_rng(0).normal(0, 0.1, ref.shape), 0, 1).astype(np.float32)
    scores = metrics.score(noisy, ref)
    for name in ("ST-LPIPS", "MUSIQ"):
        assert (scores[name] is None) == (name in metrics.unavailable)
    if "ST-LPIPS" not in metrics.scorers:
        assert "package missing" in metrics.unavailable["ST-LPIPS"]


@pytest.mark.peers
def test_st_lpips_from_the_shipped_weights():
    from ssr.metrics.perceptual import PerceptualMetrics

    metrics = PerceptualMetrics(names=("ST-LPIPS",))
    if "ST-LPIPS" not in metrics.scorers:
        skip_without_peers(f"ST-LPIPS unavailable ({metrics.unavailable['ST-LPIPS']})")
    ref = smooth_image(0, 64, 64)
    noisy = np.clip(ref + np.random.default_rng(0).normal(0, 0.1, ref.shape), 0, 1).astype(np.float32)
    slight = np.clip(ref + np.random.default_rng(0).normal(0, 0.02, ref.shape), 0, 1).astype(np.float32)
    assert metrics.score(ref, ref)["ST-LPIPS"] == pytest.approx(0, abs=1e-6)
    assert metrics.score(noisy, ref)["ST-LPIPS"] > metrics.score(slight, ref)["ST-LPIPS"] > 0


@pytest.mark.peers
def test_ncnn_model_written_by_the_test(tmp_path):
    try:
        import ncnn  # noqa: F401
    except ImportError:
        skip_without_peers("ncnn not installed")
    # a real ncnn model file: Input -> Interp (nearest, x2); no weights, so the .bin is empty
    (tmp_path / "nearest2.param").write_text(
        "7767517\n2 2\nInput data 0 1 data\nInterp output 1 1 data output 0=1 1=2.000000e+00 2=2.000000e+00\n")
    (tmp_path / "nearest2.bin").write_bytes(b"")
    method = make_method(f"ncnn:{tmp_path / 'nearest2.param'}")
    assert method.scale == 2 and method.name == "ncnn:nearest2"
    lr = smooth_image(0, 10, 12)
    np.testing.assert_allclose(method.upscale(lr, 2).image, nearest(lr, 2), atol=1e-6)


def test_a_fixed_scale_peer_gives_a_smaller_scale_by_reducing_its_own_output():
    """A x4 peer asked for x2 (the City100 x2 rows) = its x4 output reduced by MATLAB bicubic; x3 is refused."""
    from ssr.errors import ConfigError
    from ssr.imresize import imresize
    from ssr.methods.peers import FixedScaleModel

    model = FixedScaleModel("nearest4", 4, lambda image: nearest(image, 4))
    lr = smooth_image(0, 10, 12)
    out = model.upscale(lr, 2).image
    assert out.shape == (20, 24, 3)
    np.testing.assert_allclose(out, np.clip(imresize(nearest(lr, 4), output_shape=(20, 24)), 0, 1), atol=1e-6)
    np.testing.assert_allclose(model.upscale(lr, 4).image, nearest(lr, 4), atol=0)
    with pytest.raises(ConfigError, match="x4 model, asked for x3"):
        model.upscale(lr, 3)
