"""Spectrum images made with exspy's and HyperSpy's physics, not with cryospec's generator.

The independent forward model of the quantification tests and of
``benchmarks/bench_quantify.py``: every accuracy figure of cryospec's own dataset is measured on
data made by the code that the fit uses; these are not.

* Low loss: a Gaussian zero-loss peak and the Poisson series of a Drude plasmon (exspy's
  ``VolumePlasmonDrude`` shape), ``I0 exp(-t) sum_k t^k S^(*k) / k!``, every order.
* Core loss: an exspy ``EELSModel`` holding exspy's hydrogenic ``EELSCLEdge`` components with
  fine structure (HyperSpy ``Gaussian`` peaks above each onset, convolved like the edges),
  convolved with the low loss by exspy, ``m.as_signal()``; plus a HyperSpy ``PowerLaw``
  background (not convolved); then Poisson noise.

exspy's edge intensity is in atoms per barn when the model is convolved with the low loss in
electrons (its integral is the incident electrons): ``n [atoms/nm²] = intensity * 1e10``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

logging.getLogger("exspy").setLevel(logging.ERROR)

# fine structure above each onset: (eV above the onset, FWHM eV, height relative to the edge
# 30 eV above its onset); shapes that neither cryospec's nor exspy's edge models hold
FINE_STRUCTURE = {
    "Li_K": ((4.0, 3.0, 0.8), (11.0, 6.0, 0.5)),
    "N_K": ((2.0, 1.5, 1.2), (12.0, 8.0, 0.4)),
    "O_K": ((1.5, 1.2, 0.9), (8.0, 4.0, 0.6), (21.0, 8.0, 0.3)),
}
BACKGROUND_REFERENCE_EV = 50.0
# exspy's hydrogenic code needs an L3 subshell, which its tables give P only as "L23": the
# Si L3 shape moved to the P L2,3 onset stands in. Its scale is Si's, so "P" areal densities
# made with it hold for profile positions and widths, not for absolute amounts.
STAND_INS = {"P_L23": ("Si_L3", 132.0)}


@dataclass
class IndependentData:
    core_loss: object
    low_loss: object
    areal_density: dict[str, float | np.ndarray]
    electrons_per_pixel: float
    t_over_lambda: float


def _drude_series(energy, tau, plasmon_eV, plasmon_fwhm_eV, zlp_fwhm_eV):
    """The low loss per incident electron on ``energy`` (uniform, starting below 0 eV)."""
    from exspy.components import VolumePlasmonDrude

    step = float(energy[1] - energy[0])
    n_pad = 4 * energy.size
    loss = step * np.arange(n_pad)
    drude = VolumePlasmonDrude(intensity=1.0, plasmon_energy=plasmon_eV, fwhm=plasmon_fwhm_eV)
    single = np.asarray(drude.function(np.where(loss > 0, loss, step)), dtype=float)
    single[0] = 0.0
    single /= single.sum()
    series = np.fft.irfft(np.exp(tau * (np.fft.rfft(single) - 1.0)), n_pad)
    sigma = zlp_fwhm_eV / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    lag = np.minimum(loss, n_pad * step - loss)
    gauss = np.exp(-0.5 * (lag / sigma) ** 2)
    series = np.fft.irfft(np.fft.rfft(series) * np.fft.rfft(gauss / gauss.sum()), n_pad)
    zero = round(-energy[0] / step)
    out = np.concatenate([series[n_pad - zero :], series[: energy.size - zero]])
    return np.clip(out, 0.0, None)


def exspy_spectrum_image(
    areal_density: dict[str, float],
    electrons_per_pixel: float = 1e6,
    shape: tuple[int, int] = (4, 4),
    t_over_lambda: float = 0.5,
    plasmon_eV: float = 22.0,
    plasmon_fwhm_eV: float = 6.0,
    zlp_fwhm_eV: float = 1.0,
    background_per_eV: float = 2e-3,
    background_exponent: float = 3.0,
    fine_structure: bool = True,
    energy_range_eV: tuple[float, float] = (30.0, 700.0),
    step_eV: float = 0.3,
    microscope: tuple[float, float, float] = (300.0, 20.0, 10.0),
    seed: int = 0,
    gain: float = 1.0,
    read_noise: float = 0.0,
) -> IndependentData:
    """A core-loss and low-loss spectrum image of uniform composition, from exspy's physics.

    Parameters
    ----------
    areal_density : dict
        Edge name (exspy's, ``"Li_K"``, ``"N_K"``, ``"O_K"``, or ``"P_L23"``, see
        ``STAND_INS``) -> atoms/nm²: one value
        for the whole map, or an array broadcast to ``shape`` (gradients).
    electrons_per_pixel : float
        Incident electrons per pixel (the dose).
    background_per_eV : float
        Power-law background per incident electron per eV at 50 eV.
    microscope : (beam keV, collection mrad, convergence mrad)
    gain, read_noise : float
        A CCD/CMOS-like detector: recorded counts = ``gain`` x Poisson electrons + Gaussian
        read noise of ``read_noise`` counts per channel with the dark level subtracted (zero
        mean, so weak channels go negative); ``detector_gain`` is set to ``gain``.
    """
    import exspy
    import hyperspy.api as hs
    from exspy.components import EELSCLEdge

    import cryospec

    rng = np.random.default_rng(seed)
    beam, beta, alpha = microscope
    ll_energy = -20.0 + step_eV * np.arange(round(300.0 / step_eV))
    per_electron = _drude_series(ll_energy, t_over_lambda, plasmon_eV, plasmon_fwhm_eV, zlp_fwhm_eV)
    ll_expected = np.broadcast_to(electrons_per_pixel * per_electron, (*shape, ll_energy.size))

    def eels(data, offset):
        s = exspy.signals.EELSSpectrum(np.array(data, dtype=float))
        axis = s.axes_manager.signal_axes[0]
        axis.offset, axis.scale, axis.units = offset, step_eV, "eV"
        s.set_microscope_parameters(
            beam_energy=beam, collection_angle=beta, convergence_angle=alpha
        )
        return s

    n_channels = round((energy_range_eV[1] - energy_range_eV[0]) / step_eV)
    energy = energy_range_eV[0] + step_eV * np.arange(n_channels)
    model = eels(np.ones((*shape, n_channels)), energy_range_eV[0]).create_model(
        low_loss=eels(ll_expected, ll_energy[0]),
        auto_background=False,
        auto_add_edges=False,
        GOS="hydrogenic",
    )
    per_pixel = {}
    for name, density in areal_density.items():
        exspy_name, onset = STAND_INS.get(name, (name, None))
        edge = EELSCLEdge(exspy_name, GOS="hydrogenic")
        model.append(edge)
        if onset is not None:
            edge.onset_energy.value = onset
        edge.intensity.value = 1e-10
        components = [edge.intensity]
        onset = edge.onset_energy.value
        reference = edge.function(np.array([onset + 30.0]))[0]
        for shift, fwhm, height in FINE_STRUCTURE.get(name, ()) if fine_structure else ():
            peak = hs.model.components1D.Gaussian()
            model.append(peak)
            peak.centre.value, peak.sigma.value = onset + shift, fwhm / 2.3548
            peak.A.value = height * reference * fwhm / 2.3548 * np.sqrt(2 * np.pi) / step_eV
            components.append(peak.A)
        per_pixel[name] = (np.broadcast_to(np.asarray(density, dtype=float), shape), components)
    model.assign_current_values_to_all()
    # intensities scale with the areal density of each pixel (values above are per atom/nm²)
    for density, parameters in per_pixel.values():
        for parameter in parameters:
            parameter.map["values"] = parameter.value * density
            parameter.map["is_set"] = True
    edges = model.as_signal(show_progressbar=False).data
    # HyperSpy's PowerLaw, evaluated apart: as_signal of a convolved EELSModel drops the
    # unconvolved components once an edge is in it (hyperspy 2.x / exspy 0.3)
    background = hs.model.components1D.PowerLaw(
        A=electrons_per_pixel * background_per_eV * BACKGROUND_REFERENCE_EV**background_exponent,
        r=background_exponent,
    )
    expected = np.clip(edges + step_eV * background.function(energy), 0.0, None)

    def cryo(data, offset):
        counts = gain * rng.poisson(data).astype(np.float64)
        if read_noise:
            counts += rng.normal(0.0, read_noise, counts.shape)
        s = cryospec.CryoEELSSpectrum(counts)
        axis = s.axes_manager.signal_axes[0]
        axis.offset, axis.scale, axis.units = offset, step_eV, "eV"
        s.set_microscope_parameters(
            beam_energy=beam, collection_angle=beta, convergence_angle=alpha
        )
        s.set_acquisition_parameters(detector_gain=gain)
        return s

    return IndependentData(
        core_loss=cryo(expected, energy_range_eV[0]),
        low_loss=cryo(ll_expected, ll_energy[0]),
        areal_density={
            name.split("_")[0]: v if np.ndim(v) else float(v) for name, v in areal_density.items()
        },
        electrons_per_pixel=electrons_per_pixel,
        t_over_lambda=t_over_lambda,
    )
