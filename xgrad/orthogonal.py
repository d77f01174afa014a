"""Divergence, curl and Laplacian on rotated-pole, projected and curvilinear Earth grids.

Components along the grid dims (grid-relative, ``u`` along ``x``, ``v`` along ``y``) use the
orthogonal-grid formulas with the scale factors ``hx``, ``hy`` (metres per coordinate unit along
each dim, ``1/scale`` of :mod:`xgrad.metrics`)::

    div (u, v)  = 1/(hx hy) [d(hy u)/dx + d(hx v)/dy]
    curl (u, v) = 1/(hx hy) [d(hy v)/dx - d(hx u)/dy]               (relative vorticity)

They assume an orthogonal grid (rotated pole, conformal projections, ORCA and WRF are); on the
rotated sphere they are the sphere's formulas in rotated coordinates. :func:`require_orthogonal`
refuses a grid whose lines depart from a right angle by more than :data:`MAX_SKEW_DEGREES`
(it guards these and the kinematics' orthogonal-grid formulas, :mod:`xgrad.local_frame`).

Components ``"east"``/``"north"`` (Earth-relative) are not rotated onto the grid first: on a
curvilinear grid the grid lines' directions come from stencils, and differentiating them again
would lose an order at the edges (measured: first order). Instead the wind is a 3-D vector field
``V = u e + v n`` (``e``, ``n`` the exact local unit vectors) whose Cartesian components are
differentiated along the grid dims, and, with ``X_a = R dP/da`` the grid's tangent vectors and
``g^ab`` the inverse of its metric tensor ``g_ab = X_a . X_b``::

    div V  = g^ab X_a . dV/db          curl V = g^ab (P x X_a) . dV/db

which holds on any grid, orthogonal or not. The Laplacian is the Laplace-Beltrami operator with
compact second-derivative stencils and the Christoffel terms of the grid,
``lap f = g^ab (f_ab - g^cd (X_d . X_ab) f_c)`` (``f_xy`` only where the grid is not orthogonal by
construction, i.e. not on a rotated-pole grid). Every metric quantity is computed in memory, once,
from the grid points' positions with the data's stencils; nothing derived from a stencil is
differentiated again, so each operator keeps the order of ``accuracy`` up to the edges.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from .coords import Spacing
from .engine import differentiate, output_dtype
from .grids import HorizontalGrid
from .labelled import Plan, derivative_arrays
from .metrics import _east_north, _latitude_longitude, broadcast_field, grid_metric, unit_positions
from .periodic import axis_spacing
from .stencils import points_needed

__all__ = [
    "MAX_PROJECTED_SKEW_DEGREES",
    "MAX_SKEW_DEGREES",
    "Skew",
    "check_grid_components",
    "earth_flux",
    "flux",
    "grid_skew",
    "is_orthogonal",
    "laplacian",
    "require_orthogonal",
]

#: The largest departure from a right angle, in degrees, between a grid's two directions that the
#: orthogonal-grid formulas accept (:func:`require_orthogonal`). Treating a grid skewed by
#: ``delta`` as orthogonal drops the cross terms of its metric, ``g_xy / sqrt(g_xx g_yy) =
#: sin(delta)``: an error of order ``sin(delta)`` relative to the result (1.7% at 1 degree) that
#: does not shrink as the grid is refined. 1 degree keeps it at the size of the second-order
#: stencils' own truncation error on a field resolved by 20 points per wavelength
#: (``(2 pi / 20)**2 / 6``, 1.6%). Real model grids are built orthogonal (NEMO ORCA, ROMS, WRF's
#: Lambert conformal; conformal projections exactly): what is measured on them is the truncation
#: error of the stencils that estimate the grid lines' directions (:func:`grid_skew`), at most
#: 0.51 degree on the coarsest test grid (a global ORCA-like 20 x 11, 18 degrees per cell), 0.05
#: on a 32 x 17 one, 1e-8 on the projected ones (tests/test_orthogonality.py).
MAX_SKEW_DEGREES = 1.0

#: The same for a projected grid, whose skew pyproj gives exactly (1e-8 degree on conformal and
#: cylindrical projections): its grid lines must be orthogonal. A non-conformal projection's
#: skew (equal-area, sinusoidal, orthographic) varies across the grid, and the orthogonal-grid
#: formulas then err by about ``U |grad delta|``, whatever the skew's size: 1.6 % of the
#: vorticity of a solid-body rotation on a 400 km Albers grid whose skew is 0.04 degree, 50 % on
#: a sinusoidal one of 0.36 degree (an audit, session 14). Refused, with what holds on any grid.
MAX_PROJECTED_SKEW_DEGREES = 1e-5


@dataclass(frozen=True, kw_only=True)
class Skew:
    """The worst departure from a right angle between the grid lines (degrees) and where."""

    degrees: float
    index: tuple[int, int]  # (j, i): along the grid's y dim, then its x dim


def _worst(sine: np.ndarray) -> Skew | None:
    finite = np.isfinite(sine)
    if not finite.any():
        return None
    worst = int(np.argmax(np.where(finite, sine, -1.0)))
    j, i = np.unravel_index(worst, sine.shape)
    degrees = float(np.degrees(np.arcsin(min(float(sine.flat[worst]), 1.0))))
    return Skew(degrees=degrees, index=(int(j), int(i)))


def grid_skew(
    obj: Any, grid: HorizontalGrid, spacings: Sequence[Spacing], options: Any
) -> Skew | None:
    """The largest ``|90 - angle|`` between the grid's two directions on the Earth, in memory
    from the small coordinates (the data is never read); None on a grid orthogonal by
    construction (regular, rotated pole) or where the angle is undefined everywhere.

    Projected: from pyproj's Jacobian ``A = d(x, y)/d(east, north)`` (exact; the rows of ``A``
    are the dual basis of the grid directions, the columns of ``A^-1``, so the angle between them
    is 180 degrees minus the grid's). Curvilinear: from the grid lines' tangents ``dP/di``,
    ``dP/dj`` of the Earth-centred positions, with fourth-order stencils (second order, with
    second-order ends, along a dim too short for them) whatever the data's ``accuracy``, so that
    the estimate's truncation error stays far below :data:`MAX_SKEW_DEGREES` on any grid that
    resolves its own curvature. Degenerate points (a pole, a folded row: NaN) are skipped.
    """
    if grid.kind not in ("projected", "curvilinear") or len(grid.dims) != 2:
        return None
    by_dim = {s.dim: s for s in spacings}
    if grid.kind == "projected":
        c = grid_metric(obj, grid, list(spacings), options, frame=True).to_earth
        tx, ty = ([np.asarray(c[row][d]) for row in ("east", "north")] for d in (grid.x, grid.y))
        with np.errstate(divide="ignore", invalid="ignore"):
            dot = np.abs(tx[0] * ty[0] + tx[1] * ty[1])
            return _worst(dot / (np.hypot(*tx) * np.hypot(*ty)))
    wanted = [by_dim[grid.x], by_dim[grid.y]]
    periodic = tuple(s.period is not None for s in wanted)
    accuracy = 4
    if any(s.size < points_needed(2, 4, periodic=p) for s, p in zip(wanted, periodic, strict=True)):
        accuracy = 2
    position = grid.figure.positions(*_latitude_longitude(obj, grid))
    px, py = differentiate(
        position,
        (2, 1),
        [axis_spacing(s) for s in wanted],
        edge_order=2,
        accuracy=accuracy,
        periodic=periodic,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        dot = np.abs(np.einsum("k...,k...->...", px, py))
        norms = np.sqrt(np.einsum("k...,k...->...", px, px) * np.einsum("k...,k...->...", py, py))
        return _worst(dot / norms)


def _skew(obj: Any, plan: Plan) -> tuple[Skew | None, float]:
    """The plan's grid skew (computed once per plan, ``plan.cache``) and its tolerance."""
    if "skew" not in plan.cache:
        plan.cache["skew"] = grid_skew(obj, plan.grid, plan.spacings, plan.options)
    projected = plan.grid.kind == "projected"
    return plan.cache["skew"], MAX_PROJECTED_SKEW_DEGREES if projected else MAX_SKEW_DEGREES


def is_orthogonal(obj: Any, plan: Plan) -> bool:
    """Whether the orthogonal-grid formulas hold on ``plan``'s grid (always off the projected
    and curvilinear grids; within :data:`MAX_SKEW_DEGREES` or
    :data:`MAX_PROJECTED_SKEW_DEGREES` on them)."""
    grid = plan.grid
    if grid is None or grid.kind not in ("projected", "curvilinear"):
        return True
    skew, tolerance = _skew(obj, plan)
    return skew is None or skew.degrees <= tolerance


def require_orthogonal(obj: Any, plan: Plan, operator: str) -> None:
    """ValueError where the grid lines of ``plan``'s grid depart from a right angle by more than
    :data:`MAX_SKEW_DEGREES`: ``operator``'s orthogonal-grid formulas would be silently wrong.

    Called while building, before anything else; computed once per plan (``plan.cache``).
    """
    if is_orthogonal(obj, plan):
        return
    grid = plan.grid
    skew, tolerance = _skew(obj, plan)
    projected = grid.kind == "projected"
    j, i = skew.index
    why = (
        "; a projected grid must be orthogonal, as conformal and cylindrical projections are: "
        "this projection's skew varies across the grid, which the formulas cannot absorb"
        if projected
        else ""
    )
    raise ValueError(
        f"{operator} on this {grid.kind} grid (dims {grid.dims!r}) uses orthogonal-grid "
        f"formulas, but its grid lines cross {skew.degrees:.3g} degrees away from a right angle "
        f"at {grid.y}={j}, {grid.x}={i} (the tolerance is {tolerance} degree{why}); the "
        "result would be silently wrong. Use what holds on any grid: Earth-relative components "
        "`{'east': 'u', 'north': 'v'}` (divergence, curl and the kinematics), grid-relative "
        "derivatives "
        f"`.grad.along({grid.y!r}, {grid.x!r})`, or `.grad.horizontal()`; or regrid to an "
        "orthogonal grid."
        + (
            ""
            if projected
            else " (On model output a large skew over land often means filled-in coordinates, "
            "e.g. NEMO's eliminated land processors: take the coordinates from the mesh file, "
            "mesh_mask.nc)"
        )
    )


def check_grid_components(plan: Plan, keys: list, operator: str) -> None:
    """The components of an operator on such a grid are along its two dims (or east/north)."""
    grid = plan.grid
    if set(keys) != set(grid.dims) or len(grid.dims) != 2:
        raise ValueError(
            f"{operator} on a {grid.kind.replace('_', '-')} grid needs the components along its "
            f"two dims {grid.dims!r} (grid-relative), e.g. "
            f"`{{{grid.x!r}: 'u', {grid.y!r}: 'v'}}`, or Earth-relative ones: "
            "`{'east': 'u', 'north': 'v'}`"
        )


def _grid_field(obj: Any, plan: Plan, values: Any) -> xr.DataArray:
    """A float (or field) as a float64 (y, x) field over the grid."""
    grid = plan.grid
    shape = (obj.sizes[grid.y], obj.sizes[grid.x])
    if np.ndim(values) == 0:
        return xr.DataArray(np.full(shape, float(values)), dims=(grid.y, grid.x))
    if isinstance(values, np.ndarray):
        return xr.DataArray(values, dims=(grid.y, grid.x))
    template = xr.DataArray(np.empty(shape), dims=(grid.y, grid.x))
    return values.broadcast_like(template).transpose(grid.y, grid.x)


def _spacing(plan: Plan, dim: Hashable) -> Any:
    return next(s for s in plan.spacings if s.dim == dim)


def _on(field: Any, da: xr.DataArray, data: Any, what: str) -> Any:
    return broadcast_field(field, da, output_dtype(data.dtype), what)


def _same_dims(operator: str, u: tuple, v: tuple, ds: xr.Dataset) -> None:
    if ds[u[0]].dims != ds[v[0]].dims:
        raise ValueError(
            f"{operator}: components {u[0]!r} {ds[u[0]].dims!r} and {v[0]!r} "
            f"{ds[v[0]].dims!r} must have the same dims; broadcast one: "
            f"`ds[{v[0]!r}] = ds[{v[0]!r}].broadcast_like(ds[{u[0]!r}])"
            f".transpose(*ds[{u[0]!r}].dims)`"
        )


def flux(ds: xr.Dataset, plan: Plan, operator: str, u: tuple, v: tuple) -> Any:
    """Orthogonal-grid ``div`` or ``curl`` of grid-relative ``(u, v)`` (``(name, data)`` each,
    along x and y), laid out as ``ds[u[0]]``. ValueError on a skewed grid."""
    require_orthogonal(ds, plan, operator)
    _same_dims(operator, u, v, ds)
    grid = plan.grid
    (_, udata), (_, vdata) = u, v
    da = ds[u[0]]
    scales = plan.metric.scales
    sx, sy = (
        _on(_grid_field(ds, plan, scales[d]), da, udata, "the scale factors") for d in grid.dims
    )
    spx, spy = _spacing(plan, grid.x), _spacing(plan, grid.y)
    # d(hy u)/dx / (hx hy) = D_x(u / sy) * sy, D_x including 1/hx in the pass
    if operator == "curl":
        first = derivative_arrays(vdata / sy, da, [spx], plan)[0] * sy
        curl = first - derivative_arrays(udata / sx, da, [spy], plan)[0] * sx
        if grid.kind != "curvilinear":  # a map's or rotated sphere's (x, y): right-handed
            return curl
        turn = _on(_grid_field(ds, plan, _handedness(ds, plan)), da, udata, "the orientation")
        return curl * turn
    first = derivative_arrays(udata / sy, da, [spx], plan)[0] * sy
    return first + derivative_arrays(vdata / sx, da, [spy], plan)[0] * sx


def _handedness(obj: Any, plan: Plan) -> np.ndarray:
    """+1 where a curvilinear grid's directions (x, y) turn counter-clockwise seen from above
    (``(X_x x X_y) . P > 0``), -1 where they turn clockwise (rows running north to south); NaN
    where they are degenerate (a pole row).

    The orthogonal-grid curl is the vertical component on the grid's own frame, ``(e_x x e_y)
    . curl V``: times this it is the upward one, the relative vorticity, on either kind of
    grid (the components being along the grid's directions, as documented).
    """
    surface = _surface(obj, plan, true_frame=False)
    with np.errstate(invalid="ignore"):
        up = np.einsum("k...,k...->...", surface["P"], np.cross(surface["x"], surface["y"], axis=0))
        return np.where(up == 0, np.nan, np.sign(up))


def _surface(obj: Any, plan: Plan, *, true_frame: bool) -> dict:
    """Positions, tangents ``X_a`` (unit sphere, per coordinate unit) and ``g^ab`` (y, x)."""
    grid = plan.grid
    options = plan.options
    position = unit_positions(obj, grid, options, true_frame=true_frame)
    spx, spy = _spacing(plan, grid.x), _spacing(plan, grid.y)
    common = {"edge_order": options.edge_order, "accuracy": options.accuracy}
    px, py = differentiate(
        position,
        (2, 1),
        [axis_spacing(spx), axis_spacing(spy)],
        periodic=(spx.period is not None, spy.period is not None),
        **common,
    )
    gxx, gxy, gyy = (np.einsum("k...,k...->...", a, b) for a, b in ((px, px), (px, py), (py, py)))
    with np.errstate(divide="ignore", invalid="ignore"):
        det = gxx * gyy - gxy * gxy
        inverse = {"xx": gyy / det, "xy": -gxy / det, "yy": gxx / det}
    return {"P": position, "x": px, "y": py, "g": inverse, "spacings": (spx, spy), **common}


def earth_flux(ds: xr.Dataset, plan: Plan, operator: str, u: tuple, v: tuple) -> Any:
    """``div`` or ``curl`` of the Earth-relative ``(east, north)`` components on any grid."""
    _same_dims(operator, u, v, ds)
    grid = plan.grid
    (_, east_data), (_, north_data) = u, v
    da = ds[u[0]]
    surface = _surface(ds, plan, true_frame=True)
    position, g = surface["P"], surface["g"]
    east, north = _east_north(position)
    tangents = {"x": surface["x"], "y": surface["y"]}
    if operator == "curl":  # r x X_a: the tangent turned a quarter to the left
        tangents = {a: np.cross(position, t, axis=0) for a, t in tangents.items()}
    radius = plan.figure.semi_major_axis
    # coefficient of dV_k/db: sum_a g^ab t_a,k / R
    coefficient = {
        "x": (g["xx"] * tangents["x"] + g["xy"] * tangents["y"]) / radius,
        "y": (g["xy"] * tangents["x"] + g["yy"] * tangents["y"]) / radius,
    }
    spx, spy = surface["spacings"]
    axes = (da.get_axis_num(grid.x), da.get_axis_num(grid.y))
    total = None
    for k in range(3):
        component = east_data * _on(_grid_field(ds, plan, east[k]), da, east_data, "east") + (
            north_data * _on(_grid_field(ds, plan, north[k]), da, north_data, "north")
        )
        scales = tuple(
            _on(_grid_field(ds, plan, coefficient[b][k]), da, east_data, "the metric")
            for b in ("x", "y")
        )
        dx, dy = differentiate(
            component,
            axes,
            [axis_spacing(spx), axis_spacing(spy)],
            edge_order=plan.options.edge_order,
            accuracy=plan.options.accuracy,
            nan=plan.options.nan,
            periodic=(spx.period is not None, spy.period is not None),
            scales=scales,
            names=(spx.dim, spy.dim),
        )
        total = dx + dy if total is None else total + dx + dy
    return total


def laplacian(da: xr.DataArray, data: Any, plan: Plan) -> Any:
    """The Laplace-Beltrami operator along both grid dims (see the module docstring)."""
    grid = plan.grid
    if {s.dim for s in plan.spacings} != set(grid.dims):
        raise ValueError(
            f"the Laplacian on a {grid.kind.replace('_', '-')} grid is taken along both of its "
            f"dims {grid.dims!r}: `.grad.laplacian({grid.y!r}, {grid.x!r})`"
        )
    surface = _surface(da, plan, true_frame=False)
    spx, spy = surface["spacings"]
    common = {"edge_order": surface["edge_order"], "accuracy": surface["accuracy"]}
    periodic = (spx.period is not None, spy.period is not None)
    position, px, g = surface["P"], surface["x"], surface["g"]
    pxx, pyy = differentiate(
        position,
        (2, 1),
        [axis_spacing(spx), axis_spacing(spy)],
        orders=(2, 2),
        periodic=periodic,
        **common,
    )
    (pxy,) = differentiate(px, (1,), [axis_spacing(spy)], periodic=periodic[1:], **common)
    tangent = {"x": px, "y": surface["y"]}
    second = {"xx": pxx, "yy": pyy, "xy": pxy}
    weights = {"xx": g["xx"], "yy": g["yy"], "xy": 2 * g["xy"]}  # g^ab summed over a, b
    # w^c = g^ab g^cd (X_d . X_ab): the first-derivative (Christoffel) terms; NaN where the
    # metric is (a pole row, whose points coincide), without numpy's warning
    with np.errstate(invalid="ignore"):
        project = {
            d: sum(
                weights[ab] * np.einsum("k...,k...->...", tangent[d], second[ab]) for ab in second
            )
            for d in ("x", "y")
        }
        w = {
            "x": g["xx"] * project["x"] + g["xy"] * project["y"],
            "y": g["xy"] * project["x"] + g["yy"] * project["y"],
        }
    r2 = plan.figure.semi_major_axis**2
    orthogonal = grid.kind == "rotated_pole"  # exactly orthogonal: no mixed term
    dtype = output_dtype(data.dtype)

    def on(values: np.ndarray) -> Any:
        return broadcast_field(_grid_field(da, plan, values / r2), da, dtype, "the Laplacian")

    axes = (da.get_axis_num(grid.x), da.get_axis_num(grid.y))
    spacing = [axis_spacing(spx), axis_spacing(spy)]
    fxx, fyy, fx, fy = differentiate(
        data,
        axes + axes,
        spacing + spacing,
        nan=plan.options.nan,
        periodic=periodic + periodic,
        orders=(2, 2, 1, 1),
        scales=(on(g["xx"]), on(g["yy"]), None, on(-w["y"])),
        names=(grid.x, grid.y) * 2,
        **common,
    )
    total = fxx + fyy + fy + fx * on(-w["x"])
    if not orthogonal:
        (fxy,) = differentiate(
            fx,
            axes[1:],
            spacing[1:],
            nan=plan.options.nan,
            periodic=periodic[1:],
            scales=(on(weights["xy"]),),
            names=(grid.y,),
            **common,
        )
        total = total + fxy
    return total
