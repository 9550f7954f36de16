"""Atomic file writes: a temp file in the target folder, fsync, then rename.

An interrupted export or render never leaves a half-written file under the final name.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> atomic_write_text(folder / "a.txt", "hello")
>>> (folder / "a.txt").read_text()
'hello'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    For writers that insist on a file name (Keras, OpenCV, TensorFlow).

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "b.bin"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_bytes(b"x")
    >>> target.read_bytes()
    b'x'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # the temp name ends with the target's full name, so writers that check extensions
    # (Keras' ".weights.h5", OpenCV's ".png") accept it
    handle, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=f"-{target.name}", dir=target.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
    try:
        yield tmp
        with open(tmp, "rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see module docstring)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
