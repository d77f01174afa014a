"""Vector calculus on labelled grids: gradient magnitude, Laplacian, divergence and curl.

Every operator is built from the one-pass derivative of :mod:`xgrad.labelled`, so options,
periodic seams, the sphere's metric factors, units and laziness are those of ``.grad.along``.

On the sphere (``x`` the longitude, ``y`` the latitude, both per metre) a derivative along
latitude inside a divergence takes the flux form, because the parallels shrink towards the
poles::

    div (u, v)   = 1/(R cos phi) [du/dlambda + d(v cos phi)/dphi]
    curl (u, v)  = 1/(R cos phi) [dv/dlambda - d(u cos phi)/dphi]      (relative vorticity)
    lap f        = 1/(R^2 cos phi) d/dphi(cos phi df/dphi) + 1/(R^2 cos^2 phi) d2f/dlambda2
                 = (f_phiphi - tan phi f_phi) / R^2 + f_lambdalambda / (R cos phi)^2

The Laplacian uses compact second-derivative stencils (3, 5 or 7 points for accuracy 2, 4, 6;
one-sided of the same order at the ends), all of them, with the first derivative along latitude
for the metric term, in one pass of the engine.  (The divergence of the gradient would use the
wide ``(f[i+2] - 2 f[i] + f[i-2]) / (2h)^2`` stencil, blind to a grid-scale oscillation;
``tests/test_vector.py::test_laplacian_sees_grid_scale_noise`` guards against it.)  Exactly
at the poles the spherical operators are NaN (``1/cos phi``).

On rotated-pole, projected and curvilinear grids the divergence, curl and Laplacian are those of
:mod:`xgrad.orthogonal` (components keyed by the grid's dims, or ``"east"``/``"north"``), and the
gradient magnitude over both grid dims is the length of the eastward/northward vector.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from . import orthogonal
from .arrays import is_cubed_array, is_dask_array, is_quantity, numpy_operand
from .combinations import flux_of, laplacian_of, magnitude_of, weighted_sum
from .coords import Spacing
from .earth import MEAN_RADIUS
from .engine import differentiate, real_dtype
from .geometry import cos_latitude
from .grids import horizontal_dims
from .horizontal import frame_magnitude
from .kernels import compiled_wanted
from .labelled import (
    Options,
    Plan,
    boundary_label,
    check_dtype,
    cubed_alike,
    derivative_arrays,
    numeric_data,
    one_grid,
    own_coordinates,
    pint_units,
    prepare,
    quantify_hint,
    wrap,
)
from .periodic import axis_spacing
from .stencils import points_needed
from .units import (
    check_component_units,
    derivative_units,
    of_phrase,
    quantity_name,
    result_attrs,
    same_units,
)

__all__ = ["curl", "divergence", "laplacian", "magnitude"]


def _describe(da: xr.DataArray) -> str | None:
    return quantity_name(da.name, da.attrs.get("long_name"))


def _check_same_units(operator: str, spacings: Sequence[Spacing]) -> None:
    """Sums of derivatives along different dims need one denominator (m and km do not add)."""
    first = spacings[0]
    for s in spacings[1:]:
        if not same_units(first.units, s.units):
            raise ValueError(
                f"{operator} adds derivatives along {first.name!r} (units {first.units!r}) and "
                f"{s.name!r} (units {s.units!r}), whose coordinates must be in the same units. "
                f"Convert one first, e.g. `da.assign_coords({s.name}=da[{s.name!r}] * factor)` "
                "with matching units, or use `geometry='sphere'` for latitude/longitude"
            )


_real = real_dtype  # the real dtype of a result: one definition, in the engine


def _latitude_weights(items: Sequence[tuple[xr.DataArray, Any, Spacing]]) -> list[Any]:
    """``(cos, sec)`` per item along a sphere latitude (else None), every one (and its errors)
    before anything is built."""
    return [
        cos_latitude(da, along=s.name, latitude=s.name, per_radian=s.per_radian)
        if s.role == "latitude"
        else None
        for da, _, s in items
    ]


def _flux_derivatives(items: Sequence[tuple[xr.DataArray, Any, Spacing]], plan: Plan) -> list[Any]:
    """``d F / d s`` for each ``(da, F, s)``; along a sphere latitude ``sec d(F cos)/d s``.

    The latitude weights of every item are computed (and their errors raised) before any
    derivative is built.
    """
    weights = _latitude_weights(items)
    out = []
    for (da, data, s), weight in zip(items, weights, strict=True):
        if weight is None:
            out.append(derivative_arrays(data, da, [s], plan)[0])
            continue
        real = _real(data.dtype)
        # in the data's array library: numpy weights would make numpy compute a cubed array
        cos, sec = (numpy_operand(w.astype(real), data) for w in weight)
        out.append(derivative_arrays(data * cos, da, [s], plan)[0] * sec)
    return out


def _fused_flux(
    items: Sequence[tuple[xr.DataArray, Any, Spacing]], plan: Plan, sign: int
) -> Any | None:
    """``t0 + t1 + ...`` (``sign`` -1: ``t0 - t1``) of the terms of :func:`_flux_derivatives`,
    each sum (and each latitude's ``sec``) inside the pass of its term's derivative, the running
    total an operand of the next pass: the same operations in the same order, no elementwise
    layers after the engine. None where the components are not all numpy or all dask arrays of
    the same dims and shape (the caller then adds labelled terms, aligned by xarray)."""
    first = items[0][0]
    if any(da.dims != first.dims or da.shape != first.shape for da, _, _ in items):
        return None
    datas = [data for _, data, _ in items]
    if not (all(type(d) is np.ndarray for d in datas) or all(map(is_dask_array, datas))):
        return None
    weights = _latitude_weights(items)
    one = _one_pass(items, weights, plan, sign)
    if one is not None:
        return one
    total = None
    for i, ((da, data, s), weight) in enumerate(zip(items, weights, strict=True)):
        operands = [] if total is None else [total]
        cos = None
        if weight is not None:  # d(F cos)/dphi sec: the product formed inside the pass
            cos, sec = (w.astype(_real(data.dtype)) for w in weight)
            operands.append(sec)
        if not operands:
            (total,) = derivative_arrays(data, da, [s], plan, premultiply=cos)
            continue
        combine = functools.partial(
            weighted_sum, sign=sign if i else 1, weighted=weight is not None
        )
        # in memory the running total (new arrays of this pass) takes the sum in place
        into = [total] if type(total) is np.ndarray and total.dtype == data.dtype else None
        (total,) = derivative_arrays(
            data, da, [s], plan, combine=combine, operands=operands, premultiply=cos, into=into
        )
    return total


def _one_pass(
    items: Sequence[tuple[xr.DataArray, Any, Spacing]], weights: list, plan: Plan, sign: int
) -> Any | None:
    """The sphere's divergence or curl of two numpy components as one pass over the second
    (times ``cos(lat)``) with the first as a field, which the compiled pair kernel computes
    band by band (:mod:`xgrad.pairs`: ``flux``); None where that kernel would not take the
    arrays (the caller's two passes then: the one pass's tiles would compute two
    derivatives more than they need).  The bits of the two passes
    (``tests/test_pairs.py::test_flux_matches_two_passes``)."""
    if len(items) != 2 or weights[0] is not None or weights[1] is None:
        return None
    (da, a, sx), (_, b, sy) = items
    nd = da.ndim
    options = plan.options
    if not (
        type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.dtype == b.dtype
        and a.dtype in (np.float32, np.float64)
        and a.flags.c_contiguous
        and b.flags.c_contiguous
        and da.get_axis_num(sx.dim) == nd - 1  # x along the last axis, the latitude before
        and da.get_axis_num(sy.dim) == nd - 2
        and options.accuracy == 2
        and options.nan != "one-sided"
        and compiled_wanted(a.size)
    ):
        return None
    cos, sec = (w.astype(a.dtype) for w in weights[1])
    combine = functools.partial(flux_of, sign=sign)
    combine.pairs = ("flux", (0, sign))  # the kernel the engine runs where the block fits
    (result,) = derivative_arrays(
        b, da, [sx, sy], plan, combine=combine, operands=[sec], premultiply=cos, fields=[a]
    )
    return result


def _sphere_only(plan: Plan, operator: str) -> float:
    """The sphere's radius for the divergence, curl and Laplacian, which are written for a
    sphere; ValueError on an ellipsoid."""
    figure = plan.figure
    if not figure.is_sphere:
        raise ValueError(
            f"{operator} on the ellipsoid {figure.label!r} is not available; give the radius "
            f"of a sphere in metres, e.g. `radius={MEAN_RADIUS}`"
        )
    return figure.semi_major_axis


def magnitude(da: xr.DataArray, plan: Plan) -> xr.DataArray:
    """``|grad f|`` along the planned dims, from one derivative pass (see ``.grad.magnitude``)."""
    spacings = plan.spacings
    _check_same_units("the gradient magnitude", spacings)
    data, data_units = numeric_data(da, plan)
    quantified = is_quantity(da.data)
    units = pint_units(da.data, [(spacings[0].name, spacings[0].units)]) if quantified else None
    grid = plan.grid
    if grid is not None and grid.kind != "sphere" and {s.dim for s in spacings} == set(grid.dims):
        # a skewed grid's lines are not orthogonal: |grad f| from the east/north components,
        # formed inside the derivatives' pass
        result = frame_magnitude(da, data, plan)
    else:  # |grad f| of each block inside the derivatives' pass
        combine = functools.partial(magnitude_of)
        combine.pairs = ("magnitude", ())  # the compiled pass where a block fits it
        (result,) = derivative_arrays(data, da, spacings, plan, combine=combine)
    what = _describe(da)
    attrs = result_attrs(
        da.attrs,
        units=derivative_units(data_units, spacings[0].units),
        long_name="magnitude of the gradient" + of_phrase(what),
        boundary=boundary_label(spacings),
        keep_attrs=bool(plan.options.keep_attrs),
        write_units=not quantified,
    )
    attrs.update(plan.grid_attrs())
    return wrap(da, result, name=da.name, attrs=attrs, units=units)


def laplacian(da: xr.DataArray, plan: Plan) -> xr.DataArray:
    """Sum of second derivatives; the spherical Laplacian on the sphere (see ``.grad.laplacian``)."""
    spacings = plan.spacings
    grid = plan.grid
    curvilinear = grid is not None and grid.kind != "sphere"
    radius = _sphere_only(plan, "the Laplacian")
    _check_same_units("the Laplacian", spacings)
    accuracy = plan.options.accuracy
    for s in spacings:  # one-sided second derivatives take one point more than first ones
        need = points_needed(1, accuracy, periodic=s.period is not None, order=2)
        if s.size < need:
            lower = (
                f"use a lower accuracy, e.g. `.grad.laplacian({s.dim!r}, accuracy=2)`"
                if accuracy > 2
                else "differentiate along dims of at least that many points"
            )
            raise ValueError(
                f"dimension {s.dim!r} has {s.size} point(s) but the Laplacian with "
                f"accuracy={accuracy} needs at least {need}; {lower}"
            )
    data, data_units = numeric_data(da, plan)
    quantified = is_quantity(da.data)
    per = (spacings[0].name, spacings[0].units)
    units = pint_units(da.data, [per, per]) if quantified else None
    if curvilinear:
        result = orthogonal.laplacian(da, data, plan)
    else:
        result = _spherical_laplacian(da, data, plan, radius)
    what = _describe(da)
    attrs = result_attrs(
        da.attrs,
        units=derivative_units(derivative_units(data_units, per[1]), per[1]),
        long_name="Laplacian" + of_phrase(what),
        boundary=boundary_label(spacings),
        keep_attrs=bool(plan.options.keep_attrs),
        write_units=not quantified,
    )
    attrs.update(plan.grid_attrs())
    return wrap(da, result, name=da.name, attrs=attrs, units=units)


def _spherical_laplacian(da: xr.DataArray, data: Any, plan: Plan, radius: float) -> Any:
    """The Laplacian on a regular grid (Cartesian dims, or the sphere's latitude/longitude)."""
    spacings = plan.spacings
    # every metric weight (and its errors) before anything is built
    sec = {s.name: cos_latitude(da, along=s.name)[1] for s in spacings if s.role == "longitude"}
    tan = {s.name: _tan_latitude(da, s) for s in spacings if s.role == "latitude"}
    wanted = [(s, 2) for s in spacings] + [(s, 1) for s in spacings if s.role == "latitude"]
    options = plan.options
    real = _real(data.dtype)
    # per dim (role, k, r2, index of its first derivative, index of its metric operand): the
    # terms below, combined inside the derivatives' pass
    operands, terms = [], []
    latitudes = [s.name for s, order in wanted if order == 1]
    for s in spacings:
        k, r2 = s.per_radian, radius**2
        first = len(spacings) + latitudes.index(s.name) if s.role == "latitude" else None
        if s.role == "latitude":
            operands.append((tan[s.name] * k).astype(real))
        elif s.role == "longitude":
            operands.append(((k * sec[s.name]) ** 2 / r2).astype(real))
        terms.append((s.role, k, r2, first, len(operands) - 1))
    combine = functools.partial(laplacian_of, terms=tuple(terms))
    combine.pairs = ("laplacian", tuple(terms))  # the compiled pass where a block fits it
    (result,) = differentiate(
        data,
        tuple(da.get_axis_num(s.dim) for s, _ in wanted),
        [axis_spacing(s) for s, _ in wanted],
        edge_order=options.edge_order,
        accuracy=options.accuracy,
        nan=options.nan,
        periodic=tuple(s.period is not None for s, _ in wanted),
        orders=tuple(order for _, order in wanted),
        # (k^2 f_phiphi - k tan f_phi) / R^2 along latitude (k: coordinate units per radian),
        # f_lambdalambda (k sec / R)^2 along longitude, summed in the order of the dims
        combine=combine,
        operands=tuple(operands),
        names=tuple(s.dim for s, _ in wanted),
    )
    return result


def _tan_latitude(da: xr.DataArray, s: Spacing) -> np.ndarray:
    """``tan(phi)`` along the latitude dim ``s``, broadcast to ``da``; NaN at the poles."""
    cos, sec = cos_latitude(da, along=s.name, latitude=s.name, per_radian=s.per_radian)
    shape = [da.sizes[d] if d == s.dim else 1 for d in da.dims]
    values = np.reshape(np.asarray(s.values, dtype=np.float64), shape) / s.per_radian
    return np.sin(values) * sec


def _components(
    ds: xr.Dataset, components: Any, operator: str, count: int | None
) -> list[tuple[Hashable, Hashable]]:
    example = "{'lon': 'u', 'lat': 'v'}"
    if not isinstance(components, Mapping):
        raise TypeError(
            f"components={components!r} must be a mapping of dimension to data variable name, "
            f"e.g. `ds.grad.{operator}({example})`"
        )
    if (count is not None and len(components) != count) or not components:
        need = f"exactly {count}" if count else "at least one"
        raise ValueError(
            f"{operator} needs {need} components (dimension: data variable), got "
            f"{len(components)}: {dict(components)!r}; e.g. `ds.grad.{operator}({example})`"
        )
    for var in components.values():
        if not isinstance(var, Hashable) or var not in ds.data_vars:
            raise ValueError(
                f"components names {var!r}, which is not a data variable of this Dataset; data "
                f"variables are {tuple(ds.data_vars)!r}"
            )
    return list(components.items())


def _common_attrs(arrays: Sequence[xr.DataArray]) -> dict[Hashable, Any]:
    """Attributes every component has with the same value (xarray's "drop_conflicts")."""

    def same(a: Any, b: Any) -> bool:
        try:
            return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) else bool(a == b)
        except Exception:  # incomparable values are a conflict
            return False

    first, *rest = arrays
    return {
        k: v
        for k, v in first.attrs.items()
        if all(k in o.attrs and same(o.attrs[k], v) for o in rest)
    }


def _vector_operator(
    ds: xr.Dataset, components: Any, options: Options, operator: str
) -> xr.DataArray:
    pairs = _components(ds, components, operator, 2 if operator == "curl" else None)
    ds = own_coordinates(ds, [var for _, var in pairs])
    keys = [key for key, _ in pairs]
    earth = any(k in ("east", "north") and k not in ds.dims for k in keys)
    if earth:
        if sorted(map(str, keys)) != ["east", "north"]:
            raise ValueError(
                f"{operator}: the keys 'east' and 'north' name Earth-relative components; give "
                "both and no other, e.g. `{'east': 'u', 'north': 'v'}`, or key grid-relative "
                f"components by the grid's dims; got {keys!r}"
            )
        x, y = horizontal_dims(ds, options)
        by = dict(pairs)
        pairs, keys = [(x, by["east"]), (y, by["north"])], [x, y]
    one_grid(operator, {var: ds[var] for _, var in pairs}, keys)
    plan = prepare(ds, keys, options)
    grid = plan.grid
    curvilinear = grid is not None and grid.kind != "sphere"
    _sphere_only(plan, operator)
    if curvilinear:
        orthogonal.check_grid_components(plan, keys, operator)
    else:
        earth = False  # on a regular grid east/north are the longitude/latitude components
    spacings = list(plan.spacings)
    names = [var for _, var in pairs]
    roles = [s.role for s in spacings]
    horizontal = plan.geometry == "sphere" and sorted(map(str, roles)) == ["latitude", "longitude"]
    if horizontal and roles[0] == "latitude":  # x is the longitude, whatever the order given
        spacings, names = spacings[::-1], names[::-1]
    if curvilinear:
        horizontal = True
        if spacings[0].dim != grid.x:  # x first, whatever the order given
            spacings, names = spacings[::-1], names[::-1]
    if operator == "curl":  # dv/dx - du/dy: each component differentiated along the other dim
        (sx, sy), (u, v) = spacings, names
        wanted = [(v, sx), (u, sy)]
    else:
        wanted = list(zip(names, spacings, strict=True))
    _check_same_units(operator, spacings)
    if curvilinear and set(ds[names[1]].dims) == set(ds[names[0]].dims):
        # the grid's formulas combine the components elementwise: one layout, the x one's
        ds = ds.assign({names[1]: ds[names[1]].transpose(*ds[names[0]].dims)})
    if any(is_cubed_array(ds[var].data) for var in names):  # one spec, chunked alike
        ds = ds.assign(dict(zip(names, cubed_alike([ds[var] for var in names]), strict=True)))
    by_name = {var: ds[var] for var in names}  # each looked up once (a DataArray is built)
    arrays = [by_name[var] for var in names]
    for var, s in wanted:
        if s.dim not in by_name[var].dims:
            raise ValueError(
                f"{operator} differentiates data variable {var!r} along {s.dim!r}, but its dims "
                f"are {by_name[var].dims!r}; give components that have both dimensions"
            )
        check_dtype(by_name[var])
    quantified = [is_quantity(a.data) for a in arrays]
    if any(quantified) and not all(quantified):
        raise ValueError(
            f"{operator}: some components are pint quantities and some are not; quantify all "
            f"of them: {quantify_hint(by_name, components=names)}"
        )
    numeric = {var: numeric_data(by_name[var], plan) for var in names}
    a = names[0]
    for b in names[1:]:
        check_component_units(operator, a, numeric[a][1], b, numeric[b][1])
    if curvilinear:
        flux = orthogonal.earth_flux if earth else orthogonal.flux
        data = flux(ds, plan, operator, *((var, numeric[var][0]) for var in names))
        like = by_name[names[0]]  # the result's layout and coordinates
    else:
        items = [(by_name[var], numeric[var][0], s) for var, s in wanted]
        data = _fused_flux(items, plan, -1 if operator == "curl" else 1)
        like = by_name[wanted[0][0]]
        if data is None:
            terms = _flux_derivatives(items, plan)
            labelled = [
                xr.DataArray(t, dims=by_name[var].dims, coords=by_name[var].coords)
                for t, (var, _) in zip(terms, wanted, strict=True)
            ]
            like = (
                labelled[0] - labelled[1] if operator == "curl" else sum(labelled[1:], labelled[0])
            )
            # laid out as the x component (the first of a curl's terms is v's), as the fused
            # passes lay it out where the components share one order
            first = by_name[names[0]].dims
            if set(like.dims) == set(first):  # not where u is broadcast against v
                like = like.transpose(*first)
            data = like.data
    data_units = numeric[names[0]][1]
    described = ", ".join(_describe(a) or "?" for a in arrays)
    if operator == "curl":
        title = "relative vorticity" if horizontal else "vertical component of the curl"
    else:
        title = "horizontal divergence" if horizontal else "divergence"
    attrs = result_attrs(
        _common_attrs(arrays),
        units=derivative_units(data_units, spacings[0].units),
        long_name=f"{title} of ({described})",
        boundary=boundary_label(spacings),
        keep_attrs=bool(options.keep_attrs),
        write_units=not quantified[0],
    )
    attrs.update(plan.grid_attrs())
    if quantified[0]:
        data = arrays[0].data._REGISTRY.Quantity(
            data, pint_units(arrays[0].data, [(spacings[0].name, spacings[0].units)])
        )
    return wrap(like, data, name=operator, attrs=attrs, units=None)


def divergence(ds: xr.Dataset, components: Any, options: Options) -> xr.DataArray:
    """``sum_i dF_i/dx_i`` (horizontal divergence on the sphere); see ``.grad.divergence``."""
    return _vector_operator(ds, components, options, "divergence")


def curl(ds: xr.Dataset, components: Any, options: Options) -> xr.DataArray:
    """``dv/dx - du/dy`` (relative vorticity on the sphere); see ``.grad.curl``."""
    return _vector_operator(ds, components, options, "curl")
