"""`ssr upscale`: resolve inputs and outputs, run a method on each file, write results safely.

Inputs may be files, folders (optionally recursive) or glob patterns. Outputs: `-o FILE` for one
input, `-o FOLDER` for many, or NAME_x{scale}.png beside each input by default. Every output path is
checked before any work starts (an existing file needs --overwrite; an input is never replaced).
Alpha is upscaled separately with bicubic and re-attached; 16-bit sources give 16-bit outputs where
the format allows. A file that fails is reported in one line and the rest go on; the exit code says.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssr.errors import DataError, ImageWriteError, SsrError
from ssr.limits import DEFAULT_MAX_OUTPUT_PIXELS
from ssr.hashing import sweep_stale_temps
from ssr.io import FORMATS, check_writable, is_image_path, list_images, megapixels, read_image, write_image
from ssr.methods import Method
from ssr.methods.classical import bicubic
from ssr.progress import progress, say


@dataclass
class Job:
    source: Path
    target: Path


def expand_inputs(inputs: list[str], recursive: bool) -> list[Path]:
    files: list[Path] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            images, skipped = list_images(path, recursive)
            for other in skipped:
                say(f"warning: skipping non-image file {other}")
            files += images
        elif path.exists():
            if not path.is_file():
                raise DataError(f"{text}: not a regular file (a pipe, socket or device is never read)")
            files.append(path)
        elif any(ch in text for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=recursive) if Path(p).is_file())
            if not matches:
                raise DataError(f"no files match '{text}'")
            for other in (m for m in matches if not is_image_path(m)):
                say(f"warning: skipping non-image file {other}")
            files += [m for m in matches if is_image_path(m)]
        else:
            raise DataError(f"{text}: no such file or folder")
    if not files:
        raise DataError("no input images")
    return files


def plan(files: list[Path], output: str | None, scale: int, overwrite: bool,
         extras: list[str] | None = None) -> list[Job]:
    """Decide every output path up front and refuse conflicts before any pixel is computed."""
    out = Path(output) if output else None
    if out is not None and out.suffix and not out.is_dir() and out.suffix.lower() not in FORMATS:
        raise ImageWriteError(f"-o {out}: '{out.suffix}' is not an image type ssr writes "
                              f"({', '.join(sorted(FORMATS))}); for a folder, drop the extension or create it first")
    single_file_out = out is not None and out.suffix.lower() in FORMATS and not out.is_dir()
    if single_file_out and len(files) > 1:
        raise DataError(f"-o {out} names one file but there are {len(files)} inputs; give a folder")
    jobs = []
    for source in files:
        if single_file_out:
            target = out
        elif out is not None:
            target = out / f"{source.stem}.png"
        else:
            target = source.with_name(f"{source.stem}_x{scale}.png")
        jobs.append(Job(source, target))
    targets = [job.target.resolve() for job in jobs]
    if len(set(targets)) != len(targets):
        raise DataError("two inputs would write the same output name; use separate folders")
    sources = {f.resolve() for f in files}
    for job in jobs:
        for target in [job.target] + [extra_path(job.target, kind) for kind in extras or []]:
            if target.resolve() in sources:
                raise ImageWriteError(f"{target}: refusing to replace an input file")
            if target.exists() and not overwrite:
                raise ImageWriteError(f"{target}: exists (pass --overwrite to replace it)")
            check_writable(target)
    return jobs


def extra_path(target: Path, kind: str) -> Path:
    """Where --save-depth / --save-kernels put their picture: beside the output, PNG."""
    return target.with_name(f"{target.stem}_{kind}.png")


def upscale_file(job: Job, method: Method, scale: int, overwrite: bool, max_pixels: int,
                 protected: set[Path], max_output_pixels: int = DEFAULT_MAX_OUTPUT_PIXELS,
                 save_depth: bool = False, save_kernels: bool = False) -> None:
    loaded = read_image(job.source, max_pixels=max_pixels)
    out_h, out_w = loaded.height * scale, loaded.width * scale
    if out_h * out_w > max_output_pixels:
        raise DataError(f"{job.source}: output would be {out_w}x{out_h} = {megapixels(out_h * out_w)} "
                        f"(limit {megapixels(max_output_pixels)}; raise it with --max-output-pixels)")
    result = method.upscale(loaded.pixels, scale)
    sr = result.image
    alpha = None
    if loaded.alpha is not None:
        alpha = bicubic(loaded.alpha[..., None], scale)[..., 0]
    job.target.parent.mkdir(parents=True, exist_ok=True)
    write_image(job.target, np.clip(sr, 0, 1), alpha, bit_depth=loaded.bit_depth, overwrite=overwrite,
                protected=protected)
    if save_depth:
        write_image(extra_path(job.target, "depth"), result.depth[..., None], bit_depth=16,
                    overwrite=overwrite, protected=protected)
    if save_kernels:
        from ssr.visualize import kernel_mosaic

        mosaic = kernel_mosaic(result.kernel_codes, result.decode_kernels)
        write_image(extra_path(job.target, "kernels"), mosaic, overwrite=overwrite, protected=protected)


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
                overwrite: bool, max_pixels: int, max_output_pixels: int = DEFAULT_MAX_OUTPUT_PIXELS,
                save_depth: bool = False, save_kernels: bool = False, shard: str | None = None,
                skip_existing: bool = False, ray: dict | None = None) -> tuple[int, list[str]]:
    """Returns (number written, one-line error per failed file).

    `shard` 'K/N' keeps every N-th input starting at the K-th of the sorted list (Slurm arrays and
    the like: N jobs together cover every file once); `skip_existing` counts outputs that exist and
    decode as done, so a crashed run continues where it stopped.
    """
    if (save_depth or save_kernels) and not method.intermediates:
        raise DataError(f"--save-depth/--save-kernels need an ssr method, not {method.name}")
    k, n = parse_shard(shard)
    files = sorted(expand_inputs(inputs, recursive))[k - 1::n]
    if not files:
        raise DataError(f"--shard {shard}: this shard has no input")
    if skip_existing:
        planned = plan(files, output, scale, overwrite=True)
        done = {job.source for job in planned if is_done(job.target)}
        if done:
            say(f"skipping {len(done)} finished output(s)")
        files = [f for f in files if f not in done]
        if not files:
            return 0, []
    jobs = plan(files, output, scale, overwrite, extras=[k for k, on in (("depth", save_depth),
                                                                       ("kernels", save_kernels)) if on])
    protected = {f.resolve() for f in files}
    for folder in sorted({job.target.parent for job in jobs}):
        for stale in sweep_stale_temps(folder):
            say(f"removed a stale temporary file {stale} (older than a run can last)")
    if ray:
        if save_depth or save_kernels:
            raise DataError("--save-depth/--save-kernels are not available with --ray")
        from ssr.batch import run_on_ray

        return run_on_ray(jobs, ray["method"], scale, ray["options"], workers=ray["workers"],
                          threads=ray["threads"], overwrite=overwrite, max_pixels=max_pixels,
                          max_output_pixels=max_output_pixels, protected=protected)
    failures, written = [], 0
    try:
        for job in progress(jobs, "upscale"):
            try:
                upscale_file(job, method, scale, overwrite, max_pixels, protected, max_output_pixels,
                             save_depth, save_kernels)
                written += 1
            except SsrError as exc:
                failures.append(str(exc))
    except KeyboardInterrupt as exc:  # the CLI prints it: "ssr: interrupted (3 of 10 file(s) finished)"
        exc.progress = f"{written} of {len(jobs)} file(s) finished"
        raise
    return written, failures
