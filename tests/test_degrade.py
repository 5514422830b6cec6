"""`ssr degrade`: bit-identical reruns, manifests, depth handling, the real protocol."""

import json

import numpy as np
import pytest
from PIL import Image

from util import save_png, smooth_image
from ssr.cli import main
from ssr.sets import build_set
from ssr.errors import ConfigError, DataError
from ssr.hashing import sha256_file


def run(args):
    return main(["--quiet", *map(str, args)])


def test_same_seed_gives_bit_identical_sets(hr_folder, tmp_path):
    assert run(["degrade", "--protocol", "sv", "--scale", "4", "--seed", "0", hr_folder, tmp_path / "a"]) == 0
    assert run(["degrade", "--protocol", "sv", "--scale", "4", "--seed", "0", hr_folder, tmp_path / "b"]) == 0
    a = json.loads((tmp_path / "a" / "manifest.json").read_text())
    b = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert a == b
    for entry in a["images"]:
        for kind, rel in entry["files"].items():
            assert sha256_file(tmp_path / "a" / rel) == sha256_file(tmp_path / "b" / rel) == entry["sha256"][kind]
    run(["degrade", "--protocol", "sv", "--scale", "4", "--seed", "1", hr_folder, tmp_path / "c"])
    c = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert [e["sha256"]["lr"] for e in c["images"]] != [e["sha256"]["lr"] for e in a["images"]]


def test_outputs_have_the_documented_layout(hr_folder, tmp_path):
    manifest = build_set("sv", 2, 0, hr_folder, tmp_path / "o")
    entry = manifest["images"][0]
    meta = np.load(tmp_path / "o" / entry["files"]["meta"])
    record = json.loads(str(meta["record"]))
    assert record == entry["record"] and record["scale"] == 2
    assert meta["c_xx"].shape == (32, 36)  # one kernel description per LR pixel of img0 (64x72)
    assert manifest["settings"]["sigma_max"] == 2.5


def test_dof_needs_depth_and_uses_it(hr_folder, tmp_path):
    with pytest.raises(DataError, match="needs depth"):
        build_set("dof", 4, 0, hr_folder, tmp_path / "x")
    depth_dir = tmp_path / "depth"
    depth_dir.mkdir()
    for path in sorted(hr_folder.iterdir()):
        h, w = np.asarray(Image.open(path)).shape[:2]
        save_png(depth_dir / f"{path.stem}.png", np.tile(np.linspace(0, 1, w), (h, 1))[..., None])
    manifest = build_set("dof", 4, 0, hr_folder, tmp_path / "dof", depth_dir=depth_dir)
    entry = manifest["images"][0]
    assert entry["record"]["kernel"]["family"] == "defocus"
    meta = np.load(tmp_path / "dof" / entry["files"]["meta"])
    assert meta["depth"].shape == (64, 72) and meta["radius"].shape == (16, 18)
    # radius follows the thin-lens rule from the recorded focus and aperture
    k = entry["record"]["kernel"]
    expected = np.clip(k["aperture"] * np.abs(meta["depth"][1::4, 1::4] - k["focus"]), 0, 9.5)
    np.testing.assert_allclose(meta["radius"], expected, atol=1e-5)


def test_real_protocol_box_reduces_the_low_image(tmp_path):
    folder = tmp_path / "pairs"
    folder.mkdir()
    high, low = smooth_image(0, 42, 50), smooth_image(1, 42, 50)
    save_png(folder / "001H.png", high)
    save_png(folder / "001L.png", low)
    manifest = build_set("real", 2, 0, folder, tmp_path / "out")
    lr = np.asarray(Image.open(tmp_path / "out" / "lr" / "001.png")) / 255
    low8 = np.round(low * 255) / 255
    expected = low8.reshape(21, 2, 25, 2, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(lr, expected, atol=0.5 / 255 + 1e-9)
    assert manifest["images"][0]["record"] is None


def test_unknown_protocol_setting_is_an_error(hr_folder, tmp_path):
    with pytest.raises(ConfigError, match="unknown protocol setting 'sigma_mx'"):
        build_set("sv", 4, 0, hr_folder, tmp_path / "o", overrides={"sigma_mx": "3"})


def test_refuses_to_write_into_a_non_empty_folder(hr_folder, tmp_path, capsys):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "keep.txt").write_text("mine")
    assert run(["degrade", "--protocol", "sv", hr_folder, tmp_path / "o"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "o" / "keep.txt").read_text() == "mine"


def test_a_bad_image_leaves_no_partial_set(hr_folder, tmp_path, capsys):
    (hr_folder / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert run(["degrade", "--protocol", "sv", hr_folder, tmp_path / "out"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "zz_broken.png" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hr"]  # no out/, no hidden staging folder


def test_dof_with_a_depth_estimator_instead_of_files(hr_folder, tmp_path):
    import torch

    from ssr.models.depthnet import DepthNet
    from ssr.models.registry import save_model

    torch.manual_seed(0)
    save_model(tmp_path / "d.safetensors", "ssr.depthnet", DepthNet(widths=(4, 8)), 1, {"widths": [4, 8]})
    manifest = build_set("dof", 4, 0, hr_folder, tmp_path / "o", depth_estimator=f"builtin:{tmp_path / 'd.safetensors'}")
    meta = np.load(tmp_path / "o" / manifest["images"][0]["files"]["meta"])
    assert meta["depth"].shape == (64, 72) and 0 <= meta["depth"].min() and meta["depth"].max() <= 1


def test_set_folders_get_normal_permissions(hr_folder, tmp_path):
    import os

    build_set("sv", 4, 0, hr_folder, tmp_path / "perm")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "perm").stat().st_mode & 0o777 == 0o777 & ~mask
