"""`ssr upscale`: resolve inputs and outputs, run a method on each file, write results safely.

Inputs may be files, folders (optionally recursive) or glob patterns. Naming, one rule everywhere:
`STEM{suffix}.{ext}` (suffix default `_x{scale}`), beside each input by default, or inside `-o DIR`
(with `-r`, the input folder's tree is mirrored under DIR); `-o FILE` names the output of a single
input. Every output path is checked before any work starts (an existing file needs --overwrite; an
input is never replaced). Alpha is upscaled separately with bicubic; grey stays grey; 16-bit sources
give 16-bit outputs where the format allows; the ICC profile and EXIF (orientation reset, since the
pixels are upright) are carried over. `--outscale`/`--long-edge` resize the model-scale result with
MATLAB bicubic to any size. A file that fails is reported in one line and the rest go on.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssr.errors import DataError, ImageWriteError, SsrError
from ssr.hashing import sweep_stale_temps
from ssr.io import FORMATS, SIXTEEN_BIT_FORMATS, check_writable, is_image_path, list_images, megapixels, read_image, write_image
from ssr.limits import DEFAULT_MAX_OUTPUT_PIXELS, DEFAULT_MAX_PIXELS
from ssr.methods import Method
from ssr.methods.classical import bicubic
from ssr.progress import progress, say

EXTENSIONS = {"png": ".png", "jpg": ".jpg", "webp": ".webp", "tif": ".tif"}


@dataclass(frozen=True)
class OutputOptions:
    """How results are named, sized and written (every default written once, here)."""

    ext: str = "png"  # png | jpg | webp | tif | auto (= the input's own format when ssr writes it)
    quality: int | None = None  # JPEG (default 95) / WebP (default lossless) quality
    suffix: str | None = None  # None = "_x{scale}" (or "_x{outscale}")
    outscale: float | None = None  # final size = input size * outscale (SR at the model scale, then resize)
    long_edge: int | None = None  # final longer side in pixels (instead of outscale)
    overwrite: bool = False
    save_depth: bool = False
    save_kernels: bool = False
    save_blur: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_output_pixels: int = DEFAULT_MAX_OUTPUT_PIXELS

    def __post_init__(self) -> None:
        if self.ext not in (*EXTENSIONS, "auto"):
            raise DataError(f"--ext must be one of {', '.join((*EXTENSIONS, 'auto'))}, got '{self.ext}'")
        if self.quality is not None and not 1 <= self.quality <= 100:
            raise DataError(f"--quality must be in 1..100, got {self.quality}")
        if self.outscale is not None and not 0 < self.outscale <= 16:
            raise DataError(f"--outscale must be in (0, 16], got {self.outscale}")
        if self.long_edge is not None and self.long_edge < 1:
            raise DataError(f"--long-edge must be >= 1, got {self.long_edge}")
        if self.outscale is not None and self.long_edge is not None:
            raise DataError("give --outscale or --long-edge, not both")
        if self.suffix is not None and ("/" in self.suffix or "\\" in self.suffix):
            raise DataError(f"--suffix must not contain a path separator, got '{self.suffix}'")

    @property
    def extras(self) -> list[str]:
        return [k for k, on in (("depth", self.save_depth), ("depth16", self.save_depth),
                                ("kernels", self.save_kernels), ("blur", self.save_blur)) if on]


@dataclass
class Job:
    source: Path
    target: Path


def expand_inputs(inputs: list[str], recursive: bool) -> list[tuple[Path, Path | None]]:
    """(file, the folder it was found under or None) for every input image."""
    files: list[tuple[Path, Path | None]] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            images, skipped = list_images(path, recursive)
            for other in skipped:
                say(f"warning: skipping non-image file {other}")
            files += [(image, path) for image in images]
        elif path.exists():
            if not path.is_file():
                raise DataError(f"{text}: not a regular file (a pipe, socket or device is never read)")
            files.append((path, None))
        elif any(ch in text for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=recursive) if Path(p).is_file())
            if not matches:
                raise DataError(f"no files match '{text}'")
            for other in (m for m in matches if not is_image_path(m)):
                say(f"warning: skipping non-image file {other}")
            files += [(m, None) for m in matches if is_image_path(m)]
        else:
            raise DataError(f"{text}: no such file or folder")
    if not files:
        raise DataError("no input images")
    return files


def _scale_label(scale: int, options: OutputOptions) -> str:
    if options.long_edge is not None:
        return f"_{options.long_edge}px"
    if options.outscale is not None:
        return f"_x{options.outscale:g}"
    return f"_x{scale}"


def _extension(source: Path, options: OutputOptions) -> str:
    if options.ext == "auto":
        suffix = source.suffix.lower()
        return ".tif" if suffix == ".tiff" else (".jpg" if suffix == ".jpeg" else
                                                  suffix if suffix in EXTENSIONS.values() else ".png")
    return EXTENSIONS[options.ext]


def plan(files: list[tuple[Path, Path | None]], output: str | None, scale: int, options: OutputOptions) -> list[Job]:
    """Decide every output path up front and refuse conflicts before any pixel is computed."""
    out = Path(output) if output else None
    if out is not None and out.suffix and not out.is_dir() and out.suffix.lower() not in FORMATS:
        raise ImageWriteError(f"-o {out}: '{out.suffix}' is not an image type ssr writes "
                              f"({', '.join(sorted(FORMATS))}); for a folder, drop the extension or create it first")
    single_file_out = out is not None and out.suffix.lower() in FORMATS and not out.is_dir()
    if single_file_out and len(files) > 1:
        raise DataError(f"-o {out} names one file but there are {len(files)} inputs; give a folder")
    suffix = options.suffix if options.suffix is not None else _scale_label(scale, options)
    jobs = []
    for source, root in files:
        name = f"{source.stem}{suffix}{_extension(source, options)}"
        if single_file_out:
            target = out
        elif out is not None:
            relative = source.parent.relative_to(root) if root is not None else Path()
            target = out / relative / name  # -r: the input tree mirrored under -o
        else:
            target = source.with_name(name)
        jobs.append(Job(source, target))
    targets = [job.target.resolve() for job in jobs]
    if len(set(targets)) != len(targets):
        raise DataError("two inputs would write the same output name; use separate folders or --suffix")
    sources = {f.resolve() for f, _ in files}
    for job in jobs:
        for target in [job.target] + [extra_path(job.target, kind) for kind in options.extras]:
            if target.resolve() in sources:
                raise ImageWriteError(f"{target}: refusing to replace an input file")
            if target.exists() and not options.overwrite:
                raise ImageWriteError(f"{target}: exists (pass --overwrite to replace it)")
            check_writable(target)
    return jobs


def extra_path(target: Path, kind: str) -> Path:
    """Where --save-depth / --save-kernels / --save-blur put their picture: beside the output, PNG."""
    return target.with_name(f"{target.stem}_{kind}.png")


def final_size(height: int, width: int, scale: int, options: OutputOptions) -> tuple[int, int]:
    if options.long_edge is not None:
        factor = options.long_edge / max(height, width)
    elif options.outscale is not None:
        factor = options.outscale
    else:
        return height * scale, width * scale
    return max(1, round(height * factor)), max(1, round(width * factor))


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from ssr.imresize import imresize

    return np.clip(imresize(image, output_shape=size), 0, 1).astype(np.float32)


def upscale_file(job: Job, method: Method, scale: int, options: OutputOptions, protected: set[Path]) -> None:
    loaded = read_image(job.source, max_pixels=options.max_pixels)
    size = final_size(loaded.height, loaded.width, scale, options)
    biggest = max(loaded.height * scale * loaded.width * scale, size[0] * size[1])
    if biggest > options.max_output_pixels:
        raise DataError(f"{job.source}: output would be {size[1]}x{size[0]} = {megapixels(size[0] * size[1])} "
                        f"(limit {megapixels(options.max_output_pixels)}; raise it with --max-output-pixels)")
    sixteen = loaded.bit_depth == 16 and FORMATS[job.target.suffix.lower()] in SIXTEEN_BIT_FORMATS
    dtype = np.uint16 if sixteen else np.uint8
    # quantised straight from the pipeline (band by band): no full-size float image at any size
    result = method.upscale(loaded.pixels, scale, out_dtype=dtype)
    sr = result.image
    if loaded.pixels.shape[2] == 1 and sr.shape[2] == 3:  # grey stays grey
        sr = np.round(sr.mean(axis=2, keepdims=True, dtype=np.float32)).astype(dtype)
    alpha = bicubic(loaded.alpha[..., None], scale)[..., 0] if loaded.alpha is not None else None
    if sr.shape[:2] != size:
        sr = _resize(sr.astype(np.float32) / np.iinfo(dtype).max, size)
        alpha = _resize(alpha[..., None], size)[..., 0] if alpha is not None else None
    job.target.parent.mkdir(parents=True, exist_ok=True)
    common = {"overwrite": options.overwrite, "protected": protected}
    write_image(job.target, sr, alpha, bit_depth=loaded.bit_depth, quality=options.quality, icc=loaded.icc,
                exif=loaded.exif, **common)
    if options.save_depth or options.save_blur:
        from ssr import visualize

        photo = sr.astype(np.float32) / np.iinfo(sr.dtype).max if sr.dtype.kind == "u" else sr
        photo = photo if photo.shape[2] == 3 else np.repeat(photo, 3, axis=2)
        if options.save_depth:
            write_image(extra_path(job.target, "depth"), visualize.depth_picture(result.depth, photo), **common)
            write_image(extra_path(job.target, "depth16"), result.depth[..., None], bit_depth=16, **common)
        if options.save_blur:
            from ssr.api import blur_map

            # widths in OUTPUT pixels: the kernels are in HR pixels of the model scale
            widths = blur_map(result) * (size[0] / (loaded.height * scale))
            write_image(extra_path(job.target, "blur"), visualize.blur_picture(widths, photo), **common)
    if options.save_kernels:
        from ssr.visualize import kernel_mosaic

        mosaic = kernel_mosaic(result.kernel_codes, result.decode_kernels)
        write_image(extra_path(job.target, "kernels"), mosaic, **common)


def parse_shard(text: str | None) -> tuple[int, int]:
    """'K/N' -> (K, N) with 1 <= K <= N; None -> (1, 1)."""
    if text is None:
        return 1, 1
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise DataError(f"--shard expects K/N (e.g. 3/8), got '{text}'") from None
    if not 1 <= k <= n:
        raise DataError(f"--shard {text}: need 1 <= K <= N")
    return k, n


def is_done(target: Path) -> bool:
    """An output that exists and decodes is finished work (outputs are published atomically)."""
    try:
        read_image(target)
        return True
    except SsrError:
        return False


def run_upscale(inputs: list[str], output: str | None, method: Method, scale: int, *, recursive: bool,
                options: OutputOptions = OutputOptions(), shard: str | None = None, skip_existing: bool = False,
                ray: dict | None = None) -> tuple[int, list[str]]:
    """Returns (number written, one-line error per failed file).

    `shard` 'K/N' keeps every N-th input starting at the K-th of the sorted list (Slurm arrays and
    the like: N jobs together cover every file once); `skip_existing` counts outputs that exist and
    decode as done, so a crashed run continues where it stopped. `ray` = {"workers", "threads",
    "method", "options"} runs the planned jobs on Ray instead of this process (ssr.batch).
    """
    if (options.save_depth or options.save_kernels or options.save_blur) and not method.intermediates:
        raise DataError(f"--save-depth/--save-kernels/--save-blur need an ssr method, not {method.name}")
    k, n = parse_shard(shard)
    files = sorted(expand_inputs(inputs, recursive))[k - 1::n]
    if not files:
        raise DataError(f"--shard {shard}: this shard has no input")
    if skip_existing:
        from dataclasses import replace

        planned = plan(files, output, scale, replace(options, overwrite=True))
        done = {job.source for job in planned if is_done(job.target)}
        if done:
            say(f"skipping {len(done)} finished output(s)")
        files = [f for f in files if f[0] not in done]
        if not files:
            return 0, []
    jobs = plan(files, output, scale, options)
    protected = {f.resolve() for f, _ in files}
    for folder in sorted({job.target.parent for job in jobs}):
        for stale in sweep_stale_temps(folder):
            say(f"removed a stale temporary file {stale} (older than a run can last)")
    if ray:
        if options.extras:
            raise DataError("--save-depth/--save-kernels/--save-blur are not available with --ray")
        from ssr.batch import run_on_ray

        return run_on_ray(jobs, ray["method"], scale, ray["options"], workers=ray["workers"],
                          threads=ray["threads"], output=options, protected=protected)
    failures, written = [], 0
    try:
        for job in progress(jobs, "files"):
            try:
                upscale_file(job, method, scale, options, protected)
                written += 1
                say(f"{job.source} -> {job.target}")
            except SsrError as exc:
                failures.append(str(exc))
    except KeyboardInterrupt as exc:  # the CLI prints it: "ssr: interrupted (3 of 10 file(s) finished)"
        exc.progress = f"{written} of {len(jobs)} file(s) finished"
        raise
    return written, failures
