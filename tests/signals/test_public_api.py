"""The public API a notebook user reads: every advertised name resolves, the stub lists the same
names, the old spellings still work with a deprecation warning."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import cryospec

STUB = Path(cryospec.__file__).with_suffix(".pyi")


def test_every_public_name_resolves():
    for name in cryospec.__all__:
        assert getattr(cryospec, name) is not None, name
    assert sorted(dir(cryospec)) == sorted(cryospec.__all__)
    with pytest.raises(AttributeError):
        cryospec.no_such_name  # noqa: B018


def test_stub_lists_the_public_names():
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    stubbed = {a.asname for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names}
    assert stubbed == set(cryospec.__all__) - {"__version__"}


def test_public_names_are_the_classes_of_their_layers():
    from cryospec.signals.cryo_eels import CryoEELSSpectrum
    from cryospec.signals.results import QuantificationResult

    assert cryospec.CryoEELSSpectrum is CryoEELSSpectrum
    assert cryospec.QuantificationResult is QuantificationResult
    assert cryospec.core.quantify.fit_edge_model is not None  # kernels reachable from cryospec


def test_old_module_name_warns():
    with pytest.warns(FutureWarning, match="cryospec.data"):
        datasets = cryospec.datasets
    assert datasets.li_lipon is cryospec.li_lipon


def test_standard_error_spelling_and_deprecated_aliases(li_lipon_small):
    core_loss = li_lipon_small[0]
    result = core_loss.isig[30.0:300.0].quantify(["Li_K", "P_L23"])
    with pytest.warns(FutureWarning, match="areal_density_se"):
        old = result.areal_density_std
    assert old is result.areal_density_se
    with pytest.warns(FutureWarning, match="atomic_fraction_se"):
        assert result.atomic_fraction_std is result.atomic_fraction_se
    _, fit = core_loss.subtract_background("Li_K", return_fit=True)
    with pytest.warns(FutureWarning, match="amplitude_se"):
        np.testing.assert_array_equal(fit.amplitude_std.data, fit.amplitude_se.data)
    with pytest.warns(FutureWarning, match="shape_se"):
        np.testing.assert_array_equal(fit.shape_std.data, fit.shape_se.data)
