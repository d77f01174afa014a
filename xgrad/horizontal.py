"""Eastward and northward derivatives, per metre, on any Earth grid (``.grad.horizontal``).

The grid-relative derivatives per metre along the grid's two dims come from one engine pass
(:func:`xgrad.labelled.derivative_arrays`, exactly those of ``.grad.along``); on a regular
latitude/longitude grid they are the answer. Elsewhere they are combined with the grid's local
frame (:mod:`xgrad.metrics`, computed in memory from the coordinates, kept for the next calls on
the same grid):

    [df/deast, df/dnorth] = C [df/dx_grid, df/dy_grid]

``C`` is a rotation by the local grid angle on an orthogonal grid (rotated pole, conformal
projection); on a non-orthogonal curvilinear grid it is ``J^-T`` scaled, with ``J`` the Jacobian
of the grid in metres. The scales and the combination are elementwise and done inside the engine's
pass (``combine=``, :func:`_rotate`), so a dask array stays lazy, the derivatives per grid unit
never leave the block's task, and a chunked result is bit-identical to the in-memory one.

On dask the four frame fields enter the graph as dask arrays named from the metric's token
(:func:`_frame_operands`, :func:`_named_blocks`): passed as numpy arrays, every layer that used
them hashed them again (most of the graph-building time on a large grid, benchmarks/grids.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from .arrays import is_dask_array, is_quantity
from .combinations import magnitude_of
from .coords import Spacing
from .engine import differentiate, output_dtype, real_dtype
from .grids import horizontal_dims
from .labelled import (
    Plan,
    _factor,
    boundary_label,
    derivative_arrays,
    numeric_data,
    pint_units,
    prepare,
    wrap,
)
from .metrics import GridMetric, broadcast_field, grid_metric
from .options import Options
from .periodic import axis_spacing
from .units import derivative_attrs

__all__ = ["frame_magnitude", "frame_metric", "horizontal", "plan_horizontal"]

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


def _rotate(derivatives: list, operands: list, out: Sequence[Any] | None = None) -> tuple[Any, Any]:
    """``(df/deast, df/dnorth)`` of one block (or tile) from its derivatives per grid unit along
    x and y and ``C`` with the scales folded in (:func:`_frame_operands`): compiled in one pass
    for float data, the same bits as the numpy expression.  ``out``: the two arrays to write
    (``combine``'s protocol, :func:`xgrad.blocks._combine_into`), written in the same pass
    where all eight are C-contiguous float32 (or float64) numpy arrays of one shape."""
    from ._metric_kernels import _rotate as rotate_into  # numba, imported on first use
    from ._metric_kernels import rotate

    gx, gy = derivatives
    east_x, east_y, north_x, north_y = operands
    arrays = (gx, gy, *operands, *(out or ()))
    if (
        out is not None
        and gx.dtype in (np.float32, np.float64)
        and all(
            type(a) is np.ndarray
            and a.dtype == gx.dtype
            and a.shape == gx.shape
            and a.flags.c_contiguous
            for a in arrays
        )
    ):
        rotate_into(*(a.reshape(1, -1) for a in arrays))  # the kernel of `rotate`: same bits
        return out[0], out[1]
    fast = rotate(gx, gy, east_x, east_y, north_x, north_y)
    if fast is not None:
        return fast
    return gx * east_x + gy * east_y, gx * north_x + gy * north_y


def _frame_operands(
    plan: Plan, da: xr.DataArray, spacings: Sequence[Spacing], numeric: Any, *, oriented: bool
) -> tuple:
    """``C``'s four fields times the scales along x and y (``C diag(sx, sy)``: per grid unit
    to per metre east and north, in float64), laid out as ``da`` and cast to the result's real
    dtype: numpy arrays, or for a dask ``data`` dask arrays chunked as it. Kept on the metric
    per layout (a Dataset's variables and the next calls on the grid share them; a few layouts
    at most: each is four grid-sized fields)."""
    from ._metric_kernels import product  # numba, imported on first use

    dtype, lazy = output_dtype(numeric.dtype), is_dask_array(numeric)
    metric = frame_metric(plan, da)
    # ``oriented=False``: for what does not depend on the frame's orientation (a length),
    # which the point on a pole has (east and north do not: NaN in ``to_earth``)
    to_earth = metric.to_earth if oriented else (metric.any_frame or metric.to_earth)
    key = ("horizontal-operands", da.dims, da.shape, str(dtype), numeric.chunks if lazy else None)
    # the operands' order is the spacings' (magnitude("y", "x") shares the metric of
    # horizontal(), x first)
    key += (to_earth is metric.to_earth, tuple(s.dim for s in spacings))
    if key in metric.derived:  # a Dataset's variables, the next call on this grid
        return metric.derived[key]
    if len(metric.derived) >= 4:
        metric.derived.clear()
    scales = metric.scales
    what = "the grid's frame"
    fields = []
    for row in DIRECTIONS:
        for s in spacings:
            c = to_earth[row][s.dim]
            scale = scales.get(s.dim)
            if isinstance(scale, xr.DataArray) and scale.dims == c.dims:
                # the float64 product cast to the result's dtype, in one compiled pass
                folded = product(c.values, scale.values, real_dtype(dtype))
                fields.append(
                    broadcast_field(
                        xr.DataArray(folded, dims=c.dims), da, dtype, what, operand=True
                    )
                )
            elif scale is not None:  # rotated pole: a number, or a field along one dim
                fields.append(broadcast_field(c * scale, da, dtype, what, operand=True))
            else:  # pragma: no cover - every grid with a frame has both scales
                c = broadcast_field(c, da, np.float64, what, operand=True)
                fields.append((c * _factor(da, s, plan, np.float64)).astype(real_dtype(dtype)))
    if lazy:  # named by all the key says (a square grid's transpose has the same shapes)
        token = None if metric.token is None else f"{metric.token}-{key}"
        fields = _named_blocks(fields, numeric, token)
    metric.derived[key] = tuple(fields)
    return metric.derived[key]


def _named_blocks(fields: list, data: Any, metric_token: str | None) -> list:
    """Each numpy field as a dask array shaped and chunked as ``data``, named by the token of
    the metric they come from (else by one hash of their values; numpy operands would be hashed
    again by every graph that uses them), never copied; each block a view of its part of the
    field (broadcast along the other dims), so the engine has nothing to broadcast or rechunk."""
    from dask.array.core import Array  # legacy, also with array expressions on
    from dask.base import tokenize

    values = (metric_token,) if metric_token is not None else fields
    layout = [(f.shape, str(f.dtype)) if np.ndim(f) else f for f in fields]
    token = tokenize(*values, layout, data.chunks, "xgrad-frame-1")
    names = [f"xgrad-frame-{k}-{token}" for k in range(len(fields))]
    bounds = [np.cumsum((0,) + c).tolist() for c in data.chunks]
    blocks = list(itertools.product(*(range(len(c)) for c in data.chunks)))
    out = []
    for f, name in zip(fields, names):
        graph: dict = {(name + "-field",): f}
        for idx in blocks:
            index = tuple(
                slice(None) if n == 1 else slice(bounds[d][idx[d]], bounds[d][idx[d] + 1])
                for d, n in enumerate(f.shape)
            )
            shape = tuple(c[i] for c, i in zip(data.chunks, idx))
            graph[(name,) + idx] = (_field_block, (name + "-field",), index, shape)
        out.append(Array(graph, name, chunks=data.chunks, dtype=f.dtype))
    return out


def _frame_pass(
    da: xr.DataArray, data: Any, plan: Plan, combine: Any, *, oriented: bool = True
) -> tuple:
    """What ``combine`` makes of each block's derivatives along the grid's x and y and the
    frame's operands (:func:`_frame_operands`), in the derivatives' pass."""
    sx, sy = plan.spacings
    options = plan.options
    return tuple(
        differentiate(
            data,
            (da.get_axis_num(sx.dim), da.get_axis_num(sy.dim)),
            [axis_spacing(sx), axis_spacing(sy)],
            edge_order=options.edge_order,
            accuracy=options.accuracy,
            nan=options.nan,
            periodic=(sx.period is not None, sy.period is not None),
            combine=combine,
            operands=_frame_operands(plan, da, (sx, sy), data, oriented=oriented),
            names=(sx.dim, sy.dim),
        )
    )


def frame_magnitude(da: xr.DataArray, data: Any, plan: Plan) -> Any:
    """``|grad f|`` per metre over the two dims of a grid with a frame (rotated pole,
    projected, curvilinear; right on a skewed grid too): the length of the east/north vector,
    formed block by block inside the derivatives' pass (no layer after the engine). A length
    does not depend on the frame's orientation: a projected grid's point on a pole, where east
    and north do not exist, takes the frame of the limit along its meridian."""
    (result,) = _frame_pass(da, data, plan, _magnitude, oriented=False)
    return result


def _magnitude(derivatives: list, operands: list, out: Sequence[Any] | None = None) -> Any:
    """``hypot(df/deast, df/dnorth)`` of one block (``combine``'s protocol)."""
    return magnitude_of(list(_rotate(derivatives, operands)), [], out)


def _field_block(field: np.ndarray, index: tuple, shape: tuple) -> np.ndarray:
    """A block's part of a field: a view, broadcast (read-only) along the dims it lacks."""
    return np.broadcast_to(field[index], shape)


def horizontal(da: xr.DataArray, plan: Plan) -> tuple[xr.DataArray, xr.DataArray]:
    """``(df/deast, df/dnorth)`` per metre, Earth-relative (see ``.grad.horizontal``)."""
    if plan.grid is None:  # never per index or per coordinate unit under these names
        raise ValueError(
            f"horizontal derivatives of {da.name!r} need an Earth grid, and none was found on "
            f"the dims {tuple(s.dim for s in plan.spacings)!r}; mark its coordinates (see "
            "docs/guide/grids.md)"
        )
    data, data_units = numeric_data(da, plan)
    quantified = is_quantity(da.data)
    sx, sy = plan.spacings
    units = pint_units(da.data, [(sx.name, "m")]) if quantified else None
    if _to_earth(plan, da) is None:
        results = tuple(derivative_arrays(data, da, [sx, sy], plan))
    else:
        results = _frame_pass(da, data, plan, _rotate)
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
