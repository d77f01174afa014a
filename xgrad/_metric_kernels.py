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
curvilinear metric), so ``import xgrad`` does not import numba; numba's on-disk cache as for
every kernel (:mod:`xgrad._numba_cache`).

Positions and tangents are laid out by rows, ``(ny, 3, nx)``: each row's three components one
after the other, so that the engine's cache tiles (bands of rows, :mod:`xgrad.blocks`) hold all
three and :func:`frame_tiles` turns a tile's tangents into the frame while they are in cache
(a 1-D set of points is ``n`` rows of one point). On a large grid :func:`positions`,
:func:`frame`, :func:`scale` and :func:`product` cut the points into contiguous ranges run on
threads (the kernels release the GIL, as the engine's tiles): pointwise, so the same bits on
any number of threads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._metric_reference import frame_reference
from ._numba_cache import jit as _jit
from .threads import cpu_threads, in_parallel

__all__ = ["frame", "frame_tiles", "positions", "product", "rotate", "scale"]


#: Points per thread at least: below, a kernel runs on the calling thread alone (handing a
#: range to the kept pool's worker costs 0.1-0.3 ms here, :mod:`xgrad.threads`; a kernel
#: does some 10-50 ns per point).
MIN_POINTS_PER_THREAD = 1 << 16


_HALF_PI = math.pi / 2  # 90 degrees / (180 / pi) and np.radians(90.0) are exactly this


@_jit
def _positions(lat, lon, per_lat, per_lon, out, start, stop):  # pragma: no cover - compiled
    # (rows, n) angles, (rows, 3, n) out; the rows [start, stop)
    for r in range(start, stop):
        for k in range(lat.shape[1]):
            phi, lam = lat[r, k] / per_lat, lon[r, k] / per_lon  # numpy's `lat / per_lat`
            # exactly 0 at a pole (cos(pi/2) is 6e-17): the pole's points coincide
            cos_lat = 0.0 if abs(phi) == _HALF_PI else math.cos(phi)
            out[r, 0, k] = cos_lat * math.cos(lam)
            out[r, 1, k] = cos_lat * math.sin(lam)
            out[r, 2, k] = math.sin(phi)


@_jit
def _scale(t, radius, out, start, stop):  # pragma: no cover - compiled
    # (rows, 3, n) tangents, (rows, n) out; the rows [start, stop)
    for r in range(start, stop):
        for k in range(t.shape[2]):
            t0, t1, t2 = t[r, 0, k], t[r, 1, k], t[r, 2, k]
            length = radius * math.sqrt(t0 * t0 + t1 * t1 + t2 * t2)
            out[r, k] = np.nan if length == 0 else 1.0 / length


@_jit
def _frame(unit, tx, ty, radius, first, second, horizontal, start, stop):  # pragma: no cover
    # (rows, 3, n) positions, tangents and outputs: (scale_x, scale_y, east_x) and
    # (east_y, north_x, north_y); the rows [start, stop); horizontal: (n,) scratch
    for r in range(start, stop):
        # hypot (a libm call) first for the whole row, so the loop below has no call in it:
        # 23 ms instead of 36 for ERA5's 721 x 1440 points on one thread (benchmarks/grids.py).
        # Six (rows, n) C-contiguous outputs instead of two (rows, 3, n) views let LLVM
        # vectorize it (15 ms) but cost 0.3 s more compiling, once per process: not taken.
        for k in range(unit.shape[2]):
            horizontal[k] = math.hypot(unit[r, 0, k], unit[r, 1, k])
        for k in range(unit.shape[2]):
            x, y, z = unit[r, 0, k], unit[r, 1, k], unit[r, 2, k]
            tx0, tx1, tx2 = tx[r, 0, k], tx[r, 1, k], tx[r, 2, k]
            ty0, ty1, ty2 = ty[r, 0, k], ty[r, 1, k], ty[r, 2, k]
            lx = radius * math.sqrt(tx0 * tx0 + tx1 * tx1 + tx2 * tx2)
            ly = radius * math.sqrt(ty0 * ty0 + ty1 * ty1 + ty2 * ty2)
            first[r, 0, k] = np.nan if lx == 0 else 1.0 / lx
            first[r, 1, k] = np.nan if ly == 0 else 1.0 / ly
            # the local east and north unit vectors times the radius (NaN at the poles)
            h = horizontal[k]
            inv = np.nan if h == 0 else radius / h
            zinv = -z * inv
            e0, e1 = -y * inv, x * inv
            n0, n1, n2 = zinv * x, zinv * y, h * radius
            # J = [[a, b], [c, d]]: the tangents' east and north components
            a = e0 * tx0 + e1 * tx1
            c = n0 * tx0 + n1 * tx1 + n2 * tx2
            b = e0 * ty0 + e1 * ty1
            d = n0 * ty0 + n1 * ty1 + n2 * ty2
            inverse = 1.0 / (a * d - b * c)
            lx_inverse, ly_inverse = lx * inverse, ly * inverse
            first[r, 2, k] = d * lx_inverse  # east, along x
            second[r, 0, k] = -c * ly_inverse  # east, along y
            second[r, 1, k] = -b * lx_inverse  # north, along x
            second[r, 2, k] = a * ly_inverse  # north, along y


def _frame_range(*args: Any) -> None:
    """:func:`_frame` with a scratch row of its own (one per thread); ``args`` as
    ``_frame``'s without ``horizontal``."""
    unit = args[0]
    _frame(*args[:-2], np.empty(unit.shape[2]), *args[-2:])


def _rows(shape: tuple) -> tuple[int, int]:
    """``(rows, n)``: points of ``shape`` as rows of its last axis; a 1-D (or 0-d) set of points
    as rows of one point (so that threads can share it out)."""
    if len(shape) < 2:
        return int(np.prod(shape, dtype=np.int64)), 1
    return int(np.prod(shape[:-1], dtype=np.int64)), shape[-1]


def _by_rows(values: np.ndarray, axis: int) -> np.ndarray:
    """A ``(3, ...)``-shaped array (the components along ``axis``) as C-contiguous float64
    ``(rows, 3, n)`` (a copy unless it is laid out so already)."""
    moved = np.moveaxis(np.asarray(values, dtype=np.float64), axis, 0)
    rows, n = _rows(moved.shape[1:])
    return np.ascontiguousarray(np.moveaxis(moved.reshape(3, rows, n), 0, 1))


def _on_threads(kernel: Any, rows: int, n: int, *args: Any) -> None:
    """``kernel(*args, start, stop)`` over the rows ``[0, rows)`` of ``n`` points: in
    contiguous ranges on threads where there are at least :data:`MIN_POINTS_PER_THREAD` points
    for each."""
    threads = min(cpu_threads(), rows * n // MIN_POINTS_PER_THREAD, rows)
    if threads <= 1:
        kernel(*args, 0, rows)
        return
    bounds = [rows * i // threads for i in range(threads + 1)]
    in_parallel(lambda ab: kernel(*args, *ab), list(zip(bounds, bounds[1:])))


def positions(
    lat: np.ndarray,
    lon: np.ndarray,
    per_lat: float = 1.0,
    per_lon: float = 1.0,
    *,
    axis: int = 0,
) -> np.ndarray:
    """Unit position vectors at latitude ``lat / per_lat``, longitude ``lon / per_lon``
    (float64; ``per_*`` units per radian, the division done here: no radian arrays):
    :meth:`xgrad.earth.Figure.positions` of ``Figure.sphere(1.0)``, same bits.

    The three components along ``axis``: 0 gives ``(3,) + lat.shape``, -2 gives
    ``lat.shape[:-1] + (3, nx)``, C-contiguous (by rows, as :func:`frame_tiles` reads them);
    any other is a view of that.
    """
    shape = np.shape(lat)
    rows, n = _rows(shape)
    out = np.empty((rows, 3, n), dtype=np.float64)
    angles = [np.ascontiguousarray(a, dtype=np.float64).reshape(rows, n) for a in (lat, lon)]
    _on_threads(_positions, rows, n, *angles, float(per_lat), float(per_lon), out)
    if len(shape) < 2:  # rows of one point
        return np.moveaxis(out.reshape(*shape, 3), -1, axis)
    return np.moveaxis(out.reshape(*shape[:-1], 3, n), -2, axis)


def scale(tangent: np.ndarray, radius: float, *, axis: int = 0) -> np.ndarray:
    """``1 / (radius |tangent|)`` over the ``axis`` of ``tangent`` that holds its three
    components; NaN where the tangent is zero. No copy with ``axis=-2`` of a C-contiguous
    array (the derivatives of :func:`positions` with ``axis=-2``)."""
    t = _by_rows(tangent, axis)
    shape = np.moveaxis(tangent, axis, 0).shape[1:]
    out = np.empty(t.shape[0::2], dtype=np.float64)
    _on_threads(_scale, *out.shape, t, float(radius), out)
    return out.reshape(shape)


def frame(
    unit: np.ndarray, tx: np.ndarray, ty: np.ndarray, radius: float
) -> tuple[np.ndarray, ...]:
    """``(scale_x, scale_y, east_x, east_y, north_x, north_y)`` at ``unit`` position vectors
    from the tangents ``tx``, ``ty`` (``(3, ...)`` arrays, per grid unit, times ``radius`` in
    metres): the scales ``1/|t|`` and the grid-to-Earth matrix ``J^-T diag(|t_x|, |t_y|)``."""
    parts = [_by_rows(a, 0) for a in (unit, tx, ty)]
    rows, _, n = parts[0].shape
    out = np.empty((6, rows, n), dtype=np.float64)
    # the layout of frame_tiles' outputs (one compiled signature): rows of contiguous fields
    first, second = (a.transpose(1, 0, 2) for a in (out[:3], out[3:]))
    _on_threads(_frame_range, rows, n, *parts, float(radius), first, second)
    return tuple(out.reshape(6, *np.shape(unit)[1:]))


def frame_tiles(
    derivatives: list, operands: list, out: Sequence[np.ndarray] | None = None, *, radius: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`frame` as the ``combine`` of :func:`xgrad.engine.differentiate` of positions
    laid out ``(ny, 3, nx)`` (:func:`positions` with ``axis=-2``) along x then y, tile by tile
    while the tangents are in cache: ``operands`` holds the unit positions; the two results
    hold ``(scale_x, scale_y, east_x)`` and ``(east_y, north_x, north_y)`` along their middle
    axis. Pass ``out`` as ``a.transpose(1, 0, 2)`` of two ``(3, ny, nx)`` arrays ``a`` (so each
    field is contiguous, and the compiled kernel gets the layout it was compiled for); without
    ``out`` (the engine's probe for the dtypes) the NumPy reference computes them, with the
    same bits (:func:`xgrad._metric_reference.frame_reference`)."""
    tx, ty = derivatives
    (unit,) = operands
    if out is None:  # the probe's 1-element arrays broadcast to three components
        shape = (unit.shape[0], 3, unit.shape[2])
        parts = (np.moveaxis(np.broadcast_to(a, shape), 1, 0) for a in (unit, tx, ty))
        fields = frame_reference(*parts, radius)
        return np.stack(fields[:3], axis=1), np.stack(fields[3:], axis=1)
    _frame_range(unit, tx, ty, float(radius), out[0], out[1], 0, unit.shape[0])
    return out[0], out[1]


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
    flat = [np.ascontiguousarray(v, dtype=np.float64).reshape(-1) for v in (a, b)]
    _on_threads(_product, out.size, 1, *flat, out.reshape(-1))
    return out
