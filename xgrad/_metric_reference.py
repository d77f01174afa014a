"""The plain NumPy reference of the compiled curvilinear metric (:mod:`xgrad._metric_kernels`).

Each function spells out the operations of its kernel in the same order, so the two give the
same bits (``tests/test_grids.py::test_compiled_metric_matches_reference``): the readable
statement of what the kernels compute, and the home of the small vector helpers
:mod:`xgrad.metrics` shares with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["dot", "frame_reference", "scale_reference"]


def frame_reference(
    unit: np.ndarray, tx: np.ndarray, ty: np.ndarray, radius: float
) -> tuple[np.ndarray, ...]:
    """The plain NumPy reference of :func:`xgrad._metric_kernels.frame` (same operations in
    the same order): ``(scale_x, scale_y, east_x, east_y, north_x, north_y)``."""
    lx, ly = radius * _norm(tx), radius * _norm(ty)
    with np.errstate(divide="ignore"):
        sx, sy = (np.where(n == 0, np.nan, 1.0 / n) for n in (lx, ly))
    # J = [[a, b], [c, d]]: the tangents' east and north components, in metres per unit
    east, north = _local_basis(unit, radius)
    a, c = dot(east, tx), dot(north, tx)
    b, d = dot(east, ty), dot(north, ty)
    # a degenerate cell (two grid points at one place, as on ORCA's north fold) has no frame:
    # 0 * inf there is NaN, the answer, not something to warn about
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = 1.0 / (a * d - b * c)
        lx_inverse, ly_inverse = lx * inverse, ly * inverse
        return sx, sy, d * lx_inverse, -c * ly_inverse, -b * lx_inverse, a * ly_inverse


def scale_reference(tangent: np.ndarray, radius: float) -> np.ndarray:
    """The plain NumPy reference of :func:`xgrad._metric_kernels.scale`."""
    length = radius * _norm(tangent)
    with np.errstate(divide="ignore"):
        return np.where(length == 0, np.nan, 1.0 / length)


def _norm(t: np.ndarray) -> np.ndarray:
    """``|t|`` over the first axis of a ``(3, ...)`` array."""
    return np.sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2])


def _local_basis(unit: np.ndarray, scale: float) -> tuple[tuple, tuple]:
    """The east and north unit vectors at ``unit`` position vectors times ``scale``, as tuples
    of 2-D arrays (``e_z = 0`` left out): :func:`xgrad.metrics._east_north` without its (3, ny, nx)
    stacks,
    NaN at the poles."""
    x, y, z = unit
    horizontal = np.hypot(x, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(horizontal == 0, np.nan, scale / horizontal)
    zinv = -z * inv
    return (-y * inv, x * inv), (zinv * x, zinv * y, horizontal * scale)


def dot(basis: Any, t: np.ndarray) -> np.ndarray:
    """``basis . t`` over the first axis: ``basis`` (3, ...) or a tuple of 2 (third component
    0) or 3 arrays; no einsum (slow on large 2-D grids), no temporaries but one."""
    total = basis[0] * t[0]
    total += basis[1] * t[1]
    if len(basis) == 3:
        total += basis[2] * t[2]
    return total
