"""Loading files into cryospec signal classes."""

from __future__ import annotations

from pathlib import Path

from cryospec.signals.metadata import set_cryo_signal_type

__all__ = ["load"]


def load(
    path: str | Path,
    lazy: bool = False,
    signal_type: str | None = None,
    memory_budget: int | None = None,
    **kwargs,
):
    """Read a file with HyperSpy and give EELS and EDX signals their cryospec class.

    Parameters
    ----------
    path : str or Path
        Any file rosettasciio reads (``.hspy``, ``.zspy``, ``.dm3``, ``.dm4``, ``.emd``, ``.msa``).
    lazy : bool
        Open the data lazily (Dask).
    memory_budget : int, optional
        Lazy only: bytes per chunk (default from the available memory). Every spectrum is kept
        whole in one chunk and the navigation is chunked in whole rows within the budget
        (:meth:`CryoSignalMixin.rechunk_spectral`).
    signal_type : str, optional
        Force a signal type (``"CryoEELS"`` or ``"CryoEDS_TEM"``); by default EELS becomes
        ``CryoEELS`` and EDS_TEM becomes ``CryoEDS_TEM``, other signals are left as read.
    **kwargs
        Passed to :func:`hyperspy.api.load`.

    Returns
    -------
    BaseSignal or list of BaseSignal
        As :func:`hyperspy.api.load`. The file is only read, never modified.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    OSError
        If the file cannot be read (corrupt or unsupported), naming the file.
    """
    import hyperspy.api as hs

    file = Path(path)
    if not (file.is_file() or (file.is_dir() and file.suffix == ".zspy")):
        raise FileNotFoundError(f"no such file: {file}")
    try:
        loaded = hs.load(str(file), lazy=lazy, **kwargs)
    except Exception as exc:  # rosettasciio raises many types for unreadable files
        raise OSError(f"could not read {file}: {type(exc).__name__}: {exc}") from exc
    signals = loaded if isinstance(loaded, list) else [loaded]
    for s in signals:
        if s.data.size == 0 or 0 in s.data.shape:
            # Some readers return an empty signal for a damaged file instead of failing.
            raise OSError(f"could not read {file}: the file holds no data (damaged or truncated?)")
        if not set_cryo_signal_type(s, signal_type) and signal_type:
            raise ValueError(
                f"{file}: signal type {signal_type!r} needs one signal dimension, the file holds "
                f"{s.axes_manager.signal_dimension}"
            )
        if lazy and s.axes_manager.signal_dimension == 1 and hasattr(s, "rechunk_spectral"):
            s.rechunk_spectral(memory_budget)
    return loaded
