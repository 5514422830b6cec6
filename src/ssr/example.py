"""`ssr example`: the README's first command. Degrade the bundled photo with the `dof` protocol,
upscale it with the best method available, write the images and print one metrics line."""

from __future__ import annotations

from pathlib import Path

from ssr.arrays import quantise
from ssr.io import check_output_folder, read_image, write_image
from ssr.bench.figure import figure_grid
from ssr.methods import DEFAULT_METHOD, make_method
from ssr.methods.classical import nearest
from ssr.metrics.evaluate import image_metrics
from ssr.paths import example_dir
from ssr.report import format_value
from ssr.sets import build_set

#: The method the example shows, next to the bicubic baseline.
BEST_METHOD = DEFAULT_METHOD


def run_example(out_dir: Path, scale: int = 4, seed: int = 0, overwrite: bool = False,
                weights: str | None = None) -> str:
    out_dir = Path(out_dir)
    check_output_folder(out_dir)
    # the methods first: missing weights must fail before anything is written
    methods = {"bicubic": make_method("bicubic"), BEST_METHOD: make_method(BEST_METHOD, scale=scale, weights=weights)}
    manifest = build_set("dof", scale, seed, example_dir() / "hr", out_dir, depth_dir=example_dir() / "depth",
                         overwrite=overwrite)
    entry = manifest["images"][0]
    lr = read_image(out_dir / entry["files"]["lr"]).pixels
    hr = read_image(out_dir / entry["files"]["hr"]).pixels
    (out_dir / "sr").mkdir(exist_ok=True)
    parts, paths, outputs = [], [], {}
    for name, method in methods.items():
        sr = quantise(method.upscale(lr, scale).image)
        outputs[name] = sr
        paths.append(write_image(out_dir / "sr" / f"{entry['name']}_{name}.png", sr))
        metrics = image_metrics(sr, hr, scale, perceptual=None)
        parts.append(f"{name}: PSNR-Y {format_value(metrics['psnr_y'], 2)} dB, SSIM-Y "
                     f"{format_value(metrics['ssim_y'], 4)}, NIQE {format_value(metrics['niqe'], 3)}")
    figure_grid([{"LR": nearest(lr, scale), **outputs, "HR": hr}], ["LR", *outputs, "HR"], out_dir / "compare.png",
                scale, crop=256)
    record = entry["record"]
    return (f"example {entry['name']}: dof x{scale} seed {seed} (focus {record['kernel']['focus']:.2f}, "
            f"aperture {record['kernel']['aperture']:.1f}, noise {record['noise']['level'] * 255:.1f}/255, "
            f"JPEG q{record['jpeg']['quality']}) | " + " | ".join(parts) +
            f" | LR {out_dir / entry['files']['lr']}, SR {paths[-1]}, HR {out_dir / entry['files']['hr']}, "
            f"side by side {out_dir / 'compare.png'}")
