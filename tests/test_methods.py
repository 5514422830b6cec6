"""ssr.methods, the one door to an upscaler: options, presets, results, and the SVKR method end to end
with tiny models in a weights folder the test writes (SSR_WEIGHTS)."""

import numpy as np
import pytest

from util import save_png, smooth_image
from ssr.bench import runner
from ssr.cli import main
from ssr.errors import ConfigError, DataError, UnavailableError
from ssr.io import read_image
from ssr.methods import PRESETS, make_method, svkr_options
from ssr.options import SVKROptions


def test_ssr_upscale_with_intermediates(tiny_weights, tmp_path, capsys):
    source = save_png(tmp_path / "photo.png", smooth_image(0, 30, 36))
    code = main(["--quiet", "upscale", str(source), "--method", "ssr", "--tile", "16", "--tile-overlap", "4",
                 "--save-depth", "--save-kernels"])
    assert code == 0, capsys.readouterr().err
    assert read_image(tmp_path / "photo_x4.png").pixels.shape == (120, 144, 3)
    depth = read_image(tmp_path / "photo_x4_depth16.png")  # for machines: 16-bit grey at LR size
    assert depth.bit_depth == 16 and depth.pixels.shape == (30, 36, 1)
    picture = read_image(tmp_path / "photo_x4_depth.png")  # for people: colour, output size + legend
    assert picture.pixels.shape[0] == 120 and picture.pixels.shape[1] > 144 and picture.pixels.shape[2] == 3
    kernels = read_image(tmp_path / "photo_x4_kernels.png").pixels
    assert kernels.shape[0] == kernels.shape[1] > 21  # a mosaic of 21x21 kernels
    assert main(["--quiet", "upscale", str(source), "--method", "bicubic", "--save-depth", "-o",
                 str(tmp_path / "b.png")]) == 2
    assert "need an ssr method" in capsys.readouterr().err


def test_altered_weights_are_refused(tiny_weights):
    path = tiny_weights / "rrdb.safetensors"
    path.write_bytes(path.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(UnavailableError, match="checksum mismatch"):
        make_method("ssr")


def test_bench_runs_the_ablations_including_the_oracle(tiny_weights, hr_folder, tmp_path):
    result = runner.run_bench("sv", hr_folder, ["bicubic", "ssr", "ssr-t1", "ssr-nodepth", "ssr-oracle"], 4,
                              tmp_path / "out", cache_dir=tmp_path / "cache", with_perceptual=False)
    names = [row["method"] for row in result["summary"]]
    assert names == ["bicubic", "ssr", "ssr-t1", "ssr-nodepth", "ssr-oracle"]
    assert all(np.isfinite(row["PSNR-Y"]) for row in result["summary"])
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    save_png(pairs / "001H.png", smooth_image(0, 40, 40))
    save_png(pairs / "001L.png", smooth_image(1, 40, 40))
    with pytest.raises(DataError, match="synthetic set"):
        runner.run_bench("real", pairs, ["ssr-oracle"], 4, tmp_path / "out2", cache_dir=tmp_path / "cache",
                         with_perceptual=False)


def test_each_default_is_written_once_and_presets_only_fix_their_field():
    defaults = SVKROptions()
    assert (defaults.rounds, defaults.tile, defaults.overlap, defaults.beta) == (1, 96, 16, 0.9)
    for name, fixed in PRESETS.items():
        options = svkr_options(name)
        changed = {k for k in vars(defaults) if getattr(options, k) != getattr(defaults, k)}
        assert changed == {k for k, v in fixed.items() if v != getattr(defaults, k)}, name


@pytest.mark.parametrize("options, message", [
    ({"rounds": 0}, "--rounds must be >= 1"),
    ({"tile": 20, "overlap": 16}, "larger than twice"),
    ({"overlap": -5}, "--tile-overlap must be >= 0"),
    ({"device": "tpu"}, "--device"),
    ({"precision": "fp8"}, "--precision"),
])
def test_bad_options_fail_when_made(options, message):
    with pytest.raises(ConfigError, match=message):
        SVKROptions(**options)


def test_options_that_do_not_apply_are_errors_not_ignored(tiny_weights):
    with pytest.raises(ConfigError, match="--rounds, --depth do not apply to method 'bicubic'"):
        make_method("bicubic", rounds=7, depth="hf:/nonexistent")
    with pytest.raises(ConfigError, match="ssr-t3' fixes --rounds"):
        make_method("ssr-t3", rounds=2)
    assert make_method("ssr-t3", rounds=3).pipeline.rounds == 3  # agreeing with the preset is fine
    assert make_method("bicubic", rounds=None).name == "bicubic"  # None = not given


def test_cli_refuses_svkr_flags_for_other_methods(tmp_path, capsys):
    source = save_png(tmp_path / "a.png", smooth_image(0, 16, 16))
    assert main(["upscale", str(source), "--method", "bicubic", "--depth", "hf:/nonexistent", "--rounds", "7"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ssr: --rounds, --depth do not apply") and not (tmp_path / "a_x4.png").exists()
    assert main(["upscale", str(source), "--rounds", "0"]) == 2
    assert capsys.readouterr().err.strip() == (
        "ssr: upscale: argument --rounds: must be >= 1, got 0 (see `ssr upscale --help`)")


def test_result_carries_the_intermediates(tiny_weights):
    lr = smooth_image(5, 20, 24)
    result = make_method("ssr", tile=0, rounds=3, keep_rounds=True).upscale(lr, 4)
    assert result.image.shape == (80, 96, 3) and result.image.dtype == np.float32
    assert result.depth.shape == (20, 24) and result.kernel_codes.shape == (6, 20, 24)
    assert len(result.rounds) == 3 and np.array_equal(result.rounds[-1], result.image)
    assert set(result.seconds) == {"depth", "kernels", "sr"} and all(v >= 0 for v in result.seconds.values())
    assert make_method("bicubic").upscale(lr, 4).depth is None


def test_upscale_path_does_not_import_the_trainer(tiny_weights):
    import subprocess
    import sys

    code = ("import sys, numpy as np; from ssr.methods import make_method; "
            "make_method('ssr', tile=0).upscale(np.zeros((8, 8, 3), np.float32), 4); "
            "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('ssr.') and m.count('.') >= 1}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "train" not in out and "bench" not in out and "sets" not in out, out


def test_modality_ablations_nokernel_and_gtdepth(tiny_weights, hr_folder, tmp_path):
    from ssr.sets import build_set

    depth_dir = tmp_path / "depth"
    depth_dir.mkdir()
    for i, (h, w) in enumerate([(64, 72), (58, 66), (80, 80)]):
        save_png(depth_dir / f"img{i}.png", np.tile(np.linspace(0, 1, w, dtype=np.float32), (h, 1))[..., None])
    result = runner.run_bench("dof", hr_folder, ["ssr", "ssr-nokernel", "ssr-gtdepth"], 4, tmp_path / "out",
                              depth_dir=depth_dir, cache_dir=tmp_path / "cache", with_perceptual=False)
    psnr = {row["method"]: row["PSNR-Y"] for row in result["summary"]}
    assert len(set(psnr.values())) == 3  # three different inputs to the SR network, three results
    lr = smooth_image(2, 16, 18)
    # prior-mean kernels: the code is 0 everywhere, whatever the image
    assert not make_method("ssr-nokernel").upscale(lr, 4, {"depth": np.zeros((64, 72))}).kernel_codes.any()
    with pytest.raises(DataError, match="true depth"):
        make_method("ssr-gtdepth").upscale(lr, 4, {"c_xx": np.zeros((16, 18))})


def test_precision_auto_picks_bf16_only_where_native(monkeypatch):
    import ssr.options as options

    assert options.resolve_precision("fp32") == "fp32" and options.resolve_precision("bf16") == "bf16"
    monkeypatch.setattr(options, "native_bf16", lambda device="cpu": False)
    assert options.resolve_precision("auto") == "fp32"
    monkeypatch.setattr(options, "native_bf16", lambda device="cpu": True)
    assert options.resolve_precision("auto") == "bf16"
