"""Never lose a result, never leave debris, never crash after the work is done (issue 13).

Races and signals run real processes; every bad input is checked for its one `ssr:` line and exit 2.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from util import save_png, smooth_image
from ssr.cli import main
from ssr.hashing import STALE_TEMP_SECONDS, TEMP_PREFIX
from ssr.io import read_image

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def one_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


# --- 1. atomic publish without overwrite -----------------------------------------------------------

RACER = textwrap.dedent("""
    import sys, time, numpy as np
    from ssr.errors import ImageWriteError
    from ssr.io import write_image
    path, value, start = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    image = np.full((64, 64, 3), value, np.float32)
    while time.time() < start:
        pass
    try:
        write_image(path, image, overwrite=False)
    except ImageWriteError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
""")


def test_two_writers_of_one_name_exactly_one_wins_and_its_file_is_whole(tmp_path):
    for trial in range(12):
        target = tmp_path / f"race{trial}.png"
        start = time.time() + 0.6
        values = {0.2: None, 0.8: None}
        procs = {v: subprocess.Popen([sys.executable, "-c", RACER, str(target), str(v), str(start)], env=ENV,
                                     stderr=subprocess.PIPE, text=True) for v in values}
        codes = {v: p.wait(timeout=60) for v, p in procs.items()}
        winners = [v for v, code in codes.items() if code == 0]
        assert sorted(codes.values()) == [0, 2], codes  # exactly one success, the other a clean refusal
        loser = next(p for v, p in procs.items() if codes[v] == 2)
        assert "exists" in loser.stderr.read()
        np.testing.assert_allclose(read_image(target).pixels, winners[0], atol=0.5 / 255)  # whole, the winner's
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


# --- 2. signals --------------------------------------------------------------------------------------

SLOW_RUN = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    marker, phase = Path(sys.argv[1]), sys.argv[2]
    import ssr.io
    import ssr.methods.classical as classical
    if phase == "compute":
        real = classical.FUNCTIONS["bicubic"]
        def slow(image, scale):
            marker.write_text("computing")
            time.sleep(60)
            return real(image, scale)
        classical.FUNCTIONS["bicubic"] = slow
    else:
        real = ssr.io._write_eight_bit
        def slow(path, *args):
            real(path, *args)
            marker.write_text(str(path))  # the temporary file exists now
            time.sleep(60)
        ssr.io._write_eight_bit = slow
    from ssr.cli import main
    sys.exit(main(sys.argv[3:]))
""")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
@pytest.mark.parametrize("phase", ["compute", "write"])
def test_signals_end_like_ctrl_c_and_leave_no_debris(tmp_path, signum, phase):
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    save_png(inputs / "a.png", smooth_image(0, 24, 24))
    marker = tmp_path / "marker"
    process = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(marker), phase, "upscale", str(inputs),
                                "-o", str(out), "--method", "bicubic"], env=ENV, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), process.stderr.read() if process.poll() is not None else "no marker"
    if phase == "write":
        assert Path(marker.read_text()).name.startswith(TEMP_PREFIX)
    process.send_signal(signum)
    stderr = process.communicate(timeout=60)[1]
    assert process.returncode == 128 + signum
    assert stderr.strip().splitlines()[-1] == "ssr: interrupted (0 of 1 file(s) finished)"
    assert not out.exists() or list(out.iterdir()) == []  # neither the output nor a temporary file


def test_stale_temporary_files_are_ignored_as_inputs_and_swept_only_when_old(tmp_path, capsys):
    folder = tmp_path / "shots"
    folder.mkdir()
    save_png(folder / "a.png", smooth_image(1, 16, 16))
    old, fresh = folder / f"{TEMP_PREFIX}a_x4.k3j4h5g6.png", folder / f"{TEMP_PREFIX}b_x4.a1b2c3d4.png"
    for stray in (old, fresh):
        stray.write_bytes(b"partial")
    os.utime(old, (time.time() - STALE_TEMP_SECONDS - 60,) * 2)
    assert main(["upscale", str(folder), "--method", "bicubic"]) == 0
    assert "upscaled 1 image(s)" in capsys.readouterr().out  # the strays were not inputs
    assert not old.exists() and fresh.exists()  # a young one may belong to a running ssr


# --- 3. validate before compute --------------------------------------------------------------------


def test_output_paths_that_cannot_work_are_refused_before_any_work(tmp_path, capsys):
    source = save_png(tmp_path / "p.png", smooth_image(0, 16, 16))
    for name in ("result.gif", "notes.txt"):
        assert main(["upscale", str(source), "-o", str(tmp_path / name), "--method", "bicubic"]) == 2
        assert f"-o {tmp_path / name}: '{Path(name).suffix}' is not an image type ssr writes" in one_line(capsys)
        assert not (tmp_path / name).exists()  # no folder of that name either
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert main(["upscale", str(source), "-o", str(blocker / "out.png"), "--method", "bicubic"]) == 2
    assert one_line(capsys) == (f"ssr: {blocker / 'out.png'}: cannot create the output: {blocker} is a file, "
                                "not a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the check would be wrong there")
def test_read_only_output_folder_is_refused_before_work(tmp_path, capsys):
    source = save_png(tmp_path / "p.png", smooth_image(0, 16, 16))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert main(["upscale", str(source), "-o", str(locked), "--method", "bicubic"]) == 2
        assert "is not writable" in one_line(capsys)
    finally:
        locked.chmod(0o755)


def test_a_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "x.png"
    os.mkfifo(fifo)
    result = subprocess.run([sys.executable, "-m", "ssr.cli", "upscale", str(fifo), "--method", "bicubic"],
                            capture_output=True, text=True, timeout=60, env=ENV)
    assert result.returncode == 2
    assert result.stderr.strip() == f"ssr: {fifo}: not a regular file (a pipe, socket or device is never read)"


def test_malformed_manifests_are_one_line_and_info_survives(tmp_path, monkeypatch, capsys):
    source = save_png(tmp_path / "p.png", smooth_image(0, 16, 16))
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv("SSR_WEIGHTS", str(folder))
    for text, message in [("{not json", "is not valid JSON"), ('{"version": 1}', "has no 'files' list"),
                          ('{"files": [{"file": "a"}]}', "entry 0 needs file, role, scale, sha256")]:
        (folder / "manifest.json").write_text(text)
        assert main(["upscale", str(source), "-o", str(tmp_path / "o.png")]) == 2
        assert message in one_line(capsys)
        assert main(["info"]) == 0
        assert message in capsys.readouterr().out


def test_info_verifies_checksums(tiny_weights, capsys):
    assert main(["info"]) == 0
    assert "rrdb.safetensors (rrdb, x4, sha256 ok)" in capsys.readouterr().out
    path = tiny_weights / "rrdb.safetensors"
    path.write_bytes(path.read_bytes()[:-4] + b"\0\0\0\0")
    assert main(["info"]) == 0
    assert "rrdb.safetensors (rrdb, x4, CHECKSUM MISMATCH: altered or corrupt, will be refused)" in capsys.readouterr().out


def test_user_supplied_depth_weights_get_their_sha256_printed(tiny_weights, tmp_path, capsys):
    import torch

    from ssr.hashing import sha256_file
    from ssr.models.depthnet import DepthNet
    from ssr.models.registry import save_model

    torch.manual_seed(0)
    weights = tmp_path / "mine.safetensors"
    save_model(weights, "ssr.depthnet", DepthNet(widths=(4, 8), view_side=32), 1, {"widths": [4, 8], "view_side": 32})
    source = save_png(tmp_path / "p.png", smooth_image(0, 16, 16))
    assert main(["upscale", str(source), "--depth", f"builtin:{weights}", "--tile", "0"]) == 0
    assert f"depth weights {weights}: sha256 {sha256_file(weights)}" in capsys.readouterr().err


def test_eval_bad_arguments_and_strict_json(tmp_path, capsys, monkeypatch):
    hr, sr = tmp_path / "hr", tmp_path / "sr"
    hr.mkdir()
    sr.mkdir()
    image = smooth_image(2, 40, 40)
    save_png(hr / "a.png", image)
    save_png(sr / "a.png", image)  # identical: PSNR is infinite
    assert main(["eval", "--sr", str(sr), "--hr", str(hr), "--scale", "0"]) == 2
    assert one_line(capsys).startswith("ssr: eval: argument --scale: must be >= 1, got 0")
    assert main(["eval", "--sr", str(sr), "--hr", str(hr), "--scale", "-4"]) == 2
    capsys.readouterr()
    out = tmp_path / "new" / "deeper" / "m"
    assert main(["-q", "eval", "--sr", str(sr), "--hr", str(hr), "--scale", "4", "--out", str(out), "--no-niqe"]) == 0
    data = json.loads(out.with_suffix(".json").read_text(),
                      parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert data["per_image"][0]["psnr_y"] is None  # infinite PSNR is written as null
    assert main(["-q", "eval", "--sr", str(sr), "--hr", str(hr), "--scale", "4", "--out", str(out)]) == 2
    assert "exists (pass --overwrite" in one_line(capsys)
    monkeypatch.chdir(sr)
    assert main(["-q", "eval", "--sr", ".", "--hr", str(hr), "--scale", "4", "--no-niqe"]) == 0
    assert (tmp_path / "sr_metrics.json").exists()


def test_training_config_ranges_fail_before_data_loading(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("stage: rrdb\ndata: {train_dirs: [/nonexistent]}\n")
    for override, message in [("optim.lr=-1", "optim.lr must be >= 0"), ("rrdb.patch_lr=0", "patch_lr >= 4"),
                              ("threads=-1", "threads must be >= 0")]:
        assert main(["train", str(config), "--set", override]) == 2
        assert message in one_line(capsys)  # not "no usable training images": checked before any data


def test_output_into_a_closed_pipe_is_quiet(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "ssr.cli", "info"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=ENV)
    process.stdout.close()  # the reader (`| head`) is gone before ssr prints
    stderr = process.communicate(timeout=120)[1].decode()
    assert process.returncode == 128 + signal.SIGPIPE and stderr == ""


def test_library_warnings_follow_quiet(tmp_path, capsys):
    image = Image.fromarray((smooth_image(3, 16, 16) * 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 99  # garbage orientation: viewers ignore it, so does ssr (with a warning)
    source = tmp_path / "odd.jpg"
    image.save(source, exif=exif)
    assert main(["upscale", str(source), "--method", "bicubic"]) == 0
    assert "warning: odd.jpg: ignoring an invalid EXIF orientation tag" in capsys.readouterr().err
    assert main(["-q", "upscale", str(source), "--method", "bicubic", "--overwrite"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv", [
    ["degrade", "--protocol", "sv", "{hr}", "{blocker}/out"],
    ["bench", "--protocol", "sv", "--hr", "{hr}", "--out", "{blocker}/b", "--method", "bicubic"],
    ["bench", "--protocol", "sv", "--hr", "{hr}", "--out", "{tmp}/b", "--method", "bicubic", "--cache", "{blocker}/c"],
    ["example", "--out", "{blocker}/e"],
])
def test_output_folders_under_a_file_are_one_line_errors(argv, hr_folder, tmp_path, capsys):
    blocker = tmp_path / "f.txt"
    blocker.write_text("x")
    filled = [a.format(hr=hr_folder, blocker=blocker, tmp=tmp_path) for a in argv]
    assert main(["-q", *filled]) == 2
    assert one_line(capsys).endswith(f"{blocker} is a file, not a folder")
