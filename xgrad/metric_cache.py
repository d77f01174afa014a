"""The metrics of the last few grids, found again by their coordinates' exact values.

A curvilinear grid's metric (:mod:`xgrad.metrics`) costs a few tenths of a second on a large
grid, so the next call on the same grid (the next file of a model run, a Dataset's variables,
another method) reuses it. Finding it must be cheap and never wrong: a stale metric for changed
coordinate values (written in place, or a new array of the same shape) would be a silent wrong
answer.

An entry is keyed by a token of everything the metric is computed from except the
coordinates' values (the grid, the coordinates' names, dims, dtypes, shapes and attributes, the
spacings and options: cheap), and holds a copy of those values (a dask coordinate's computed:
never its name, which can stay the same when a file's coordinates change);
a lookup compares them bit for bit with the copy (a memory-speed scan that stops at the first
difference: about 3 ms for ERA5's two 721 x 1440 float64 coordinates, where hashing them with
``dask.base.tokenize`` took about 20 ms with sha1). No hash, so no collision either.

The token that *names* the metric (:attr:`xgrad.metrics.GridMetric.token`, used for the dask
keys of ``.grad.horizontal``'s frame fields) is the full one, the values hashed
(:func:`content_token`), computed only when a metric is computed: the same grid gets the same
names in every process and after an eviction.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .arrays import is_dask_array

__all__ = ["CACHED_GRIDS", "GridKey", "clear_metrics", "content_token", "find", "grid_key", "keep"]

#: How many grids' metrics are kept. A large curvilinear grid's metric is a few float64
#: (ny, nx) fields (about 50 MB on ERA5's 721 x 1440, plus the copy of its coordinates), hence
#: so few.
CACHED_GRIDS = 2

#: Elements compared per step of :func:`_same_bits` (512 KiB of uint64: in cache, and an early
#: stop on a different grid).
_STEP = 1 << 16


@dataclass(frozen=True, kw_only=True)
class GridKey:
    """What identifies a grid's metric: ``key``, a token of everything but the numpy coordinate
    values, and ``values``, those values (the caller's arrays, not copies)."""

    key: str
    values: tuple[np.ndarray, ...]


@dataclass(frozen=True, kw_only=True, eq=False)  # found by identity
class _Entry:
    key: str
    values: tuple[np.ndarray, ...]  # copies, C-contiguous
    metric: Any


_entries: list[_Entry] = []  # most recently used last
_lock = threading.Lock()


def grid_key(coords: Sequence[tuple[Hashable, Any]], *context: Any) -> GridKey:
    """The key of a metric computed from ``coords`` (``(name, xarray.Variable)`` pairs) and
    ``context`` (anything else it reads: grid, spacings, options; tokenized with dask)."""
    from dask.base import tokenize

    described, values = [], []
    for name, variable in coords:
        data = variable.data
        if is_dask_array(data):
            # by its values, never its name: xarray names a file's arrays by path and
            # modification time, which a Zarr store keeps when its coordinates are rewritten
            # in place, and the reopened grid got the old grid's metric (an audit).
            # (grid_metric passes computed coordinates, which it gives the metric too.)
            data = data.compute()
        if type(data) is np.ndarray and data.dtype.kind in "biuf":
            described.append((name, variable.dims, variable.attrs, data.dtype.str, data.shape))
            values.append(data)
        else:  # an index (pandas) or a duck array: small or rare, hashed whole as before
            described.append((name, tokenize(variable)))
    return GridKey(key=tokenize(described, *context, "xgrad-metric-2"), values=tuple(values))


def content_token(key: GridKey) -> str:
    """A token of everything ``key`` stands for, the values hashed: the metric's name."""
    from dask.base import tokenize

    return tokenize(key.key, key.values)


def find(key: GridKey) -> Any | None:
    """The kept metric for ``key`` (bit-identical coordinate values), or None."""
    with _lock:
        candidates = [e for e in _entries if e.key == key.key]
    for entry in reversed(candidates):
        if all(_same_bits(a, b) for a, b in zip(entry.values, key.values, strict=True)):
            with _lock:
                if entry in _entries:
                    _entries.remove(entry)
                    _entries.append(entry)
            return entry.metric
    return None


def keep(key: GridKey, metric: Any) -> None:
    """Keep ``metric`` for ``key`` (a copy of its values), forgetting the least recently used
    beyond :data:`CACHED_GRIDS`."""
    values = tuple(np.array(v, order="C", copy=True) for v in key.values)
    with _lock:
        _entries.append(_Entry(key=key.key, values=values, metric=metric))
        del _entries[: max(len(_entries) - CACHED_GRIDS, 0)]


def clear_metrics() -> None:
    """Forget the kept metrics: frees their memory; the next call on any grid computes its
    metric again (``benchmarks/grids.py`` times that first call)."""
    with _lock:
        _entries.clear()


def _same_bits(kept: np.ndarray, value: np.ndarray) -> bool:
    """Whether ``value`` has the bits of ``kept`` (C-contiguous, same dtype and shape, by the
    key): -0.0 differs from 0.0 and a NaN equals the same NaN, as the metric's bits would."""
    flat = np.ravel(value, order="C")  # a view unless non-contiguous
    if kept.nbytes % 8 == 0:
        a, b = kept.reshape(-1).view(np.uint64), flat.view(np.uint64)
    else:
        a, b = kept.reshape(-1).view(np.uint8), flat.view(np.uint8)
    return all(np.array_equal(a[i : i + _STEP], b[i : i + _STEP]) for i in range(0, a.size, _STEP))
