"""Outputs a photographer can trust and read (issue 10): metadata, sizes, names, strength, pictures."""

import io

import numpy as np
import pytest
from PIL import Image

from util import save_png, smooth_image
from ssr.cli import main
from ssr.io import read_image


def _photo_with_metadata(path, size=(24, 20)):
    """A JPEG with an ICC profile, camera EXIF and orientation 6 (rotate 90 degrees)."""
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132], exif[0x0112] = "ACME", "Model 7", "2026:11:23 10:00:00", 6
    pixels = np.round(smooth_image(7, size[1], size[0]) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, quality=95, icc_profile=icc, exif=exif)
    return icc


@pytest.mark.parametrize("ext", ["png", "jpg", "webp", "tif"])
def test_icc_and_exif_survive_and_orientation_is_reset(tmp_path, ext):
    source = tmp_path / "cam.jpg"
    icc = _photo_with_metadata(source)
    assert main(["-q", "upscale", str(source), "--method", "bicubic", "--ext", ext]) == 0
    out = Image.open(tmp_path / f"cam_x4.{ext}")
    assert out.info.get("icc_profile") == icc
    exif = out.getexif()
    assert (exif[0x010F], exif[0x0110], exif[0x0132]) == ("ACME", "Model 7", "2026:11:23 10:00:00")
    assert exif.get(0x0112, 1) == 1  # the pixels are upright now
    assert out.size == (20 * 4, 24 * 4)  # rotated by the tag, then upscaled


def test_sixteen_bit_png_keeps_icc_and_exif(tmp_path):
    source = tmp_path / "deep.jpg"
    icc = _photo_with_metadata(source)
    loaded = read_image(source)
    from ssr.io import write_image

    write_image(tmp_path / "deep16.png", loaded.pixels, bit_depth=16, icc=loaded.icc, exif=loaded.exif)
    again = read_image(tmp_path / "deep16.png")
    assert again.bit_depth == 16 and again.icc == icc
    assert Image.open(tmp_path / "deep16.png").getexif()[0x010F] == "ACME"


def test_any_output_size_names_and_formats(tmp_path, capsys):
    source = save_png(tmp_path / "p.png", smooth_image(0, 30, 40))
    assert main(["-q", "upscale", str(source), "--method", "bicubic", "--outscale", "3"]) == 0
    assert Image.open(tmp_path / "p_x3.png").size == (120, 90)
    assert main(["-q", "upscale", str(source), "--method", "bicubic", "--long-edge", "100"]) == 0
    assert Image.open(tmp_path / "p_100px.png").size == (100, 75)
    assert main(["-q", "upscale", str(source), "--method", "bicubic", "--scale", "3", "--ext", "jpg",
                 "--quality", "80", "--suffix", "_big"]) == 0
    assert Image.open(tmp_path / "p_big.jpg").size == (120, 90)
    assert main(["upscale", str(source), "--method", "bicubic", "--outscale", "2", "--long-edge", "9"]) == 2
    assert "not both" in capsys.readouterr().err


def test_one_naming_rule_mirrored_tree_and_grey_stays_grey(tmp_path, capsys):
    tree = tmp_path / "shots"
    (tree / "a").mkdir(parents=True)
    (tree / "b").mkdir()
    save_png(tree / "a" / "x.png", smooth_image(1, 12, 12))
    save_png(tree / "b" / "x.png", smooth_image(2, 12, 12)[..., :1])  # same name, another folder, grey
    assert main(["upscale", str(tree), "-r", "-o", str(tmp_path / "out"), "--method", "bicubic"]) == 0
    err = capsys.readouterr().err
    assert f"{tree / 'a' / 'x.png'} -> {tmp_path / 'out' / 'a' / 'x_x4.png'}" in err  # one line per file
    grey = read_image(tmp_path / "out" / "b" / "x_x4.png")
    assert grey.pixels.shape == (48, 48, 1)
    assert main(["-q", "upscale", str(tree / "a" / "x.png"), "--method", "bicubic"]) == 0
    assert (tree / "a" / "x_x4.png").exists()  # beside the input: the same STEM_x4 rule


def test_strength_blends_from_bicubic_to_full_restoration(tiny_weights, tmp_path):
    from ssr.methods import make_method

    lr = smooth_image(3, 20, 24)
    bicubic = make_method("bicubic").upscale(lr, 4).image
    full = make_method("ssr", tile=0).upscale(lr, 4).image
    zero = make_method("ssr", tile=0, strength=0.0).upscale(lr, 4).image
    half = make_method("ssr", tile=0, strength=0.5).upscale(lr, 4).image
    np.testing.assert_allclose(zero, bicubic, atol=1e-5)
    np.testing.assert_allclose(half, np.clip((bicubic + full) / 2, 0, 1), atol=1e-5)
    tiled = make_method("ssr", tile=16, overlap=4, strength=0.5).upscale(lr, 4).image
    assert np.abs(tiled - half).max() <= 1 / 255


def test_blur_and_depth_pictures_are_output_sized_with_a_legend(tiny_weights, tmp_path):
    source = save_png(tmp_path / "p.png", smooth_image(4, 20, 24))
    assert main(["-q", "upscale", str(source), "--save-blur", "--save-depth", "--tile", "0"]) == 0
    for kind in ("blur", "depth"):
        picture = read_image(tmp_path / f"p_x4_{kind}.png").pixels
        assert picture.shape[0] == 80 and picture.shape[1] > 96 + 16  # the photo's size + a legend bar
        legend = picture[:, 100:]
        assert legend.std() > 0.05  # a colour bar and text, not blank
    assert main(["upscale", str(source), "--method", "bicubic", "--save-blur"]) == 2


def test_colour_ramp_is_monotonic_in_brightness():
    from ssr.visualize import colormap

    values = colormap(np.linspace(0, 1, 50)[None])[0]
    luma = values @ np.array([0.299, 0.587, 0.114])
    assert np.all(np.diff(luma) > 0)
