"""The direction across an interface on short, noisy maps (``auto_direction``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erf

from cryospec.core.profiles import auto_direction


def _two_steps(shape, tilt):
    rows, cols = np.indices(shape, dtype=float)
    distance = (cols * np.cos(tilt) + rows * np.sin(tilt) + 0.5) * 2.5
    step = lambda x0, s: 0.5 * (1 + erf((distance - x0) / (np.sqrt(2) * s)))  # noqa: E731
    return 1000.0 * step(40.0, 4.0) + 700.0 * step(116.0, 5.0)


def _angle_deg(direction):
    return float(np.degrees(np.arctan2(direction[1], direction[0])))


@pytest.mark.parametrize("noise", [200.0, 400.0, 800.0])
def test_aligned_short_map_stays_on_the_axis(noise):
    """6 rows at 80 e/A²-like noise: a gradient (structure tensor) estimate tilted this by up
    to 40°, which shrank every position along the profile by a fifth."""
    truth = _two_steps((6, 64), 0.0)
    rng = np.random.default_rng(3)
    angles = [
        _angle_deg(auto_direction(truth + rng.normal(0, noise, truth.shape))) for _ in range(20)
    ]
    assert np.mean(np.abs(angles) < 1e-9) >= 0.95, angles


def test_a_real_tilt_is_found_through_the_noise():
    truth = _two_steps((24, 64), 0.3)
    rng = np.random.default_rng(4)
    angles = [
        _angle_deg(auto_direction(truth + rng.normal(0, 200.0, truth.shape))) for _ in range(10)
    ]
    assert np.median(angles) == pytest.approx(np.degrees(0.3), abs=2.0)
    assert all(abs(a - np.degrees(0.3)) < 5.0 for a in angles), angles


def test_points_from_low_to_high_and_line_scans():
    truth = _two_steps((6, 64), 0.0)
    assert auto_direction(truth[:, ::-1])[0] == pytest.approx(-1.0)
    assert auto_direction(truth[:1]) == pytest.approx([1.0, 0.0])
    assert auto_direction(truth[:1].T) == pytest.approx([0.0, 1.0])
    with pytest.raises(ValueError, match="no gradient"):
        auto_direction(np.ones((6, 64)))
