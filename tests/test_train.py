"""Trainer: config validation, determinism, resume, and torchrun DDP == single process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file

from util import save_png, smooth_image
from ssr.errors import ConfigError
from ssr.models.registry import load_model
from ssr.train.config import load_config
from ssr.train.trainer import build_model, initialise_from, train


def _tiny_sr(tmp_path: Path) -> Path:
    """A tiny KSRNet file whose kernel code is the target space of stage dkenet_code."""
    from ssr.models.ksrnet import KSRNet
    from ssr.models.registry import save_model
    from ssr.train.stages.ksr import code_prior

    path = tmp_path / "tiny_sr.safetensors"
    if not path.exists():
        torch.manual_seed(0)
        net = KSRNet(channels=8, blocks=1, code_dim=4)
        net.code.fit(code_prior(21, 4, 0))
        save_model(path, "ssr.ksrnet", net, 4, {"channels": 8, "blocks": 1, "code_dim": 4})
    return path


def tiny_config(tmp_path: Path, name: str, stage: str = "rrdb", steps: int = 3) -> Path:
    images = tmp_path / "images"
    if not images.exists():
        images.mkdir()
        for i in range(3):
            save_png(images / f"t{i}.png", smooth_image(i, 64, 72))
    depth_root = tmp_path / "depth"
    if not depth_root.exists():
        for sub in ("RGB", "Depth"):
            (depth_root / "Middlebury" / sub).mkdir(parents=True)
        for i in range(6):
            save_png(depth_root / "Middlebury" / "RGB" / f"m{i}_color.png", smooth_image(10 + i, 48, 56))
            ramp = np.tile(np.linspace(0.1, 1, 48)[:, None], (1, 56))[..., None]
            save_png(depth_root / "Middlebury" / "Depth" / f"m{i}_depth.png", ramp)
    sections = {
        "rrdb": {"channels": 8, "blocks": 1, "growth": 4, "code_dim": 4, "kernel_size": 21, "patch_lr": 8, "grid": 2},
        "dkenet": {"channels": 8, "kernel_size": 21, "patch_lr": 8, "grid": 2},
        "depth": {"channels": 4, "depth_root": str(depth_root), "patch": 32, "synthetic_fraction": 0.5},
        "ksr": {"channels": 8, "blocks": 1, "code_dim": 4, "patch_lr": 8, "depth_root": str(depth_root),
                "val_dirs": [str(images)]},
        "dkenet_code": {"channels": 8, "patch_lr": 8, "depth_root": str(depth_root), "val_dirs": [str(images)],
                        "code_from": str(_tiny_sr(tmp_path))},
    }
    config = {
        "stage": stage, "scale": 4, "seed": 1, "threads": 1,
        "data": {"train_dirs": [str(images)], "val_dir": str(images), "val_images": 1, "cache_size": 16},
        stage: sections[stage],
        "optim": {"lr": 1e-3, "batch_size": 4, "steps": steps, "ema": 0.5},
        "log": {"out_dir": str(tmp_path / name), "val_every": 2, "log_every": 1, "checkpoint_minutes": 100},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_unknown_and_mistyped_keys_are_errors(tmp_path):
    path = tiny_config(tmp_path, "a")
    data = yaml.safe_load(path.read_text())
    data["optim"]["learning_rate"] = 1
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"config.optim: unknown key\(s\) \['learning_rate'\]"):
        load_config(path)
    with pytest.raises(ConfigError, match="config.optim.batch_size: invalid value 'many' \\(expected int\\)"):
        load_config(tiny_config(tmp_path, "b"), {"optim.batch_size": "many"})
    with pytest.raises(ConfigError, match="stage must be one of"):
        load_config(tiny_config(tmp_path, "c"), {"stage": "gan"})
    with pytest.raises(ConfigError, match=r"config.rrdb: unknown key\(s\) \['chanels'\]"):
        load_config(tiny_config(tmp_path, "d"), {"rrdb.chanels": 8})
    with pytest.raises(ConfigError, match="belong to other stages"):
        load_config(tiny_config(tmp_path, "e"), {"dkenet.channels": 8})
    with pytest.raises(ConfigError, match="config.rrdb.dof_fraction: invalid value"):
        load_config(tiny_config(tmp_path, "f"), {"rrdb.dof_fraction": "[0.5]"})
    with pytest.raises(ConfigError, match="optim.lr must be >= 0"):
        load_config(tiny_config(tmp_path, "g"), {"optim.lr": -1})
    with pytest.raises(ConfigError, match=r"ksr.estimated_depth must be in \[0, 1\], got 1.5"):
        load_config(tiny_config(tmp_path, "h", "ksr"), {"ksr.estimated_depth": 1.5})
    with pytest.raises(ConfigError, match="dkenet_code.val_depth must be one of flat, builtin, got 'gt'"):
        load_config(tiny_config(tmp_path, "i", "dkenet_code"), {"dkenet_code.val_depth": "gt"})


def test_coercion_reads_type_hints_structurally():
    from ssr.settings import coerce

    assert coerce(3, float, "x") == 3.0 and isinstance(coerce(3, float, "x"), float)
    assert coerce(2.0, int, "x") == 2 and coerce(None, int | None, "x") is None
    assert coerce([1, 2.0], list[int], "x") == [1, 2] and coerce("a", str | None, "x") == "a"
    assert coerce("0.5", float, "x", from_text=True) == 0.5 and coerce("true", bool, "x", from_text=True) is True
    for value, hint in [(True, int), (2.5, int), ("1", int), (1, bool), (1, str), ([1.5], list[int])]:
        with pytest.raises(ConfigError, match="invalid value"):
            coerce(value, hint, "x")


@pytest.mark.parametrize("stage", ["rrdb", "dkenet", "depth", "ksr", "dkenet_code"])
def test_training_runs_logs_and_exports_loadable_weights(tmp_path, stage):
    config = load_config(tiny_config(tmp_path, stage, stage))
    result = train(config)
    assert result["step"] == 3
    rows = (Path(config.log.out_dir) / "log.csv").read_text().splitlines()
    term = {"rrdb": "l1", "dkenet": "kernel_mse", "depth": "ssi_mse", "ksr": "charbonnier",
            "dkenet_code": "code_mse"}[stage]
    assert rows[0] == f"step,loss,{term},lr,val,elapsed_s" and len(rows) == 4
    assert all(row.split(",")[1] == row.split(",")[2] for row in rows[1:])  # one term: loss = the term
    descriptor = load_model(Path(result["weights"]))
    assert descriptor.architecture == {"rrdb": "ssr.rrdb", "dkenet": "ssr.dkenet", "depth": "ssr.depthnet",
                                       "ksr": "ssr.ksrnet", "dkenet_code": "ssr.dkenet"}[stage]
    lr = torch.rand(1, 3, 10, 12)
    kernels = torch.softmax(torch.rand(1, 441, 10, 12), 1)
    with torch.no_grad():
        if stage in ("rrdb", "ksr"):
            assert descriptor.model(lr, kernels).shape == (1, 3, 40, 48)
        elif stage == "dkenet":
            assert descriptor.model(lr, torch.rand(1, 1, 10, 12)).shape == (1, 441, 10, 12)
        elif stage == "dkenet_code":
            assert descriptor.model(lr, torch.rand(1, 1, 10, 12)).shape == (1, 4, 10, 12)  # codes, not taps
        else:
            assert descriptor.model(lr).shape == (1, 1, 10, 12)
            assert float(rows[-1].split(",")[4]) >= 0  # AbsRel on the held-out split was computed


def test_resume_equals_an_uninterrupted_run(tmp_path):
    straight = train(load_config(tiny_config(tmp_path, "straight", steps=4)))
    path = tiny_config(tmp_path, "pieces", steps=4)
    train(load_config(path), max_steps=2)
    resumed = train(load_config(path), resume=True)
    assert resumed["step"] == 4
    a, b = load_file(straight["weights"]), load_file(resumed["weights"])
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)


def test_torchrun_two_processes_match_one_process(tmp_path):
    single = train(load_config(tiny_config(tmp_path, "single")))
    config_path = tiny_config(tmp_path, "ddp")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "ssr.cli", "--quiet", "train", str(config_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    out_dir = tmp_path / "ddp"
    ranks = [json.loads((out_dir / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [(r["rank"], r["world"], r["step"]) for r in ranks] == [(0, 2, 3), (1, 2, 3)]
    a, b = load_file(single["weights"]), load_file(str(out_dir / "model.safetensors"))
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5)


def test_init_from_exported_weights(tmp_path):
    first = train(load_config(tiny_config(tmp_path, "first", steps=2)))
    config = load_config(tiny_config(tmp_path, "second", steps=1), {"init": first["weights"], "optim.lr": 0.0})
    second = train(config)
    a, b = load_file(first["weights"]), load_file(second["weights"])
    for key in a:  # lr 0: the EMA of unchanged weights stays the initial (exported) weights
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-7)


def test_init_across_scales_keeps_only_the_missing_upsampler_stage_fresh(tmp_path):
    x2 = train(load_config(tiny_config(tmp_path, "x2", steps=1), {"scale": 2}))
    x4 = load_config(tiny_config(tmp_path, "x4", steps=1))
    model = build_model(x4)
    skipped = initialise_from(model, Path(x2["weights"]))
    assert skipped == ["upsample.3.bias", "upsample.3.weight"]  # x4 has a second x2 stage
    source = load_file(x2["weights"])
    for name in ("head.weight", "upsample.0.weight", "tail.weight"):
        torch.testing.assert_close(model.state_dict()[name], source[name], rtol=0, atol=0)
    depth = train(load_config(tiny_config(tmp_path, "dnet", "depth", steps=1)))
    with pytest.raises(ConfigError, match="do not fit"):
        initialise_from(build_model(x4), Path(depth["weights"]))


def test_rrdb_can_learn_from_estimated_kernels(tmp_path):
    dkenet = train(load_config(tiny_config(tmp_path, "dke", "dkenet", steps=1)))
    config = load_config(tiny_config(tmp_path, "stage2", steps=2), {"rrdb.kernel_estimator": dkenet["weights"]})
    assert train(config)["step"] == 2
    with pytest.raises(ConfigError, match="kernel_estimator"):
        load_config(tiny_config(tmp_path, "bad"), {"rrdb.kernel_estimator": "''"})


def test_dkenet_and_rrdb_train_on_dof_pairs_with_depth(tmp_path):
    for stage in ("dkenet", "rrdb"):
        overrides = {f"{stage}.dof_fraction": 0.5, f"{stage}.depth_root": str(tmp_path / "depth")}
        config = load_config(tiny_config(tmp_path, f"dof_{stage}", stage, steps=2), overrides)
        result = train(config)
        assert result["step"] == 2 and np.isfinite(result["val"])
    with pytest.raises(ConfigError, match="dof_fraction"):
        load_config(tiny_config(tmp_path, "bad_dof"), {"rrdb.dof_fraction": 1.5})


def test_sigterm_stops_with_a_checkpoint(tmp_path):
    import signal
    import time

    config_path = tiny_config(tmp_path, "long", steps=100000)
    process = subprocess.Popen([sys.executable, "-m", "ssr.cli", "--quiet", "train", str(config_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    log = tmp_path / "long" / "log.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 3):
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr[-2000:]
    state = torch.load(tmp_path / "long" / "checkpoint.pt", weights_only=False)
    assert 2 <= state["step"] < 100000
    assert load_model(tmp_path / "long" / "model.safetensors").metadata["step"] == str(state["step"])


def test_ksr_stage_two_gives_a_fixed_share_of_pairs_the_estimators_codes(tmp_path):
    from ssr.models.dkenet import DKENet
    from ssr.models.registry import save_model
    from ssr.train.stages.ksr import KSRStage

    torch.manual_seed(0)
    estimator_path = tmp_path / "dkenet_code.safetensors"
    save_model(estimator_path, "ssr.dkenet", DKENet(channels=8, depth_channels=4, code_dim=4), 4,
               {"channels": 8, "depth_channels": 4, "code_dim": 4})
    config = load_config(tiny_config(tmp_path, "mix", "ksr"),
                         {"ksr.estimated_share": 0.5, "ksr.estimator": str(estimator_path)})
    stage = KSRStage(config)
    model = stage.build_model()
    mixed, _ = stage.load_data(0, torch.device("cpu"), 0, model)
    everything = torch.arange(len(mixed))
    got, true = mixed.batch(everything), mixed.cache.batch(everything)
    with torch.no_grad():
        estimated = load_model(estimator_path).model(true["lr"], true["depth"]).half().float()
    chosen = mixed.use_estimate
    assert 0 < int(chosen.sum()) < len(mixed)  # a share, not all or none (16 pairs, share 0.5)
    assert torch.equal(got["codes"][chosen], estimated[chosen])
    assert torch.equal(got["codes"][~chosen], true["codes"][~chosen])
    assert not torch.equal(estimated[chosen], true["codes"][chosen])
    # the validation is then blind: the body gets the estimator's codes, as in the pipeline
    from ssr.arrays import FLAT_DEPTH
    from ssr.train.data import build_val_set

    item = build_val_set(config.settings.val_dirs[0], 1, 4, config.seed, 21)[0]
    with torch.no_grad():
        blind = model.forward_codes(item.lr, stage.estimator(item.lr, torch.full_like(item.lr[:, :1], FLAT_DEPTH)))
        oracle = model(item.lr, item.kernels)
    from ssr.arrays import from_nchw, quantise
    from ssr.metrics.psnr_ssim import psnr_y

    assert stage.validate(model, [item]) == pytest.approx(psnr_y(quantise(from_nchw(blind)), item.hr, crop_border=4))
    assert not torch.equal(blind, oracle)
    with pytest.raises(ConfigError, match="estimated_share > 0 needs ksr.estimator"):
        load_config(tiny_config(tmp_path, "mix2", "ksr"), {"ksr.estimated_share": 0.5})


def test_dkenet_code_trains_and_validates_with_the_builtin_depth_estimate(tmp_path):
    """estimated_depth: the cache's depth inputs come from the shipped DepthNet on each LR;
    val_depth builtin: validation gives the estimator that same net's map of the validation LR."""
    from ssr.depth import make_depth_estimator
    from ssr.train.stages.dkenet_code import DKENetCodeStage

    config = load_config(tiny_config(tmp_path, "est", "dkenet_code"),
                         {"dkenet_code.estimated_depth": 1.0, "dkenet_code.val_depth": "builtin",
                          "dkenet_code.dof": 0.0})
    stage = DKENetCodeStage(config)
    cache, val = stage.load_data(0, torch.device("cpu"), 0, stage.build_model())
    depth = make_depth_estimator("builtin")
    lr0 = cache.lr[0].permute(1, 2, 0).float().numpy() / 255
    np.testing.assert_allclose(cache.depth[0, 0].float().numpy(), depth(lr0), atol=2e-3)  # float16 storage
    item = val[0]
    expected = depth(item.lr[0].permute(1, 2, 0).numpy())
    np.testing.assert_allclose(stage.val_depth(item.lr)[0, 0].numpy(), expected, atol=1e-3)  # float16 too
    assert float(np.ptp(expected)) > 0.05  # a real map, not the flat 0.5 of val_depth flat
    assert train(config)["step"] == 3
