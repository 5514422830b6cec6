"""The ssr methods end to end with tiny models in a weights folder the test writes (SSR_WEIGHTS)."""

import json

import numpy as np
import pytest
import torch

from conftest import save_png, smooth_image
from ssr.bench import runner
from ssr.bench.methods import make_method
from ssr.cli import main
from ssr.errors import DataError, UnavailableError
from ssr.hashing import sha256_file
from ssr.io import read_image
from ssr.models.dkenet import DKENet
from ssr.models.kernel_code import sample_prior_kernels
from ssr.models.registry import save_model
from ssr.models.rrdb import KernelConditionedRRDB


@pytest.fixture
def tiny_weights(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    folder.mkdir()
    torch.manual_seed(0)
    rrdb = KernelConditionedRRDB(scale=4, channels=8, growth=4, blocks=1, code_dim=6)
    rrdb.code.fit(sample_prior_kernels(2000, 21, 4))
    save_model(folder / "rrdb.safetensors", "ssr.rrdb", rrdb, 4,
               {"scale": 4, "channels": 8, "growth": 4, "blocks": 1, "code_dim": 6})
    save_model(folder / "dkenet.safetensors", "ssr.dkenet", DKENet(channels=8, depth_channels=4), 4,
               {"channels": 8, "depth_channels": 4})
    files = [{"file": f"{role}.safetensors", "role": role, "scale": 4, "sha256": sha256_file(folder / f"{role}.safetensors")}
             for role in ("rrdb", "dkenet")]
    (folder / "manifest.json").write_text(json.dumps({"files": files}))
    monkeypatch.setenv("SSR_WEIGHTS", str(folder))
    return folder


def test_ssr_upscale_with_intermediates(tiny_weights, tmp_path, capsys):
    source = save_png(tmp_path / "photo.png", smooth_image(0, 30, 36))
    code = main(["--quiet", "upscale", str(source), "--method", "ssr", "--tile", "16", "--tile-overlap", "4",
                 "--save-depth", "--save-kernels"])
    assert code == 0, capsys.readouterr().err
    assert read_image(tmp_path / "photo_x4.png").pixels.shape == (120, 144, 3)
    depth = read_image(tmp_path / "photo_x4_depth.png")
    assert depth.bit_depth == 16 and depth.pixels.shape == (30, 36, 1)
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
