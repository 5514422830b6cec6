"""Batch runs on Ray: a local cluster with 2 workers gives the same files as one process, and a rerun
after a crash redoes nothing that is finished; --shard splits the same plan."""

import numpy as np
import pytest

from util import save_png, smooth_image
from ssr.cli import main
from ssr.io import read_image


@pytest.fixture
def folder(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(6):
        save_png(inputs / f"p{i}.png", smooth_image(i, 20 + i, 24))
    return inputs


def test_ray_with_two_workers_equals_one_process_and_resumes(tiny_weights, folder, tmp_path, capsys):
    pytest.importorskip("ray")
    local, distributed = tmp_path / "local", tmp_path / "ray"
    assert main(["-q", "upscale", str(folder), "-o", str(local), "--tile", "0", "--threads", "1"]) == 0
    assert main(["-q", "upscale", str(folder), "-o", str(distributed), "--tile", "0", "--threads", "1",
                 "--ray", "2"]) == 0
    assert "upscaled 6 image(s)" in capsys.readouterr().out
    for path in sorted(local.iterdir()):
        assert np.array_equal(read_image(path).pixels, read_image(distributed / path.name).pixels), path.name
    # a crash: one output lost, one half-written (not decodable) -> only those two are redone
    (distributed / "p1_x4.png").unlink()
    (distributed / "p4_x4.png").write_bytes(b"\x89PNG partial")
    untouched = (distributed / "p0_x4.png").stat().st_mtime_ns
    assert main(["-q", "upscale", str(folder), "-o", str(distributed), "--tile", "0", "--threads", "1",
                 "--ray", "2", "--overwrite"]) == 0
    assert "upscaled 2 image(s)" in capsys.readouterr().out
    assert (distributed / "p0_x4.png").stat().st_mtime_ns == untouched
    for name in ("p1_x4.png", "p4_x4.png"):
        assert np.array_equal(read_image(local / name).pixels, read_image(distributed / name).pixels)


def test_shards_cover_every_file_once(folder, tmp_path, capsys):
    out = tmp_path / "out"
    for k in (1, 2, 3):
        assert main(["-q", "upscale", str(folder), "-o", str(out), "--method", "bicubic", "--shard", f"{k}/3"]) == 0
        assert "upscaled 2 image(s)" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [f"p{i}_x4.png" for i in range(6)]
    assert main(["-q", "upscale", str(folder), "-o", str(out), "--method", "bicubic", "--skip-existing"]) == 0
    assert "upscaled 0 image(s)" in capsys.readouterr().out
    assert main(["upscale", str(folder), "--shard", "4/3", "--method", "bicubic"]) == 2
    assert "need 1 <= K <= N" in capsys.readouterr().err
