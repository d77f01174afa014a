"""The in-memory driver: a whole numpy (or duck) array as one block of :mod:`xgrad.blocks`.

Tiles run on threads when the array is large (:data:`_MIN_THREADED_BYTES`); the rows of a
periodic axis's other end are its halos (:func:`periodic_halo`, also the halos of a dask
block that spans such an axis whole).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .blocks import block_gradients
from .kernels import _index
from .stencils import AxisPlan
from .threads import cpu_threads

__all__ = ["inmemory_gradients", "periodic_halo"]

_MIN_THREADED_BYTES = 8 << 20


def inmemory_gradients(
    f: Any,
    axes: Sequence[int],
    plans: Sequence[AxisPlan],
    outs: Sequence[Any],
    scales: Sequence[Any] | None = None,
    *,
    combine: Callable[[list, list], Any] | None = None,
    operands: Sequence[Any] = (),
    results: Sequence[Any] = (),
    otype: Any = None,
    premultiply: Any = None,
    fields: Sequence[Any] = (),
) -> None:
    """The whole array as one block; threaded over tiles when it is large (``combine``,
    ``operands``, ``results``, ``otype``, ``premultiply``, ``fields`` (arrays: their halos
    are found here): see :func:`block_gradients`)."""
    halos = [periodic_halo(f, k, p) for k, p in zip(axes, plans)]
    if premultiply is not None and any(p.periodic for p in plans):
        # the halos are rows of the product: formed here where the factor does not vary
        # along the periodic axes (cos(lat) and a periodic longitude), else the whole product
        lead = f.ndim - np.ndim(premultiply)
        if any(
            p.periodic and np.shape(premultiply)[k - lead] != 1
            for k, p in zip(axes, plans)
            if k >= lead
        ):
            f, premultiply = f * premultiply, None
            halos = [periodic_halo(f, k, p) for k, p in zip(axes, plans)]
        else:
            halos = [tuple(h if h is None else h * premultiply for h in pair) for pair in halos]
    zeros = [0] * len(axes)
    big = isinstance(f, np.ndarray) and f.nbytes >= _MIN_THREADED_BYTES
    threads = cpu_threads() if big else 1
    block_gradients(
        f,
        axes,
        plans,
        zeros,
        halos,
        outs,
        threads=threads,
        scales=scales,
        combine=combine,
        operands=operands,
        results=results,
        otype=otype,
        premultiply=premultiply,
        fields=[(g, [periodic_halo(g, k, p) for k, p in zip(axes, plans)]) for g in fields],
    )


def periodic_halo(f: Any, axis: int, plan: AxisPlan) -> tuple[Any, Any]:
    """A periodic axis of a whole array: its own last/first rows are the halo (views)."""
    if not plan.periodic:
        return None, None
    w = plan.width
    m = f.shape[axis]
    return f[_index(f.ndim, axis, slice(m - w, m))], f[_index(f.ndim, axis, slice(0, w))]
