"""Kinematics of a horizontal vector field: vector gradient, deformation, advection, frontogenesis.

Everything is built from one quantity, the vector gradient of ``(u, v)`` in the local frame
(x eastward, y northward on the Earth), which :func:`local_gradient` computes from the four
grid-relative derivatives (one engine pass per component, :func:`xgrad.labelled.derivative_arrays`)
and the local metric terms. On a sphere of radius ``R`` (latitude ``phi``, longitude ``lambda``)::

    du/dx = u_lambda / (R cos phi) - v tan(phi) / R        du/dy = u_phi / R
    dv/dx = v_lambda / (R cos phi) + u tan(phi) / R        dv/dy = v_phi / R

(the derivatives of the unit vectors: ``d(e_x)/dx = tan(phi)/R e_y``, ``d(e_y)/dx = -tan(phi)/R
e_x``), with ``tan(phi)/R`` evaluated analytically. MetPy's ``vector_derivative`` differentiates the
parallel scale ``1/cos(phi)`` instead, which differs by O(h^2) in the metric term (at 80 degrees
by 9e-3 of ``tan(phi)/R`` on a 1-degree grid, 2.4e-3 on a 0.5-degree one). On a Cartesian grid there are no metric terms and x is the
first entry of ``components``. From the tensor (definitions and signs as MetPy's)::

    stretching deformation = du/dx - dv/dy      shearing deformation = dv/dx + du/dy
    total deformation      = hypot(stretching, shearing)
    advection of f         = -(u df/dx + v df/dy)
    frontogenesis of f     = -(f_x^2 du/dx + f_x f_y (du/dy + dv/dx) + f_y^2 dv/dy) / |grad f|

(2-D Petterssen frontogenesis, positive where the front strengthens; 0 where ``grad f`` is exactly
zero, as in MetPy). Okubo-Weiss: ``stretching**2 + shearing**2 - ds.grad.curl(components)**2``.

``dv/dx - du/dy`` and ``du/dx + dv/dy`` agree with ``curl`` and ``divergence`` (flux form along
latitude, :mod:`xgrad.vector`) to the truncation error, and bit for bit where the flux-form term
vanishes (curl where ``u == 0``, divergence where ``v == 0``) and in Cartesian geometry
(``tests/test_kinematics.py::test_consistency_with_curl_and_divergence``).

Grids (:mod:`xgrad.grids`; the local frame and metric terms in :mod:`xgrad.local_frame`): the
regular latitude/longitude grid, on a sphere or an ellipsoid (``tan(phi)/N(phi)`` with ``N`` the
prime-vertical radius of curvature; ``d/dy`` is then per metre along the meridian,
``1/M(phi) d/dphi``); rotated-pole grids, in the rotated sphere's frame (``phi`` the rotated
latitude: x and y along the rotated grid lines); projected and curvilinear grids with the
orthogonal-grid formulas (scale factors ``hx``, ``hy``: ``du/dx = ux + v kx``, ``dv/dx = vx - u
kx``, ``du/dy = uy - v ky``, ``dv/dy = vy + u ky``, ``kx = (dhx/dj)/(hx hy)``, ``ky =
(dhy/di)/(hx hy)``), x and y along the grid's x and y lines; and the Cartesian plane. On every Earth
grid the components are keyed by the grid's dims (grid-relative) or ``"east"``/``"north"``
(Earth-relative: rotated onto the grid lines with the local grid angle, or on curvilinear and
skewed projected grids the general form of :func:`xgrad.local_frame._earth_general`, on any
skew); the results are in the right-handed grid-relative local frame either way (divergence,
vorticity, total deformation, advection and frontogenesis do not depend on the frame;
stretching and shearing do).
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from .arrays import is_dask_array, is_quantity
from .engine import fields_fit, output_dtype
from .kinematics_frame import check_variables, plan_frame, scalar_name
from .labelled import (
    Options,
    boundary_label,
    derivative_arrays,
    numeric_data,
    own_coordinates,
    pint_units,
    wrap,
)
from .local_frame import (
    Frame,
    _metric_term,
    frame_gradient,
    fused,
    local_gradient,
    scalar_gradient,
    winds,
)
from .units import derivative_units, result_attrs

# Private helpers of xgrad.vector, shared on purpose (one definition of each):
from .vector import _common_attrs, _describe

__all__ = ["advection", "deformation", "frontogenesis", "local_gradient", "vector_gradient"]


def _finish(
    result: xr.DataArray | xr.Variable,
    *,
    long_name: str,
    attrs_from: list[xr.DataArray],
    units: str | None,
    pint_unit: Any,
    frame: Frame,
) -> xr.Variable:
    """``result`` (laid out by its dims) with its attrs, as a Variable: the methods put it in a
    Dataset or DataArray with the coordinates, built once (no alignment of labelled parts)."""
    quantified = pint_unit is not None
    attrs = result_attrs(
        _common_attrs(attrs_from),
        units=units,
        long_name=long_name,
        boundary=boundary_label([frame.x, frame.y]),
        keep_attrs=bool(frame.plan.options.keep_attrs),
        write_units=not quantified,
    )
    attrs.update(frame.plan.grid_attrs())  # xgrad_geometry, xgrad_radius (none if Cartesian)
    data = result.data
    if quantified:
        data = attrs_from[0].data._REGISTRY.Quantity(data, pint_unit)
    return xr.Variable(result.dims, data, attrs)


def _scalar_result(
    var: Hashable, result: Any, name: str, *, frame: Frame, **kw: Any
) -> xr.DataArray:
    """The DataArray ``name`` of advection or frontogenesis of ``var`` (:func:`_finish`)."""
    da = frame.arrays[var]
    v = _finish(result, attrs_from=[da], frame=frame, **kw)
    if isinstance(result, xr.DataArray) or v.dims != da.dims:
        coords = result.coords if isinstance(result, xr.DataArray) else da.coords
        return xr.DataArray(v.data, dims=v.dims, coords=coords, name=name, attrs=v.attrs)
    # laid out as ``var`` (the fused passes): share its coordinates, as ``along`` does
    return wrap(da, v.data, name=name, attrs=v.attrs, units=None)


def _units(frame: Frame, var: Hashable) -> tuple[str | None, Any]:
    """Units of ``d var / dx`` as a string, and as pint units for quantified data (else None)."""
    da = frame.arrays[var]
    text = derivative_units(numeric_data(da, frame.plan)[1], frame.x.units)
    unit = pint_units(da.data, [(frame.x.name, frame.x.units)]) if is_quantity(da.data) else None
    return text, unit


def _components_text(frame: Frame) -> str:
    return ", ".join(_describe(frame.arrays[k]) or "?" for k in (frame.u, frame.v))


def _wind_dataset(ds: xr.Dataset, frame: Frame, fields: dict[str, tuple]) -> xr.Dataset:
    """A Dataset of ``{name: (array, long_name)}`` in the components' units per metre."""
    units, unit = _units(frame, frame.u)
    winds = [frame.arrays[frame.u], frame.arrays[frame.v]]
    # every field laid out as the x (east) component where it has the same dims in another
    # order (v's derivatives); one with more dims (u broadcast against v) keeps xarray's
    order = winds[0].dims
    out = {}
    for name, (a, text) in fields.items():
        field = _finish(
            a, long_name=text, attrs_from=winds, units=units, pint_unit=unit, frame=frame
        )
        same = set(field.dims) == set(order) and field.dims != order
        out[name] = field.transpose(*order) if same else field
    attrs = dict(ds.attrs) if frame.plan.options.keep_attrs else {}
    return xr.Dataset(out, coords=ds.coords, attrs=attrs)


def _where(frame: Frame) -> str:
    """Which frame the tensor is in, for the long_name."""
    if frame.kind is None:
        return f"x along {frame.x.name!r} and y along {frame.y.name!r}"
    if frame.kind == "sphere":
        return "x eastward and y northward in the local frame"
    if frame.kind == "curvilinear" or frame.general:  # local_frame: right-handed on any grid
        earth = ", from Earth-relative components" if frame.earth else ""
        return (
            f"x along the grid dim {frame.x.dim!r} and y 90 degrees to its left in the local "
            f"grid frame{earth}"
        )
    rotated = ", Earth-relative components rotated onto the grid" if frame.earth else ""
    return (
        f"x along the grid dim {frame.x.dim!r} and y along {frame.y.dim!r} in the local grid "
        f"frame{rotated}"
    )


class _Fused:
    """The kernels of :mod:`xgrad._fused` inside the engine's passes (one per input), where the
    wind and the scalar are numpy arrays, or dask arrays of numpy blocks, of the same dims and
    shape on a grid without a rotation of the components or orthogonal-grid terms: the
    derivatives of a pass, the other inputs' blocks and ``tan(phi)/N`` go straight into the
    kernels, with the casts of :func:`xgrad.local_frame.fused` (same operations, same bits; no
    elementwise layers after the engine). ``None`` from :meth:`plan` elsewhere (duck arrays
    included): the methods then combine labelled arrays as before."""

    def __init__(self, frame: Frame, data: dict[Hashable, Any]) -> None:
        self.frame, self.data = frame, data
        like = frame.arrays[frame.u]
        tan = _metric_term(frame)
        shape = [like.sizes[d] if d == frame.y.dim else 1 for d in like.dims]
        self.tan = None if tan is None else tan.values.reshape(shape)
        dtypes = [output_dtype(d.dtype) for d in self.data.values()]
        dtypes += [d.dtype for d in self.data.values()] + ([] if tan is None else [tan.dtype])
        self.dtype = str(np.result_type(np.float32, *dtypes))

    @classmethod
    def plan(cls, frame: Frame, names: list[Hashable]) -> _Fused | None:
        if frame.orthogonal or (frame.earth and frame.kind not in (None, "sphere")):
            return None
        first = frame.arrays[names[0]]
        if any(
            frame.arrays[k].dims != first.dims or frame.arrays[k].shape != first.shape
            for k in names
        ):
            return None
        data = [numeric_data(frame.arrays[k], frame.plan)[0] for k in names]
        if not (
            all(type(d) is np.ndarray for d in data)
            or all(is_dask_array(d) and type(d._meta) is np.ndarray for d in data)
        ):
            return None
        return cls(frame, dict(zip(names, data, strict=True)))

    def derivatives(self, var: Hashable) -> list[Any]:
        """``d var/dx``, ``d var/dy`` (dask or numpy), one pass."""
        frame = self.frame
        return derivative_arrays(
            self.data[var], self.frame.arrays[var], [frame.x, frame.y], frame.plan
        )

    def label(self, var: Hashable, data: Any) -> xr.Variable:
        """``data`` laid out as ``var`` (its coordinates come with the result, once)."""
        return xr.Variable(self.frame.arrays[var].dims, data)

    def together(self, var: Hashable, others: list[Hashable]) -> bool:
        """Whether ``others`` can be differentiated in the pass over ``var``
        (:func:`xgrad.engine.fields_fit`: in memory, or chunked along neither grid dim)."""
        da = self.frame.arrays[var]
        axes = [da.get_axis_num(d.dim) for d in (self.frame.x, self.frame.y)]
        return fields_fit(self.data[var], [self.data[k] for k in others], axes)

    def run(
        self,
        var: Hashable,
        operands: list,
        steps: tuple,
        keep: tuple,
        loop: str | None = None,
        fields: tuple = (),
        direct: tuple = (),
        pairs: tuple | None = None,
    ) -> list[xr.Variable]:
        """``keep`` of the kernels ``steps`` in the pass over ``var`` (see
        :func:`xgrad._fused.combine`; ``loop``: the same as one loop of
        :mod:`xgrad._fused_loops`), labelled as ``var``. ``fields``: other variables
        differentiated in the same pass (:meth:`together`), their derivatives after
        ``var``'s. ``pairs``: ``(name, picks)`` of the compiled pair kernel that computes the
        same where a block fits it (:func:`xgrad.pairs.run`)."""
        from . import _fused

        frame, da = self.frame, self.frame.arrays[var]
        metric = self.tan is not None
        if loop is not None:
            loop = (loop, da.get_axis_num(frame.y.dim) if metric else 0, metric)
        combine = functools.partial(
            _fused.combine, steps=steps, keep=keep, dtype=self.dtype, loop=loop
        )
        if pairs is not None:  # the engine runs it where the block fits
            combine.pairs = pairs
        spacings = [frame.x, frame.y]
        out = derivative_arrays(
            self.data[var],
            da,
            spacings,
            frame.plan,
            combine=combine,
            operands=operands,
            fields=[self.data[k] for k in fields],
            direct=direct,
        )
        return [self.label(var, a) for a in out]


def _tan_args(fused: _Fused, operands: list, u: tuple, v: tuple) -> tuple:
    """The ``(u, v, tan, metric)`` kernel args, ``tan`` appended to ``operands`` if any."""
    if fused.tan is None:
        return ("c", 0.0), ("c", 0.0), ("c", 0.0), ("c", False)
    operands.append(fused.tan)
    return u, v, ("o", len(operands) - 1), ("c", True)


def _fused_vector_gradient(fused: _Fused) -> tuple:
    """``(du/dx, du/dy, dv/dx, dv/dy)``: one pass per component, its metric term inside."""
    frame = fused.frame
    if fused.tan is not None and fused.together(frame.u, [frame.v]):  # u and v in one pass
        operands = [fused.data[frame.v], fused.data[frame.u], fused.tan]
        steps = (
            ("minus_product", (("d", 0), ("o", 0), ("o", 2))),
            ("plus_product", (("d", 2), ("o", 1), ("o", 2))),
        )
        keep = (("r", 0), ("D", 1), ("r", 1), ("D", 3))
        # du/dy, dv/dy are the engine's derivatives 1 and 3, written straight into results
        direct = ((1, 1), (3, 3))
        pairs = ("vector_gradient", (1, 0, 2))  # operands (v, u, tan)
        return tuple(fused.run(frame.u, operands, steps, keep, "pairs", (frame.v,), direct, pairs))
    parts = []
    for var, other, name in (
        (frame.u, frame.v, "minus_product"),
        (frame.v, frame.u, "plus_product"),
    ):
        if fused.tan is None:
            parts += [fused.label(var, d) for d in fused.derivatives(var)]
            continue
        operands = [fused.data[other], fused.tan]
        steps = ((name, (("d", 0), ("o", 0), ("o", 1))),)
        loop = f"{name.split('_')[0]}_pair"
        parts += fused.run(var, operands, steps, (("r", 0), ("D", 1)), loop)
    return tuple(parts)


def _own_grid(ds: xr.Dataset, components: Any, *names: Hashable) -> xr.Dataset:
    """``ds`` with only the coordinates on the dims of the components (and ``names``):
    :func:`xgrad.labelled.own_coordinates` (``components`` is checked later)."""
    given = components.values() if isinstance(components, Mapping) else ()
    return own_coordinates(ds, [*given, *names])


def vector_gradient(ds: xr.Dataset, components: Any, options: Options) -> xr.Dataset:
    """``d{u}_dx, d{u}_dy, d{v}_dx, d{v}_dy`` (see ``Dataset.grad.vector_gradient``)."""
    ds = _own_grid(ds, components)
    frame = plan_frame(ds, components, options, "vector_gradient")
    check_variables(frame, "vector_gradient", [frame.u, frame.v])
    plan = _Fused.plan(frame, [frame.u, frame.v])
    if plan is not None:
        du_dx, du_dy, dv_dx, dv_dy = _fused_vector_gradient(plan)
    else:
        g = local_gradient(ds, frame)
        du_dx, du_dy, dv_dx, dv_dy = g.du_dx(), g.uy, g.dv_dx(), g.vy
    where = _where(frame)
    fields = {}
    for comp, axis, part in (
        (frame.u, "x", du_dx),
        (frame.u, "y", du_dy),
        (frame.v, "x", dv_dx),
        (frame.v, "y", dv_dy),
    ):
        text = f"vector gradient component d{comp}/d{axis} of ({_components_text(frame)})"
        fields[f"d{comp}_d{axis}"] = (part, f"{text}, {where}")
    return _wind_dataset(ds, frame, fields)


def deformation(ds: xr.Dataset, components: Any, options: Options) -> xr.Dataset:
    """Stretching, shearing and total deformation (see ``Dataset.grad.deformation``)."""
    ds = _own_grid(ds, components)
    frame = plan_frame(ds, components, options, "deformation")
    check_variables(frame, "deformation", [frame.u, frame.v])
    plan = _Fused.plan(frame, [frame.u, frame.v])
    if plan is not None:  # all three in the pass over v, u differentiated in it (or before)
        together = plan.together(frame.v, [frame.u])
        if together:  # derivatives (vx, vy, ux, uy)
            ux, uy, operands = ("d", 2), ("d", 3), []
        else:
            operands = list(plan.derivatives(frame.u))
            ux, uy = ("o", 0), ("o", 1)
        operands += [plan.data[frame.u], plan.data[frame.v]]
        n = len(operands)
        u, v, tan, metric = _tan_args(plan, operands, ("o", n - 2), ("o", n - 1))
        steps = (
            ("stretching", (ux, v, tan, ("d", 1), metric)),
            ("shearing", (("d", 0), u, tan, uy, metric)),
            ("hypot", (("r", 0), ("r", 1))),
        )
        keep = (("r", 0), ("r", 1), ("r", 2))
        fields = (frame.u,) if together else ()
        # u and v differentiated in the pass: the compiled pair kernel where a block fits it
        pairs = ("deformation", (n - 2, n - 1, n if metric[1] else None)) if together else None
        stretching, shearing, total = plan.run(
            frame.v, operands, steps, keep, "deformation", fields, pairs=pairs
        )
    else:
        g = local_gradient(ds, frame)
        u, v, tan, metric = g.metric
        stretching = fused("stretching", g.ux, v, tan, g.vy, metric)
        shearing = fused("shearing", g.vx, u, tan, g.uy, metric)
        total = fused("hypot", stretching, shearing)  # no overflow or underflow in the squares
    described = _components_text(frame)
    return _wind_dataset(
        ds,
        frame,
        {
            f"{key}_deformation": (value, f"{key} deformation of ({described})")
            for key, value in (("stretching", stretching), ("shearing", shearing), ("total", total))
        },
    )


def _times_wind_units(frame: Frame, text: str | None, unit: Any):
    """``(text, unit)`` multiplied by the components' units (udunits string and pint)."""
    wind = numeric_data(frame.arrays[frame.u], frame.plan)[1]
    # a * w == a / (1 / w): derivative_units divides (and simplifies) both strings
    text = derivative_units(text, derivative_units(None, wind))
    if unit is not None:
        unit = unit * frame.arrays[frame.u].data.units
    return text, unit


def advection(ds: xr.Dataset, name: Any, components: Any, options: Options) -> xr.DataArray:
    """``-(u df/dx + v df/dy)`` of variable ``name`` (see ``Dataset.grad.advection``)."""
    f = scalar_name(ds, name, "advection")
    ds = _own_grid(ds, components, f)
    frame = plan_frame(ds, components, options, "advection", f)
    check_variables(frame, "advection", [f])
    text, unit = _times_wind_units(frame, *_units(frame, f))
    plan = _Fused.plan(frame, [f, frame.u, frame.v])
    if plan is not None:  # in the pass over f, the wind's blocks as operands
        operands = [plan.data[frame.u], plan.data[frame.v]]
        steps = (("advection", (("d", 0), ("o", 0), ("d", 1), ("o", 1))),)
        (result,) = plan.run(f, operands, steps, (("r", 0),), pairs=("advection", (0, 1)))
    else:
        fx, fy = scalar_gradient(f, frame)
        u, v = winds(ds, frame)
        result = fused("advection", fx, u, fy, v)  # -(u fx + v fy), f's dims first
    return _scalar_result(
        f,
        result,
        "advection",
        long_name=f"advection of {_describe(frame.arrays[f])} by ({_components_text(frame)})",
        units=text,
        pint_unit=unit,
        frame=frame,
    )


def frontogenesis(ds: xr.Dataset, name: Any, components: Any, options: Options) -> xr.DataArray:
    """2-D Petterssen frontogenesis of variable ``name`` (see ``Dataset.grad.frontogenesis``)."""
    f = scalar_name(ds, name, "frontogenesis")
    ds = _own_grid(ds, components, f)
    frame = plan_frame(ds, components, options, "frontogenesis", f)
    check_variables(frame, "frontogenesis", [f, frame.u, frame.v])
    text, unit = _units(frame, f)
    wind_text, wind_unit = _units(frame, frame.u)
    text = derivative_units(text, derivative_units(None, wind_text))
    unit = None if unit is None else unit * wind_unit
    plan = _Fused.plan(frame, [f, frame.u, frame.v])
    if plan is not None:  # in the pass over f, the wind differentiated in it (or before)
        winds_in = (frame.u, frame.v) if plan.together(f, [frame.u, frame.v]) else ()
        if winds_in:  # derivatives (fx, fy, ux, uy, vx, vy)
            wind, operands = [("d", k) for k in range(2, 6)], []
        else:
            operands = [*plan.derivatives(frame.u), *plan.derivatives(frame.v)]
            wind = [("o", k) for k in range(4)]
        operands += [plan.data[frame.u], plan.data[frame.v]]
        n = len(operands)
        metric = _tan_args(plan, operands, ("o", n - 2), ("o", n - 1))
        args = (("d", 0), ("d", 1), *wind, *metric)
        steps = (("frontogenesis", args),)
        # f, u and v differentiated in the pass: the compiled pair kernel where a block fits
        pairs = ("frontogenesis", (n - 2, n - 1, n if metric[3][1] else None)) if winds_in else None
        (result,) = plan.run(f, operands, steps, (("r", 0),), None, winds_in, pairs=pairs)
    else:
        g = local_gradient(ds, frame)
        fx, fy = frame_gradient(ds, f, frame)  # in the frame of g
        # -(fx^2 du/dx + fx fy (du/dy + dv/dx) + fy^2 dv/dy) / |grad f|, 0 where grad f is 0
        result = fused("frontogenesis", fx, fy, g.ux, g.uy, g.vx, g.vy, *g.metric)
    return _scalar_result(
        f,
        result,
        "frontogenesis",
        long_name=f"frontogenesis of {_describe(frame.arrays[f])} by ({_components_text(frame)})",
        units=text,
        pint_unit=unit,
        frame=frame,
    )
