"""The labelled derivative: options, per-dimension planning, one engine pass, units and attrs.

This is the logic behind every ``.grad`` method, written once for a DataArray:

1. :func:`prepare` validates the options (:class:`Options`) and builds one
   :class:`~xgrad.coords.Spacing` per dimension: the coordinate (:mod:`xgrad.coords`), then the
   boundary (:mod:`xgrad.periodic`), then the horizontal grid (:mod:`xgrad.grids`: regular
   latitude/longitude, rotated pole, projected, curvilinear) and its metric
   (:mod:`xgrad.metrics`). Every error is raised here or in the metric factors, before a graph
   is built.
2. :func:`derivative_arrays` differentiates a numeric array along all the dimensions in one call
   to :func:`xgrad.engine.differentiate`, each result multiplied by its metric factor inside the
   pass.
3. :func:`derivatives` (``along``) wraps the arrays as DataArrays with units, long_name and the
   boundary recorded (:mod:`xgrad.units`); pint-quantified data gives quantities.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from .arrays import (
    difference_units,
    is_cubed_array,
    is_dask_array,
    is_quantity,
    numpy_operand,
)
from .coords import DATETIME_UNITS, Spacing, resolve_spacings, time_to_numbers
from .crs import grid_mapping_names
from .curvilinear import check_names
from .earth import MEAN_RADIUS, Figure
from .engine import differentiate, output_dtype
from .geometry import metric_factor
from .grids import HorizontalGrid, horizontal_dims, plan_grid
from .metrics import GridMetric, broadcast_field, grid_metric
from .options import Options
from .periodic import axis_spacing, plan_boundaries
from .seams import check_periodic_seams
from .units import _clean, derivative_attrs
from .variables import check_differentiable

__all__ = [
    "Plan",
    "cubed_alike",
    "derivative_arrays",
    "derivatives",
    "prepare",
    "quantify_hint",
]


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Validated options and one refined :class:`Spacing` per dimension, in the order asked."""

    spacings: tuple[Spacing, ...]
    geometry: str  # "cartesian" or "sphere", after "auto" is resolved
    options: Options
    grid: HorizontalGrid | None = None  # the Earth grid recognised (None: Cartesian)
    metric: GridMetric | None = None  # scale factors of a non-regular grid (None: regular)
    # the grid-to-Earth matrix of ``.grad.horizontal``, computed once per plan when first needed
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def datetime_unit(self) -> str:
        return self.options.time_unit

    @property
    def figure(self) -> Figure:
        """The figure of the Earth used on the sphere."""
        return self.grid.figure if self.grid is not None else Figure.from_option(None)

    @property
    def radius(self) -> float:
        """The sphere's radius in metres, for operators written for a sphere; ValueError on
        an ellipsoid."""
        figure = self.figure
        if not figure.is_sphere:
            raise ValueError(
                f"this operator needs a sphere, but the figure of the Earth is the ellipsoid "
                f"{figure.label!r}; give a radius in metres, e.g. `radius={MEAN_RADIUS}`"
            )
        return figure.semi_major_axis

    def grid_attrs(self) -> dict[str, Any]:
        """``xgrad_geometry`` and ``xgrad_radius`` (none in Cartesian geometry)."""
        return {} if self.grid is None else self.grid.attrs()


def prepare(
    obj: Any,
    names: Sequence[Hashable],
    options: Options,
    *,
    frame: bool = False,
    method: str = "along",
) -> Plan:
    """Validate everything and plan each dimension: coordinate, boundary, grid and metric.

    ``frame=True`` (``.grad.horizontal``) computes the metric with the grid's local frame
    (``to_earth``) in the same pass: its scales are those of the plain metric. ``method``: the
    ``.grad`` method called, named in the fixes the errors suggest.

    Examples
    --------
    >>> import xarray as xr
    >>> lon = xr.DataArray(np.arange(0.0, 360.0, 90.0), dims="lon",
    ...                    attrs={"units": "degrees_east"})
    >>> da = xr.DataArray(np.zeros((2, 4)), dims=("lat", "lon"), coords={
    ...     "lon": lon, "lat": ("lat", [10.0, 20.0], {"units": "degrees_north"})})
    >>> from xgrad.options import Options
    >>> plan = prepare(da, ["lon"], Options())
    >>> plan.geometry, plan.grid.kind, plan.spacings[0].period, plan.spacings[0].units
    ('sphere', 'sphere', 360.0, 'm')
    """
    options.check_dims(obj)
    check_names(obj, names)
    spacings = resolve_spacings(
        obj,
        names,
        edge_order=options.edge_order,
        accuracy=options.accuracy,
        datetime_unit=options.datetime_unit,
        method=method,
    )
    spacings = plan_boundaries(
        obj, spacings, options.boundary, options.period, accuracy=options.accuracy
    )
    spacings, geometry, grid = plan_grid(obj, spacings, options)
    check_periodic_seams(obj, grid, spacings)
    return Plan(
        spacings=tuple(spacings),
        geometry=geometry,
        options=options,
        grid=grid,
        metric=grid_metric(obj, grid, spacings, options, frame=frame),
    )


def quantify_hint(
    arrays: Mapping[Hashable, xr.DataArray], components: Sequence[Hashable] = ()
) -> str:
    """How to quantify every one of ``arrays`` (name: DataArray) with pint-xarray: a variable
    without units is skipped by ``ds.pint.quantify()`` (so that advice alone brought the same
    error back: an audit); it is named, as dimensionless, or if it is one of the vector
    ``components`` (names) in the units of the first of them that has some (a wind component
    declared dimensionless was refused next for its units)."""
    unit = "1"
    for name in components:
        a = arrays[name]
        given = a.data.units if is_quantity(a.data) else a.attrs.get("units")
        if given not in (None, ""):
            unit = f"{given:~}" if is_quantity(a.data) else str(given)
            break
    unitless = {
        name: unit if name in components else "1"
        for name, a in arrays.items()
        if not is_quantity(a.data) and a.attrs.get("units") in (None, "")
    }
    return f"`ds.pint.quantify({unitless!r})`" if unitless else "`ds.pint.quantify()`"


def own_coordinates(ds: xr.Dataset, names: Any) -> xr.Dataset:
    """``ds`` without the coordinates that lie off the dims of its data variables ``names``
    (the others are ignored; the data variables all stay, a grid mapping among them).

    An operator that combines some of a Dataset's variables reads their grid from these
    coordinates only: on a B grid, T's ``lat`` beside u's ``lat_u`` made the latitude of a
    divergence of u and v ambiguous (an audit), though neither component has ``lat``.
    """
    wanted = [n for n in names if isinstance(n, Hashable) and n in ds.data_vars]
    if not wanted:
        return ds
    return coordinates_on(ds, set().union(*(ds[n].dims for n in wanted)))


def coordinates_on(ds: xr.Dataset, dims: Any) -> xr.Dataset:
    """``ds`` without the coordinates that have a dim outside ``dims``."""
    others = [c for c in ds.coords if not set(ds.variables[c].dims) <= set(dims)]
    return ds.drop_vars(others) if others else ds


def horizontal_grids(ds: xr.Dataset, options: Options) -> dict[tuple, list[frozenset]]:
    """The Earth grids of a Dataset's data variables, for ``.grad.horizontal``: a grid's
    (x, y) dims -> the sets of dims of the variables on it (and those its coordinates are
    read on, :func:`on_grid`).

    Each set of dims is looked at with the coordinates on it only: a ROMS file has four
    grids (rho, u, v and psi points, each with its 2-D latitude and longitude), and the
    Dataset as a whole gave one of them, by the order of its coordinates, leaving the others'
    variables out (an audit). Sets on no grid (a time series, a zonal mean) are left out; a
    set whose grid cannot be used (ambiguous, an unknown projection) is an error. Where no
    set has a grid, the Dataset's own grid, or its error.
    """
    if options.geometry == "cartesian":
        horizontal_dims(ds, options)  # its error: not a question of any variable's grid
    keys = list(dict.fromkeys(frozenset(ds.variables[k].dims) for k in ds.data_vars))
    grids: dict[tuple, list[frozenset]] = {}

    def find(part: xr.Dataset) -> Any:
        return horizontal_dims(part, options, missing_ok=True)

    for key in keys:
        try:
            dims = on_grid(ds, [key], find)
        except (ValueError, TypeError) as err:  # named: which variables are on that grid
            names = tuple(k for k in ds.data_vars if frozenset(ds.variables[k].dims) == key)
            raise type(err)(f"the data variables {names!r}: {err}") from err
        if dims is not None and set(dims) <= key:
            dims = _without_foreign_mappings(ds, [key], dims, find)
            grids.setdefault(tuple(dims), []).append(key)
    # a set whose grid's coordinates have one dim more (a static field or a time mean beside
    # WRF's XLAT(Time, y, x)): on the one grid whose dims it has, its coordinates read with
    # that dim (an audit: left out without a word where a second grid made the Dataset take
    # this path, refused with --var)
    for key in keys:
        if len(key) < 2 or any(key in on for on in grids.values()):
            continue
        found: dict[tuple, list[frozenset]] = {}
        for extra in _one_dim_more(ds, key):
            read_on = [key, key | {extra}]
            try:
                dims = on_grid(ds, read_on, find)
            except (ValueError, TypeError):  # not this dim's grid
                continue
            if dims is not None and set(dims) <= key:
                dims = _without_foreign_mappings(ds, read_on, dims, find)
                found.setdefault(tuple(dims), []).append(key | {extra})
        if len(found) == 1:
            ((dims, read_on),) = found.items()
            grids.setdefault(dims, []).extend([key, *read_on])
    if not grids:
        dims = tuple(horizontal_dims(ds, options))
        grids[dims] = [key for key in keys if set(dims) <= key]
    return grids


def _without_foreign_mappings(
    ds: xr.Dataset, keys: Sequence[frozenset], dims: Any, find: Any
) -> Any:
    """``dims``, found again (``find``) without the grid mappings only other grids name,
    where there are any (the grid's kind may change; its dims stay those of the variables)."""
    if not _foreign_mappings(ds, dims):
        return dims
    again = on_grid(ds, keys, find, dims)
    return dims if again is None else again


def _foreign_mappings(ds: xr.Dataset, grid: Sequence[Hashable]) -> list[Hashable]:
    """The grid mappings of ``ds`` that only variables off the ``grid``'s dims name."""
    mine = set(grid_mapping_names(ds, grid))
    return [n for n in grid_mapping_names(ds, ()) if n not in mine and n in ds.variables]


def _one_dim_more(ds: xr.Dataset, key: frozenset) -> list[Hashable]:
    """The dims that coordinates of ``ds`` have beyond ``key``, where that is one dim (Time
    for WRF's XLAT(Time, y, x) and a static field on (y, x))."""
    extras = []
    for name in ds.coords:
        beyond = set(ds.variables[name].dims) - key
        if len(beyond) == 1 and len(ds.variables[name].dims) > 1:
            extras += [d for d in beyond if d not in extras]
    return extras


def on_grid(
    ds: xr.Dataset, keys: Sequence[frozenset], plan: Any, grid: Sequence[Hashable] = ()
) -> Any:
    """``plan`` of the first part of ``ds`` it succeeds on, for the grid of the variables
    whose sets of dims are ``keys``: the coordinates on those dims with every data variable
    (T(time, y, x)'s ``grid_mapping`` serves orog(y, x) too), then with those sharing a dim
    with them, then two dims, then with theirs only (two grids, each with its own grid
    mapping, were refused as naming different mappings: an audit). With the ``grid``'s dims
    known, the grid mappings that only other grids' variables name are left out (a review:
    a regular grid's Q took a rotated-pole P's mapping, attached as a coordinate, and was
    read as rotated). The first part's error where none succeeds.
    """
    on = set().union(*keys)
    part = coordinates_on(ds, on)
    if grid:
        foreign = [n for n in _foreign_mappings(ds, grid) if n in part.variables]
        part = part.drop_vars(foreign) if foreign else part
    variables = [k for k in part.data_vars if part.variables[k].ndim]
    error = None
    for keep in (
        lambda dims: True,
        lambda dims: bool(dims & on),
        lambda dims: len(dims & on) >= 2,
        lambda dims: dims in keys,
    ):
        others = [k for k in variables if not keep(frozenset(part.variables[k].dims))]
        try:
            return plan(part.drop_vars(others) if others else part)
        except (ValueError, TypeError) as err:
            error = error or err
    raise error


def one_grid(operator: str, arrays: Mapping[Hashable, xr.DataArray], dims: Sequence) -> None:
    """ValueError where the variables an operator combines lie on different grids.

    Components of a staggered grid (an Arakawa C grid: MITgcm's ``U`` on ``(YC, XG)`` and
    ``V`` on ``(YG, XC)``, ROMS's ``xi_u``/``eta_v``, WRF's ``*_stag``) each lack a dim of the
    other; combined elementwise, xarray broadcast their terms into an outer product (a 4-D
    ``(YC, XG, YG, XC)`` divergence, a 6-D advection on ROMS: an audit, silent). Variables whose
    dims nest (``u`` on ``(time, y, x)``, ``v`` on ``(y, x)``) broadcast as meant, and so do
    variables that all have every dim differentiated along (``dims``). Components that are
    truly functions of their own dims only (``u(x)`` and ``v(y)``) cannot be told from a C
    grid's by their dims: they are refused too; broadcast them first
    (``xr.broadcast(ds['u'], ds['v'])``).
    """
    sets = {name: set(a.dims) for name, a in arrays.items()}
    union = set().union(*sets.values())
    if any(s == union for s in sets.values()):
        return
    lacking = [(name, d) for name, s in sets.items() for d in dims if d not in s]
    if not lacking:
        return
    (name, dim), *_ = lacking
    listed = ", ".join(f"{n!r} {a.dims!r}" for n, a in arrays.items())
    order = tuple(dict.fromkeys(d for a in arrays.values() for d in a.dims))
    raise ValueError(
        f"{operator}: the variables it combines lie on different grids ({listed}: {name!r} has "
        f"no {dim!r}); combined as they are, xarray would broadcast them into {order!r}. On a "
        "staggered grid (Arakawa C: u and v at the cell faces) interpolate them to one grid "
        "first, e.g. to the cell centres with xgcm's `grid.interp`, or with xarray's "
        "`interp` onto the other grid's coordinates and `rename` of the dims; variables that "
        "are functions of their own dims only (u(x), v(y)): broadcast them first, "
        "`xr.broadcast(...)`"
    )


def cubed_alike(arrays: Sequence[xr.DataArray]) -> list[xr.DataArray]:
    """``arrays`` as they are, unless some are cubed arrays: then all cubed, chunked alike by dim
    name (the chunks first seen along each dim), as dask unifies its arrays' chunks. cubed's
    elementwise operations need equal chunks and one spec, and numpy meeting a cubed array
    computes it whole (``ndarray + cubed`` is an ndarray): numpy ones become cubed arrays of
    the first cubed one's spec. Dask arrays beside cubed ones are a ValueError.
    """
    cubed = [a for a in arrays if is_cubed_array(a.data)]
    if not cubed:
        return list(arrays)
    dask = [a for a in arrays if is_dask_array(a.data)]
    if dask:  # numpy's conversion of one would compute the other whole, silently
        raise ValueError(
            f"{cubed[0].name!r} is a cubed array and {dask[0].name!r} a dask array; chunk "
            "them with one library: `ds.chunk(..., chunked_array_type='cubed')` (or 'dask')"
        )
    spec = cubed[0].data.spec
    for a in cubed[1:]:
        if a.data.spec != spec:
            raise ValueError(
                f"{cubed[0].name!r} and {a.name!r} are cubed arrays of different specs "
                f"({spec!r} and {a.data.spec!r}); cubed combines arrays of one spec: chunk them "
                "together, e.g. `ds.chunk(..., chunked_array_type='cubed', "
                "from_array_kwargs={'spec': spec})`"
            )
    chunks: dict[Hashable, tuple] = {}
    for a in cubed:
        for d, c in zip(a.dims, a.data.chunks, strict=True):
            chunks.setdefault(d, c)
    out = []
    for a in arrays:
        want = tuple(chunks.get(d, (n,)) for d, n in zip(a.dims, a.shape, strict=True))
        if is_cubed_array(a.data):
            out.append(a if a.data.chunks == want else a.copy(data=a.data.rechunk(want)))
        elif type(a.data) is np.ndarray:
            out.append(a.copy(data=numpy_operand(a.data, cubed[0].data, want)))
        else:
            out.append(a)
    return out


def check_dtype(da: xr.DataArray) -> None:
    """TypeError for data that cannot be differentiated, from the dtype alone (nothing computed):
    :func:`xgrad.variables.check_differentiable`, the one rule."""
    check_differentiable(da)


def numeric_data(da: xr.DataArray, plan: Plan) -> tuple[Any, str | None]:
    """The array to differentiate and its units; times become numbers in ``datetime_unit``.

    float16 on an Earth grid becomes float32 (lazily): per-metre derivatives of typical fields
    (1e-5 K m-1, Laplacians 1e-12) are below float16's smallest normal number (6e-5) and came
    out as a few significant bits or zero (an audit). Cartesian float16 stays float16, as in
    numpy.
    """
    check_dtype(da)
    data = da.data
    units = da.attrs.get("units")
    if is_quantity(data):
        units, data = str(data.units), data.magnitude
    if data.dtype.kind in "mMO":
        unit = plan.datetime_unit
        return time_to_numbers(data, unit), DATETIME_UNITS[unit]
    if data.dtype == np.float16 and plan.geometry == "sphere":
        data = data.astype(np.float32)
    return data, None if units is None else str(units)


def pint_units(data: Any, per: Sequence[tuple[Hashable, str | None]]) -> Any:
    """pint units of quantified ``data`` divided by each ``(coordinate name, units)`` in ``per``."""
    reg = data._REGISTRY
    num = difference_units(data.units)  # degC: differences are in delta_degC
    for name, units in per:
        coord = _clean(units)
        if coord is None:
            continue
        try:
            den = difference_units(reg.Unit(coord))  # degC: per delta_degC, as the labels
        except Exception as err:  # pint's errors vary by version; all mean "cannot parse"
            raise ValueError(
                f"the units of coordinate {name!r} ({coord!r}) are unknown to the pint "
                f"registry of the data; quantify the coordinate too: "
                f"`da.pint.quantify({{{name!r}: 'm'}})` with its real units"
            ) from err
        num = num / den
    return num


def derivative_arrays(
    data: Any,
    da: xr.DataArray,
    spacings: Sequence[Spacing],
    plan: Plan,
    *,
    combine: Any = None,
    operands: Sequence[Any] = (),
    premultiply: Any = None,
    into: Sequence[Any] | None = None,
    fields: Sequence[Any] = (),
    direct: Sequence[tuple[int, int]] = (),
) -> Any:
    """Derivatives of numeric ``data`` (laid out as ``da``) along ``spacings``, in one pass
    (of ``data * premultiply``, formed inside it where it can, written ``into`` given
    arrays, other ``fields`` of ``data``'s layout differentiated alongside: see the engine's).

    ``da`` supplies the dims and the latitude for the sphere's metric factors, which are
    computed (and their errors raised) before the engine builds anything.  ``combine`` (with
    its ``operands``) is :func:`xgrad.engine.differentiate`'s: what is built from the
    derivatives, in their pass; what it returns is returned.
    """
    if not spacings:
        return []
    options = plan.options
    dtype = output_dtype(data.dtype)
    factors = [_factor(da, s, plan, dtype) for s in spacings]
    return differentiate(
        data,
        tuple(da.get_axis_num(s.dim) for s in spacings),
        [axis_spacing(s) for s in spacings],
        edge_order=options.edge_order,
        accuracy=options.accuracy,
        nan=options.nan,
        periodic=tuple(s.period is not None for s in spacings),
        scales=tuple(factors),  # `result * factor`, in the same pass (no second layer)
        names=tuple(s.dim for s in spacings),  # what errors about the chunks name
        **({} if combine is None else {"combine": combine, "operands": operands}),
        **{  # the engine's pass options, where given
            k: v
            for k, v in (
                ("premultiply", premultiply),
                ("into", into),
                ("fields", fields),
                ("direct", direct),
            )
            if v is not None and not (isinstance(v, (list, tuple)) and not v)
        },
    )


def _factor(da: xr.DataArray, s: Spacing, plan: Plan, dtype: np.dtype) -> Any:
    """The per-metre factor along ``s``: the grid metric's, or the regular sphere's."""
    if plan.metric is not None and s.dim in plan.metric.scales:
        return broadcast_field(plan.metric.scales[s.dim], da, dtype, f"along {s.dim!r}")
    return metric_factor(da, s, plan.figure, dtype)


def boundary_label(spacings: Sequence[Spacing]) -> str:
    """The ``xgrad_boundary`` attribute: "periodic" or "edge", per dim when they differ.

    >>> from xgrad.coords import Spacing
    >>> lon = Spacing("lon", "lon", 4, 1.0, None, "index", period=4.0)
    >>> lat = Spacing("lat", "lat", 3, 1.0, None, "index")
    >>> boundary_label([lon]), boundary_label([lon, lat])
    ('periodic', 'lon: periodic lat: edge')
    """
    labels = ["periodic" if s.period is not None else "edge" for s in spacings]
    if len(set(labels)) == 1:
        return labels[0]
    return " ".join(f"{s.dim}: {label}" for s, label in zip(spacings, labels, strict=True))


def wrap(da: xr.DataArray, result: Any, *, name: Hashable, attrs: dict, units: Any) -> Any:
    """A new DataArray on ``da``'s dims and coords (``units``: pint units, or None)."""
    if units is not None:
        result = da.data._REGISTRY.Quantity(result, units)
    # ``da``'s coordinates and indexes as they are, as xarray's own ``differentiate`` and its
    # arithmetic give them (``DataArray._replace``, which both use; its signature has not
    # changed since xarray 0.10): ``xr.DataArray(result, coords=da.coords, ...)`` copies every
    # coordinate's values, 18 ms per output for 2-D 721x1440 float64 nav_lat/nav_lon, and
    # ``da.copy(deep=False, data=result)`` rebuilds every index, 81 us on a (50, 60) array
    # with two 1-D coordinates against 10 us.  The input's own encoding (dtype,
    # scale_factor, _FillValue) describes the input's values and must not be used to write
    # the derivative: dropped; its attrs and name are replaced.
    replace = getattr(da, "_replace", None)
    if replace is None:
        out = da.copy(deep=False, data=result)
    else:
        out = replace(da.variable.copy(deep=False, data=result))
    out.encoding = {}
    out.attrs = attrs
    out.name = name
    return out


def derivatives(da: xr.DataArray, plan: Plan) -> tuple[xr.DataArray, ...]:
    """``along``: the derivative of one DataArray along each planned dimension."""
    data, data_units = numeric_data(da, plan)
    quantified = is_quantity(da.data)
    # pint units first: a unit error must come before any graph is built.
    units = [
        pint_units(da.data, [(s.name, s.units)]) if quantified else None for s in plan.spacings
    ]
    results = derivative_arrays(data, da, plan.spacings, plan)
    out = []
    for spacing, result, unit in zip(plan.spacings, results, units, strict=True):
        attrs = derivative_attrs(
            da.attrs,
            name=da.name,
            data_units=data_units,
            coord_units=spacing.units,
            wrt=spacing.name,
            boundary=boundary_label([spacing]),
            keep_attrs=bool(plan.options.keep_attrs),
            write_units=not quantified,
        )
        if spacing.role is not None:  # along the Earth grid: time or level keep their units
            attrs.update(plan.grid_attrs())
        out.append(wrap(da, result, name=da.name, attrs=attrs, units=unit))
    return tuple(out)
