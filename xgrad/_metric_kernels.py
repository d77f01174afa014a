"""Compiled (numba) pointwise kernels of the curvilinear metric (:mod:`xgrad.metrics`).

:func:`xgrad.metrics.grid_metric` on a curvilinear grid needs, per grid point, the unit position
vector, the lengths of the two grid-line tangents and the grid-to-Earth matrix: written as numpy
expressions that is about thirty passes over (ny, nx) float64 arrays, each with a temporary,
which was most of ``.grad.horizontal()``'s fixed cost on a large grid (``benchmarks/grids.py``,
issue #13). Each kernel here reads its inputs once and writes its outputs once.

They spell out the operations of the NumPy reference (:meth:`xgrad.earth.Figure.positions`,
:mod:`xgrad._metric_reference`) in the same order, without ``fastmath`` (no FMA contraction,
no reassociation), so the two agree bit for bit where numpy's
``cos``/``sin``/``hypot`` are libm's (``tests/test_grids.py::test_compiled_metric_matches_reference``;
numpy's SIMD float64 ``sin``/``cos`` on AVX-512 may differ by an ulp). Imported lazily (the first
curvilinear metric), so ``import xgrad`` does not import numba; numba's on-disk cache only with
``XGRAD_NUMBA_CACHE=1`` (:data:`xgrad._compiled.CACHE`).

On a large grid :func:`positions`, :func:`frame`, :func:`scale` and :func:`product` cut the points
into contiguous ranges run on threads (the kernels release the GIL, as the engine's tiles,
:mod:`xgrad.blocks`): pointwise, so the same bits on any number of threads.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np

from ._compiled import CACHE
from .blocks import _threads

__all__ = ["frame", "positions", "product", "rotate", "scale"]

_jit = numba.njit(nogil=True, cache=CACHE, error_model="numpy", boundscheck=False)


#: Points per thread at least: below, a kernel runs on the calling thread alone (starting
#: threads costs about 0.1 ms; a kernel does some 10-50 ns per point).
MIN_POINTS_PER_THREAD = 1 << 16


@_jit
def _positions(lat, lon, per_lat, per_lon, out, start, stop):  # pragma: no cover - compiled
    for k in range(start, stop):
        phi, lam = lat[k] / per_lat, lon[k] / per_lon  # numpy's `lat / per_lat`: same bits
        cos_lat = math.cos(phi)
        out[0, k] = cos_lat * math.cos(lam)
        out[1, k] = cos_lat * math.sin(lam)
        out[2, k] = math.sin(phi)


@_jit
def _scale(t, radius, out, start, stop):  # pragma: no cover - compiled
    for k in range(start, stop):
        length = radius * math.sqrt(t[0, k] * t[0, k] + t[1, k] * t[1, k] + t[2, k] * t[2, k])
        out[k] = np.nan if length == 0 else 1.0 / length


@_jit
def _frame(unit, tx, ty, radius, out, start, stop):  # pragma: no cover - compiled
    for k in range(start, stop):
        x, y, z = unit[0, k], unit[1, k], unit[2, k]
        tx0, tx1, tx2 = tx[0, k], tx[1, k], tx[2, k]
        ty0, ty1, ty2 = ty[0, k], ty[1, k], ty[2, k]
        lx = radius * math.sqrt(tx0 * tx0 + tx1 * tx1 + tx2 * tx2)
        ly = radius * math.sqrt(ty0 * ty0 + ty1 * ty1 + ty2 * ty2)
        out[0, k] = np.nan if lx == 0 else 1.0 / lx
        out[1, k] = np.nan if ly == 0 else 1.0 / ly
        # the local east and north unit vectors times the radius (NaN at the poles)
        horizontal = math.hypot(x, y)
        inv = np.nan if horizontal == 0 else radius / horizontal
        zinv = -z * inv
        e0, e1 = -y * inv, x * inv
        n0, n1, n2 = zinv * x, zinv * y, horizontal * radius
        # J = [[a, b], [c, d]]: the tangents' east and north components
        a = e0 * tx0 + e1 * tx1
        c = n0 * tx0 + n1 * tx1 + n2 * tx2
        b = e0 * ty0 + e1 * ty1
        d = n0 * ty0 + n1 * ty1 + n2 * ty2
        inverse = 1.0 / (a * d - b * c)
        lx_inverse, ly_inverse = lx * inverse, ly * inverse
        out[2, k] = d * lx_inverse  # east, along x
        out[3, k] = -c * ly_inverse  # east, along y
        out[4, k] = -b * lx_inverse  # north, along x
        out[5, k] = a * ly_inverse  # north, along y


def _flat(values: np.ndarray, rows: int | None = None) -> np.ndarray:
    shape = (-1,) if rows is None else (rows, -1)
    return np.ascontiguousarray(values, dtype=np.float64).reshape(shape)


def _on_threads(kernel: Any, size: int, *args: Any) -> None:
    """``kernel(*args, start, stop)`` over the points ``[0, size)``: in contiguous ranges on
    threads where there are at least :data:`MIN_POINTS_PER_THREAD` points for each."""
    threads = min(_threads(), size // MIN_POINTS_PER_THREAD)
    if threads <= 1:
        kernel(*args, 0, size)
        return
    bounds = [size * i // threads for i in range(threads + 1)]
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(kernel, *args, a, b) for a, b in zip(bounds, bounds[1:])]:
            future.result()


def positions(
    lat: np.ndarray, lon: np.ndarray, per_lat: float = 1.0, per_lon: float = 1.0
) -> np.ndarray:
    """Unit position vectors ``(3,) + lat.shape`` at latitude ``lat / per_lat``, longitude
    ``lon / per_lon`` (float64; ``per_*`` units per radian, the division done here: no radian
    arrays): :meth:`xgrad.earth.Figure.positions` of ``Figure.sphere(1.0)``, same bits."""
    out = np.empty((3, *np.shape(lat)), dtype=np.float64)
    flat = out.reshape(3, -1)
    _on_threads(
        _positions, flat.shape[1], _flat(lat), _flat(lon), float(per_lat), float(per_lon), flat
    )
    return out


def scale(tangent: np.ndarray, radius: float) -> np.ndarray:
    """``1 / (radius |tangent|)`` over the first axis of a ``(3, ...)`` array; NaN where the
    tangent is zero."""
    out = np.empty(tangent.shape[1:], dtype=np.float64)
    _on_threads(_scale, out.size, _flat(tangent, 3), float(radius), out.reshape(-1))
    return out


def frame(
    unit: np.ndarray, tx: np.ndarray, ty: np.ndarray, radius: float
) -> tuple[np.ndarray, ...]:
    """``(scale_x, scale_y, east_x, east_y, north_x, north_y)`` at ``unit`` position vectors
    from the tangents ``tx``, ``ty`` (``(3, ...)`` arrays, per grid unit, times ``radius`` in
    metres): the scales ``1/|t|`` and the grid-to-Earth matrix ``J^-T diag(|t_x|, |t_y|)``."""
    out = np.empty((6, *unit.shape[1:]), dtype=np.float64)
    flat = out.reshape(6, -1)
    _on_threads(
        _frame, flat.shape[1], _flat(unit, 3), _flat(tx, 3), _flat(ty, 3), float(radius), flat
    )
    return tuple(out)


@_jit
def _rotate(gx, gy, ex, ey, nx, ny, east, north):  # pragma: no cover - compiled
    # (P, m) derivatives and outputs; (P, m) or (1, m) fields (the same for every p)
    for p in range(gx.shape[0]):
        q = p if ex.shape[0] > 1 else 0
        for k in range(gx.shape[1]):
            east[p, k] = gx[p, k] * ex[q, k] + gy[p, k] * ey[q, k]
            north[p, k] = gx[p, k] * nx[q, k] + gy[p, k] * ny[q, k]


def _leading_broadcast(a: np.ndarray) -> int:
    """How many leading axes of ``a`` are broadcast (stride 0, as ``numpy.broadcast_to``)."""
    lead = 0
    while lead < a.ndim and a.strides[lead] == 0 and a.shape[lead] > 1:
        lead += 1
    return lead


def rotate(gx: Any, gy: Any, *matrix: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(gx ex + gy ey, gx nx + gy ny)`` with ``matrix = (ex, ey, nx, ny)`` in one pass, with
    the bits of that numpy expression; None (the caller then uses numpy) unless all six are
    float32 (or all float64) numpy arrays of one shape, ``gx`` and ``gy`` C-contiguous and the
    fields C-contiguous or broadcast along leading axes only (a field over the grid dims of a
    block with several time steps)."""
    dtype = getattr(gx, "dtype", None)
    arrays = (gx, gy, *matrix)
    if dtype not in (np.float32, np.float64) or not all(
        type(a) is np.ndarray and a.dtype == dtype and a.shape == gx.shape for a in arrays
    ):
        return None
    if not (gx.flags.c_contiguous and gy.flags.c_contiguous):
        return None
    lead = max(_leading_broadcast(a) for a in matrix)
    rows = int(np.prod(gx.shape[:lead], dtype=np.int64))
    fields = []
    for a in matrix:
        if _leading_broadcast(a) == lead and a[(0,) * lead].flags.c_contiguous:
            fields.append(a[(0,) * lead].reshape(1, -1))
        elif a.flags.c_contiguous:
            fields.append(a.reshape(rows, -1))
        else:
            return None
    if len({f.shape[0] for f in fields}) > 1:  # some broadcast, some not: one pass each
        fields = [np.ascontiguousarray(np.broadcast_to(f, (rows, f.shape[1]))) for f in fields]
    east, north = np.empty_like(gx), np.empty_like(gx)
    two_d = [a.reshape(rows, -1) for a in (gx, gy)]
    _rotate(*two_d, *fields, east.reshape(rows, -1), north.reshape(rows, -1))
    return east, north


@_jit
def _product(a, b, out, start, stop):  # pragma: no cover - compiled
    for k in range(start, stop):
        out[k] = a[k] * b[k]  # rounded to out's dtype as numpy's astype rounds


def product(a: np.ndarray, b: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``(a * b).astype(dtype)`` for float64 ``a``, ``b`` of one shape, in one pass (the same
    bits: the float64 product, then one rounding)."""
    out = np.empty(np.shape(a), dtype=dtype)
    _on_threads(_product, out.size, _flat(a), _flat(b), out.reshape(-1))
    return out
