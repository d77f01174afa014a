"""Eastward and northward derivatives, per metre, on any Earth grid (``.grad.horizontal``).

The grid-relative derivatives per metre along the grid's two dims come from one engine pass
(:func:`xgrad.labelled.derivative_arrays`, exactly those of ``.grad.along``); on a regular
latitude/longitude grid they are the answer. Elsewhere they are combined with the grid's local
frame (:mod:`xgrad.metrics`, computed once per plan, in memory, from the small coordinates):

    [df/deast, df/dnorth] = C [df/dx_grid, df/dy_grid]

``C`` is a rotation by the local grid angle on an orthogonal grid (rotated pole, conformal
projection); on a non-orthogonal curvilinear grid it is ``J^-T`` scaled, with ``J`` the Jacobian
of the grid in metres. The combination is elementwise, so a dask array stays lazy, and a chunked
result is bit-identical to the in-memory one.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from .arrays import is_quantity
from .grids import horizontal_dims
from .labelled import (
    Plan,
    boundary_label,
    derivative_arrays,
    numeric_data,
    pint_units,
    prepare,
    wrap,
)
from .metrics import GridMetric, broadcast_field, grid_metric
from .options import Options
from .units import derivative_attrs

__all__ = ["frame_metric", "horizontal", "plan_horizontal"]

DIRECTIONS = ("east", "north")


def plan_horizontal(obj: Any, options: Options) -> Plan:
    """Find the Earth grid of ``obj`` and plan its two dims, x (east-ish) first.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> da = xr.DataArray(np.zeros((3, 4)), dims=("lat", "lon"), coords={
    ...     "lat": ("lat", [0.0, 1.0, 2.0], {"units": "degrees_north"}),
    ...     "lon": ("lon", [0.0, 1.0, 2.0, 3.0], {"units": "degrees_east"})})
    >>> [s.dim for s in plan_horizontal(da, Options()).spacings]
    ['lon', 'lat']
    """
    # the frame comes with the metric, in one pass over the 2-D coordinates
    return prepare(obj, horizontal_dims(obj, options), options, frame=True)


def frame_metric(plan: Plan, obj: Any) -> GridMetric | None:
    """The metric of the plan's grid with its local frame (``to_earth``, ``tangents``), computed
    once per plan (a Dataset's variables share it); None on a regular grid (the identity)."""
    if plan.metric is not None and plan.metric.to_earth is not None:
        return plan.metric  # planned by plan_horizontal
    if "frame" not in plan.cache:
        plan.cache["frame"] = grid_metric(obj, plan.grid, plan.spacings, plan.options, frame=True)
    return plan.cache["frame"]


def _to_earth(plan: Plan, da: xr.DataArray) -> Any:
    metric = frame_metric(plan, da)
    return None if metric is None else metric.to_earth


def horizontal(da: xr.DataArray, plan: Plan) -> tuple[xr.DataArray, xr.DataArray]:
    """``(df/deast, df/dnorth)`` per metre, Earth-relative (see ``.grad.horizontal``)."""
    data, data_units = numeric_data(da, plan.datetime_unit)
    quantified = is_quantity(da.data)
    sx, sy = plan.spacings
    units = pint_units(da.data, [(sx.name, "m")]) if quantified else None
    to_earth = _to_earth(plan, da)
    gx, gy = derivative_arrays(data, da, [sx, sy], plan)
    if to_earth is None:
        results = (gx, gy)
    else:
        what = "the grid's frame"
        c = {
            row: {
                d: broadcast_field(to_earth[row][d], da, gx.dtype, what) for d in (sx.dim, sy.dim)
            }
            for row in DIRECTIONS
        }
        results = tuple(gx * c[row][sx.dim] + gy * c[row][sy.dim] for row in DIRECTIONS)
    out = []
    for direction, result in zip(DIRECTIONS, results, strict=True):
        attrs = derivative_attrs(
            da.attrs,
            name=da.name,
            data_units=data_units,
            coord_units="m",
            wrt=f"{direction}ward distance",
            boundary=boundary_label([sx, sy]),
            keep_attrs=bool(plan.options.keep_attrs),
            write_units=not quantified,
        )
        attrs.update(plan.grid_attrs())
        out.append(wrap(da, result, name=da.name, attrs=attrs, units=units))
    return out[0], out[1]
