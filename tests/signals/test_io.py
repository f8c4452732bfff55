"""Loading real files into the cryospec classes; bad files give clear errors; inputs untouched."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import cryospec
from cryospec.signals import CryoEELSSpectrum


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_real_li_k_spectrum_image_loads_as_cryo_eels(data_dir):
    path = data_dir / "NMC_SiDoped_SI_35-649eV_LiK_SiL.dm3"
    before = _sha(path)
    s = cryospec.load(path)
    assert isinstance(s, CryoEELSSpectrum)
    assert s.axes_manager.navigation_shape == (28, 2)
    axis = s.axes_manager.signal_axes[0]
    assert axis.offset == pytest.approx(35.0, abs=0.01) and axis.scale == pytest.approx(0.3)
    # exspy methods run on the real data through the subclass.
    sub = s.remove_background(signal_range=(36.0, 42.0), background_type="PowerLaw", fast=True)
    assert isinstance(sub, CryoEELSSpectrum)
    assert np.isfinite(sub.data).all()
    lazy = cryospec.load(path, lazy=True)
    assert lazy._lazy and isinstance(lazy, CryoEELSSpectrum)
    assert _sha(path) == before


def test_real_low_loss_thickness_with_exspy(data_dir):
    low_loss = cryospec.load(data_dir / "hyperspy_lowloss_spectrum_-40-369eV.msa")
    assert isinstance(low_loss, CryoEELSSpectrum)
    tau = float(low_loss.estimate_thickness(threshold=4.0).data[0])
    assert 0.05 < tau < 3.0


def test_forced_signal_type(data_dir):
    s = cryospec.load(data_dir / "hyperspy_coreloss_360-770eV_OK_MnL.msa", signal_type="CryoEELS")
    assert isinstance(s, CryoEELSSpectrum)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        cryospec.load(tmp_path / "nope.hspy")


@pytest.mark.parametrize("suffix", [".hspy", ".dm3", ".msa"])
def test_corrupt_file_names_the_file(tmp_path, suffix):
    bad = tmp_path / f"corrupt{suffix}"
    bad.write_bytes(b"\x00\x01 not a real file " * 10)
    before = _sha(bad)
    with pytest.raises(OSError, match=r"could not read .*corrupt"):
        cryospec.load(bad)
    assert _sha(bad) == before
