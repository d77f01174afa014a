"""Layer 1: stencil coefficients, planned once per axis on the *whole* coordinate.

numpy.gradient decides "uniform or not" on the whole spacing array and computes its
coefficients with a specific sequence of float operations.  To be bit-for-bit equal to it
for every chunking, xgrad makes those decisions and computes those coefficients exactly once,
here, with the same operations on the same operand types (Python scalars stay Python
scalars, NumPy scalars stay NumPy scalars, so NEP 50 promotion is identical).  Blocks then
only *apply* the plan.  Deciding per block is the dask.array.gradient bug PEERS.md describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["AxisPlan", "plan_axis", "spacing_from_varargs"]


@dataclass(frozen=True, eq=False)
class AxisPlan:
    """Everything a kernel needs to differentiate along one axis of global length ``n``.

    Interior rows ``1 .. n-2`` use the central 3-point stencil; rows ``0`` and ``n-1`` use
    numpy's one-sided stencils of order ``edge_order``.

    Attributes
    ----------
    n : int
        Global length of the axis.
    edge_order : int
        1 or 2.
    uniform : bool
        True when the spacing is one scalar (numpy's ``np.ndim(ax_dx) == 0``).
    d2 : scalar
        ``2. * dx`` (uniform only): the interior divisor, with numpy's operand type.
    coef : tuple of three 1-D arrays or None
        Non-uniform interior weights ``(a, b, c)`` of length ``n - 2``; row ``g`` uses
        index ``g - 1``: ``a*f[g-1] + b*f[g] + c*f[g+1]``.
    lo, hi : tuple
        Edge stencils. ``edge_order == 1``: ``(dx,)`` and the row is ``(f[1]-f[0]) / dx``.
        ``edge_order == 2``: ``(a, b, c)`` applied to the three rows at that end.
    """

    n: int
    edge_order: int
    uniform: bool
    d2: Any
    coef: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    lo: tuple
    hi: tuple

    def rows_needed(self, start: int, size: int) -> tuple[int, int]:
        """Rows before and after the block ``[start, start + size)`` that its stencils read.

        A block's interior rows read one neighbour on each side; the global first and last
        rows read ``edge_order`` rows inwards, which for a block of one or two rows at the
        end of the axis reaches further than one neighbour (guarded by
        ``test_chunked.py::test_every_chunking_small``).
        """
        stop = start + size  # exclusive
        first = start - 1 if start > 0 else 0
        last = stop if stop < self.n else self.n - 1
        if stop == self.n:  # block holds the last row: its edge stencil reaches back
            first = min(first, self.n - 1 - self.edge_order)
        if start == 0:  # block holds the first row: its edge stencil reaches forward
            last = max(last, self.edge_order)
        return max(start - first, 0), max(last - (stop - 1), 0)

    def __dask_tokenize__(self) -> tuple:
        from dask.base import tokenize

        return (
            "xgrad.AxisPlan",
            self.n,
            self.edge_order,
            self.uniform,
            tokenize(self.d2, self.coef, self.lo, self.hi),
            type(self.d2).__name__,
        )


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
    if n == 1 and np.ndim(varargs[0]) == 0:
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
        if np.issubdtype(distances.dtype, np.integer):
            # as numpy: avoid modular arithmetic in the differences
            distances = distances.astype(np.float64)
        diffx = np.diff(distances)
        if (diffx == diffx[0]).all():
            diffx = diffx[0]  # constant spacing: numpy reduces it to a NumPy scalar
        dx[i] = diffx
    return dx


def _materialize(distances: Any) -> Any:
    """np.asanyarray, computing a (small, 1-D) dask coordinate first."""
    if hasattr(distances, "__dask_graph__") and hasattr(distances, "compute"):
        distances = distances.compute()
    return np.asanyarray(distances)


def plan_axis(n: int, ax_dx: Any, edge_order: int) -> AxisPlan:
    """Plan one axis exactly as numpy.gradient computes it (numpy 2.x, NEP 50 promotion)."""
    uniform = np.ndim(ax_dx) == 0
    if uniform:
        d2 = 2.0 * ax_dx
        coef = None
        if edge_order == 1:
            lo = hi = (ax_dx,)
        else:
            lo = (-1.5 / ax_dx, 2.0 / ax_dx, -0.5 / ax_dx)
            hi = (0.5 / ax_dx, -2.0 / ax_dx, 1.5 / ax_dx)
    else:
        d2 = None
        dx1 = ax_dx[0:-1]
        dx2 = ax_dx[1:]
        a = -(dx2) / (dx1 * (dx1 + dx2))
        b = (dx2 - dx1) / (dx1 * dx2)
        c = dx1 / (dx2 * (dx1 + dx2))
        coef = (np.ascontiguousarray(a), np.ascontiguousarray(b), np.ascontiguousarray(c))
        if edge_order == 1:
            lo = (ax_dx[0],)
            hi = (ax_dx[-1],)
        else:
            dx1, dx2 = ax_dx[0], ax_dx[1]
            lo = (
                -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2)),
                (dx1 + dx2) / (dx1 * dx2),
                -dx1 / (dx2 * (dx1 + dx2)),
            )
            dx1, dx2 = ax_dx[-2], ax_dx[-1]
            hi = (
                (dx2) / (dx1 * (dx1 + dx2)),
                -(dx2 + dx1) / (dx1 * dx2),
                (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2)),
            )
    return AxisPlan(n=n, edge_order=edge_order, uniform=uniform, d2=d2, coef=coef, lo=lo, hi=hi)
