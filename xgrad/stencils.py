"""Layer 1: stencil coefficients, planned once per axis on the *whole* coordinate.

numpy.gradient decides "uniform or not" on the whole spacing array and computes its
coefficients with a specific sequence of float operations.  To be bit-for-bit equal to it
for every chunking, xgrad makes those decisions and computes those coefficients exactly once,
here, with the same operations on the same operand types (Python scalars stay Python
scalars, NumPy scalars stay NumPy scalars, so NEP 50 promotion is identical).  Blocks then
only *apply* the plan.  Deciding per block is the ``dask.array.gradient`` bug that
docs/comparison.md describes.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from .arrays import is_dask_array

__all__ = ["AxisPlan", "plan_axis", "points_needed", "spacing_from_varargs"]


def points_needed(edge_order: int, accuracy: int, *, periodic: bool = False, order: int = 1) -> int:
    """Fewest points along an axis that the stencils of a plan need: the one rule.

    numpy's stencils (accuracy 2, first derivative, with ends) need ``edge_order + 1``; a
    periodic axis needs ``accuracy + 1`` (the stencil must not reach a point twice); one-sided
    stencils of order ``accuracy`` for the ``order``-th derivative need ``accuracy + order``.

    Examples
    --------
    >>> points_needed(1, 2), points_needed(2, 2), points_needed(1, 4)
    (2, 3, 5)
    >>> points_needed(1, 2, periodic=True), points_needed(1, 4, order=2)
    (3, 6)
    """
    if periodic:
        return accuracy + 1
    if accuracy == 2 and order == 1:
        return edge_order + 1
    return accuracy + order


@dataclass(frozen=True, eq=False)
class AxisPlan:
    """Everything a kernel needs to differentiate along one axis of global length ``n``.

    ``accuracy == 2`` is numpy.gradient exactly: the central 3-point stencil in the interior
    and numpy's one-sided stencils of order ``edge_order`` at rows ``0`` and ``n-1``.
    ``accuracy`` 4 or 6 uses Fornberg weights: a central stencil of ``accuracy + 1`` points
    inside and one-sided stencils of the same order near the ends.  ``periodic`` axes have
    no ends: every row is central and stencils reach across the seam, whose spacing is in ``dx``.

    Attributes
    ----------
    n, edge_order, accuracy, periodic, uniform
        As named; ``uniform`` is numpy's ``np.ndim(ax_dx) == 0``.
    two_dx : scalar
        ``2. * dx`` (accuracy 2, uniform): the interior divisor, with numpy's operand type.
    coef : tuple of three 1-D arrays or None
        Accuracy 2, non-uniform: ``(a, b, c)`` of length ``n``; row ``g`` is
        ``a[g]*f[g-1] + b[g]*f[g] + c[g]*f[g+1]`` (rows 0 and n-1 unused unless periodic).
    first_edge, last_edge : tuple
        Accuracy 2 edge stencils of rows ``0`` and ``n-1`` (empty when periodic).
        ``edge_order == 1``: ``(dx,)``, the row is ``(f[1]-f[0]) / dx``; ``edge_order == 2``:
        ``(a, b, c)`` applied to the three rows at that end.
    weights, offsets, lengths : ndarray or None
        The weighted stencils (accuracy 4/6, and every second derivative): row ``g`` is
        ``sum_j weights[g, j] * f[g + offsets[g] + j]`` for ``j < lengths[g]``, summed left
        to right (uniform plans skip the exact zeros).
    order : int
        Derivative order: 1, or 2 (the Laplacian's second derivatives).
    fallback : tuple or None
        ``nan="one-sided"``: the stencils tried, in order, where the regular one reads a NaN,
        each ``(first offset, per-row weights)`` (see :mod:`xgrad.missing`).
    """

    n: int
    edge_order: int
    uniform: bool
    two_dx: Any
    coef: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    first_edge: tuple
    last_edge: tuple
    accuracy: int = 2
    periodic: bool = False
    weights: np.ndarray | None = None
    offsets: np.ndarray | None = None
    fallback: tuple[tuple[int, np.ndarray], ...] | None = None
    order: int = 1
    lengths: np.ndarray | None = None

    @property
    def width(self) -> int:
        """Halo width of an interior row (one-sided NaN fallbacks reach two rows)."""
        w = self.accuracy // 2
        return max(w, 2) if self.fallback is not None else w

    @functools.cached_property  # asked once per tile: computed once per plan
    def real_weights(self) -> bool:
        """Whether every number the stencils take from the spacing is real, and each array of
        them float32 or float64: what the compiled kernels take (a complex spacing, or a
        float16 coordinate's coefficients, go the NumPy way; an audit found the compiled
        kernels dropping the imaginary part of complex edge weights)."""
        scalars = [*self.first_edge, *self.last_edge]
        if self.uniform:
            scalars.append(self.two_dx)
        # (the weighted stencils' weights are float64: plan_axis refuses a complex spacing)
        return not any(np.iscomplexobj(v) for v in scalars) and all(
            a.dtype in (np.float32, np.float64) for a in self.coef or ()
        )

    def footprint(self, g: int) -> tuple[int, int]:
        """First and last global row read by the stencil(s) of row ``g`` (non-periodic)."""
        n = self.n
        if self.weights is None:
            if g == 0:
                first, last = 0, self.edge_order
            elif g == n - 1:
                first, last = n - 1 - self.edge_order, n - 1
            else:
                first, last = g - 1, g + 1
        else:
            first = g + int(self.offsets[g])
            last = first + int(self.lengths[g]) - 1
        if self.fallback is not None:
            first, last = min(first, max(g - 2, 0)), max(last, min(g + 2, n - 1))
        return first, last

    def rows_needed(self, start: int, size: int) -> tuple[int, int]:
        """Rows before and after the block ``[start, start + size)`` that its stencils read.

        Interior rows read ``width`` neighbours on each side; rows near a global end read
        one-sided stencils that reach further inwards, which for a block of one or two rows
        at the end of the axis reaches past its neighbour (guarded by
        ``test_chunked.py::test_every_chunking_small``).
        """
        if self.periodic:
            return self.width, self.width
        stop = start + size
        reach = self.accuracy + 2
        rows = {start, stop - 1}
        rows.update(range(start, min(stop, start + reach)))
        rows.update(range(max(start, stop - reach), stop))
        rows.update(g for g in range(0, reach) if start <= g < stop)
        rows.update(g for g in range(self.n - reach, self.n) if start <= g < stop)
        spans = [self.footprint(g) for g in rows]
        first = min(a for a, _ in spans)
        last = max(b for _, b in spans)
        return max(start - first, 0), max(last - (stop - 1), 0)

    def __dask_tokenize__(self) -> tuple:
        from dask.base import tokenize

        return (
            "xgrad.AxisPlan",
            self.n,
            self.edge_order,
            self.uniform,
            self.accuracy,
            self.periodic,
            self.order,
            tokenize(
                *map(
                    _tokenizable,
                    (
                        self.two_dx,
                        self.coef,
                        self.first_edge,
                        self.last_edge,
                        self.weights,
                        self.offsets,
                    ),
                )
            ),
            tokenize(_tokenizable(self.fallback)),
            type(self.two_dx).__name__,
        )


def _tokenizable(value: Any) -> Any:
    """``value``, or a stand-in where dask's ``tokenize`` cannot hash it.

    ``tokenize`` sets an attribute on the numpy scalars it hashes, which numpy's masked
    constant refuses (``numpy.gradient(f, np.ma.masked)`` runs, so a spacing of it must too).
    """
    if isinstance(value, tuple | list):
        return tuple(map(_tokenizable, value))
    return "numpy.ma.masked" if value is np.ma.masked else value


def spacing_from_varargs(
    varargs: tuple, shape: tuple[int, ...], axes: tuple[int, ...]
) -> list[Any]:
    """numpy.gradient's handling of ``*varargs``: one spacing object per axis.

    Returns, per axis, either the scalar spacing object as given (its type matters for
    promotion) or the 1-D array of coordinate differences.  1-D dask coordinates are
    computed here (they are small, and numpy's uniform-or-not decision needs their values).
    Raises the same exception types, for the same inputs, as numpy.gradient.
    """
    n = len(varargs)
    len_axes = len(axes)
    if n == 0:
        return [1.0] * len_axes
    # a dask coordinate's own ndim: dask's array expressions refuse numpy's np.ndim
    if n == 1 and (varargs[0].ndim if is_dask_array(varargs[0]) else np.ndim(varargs[0])) == 0:
        return list(varargs) * len_axes
    if n != len_axes:
        raise TypeError(
            f"invalid number of arguments: got {n} spacing arguments for {len_axes} axes; "
            "pass none, one scalar, or one scalar / 1-D coordinate per axis"
        )
    dx = list(varargs)
    for i, distances in enumerate(dx):
        distances = _materialize(distances)
        if distances.ndim == 0:
            continue  # keep the caller's scalar object: its type drives promotion
        if distances.ndim != 1:
            raise ValueError(
                f"distances must be either scalars or 1d (spacing argument {i} has "
                f"{distances.ndim} dimensions)"
            )
        if len(distances) != shape[axes[i]]:
            raise ValueError(
                "when 1d, distances must match the length of the corresponding dimension "
                f"(spacing argument {i} has length {len(distances)}, axis {axes[i]} has "
                f"length {shape[axes[i]]})"
            )
        if isinstance(distances, np.ma.MaskedArray):
            distances = _unmasked(distances, i)
        if np.issubdtype(distances.dtype, np.integer):
            # as numpy: avoid modular arithmetic in the differences
            distances = distances.astype(np.float64)
        diffx = np.diff(distances)
        if (diffx == diffx[0]).all():
            diffx = diffx[0]  # constant spacing: numpy reduces it to a NumPy scalar
        dx[i] = diffx
    return dx


def _unmasked(distances: np.ma.MaskedArray, i: int) -> np.ndarray:
    """A masked coordinate's data, where nothing is masked (netCDF4 gives coordinates as
    masked arrays): the same bits as numpy's masked arithmetic.  ValueError where something
    is: numpy.gradient differences the values under the mask (whatever they are) and its
    derivatives there are not derivatives of anything; xgrad refuses (docs/comparison.md)."""
    masked = np.flatnonzero(np.ma.getmaskarray(distances))
    if masked.size:
        raise ValueError(
            f"spacing argument {i} is a masked array with {masked.size} masked value(s) "
            f"(first at index {masked[0]}): a coordinate needs every value; fill them first, "
            "e.g. `x.filled(np.nan)` (a NaN coordinate gives NaN derivatives next to it, as "
            "numpy does), or drop those points"
        )
    return np.ma.getdata(distances)


def _materialize(distances: Any) -> Any:
    """np.asanyarray, computing a (small, 1-D) dask coordinate first."""
    if is_dask_array(distances):
        if distances.size == 0:  # nothing to compute (dask's array expressions refuse to)
            return np.empty(distances.shape, dtype=distances.dtype)
        distances = distances.compute()
    return np.asanyarray(distances)


# Exact central weights (times dx) for uniform spacing; Fornberg's algorithm gives these up to
# rounding, and the exact zero in the middle matters (a missing centre must not poison the row).
_CENTRAL = {
    (1, 4): (1 / 12, -2 / 3, 0.0, 2 / 3, -1 / 12),
    (1, 6): (-1 / 60, 3 / 20, -3 / 4, 0.0, 3 / 4, -3 / 20, 1 / 60),
    (2, 2): (1.0, -2.0, 1.0),
    (2, 4): (-1 / 12, 4 / 3, -5 / 2, 4 / 3, -1 / 12),
    (2, 6): (1 / 90, -3 / 20, 3 / 2, -49 / 18, 3 / 2, -3 / 20, 1 / 90),
}


def fornberg(nodes: np.ndarray, order: int = 1) -> np.ndarray:
    """Weights at 0 of the ``order``-th derivative for stencil ``nodes`` (``(rows, L)``), row-wise.

    Fornberg (1988), "Generation of finite difference formulas on arbitrarily spaced
    grids", Math. Comp. 51: the recursion on Lagrange polynomials, vectorised over rows.
    Exact on polynomials of degree < L.
    """
    nodes = np.asarray(nodes, dtype=np.float64)
    rows, L = nodes.shape
    c = np.zeros((order + 1, rows, L))  # c[k]: weights of the k-th derivative
    c[0][:, 0] = 1.0
    prod_prev = np.ones(rows)
    for i in range(1, L):
        prod = np.ones(rows)
        top = min(i, order)
        for j in range(i):
            diff = nodes[:, i] - nodes[:, j]
            prod = prod * diff
            if j == i - 1:
                for k in range(top, 0, -1):  # descending: c[k-1] is still the old row
                    c[k][:, i] = (
                        prod_prev
                        * (k * c[k - 1][:, i - 1] - nodes[:, i - 1] * c[k][:, i - 1])
                        / prod
                    )
                c[0][:, i] = -prod_prev * nodes[:, i - 1] * c[0][:, i - 1] / prod
            for k in range(top, 0, -1):
                c[k][:, j] = (nodes[:, i] * c[k][:, j] - k * c[k - 1][:, j]) / diff
            c[0][:, j] = nodes[:, i] * c[0][:, j] / diff
        prod_prev = prod
    return c[order]


@functools.lru_cache(maxsize=64)
def _unit_weights(first: int, width: int, order: int) -> np.ndarray:
    """Fornberg's weights on the unit grid ``first, ..., first + width - 1`` (read-only, kept:
    a uniform axis' one-sided rows cost four :func:`fornberg` calls, ~1 ms, on every call)."""
    nodes = (np.arange(width, dtype=np.float64) + first)[None, :]
    weights = fornberg(nodes, order)[0]
    weights.flags.writeable = False
    return weights


def _positions(ax_dx: Any, n: int, periodic: bool) -> tuple[np.ndarray, float]:
    """Coordinates (relative to the first) and the period, from numpy-style spacing."""
    dx = np.full(n if periodic else n - 1, float(ax_dx)) if np.ndim(ax_dx) == 0 else ax_dx
    dx = np.asarray(dx, dtype=np.float64)
    x = np.concatenate([[0.0], np.cumsum(dx[: n - 1])])
    return x, float(np.sum(dx)) if periodic else float("nan")


def _weights_plan(n: int, ax_dx: Any, accuracy: int, periodic: bool, order: int = 1):
    """Per-row weights, offsets and stencil lengths for the weighted stencils.

    Interior rows: the central ``accuracy + 1`` points.  Near the ends (non-periodic): one-sided
    stencils of the same order of accuracy, ``accuracy + order`` points.  Uniform interior rows
    get the exact rational weights; ``weights`` is padded with zeros past each row's length.
    """
    h = accuracy // 2
    central = accuracy + 1
    width = central if periodic else accuracy + order
    offsets = np.full(n, -h, dtype=np.int64)
    lengths = np.full(n, central, dtype=np.int64)
    ends = [] if periodic else [*range(h), *range(n - h, n)]
    for g in ends:
        offsets[g] = -g if g < h else (n - width) - g
        lengths[g] = width
    weights = np.zeros((n, width))
    if np.ndim(ax_dx) == 0:
        scale = np.float64(ax_dx) ** order
        weights[:, :central] = np.array(_CENTRAL[order, accuracy]) / scale
        for g in ends:
            weights[g] = _unit_weights(int(offsets[g]), width, order) / scale
        return weights, offsets, lengths
    x, period = _positions(ax_dx, n, periodic)
    if periodic:
        xe = np.concatenate([x[n - h :] - period, x, x[:h] + period])
        rows = np.arange(n)[:, None] + np.arange(central)[None, :]  # into xe, centred at row + h
        weights[:] = fornberg(xe[rows] - x[:, None], order)
        return weights, offsets, lengths
    inner = np.arange(h, n - h)
    idx = inner[:, None] - h + np.arange(central)[None, :]
    weights[inner, :central] = fornberg(x[idx] - x[inner, None], order)
    if ends:
        g = np.array(ends)
        idx = g[:, None] + offsets[g][:, None] + np.arange(width)[None, :]
        weights[g] = fornberg(x[idx] - x[g, None], order)
    return weights, offsets, lengths


# The nan="one-sided" cascade, in the order tried: (first offset, points) of central 3-point,
# forward and backward 2nd order (numpy's edge formulas at that row), forward and backward 1st.
_FALLBACK_STENCILS = ((-1, 3), (0, 3), (-2, 3), (0, 2), (-1, 2))


def _fallback_plan(
    n: int, ax_dx: Any, periodic: bool, order: int = 1
) -> tuple[tuple[int, np.ndarray], ...]:
    """Stencils tried, in order, where the regular stencil reads a NaN (nan="one-sided").

    One ``(first offset, weights (n, points))`` per entry of ``_FALLBACK_STENCILS``; a row
    whose stencil leaves the axis (non-periodic) has NaN weights there and is skipped.
    """
    x, period = _positions(ax_dx, n, periodic)
    if periodic:
        xe = np.concatenate([x[n - 2 :] - period, x, x[:2] + period])
    else:
        xe = np.concatenate([[np.nan, np.nan], x, [np.nan, np.nan]])
    stencils = []
    for first, count in _FALLBACK_STENCILS:
        idx = np.arange(n)[:, None] + 2 + first + np.arange(count)[None, :]
        nodes = xe[idx] - x[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            w = fornberg(nodes, order)
        w[~np.isfinite(nodes).all(axis=1)] = np.nan
        stencils.append((first, w))
    return tuple(stencils)


def _nonuniform_interior(ax_dx: np.ndarray, periodic: bool) -> tuple[np.ndarray, ...]:
    """numpy's non-uniform 3-point weights ``(a, b, c)``, indexed by row (length ``n``)."""
    if periodic:  # row g sits between dx[g-1] and dx[g]; dx[-1] is the seam
        dx1, dx2 = np.roll(ax_dx, 1), ax_dx
    else:
        dx1, dx2 = ax_dx[0:-1], ax_dx[1:]
    a = -(dx2) / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    c = dx1 / (dx2 * (dx1 + dx2))
    if not periodic:  # index by row: rows 0 and n-1 take edge stencils instead
        a, b, c = (np.concatenate([w[:1] * np.nan, w, w[:1] * np.nan]) for w in (a, b, c))
    return np.ascontiguousarray(a), np.ascontiguousarray(b), np.ascontiguousarray(c)


def _edge_stencils(ax_dx: Any, uniform: bool, edge_order: int) -> tuple[tuple, tuple]:
    """numpy's one-sided stencils of rows ``0`` and ``n-1`` (see ``AxisPlan.first_edge``)."""
    if uniform:
        if edge_order == 1:
            return (ax_dx,), (ax_dx,)
        return (
            (-1.5 / ax_dx, 2.0 / ax_dx, -0.5 / ax_dx),
            (0.5 / ax_dx, -2.0 / ax_dx, 1.5 / ax_dx),
        )
    if edge_order == 1:
        return (ax_dx[0],), (ax_dx[-1],)
    dx1, dx2 = ax_dx[0], ax_dx[1]
    first = (
        -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2)),
        (dx1 + dx2) / (dx1 * dx2),
        -dx1 / (dx2 * (dx1 + dx2)),
    )
    dx1, dx2 = ax_dx[-2], ax_dx[-1]
    last = (
        (dx2) / (dx1 * (dx1 + dx2)),
        -(dx2 + dx1) / (dx1 * dx2),
        (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2)),
    )
    return first, last


def _is_time_spacing(ax_dx: Any) -> bool:
    """Whether a spacing is a time difference: timedelta64/datetime64 or Python timedeltas."""
    if np.asarray(ax_dx).dtype.kind in "mM":
        return True
    first = np.asarray(np.ravel(ax_dx)[:1], dtype=object)
    return bool(first.size) and isinstance(first[0], datetime.timedelta | datetime.datetime)


def plan_axis(
    n: int,
    ax_dx: Any,
    edge_order: int,
    accuracy: int = 2,
    periodic: bool = False,
    one_sided_nan: bool = False,
    order: int = 1,
) -> AxisPlan:
    """Plan one axis.  Accuracy 2 is exactly numpy.gradient's arithmetic (NEP 50 promotion).

    ``order=2`` plans second derivatives (always weighted stencils: numpy has none).

    ``ax_dx`` is numpy's spacing: a scalar, or the ``n - 1`` coordinate differences
    (``n`` for a periodic axis, the last being the seam ``first + period - last``).
    """
    uniform = np.ndim(ax_dx) == 0
    if (accuracy != 2 or order != 1 or one_sided_nan) and _is_time_spacing(ax_dx):
        # the weights and one-sided fallbacks are planned in float64, where a timedelta is a
        # count of its storage unit (days for m8[D], ns for m8[ns]; NaT a finite -9.2e18): an
        # audit found results in no stated unit, silently
        raise TypeError(
            "the spacing is a time difference (timedelta64 or datetime), which the weighted "
            "stencils (accuracy 4 or 6, second derivatives) and nan='one-sided' take as numbers "
            "only; give it in a unit of your choice, e.g. `(t - t[0]) / np.timedelta64(1, 's')` "
            "(seconds), or differentiate a DataArray along its time dim: "
            "`da.grad.along('time', datetime_unit='s')`"
        )
    two_dx = coef = None
    first_edge = last_edge = ()  # periodic axes have no edges
    weights = offsets = lengths = None
    if accuracy != 2 or order != 1:
        if np.iscomplexobj(ax_dx):  # float64 would drop the imaginary part, with a warning only
            raise TypeError(
                "the spacing is complex, and the weighted stencils (accuracy 4 or 6, second "
                "derivatives) take real spacings only; use accuracy=2 (numpy's stencils, which "
                "take complex spacings as numpy.gradient does), or give real coordinates"
            )
        weights, offsets, lengths = _weights_plan(n, ax_dx, accuracy, periodic, order)
    else:
        if uniform:
            two_dx = 2.0 * ax_dx
        else:
            coef = _nonuniform_interior(ax_dx, periodic)
        if not periodic:
            first_edge, last_edge = _edge_stencils(ax_dx, uniform, edge_order)
    return AxisPlan(
        n=n,
        edge_order=edge_order,
        uniform=uniform,
        two_dx=two_dx,
        coef=coef,
        first_edge=first_edge,
        last_edge=last_edge,
        accuracy=accuracy,
        periodic=periodic,
        weights=weights,
        offsets=offsets,
        fallback=_fallback_plan(n, ax_dx, periodic, order) if one_sided_nan else None,
        order=order,
        lengths=lengths,
    )
