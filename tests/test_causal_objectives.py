"""CausalSR (issue 12): objectives against hand-computed cases, the bounded adaptive curriculum,
pre-rendered counterfactual groups, the semantic encoders, the compound OOD protocol and the
`causal` training stage end to end."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from util import image_folder, skip_without_peers, smooth_image, write_fake_stlpips
from ssr.causal.adaptive import AdaptiveLevels
from ssr.causal.objectives import (ContentProjection, cell_tokens, group_mean, hierarchical_contrast,
                                   multi_positive_info_nce, sibling_consistency)
from ssr.causal.semantic import load_stlpips_alex, make_semantic_encoder, semantic_distance
from ssr.degradation import protocols as P
from ssr.degradation.apply import Geometry
from ssr.degradation.kernel_maps import truth_kernels
from ssr.degradation.scm import build_field, render
from ssr.errors import ConfigError, UnavailableError
from ssr.models.ksrnet import KSRNet
from ssr.models.registry import load_model, save_model
from ssr.sets import field_maps
from ssr.train.causal_data import CounterfactualSource, degradation_targets, level_counts, render_groups, row_table
from ssr.train.config import load_config
from ssr.train.stages.ksr import code_prior
from ssr.train.trainer import train


def test_info_nce_matches_a_hand_computed_case():
    z = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
    identity = torch.tensor([0, 0, 1, 1])
    t = 0.5
    s = (z @ z.T).numpy() / t  # rows are unit vectors already
    expected = []
    for a in range(4):
        others = [k for k in range(4) if k != a]
        denominator = math.log(sum(math.exp(s[a, k]) for k in others))
        positive = [k for k in others if identity[k] == identity[a]][0]
        expected.append(-(s[a, positive] - denominator))
    got = multi_positive_info_nce(z, identity, t)
    assert abs(float(got) - float(np.mean(expected))) < 1e-6
    # no anchor with a positive -> 0, still differentiable
    lone = multi_positive_info_nce(z.requires_grad_(), torch.arange(4), t)
    assert float(lone.detach()) == 0.0 and lone.requires_grad


def test_consistency_is_zero_when_siblings_agree_and_pulls_toward_the_group_mean():
    group = torch.tensor([0, 0, 1, 1])
    same = torch.rand(2, 3, 4, 4).repeat_interleave(2, 0)
    assert abs(float(sibling_consistency(same, group))) < 1e-7
    values = torch.tensor([1.0, 3.0, 5.0, 5.0]).view(4, 1)
    assert group_mean(values, group).flatten().tolist() == [2.0, 2.0, 5.0, 5.0]
    sr = torch.tensor([1.0, 3.0, 5.0, 5.0]).view(4, 1, 1, 1).requires_grad_()
    loss = sibling_consistency(sr, group, eps=1e-6)
    assert abs(float(loss.detach()) - 0.5) < 1e-5  # |1-2|, |3-2|, 0, 0 -> mean 0.5
    loss.backward()
    assert sr.grad.flatten().tolist()[0] < 0 < sr.grad.flatten().tolist()[1]  # each toward the mean


def test_hierarchical_contrast_prefers_degradation_invariant_content_features():
    torch.manual_seed(0)
    group = torch.tensor([0, 0, 1, 1, 2, 2])
    content = torch.randn(3, 8, 8, 8)
    invariant = content.repeat_interleave(2, 0)
    nuisance = invariant + 3 * torch.randn(6, 8, 1, 1)  # a per-row offset: "the degradation"
    heads = torch.nn.ModuleDict({"0": ContentProjection(8), "1": ContentProjection(8)})
    assert cell_tokens(invariant, 2).shape == (6, 4, 8)
    good = hierarchical_contrast([invariant, invariant], heads, group, cells=2, temperature=0.1)
    bad = hierarchical_contrast([nuisance, nuisance], heads, group, cells=2, temperature=0.1)
    assert float(good) < float(bad)
    per_depth = [float(hierarchical_contrast([invariant, invariant], torch.nn.ModuleDict({d: heads[d]}), group, 2, 0.1))
                 for d in ("0", "1")]
    assert float(good) == pytest.approx(np.mean(per_depth), rel=1e-5)  # the mean over the chosen depths


def test_adaptive_levels_are_bounded_and_move_toward_the_worst_level():
    levels = AdaptiveLevels(("noise.level",), {"noise.level": 3}, temperature=0.05, floor=0.25)
    assert np.allclose(levels.probabilities("noise.level"), 1 / 3)
    for _ in range(50):
        levels.update("noise.level", 2, 5.0)  # the model fails badly on heavy noise
        levels.update("noise.level", 0, 0.1)
    p = levels.probabilities("noise.level")
    assert p.argmax() == 2 and abs(p.sum() - 1) < 1e-12
    assert p.min() >= 0.25 / 3 - 1e-12 and p.max() <= 1 - 0.25 + 0.25 / 3 + 1e-12  # the stated bounds
    rng = np.random.default_rng(0)
    assert levels.choose(rng, "noise.level", np.array([True, False, False])) == 0
    assert levels.choose(rng, "noise.level", np.array([False, False, False])) is None
    fixed = AdaptiveLevels(("noise.level",), {"noise.level": 3}, adaptive=False)
    fixed.update("noise.level", 2, 5.0)
    assert np.allclose(fixed.probabilities("noise.level"), 1 / 3)
    with pytest.raises(ValueError):
        AdaptiveLevels(("kernel",), {"kernel": 3}, floor=0.0)


def _code():
    torch.manual_seed(0)
    net = KSRNet(channels=8, blocks=1, code_dim=4)
    net.code.fit(code_prior(21, 4, 0))
    return net.code


def _protocol():
    return P.ProtocolSettings.for_scale(4).with_overrides({"grid": "2", "sigma_min": "0.2", "jpeg_min": "30"})


def test_counterfactual_groups_keep_the_factual_and_change_one_factor_per_row():
    images = [smooth_image(i, 80, 88) for i in range(2)]
    factors = ("kernel", "noise.level", "jpeg.quality", "second_order")
    cache = render_groups(images, 3, 4, 8, seed=5, code=_code(), protocol=_protocol(), second_order=0.0,
                          factors=factors, levels=2, min_lr_psnr=0.0)
    rows = row_table(factors, 2)
    assert len(rows) == 1 + 2 + 2 + 2 + 1 and cache.lr.shape == (3, len(rows), 3, 8, 8)
    assert cache.hr.shape == (3, 3, 32, 32) and bool(cache.accepted.all())
    for r, (factor, level) in enumerate(rows):
        if factor is None:
            continue
        changed = (cache.targets[:, r] != cache.targets[:, 0]).any(0).tolist()
        column = {"kernel": 3, "noise.level": 0, "jpeg.quality": 1, "second_order": 2}[factor]
        assert [i for i, c in enumerate(changed) if c] == [column]  # only the intervened factor moved
        if factor == "noise.level":  # level 1 of 2 = the upper half of the noise range
            assert bool((cache.targets[:, r, 0] >= 0.5 * level - 1e-6).all())
    assert cache.code_slot(1) == 1 and cache.code_slot(2) == 2 and cache.code_slot(3) == 0
    assert not torch.equal(cache.codes[:, 1], cache.codes[:, 0])  # kernel siblings have their own code
    again = render_groups(images, 3, 4, 8, seed=5, code=_code(), protocol=_protocol(), second_order=0.0,
                          factors=factors, levels=2, min_lr_psnr=0.0)
    assert torch.equal(cache.lr, again.lr)  # seeded: bit-identical


def test_the_cap_rejects_siblings_and_batches_fall_back_to_the_factual():
    images = [smooth_image(0, 80, 88)]
    cache = render_groups(images, 4, 4, 8, seed=1, code=_code(), protocol=_protocol(), second_order=0.0,
                          factors=("noise.level",), levels=2, min_lr_psnr=200.0)  # nothing may change
    assert cache.acceptance() == 0.0
    source = CounterfactualSource(cache, 4, AdaptiveLevels(("noise.level",), level_counts(("noise.level",), 2)), 0)
    batch = source.batch(torch.tensor([0, 1, 2, 3, 0, 1, 2, 3]))
    assert batch["lr"].shape == (8, 3, 8, 8) and batch["group"].tolist() == [0] * 4 + [1] * 4
    assert batch["factor"].tolist() == [-1] * 8 and source.acceptance == 0.0
    torch.testing.assert_close(batch["lr"][1], batch["lr"][0])


def test_batches_are_groups_of_siblings_or_factual_rows_and_are_deterministic():
    images = [smooth_image(i, 80, 88) for i in range(2)]
    factors = ("kernel", "noise.level", "jpeg.quality")
    cache = render_groups(images, 4, 4, 8, seed=2, code=_code(), protocol=_protocol(), second_order=0.0,
                          factors=factors, levels=3, min_lr_psnr=0.0)
    adaptive = AdaptiveLevels(factors, level_counts(factors, 3))
    indices = torch.tensor([3, 1, 0, 2, 1, 1, 1, 1])
    grouped = CounterfactualSource(cache, 4, adaptive, 7)
    a, b = grouped.batch(indices), grouped.batch(indices)
    assert torch.equal(a["lr"], b["lr"]) and a["group"].tolist() == [0] * 4 + [1] * 4
    assert sorted(a["factor"][1:4].tolist()) == [0, 1, 2]  # three different factors per crop
    torch.testing.assert_close(a["hr"][1], a["hr"][0])  # one HR per group
    factual = CounterfactualSource(cache, 1, adaptive, 7).batch(indices)
    assert factual["lr"].shape[0] == 8 and factual["factor"].tolist() == [-1] * 8
    torch.testing.assert_close(factual["lr"][0], cache.lr[3, 0].float() / 255)


def test_degradation_targets_read_the_record():
    s = _protocol()
    record = P.sample_sv(np.random.default_rng(0), 4, s)
    record["noise"]["level"] = s.noise_max / 2
    record["jpeg"]["quality"] = s.jpeg_min
    noise, jpeg, second, blur = degradation_targets(record, s)
    assert (noise, jpeg, second) == (0.5, 1.0, 0.0) and 0 < blur <= 1


def test_stlpips_alex_trunk_loads_the_wheel_layout_and_measures_distance(tmp_path):
    encoder = make_semantic_encoder(f"stlpips-alex:{write_fake_stlpips(tmp_path / 'alex.pth')}")
    assert not any(p.requires_grad for p in encoder.parameters())
    x = torch.rand(2, 3, 40, 40)
    features = encoder(x)
    assert [f.shape[1] for f in features] == [64, 192, 384, 256, 256]
    assert float(semantic_distance(encoder, x, x)) == 0.0
    sr = (x + 0.2 * torch.rand_like(x)).requires_grad_()
    d = semantic_distance(encoder, sr, x, (3, 4, 5))
    d.backward()
    assert float(d) > 0 and float(sr.grad.abs().sum()) > 0
    with pytest.raises(UnavailableError, match="unknown semantic encoder"):
        make_semantic_encoder("vgg")


@pytest.mark.peers
def test_our_alexnet_trunk_equals_the_stlpips_wheel():
    try:
        from stlpips_pytorch import stlpips
    except ImportError as exc:
        skip_without_peers(f"stlpips-pytorch with torchvision is not installed ({exc})")
    reference = stlpips.LPIPS(net="alex", variant="shift_tolerant", verbose=False).eval()
    ours = load_stlpips_alex()
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        theirs = reference.net(reference.scaling_layer(x * 2 - 1))
        mine = ours(x)
    for a, b in zip(theirs, mine):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


def test_clip_encoder_from_a_local_tiny_model(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                           num_attention_heads=2, image_size=32, patch_size=8, projection_dim=8)
    torch.manual_seed(0)
    transformers.CLIPVisionModelWithProjection(config).save_pretrained(tmp_path / "clip")
    encoder = make_semantic_encoder(f"clip:{tmp_path / 'clip'}")
    x = torch.rand(2, 3, 48, 48)
    assert encoder(x)[0].shape == (2, 8, 1, 1)
    assert float(semantic_distance(encoder, x, x)) == 0.0
    sr = x.flip(-1).requires_grad_()
    semantic_distance(encoder, sr, x).backward()
    assert float(sr.grad.abs().sum()) > 0
    with pytest.raises(UnavailableError, match="holds no transformers model"):
        make_semantic_encoder(f"clip:{tmp_path}")


def test_compound_protocol_is_out_of_the_training_ranges_and_its_truth_rebuilds_the_kernels():
    s = P.ProtocolSettings.for_scale(4)
    record = P.sample_compound(P.image_rng(0, "x"), 4, s)
    assert record == P.sample_compound(P.image_rng(0, "x"), 4, s)
    assert record["kernel"]["family"] == "motion" and record["second_order"] is not None
    assert 15 / 255 <= record["noise"]["level"] <= 25 / 255 and 30 <= record["jpeg"]["quality"] <= 50
    hr = smooth_image(3, 48, 56)
    assert render(record, hr).lr.shape == (12, 14, 3)
    truth = field_maps(record, None, hr.shape[:2])
    rebuilt = truth_kernels(truth, 21, 4)[0]  # (441, h, w), from the saved maps
    geometry = Geometry.for_hr(48, 56, 4, 21)
    rendered = build_field(record).weights(geometry, 0, geometry.lr_h, torch.float32).permute(2, 0, 1)
    torch.testing.assert_close(rebuilt, rendered, rtol=0, atol=1e-5)
    torch.testing.assert_close(rebuilt.sum(0), torch.ones(12, 14), rtol=0, atol=1e-5)


def _causal_config(tmp_path: Path, **causal) -> Path:
    images = image_folder(tmp_path / "images")
    init = tmp_path / "ksr.safetensors"
    if not init.exists():
        torch.manual_seed(0)
        net = KSRNet(channels=8, blocks=2, code_dim=4)
        net.code.fit(code_prior(21, 4, 0))
        save_model(init, "ssr.ksrnet", net, 4, {"channels": 8, "blocks": 2, "code_dim": 4})
    section = {"channels": 8, "blocks": 2, "code_dim": 4, "patch_lr": 8, "groups": 4, "levels": 2,
               "val_dirs": [str(images)], "cache_dir": str(tmp_path / "cache"), **causal}
    config = {"stage": "causal", "scale": 4, "seed": 1, "threads": 1, "init": str(init),
              "data": {"train_dirs": [str(images)], "val_images": 1, "cache_size": 8},
              "causal": section,
              "optim": {"lr": 1e-3, "batch_size": 8, "steps": 2, "ema": 0.5},
              "log": {"out_dir": str(tmp_path / "run"), "val_every": 2, "log_every": 1, "checkpoint_minutes": 100}}
    path = tmp_path / "causal.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_causal_stage_trains_with_every_objective_and_exports_the_body_alone(tmp_path):
    alex = write_fake_stlpips(tmp_path / "alex.pth")
    config = load_config(_causal_config(tmp_path, adaptive=True, consistency=1.0, contrast=0.1, degradation=0.1,
                                        semantic=0.1, semantic_encoder=f"stlpips-alex:{alex}",
                                        contrast_depths=[1, 2], semantic_pool=1))
    result = train(config)
    rows = (Path(config.log.out_dir) / "log.csv").read_text().splitlines()
    assert rows[0] == ("step,loss,reconstruction,consistency,contrast,degradation,semantic,acceptance,"
                       "render_acceptance,lr,val,elapsed_s")
    last = dict(zip(rows[0].split(","), rows[-1].split(",")))
    terms = [float(last[k]) for k in ("reconstruction", "consistency", "contrast", "degradation", "semantic")]
    assert all(t > 0 for t in terms) and abs(sum(terms) - float(last["loss"])) < 1e-5
    assert 0 <= float(last["acceptance"]) <= 1 and float(last["val"]) > 0
    descriptor = load_model(Path(result["weights"]))
    assert descriptor.architecture == "ssr.ksrnet"  # training heads are not exported
    with torch.no_grad():
        assert descriptor.model(torch.rand(1, 3, 6, 7), torch.rand(1, 4, 6, 7)).shape == (1, 3, 24, 28)
    # the rendered groups were kept: a second arm reuses them instead of rendering again
    assert len(list((tmp_path / "cache").glob("causal_groups_*.pt"))) == 1


def test_causal_config_mistakes_are_one_line_errors(tmp_path):
    path = _causal_config(tmp_path)
    with pytest.raises(ConfigError, match="need counterfactual: true"):
        load_config(path, {"causal.counterfactual": "false", "causal.consistency": "1.0"})
    with pytest.raises(ConfigError, match="causal.factors must be some of"):
        load_config(path, {"causal.factors": "[blur]"})
    with pytest.raises(ConfigError, match="contrast_depths must lie in"):
        load_config(path, {"causal.contrast_depths": "[9]", "causal.contrast": "0.1"})
