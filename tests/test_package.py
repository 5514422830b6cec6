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
