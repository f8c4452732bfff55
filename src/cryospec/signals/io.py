"""Loading files into cryospec signal classes."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryospec.signals.metadata import set_cryo_signal_type

__all__ = [
    "load",
    "names_read_errors",
    "read_errors_named",
    "readable_extensions",
    "source_name",
    "unreadable_chunk",
]

_COMMON = ("hspy", "zspy", "dm3", "dm4", "emd", "msa", "rpl", "bcf")


def readable_extensions() -> set[str]:
    """The file extensions (lower case, without the dot) of RosettaSciIO's readers."""
    from rsciio import IO_PLUGINS

    return {e.lower() for plugin in IO_PLUGINS for e in plugin["file_extensions"]}


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
    known = readable_extensions()
    if "reader" not in kwargs and file.suffix.lower().lstrip(".") not in known:
        raise OSError(
            f"could not read {file}: {file.suffix or 'no extension'} is not a file type "
            f"HyperSpy reads (it reads {', '.join('.' + e for e in _COMMON)} and "
            f"{len(known) - len(_COMMON)} more; pass reader=... to force one)"
        )
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


# Where a lazy signal's chunks are read and decoded: an error raised from there is a damaged file.
_READERS = ("zarr", "numcodecs", "h5py", "rsciio", "tifffile")


def _raised_while_reading(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    return any(
        any(f"{name}/" in frame.filename or f"{name}\\" in frame.filename for name in _READERS)
        for frame in frames
    )


def unreadable_chunk(signal) -> str | None:
    """The first chunk of a lazy signal's data that cannot be read, described (block index,
    pixel range, the error), or None when every chunk reads."""
    data = signal.data
    if not hasattr(data, "blocks"):
        return None
    import numpy as np

    for index in np.ndindex(*data.numblocks):
        try:
            data.blocks[index].compute()
        except Exception as exc:  # a decoder's error, whatever its type
            starts = [int(sum(c[:i])) for c, i in zip(data.chunks, index, strict=True)]
            stops = [a + c[i] for a, c, i in zip(starts, data.chunks, index, strict=True)]
            where = ", ".join(f"{a}:{b}" for a, b in zip(starts[:-1], stops[:-1], strict=True))
            return (
                f"chunk {index} (data[{where or '...'}, :]) is damaged: {type(exc).__name__}: {exc}"
            )
    return None


@contextmanager
def read_errors_named(signals: Mapping[str, Any]) -> Iterator[None]:
    """Turn an error raised while a lazy signal's chunks are read (a damaged file) into an
    ``OSError`` that names the file and the chunk; other errors pass unchanged.

    Parameters
    ----------
    signals : mapping of str to signal
        File name -> the signal read from it (None entries are skipped).
    """
    try:
        yield
    except Exception as exc:
        if not _raised_while_reading(exc):
            raise
        for name, signal in signals.items():
            if signal is None or not getattr(signal, "_lazy", False):
                continue
            found = unreadable_chunk(signal)
            if found:
                raise OSError(f"could not read {name}: {found}") from exc
        raise


def source_name(signal) -> str:
    """The file a signal was read from (HyperSpy's ``tmp_parameters``), or a description."""
    tmp = getattr(signal, "tmp_parameters", None)
    folder = None if tmp is None else tmp.get_item("original_folder", None)
    name = None if tmp is None else tmp.get_item("original_filename", None)
    if name:
        return str(Path(folder or "") / f"{name}{tmp.get_item('original_extension', '')}")
    return "the lazy signal"


def names_read_errors(method):
    """Decorate a signal method so that, on a lazy signal (or a lazy ``low_loss=``), an error
    raised while its chunks are read names the file and the chunk (:func:`read_errors_named`)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        low_loss = kwargs.get("low_loss")
        lazy = [s for s in (self, low_loss) if getattr(s, "_lazy", False)]
        if not lazy:
            return method(self, *args, **kwargs)
        with read_errors_named({source_name(s): s for s in lazy}):
            return method(self, *args, **kwargs)

    return wrapper
