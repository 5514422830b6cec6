"""The command line as a user meets it: help, upscale, errors, eval, info, example."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from util import save_png, smooth_image
from ssr.cli import build_parser, main
from ssr.io import read_image, write_image


def run(args):
    return main(["--quiet", *map(str, args)])


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", ["upscale", "degrade", "eval", "bench", "train", "example", "info"])
def test_every_command_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    assert "usage: ssr " + command in capsys.readouterr().out


def test_console_script_runs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ssr.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "upscale" in result.stdout


def test_upscale_file_then_refuse_to_overwrite(tmp_path, capsys):
    source = save_png(tmp_path / "photo.png", smooth_image(0, 20, 24))
    before = digest(source)
    assert run(["upscale", source]) == 0
    out = tmp_path / "photo_x4.png"
    assert read_image(out).pixels.shape == (80, 96, 3)
    assert run(["upscale", source]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"ssr: {out}: exists (pass --overwrite to replace it)"]
    assert run(["upscale", source, "--overwrite", "-o", out, "--method", "lanczos", "--scale", "2"]) == 0
    assert read_image(out).pixels.shape == (40, 48, 3)
    assert digest(source) == before
    assert run(["upscale", source, "-o", source, "--overwrite"]) == 2
    assert "refusing to replace an input file" in capsys.readouterr().err
    assert digest(source) == before


@pytest.mark.parametrize("name,payload,message", [
    ("empty.png", b"", "file is empty"),
    ("corrupt.jpg", b"\xff\xd8\xff\xe0 definitely not a jpeg", "corrupt"),
    ("truncated.png", None, "truncated"),
    ("notes.gif", b"GIF89a", "unsupported file type"),
])
def test_bad_inputs_give_one_line_and_no_output(tmp_path, capsys, name, payload, message):
    if payload is None:
        payload = write_image(tmp_path / "full.png", smooth_image(0, 40, 40)).read_bytes()[:250]
    bad = tmp_path / name
    bad.write_bytes(payload)
    out_dir = tmp_path / "out"
    assert run(["upscale", bad, "-o", out_dir]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ssr: ") and message in err[0] and "Traceback" not in err[0]
    assert not out_dir.exists() or not any(out_dir.iterdir())
    assert bad.read_bytes() == payload


def test_folder_upscale_skips_other_files_and_keeps_alpha_and_depth(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    save_png(folder / "a.png", smooth_image(0, 16, 16))
    rng = np.random.default_rng(0)
    write_image(folder / "b.png", rng.random((12, 10, 3)), rng.random((12, 10)), bit_depth=16)
    (folder / "readme.txt").write_text("not an image")
    assert main(["upscale", str(folder), "-o", str(tmp_path / "out"), "--scale", "2", "--method", "bicubic"]) == 0
    captured = capsys.readouterr()
    assert "skipping non-image file" in captured.err and "upscaled 2 image(s)" in captured.out
    b = read_image(tmp_path / "out" / "b_x2.png")
    assert b.bit_depth == 16 and b.alpha is not None and b.pixels.shape == (24, 20, 3)


def test_unknown_method_and_missing_model_are_one_line(tmp_path, capsys):
    source = save_png(tmp_path / "p.png", smooth_image(0, 16, 16))
    assert run(["upscale", source, "--method", "magic"]) == 2
    assert "unknown method 'magic'" in capsys.readouterr().err
    assert run(["upscale", source, "--method", f"spandrel:{tmp_path / 'none.pth'}"]) == 2
    assert "model file not found" in capsys.readouterr().err


def test_eval_writes_tables(tmp_path, capsys):
    hr_dir, sr_dir = tmp_path / "hr", tmp_path / "sr"
    hr_dir.mkdir(), sr_dir.mkdir()
    for i in range(2):
        hr = smooth_image(i, 50, 42)
        save_png(hr_dir / f"im{i}.png", hr)
        save_png(sr_dir / f"im{i}.png", np.clip(hr + 0.02, 0, 1)[:48, :40])  # mod-crop x4 of 50x42
    assert run(["eval", "--sr", sr_dir, "--hr", hr_dir, "--scale", "4", "--no-perceptual"]) == 0
    out = capsys.readouterr().out
    assert "| mean |" in out and (tmp_path / "sr_metrics.csv").exists() and (tmp_path / "sr_metrics.json").exists()


def test_eval_size_mismatch_is_explained(tmp_path, capsys):
    (tmp_path / "hr").mkdir(), (tmp_path / "sr").mkdir()
    save_png(tmp_path / "hr" / "a.png", smooth_image(0, 40, 40))
    save_png(tmp_path / "sr" / "a.png", smooth_image(0, 20, 20))
    assert run(["eval", "--sr", tmp_path / "sr", "--hr", tmp_path / "hr", "--scale", "4"]) == 2
    assert "SR is 20x20 but HR" in capsys.readouterr().err


def test_info_and_example(tmp_path, capsys):
    assert run(["info"]) == 0
    assert "torch" in capsys.readouterr().out
    assert run(["example", "--out", tmp_path / "ex"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("example coffee: dof x4 seed 0") and "PSNR-Y" in line
    assert read_image(tmp_path / "ex" / "sr" / "coffee_bicubic.png").pixels.shape == (400, 600, 3)


def test_parser_rejects_unknown_options():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["upscale", "x.png", "--sclae", "4"])


@pytest.mark.parametrize("argv, line", [
    (["upscale", "x.png", "--scale", "0"],
     "ssr: upscale: argument --scale: must be >= 1, got 0 (see `ssr upscale --help`)"),
    (["upscale", "x.png", "--sclae", "4"], "ssr: unrecognized arguments: --sclae 4 (see `ssr --help`)"),
    (["upscale", "x.png", "--threads", "0"],
     "ssr: upscale: argument --threads: must be >= 1, got 0 (see `ssr upscale --help`)"),
    (["upscale", "x.png", "--tile-overlap", "-5"],
     "ssr: upscale: argument --tile-overlap: must be >= 0, got -5 (see `ssr upscale --help`)"),
    (["frobnicate"], "ssr: argument COMMAND: invalid choice: 'frobnicate' (choose from "),  # quoting varies by Python
])
def test_command_line_errors_are_one_line_with_exit_2(argv, line, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(line) and err[0].endswith("--help`)")


def test_quiet_is_accepted_before_or_after_the_command(tmp_path, capsys):
    source = save_png(tmp_path / "q.png", smooth_image(0, 12, 12))
    assert main(["upscale", str(source), "--method", "bicubic", "-q"]) == 0
    assert main(["-q", "upscale", str(source), "--method", "bicubic", "--overwrite"]) == 0
    assert "upscaled 1 image" in capsys.readouterr().out


def test_cli_module_imports_nothing_heavy():
    code = "import sys, ssr.cli; print(sorted(m for m in ('torch', 'scipy', 'cv2', 'numpy', 'PIL', 'tqdm') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_each_package_imports_on_its_own_without_cycles():
    """Every package imports in a fresh interpreter by itself (an import cycle or an upward import would
    surface as an ImportError here); the SCM never pulls in io, depth, models, methods or train."""
    packages = ["ssr.arrays", "ssr.settings", "ssr.options", "ssr.degradation", "ssr.degradation.scm",
                "ssr.degradation.protocols", "ssr.degradation.kernel_maps", "ssr.depth", "ssr.depth.builtin",
                "ssr.depth.adapters", "ssr.models.registry", "ssr.metrics", "ssr.methods", "ssr.methods.svkr",
                "ssr.methods.peers", "ssr.pipeline", "ssr.sets", "ssr.upscale", "ssr.bench.runner",
                "ssr.train.stages", "ssr.train.config", "ssr.train.trainer", "ssr.cli"]
    for name in packages:
        result = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True)
        assert result.returncode == 0, f"{name}: {result.stderr[-800:]}"
    code = ("import sys, ssr.degradation.scm, ssr.degradation.protocols, ssr.degradation.kernel_maps; "
            "print(sorted({m for m in sys.modules if m.startswith('ssr.') and not m.startswith('ssr.degradation')}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['ssr.arrays', 'ssr.errors', 'ssr.imresize', 'ssr.settings']", out


def test_huge_output_is_refused_before_work(tmp_path, capsys):
    source = save_png(tmp_path / "p.png", smooth_image(0, 40, 50))
    assert run(["upscale", source, "--max-output-pixels", "10000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"ssr: {source}: output would be 200x160 = 32000 pixels (limit 10000 pixels; raise it with --max-output-pixels)"]
    assert run(["upscale", source, "--max-pixels", "100"]) == 2
    assert "too large" in capsys.readouterr().err
    assert not (tmp_path / "p_x4.png").exists()
