"""The local frame of the kinematics: grid-relative winds, their derivatives and metric terms.

:func:`local_gradient` turns the wind ``(u, v)`` into the vector gradient in the local frame of
the grid (x along the grid's x lines, y along its y lines; eastward and northward on a regular
latitude/longitude grid), per metre, on every Earth grid of :mod:`xgrad.grids`:

Regular latitude/longitude and rotated pole
    The sphere's (or ellipsoid's) metric term ``tan(phi)/N(phi)``, analytic (``phi`` the
    rotated latitude on a rotated-pole grid).
Projected and curvilinear (orthogonal-grid formulas)
    With the scale factors ``hx``, ``hy`` (metres per coordinate unit, ``1/scales`` of
    :mod:`xgrad.metrics`: pyproj's map factors, or ``|R dP/di|`` from the grid's positions),
    ``kx = (dhx/dj)/(hx hy)``, ``ky = (dhy/di)/(hx hy)`` and::

        du/dx = ux + v kx     dv/dx = vx - u kx     du/dy = uy - v ky     dv/dy = vy + u ky

    ``kx = -sy (dsx/dj)/sx`` and ``ky = -sx (dsy/di)/sy`` (``s = 1/h``) are differentiated with
    the data's stencils, spacings, boundaries and accuracy, in memory, once per call. ``hx``
    varies along i only through the grid (its stencil runs along i), so differentiating it along
    j keeps the order of ``accuracy`` up to the edges. The formulas assume an orthogonal grid
    (conformal projections, ORCA, WRF are); on a skewed grid they are not the vector gradient,
    so :func:`xgrad.kinematics_frame.plan_frame` refuses one while building
    (:func:`xgrad.orthogonal.require_orthogonal`).

Earth-relative components (keys ``"east"``/``"north"``) are first rotated onto the grid lines
with the local grid angle, ``u_x = t_x . (east, north)``, ``u_y = t_y . (east, north)`` (``t`` the
grid lines' unit tangents, the columns of :class:`xgrad.metrics.GridMetric`'s ``to_earth``); the
results are then in the grid-relative local frame. On rotated-pole and projected grids the angle is
analytic; on a curvilinear grid it comes from stencils of the positions, and differentiating it
again costs an order at the grid's edges (measured in ``tests/test_kinematics.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from .arrays import is_cubed_array
from .coords import Spacing
from .engine import differentiate
from .labelled import Plan, derivative_arrays, numeric_data
from .metrics import broadcast_field
from .periodic import axis_spacing

__all__ = ["Frame", "LocalGradient", "fused", "local_gradient", "scalar_gradient", "winds"]


@dataclass(frozen=True)
class Frame:
    """The horizontal frame of a kinematics method: the x and y dims and the components."""

    x: Spacing
    y: Spacing
    u: Hashable  # the component along x (eastward on a regular grid); "east" if earth
    v: Hashable  # the component along y (northward on a regular grid); "north" if earth
    sphere: bool  # regular or rotated-pole latitude/longitude: per metre, tan(phi)/N
    plan: Plan
    kind: str | None = None  # the Earth grid's kind (None: Cartesian)
    earth: bool = False  # u, v are eastward/northward: rotated onto the grid first
    # The data variables of the call (u, v and the scalar), each looked up once: a Dataset
    # builds a new DataArray at every ``ds[name]`` (20-50 us) and a method reads each a dozen
    # times.
    arrays: Mapping[Hashable, xr.DataArray] = field(default_factory=dict, compare=False, repr=False)

    @property
    def orthogonal(self) -> bool:
        """A projected or curvilinear grid: the orthogonal-grid metric terms ``kx``, ``ky``."""
        return self.kind in ("projected", "curvilinear")


def fused(name: str, *args: Any) -> xr.DataArray:
    """``xgrad._fused.kernel(name)(*args)`` elementwise, lazily on dask (one pass, no temporaries);
    every array in float32 when all are, else in float64; laid out as the first argument."""
    from . import _fused  # numba, imported on first use

    arrays = [a for a in args if isinstance(a, xr.DataArray)]
    dtype = np.result_type(np.float32, *(a.dtype for a in arrays))  # ints: float64
    args = tuple(a.astype(dtype, copy=False) if isinstance(a, xr.DataArray) else a for a in args)
    kernel = functools.partial(_fused.apply, name)  # numba on numpy blocks, NumPy on cupy's
    try:
        return xr.apply_ufunc(kernel, *args, dask="parallelized", output_dtypes=[dtype])
    except ValueError as err:
        cubed_arrays = [a for a in arrays if is_cubed_array(a.data)]
        if not cubed_arrays:
            raise
        # cubed's apply_gufunc cannot align the grid's (y, x) metric fields with data split
        # along those dims (raised while building; found by an audit)
        split = [d for d, c in zip(cubed_arrays[0].dims, cubed_arrays[0].chunks) if len(c) > 1]
        raise ValueError(
            "the kinematics on cubed arrays need the horizontal dims in one chunk (cubed's "
            f"apply_gufunc cannot align the grid's metric fields with blocks split there: {err}); "
            f"the dims split now are {split}: rechunk the horizontal ones whole, keeping time or "
            "level chunks, e.g. `ds.chunk({'lat': -1, 'lon': -1})`, or use dask"
        ) from err


def _labelled(da: xr.DataArray, data: Any) -> xr.DataArray:
    return xr.DataArray(data, dims=da.dims, coords=da.coords)


def _dtype(frame: Frame) -> np.dtype:
    from .vector import _real

    return np.result_type(*(_real(frame.arrays[k].dtype) for k in (frame.u, frame.v)))


def _to_grid(ds: xr.Dataset, frame: Frame) -> dict:
    """``{(row, dim): field}``: the east/north components of the grid lines' unit tangents."""
    from .horizontal import frame_metric  # computed once per plan

    to_earth = frame_metric(frame.plan, ds).to_earth
    return {
        (row, d): to_earth[row][d] for row in ("east", "north") for d in (frame.x.dim, frame.y.dim)
    }


def winds(ds: xr.Dataset, frame: Frame) -> tuple[xr.DataArray, xr.DataArray]:
    """The components along x and y as plain labelled numbers (pint magnitudes); Earth-relative
    ones rotated onto the grid lines (elementwise, lazy)."""
    unit = frame.plan.datetime_unit
    u, v = (
        _labelled(frame.arrays[k], numeric_data(frame.arrays[k], unit)[0])
        for k in (frame.u, frame.v)
    )
    if not frame.earth or frame.kind in (None, "sphere"):
        return u, v
    if frame.arrays[frame.u].dims != frame.arrays[frame.v].dims:
        raise ValueError(
            f"components {frame.u!r} {frame.arrays[frame.u].dims!r} and {frame.v!r} {frame.arrays[frame.v].dims!r} "
            "are rotated onto the grid together, so they need the same dims in the same order; "
            f"`ds[{frame.v!r}] = ds[{frame.v!r}].transpose(*ds[{frame.u!r}].dims)`"
        )
    c = _to_grid(ds, frame)
    dtype = np.result_type(u.dtype, v.dtype, np.float32)

    def on(row: str, dim: Hashable) -> Any:
        return broadcast_field(c[row, dim], u, dtype, "the grid angle")

    x, y = frame.x.dim, frame.y.dim
    along_x = u.data * on("east", x) + v.data * on("north", x)
    along_y = u.data * on("east", y) + v.data * on("north", y)
    return _labelled(u, along_x), _labelled(u, along_y)


def scalar_gradient(var: Hashable, frame: Frame, data: Any = None) -> tuple[xr.DataArray, ...]:
    """``(df/dx, df/dy)`` of one variable (or of ``data`` laid out as it): one engine pass, the
    metric factors in the pass."""
    da = frame.arrays[var]
    if data is None:
        data = numeric_data(da, frame.plan.datetime_unit)[0]
    fx, fy = derivative_arrays(data, da, [frame.x, frame.y], frame.plan)
    return _labelled(da, fx), _labelled(da, fy)


def _metric_term(frame: Frame) -> xr.DataArray | None:
    """``tan(phi)/N(phi)`` along the latitude dim (None off the lat/lon grids): ``N`` the
    prime-vertical radius of curvature (the radius on a sphere); NaN at the poles.

    On a rotated-pole grid ``phi`` is the rotated latitude: the metric of the rotated sphere,
    for components along the rotated grid lines.
    """
    if not frame.sphere:
        return None
    y = frame.y
    values = np.asarray(y.values, dtype=np.float64)  # the latitude dim's coordinate
    phi = values / y.per_radian
    # cos(pi/2) is 6e-17, not 0: the poles are found from the values, as for the factors
    pole = np.abs(values) == (90.0 if y.per_radian != 1.0 else np.pi / 2)
    with np.errstate(divide="ignore"):
        sec = np.where(pole, np.nan, 1.0 / np.cos(phi))
    term = np.sin(phi) * sec / frame.plan.figure.prime_vertical_radius(phi)
    return xr.DataArray(term.astype(_dtype(frame)), dims=y.dim)


def _curvatures(ds: xr.Dataset, frame: Frame) -> tuple[xr.DataArray, xr.DataArray]:
    """``kx = -sy (dsx/dj)/sx`` and ``ky = -sx (dsy/di)/sy`` over the grid dims, (y, x)."""
    from .orthogonal import _grid_field

    plan = frame.plan
    options = plan.options
    sx, sy = (_grid_field(ds, plan, plan.metric.scales[s.dim]).values for s in (frame.x, frame.y))
    dsx_dj, dsy_di = (
        differentiate(
            field,
            (axis,),
            [axis_spacing(s)],
            edge_order=options.edge_order,
            accuracy=options.accuracy,
            periodic=(s.period is not None,),
        )[0]
        for field, axis, s in ((sx, 0, frame.y), (sy, 1, frame.x))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        kx, ky = -sy * dsx_dj / sx, -sx * dsy_di / sy
    dims, dtype = (frame.y.dim, frame.x.dim), _dtype(frame)
    return (xr.DataArray(k.astype(dtype), dims=dims) for k in (kx, ky))


@dataclass(frozen=True)
class LocalGradient:
    """The four derivatives per metre and the local metric terms.

    ``ux, uy, vx, vy`` are the derivatives of each grid-relative component along the x and y dims
    (one engine pass per component); ``tan`` is ``tan(phi)/N`` on the latitude/longitude grids
    (None elsewhere), which with the components ``u, v`` turns them into the local-frame vector
    gradient: ``du/dx = ux - v tan``, ``dv/dx = vx + u tan``, ``du/dy = uy``, ``dv/dy = vy``.
    On an orthogonal projected or curvilinear grid, with scale factors ``hx``, ``hy`` (metres per
    grid unit), ``kx = (dhx/dj) / (hx hy)`` and ``ky = (dhy/di) / (hx hy)`` give ``du/dx = ux + v
    kx``, ``dv/dx = vx - u kx``, ``du/dy = uy - v ky``, ``dv/dy = vy + u ky``; those are folded
    into ``ux, uy, vx, vy`` (and ``tan`` is None) by :func:`local_gradient` (the sphere: ``hx = N
    cos phi``, ``hy = M``, so ``kx = -tan(phi)/N`` and ``ky = 0``).
    """

    ux: xr.DataArray
    uy: xr.DataArray
    vx: xr.DataArray
    vy: xr.DataArray
    u: xr.DataArray
    v: xr.DataArray
    tan: xr.DataArray | None

    @property
    def metric(self) -> tuple[Any, Any, Any, bool]:
        """``(u, v, tan, metric)`` for the fused kernels (zeros when there is no metric, so
        the kernels need not read the components)."""
        if self.tan is None:
            return 0.0, 0.0, 0.0, False
        return self.u, self.v, self.tan, True

    def du_dx(self) -> xr.DataArray:
        return self.ux if self.tan is None else fused("minus_product", self.ux, self.v, self.tan)

    def dv_dx(self) -> xr.DataArray:
        return self.vx if self.tan is None else fused("plus_product", self.vx, self.u, self.tan)


def _earth_curvilinear(ds: xr.Dataset, frame: Frame, u: xr.DataArray, v: xr.DataArray):
    """``(du/dx, du/dy, dv/dx, dv/dy)`` of Earth-relative ``(east, north)`` on a curvilinear grid:
    the wind as a 3-D vector ``V = east e + north n`` (``e``, ``n`` exact from the positions),
    each Cartesian component differentiated along both dims in one pass, then projected on the
    grid lines' unit tangents ``t_x``, ``t_y``: ``du/dx = t_x . dV/dx`` and so on. Nothing made
    by a stencil is differentiated again, so the order holds up to the edges."""
    from .metrics import _east_north, unit_positions
    from .orthogonal import _grid_field

    plan = frame.plan
    east, north = _east_north(unit_positions(ds, plan.grid, plan.options, true_frame=True))
    c = _to_grid(ds, frame)
    x, y = frame.x.dim, frame.y.dim
    tangents = {d: c["east", d].values * east + c["north", d].values * north for d in (x, y)}
    template = frame.arrays[frame.u]
    east_data, north_data = (
        _labelled(template, numeric_data(frame.arrays[k], plan.datetime_unit)[0])
        for k in (frame.u, frame.v)
    )
    dtype = np.result_type(east_data.dtype, north_data.dtype, np.float32)

    def on(values: np.ndarray) -> Any:
        return broadcast_field(_grid_field(ds, plan, values), template, dtype, "the grid frame")

    parts = {}
    for k in range(3):
        component = east_data.data * on(east[k]) + north_data.data * on(north[k])
        parts[k] = scalar_gradient(frame.u, frame, component)

    def project(d: Hashable, axis: int) -> xr.DataArray:
        t = tangents[d]
        total = parts[0][axis] * on(t[0]) + parts[1][axis] * on(t[1])
        return total + parts[2][axis] * on(t[2])

    return project(x, 0), project(x, 1), project(y, 0), project(y, 1)


def local_gradient(ds: xr.Dataset, frame: Frame) -> LocalGradient:
    """The derivatives and metric terms of the wind of ``frame`` (:class:`LocalGradient`); the
    one place where a grid's metric enters. Latitude and grid errors come before anything is
    built; each component is differentiated along both dims in one engine pass (the three
    Cartesian components of an Earth-relative wind on a curvilinear grid)."""
    tan = _metric_term(frame)
    u, v = winds(ds, frame)
    if frame.earth and frame.kind == "curvilinear":
        ux, uy, vx, vy = _earth_curvilinear(ds, frame, u, v)
        return LocalGradient(ux=ux, uy=uy, vx=vx, vy=vy, u=u, v=v, tan=None)
    ux, uy = scalar_gradient(frame.u, frame, u.data)
    vx, vy = scalar_gradient(frame.v, frame, v.data)
    if frame.orthogonal:
        kx, ky = _curvatures(ds, frame)
        ux, vx = fused("plus_product", ux, v, kx), fused("minus_product", vx, u, kx)
        uy, vy = fused("minus_product", uy, v, ky), fused("plus_product", vy, u, ky)
    return LocalGradient(ux=ux, uy=uy, vx=vx, vy=vy, u=u, v=v, tan=tan)
