"""The `ssr` command: upscale | degrade | eval | bench | train | example | info.

User errors (bad files, options, data, command lines) print `ssr: <one line>` and exit 2; an
unexpected internal error prints one line too and exits 1 (set SSR_DEBUG=1 for the traceback).
Results go to stdout, progress and warnings to stderr. This module imports nothing heavy: torch,
scipy and OpenCV are imported inside the commands that need them, so `--help` and `--version` are fast.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from pathlib import Path

from ssr import __version__
from ssr.errors import ConfigError, SsrError
from ssr.limits import DEFAULT_MAX_OUTPUT_PIXELS, DEFAULT_MAX_PIXELS
from ssr.options import PRECISIONS, REFINERS, SVKROptions
from ssr.progress import say, set_quiet

DEFAULT_METHOD = "ssr"  # = ssr.methods.DEFAULT_METHOD (not imported here: that pulls in numpy)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one `ssr: ...` line and exit 2 (no usage block)."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        command = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        print(f"ssr: {command}{message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


def int_at_least(minimum: int):
    """An argparse type: a whole number >= minimum (the message names the bound)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


positive_int, non_negative_int = int_at_least(1), int_at_least(0)


def _overrides(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ConfigError(f"--set expects KEY=VALUE, got '{pair}'")
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _threads(value: int | None) -> None:
    if value:
        import torch

        torch.set_num_threads(value)


def _check_device(device: str | None) -> None:
    if device and device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"--device {device}: no CUDA device is available to this torch build")


def _svkr_options(args: argparse.Namespace) -> dict:
    """The SVKR options the user set explicitly (None = not given; the method decides if they apply)."""
    return {"rounds": args.rounds, "tile": args.tile, "overlap": args.tile_overlap, "depth": args.depth,
            "precision": args.precision, "device": args.device, "weights": args.weights,
            "strength": args.strength, "refine": args.refine, "steps": args.steps, "seed": args.seed,
            "fidelity": args.fidelity, "grain": args.grain, "backend": args.backend}


def cmd_upscale(args: argparse.Namespace) -> int:
    from ssr.methods import make_method
    from ssr.upscale import OutputOptions, run_upscale

    output = OutputOptions(ext=args.ext, quality=args.quality, suffix=args.suffix, outscale=args.outscale,
                           long_edge=args.long_edge, overwrite=args.overwrite, save_depth=args.save_depth,
                           save_kernels=args.save_kernels, save_blur=args.save_blur, max_pixels=args.max_pixels,
                           max_output_pixels=args.max_output_pixels)
    _threads(args.threads)
    _check_device(args.device)
    method = make_method(args.method, scale=args.scale or 4, **_svkr_options(args))
    scale = args.scale if args.scale else (method.scale or 4)
    written, failures = run_upscale(args.inputs, args.output, method, scale, recursive=args.recursive,
                                    options=output, shard=args.shard,
                                    skip_existing=args.skip_existing or bool(args.ray),
                                    ray=({"workers": args.ray, "threads": args.threads or 1, "method": args.method,
                                          "options": {k: v for k, v in _svkr_options(args).items() if v is not None}}
                                         if args.ray else None))
    for failure in failures:
        print(f"ssr: {failure}", file=sys.stderr)
    print(f"upscaled {written} image(s) x{scale} with {method.name}" + (f", {len(failures)} failed" if failures else ""))
    return 2 if failures else 0


def cmd_degrade(args: argparse.Namespace) -> int:
    from ssr.sets import build_set

    manifest = build_set(args.protocol, args.scale, args.seed, Path(args.hr_dir), Path(args.out_dir),
                         depth_dir=Path(args.depth_dir) if args.depth_dir else None,
                         overrides=_overrides(args.set), overwrite=args.overwrite,
                         depth_estimator=args.depth_estimator)
    print(f"wrote {len(manifest['images'])} LR image(s) ({args.protocol} x{args.scale}, seed {args.seed}) "
          f"and {Path(args.out_dir) / 'manifest.json'}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from ssr.metrics.evaluate import eval_table, evaluate_dirs, write_eval

    from ssr.io import check_writable

    sr_dir = Path(args.sr).resolve()
    prefix = Path(args.out) if args.out else sr_dir.with_name(sr_dir.name + "_metrics")
    for target in (prefix.with_suffix(".csv"), prefix.with_suffix(".json")):  # before any work
        check_writable(target, "metrics file")
        if target.exists() and not args.overwrite:
            raise ConfigError(f"{target}: exists (pass --overwrite to replace it)")
    rows, columns, reasons = evaluate_dirs(Path(args.sr), Path(args.hr), args.scale, with_niqe=not args.no_niqe,
                                           with_perceptual=not args.no_perceptual)
    print(eval_table(rows, columns), end="")
    for name, reason in reasons.items():
        print(f"{name}: unavailable ({reason})")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    write_eval(rows, columns, prefix)
    print(f"wrote {prefix.with_suffix('.csv')} and {prefix.with_suffix('.json')}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ssr.bench.runner import run_bench

    _threads(args.threads)
    result = run_bench(args.protocol, Path(args.hr), args.method or ["nearest", "bicubic", "lanczos", "bicubic+usm"],
                       args.scale, Path(args.out), seed=args.seed,
                       depth_dir=Path(args.depth_dir) if args.depth_dir else None,
                       overrides=_overrides(args.set), cache_dir=Path(args.cache) if args.cache else None,
                       with_perceptual=not args.no_perceptual, weights=args.weights,
                       figure_images=args.figure_images)
    print(result["table"], end="")
    print(f"wrote {Path(args.out) / 'table.md'}, results.json, per_image.csv, figure.png")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from ssr.train.config import load_config
    from ssr.train.trainer import train

    config = load_config(args.config, _overrides(args.set))
    result = train(config, resume=args.resume, max_steps=args.max_steps)
    if result["rank"] == 0:
        print(f"trained {config.stage} to step {result['step']} (val {result['val']:.4f}); "
              f"weights {result['weights']}")
    return 0


def cmd_example(args: argparse.Namespace) -> int:
    from ssr.example import run_example

    print(run_example(Path(args.out), overwrite=args.overwrite, weights=args.weights))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from ssr.explain import run
    from ssr.io import check_writable

    out = Path(args.output) if args.output else None
    if out is not None:
        check_writable(out, "picture")
        if out.exists():
            raise ConfigError(f"{out}: exists (choose another name)")
    _threads(args.threads)
    print(run(Path(args.image), out, args.json, weights=args.weights))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ssr.serve import make_server

    server = make_server(args.host, args.port, max_upload_mb=args.max_upload_mb, weights=args.weights,
                         threads=args.threads)
    host, port = server.server_address[:2]
    print(f"ssr serve: open http://{host}:{port}/ in a browser (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ssr.export import export

    manifest = export(Path(args.out), args.format, scale=args.scale, weights=args.weights)
    names = ", ".join(f["file"] for f in manifest["files"].values())
    print(f"wrote {names} and manifest.json to {args.out} ({args.format}, x{args.scale}, any input size)")
    return 0


def cmd_weights(args: argparse.Namespace) -> int:
    from ssr import weights as W

    if args.action == "list":
        print(f"shipped: {W.shipped_dir()}")
        for line in W.available():
            print(f"  {line}")
        root = W.user_root()
        for folder in sorted(p for p in root.glob("*") if (p / "manifest.json").is_file()) if root.is_dir() else []:
            print(f"{folder.name}: {folder}")
            for line in W.available(folder):
                print(f"  {line}")
        return 0
    if not args.run:
        raise ConfigError("ssr weights add needs RUN_DIR (a folder written by `ssr train`)")
    name = args.name or Path(args.run).resolve().name
    if not W._NAME.match(name):
        raise ConfigError(f"--name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    target = W.user_root() / name
    entry = W.add_run(Path(args.run), target, name=name)
    print(f"added {entry['file']} ({entry['role']}, x{entry['scale']}, step {entry['step']}) to weight set "
          f"'{name}' at {target}; use it with --weights {name}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    import importlib.util
    import platform

    import torch

    from ssr.metrics.niqe import niqe_params_path
    from ssr.paths import CACHE_DIR, data_root

    device = "cuda (" + torch.cuda.get_device_name(0) + ")" if torch.cuda.is_available() else "cpu"
    from ssr.weights import available, user_root, weights_dir

    try:
        weights = available()
    except SsrError as exc:
        weights = [f"unusable ({exc})"]
    try:
        from ssr.methods.svkr import default_depth_spec

        depth_backend = default_depth_spec()
    except SsrError:
        depth_backend = "none (no weights manifest)"
    optional = {}
    for name in ("spandrel", "stlpips_pytorch", "pyiqa", "cv2"):
        optional[name] = "installed" if importlib.util.find_spec(name) else "not installed"
    lines = [
        f"ssr {__version__}",
        f"python {platform.python_version()}, torch {torch.__version__}",
        f"device: {device}; threads: {torch.get_num_threads()}",
        f"weights ({weights_dir()}): {'; '.join(weights) if weights else 'none found'}",
        f"user weight sets: {user_root()} (ssr weights list)",
        f"default depth backend of ssr: {depth_backend}",
        f"data root: {data_root() or 'not found (set SSR_DATA)'}",
        f"NIQE parameters: {niqe_params_path() or 'not found (set SSR_NIQE_PARAMS); NIQE unavailable'}",
        f"cache: {CACHE_DIR}",
        "optional: " + ", ".join(f"{k} {v}" for k, v in optional.items()),
    ]
    print("\n".join(lines))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="ssr", description="Blind super-resolution of real photographs "
                           "with spatially variant, depth-informed blur.")
    parser.add_argument("--version", action="version", version=f"ssr {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or status lines")
    # -q also after the sub-command: SUPPRESS keeps a sub-parser from resetting the top-level value
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bars or status lines")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    defaults = SVKROptions()

    p = sub.add_parser("upscale", parents=[common], help="upscale image files, folders or globs",
                       description="Upscale images. Outputs default to NAME_x{scale}.png beside each input.")
    p.add_argument("inputs", nargs="+", help="image files, folders or glob patterns")
    p.add_argument("-o", "--output", help="output file (one input) or folder")
    p.add_argument("--scale", type=positive_int,
                   help="model scale (ssr weights: 2 or 4; classical methods: any; default: the model's, else 4)")
    p.add_argument("--outscale", type=float, help="final size = input size x this (any number; SR at the model "
                                                   "scale, then MATLAB bicubic resize)")
    p.add_argument("--long-edge", type=positive_int, metavar="PX", help="final longer side in pixels")
    p.add_argument("--ext", default="png", choices=("png", "jpg", "webp", "tif", "auto"),
                   help="output format (auto = the input's own; default png)")
    p.add_argument("--quality", type=positive_int, help="JPEG/WebP quality 1..100 (JPEG default 95, WebP lossless)")
    p.add_argument("--suffix", help="added to the input's name (default _x{scale}); '' for none")
    p.add_argument("--method", default=DEFAULT_METHOD,
                   help=f"ssr (SVKR, shipped weights), ssr-t1, ssr-nodepth, ssr-bf16, bicubic, lanczos, nearest, "
                        f"bicubic+usm, spandrel:PATH, ncnn:NAME (default {DEFAULT_METHOD})")
    svkr = p.add_argument_group("SVKR options (methods ssr*; an error for other methods)")
    svkr.add_argument("--depth", help="depth backend: none, builtin[:FILE], hf:DIR, midas:FILE "
                                      "(default: builtin when shipped)")
    svkr.add_argument("--rounds", type=positive_int, help=f"SVKR rounds T (default {defaults.rounds})")
    svkr.add_argument("--tile", type=non_negative_int,
                      help=f"LR tile size (0 = whole image; default {defaults.tile})")
    svkr.add_argument("--tile-overlap", type=non_negative_int,
                      help=f"LR pixels of tile context/blending (default {defaults.overlap})")
    svkr.add_argument("--device", help=f"cpu or cuda[:N] (default {defaults.device})")
    svkr.add_argument("--strength", type=float,
                      help="0..1: how much restoration to apply (1 = full, default; 0 = plain bicubic; 0.5 for "
                           "clean or heavily compressed photos where full strength looks over-processed)")
    svkr.add_argument("--refine", choices=REFINERS,
                      help="diffusion: the AMF-conditioned diffusion refiner restores texture after SVKR "
                           f"(default {defaults.refine})")
    svkr.add_argument("--steps", type=positive_int, help=f"refiner sampling steps (default {defaults.steps})")
    svkr.add_argument("--seed", type=non_negative_int, help=f"refiner noise seed (default {defaults.seed})")
    svkr.add_argument("--fidelity", type=float,
                      help=f"0..1: refiner noise scale 1 - F (1 = deterministic, closest to the SVKR output; "
                           f"default {defaults.fidelity})")
    svkr.add_argument("--backend", metavar="own|sd:DIR",
                      help="refiner backend: own (default) or sd:DIR, a local Stable Diffusion folder (diffusers "
                           "layout) with an AMF adapter trained by `ssr train` stage sd_adapter")
    svkr.add_argument("--grain", type=float,
                      help="add seeded Gaussian film grain of this std (on a 0..255 scale; default none)")
    svkr.add_argument("--weights", help="weight set: a name registered with `ssr weights add`, or a folder with "
                                        "a manifest.json (default: the shipped weights)")
    svkr.add_argument("--precision", choices=PRECISIONS,
                      help=f"bf16: networks under bfloat16 autocast, faster on CPUs with AVX512-BF16/AMX; auto: bf16 "
                           f"where the CPU/GPU has native bf16, else fp32 (default {defaults.precision})")
    p.add_argument("--save-depth", action="store_true",
                   help="also write NAME_depth.png (colour, near/far legend) and NAME_depth16.png (16-bit grey, "
                        "LR size, 65535 = nearest)")
    p.add_argument("--save-blur", action="store_true",
                   help="also write NAME_blur.png: estimated blur width (output pixels) as a heat map over the photo")
    p.add_argument("--save-kernels", action="store_true", help="also write NAME_kernels.png (kernel mosaic)")
    p.add_argument("-r", "--recursive", action="store_true", help="walk folders recursively")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (never inputs)")
    p.add_argument("--skip-existing", action="store_true",
                   help="count outputs that exist and decode as done (resume a crashed or sharded run)")
    p.add_argument("--shard", metavar="K/N", help="process the K-th of N interleaved shards of the sorted inputs "
                                                  "(Slurm arrays: --shard $((SLURM_ARRAY_TASK_ID+1))/$N)")
    p.add_argument("--threads", type=positive_int, help="CPU threads for torch (per Ray worker with --ray)")
    p.add_argument("--ray", type=positive_int, metavar="WORKERS",
                   help="run on Ray with this many workers (pip install 'ssr[ray]'; RAY_ADDRESS for a cluster); "
                        "finished outputs are skipped, so a rerun resumes")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, help="refuse larger inputs (pixels)")
    p.add_argument("--max-output-pixels", type=int, default=DEFAULT_MAX_OUTPUT_PIXELS,
                   help="refuse inputs whose output would be larger (pixels; default 256 MP)")
    p.set_defaults(func=cmd_upscale)

    p = sub.add_parser("degrade", parents=[common], help="make a reproducible LR set from HR images",
                       description="Degrade HR images with a benchmark protocol; writes lr/, hr/, meta/ and manifest.json.")
    p.add_argument("hr_dir", help="folder of HR images (protocol real: City100 NNNH/NNNL pairs)")
    p.add_argument("out_dir", help="output folder")
    p.add_argument("--protocol", required=True, choices=("sv", "dof", "compound", "real"))
    p.add_argument("--scale", type=int, default=4, choices=(2, 4))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--depth-dir", help="depth maps for protocol dof (paired by name, else by sorted order)")
    p.add_argument("--depth-estimator", help="protocol dof without --depth-dir: estimate depth (builtin, hf:DIR)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a protocol setting")
    p.add_argument("--overwrite", action="store_true", help="rebuild a non-empty output folder")
    p.set_defaults(func=cmd_degrade)

    p = sub.add_parser("eval", parents=[common], help="PSNR/SSIM/NIQE (+perceptual) of SR images against HR",
                       description="Evaluate SR images (matched to HR by file stem); prints a table, writes CSV/JSON.")
    p.add_argument("--sr", required=True, help="folder of SR images")
    p.add_argument("--hr", required=True, help="folder of HR images")
    p.add_argument("--scale", type=positive_int, required=True, help="scale factor (also the crop border)")
    p.add_argument("--out", help="output prefix for .csv/.json (default: <SR>_metrics)")
    p.add_argument("--overwrite", action="store_true", help="replace existing .csv/.json")
    p.add_argument("--no-niqe", action="store_true")
    p.add_argument("--no-perceptual", action="store_true", help="skip ST-LPIPS/pyiqa metrics")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", parents=[common], help="benchmark methods on a protocol (table + figure)",
                       description="Build or reuse a protocol's LR set, run methods, write table.md, results.json, figure.png.")
    p.add_argument("--protocol", required=True, choices=("sv", "dof", "compound", "real"))
    p.add_argument("--hr", required=True, help="folder of HR images")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--scale", type=int, default=4, choices=(2, 4))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--method", action="append", help="repeatable; default: nearest, bicubic, lanczos, bicubic+usm")
    p.add_argument("--depth-dir", help="depth maps for protocol dof")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a protocol setting")
    p.add_argument("--cache", help="cache folder for LR sets (default ~/.cache/ssr)")
    p.add_argument("--weights", help="weight set of the ssr methods (name or folder; default: shipped)")
    p.add_argument("--figure-images", type=positive_int, default=3, help="images (rows) in figure.png (default 3)")
    p.add_argument("--threads", type=positive_int)
    p.add_argument("--no-perceptual", action="store_true")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("train", parents=[common], help="train a stage from a YAML config (torchrun-ready)",
                       description="Train one stage (rrdb, dkenet, depth, ksr, dkenet_code, causal, refiner, sd_adapter: ssr.train.stages). Multi-process: "
                                   "torchrun --nproc_per_node N -m ssr.cli train CONFIG.yaml")
    p.add_argument("config", help="YAML config (unknown keys are errors)")
    p.add_argument("--resume", action="store_true", help="continue from out_dir/checkpoint.pt")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config value, e.g. optim.steps=100")
    p.add_argument("--max-steps", type=int, help="stop this run after N more steps (resumable)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("example", parents=[common], help="run the main job on the bundled example photo",
                       description="Degrade the bundled photo (dof x4, seed 0), upscale it, print metrics.")
    p.add_argument("--out", default="example_out", help="output folder (default: example_out)")
    p.add_argument("--weights", help="weight set (name or folder; default: shipped)")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_example)

    p = sub.add_parser("explain", parents=[common], help="estimate a photo's JPEG quality, noise, blur and depth",
                       description="Abduction of the degradation factors from one photo: JPEG quality, noise "
                                   "level, a blur map (width and orientation per region), depth.")
    p.add_argument("image")
    p.add_argument("-o", "--output", help="also write the blur picture (heat map over the photo, with a scale)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the summary")
    p.add_argument("--weights", help="weight set (name or folder; default: shipped)")
    p.add_argument("--threads", type=positive_int)
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("serve", parents=[common], help="a local web page: drop photos, compare, download",
                       description="Start a local web app (http://127.0.0.1:7860 by default).")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--max-upload-mb", type=float, default=40.0, help="largest accepted upload (default 40 MB)")
    p.add_argument("--weights", help="weight set (name or folder; default: shipped)")
    p.add_argument("--threads", type=positive_int, help="CPU threads for torch")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("export", parents=[common], help="write the networks as ONNX or TorchScript",
                       description="Export the kernel estimator, the SR network and the depth network of a "
                                   "weight set with dynamic spatial sizes (see ssr/export.py for their inputs).")
    p.add_argument("out", help="output folder")
    p.add_argument("--format", required=True, choices=("onnx", "torchscript"))
    p.add_argument("--scale", type=int, default=4, choices=(2, 4))
    p.add_argument("--weights", help="weight set (name or folder; default: shipped)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("weights", parents=[common], help="list weight sets, or register a trained run",
                       description="`ssr weights list`; `ssr weights add RUN_DIR [--name NAME]` copies a run's "
                                   "model into a user weight set (a copy of the shipped set with that role "
                                   "replaced), usable with --weights NAME.")
    p.add_argument("action", choices=("list", "add"))
    p.add_argument("run", nargs="?", help="add: the run folder (out_dir of `ssr train`)")
    p.add_argument("--name", help="add: the weight set's name (default: the run folder's name)")
    p.set_defaults(func=cmd_weights)

    p = sub.add_parser("info", parents=[common], help="versions, device, threads, weights and data paths")
    p.set_defaults(func=cmd_info)
    return parser


class Interrupted(KeyboardInterrupt):
    """SIGTERM / SIGHUP, turned into the same unwinding as Ctrl-C (temporary files are removed)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum, frame) -> None:
    raise Interrupted(signum)


def _report_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Library warnings (Pillow, torch) go through ssr's own status lines: silent under -q."""
    say(f"warning: {message}")


def _internal_error(exc: Exception) -> int:
    if os.environ.get("SSR_DEBUG"):
        raise exc
    print(f"ssr: internal error: {type(exc).__name__}: {exc} (SSR_DEBUG=1 shows the traceback)", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help / --version (0) or a one-line usage error (2)
        return int(exc.code or 0)
    set_quiet(args.quiet)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    previous = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):  # behave like SIGINT (main thread only)
        try:
            previous[signum] = signal.signal(signum, _raise_interrupted)
        except ValueError:
            pass
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _report_warning
            code = args.func(args)
        sys.stdout.flush()
        return code
    except SsrError as exc:
        print(f"ssr: {exc}", file=sys.stderr)
        return exc.exit_code
    except ModuleNotFoundError as exc:
        if exc.name != "torch":
            return _internal_error(exc)
        print("ssr: this command needs PyTorch, which is not installed: pip install torch==2.13.0 "
              "(the CPU wheel; see README, 'Install')", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `ssr eval ... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        done = getattr(exc, "progress", None)
        print("ssr: interrupted" + (f" ({done})" if done else ""), file=sys.stderr)
        return 128 + signum
    except Exception as exc:  # a bug: still one line, with a way to get the details
        return _internal_error(exc)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
