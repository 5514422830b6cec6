"""Image I/O: formats, bit depths, alpha, EXIF orientation, atomic writes, clear errors."""

import numpy as np
import pytest
from PIL import Image, ImageOps

from util import smooth_image
from ssr.errors import ImageReadError, ImageWriteError
from ssr.io import _orient, read_image, write_image


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".webp"])
def test_lossless_eight_bit_roundtrip(tmp_path, suffix):
    image = np.round(smooth_image(0, 23, 31) * 255) / 255
    path = write_image(tmp_path / f"a{suffix}", image)
    loaded = read_image(path)
    assert loaded.bit_depth == 8 and loaded.alpha is None
    np.testing.assert_array_equal(loaded.pixels, image.astype(np.float32))


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_rgb_and_alpha_roundtrip(tmp_path, suffix):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 65536, (9, 11, 3)) / 65535
    alpha = rng.integers(0, 65536, (9, 11)) / 65535
    path = write_image(tmp_path / f"a{suffix}", pixels, alpha, bit_depth=16)
    loaded = read_image(path)
    assert loaded.bit_depth == 16
    np.testing.assert_allclose(loaded.pixels, pixels, atol=1e-7)
    np.testing.assert_allclose(loaded.alpha, alpha, atol=1e-7)


def test_sixteen_bit_grey_png_written_by_pillow(tmp_path):
    data = (np.arange(12 * 10).reshape(12, 10) * 500).astype(np.uint16)
    Image.fromarray(data).save(tmp_path / "g.png")
    loaded = read_image(tmp_path / "g.png")
    assert loaded.bit_depth == 16 and loaded.pixels.shape == (12, 10, 1)
    np.testing.assert_allclose(loaded.pixels[..., 0], data / 65535, atol=1e-7)


def test_rgba_alpha_is_kept_apart_from_colour(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = np.arange(8)[None, :] * 30
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    loaded = read_image(tmp_path / "a.png")
    assert loaded.pixels.shape == (8, 8, 3)
    np.testing.assert_allclose(loaded.pixels[..., 0], 200 / 255)
    np.testing.assert_allclose(loaded.alpha, rgba[..., 3] / 255)


def test_palette_with_transparency_and_jpeg(tmp_path):
    Image.new("P", (5, 4), 0).save(tmp_path / "p.png", transparency=0)
    assert read_image(tmp_path / "p.png").alpha is not None
    Image.fromarray((smooth_image(1, 16, 16) * 255).astype(np.uint8)).save(tmp_path / "j.jpg", quality=90)
    assert read_image(tmp_path / "j.jpg").pixels.shape == (16, 16, 3)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path, orientation):
    data = (np.arange(6 * 4 * 3).reshape(6, 4, 3) * 3).astype(np.uint8)
    image = Image.fromarray(data)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(tmp_path / "o.png", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "o.png"))) / 255
    np.testing.assert_allclose(read_image(tmp_path / "o.png").pixels, expected, atol=1e-7)
    np.testing.assert_array_equal(_orient(data, orientation), np.asarray(ImageOps.exif_transpose(
        Image.open(tmp_path / "o.png"))))


def test_bad_files_raise_one_clear_error(tmp_path):
    good = write_image(tmp_path / "good.png", smooth_image(0, 40, 40))
    cases = {
        "empty.png": (b"", "file is empty"),
        "garbage.png": (b"this is not an image at all" * 10, "not a valid image"),
        "truncated.png": (good.read_bytes()[:300], "truncated"),
    }
    for name, (payload, message) in cases.items():
        (tmp_path / name).write_bytes(payload)
        with pytest.raises(ImageReadError, match=message):
            read_image(tmp_path / name)
    (tmp_path / "anim.gif").write_bytes(b"GIF89a")
    with pytest.raises(ImageReadError, match="unsupported file type"):
        read_image(tmp_path / "anim.gif")
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ImageReadError, match="too large"):
        read_image(good, max_pixels=100)


def test_writes_are_atomic_and_never_replace_inputs(tmp_path):
    source = write_image(tmp_path / "in.png", smooth_image(0, 10, 10))
    before = source.read_bytes()
    with pytest.raises(ImageWriteError, match="input file"):
        write_image(tmp_path / "in.png", smooth_image(1, 10, 10), protected=[source])
    with pytest.raises(ImageWriteError, match="exists"):
        write_image(tmp_path / "in.png", smooth_image(1, 10, 10), overwrite=False)
    assert source.read_bytes() == before
    with pytest.raises(ImageWriteError, match="cannot write"):
        write_image(tmp_path / "x.gif", smooth_image(1, 10, 10))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]  # no temporary files left behind


def test_zero_sized_png_is_refused(tmp_path):
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)  # width 0
    (tmp_path / "zero.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    with pytest.raises(ImageReadError):
        read_image(tmp_path / "zero.png")


def test_written_files_get_normal_permissions(tmp_path):
    import os
    import stat

    path = write_image(tmp_path / "p.png", smooth_image(0, 8, 8))
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_saved_models_get_normal_permissions(tmp_path):
    import os

    from ssr.models.depthnet import DepthNet
    from ssr.models.registry import save_model

    save_model(tmp_path / "m.safetensors", "ssr.depthnet", DepthNet(widths=(4, 8)), 1, {"widths": [4, 8]})
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == 0o666 & ~mask
