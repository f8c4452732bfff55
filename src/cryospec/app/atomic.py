"""Atomic file output: write to a temporary file beside the target, then rename over it."""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["atomic_write", "atomic_write_text", "refuse_overwriting_inputs", "strict_json"]


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path`` in one rename.

    A reader never sees a half-written file, and a failure leaves any previous file intact.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(target)
    tmp_path = target.parent / f".{target.name}.{uuid.uuid4().hex}{target.suffix}"
    # created like any file of the user's (mode 0666 less the umask), unlike mkstemp's 0600
    os.close(os.open(tmp_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        write(tmp_path)
        os.replace(tmp_path, target)
    except BaseException as exc:
        tmp_path.unlink(missing_ok=True)
        reason = _io_failure(exc)
        if reason:
            raise OSError(f"cannot write {target}: {reason}") from exc
        raise
    return target


_WRITER_MESSAGE = re.compile(r"error message = '([^']+)'")


def _io_failure(exc: BaseException) -> str | None:
    """The operating system's reason when ``exc`` is a failed write (a full disk, no
    permission), also when a writer library wraps it (h5py raises RuntimeError with the errno
    in its text); None for other errors."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    text = str(exc)
    found = _WRITER_MESSAGE.search(text)
    if found and "errno" in text:
        return found.group(1)
    return None


def refuse_overwriting_inputs(outputs, inputs) -> None:
    """Raise ``ValueError`` before any work when an output would replace an input file (an
    output folder that holds an input of the same name as an output).

    Parameters
    ----------
    outputs, inputs : iterable of path
        The files a command will write, and those it reads (None entries are skipped).
    """
    read = {Path(p).resolve() for p in inputs if p is not None}
    for output in outputs:
        if Path(output).resolve() in read:
            raise ValueError(
                f"the output {output} would replace the input file of the same path; choose "
                "another --out folder (inputs are only read, never overwritten)"
            )


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def _remove_stale_temporaries(target: Path) -> None:
    """Remove temporary files a killed earlier write of ``target`` left beside it."""
    for stale in target.parent.glob(f".{target.name}.*{target.suffix}"):
        middle = stale.name[len(target.name) + 2 : len(stale.name) - len(target.suffix)]
        if len(middle) == 32 and all(c in "0123456789abcdef" for c in middle):
            stale.unlink(missing_ok=True)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def strict_json(value: Any, indent: int | None = 2, default: Callable | None = None) -> str:
    """JSON text that strict parsers read: NaN and infinities written as ``null``.

    ``default`` converts objects ``json`` does not know (NumPy scalars and arrays, paths).
    """
    loose = json.loads(json.dumps(value, default=default))
    return json.dumps(_finite(loose), indent=indent, allow_nan=False)
