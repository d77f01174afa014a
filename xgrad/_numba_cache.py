"""numba's on-disk cache for xgrad's kernels, safe for processes that share it.

numba compiles each kernel the first time a process uses it (seconds: docs/performance.md,
"First-call latency"); its on-disk cache keeps the machine code for the next process.  Two
hazards of that cache are closed here, for xgrad's kernels only:

* **Concurrent writers** (numba issue 4807).  numba adds an overload by loading the index,
  taking the first free data file, saving the index, then the data; two processes that
  compile different signatures of one kernel at the same moment (float32 and float64 blocks
  in a process pool, two jobs sharing a home directory, nodes with different CPUs on one
  file system) can leave an index that maps one signature to the other's machine code, and
  every later process that loads it fails.  Here that read-modify-write runs under an
  exclusive ``flock`` of a lock file next to the index, so writers take turns
  (``tests/test_kernels.py::test_numba_cache_writers_take_turns``).
* **Stale code across modules.**  numba checks a cached kernel against its own source file
  only; a kernel that inlines a helper from another module (``_compiled.mul`` in the strided
  kernels) would keep the old helper after that module changed.  The stamp here covers
  every module of the package, so any change to xgrad recompiles all of its kernels.

The cache is on by default where ``fcntl`` exists (Linux, macOS); ``XGRAD_NUMBA_CACHE=0``
turns it off.  numba writes it next to the package (``__pycache__``), or where
``NUMBA_CACHE_DIR`` says, or under the user's cache directory where the package is read-only.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numba

try:
    import fcntl

    from numba.core.caching import IndexDataCacheFile
    from numba.np.ufunc.dufunc import DUFunc
except ImportError:  # pragma: no cover - Windows, or numba moved its internals
    fcntl = None  # type: ignore[assignment]

__all__ = ["CACHE", "jit", "package_stamp", "vectorize"]

_OFF = ("0", "false", "no", "off")

#: Whether xgrad's kernels use numba's on-disk cache (module docstring).
CACHE = fcntl is not None and os.environ.get("XGRAD_NUMBA_CACHE", "").strip().lower() not in _OFF

_OPTIONS = {"nogil": True, "error_model": "numpy", "boundscheck": False}


def package_stamp(package: Path = Path(__file__).parent) -> tuple:
    """``(name, mtime_ns, size)`` of every module of the package (sub-packages included)."""
    return tuple(
        (str(p.relative_to(package)), p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(package.rglob("*.py"))
    )


if fcntl is not None:

    class _LockedIndex(IndexDataCacheFile):
        """numba's index and data files, each addition made under an exclusive lock."""

        def save(self, key: Any, data: Any) -> None:
            with _locked(self._index_path + ".lock"):
                super().save(key, data)

    @contextlib.contextmanager
    def _locked(path: str) -> Iterator[None]:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _guard(cache: Any) -> bool:
    """Turn numba's cache object of one kernel into the locked, package-stamped one; False
    where numba's internals are not the ones this module knows (the kernel then goes
    uncached rather than unguarded)."""
    index = getattr(cache, "_cache_file", None)
    if type(index) is not IndexDataCacheFile or not hasattr(index, "_source_stamp"):
        return False  # pragma: no cover - numba changed
    index.__class__ = _LockedIndex
    index._source_stamp = (index._source_stamp, _STAMP)
    return True


_STAMP = package_stamp() if CACHE else ()


def jit(fn: Callable) -> Callable:
    """``numba.njit`` with xgrad's options, on the guarded cache where :data:`CACHE`."""
    if CACHE:
        kernel = numba.njit(cache=True, **_OPTIONS)(fn)
        if _guard(getattr(kernel, "_cache", None)):
            return kernel
    return numba.njit(**_OPTIONS)(fn)


def inline(fn: Callable) -> Callable:
    """``numba.njit(inline="always")`` with xgrad's options: a helper the kernels call once
    per row, inlined into each caller's IR.  A call between compiled functions passes every
    array through numba's reference counting (atomic increments and decrements): a helper
    that returned at once, called per row of 512 float64 (the edge elements of a strided
    last-axis kernel), took the (15, 256, 512) kernel from 3.1 to 3.8 ms."""
    return numba.njit(inline="always", **_OPTIONS)(fn)


def vectorize(signatures: Sequence[str], python: Callable) -> Callable:
    """``numba.vectorize(signatures)(python)``, on the guarded cache where :data:`CACHE`:
    numba's own steps for a list of signatures, its dispatcher guarded before they compile."""
    if not CACHE:
        return numba.vectorize(list(signatures))(python)
    ufunc = DUFunc(python, cache=True)
    if not _guard(getattr(ufunc._dispatcher, "cache", None)):  # pragma: no cover - numba changed
        return numba.vectorize(list(signatures))(python)
    for signature in signatures:
        ufunc.add(signature)
    ufunc.disable_compile()
    return ufunc.build_ufunc()
