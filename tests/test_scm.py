"""The degradation SCM: determinism, serialisation and counterfactual interventions."""

import json

import numpy as np
import pytest

from util import smooth_image
from ssr.degradation import protocols as P
from ssr.degradation.jpeg import jpeg_roundtrip
from ssr.degradation.noise import noise_field
from ssr.degradation.scm import intervene, render, validate
from ssr.errors import ConfigError

HR = smooth_image(0, 64, 64)
SETTINGS = P.ProtocolSettings.for_scale(4)


def sv_record(seed=0, name="x"):
    return P.sample_sv(P.image_rng(seed, name), 4, SETTINGS)


def test_rendering_is_deterministic_and_survives_json():
    record = sv_record()
    first = render(record, HR)
    again = render(json.loads(json.dumps(record)), HR)
    assert np.array_equal(first.lr, again.lr)
    assert first.lr.shape == (16, 16, 3)
    assert np.array_equal(np.round(first.lr * 255) / 255, first.lr)  # 8-bit representable


def test_noise_intervention_changes_only_the_noise_path():
    record = sv_record()
    record["jpeg"] = None
    cf_record = intervene(record, "noise.level", record["noise"]["level"] * 2)
    factual, counterfactual = render(record, HR), render(cf_record, HR)
    assert np.array_equal(factual.blurred, counterfactual.blurred)  # upstream of noise: untouched
    np.testing.assert_allclose(counterfactual.noise, 2 * factual.noise, rtol=1e-5, atol=1e-7)  # same U_N
    assert cf_record["noise"]["seed"] == record["noise"]["seed"]
    assert cf_record["interventions"] == [{"factor": "noise.level", "value": record["noise"]["level"] * 2}]


def test_kernel_intervention_keeps_the_exogenous_noise():
    record = sv_record()
    other_kernel = sv_record(seed=1)["kernel"]
    cf_record = intervene(record, "kernel", other_kernel)
    factual, counterfactual = render(record, HR), render(cf_record, HR)
    assert not np.array_equal(factual.blurred, counterfactual.blurred)
    assert np.array_equal(factual.noise, counterfactual.noise)
    assert cf_record["noise"] == record["noise"] and cf_record["jpeg"] == record["jpeg"]


def test_jpeg_intervention_changes_only_the_last_step():
    record = sv_record()
    cf_record = intervene(record, "jpeg.quality", 10)
    factual, counterfactual = render(record, HR), render(cf_record, HR)
    assert np.array_equal(factual.noisy, counterfactual.noisy)
    assert not np.array_equal(factual.lr, counterfactual.lr)


def test_focus_intervention_in_the_dof_scm():
    depth = np.tile(np.linspace(0, 1, 64), (64, 1))
    record = P.sample_dof(P.image_rng(0, "d"), 4, SETTINGS, depth)
    cf_record = intervene(record, "kernel.focus", 1.0 - record["kernel"]["focus"])
    factual, counterfactual = render(record, HR, depth), render(cf_record, HR, depth)
    assert np.array_equal(factual.noise, counterfactual.noise)
    assert not np.array_equal(factual.blurred, counterfactual.blurred)
    assert cf_record["kernel"]["aperture"] == record["kernel"]["aperture"]


def test_typos_are_errors():
    record = sv_record()
    record["noise"]["sigma"] = 0.1
    with pytest.raises(ConfigError, match="unknown key"):
        validate(record)
    with pytest.raises(ConfigError, match="cannot intervene"):
        intervene(sv_record(), "noise.sigma", 0.1)


def test_gaussian_noise_statistics_and_grey_mode():
    clean = np.full((256, 256, 3), 0.5, np.float32)
    field = noise_field(clean, "gaussian", 0.1, True, seed=3)
    assert abs(field.std() - 0.1) < 0.002 and abs(field.mean()) < 0.002
    grey = noise_field(clean, "gaussian", 0.1, False, seed=3)
    assert np.array_equal(grey[..., 0], grey[..., 2])
    assert np.array_equal(noise_field(clean, "gaussian", 0.1, True, 3), field)


def test_poisson_noise_variance_follows_intensity():
    level = 0.05
    for value in (0.2, 0.8):
        clean = np.full((256, 256, 1), value, np.float32)
        field = noise_field(clean, "poisson", level, True, seed=5)
        assert abs(field.var() - level ** 2 * value) / (level ** 2 * value) < 0.05
        assert abs(field.mean()) < 0.003


def test_jpeg_uses_a_real_encoder():
    image = smooth_image(2, 64, 64)
    high, low = jpeg_roundtrip(image, 95), jpeg_roundtrip(image, 10)
    assert np.array_equal(high, jpeg_roundtrip(image, 95))
    err_high, err_low = np.abs(high - image).mean(), np.abs(low - image).mean()
    assert 0 < err_high < err_low
    # 8x8 block structure: a quality-10 error image has much more energy on block boundaries
    diff = np.abs(np.diff(low.mean(axis=2), axis=1))
    assert diff[:, 7::8].mean() > 1.5 * diff[:, 3::8].mean()


def test_sv_record_respects_protocol_ranges():
    for i in range(20):
        record = sv_record(seed=i)
        params = record["kernel"]["params"]
        for name in ("sigma_x", "sigma_y"):
            values = np.asarray(params[name])
            assert values.min() >= 0.6 and values.max() <= 5.0
        assert 0 <= record["noise"]["level"] <= 15 / 255
        assert 50 <= record["jpeg"]["quality"] <= 95


def test_second_order_pipeline_is_deterministic():
    record = sv_record()
    record["second_order"] = P.sample_second_order(np.random.default_rng(0))
    a, b = render(record, HR), render(record, HR)
    assert np.array_equal(a.lr, b.lr) and "second_noise" in a.stages
    assert a.lr.shape == (16, 16, 3)
