"""`ssr example`: the README's first command. Degrade the bundled photo with the `dof` protocol,
upscale it with the best method available, write the images and print one metrics line."""

from __future__ import annotations

from pathlib import Path

from ssr.bench.methods import make_method
from ssr.degradation.build import build_set
from ssr.io import read_image, to_uint8, write_image
from ssr.metrics.evaluate import image_metrics
from ssr.paths import example_dir
from ssr.report import format_value

#: The best method that exists so far; issue 3 replaces it with the trained SSR pipeline.
BEST_METHOD = "bicubic"


def run_example(out_dir: Path, scale: int = 4, seed: int = 0, overwrite: bool = False) -> str:
    out_dir = Path(out_dir)
    manifest = build_set("dof", scale, seed, example_dir() / "hr", out_dir, depth_dir=example_dir() / "depth",
                         overwrite=overwrite)
    entry = manifest["images"][0]
    lr = read_image(out_dir / entry["files"]["lr"]).pixels
    hr = read_image(out_dir / entry["files"]["hr"]).pixels
    method = make_method(BEST_METHOD)
    sr = to_uint8(method.upscale(lr, scale)).astype("float32") / 255.0
    (out_dir / "sr").mkdir(exist_ok=True)
    sr_path = write_image(out_dir / "sr" / f"{entry['name']}_{BEST_METHOD}.png", sr)
    metrics = image_metrics(sr, hr, scale, perceptual=None)
    record = entry["record"]
    return (f"example {entry['name']}: dof x{scale} seed {seed} (focus {record['kernel']['focus']:.2f}, "
            f"aperture {record['kernel']['aperture']:.1f}, noise {record['noise']['level'] * 255:.1f}/255, "
            f"JPEG q{record['jpeg']['quality']}) | {BEST_METHOD}: PSNR-Y {format_value(metrics['psnr_y'], 2)} dB, "
            f"SSIM-Y {format_value(metrics['ssim_y'], 4)}, NIQE {format_value(metrics['niqe'], 3)} | "
            f"LR {out_dir / entry['files']['lr']}, SR {sr_path}, HR {out_dir / entry['files']['hr']}")
