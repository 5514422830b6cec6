"""Counterfactual siblings: only the intervened path changes, re-rendering equals rendering, caps hold."""

import numpy as np
import pytest

from util import smooth_image
from ssr.causal import SiblingSampler
from ssr.degradation import protocols as P
from ssr.degradation.scm import intervene, render, rerender


@pytest.fixture
def factual():
    rng = np.random.default_rng(3)
    hr = smooth_image(5, 64, 72)
    record = P.sample_sv(rng, 4, P.ProtocolSettings.for_scale(4))
    return hr, record, render(record, hr)


@pytest.mark.parametrize("factor, value", [("noise.level", 0.0), ("jpeg.quality", 40), ("kernel", None),
                                           ("second_order", {"blur_sigma": 0.8, "resize": 0.7, "jpeg": {"quality": 70},
                                                             "noise": {"kind": "gaussian", "level": 0.01,
                                                                       "color": True, "seed": 9}})])
def test_rerender_equals_render_and_keeps_upstream_nodes(factual, factor, value):
    hr, record, parent = factual
    if factor == "kernel":
        value = P.sample_sv(np.random.default_rng(8), 4, P.ProtocolSettings.for_scale(4))["kernel"]
    child = intervene(record, factor, value)
    fast, full = rerender(child, hr, parent, factor), render(child, hr)
    assert np.array_equal(fast.lr, full.lr) and np.array_equal(fast.blurred, full.blurred)
    if factor != "kernel":
        assert np.array_equal(fast.blurred, parent.blurred)  # B untouched
    if factor in ("jpeg.quality", "second_order"):
        assert np.array_equal(fast.noisy, parent.noisy)  # Y untouched
    if factor == "kernel":
        assert np.array_equal(fast.noise, parent.noise)  # Gaussian noise: same exogenous seed, same field


def test_siblings_are_capped_and_acceptance_is_counted(factual):
    hr, record, _ = factual
    sampler = SiblingSampler(P.ProtocolSettings.for_scale(4), min_lr_psnr=30.0)
    family = sampler.siblings(np.random.default_rng(1), hr, record, count=8)
    assert family[0].factor is None and len(family) == 9
    assert [s.factor for s in family[1:5]] == ["kernel", "noise.level", "jpeg.quality", "second_order"]
    for sibling in family[1:]:
        if sibling.accepted:
            mse = np.mean((sibling.rendering.lr - family[0].rendering.lr) ** 2)
            assert mse == 0 or 10 * np.log10(1 / mse) >= 30.0
            assert sibling.record["interventions"][-1]["factor"] == sibling.factor
    assert 0 < sampler.acceptance <= 1 and sampler.proposed >= 8
    strict = SiblingSampler(P.ProtocolSettings.for_scale(4), factors=("kernel",), min_lr_psnr=99.0, tries=2)
    assert not any(s.accepted for s in strict.siblings(np.random.default_rng(2), hr, record, count=2)[1:])
    assert strict.acceptance == 0.0


def test_counterfactual_batches_carry_groups_factors_and_records():
    from ssr.causal import counterfactual_batch

    rng = np.random.default_rng(4)
    settings = P.ProtocolSettings.for_scale(4)
    crops = [smooth_image(i, 48, 48) for i in range(2)]
    records = [P.sample_sv(rng, 4, settings) for _ in crops]
    batch = counterfactual_batch(SiblingSampler(settings, min_lr_psnr=0.0), rng, crops, records, siblings=3)
    assert batch.lr.shape == (8, 3, 12, 12) and batch.hr.shape == (8, 3, 48, 48)
    assert batch.group.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert batch.factor.tolist() == [-1, 0, 1, 2, -1, 0, 1, 2]  # factual, then kernel, noise, jpeg
    assert len(batch.records) == 8 and "interventions" not in batch.records[0]
    assert torch_equal(batch.hr[0], batch.hr[3]) and not torch_equal(batch.lr[0], batch.lr[2])


def torch_equal(a, b) -> bool:
    return bool((a == b).all())
