"""The built wheel carries the weights and works outside the checkout, from any folder."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    work = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                            "-w", str(work / "dist"), "-q"], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((work / "dist").glob("ssr-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    # the wheel goes into the throw-away venv; its dependencies (torch, numpy, ...) are borrowed from the
    # test environment through a .pth (a path line: nested .pth files, such as the checkout's editable
    # install of ssr, are NOT processed, so `import ssr` can only find the wheel's copy)
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target",
                              str(purelib), str(wheel), "-q"], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-2000:]
    (purelib / "_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv, wheel


def test_wheel_contains_the_weights_and_manifest(wheel_venv):
    import zipfile

    names = zipfile.ZipFile(wheel_venv[1]).namelist()
    assert "ssr/assets/weights/manifest.json" in names
    assert sum(n.startswith("ssr/assets/weights/") and n.endswith(".safetensors") for n in names) >= 3


def test_installed_ssr_upscales_the_bundled_example_from_any_folder(wheel_venv, tmp_path):
    venv, _ = wheel_venv
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("SSR_WEIGHTS", "PYTHONPATH")}
    env["OMP_NUM_THREADS"] = "2"
    where = subprocess.run([str(python), "-c", "import ssr, sys; print(ssr.__file__)"], capture_output=True,
                           text=True, env=env, cwd=tmp_path, check=True).stdout
    assert str(venv) in where and str(ROOT / "src") not in where  # the wheel's copy, not the checkout
    example = subprocess.run([str(python), "-m", "ssr.cli", "-q", "example", "--out", "ex"], capture_output=True,
                             text=True, env=env, cwd=tmp_path, timeout=600)
    assert example.returncode == 0, example.stderr[-2000:]
    assert "ssr: PSNR-Y" in example.stdout and (tmp_path / "ex" / "sr" / "coffee_ssr.png").is_file()
    up = subprocess.run([str(python), "-m", "ssr.cli", "-q", "upscale", "ex/lr/coffee.png", "--tile", "64"],
                        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert up.returncode == 0, up.stderr[-2000:]
    assert (tmp_path / "ex" / "lr" / "coffee_x4.png").is_file()
    info = subprocess.run([str(python), "-m", "ssr.cli", "info"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)
    assert "sha256 ok" in info.stdout and "MISMATCH" not in info.stdout


def test_without_torch_help_works_and_commands_say_how_to_install(tmp_path):
    code = ("import sys; sys.modules['torch'] = None\n"  # as if torch were not installed
            "from ssr.cli import main\n"
            "assert main(['--help']) == 0\n"
            f"sys.exit(main(['upscale', {str(tmp_path / 'x.png')!r}, '--method', 'ssr']))")
    (tmp_path / "x.png").write_bytes(b"")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "ssr: this command needs PyTorch, which is not installed: pip install torch==2.13.0")


def test_weights_add_registers_a_trained_run_usable_with_weights(tiny_weights, tmp_path, monkeypatch, capsys):
    import numpy as np
    import yaml

    from ssr.cli import main
    from ssr.io import read_image
    from util import save_png, smooth_image

    monkeypatch.setenv("SSR_HOME", str(tmp_path / "home"))
    images = tmp_path / "train"
    images.mkdir()
    for i in range(2):
        save_png(images / f"t{i}.png", smooth_image(i, 64, 72))
    config = {"stage": "rrdb", "seed": 3, "threads": 1, "data": {"train_dirs": [str(images)], "cache_size": 8},
              "rrdb": {"channels": 8, "blocks": 1, "growth": 4, "code_dim": 6, "patch_lr": 8},
              "optim": {"batch_size": 4, "steps": 2}, "log": {"out_dir": str(tmp_path / "run_a")}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    assert main(["-q", "train", str(tmp_path / "c.yaml")]) == 0
    assert main(["weights", "add", str(tmp_path / "run_a"), "--name", "mine"]) == 0
    out = capsys.readouterr().out
    assert "to weight set 'mine'" in out and "(sr, x4, step 2)" in out
    assert main(["weights", "list"]) == 0
    listing = capsys.readouterr().out
    assert "mine:" in listing and "mine_sr_x4.safetensors (sr, x4, sha256 ok)" in listing
    source = save_png(tmp_path / "p.png", smooth_image(5, 16, 16))
    assert main(["-q", "upscale", str(source), "-o", str(tmp_path / "default.png"), "--tile", "0"]) == 0
    assert main(["-q", "upscale", str(source), "-o", str(tmp_path / "mine.png"), "--tile", "0", "--weights", "mine"]) == 0
    # the registered run really is what ran: another SR network, another picture
    assert not np.array_equal(read_image(tmp_path / "default.png").pixels, read_image(tmp_path / "mine.png").pixels)
    assert main(["upscale", str(source), "--weights", "nosuch"]) == 2
    assert "--weights nosuch: no weight set of that name" in capsys.readouterr().err
    assert main(["upscale", str(source), "--method", "bicubic", "--weights", "mine"]) == 2
    assert "--weights does not apply to method 'bicubic'" in capsys.readouterr().err
