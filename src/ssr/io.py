"""Image files in and out.

Inside ssr an image is a float32 array in [0, 1], shape (H, W, C) with C = 1 (grey) or 3 (RGB);
alpha is carried separately (it is not colour and must not be blurred, sharpened or noised as one).
Pillow validates every file (it notices truncation and decompression bombs) and reads 8-bit data;
OpenCV decodes 16-bit PNG/TIFF, which Pillow would silently cut to 8 bits. Writes are atomic: the
image goes to a temporary file in the target folder and is renamed into place, so an interrupted
run never leaves a half-written output, and an input file is never replaced.
"""

from __future__ import annotations

import io as _io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
from PIL import Image, UnidentifiedImageError

from ssr.arrays import FLAT_DEPTH, to_uint8
from ssr.errors import ImageReadError, ImageWriteError
from ssr.limits import DEFAULT_MAX_PIXELS
from ssr.hashing import publish, temp_beside

#: Extensions ssr reads and writes, mapped to the Pillow format name.
FORMATS: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".webp": "WEBP",
}
#: Formats that can hold 16 bits per channel (written through OpenCV).
SIXTEEN_BIT_FORMATS = {"PNG", "TIFF"}
#: Default limit on decoded pixels; larger inputs are refused instead of exhausting memory.
#: Depth maps: images (disparity-like, larger = nearer) or .npy metric depth (metres).
DEPTH_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".npy")

_PIL_MODES_OK = {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBa", "CMYK", "YCbCr", "I;16", "I;16B",
                 "I;16L", "I", "LAB", "HSV"}


@dataclass
class LoadedImage:
    """Pixels plus what is needed to write a faithful result: alpha, bit depth, source path."""

    pixels: np.ndarray  # float32 (H, W, C), C in {1, 3}, values in [0, 1]
    alpha: np.ndarray | None  # float32 (H, W) in [0, 1] or None
    bit_depth: int  # 8 or 16: precision of the source
    path: Path | None = None
    icc: bytes | None = None  # ICC colour profile, carried to outputs
    exif: bytes | None = None  # EXIF block (orientation reset to 1: the pixels are already upright)

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


def megapixels(count: int) -> str:
    """Pixel counts for messages: '12.3 MP', or the plain count when small."""
    return f"{count / 1e6:.1f} MP" if count >= 100_000 else f"{count} pixels"


def is_image_path(path: Path) -> bool:
    """True when the extension is one ssr reads (used to skip other files in folders)."""
    return path.suffix.lower() in FORMATS


def list_images(folder: Path, recursive: bool = False) -> tuple[list[Path], list[Path]]:
    """Images in `folder` (sorted) and the non-image files that were skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageReadError(f"not a folder: {folder}")
    entries = sorted(folder.rglob("*") if recursive else folder.iterdir())
    files = [p for p in entries if p.is_file() and not p.name.startswith(".")]
    return [p for p in files if is_image_path(p)], [p for p in files if not is_image_path(p)]


def _orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation tag (1..8) to an (H, W, ...) array, as ImageOps.exif_transpose does."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.swapaxes(a, 0, 1)[:, ::-1],
        7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
        8: lambda a: np.swapaxes(a, 0, 1)[::-1],
    }
    return np.ascontiguousarray(ops[orientation](array)) if orientation in ops else array


def _metadata(image: Image.Image) -> tuple[bytes | None, bytes | None]:
    """(ICC profile, EXIF bytes with the orientation reset to 1) of an opened image; None where absent."""
    icc = image.info.get("icc_profile") or None
    try:
        exif = image.getexif()
        if not len(exif):
            return icc, None
        if 0x0112 in exif:
            exif[0x0112] = 1  # ssr applies the orientation to the pixels
        return icc, exif.tobytes()
    except Exception:  # unreadable EXIF: keep the picture, drop the block
        return icc, None


def _orientation_tag(image: Image.Image, path: Path) -> int:
    """The EXIF orientation (1..8); a missing or garbage tag counts as 1, as image viewers treat it."""
    try:
        value = image.getexif().get(0x0112, 1)
    except (OSError, SyntaxError, ValueError):  # unreadable EXIF (e.g. a truncated file): decoding will tell
        return 1
    try:
        orientation = int(value)
    except (TypeError, ValueError):
        orientation = 0
    if orientation not in range(1, 9):
        warnings.warn(f"{path.name}: ignoring an invalid EXIF orientation tag")
        return 1
    return orientation


def _is_sixteen_bit(image: Image.Image) -> bool:
    if image.mode.startswith("I;16") or image.mode == "I":
        return True
    for tile in image.tile:
        args = tile.args if hasattr(tile, "args") else tile[3]
        rawmode = args[0] if isinstance(args, tuple) else args
        if isinstance(rawmode, str) and "16" in rawmode:
            return True
    return False


def _decode_sixteen_bit(data: bytes, path: Path) -> np.ndarray:
    import cv2  # local: only 16-bit files need OpenCV

    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise ImageReadError(f"{path}: cannot decode 16-bit image data")
    if array.ndim == 3:
        channels = array.shape[2]
        array = array[..., [2, 1, 0, 3][:channels]] if channels in (3, 4) else array
    return array


def _split_channels(array: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray | None]:
    array = array.astype(np.float32) / scale
    if array.ndim == 2:
        return array[..., None], None
    channels = array.shape[2]
    if channels == 1:
        return array, None
    if channels == 2:
        return array[..., :1], array[..., 1]
    if channels == 3:
        return array, None
    if channels == 4:
        return array[..., :3], array[..., 3]
    raise ImageReadError(f"unsupported channel count {channels}")


def read_image(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Read an image file into float32 [0, 1] pixels (+ separate alpha), EXIF orientation applied.

    Every failure (missing, empty, corrupt, truncated, unsupported, too large) raises ImageReadError
    with a one-line message naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, not an image file")
    if not path.is_file():
        raise ImageReadError(f"{path}: not a regular file (a pipe, socket or device is never read)")
    if path.suffix.lower() not in FORMATS:
        raise ImageReadError(
            f"{path}: unsupported file type '{path.suffix}' (supported: {', '.join(sorted(FORMATS))})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    if not data:
        raise ImageReadError(f"{path}: file is empty (0 bytes)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(_io.BytesIO(data))
            width, height = image.size
            if width == 0 or height == 0:
                raise ImageReadError(f"{path}: image has zero size ({width}x{height})")
            if width * height > max_pixels:
                raise ImageReadError(
                    f"{path}: image is too large ({width}x{height} = {megapixels(width * height)}; "
                    f"limit {megapixels(max_pixels)}, raise it with --max-pixels)")
            if image.mode not in _PIL_MODES_OK:
                raise ImageReadError(f"{path}: unsupported pixel mode '{image.mode}'")
            sixteen = _is_sixteen_bit(image)
            orientation = _orientation_tag(image, path)
            icc, exif = _metadata(image)
            image.load()
        except ImageReadError:
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise ImageReadError(f"{path}: image is too large (decompression-bomb limit)") from None
        except UnidentifiedImageError:
            raise ImageReadError(f"{path}: not a valid image file (corrupt or unknown format)") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            reason = "truncated" if "truncated" in str(exc).lower() else "corrupt"
            raise ImageReadError(f"{path}: {reason} image data ({exc})") from None

    if sixteen:
        array = _decode_sixteen_bit(data, path)
        array = _orient(array, orientation)
        pixels, alpha = _split_channels(array, 65535.0 if array.dtype == np.uint16 else 255.0)
        bit_depth = 16 if array.dtype == np.uint16 else 8
    else:
        if image.mode in ("P", "PA"):
            image = image.convert("RGBA" if ("transparency" in image.info or image.mode == "PA") else "RGB")
        elif image.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
            image = image.convert("RGB")
        elif image.mode == "1":
            image = image.convert("L")
        elif image.mode == "RGBa":
            image = image.convert("RGBA")
        pixels, alpha = _split_channels(_orient(np.asarray(image), orientation), 255.0)
        bit_depth = 8
    if not np.isfinite(pixels).all():
        raise ImageReadError(f"{path}: image contains non-finite values")
    return LoadedImage(np.ascontiguousarray(pixels), alpha, bit_depth, path, icc, exif)


def _check_creatable(target: Path, what: str) -> None:
    """The first existing ancestor of `target` must be a writable folder (missing folders are made later)."""
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ImageWriteError(f"{target}: cannot create the {what}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ImageWriteError(f"{target}: cannot write the {what}: folder {ancestor} is not writable")


def check_writable(target: Path, what: str = "output") -> None:
    """Refuse, before any work, an output FILE path that could not be written."""
    target = Path(target)
    if target.is_dir():
        raise ImageWriteError(f"{target}: is a folder, not a file name for the {what}")
    _check_creatable(target, what)


def check_output_folder(folder: Path, what: str = "output folder") -> None:
    """Refuse, before any work, an output FOLDER that could not be created or written."""
    folder = Path(folder)
    if folder.exists():
        if not folder.is_dir():
            raise ImageWriteError(f"{folder}: exists and is not a folder (the {what})")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ImageWriteError(f"{folder}: the {what} is not writable")
        return
    _check_creatable(folder, what)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def write_image(path: str | Path, pixels: np.ndarray, alpha: np.ndarray | None = None, *,
                bit_depth: int = 8, overwrite: bool = True, protected: Iterable[Path] = (),
                quality: int | None = None, icc: bytes | None = None, exif: bytes | None = None) -> Path:
    """Write float [0, 1] pixels (H, W, C) atomically; 16-bit where asked and the format allows.

    `protected` lists input files that must never be replaced, whatever `overwrite` says. `quality`
    applies to JPEG (default 95) and WebP (default lossless). `icc` and `exif` are written where the
    format holds them (PNG, JPEG, WebP, TIFF; 16-bit PNG too; not BMP or 16-bit TIFF).
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImageWriteError(f"{path}: cannot write '{path.suffix}' (use one of {', '.join(sorted(FORMATS))})")
    for source in protected:
        if _same_file(path, Path(source)):
            raise ImageWriteError(f"{path}: refusing to replace an input file")
    if path.exists() and not overwrite:
        raise ImageWriteError(f"{path}: exists (pass --overwrite to replace it)")
    if not path.parent.exists():
        raise ImageWriteError(f"{path.parent}: output folder does not exist")
    pixels = np.asarray(pixels)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if alpha is not None and fmt in ("JPEG", "BMP"):
        alpha = None  # these formats have no alpha channel; colour is kept
    if pixels.dtype in (np.uint8, np.uint16):  # already quantised (big images arrive this way): no float copy
        sixteen = pixels.dtype == np.uint16 and fmt in SIXTEEN_BIT_FORMATS
        if pixels.dtype == np.uint16 and not sixteen:
            pixels = ((pixels.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
        array = pixels
        if alpha is not None:
            top = 65535.0 if array.dtype == np.uint16 else 255.0
            quantised = np.clip(np.round(np.asarray(alpha, np.float64) * top), 0, top).astype(array.dtype)
            array = np.concatenate([array, quantised[..., None]], axis=2)
    else:
        planes = [np.clip(np.asarray(pixels, np.float32), 0, 1)]
        if alpha is not None:
            planes.append(np.clip(np.asarray(alpha, dtype=np.float32), 0, 1)[..., None])
        array = np.concatenate(planes, axis=2) if len(planes) > 1 else planes[0]
        sixteen = bit_depth == 16 and fmt in SIXTEEN_BIT_FORMATS

    try:
        tmp_name = temp_beside(path)
    except OSError as exc:
        raise ImageWriteError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        if sixteen:
            _write_sixteen_bit(Path(tmp_name), array)
            if fmt == "PNG" and (icc or exif):
                _png_add_metadata(Path(tmp_name), icc, exif)
        else:
            _write_eight_bit(Path(tmp_name), array, fmt, quality, icc, exif)
        publish(tmp_name, path, overwrite=overwrite)
    except BaseException as exc:  # includes KeyboardInterrupt from SIGINT/SIGTERM/SIGHUP: no debris
        Path(tmp_name).unlink(missing_ok=True)
        if isinstance(exc, FileExistsError):
            raise ImageWriteError(f"{path}: exists (another process wrote it meanwhile; pass --overwrite to "
                                  "replace it)") from None
        if isinstance(exc, OSError):
            raise ImageWriteError(f"{path}: cannot write ({exc.strerror or exc})") from None
        raise
    return path


def _write_eight_bit(path: Path, array: np.ndarray, fmt: str, quality: int | None, icc: bytes | None = None,
                     exif: bytes | None = None) -> None:
    data = array if array.dtype == np.uint8 else to_uint8(array)
    channels = data.shape[2]
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels]
    image = Image.fromarray(data[..., 0] if channels == 1 else data, mode=mode)
    options: dict = {}
    if fmt == "JPEG":
        options = {"quality": quality or 95}
        if mode == "LA":
            image = image.convert("L")
    elif fmt == "PNG":
        options = {"compress_level": 6}
    elif fmt == "WEBP":
        options = {"quality": quality} if quality else {"lossless": True}
    elif fmt == "BMP" and mode == "LA":
        image = image.convert("L")
    if fmt != "BMP":
        if icc:
            options["icc_profile"] = icc
        if exif:
            options["exif"] = exif
    image.save(path, format=fmt, **options)


def _png_add_metadata(path: Path, icc: bytes | None, exif: bytes | None) -> None:
    """Insert iCCP / eXIf chunks after IHDR of a PNG that another encoder (OpenCV, 16-bit) wrote."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    data = path.read_bytes()
    ihdr_end = 8 + 8 + struct.unpack(">I", data[8:12])[0] + 4
    extra = b""
    if icc:
        extra += chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(icc))
    if exif:
        extra += chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
    path.write_bytes(data[:ihdr_end] + extra + data[ihdr_end:])


def _write_sixteen_bit(path: Path, array: np.ndarray) -> None:
    import cv2

    data = array if array.dtype == np.uint16 else (
        np.clip(np.round(array.astype(np.float64) * 65535.0), 0, 65535).astype(np.uint16))
    channels = data.shape[2]
    if channels == 3:
        data = data[..., ::-1]
    elif channels == 4:
        data = data[..., [2, 1, 0, 3]]
    elif channels == 2:  # grey + alpha: OpenCV has no LA, keep alpha by writing grey as RGB
        data = np.concatenate([data[..., :1]] * 3 + [data[..., 1:]], axis=2)
    if not cv2.imwrite(str(path), np.ascontiguousarray(data)):
        raise OSError(f"OpenCV could not encode {path.suffix}")


def read_depth(path: str | Path, keep_zero: bool = False) -> np.ndarray:
    """A depth file as relative inverse depth in [0, 1], 1 = nearest.

    Image files (PNG/...) are disparity-like (larger = nearer) as in Middlebury and Lu et al.;
    `.npy` files hold metric depth in metres (larger = farther) as in NYU Depth v2 and are inverted.
    By default the map is stretched to [0, 1] (min -> 0); `keep_zero` only divides by the maximum,
    so the values stay proportional to inverse depth (what AbsRel/delta need: a stretched map has a
    shift, and its farthest pixels sit near 0, where relative errors explode).
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        try:
            depth = np.load(path).astype(np.float64)
        except (OSError, ValueError) as exc:
            raise ImageReadError(f"{path}: cannot read depth array ({exc})") from None
        if depth.ndim != 2:
            raise ImageReadError(f"{path}: depth array must be 2-D, got shape {depth.shape}")
        valid = np.isfinite(depth) & (depth > 0)
        if not valid.any():
            raise ImageReadError(f"{path}: depth array has no positive values")
        inverse = np.where(valid, 1.0 / np.where(valid, depth, 1.0), 0.0)
    else:
        loaded = read_image(path)
        inverse = loaded.pixels.mean(axis=2).astype(np.float64)
    if keep_zero:
        high = float(inverse.max())
        return (inverse / high).astype(np.float32) if high > 0 else np.zeros(inverse.shape, np.float32)
    low, high = float(inverse.min()), float(inverse.max())
    if high - low < 1e-12:
        return np.full(inverse.shape, FLAT_DEPTH, np.float32)
    return ((inverse - low) / (high - low)).astype(np.float32)
