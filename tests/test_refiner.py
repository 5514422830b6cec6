"""The diffusion refiner (issue 11): ResShift schedule and steps against their closed forms, noise fixed
per absolute position, AMF's zero-initialised injection, tiled == untiled sampling, the training stage,
and `ssr upscale --refine diffusion` end to end."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from util import image_folder, save_png, skip_without_peers, smooth_image, write_fake_stlpips, write_tiny_weights
from ssr.cli import main
from ssr.diffusion import DiffusionSchedule, inference_timesteps, initial_state, positional_noise, q_sample, reverse_step
from ssr.models.discriminator import PatchDiscriminator
from ssr.models.refiner import RefinerNet
from ssr.models.registry import load_model
from ssr.refine import sample
from ssr.train.config import load_config
from ssr.train.trainer import train


def test_schedule_endpoints_growth_and_respacing():
    schedule = DiffusionSchedule(steps=4, kappa=0.5, eta_1=0.04 ** 2, eta_T=0.99, power=0.3)
    etas = schedule.etas()
    assert etas[0].item() == pytest.approx(0.0016) and etas[-1].item() == pytest.approx(0.99)
    assert bool((etas[1:] > etas[:-1]).all())
    # sqrt(eta_t) = sqrt(eta_1) b0^beta_t with beta_t = ((t-1)/(T-1))^p (T-1): check t = 2 by hand
    b0 = math.exp(math.log(math.sqrt(0.99) / 0.04) / 3)
    assert etas[1].item() == pytest.approx((0.04 * b0 ** ((1 / 3) ** 0.3 * 3)) ** 2)
    assert inference_timesteps(schedule, 1) == [3]
    assert inference_timesteps(schedule, 2) == [3, 0]
    assert inference_timesteps(schedule, 4) == [3, 2, 1, 0]
    with pytest.raises(ValueError):
        inference_timesteps(schedule, 5)


def test_reverse_step_keeps_the_forward_marginals():
    """If x_t ~ q(x_t | x0, y0) and the step is given the true x0, x_s must follow q(x_s | x0, y0)."""
    g = torch.Generator().manual_seed(0)
    x0, y0 = torch.full((200_000,), 0.2), torch.full((200_000,), 0.7)
    kappa, eta_t, eta_s = 0.5, 0.6, 0.1
    x_t = q_sample(x0, y0, torch.tensor(eta_t), kappa, torch.randn(x0.shape, generator=g))
    assert x_t.mean().item() == pytest.approx(0.2 + 0.6 * 0.5, abs=3e-3)
    assert x_t.std().item() == pytest.approx(kappa * math.sqrt(eta_t), rel=1e-2)
    x_s = reverse_step(x_t, x0, eta_t, eta_s, kappa, torch.randn(x0.shape, generator=g))
    assert x_s.mean().item() == pytest.approx(0.2 + 0.1 * 0.5, abs=3e-3)
    assert x_s.std().item() == pytest.approx(kappa * math.sqrt(eta_s), rel=1e-2)
    # the end of the chain returns the estimate; no noise = the posterior mean
    assert torch.equal(reverse_step(x_t, x0, eta_t, None, kappa, None), x0)
    mean = reverse_step(x_t[:3], x0[:3], eta_t, eta_s, kappa, None)
    torch.testing.assert_close(mean, (eta_s / eta_t) * x_t[:3] + (1 - eta_s / eta_t) * x0[:3])
    assert torch.equal(initial_state(y0[:3], 0.99, kappa, torch.ones(3), noise_scale=0.0), y0[:3])


def test_noise_is_fixed_per_absolute_position():
    full = positional_noise(7, 1, 5, 0, 0, 70, 90)
    window = positional_noise(7, 1, 5, 13, 41, 30, 33)
    assert torch.equal(window, full[:, :, 13:43, 41:74])
    assert torch.equal(full, positional_noise(7, 1, 5, 0, 0, 70, 90))
    assert not torch.equal(full, positional_noise(8, 1, 5, 0, 0, 70, 90))
    assert not torch.equal(full, positional_noise(7, 2, 5, 0, 0, 70, 90))
    assert abs(full.mean().item()) < 0.02 and full.std().item() == pytest.approx(1.0, abs=0.02)


def _inputs(h: int = 20, w: int = 26, code_dim: int = 6):
    g = torch.Generator().manual_seed(1)
    lr = torch.rand(1, 3, h, w, generator=g)
    y0 = torch.nn.functional.interpolate(lr, scale_factor=4, mode="bicubic", align_corners=False).clamp(0, 1)
    return y0, lr, torch.randn(1, code_dim, h, w, generator=g), torch.rand(1, 1, h, w, generator=g)


def _perturbed(net: RefinerNet) -> RefinerNet:
    torch.manual_seed(3)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return net.eval()


def test_a_fresh_refiner_returns_its_start_and_amf_starts_silent():
    net = RefinerNet(scale=4, widths=(8, 12), code_dim=6).eval()
    y0, lr, codes, depth = _inputs()
    with torch.no_grad():
        cond = net.condition(lr, codes, depth)
    assert all(float(c.abs().max()) == 0 for c in cond)  # zero-initialised injection
    out = sample(net, y0, lr, codes, depth, steps=2, seed=0, fidelity=0.0)
    torch.testing.assert_close(out, y0, rtol=0, atol=1e-6)


def test_modalities_switch_the_kernel_and_depth_inputs_off():
    net = _perturbed(RefinerNet(scale=4, widths=(8, 12), code_dim=6, modalities=("lr", "depth")))
    y0, lr, codes, depth = _inputs()
    x = net.unshuffle(y0)
    with torch.no_grad():
        a = net(x, x, torch.tensor([1]), net.condition(lr, codes, depth))
        b = net(x, x, torch.tensor([1]), net.condition(lr, codes * 3, depth))
        c = net(x, x, torch.tensor([1]), net.condition(lr, codes, depth.flip(-1)))
    assert torch.equal(a, b) and not torch.equal(a, c)
    with pytest.raises(ValueError):
        RefinerNet(modalities=("kernel",))


def test_sampling_is_seeded_and_tiled_equals_untiled():
    net = _perturbed(RefinerNet(scale=4, widths=(8, 12), code_dim=6))
    y0, lr, codes, depth = _inputs(40, 52)
    whole = sample(net, y0, lr, codes, depth, steps=4, seed=5, fidelity=0.0)
    again = sample(net, y0, lr, codes, depth, steps=4, seed=5, fidelity=0.0)
    tiled = sample(net, y0, lr, codes, depth, steps=4, seed=5, fidelity=0.0, tile=24, overlap=8)
    other = sample(net, y0, lr, codes, depth, steps=4, seed=6, fidelity=0.0)
    assert torch.equal(whole, again)
    assert float((whole - tiled).abs().max()) <= 1 / 255
    assert float((whole - other).abs().max()) > 1e-3
    a = sample(net, y0, lr, codes, depth, steps=2, seed=5, fidelity=1.0)
    b = sample(net, y0, lr, codes, depth, steps=2, seed=6, fidelity=1.0)
    assert torch.equal(a, b)  # fidelity 1: no noise, the seed does not matter


def test_refiner_stage_trains_every_loss_and_exports_a_loadable_refiner(tiny_weights, tmp_path):
    images = image_folder(tmp_path / "images")
    config = {"stage": "refiner", "scale": 4, "seed": 1, "threads": 1,
              "data": {"train_dirs": [str(images)], "val_images": 1, "cache_size": 8},
              "refiner": {"widths": [8, 8], "patch_lr": 8, "dof": 0.0, "perceptual_pool": 1, "texture": 0.5,
                          "perceptual_file": str(write_fake_stlpips(tmp_path / "alex.pth")), "val_dirs": [str(images)]},
              "optim": {"lr": 1e-3, "batch_size": 4, "steps": 3, "ema": 0.5},
              "log": {"out_dir": str(tmp_path / "run"), "val_every": 2, "log_every": 1, "checkpoint_minutes": 100}}
    path = tmp_path / "refiner.yaml"
    path.write_text(yaml.safe_dump(config))
    train(load_config(path), max_steps=2)
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert rows[0] == "step,loss,diffusion,consistency,perceptual,texture,lr,val,elapsed_s"
    last = dict(zip(rows[0].split(","), rows[-1].split(",")))
    assert all(float(last[k]) > 0 for k in ("diffusion", "consistency", "perceptual", "texture", "val"))
    # resumed with the adversarial term switched on: the log gains its columns, earlier rows keep their values
    config["refiner"].update(adversarial=0.1, disc_width=4)
    path.write_text(yaml.safe_dump(config))
    result = train(load_config(path), resume=True)
    rows = [r.split(",") for r in (tmp_path / "run" / "log.csv").read_text().splitlines()]
    assert rows[0] == "step,loss,diffusion,consistency,perceptual,texture,adversarial,disc,lr,val,elapsed_s".split(",")
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"] and all(len(r) == 11 for r in rows)
    assert rows[2][6] == rows[2][7] == "" and float(rows[2][9]) > 0  # step 2: before the term, its val kept
    assert float(rows[3][6]) > 0 and float(rows[3][7]) > 0 and float(rows[3][2]) > 0
    descriptor = load_model(Path(result["weights"]))
    assert descriptor.architecture == "ssr.refiner" and descriptor.model.code_dim == 6  # the tiny SR's code


def test_refiner_stage_starts_from_the_given_sr_and_code_predicting_dkenet_files(tiny_weights, tmp_path):
    """`start_sr` + `start_dkenet` (e.g. the KSR body and the code-predicting DKENet) replace the set's SVKR:
    y0 is that SR network run on the DKENet's codes, the exported refiner records that network's code, and a
    file of the wrong role is a config error."""
    from ssr.errors import ConfigError
    from ssr.models.dkenet import DKENet
    from ssr.models.ksrnet import KSRNet
    from ssr.models.registry import save_model
    from ssr.train.stages.ksr import code_prior
    from ssr.train.stages.refiner import RefinerStage

    torch.manual_seed(0)
    ksr, dkenet = KSRNet(channels=8, blocks=1, code_dim=4), DKENet(channels=8, depth_channels=4, code_dim=4)
    ksr.code.fit(code_prior(21, 4, 0))
    save_model(tmp_path / "ksr.safetensors", "ssr.ksrnet", ksr, 4, {"channels": 8, "blocks": 1, "code_dim": 4})
    save_model(tmp_path / "code.safetensors", "ssr.dkenet", dkenet, 4,
               {"channels": 8, "depth_channels": 4, "code_dim": 4})
    images = image_folder(tmp_path / "images")
    config = {"stage": "refiner", "scale": 4, "seed": 1, "threads": 1,
              "data": {"train_dirs": [str(images)], "val_images": 1, "cache_size": 8},
              "refiner": {"widths": [8, 8], "patch_lr": 8, "dof": 0.0, "perceptual": 0.0,
                          "start_sr": str(tmp_path / "ksr.safetensors"),
                          "start_dkenet": str(tmp_path / "code.safetensors"),
                          "perceptual_file": str(write_fake_stlpips(tmp_path / "alex.pth")), "val_dirs": [str(images)]},
              "optim": {"lr": 1e-3, "batch_size": 4, "steps": 1, "ema": 0.5},
              "log": {"out_dir": str(tmp_path / "run"), "val_every": 1, "log_every": 1, "checkpoint_minutes": 100}}
    path = tmp_path / "refiner.yaml"
    path.write_text(yaml.safe_dump(config))
    stage = RefinerStage(load_config(path))
    lr, depth = torch.rand(1, 3, 10, 12), torch.rand(1, 1, 10, 12)
    y0, codes = stage.start_point(lr, depth)
    with torch.no_grad():
        expected_codes = dkenet.eval()(lr, depth)
        expected = ksr.eval().forward_codes(lr, expected_codes).clamp(0, 1)
    torch.testing.assert_close(codes, expected_codes)
    torch.testing.assert_close(y0, expected, rtol=0, atol=1e-5)  # decoded taps re-encode to the same codes
    result = train(load_config(path))
    refiner = load_model(Path(result["weights"])).model
    assert refiner.code_dim == 4 and refiner.code_id == ksr.code.fingerprint()
    config["refiner"]["start_sr"] = str(tmp_path / "code.safetensors")
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match="start_sr .* not sr"):
        RefinerStage(load_config(path))


def test_adversarial_term_steps_its_own_discriminator_and_resumes_it(tiny_weights, tmp_path):
    images = image_folder(tmp_path / "images")
    config = {"stage": "refiner", "scale": 4, "seed": 1, "threads": 1,
              "data": {"train_dirs": [str(images)], "val_images": 1, "cache_size": 8},
              "refiner": {"widths": [8, 8], "patch_lr": 8, "dof": 0.0, "perceptual": 0.0, "adversarial": 0.1,
                          "disc_width": 4, "disc_lr": 1e-2,
                          "perceptual_file": str(write_fake_stlpips(tmp_path / "alex.pth")), "val_dirs": [str(images)]},
              "optim": {"lr": 1e-3, "batch_size": 4, "steps": 3, "ema": 0.5},
              "log": {"out_dir": str(tmp_path / "run"), "val_every": 3, "log_every": 1, "checkpoint_minutes": 100}}
    path = tmp_path / "refiner.yaml"
    path.write_text(yaml.safe_dump(config))
    train(load_config(path), max_steps=2)
    first = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["stage"]
    torch.manual_seed(1)
    fresh = PatchDiscriminator(4).state_dict()
    assert set(first) == {"disc", "disc_optimizer"}
    assert any(not torch.equal(first["disc"][k], fresh[k]) for k in fresh)  # it was stepped
    assert first["disc_optimizer"]["state"]  # with its own Adam moments
    train(load_config(path), resume=True)
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert rows[0] == "step,loss,diffusion,consistency,adversarial,disc,lr,val,elapsed_s"
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3"]
    for row in rows[1:]:
        last = dict(zip(rows[0].split(","), row.split(",")))
        # BCE of an untrained critic is near 2 ln 2 (real + fake terms); the generator's term near 0.1 ln 2
        assert 0.5 < float(last["disc"]) < 3.0 and 0.0 < float(last["adversarial"]) < 0.5
    final = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["stage"]
    # the resumed run continued the saved discriminator's Adam: its step count went on from 2 to 3
    assert int(final["disc_optimizer"]["state"][0]["step"]) == 3


def test_upscale_refine_diffusion_end_to_end(tmp_path, monkeypatch, capsys):
    weights = write_tiny_weights(tmp_path / "weights", with_refiner=True)
    monkeypatch.setenv("SSR_WEIGHTS", str(weights))
    image = save_png(tmp_path / "photo.png", smooth_image(4, 30, 34))
    args = ["upscale", str(image), "--refine", "diffusion", "--steps", "2", "--seed", "4", "--fidelity", "0.3",
            "--tile", "16", "--tile-overlap", "4"]
    assert main([*args, "-o", str(tmp_path / "a.png")]) == 0
    assert main([*args, "-o", str(tmp_path / "b.png")]) == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()  # same seed: bit-identical
    assert main(["upscale", str(image), "-o", str(tmp_path / "plain.png")]) == 0
    from ssr.io import read_image

    refined, plain = read_image(tmp_path / "a.png").pixels, read_image(tmp_path / "plain.png").pixels
    assert refined.shape == plain.shape == (120, 136, 3) and float(np.abs(refined - plain).max()) > 0
    capsys.readouterr()
    assert main([*args[:2], "--refine", "diffusion", "--fidelity", "2", "-o", str(tmp_path / "c.png")]) == 2
    assert "ssr: --fidelity must be in [0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "c.png").exists()


def test_a_bicubic_start_refiner_starts_from_the_bicubic_enlargement(tmp_path, monkeypatch):
    """The ablation without the SVKR start point: the loaded model's `start` makes the pipeline hand it
    the bicubic enlargement; an untrained refiner at fidelity 1 returns its start, so the output IS
    torch's bicubic x4 of the input (to 8-bit rounding), not the SVKR output."""
    weights = write_tiny_weights(tmp_path / "weights", with_refiner=True, refiner_start="bicubic",
                                 perturb_refiner=False)
    monkeypatch.setenv("SSR_WEIGHTS", str(weights))
    pixels = smooth_image(5, 30, 34)
    image = save_png(tmp_path / "photo.png", pixels)
    out = tmp_path / "out.png"
    assert main(["upscale", str(image), "--refine", "diffusion", "--fidelity", "1", "-o", str(out), "-q"]) == 0
    from ssr.io import read_image
    from ssr.models.refiner import bicubic_start

    lr = torch.from_numpy(read_image(image).pixels.transpose(2, 0, 1).copy())[None]  # floats in [0, 1]
    expected = bicubic_start(lr, 4)[0].numpy().transpose(1, 2, 0)
    assert np.abs(read_image(out).pixels - expected).max() <= 0.51 / 255  # 8-bit rounding only
    assert main(["upscale", str(image), "-o", str(tmp_path / "svkr.png"), "-q"]) == 0
    assert np.abs(read_image(tmp_path / "svkr.png").pixels - expected).max() > 10 / 255


def test_a_refiner_of_another_code_space_is_refused(tmp_path, monkeypatch, capsys):
    weights = write_tiny_weights(tmp_path / "weights", with_refiner=True, refiner_code_id="0123456789abcdef")
    monkeypatch.setenv("SSR_WEIGHTS", str(weights))
    image = save_png(tmp_path / "photo.png", smooth_image(4, 20, 24))
    out = tmp_path / "out.png"
    assert main(["upscale", str(image), "--refine", "diffusion", "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ssr: the refiner") and "another SR network's kernel code" in err and "\n" not in err
    assert not out.exists()
    from ssr.models.registry import load_model

    matching = load_model(write_tiny_weights(tmp_path / "ok", with_refiner=True) / "refiner.safetensors").model
    rrdb = load_model(tmp_path / "ok" / "rrdb.safetensors").model
    assert matching.code_id == rrdb.code.fingerprint() and len(matching.code_id) == 16


def test_refine_without_refiner_weights_is_a_one_line_error(tiny_weights, tmp_path, capsys):
    image = save_png(tmp_path / "photo.png", smooth_image(4, 20, 24))
    assert main(["upscale", str(image), "--refine", "diffusion", "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ssr: no refiner weights for x4") and not (tmp_path / "x.png").exists()


@pytest.mark.peers
def test_stlpips_distance_equals_the_wheel():
    try:
        from stlpips_pytorch import stlpips
    except ImportError as exc:
        skip_without_peers(f"stlpips-pytorch with torchvision is not installed ({exc})")
    from ssr.models.stlpips import load_stlpips

    reference = stlpips.LPIPS(net="alex", variant="shift_tolerant", verbose=False).eval()
    g = torch.Generator().manual_seed(0)
    a = torch.rand(2, 3, 64, 64, generator=g)
    b = (a + 0.1 * torch.rand(2, 3, 64, 64, generator=g)).clamp(0, 1)
    with torch.no_grad():
        theirs = reference(a * 2 - 1, b * 2 - 1).flatten()
        ours = load_stlpips().distance(a, b)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-7)


def test_grain_control_is_seeded_gaussian_of_the_asked_std(tiny_weights):
    from ssr.methods import make_method

    image = smooth_image(2, 40, 44) * 0.5 + 0.25  # mid-grey: no clipping
    plain = make_method("ssr").upscale(image, 4).image
    grained = make_method("ssr", grain=6.0, seed=3).upscale(image, 4).image
    again = make_method("ssr:grain=6.0,seed=3").upscale(image, 4).image
    diff = (grained - plain) * 255
    assert abs(float(diff.std()) - 6.0) < 0.15 and abs(float(diff.mean())) < 0.2
    assert np.array_equal(grained, again)  # the spec form sets the same options
    assert np.allclose(diff[..., 0], diff[..., 2], atol=1e-3)  # one field for every channel (film grain)


def test_cascade_reduces_the_first_output_and_runs_the_second():
    from ssr.imresize import imresize
    from ssr.methods import make_method

    image = smooth_image(5, 12, 14)
    method = make_method("bicubic>lanczos")
    out = method.upscale(image, 4).image
    first = make_method("bicubic").upscale(image, 4).image
    expected = make_method("lanczos").upscale(np.clip(imresize(first, output_shape=(12, 14)), 0, 1).astype(np.float32),
                                              4).image
    assert method.name == "bicubic>lanczos" and out.shape == (48, 56, 3)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def _tiny_sd(folder: Path, upscaler: bool = False) -> Path:
    """A randomly initialised diffusers folder (unet/, vae/, scheduler/): the real code path, tiny sizes."""
    diffusers = pytest.importorskip("diffusers")
    torch.manual_seed(0)
    latent = 4
    unet = diffusers.UNet2DConditionModel(
        sample_size=8, in_channels=latent + (3 if upscaler else 0), out_channels=latent, layers_per_block=1,
        block_out_channels=(8, 16), down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=8, norm_num_groups=4,
        attention_head_dim=2, **({"class_embed_type": None, "num_class_embeds": 4} if upscaler else {}))
    vae = diffusers.AutoencoderKL(in_channels=3, out_channels=3, latent_channels=latent, norm_num_groups=4,
                                  down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
                                  block_out_channels=(8, 8, 8), layers_per_block=1, sample_size=32)
    unet.save_pretrained(folder / "unet")
    vae.save_pretrained(folder / "vae")
    diffusers.DDIMScheduler(num_train_timesteps=50).save_pretrained(folder / "scheduler")
    return folder


@pytest.mark.parametrize("upscaler", [False, True])
def test_sd_backend_trains_an_adapter_and_refines_through_it(tiny_weights, tmp_path, upscaler, capsys):
    import shutil

    from ssr.sd_backend import ADAPTER_FILE, SDAdapter, SDComponents, sd_refine

    sd = _tiny_sd(tmp_path / "sd", upscaler)
    images = image_folder(tmp_path / "images")
    config = {"stage": "sd_adapter", "scale": 4, "seed": 1, "threads": 1,
              "data": {"train_dirs": [str(images)], "val_images": 1, "cache_size": 4},
              "sd_adapter": {"sd_dir": str(sd), "width": 8, "patch_lr": 8, "dof": 0.0,
                             "perceptual_file": str(write_fake_stlpips(tmp_path / "alex.pth")), "val_dirs": [str(images)]},
              "optim": {"lr": 1e-3, "batch_size": 2, "steps": 1, "ema": 0.5},
              "log": {"out_dir": str(tmp_path / "run"), "val_every": 1, "log_every": 1, "checkpoint_minutes": 100}}
    path = tmp_path / "sd.yaml"
    path.write_text(yaml.safe_dump(config))
    result = train(load_config(path))  # one training step through the frozen UNet and VAE
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert rows[0] == "step,loss,diffusion,lr,val,elapsed_s" and float(rows[-1].split(",")[2]) > 0
    adapter = load_model(Path(result["weights"]))
    assert adapter.architecture == "ssr.sd_adapter"
    # a fresh adapter leaves the UNet unchanged (zero-initialised residuals)
    parts = SDComponents(sd)
    fresh = SDAdapter.for_unet(dict(parts.unet.config), code_dim=6, width=8)
    y0, lr, codes, depth = _inputs(10, 12)
    with torch.no_grad():
        down, mid = fresh(lr, codes, depth, (20, 24))
    assert all(float(r.abs().max()) == 0 for r in (*down, mid))
    a = sd_refine(parts, fresh, y0, lr, codes, depth, steps=2, seed=3, fidelity=0.5)
    b = sd_refine(parts, fresh, y0, lr, codes, depth, steps=2, seed=3, fidelity=0.5)
    assert a.shape == y0.shape and torch.equal(a, b)
    # the CLI path: the trained adapter copied into the folder, then `--backend sd:DIR`
    shutil.copy(result["weights"], sd / ADAPTER_FILE)
    image = save_png(tmp_path / "photo.png", smooth_image(4, 12, 14))
    assert main(["upscale", str(image), "--refine", "diffusion", "--backend", f"sd:{sd}", "--steps", "2",
                 "-o", str(tmp_path / "out.png")]) == 0
    from ssr.io import read_image

    assert read_image(tmp_path / "out.png").pixels.shape == (48, 56, 3)
    capsys.readouterr()
    assert main(["upscale", str(image), "--refine", "diffusion", "--backend", f"sd:{tmp_path}",
                 "-o", str(tmp_path / "bad.png")]) == 2
    assert "no unet/ folder" in capsys.readouterr().err and not (tmp_path / "bad.png").exists()


def test_grid_strength_measures_a_pixel_grid_pattern():
    """bench/grid_strength.py (the refiner's screen-door check) on hand-built cases: a flat image has
    no grid; adding +a on one phase of every 4x4 block (and 0 elsewhere) gives phase means of the
    high-pass residual a*(1 - 1/25*(#phase hits in the 5x5 box)), whose std is known in closed form."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "bench" / "grid_strength.py"
    spec = importlib.util.spec_from_file_location("grid_strength", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    flat = np.full((64, 64, 3), 0.5)
    assert module.grid_strength(flat, 4) == pytest.approx(0.0, abs=1e-9)
    a = 8 / 255
    dotted = flat.copy()
    dotted[::4, ::4] += a
    # residual at the dotted phase: a - a*(box hits)/25; a 5x5 box centred on a dot covers 4 dots
    # (rows -4..4 step 4 within +-2: only 0 -> 1 row; same for columns -> 1 dot): a*(1 - 1/25).
    # Other phases: the box around them holds 1 dot when within 2 px in both axes, else 0.
    phase = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            hits = sum(1 for di in range(-2, 3) for dj in range(-2, 3) if (i + di) % 4 == 0 and (j + dj) % 4 == 0)
            phase[i, j] = a * ((1.0 if i == 0 and j == 0 else 0.0) - hits / 25)
    assert module.grid_strength(dotted, 4) == pytest.approx(float(phase.std() * 255), rel=0.02)
    assert module.grid_strength(dotted, 4) > 1.0


def test_flat_texture_measures_invented_texture_where_the_hr_is_flat():
    """bench/flat_texture.py: on a flat HR, an output carrying a +-a checkerboard scores a*(1 - 1/25)
    away from the borders (a 5x5 box over a checkerboard averages to +-a/25), a copy of the HR scores 0,
    and an HR with no flat region is skipped."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "bench" / "flat_texture.py"
    spec = importlib.util.spec_from_file_location("flat_texture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    hr = np.full((400, 400, 3), 0.5)
    a = 4 / 255
    checker = hr + a * np.where((np.indices((400, 400)).sum(0) % 2) == 0, 1.0, -1.0)[..., None]
    assert module.flat_texture(hr, hr) == pytest.approx(0.0, abs=1e-9)
    assert module.flat_texture(checker, hr) == pytest.approx(a * 24 / 25 * 255, rel=0.02)  # borders: < 2%
    assert module.flat_texture(hr, checker) is None  # the checkerboard HR has no flat pixel


def test_texture_loss_compares_local_detail_energy_in_log_scale():
    """ssr.train.texture: a +-a grey checkerboard has high-pass luma +-a*24/25 everywhere (a 5x5 box over it
    averages to +-a/25; reflect padding keeps the pattern), so its local energy is a*24/25; against a flat
    target the loss is log(1 + 255*a*24/25) (floor 1/255); a copy scores 0; more invented detail costs more,
    and the loss is symmetric (wax costs like mesh)."""
    from ssr.train.texture import local_energy, texture_loss

    flat = torch.full((1, 3, 32, 32), 0.5)
    sign = torch.where((torch.arange(32).view(-1, 1) + torch.arange(32).view(1, -1)) % 2 == 0, 1.0, -1.0)

    def checker(a: float) -> torch.Tensor:
        return flat + a * sign

    a = 4 / 255
    assert torch.allclose(local_energy(checker(a)), torch.full((1, 1, 32, 32), a * 24 / 25), atol=1e-6)
    assert float(local_energy(flat).max()) < 1e-5
    assert float(texture_loss(flat, flat)) == pytest.approx(0.0, abs=1e-6)
    assert float(texture_loss(checker(a), flat)) == pytest.approx(math.log(1 + 255 * a * 24 / 25), rel=1e-3)  # float32
    assert float(texture_loss(flat, checker(a))) == pytest.approx(float(texture_loss(checker(a), flat)), rel=1e-6)
    assert float(texture_loss(checker(2 * a), flat)) > float(texture_loss(checker(a), flat))
    # excess only: the mesh on a flat target costs the same, missing detail costs nothing
    assert float(texture_loss(checker(a), flat, excess_only=True)) == pytest.approx(
        float(texture_loss(checker(a), flat)), rel=1e-6)
    assert float(texture_loss(flat, checker(a), excess_only=True)) == 0.0


def test_texture_side_is_validated(tmp_path):
    from ssr.errors import ConfigError

    config = {"stage": "refiner", "scale": 4, "seed": 1, "data": {"train_dirs": [str(tmp_path)]},
              "refiner": {"texture": 1.0, "texture_side": "excess", "dof": 0.0, "val_dirs": [str(tmp_path)]},
              "log": {"out_dir": str(tmp_path / "run")}}
    path = tmp_path / "refiner.yaml"
    path.write_text(yaml.safe_dump(config))
    assert load_config(path).settings.texture_side == "excess"
    with pytest.raises(ConfigError, match="refiner.texture_side must be one of both, excess, got 'above'"):
        load_config(path, {"refiner.texture_side": "above"})


def test_a_set_whose_refiner_starts_from_other_networks_runs_them_only_when_refining(tmp_path, monkeypatch):
    """refiner_sr / refiner_dkenet: the set's plain SVKR runs its `sr` (here a KSRNet with its own
    code), `--refine diffusion` runs the networks the refiner was trained on (the RRDB pair), and
    registering a new refiner drops the old refiner's start entries."""
    import json

    from ssr.hashing import sha256_file
    from ssr.methods import make_method
    from ssr.models.dkenet import DKENet
    from ssr.models.ksrnet import KSRNet
    from ssr.models.registry import save_model
    from ssr.models.rrdb import KernelConditionedRRDB
    from ssr.train.stages.ksr import code_prior
    from ssr.weights import add_run, manifest

    folder = write_tiny_weights(tmp_path / "weights", with_refiner=True)
    torch.manual_seed(1)
    ksr = KSRNet(channels=8, blocks=1, code_dim=4)
    ksr.code.fit(code_prior(21, 4, 0))
    save_model(folder / "ksr.safetensors", "ssr.ksrnet", ksr, 4, {"channels": 8, "blocks": 1, "code_dim": 4})
    save_model(folder / "dkcode.safetensors", "ssr.dkenet", DKENet(channels=8, depth_channels=4, code_dim=4), 4,
               {"channels": 8, "depth_channels": 4, "code_dim": 4})
    data = manifest(folder)
    for entry in data["files"]:  # the RRDB pair becomes the refiner's start, the KSR pair the set's own
        entry["role"] = {"rrdb": "refiner_sr", "dkenet": "refiner_dkenet"}.get(entry["role"], entry["role"])
    data["files"] += [{"file": f, "role": r, "scale": 4, "sha256": sha256_file(folder / f)}
                      for f, r in (("ksr.safetensors", "sr"), ("dkcode.safetensors", "dkenet"))]
    (folder / "manifest.json").write_text(json.dumps(data))
    monkeypatch.setenv("SSR_WEIGHTS", str(folder))

    plain, refined = make_method("ssr"), make_method("ssr-refine")
    assert isinstance(plain.pipeline.rrdb, KSRNet) and plain.pipeline.dkenet.code_dim == 4
    assert isinstance(refined.pipeline.rrdb, KernelConditionedRRDB) and refined.pipeline.dkenet.code_dim == 0
    lr = smooth_image(2, 20, 24)
    assert refined.upscale(lr, 4).image.shape == plain.upscale(lr, 4).image.shape == (80, 96, 3)

    run = tmp_path / "refiner_run"  # a refiner trained on this set's own sr/dkenet replaces both start entries
    run.mkdir()
    (run / "model.safetensors").write_bytes((folder / "refiner.safetensors").read_bytes())
    add_run(run, folder)
    roles = sorted(e["role"] for e in manifest(folder)["files"])
    assert roles == ["dkenet", "refiner", "sr"]
    assert not (folder / "rrdb.safetensors").exists()  # (this refiner now fails its code check: as it should)
    with pytest.raises(Exception, match="another SR network's kernel code"):
        make_method("ssr-refine")
