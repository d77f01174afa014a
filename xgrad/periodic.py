"""Boundaries: one-sided differences at the ends, or a periodic seam.

A periodic dimension has no ends: the neighbour of the last point is the first one, one
``period`` further on, so the spacing across the seam is ``first + period - last`` (for a
descending coordinate ``first - period - last``). :func:`axis_spacing` hands the engine
(:func:`xgrad.engine.differentiate`) the ``n`` spacings, the seam last, reduced to one scalar
when they are all exactly equal (numpy's rule for "uniform"), so a uniform periodic field and the
same field rolled give bit-identical derivatives.

``boundary="auto"`` is periodic only for a CF longitude (:func:`xgrad.geometry.cf_role`) whose
points are uniformly spaced and cover exactly one period (360 degrees, 2 pi radians, or the
``period`` given for it), both to a relative tolerance of :data:`AUTO_RTOL`. Being strict is
deliberate: a regional grid, or a global one that repeats its first point at the end, must not
silently wrap (xgcm#509 and #746 show how surprising silent periodic defaults are). The choice is
recorded in each result's ``xgrad_boundary`` attribute.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from .coords import Spacing, coordinate_variables
from .geometry import cf_role, full_turn
from .stencils import points_needed, spacing_from_varargs

__all__ = ["AUTO_RTOL", "axis_spacing", "plan_boundaries"]

#: Relative tolerance of ``boundary="auto"``: equal steps, and ``n * step == period``. Coordinates
#: stored in float32 (or less) are also allowed their own rounding, a few ulps of their largest
#: value, since e.g. 0.1-degree longitudes cannot be stored closer than that.
AUTO_RTOL = 1e-9


def _given_period(period: Any, dim: Hashable) -> float | None:
    if isinstance(period, Mapping):
        value = period.get(dim)
        return None if value is None else float(value)
    return None if period is None else float(period)


def _covers_one_period(obj: Any, s: Spacing, period: float) -> bool:
    """Uniform steps and ``n * step == period``, to :data:`AUTO_RTOL` (or storage rounding)."""
    x = np.asarray(s.values)  # a CF longitude: always a numeric coordinate
    step = (x[-1] - x[0]) / (s.size - 1)
    dtype = coordinate_variables(obj)[s.name].dtype
    stored = np.finfo(dtype).eps if dtype.kind == "f" else 0.0
    tol = AUTO_RTOL * abs(step) + 4 * stored * float(np.max(np.abs(x)))
    uniform = bool(np.all(np.abs(np.diff(x) - step) <= tol))
    return uniform and abs(s.size * abs(step) - period) <= s.size * tol


def _check_seam(s: Spacing, period: float, accuracy: int) -> None:
    need = points_needed(1, accuracy, periodic=True)
    if s.size < need:
        raise ValueError(
            f"boundary='periodic' along {s.dim!r} needs at least {need} points with "
            f"accuracy={accuracy} (the stencil must not reach a point twice); it has {s.size}. "
            "Use `boundary='edge'` or more points"
        )
    x = np.arange(s.size, dtype=np.float64) if s.kind == "index" else np.asarray(s.values)
    span = abs(float(x[-1] - x[0]))
    if span < period and not math.isclose(span, period, rel_tol=AUTO_RTOL):
        return
    name = s.name
    if math.isclose(span, period, rel_tol=AUTO_RTOL):
        fix = (
            f"its last point repeats the first one, one period on; drop it: "
            f"`da.isel({{{s.dim!r}: slice(None, -1)}})`"
        )
    else:
        fix = (
            f"select one period, e.g. `da.isel({{{s.dim!r}: slice(0, n)}})` with "
            f"{name}[n] == {name}[0] + {period:g}"
        )
    raise ValueError(
        f"coordinate {name!r} spans {span:g} (from {x[0]:g} to {x[-1]:g}), which is not less "
        f"than period={period:g}, so it cannot wrap around; {fix}"
    )


def plan_boundaries(
    obj: Any,
    spacings: Sequence[Spacing],
    boundary: str | Mapping[Hashable, str],
    period: Any,
    *,
    accuracy: int,
) -> list[Spacing]:
    """Choose the boundary of each dimension; periodic ones get their ``period`` set.

    ``period`` (scalar, or per dimension) applies to the dimensions whose boundary is
    "periodic" and to CF longitudes under "auto"; a period that no dimension can use is an
    error rather than silently ignored. A CF longitude's period defaults to a full turn; a
    dimension without a coordinate (unit spacing) wraps after its ``n`` points.

    Examples
    --------
    >>> import xarray as xr
    >>> from xgrad.coords import resolve_spacings
    >>> lon = xr.DataArray(range(0, 360, 90), dims="lon", attrs={"units": "degrees_east"})
    >>> da = xr.DataArray([1.0, 2.0, 3.0, 4.0], dims="lon", coords={"lon": lon})
    >>> [s.period for s in plan_boundaries(da, resolve_spacings(da, ["lon"]), "auto", None,
    ...                                    accuracy=2)]
    [360.0]
    """
    out: list[Spacing] = []
    used = False
    for s in spacings:
        choice = boundary.get(s.dim, "auto") if isinstance(boundary, Mapping) else boundary
        given = _given_period(period, s.dim)
        numeric = s.kind == "numeric"
        role, per_radian = cf_role(coordinate_variables(obj)[s.name]) if numeric else (None, 1.0)
        if choice == "edge" or (choice == "auto" and role != "longitude"):
            if given is not None and isinstance(period, Mapping):
                raise ValueError(
                    f"period[{s.dim!r}]={given:g} is given but the boundary of {s.dim!r} is "
                    f"{choice!r} (periodic under 'auto' only for a CF longitude); ask for a "
                    f"seam: `boundary={{{s.dim!r}: 'periodic'}}`"
                )
            out.append(s)
            continue
        used = used or given is not None
        if given is not None:
            value = given
        elif role == "longitude":
            value = full_turn(per_radian)
        elif s.kind == "index":
            value = float(s.size)
        else:
            raise ValueError(
                f"boundary='periodic' along {s.dim!r} needs a period, in the units of "
                f"coordinate {s.name!r} ({s.units or 'no units'}); give it: "
                f"`period={{{s.dim!r}: ...}}`"
            )
        if choice == "auto" and (
            # too few points for a seam at this accuracy: the edge stencils, not an error
            s.size < points_needed(1, accuracy, periodic=True)
            or not _covers_one_period(obj, s, value)
        ):
            out.append(s)
            continue
        _check_seam(s, value, accuracy)
        out.append(dataclasses.replace(s, period=value))
    if period is not None and not isinstance(period, Mapping) and not used:
        raise ValueError(
            f"period={period!r} is only used with boundary='periodic' (or by a CF longitude "
            f"under 'auto'), and no dimension in {tuple(s.dim for s in spacings)!r} has either; "
            "ask for a seam: `boundary='periodic'`"
        )
    return out


def axis_spacing(s: Spacing) -> Any:
    """The spacing argument of :func:`~xgrad.engine.differentiate` for one dimension.

    Without a period: numpy.gradient's (one scalar when the coordinate's differences are all
    equal, else the ``n - 1`` differences; ``1.0`` without a coordinate), so results are those
    of ``DataArray.differentiate`` bit for bit. With one: the ``n`` differences, the seam last.

    Examples
    --------
    >>> from xgrad.coords import Spacing
    >>> x = np.array([0.0, 90.0, 180.0, 270.0])
    >>> float(axis_spacing(Spacing("lon", "lon", 4, x, None, "numeric", period=360.0)))
    90.0
    >>> axis_spacing(Spacing("lon", "lon", 3, x[[0, 1, 3]], None, "numeric", period=360.0))
    array([ 90., 180.,  90.])
    """
    if s.period is None:
        if s.kind == "index":
            return s.values
        return spacing_from_varargs((s.values,), (s.size,), (0,))[0]
    x = np.arange(s.size, dtype=np.float64) if s.kind == "index" else np.asarray(s.values)
    steps = np.diff(x)
    seam = x[0] + math.copysign(s.period, steps[0]) - x[-1]
    steps = np.append(steps, seam)
    if s.kind == "index" and (steps == 1.0).all():
        return 1.0  # the same Python float as without a seam: same promotion, same bits
    return steps[0] if (steps == steps[0]).all() else steps
