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
    (:func:`xgrad.orthogonal.require_orthogonal`). On a curvilinear grid whose ``(x, y)`` turn
    clockwise (rows north to south) the cross terms change sign (:func:`_turn`): the frame
    ``(t_x, -t_y)`` is right-handed, so ``dv/dx - du/dy`` is the vorticity on every grid.

Earth-relative components (keys ``"east"``/``"north"``) on rotated-pole and orthogonal projected
grids are rotated onto the grid lines with the local grid angle, ``u_x = t_x . (east, north)``,
``u_y = t_y . (east, north)`` (``t`` the grid lines' unit tangents, the columns of
:class:`xgrad.metrics.GridMetric`'s ``to_earth``, analytic there); the results are then in the
grid-relative local frame. On a curvilinear grid (whose angle comes from stencils of the
positions: differentiating it again would cost an order at the grid's edges, measured in
``tests/test_kinematics.py``) and on a projected grid that is not orthogonal they take the
general form of :func:`_earth_general`, in the right-handed frame of :class:`_RightHanded`:
no orthogonal-grid formula, so any skew.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from .arrays import is_cubed_array, numpy_operand
from .coords import Spacing
from .engine import differentiate
from .geometry import cos_secant
from .labelled import Plan, cubed_alike, derivative_arrays, numeric_data
from .metrics import broadcast_field
from .periodic import axis_spacing

__all__ = [
    "Frame",
    "LocalGradient",
    "frame_gradient",
    "fused",
    "local_gradient",
    "scalar_gradient",
    "winds",
]


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
    # Earth-relative u, v on a curvilinear or skewed projected grid: the vector gradient in the
    # right-handed frame of the grid's x lines, without orthogonal-grid formulas
    # (:func:`_earth_general`)
    general: bool = False
    # The data variables of the call (u, v and the scalar), each looked up once: a Dataset
    # builds a new DataArray at every ``ds[name]`` (20-50 us) and a method reads each a dozen
    # times.
    arrays: Mapping[Hashable, xr.DataArray] = field(default_factory=dict, compare=False, repr=False)

    @property
    def orthogonal(self) -> bool:
        """A projected or curvilinear grid: the orthogonal-grid metric terms ``kx``, ``ky``
        (grid-relative components, or Earth-relative ones rotated onto an orthogonal projected
        grid)."""
        return self.kind in ("projected", "curvilinear") and not self.general


def fused(name: str, *args: Any) -> xr.DataArray:
    """``xgrad._fused.kernel(name)(*args)`` elementwise, lazily on dask (one pass, no temporaries);
    every array in float32 when all are, else in float64; laid out as the first argument."""
    from . import _fused  # numba, imported on first use

    arrays = [a for a in args if isinstance(a, xr.DataArray)]
    dtype = np.result_type(np.float32, *(a.dtype for a in arrays))  # ints: float64
    # Python floats too (the zeros of LocalGradient.metric): on dask blocks a float64 scalar
    # picked the kernel's float64 loop for float32 arrays (an audit: declared float32,
    # computed float64)
    args = tuple(
        a.astype(dtype, copy=False)
        if isinstance(a, xr.DataArray)
        else dtype.type(a)
        if isinstance(a, float)
        else a
        for a in args
    )
    # every array in one order of the dims: xarray's broadcast would transpose them with
    # `xp.transpose`, which neither cubed nor dask's array expressions have (an audit); on
    # cubed also cubed and chunked alike by dim name (cubed's apply_gufunc does not align the
    # grid's numpy (y, x) fields with split data: `cubed.asarray` chunks them its own way,
    # and refuses more than 1 MB)
    order = list(dict.fromkeys(d for a in arrays for d in a.dims))
    # of the cast arguments (`arrays` are the uncast ones: ints must reach the kernel as floats)
    arrays = [
        a.transpose(*(d for d in order if d in a.dims)) for a in args if isinstance(a, xr.DataArray)
    ]
    if any(is_cubed_array(a.data) for a in arrays):
        arrays = cubed_alike(arrays)
        # xarray merges the arguments' coordinates, comparing lazy ones by value: cubed 2-D
        # latitude/longitude were computed while building (dask's compare by name). Each is
        # kept once, from the first argument that has it
        seen: set = set()
        for i, a in enumerate(arrays):
            again = [c for c in a.coords if c in seen and c not in a.dims]
            seen.update(a.coords)
            arrays[i] = a.drop_vars(again) if again else a
    placed = iter(arrays)
    args = tuple(next(placed) if isinstance(a, xr.DataArray) else a for a in args)
    kernel = functools.partial(_fused.apply, name)  # numba on numpy blocks, NumPy on cupy's
    return xr.apply_ufunc(kernel, *args, dask="parallelized", output_dtypes=[dtype])


def _labelled(da: xr.DataArray, data: Any) -> xr.DataArray:
    return xr.DataArray(data, dims=da.dims, coords=da.coords)


def _dtype(frame: Frame) -> np.dtype:
    from .vector import _real

    return np.result_type(*(_real(frame.arrays[k].dtype) for k in (frame.u, frame.v)))


def _to_grid(ds: xr.Dataset, frame: Frame) -> dict:
    """``{(row, dim): field}``: the east/north components of ``T^dim``, the dual basis of the
    grid lines' unit tangents (the tangents themselves on an orthogonal grid): ``T^a . V`` is
    what :func:`winds` gives, so ``sum_a (T^a . V) D_a f`` is ``V . grad f`` on any grid."""
    from .horizontal import frame_metric  # computed once per plan

    to_earth = frame_metric(frame.plan, ds).to_earth
    return {
        (row, d): to_earth[row][d] for row in ("east", "north") for d in (frame.x.dim, frame.y.dim)
    }


def winds(ds: xr.Dataset, frame: Frame) -> tuple[xr.DataArray, xr.DataArray]:
    """The components along x and y as plain labelled numbers (pint magnitudes); Earth-relative
    ones rotated onto the grid lines (elementwise, lazy)."""
    u, v = (
        _labelled(frame.arrays[k], numeric_data(frame.arrays[k], frame.plan)[0])
        for k in (frame.u, frame.v)
    )
    if not frame.earth or frame.kind in (None, "sphere"):
        return u, v
    if frame.arrays[frame.u].dims != frame.arrays[frame.v].dims:
        raise ValueError(
            f"components {frame.u!r} {frame.arrays[frame.u].dims!r} and {frame.v!r} {frame.arrays[frame.v].dims!r} "
            "are rotated onto the grid together, so they need the same dims; broadcast one: "
            f"`ds[{frame.v!r}] = ds[{frame.v!r}].broadcast_like(ds[{frame.u!r}])"
            f".transpose(*ds[{frame.u!r}].dims)`"
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
        data = numeric_data(da, frame.plan)[0]
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
    sec = cos_secant(values, y.per_radian)[1]  # NaN at the poles, as for the factors
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


@dataclass(frozen=True)
class _RightHanded:
    """The right-handed local frame of a grid's x lines, from the grid's dual basis.

    With ``T^a`` the dual basis of the grid lines' unit tangents ``t_a`` (``T^a . t_b`` is 1 where
    ``a == b``, else 0; the columns of :class:`xgrad.metrics.GridMetric`'s ``to_earth``, exact on
    a projected grid, from stencils of the positions on a curvilinear one) and ``det`` the
    determinant of ``to_earth``: the frame is ``c_x = t_x`` and ``c_y`` its quarter turn to the
    left about the local vertical, ``c_y = T^y / det`` (``t_y`` on a right-handed orthogonal grid,
    ``-t_y`` where the grid's ``(x, y)`` turn clockwise). The derivative along ``c_x`` is the one
    along the x lines, ``D_x``; along ``c_y`` it is ``skew D_x + det D_y`` with ``skew = T^x . T^y
    / det`` (``D_a`` per metre along the grid lines, what the engine gives): exact on any grid,
    orthogonal or not. ``cx``, ``cy`` are the (east, north) components of ``c_x``, ``c_y``;
    every field is a (y, x) numpy array, NaN where the grid is degenerate (a pole row).
    """

    cx: tuple[np.ndarray, np.ndarray]
    cy: tuple[np.ndarray, np.ndarray]
    skew: np.ndarray
    det: np.ndarray

    @classmethod
    def of(cls, ds: xr.Dataset, frame: Frame) -> _RightHanded:
        """The frame of ``frame``'s grid, computed once per plan (``plan.cache``)."""
        if "right-handed" not in frame.plan.cache:
            frame.plan.cache["right-handed"] = cls._compute(ds, frame)
        return frame.plan.cache["right-handed"]

    @classmethod
    def _compute(cls, ds: xr.Dataset, frame: Frame) -> _RightHanded:
        c = _to_grid(ds, frame)
        x, y = frame.x.dim, frame.y.dim
        ex, nx, ey, ny = (
            np.asarray(c[row, d].transpose(y, x).values, dtype=np.float64)
            for row, d in (("east", x), ("north", x), ("east", y), ("north", y))
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            det = ex * ny - nx * ey
            return cls(
                cx=(ny / det, -ey / det),
                cy=(ey / det, ny / det),
                skew=(ex * ey + nx * ny) / det,
                det=det,
            )

    def along_y(self, dx: Any, dy: Any, on: Any) -> Any:
        """The derivative along ``c_y`` from the derivatives along the grid's x and y lines."""
        return dx * on(self.skew) + dy * on(self.det)


def _grid_on(ds: xr.Dataset, frame: Frame, like: xr.DataArray, dtype: np.dtype) -> Any:
    """A function laying a (y, x) numpy field of the grid out to broadcast against ``like``
    (:func:`xgrad.metrics.broadcast_field`, a cubed array for cubed data)."""
    from .orthogonal import _grid_field

    def on(values: np.ndarray) -> Any:
        return broadcast_field(_grid_field(ds, frame.plan, values), like, dtype, "the grid frame")

    return on


def _earth_general(ds: xr.Dataset, frame: Frame) -> tuple[xr.DataArray, ...]:
    """``(du/dx, du/dy, dv/dx, dv/dy)`` of Earth-relative ``(east, north)`` in the frame of
    :class:`_RightHanded`, on any curvilinear or projected grid: the wind as a 3-D vector ``V =
    east e + north n`` (``e``, ``n`` exact from the positions), each Cartesian component
    differentiated along both grid dims in one pass (``D_a V``), then ``c_i . D_x V`` and
    ``c_i . (skew D_x V + det D_y V)``. Nothing made by a stencil is differentiated again, so
    the order holds up to the edges; no orthogonal-grid formula, so a skewed grid is no error."""
    from .metrics import _east_north, unit_positions

    plan = frame.plan
    east, north = _east_north(unit_positions(ds, plan.grid, plan.options, true_frame=True))
    basis = _RightHanded.of(ds, frame)
    directions = [c[0] * east + c[1] * north for c in (basis.cx, basis.cy)]  # (3, y, x) each
    template = frame.arrays[frame.u]
    east_data, north_data = (
        _labelled(template, numeric_data(frame.arrays[k], plan)[0]) for k in (frame.u, frame.v)
    )
    dtype = np.result_type(east_data.dtype, north_data.dtype, np.float32)
    on = _grid_on(ds, frame, template, dtype)

    parts = []  # (D_x V_k, D_y V_k) for k = 0, 1, 2
    for k in range(3):
        component = east_data.data * on(east[k]) + north_data.data * on(north[k])
        parts.append(scalar_gradient(frame.u, frame, component))

    def project(c: np.ndarray, axis: int) -> xr.DataArray:
        """``c . D_axis V``."""
        total = parts[0][axis] * on(c[0]) + parts[1][axis] * on(c[1])
        return total + parts[2][axis] * on(c[2])

    (ux, uy), (vx, vy) = ((project(c, 0), project(c, 1)) for c in directions)
    return ux, basis.along_y(ux, uy, on), vx, basis.along_y(vx, vy, on)


def frame_gradient(ds: xr.Dataset, var: Hashable, frame: Frame) -> tuple[xr.DataArray, ...]:
    """``(df/dx, df/dy)`` of a scalar in the local frame of :func:`local_gradient` (one engine
    pass): along the grid lines, except where that frame is :class:`_RightHanded`'s and differs
    from them (the general form, a curvilinear grid whose ``(x, y)`` turn clockwise)."""
    fx, fy = scalar_gradient(var, frame)
    if frame.general:
        on = _grid_on(ds, frame, frame.arrays[var], fx.dtype)
        return fx, _RightHanded.of(ds, frame).along_y(fx, fy, on)
    turn = _turn(ds, frame, fx.dtype)
    return (fx, fy) if turn is None else (fx, _times(fy, turn))


def _times(a: xr.DataArray, field: xr.DataArray) -> xr.DataArray:
    """``a * field`` (matched by dim name), ``field`` a cubed array where ``a``'s data is one."""
    if not is_cubed_array(a.data):
        return a * field
    field = field.transpose(*(d for d in a.dims if d in field.dims))
    chunks = tuple(a.chunks[a.get_axis_num(d)] for d in field.dims)
    return a * field.copy(data=numpy_operand(field.values, a.data, chunks))


def _turn(ds: xr.Dataset, frame: Frame, dtype: np.dtype) -> xr.DataArray | None:
    """-1 where a curvilinear grid's ``(x, y)`` turn clockwise (rows north to south), +1 where
    counter-clockwise, NaN where degenerate, over the grid's dims (so that it multiplies each
    result by dim name, whatever its layout); None where they turn counter-clockwise
    everywhere (nothing to change)."""
    if frame.kind != "curvilinear" or frame.general:
        return None
    from .orthogonal import _grid_field, _handedness

    if "handedness" not in frame.plan.cache:
        frame.plan.cache["handedness"] = _handedness(ds, frame.plan)
    sign = frame.plan.cache["handedness"]
    if not (sign < 0).any():
        return None
    return _grid_field(ds, frame.plan, sign).astype(dtype)


def local_gradient(ds: xr.Dataset, frame: Frame) -> LocalGradient:
    """The derivatives and metric terms of the wind of ``frame`` (:class:`LocalGradient`); the
    one place where a grid's metric enters. Latitude and grid errors come before anything is
    built; each component is differentiated along both dims in one engine pass (the three
    Cartesian components of an Earth-relative wind on a curvilinear grid)."""
    tan = _metric_term(frame)
    u, v = winds(ds, frame)
    if frame.general:
        ux, uy, vx, vy = _earth_general(ds, frame)
        return LocalGradient(ux=ux, uy=uy, vx=vx, vy=vy, u=u, v=v, tan=None)
    ux, uy = scalar_gradient(frame.u, frame, u.data)
    vx, vy = scalar_gradient(frame.v, frame, v.data)
    if frame.orthogonal:
        kx, ky = _curvatures(ds, frame)
        ux, vx = fused("plus_product", ux, v, kx), fused("minus_product", vx, u, kx)
        uy, vy = fused("minus_product", uy, v, ky), fused("plus_product", vy, u, ky)
    turn = _turn(ds, frame, ux.dtype)
    if turn is not None:  # into the right-handed frame (x, -y): the cross terms change sign
        uy, vx = _times(uy, turn), _times(vx, turn)
    return LocalGradient(ux=ux, uy=uy, vx=vx, vy=vy, u=u, v=v, tan=tan)
