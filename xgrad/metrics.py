"""Metrics of Earth grids: per-metre scale factors along grid lines and the grid's local frame.

For every grid but the regular latitude/longitude one (whose factors are
:func:`xgrad.geometry.metric_factor`), :func:`grid_metric` computes, in float64, from the
coordinates only (and keeps for the next calls on the same grid, :mod:`xgrad.metric_cache`):

``scales[dim]``
    What multiplies the derivative per coordinate unit along ``dim`` (inside the engine's pass)
    to make it per metre along that grid line.
``to_earth[row][dim]`` (for ``.grad.horizontal``)
    ``[df/deast, df/dnorth] = C [g_x, g_y]`` with ``g`` the per-metre grid-relative
    derivatives; for an orthogonal grid ``C`` is the rotation by the grid angle.

Rotated pole
    The sphere's metric on the rotated sphere: ``(1/R) d/dphi'``, ``1/(R cos phi') d/dlambda'``
    with ``phi'`` the rotated latitude; ``C`` from the rotated and true east/north vectors.
Projected
    ``A = d(x, y)/d(east, north)`` from pyproj (:func:`xgrad.crs.projection_jacobian`); the
    Earth length of a projected metre along x is ``|A^-1 e_x|`` (``1/k`` on a conformal map);
    ``C = A^T diag(|A^-1 e_x|, |A^-1 e_y|)``.
Curvilinear
    Earth-centred positions ``P`` of the grid points (unit vectors
    ``(cos lat cos lon, cos lat sin lon, sin lat)`` times ``R``; on an ellipsoid the geocentric
    positions in metres) differentiated along the grid dims with the data's own stencils,
    spacings, boundaries and accuracy: ``scale_i = 1/|dP/di|``. Longitudes enter only through
    ``cos``/``sin``, so the 180th meridian, a global grid's seam and the poles need no unwrapping.
    ``J = [[e.P_i, e.P_j], [n.P_i, n.P_j]]`` (``e``, ``n`` the local east and north unit
    vectors) and ``C = J^-T diag(|P_i|, |P_j|)``. Where two neighbouring grid points coincide
    (``|dP/di| = 0``, a degenerate row of a folded grid) the scale is NaN; exactly at a pole the
    east/north frame is undefined and ``C`` is NaN, as on a regular grid.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from . import metric_cache
from ._metric_reference import dot
from .arrays import coordinate_numbers, is_dask_array, numpy_operand
from .coords import Spacing, coordinate_variables
from .crs import ROTATED, RotatedPole, projection_jacobian
from .curvilinear import unit_name
from .earth import Figure
from .engine import differentiate, real_dtype
from .geometry import PER_DEGREE, cf_role, cos_secant, latitude_values
from .grids import LENGTH_UNITS, HorizontalGrid
from .metric_cache import clear_metrics
from .options import Options
from .periodic import axis_spacing

__all__ = ["GridMetric", "broadcast_field", "clear_metrics", "grid_metric", "unit_positions"]

Field = Any  # an xarray.DataArray over grid dims (float64, in memory) or a Python float


@dataclass(frozen=True, kw_only=True)
class GridMetric:
    """Scale factors per grid dim and (for ``horizontal``) the grid-to-Earth matrix.

    ``token`` is the token of everything the metric was computed from, the coordinates'
    values included (:func:`xgrad.metric_cache.content_token`);
    ``derived`` holds what callers build from the fields once per layout (``.grad.horizontal``'s
    operands), so it lives as long as the metric does.
    """

    scales: Mapping[Hashable, Field]
    to_earth: Mapping[str, Mapping[Hashable, Field]] | None = None
    #: ``to_earth`` where it is NaN only because east and north do not exist (a projected
    #: grid's point on a pole): the frame of the limit along the point's meridian, right for
    #: what does not depend on the frame's orientation (``magnitude``); None where the same.
    any_frame: Mapping[str, Mapping[Hashable, Field]] | None = None
    token: str | None = None
    derived: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)


def grid_metric(
    obj: Any,
    grid: HorizontalGrid | None,
    spacings: Sequence[Spacing],
    options: Options,
    *,
    frame: bool = False,
) -> GridMetric | None:
    """The metric of ``grid`` for the planned ``spacings`` (None on a regular grid or none).

    ``frame=True`` also gives ``to_earth`` (``spacings`` must then hold both grid dims). The
    metrics of the last grids are kept (:mod:`xgrad.metric_cache`: found again by the exact
    values of the coordinates they read, their grid, spacings and options).
    """
    if grid is None or grid.kind == "sphere":
        return None
    # in the grid's order: a metric does not depend on the order the dims were asked in
    mine = sorted(
        (s for s in spacings if s.dim in grid.dims and s.role is not None),
        key=lambda s: grid.dims.index(s.dim),
    )
    # everything a metric reads: the grid (kind, dims, mapping, figure), its coordinates
    # (values, dims, attributes), the planned spacings and the options
    variables = coordinate_variables(obj)
    names = [n for n in (grid.latitude, grid.longitude, grid.x, grid.y) if n in variables]
    # dask coordinates read once, here: for the keys (found by values: xgrad.metric_cache) and,
    # on a miss, for the metric
    coords = [(n, variables[n].compute()) for n in dict.fromkeys(names)]
    lazy = {n: v for n, v in coords if is_dask_array(variables[n]._data)}
    if lazy:
        obj = obj.assign_coords(lazy)
    if not frame and len(mine) == 2:
        # a kept metric with the frame has these scales too: .grad.horizontal, magnitude and
        # along on one grid then share one entry (three entries of CACHED_GRIDS = 2 were
        # recomputed in turn, horizontal() 0.036 -> 0.112 s on ERA5's grid, benchmarks/grids.py)
        kept = metric_cache.find(metric_cache.grid_key(coords, grid, mine, options, True))
        if kept is not None:
            return kept
    key = metric_cache.grid_key(coords, grid, mine, options, frame)
    kept = metric_cache.find(key)
    if kept is not None:
        return kept
    # the metric's name hashes the coordinates (sha1 releases the GIL): on a thread of its own
    # while the metric is computed (~20 ms of a large grid's first call, benchmarks/grids.py)
    with ThreadPoolExecutor(1) as pool:
        token = pool.submit(metric_cache.content_token, key)
        if grid.kind == "rotated_pole":
            metric = _rotated(obj, grid, mine, frame)
        elif grid.kind == "projected":
            metric = _projected(obj, grid, mine, options, frame)
        else:
            metric = _curvilinear(obj, grid, mine, options, frame)
        metric = dataclasses.replace(metric, token=token.result())
    metric_cache.keep(key, metric)
    return metric


def _field(values: np.ndarray, dims: Sequence[Hashable]) -> xr.DataArray:
    return xr.DataArray(values, dims=tuple(dims))


def _secant(values: np.ndarray, per_radian: float) -> np.ndarray:
    return cos_secant(values, per_radian)[1]


def _rotated(obj: Any, grid: HorizontalGrid, spacings: list, frame: bool) -> GridMetric:
    radius = grid.figure.semi_major_axis
    coord = coordinate_variables(obj)[grid.latitude]
    lat_spacing = next((s for s in spacings if s.role == "latitude"), None)
    per_lat = _rotated_per_radian(coord, lat_spacing)
    rlat = latitude_values(grid.latitude, coord, per_lat)
    scales: dict[Hashable, Field] = {}
    for s in spacings:
        if s.role == "latitude":
            scales[s.dim] = s.per_radian / radius
        else:  # as the sphere's: (per_radian / R) * sec, the rotated latitude's secant
            scales[s.dim] = _field((s.per_radian / radius) * _secant(rlat, per_lat), coord.dims)
    if not frame:
        return GridMetric(scales=scales)
    pole = _rotated_pole(grid)
    lon_coord = coordinate_variables(obj)[grid.longitude]
    per_lon = _rotated_per_radian(lon_coord, next(s for s in spacings if s.role == "longitude"))
    rlon = np.asarray(
        coordinate_numbers(lon_coord.data), dtype=np.float64
    )  # pint: no UnitStrippedWarning
    phi, lam = np.meshgrid(rlat / per_lat, rlon / per_lon, indexing="ij")
    position, east_r, north_r = pole.frame(phi, lam)
    east, north = _east_north(position)
    dims = (grid.y, grid.x)
    to_earth = {
        "east": {
            grid.x: _field(dot(east_r, east), dims),
            grid.y: _field(dot(north_r, east), dims),
        },
        "north": {
            grid.x: _field(dot(east_r, north), dims),
            grid.y: _field(dot(north_r, north), dims),
        },
    }
    return GridMetric(scales=scales, to_earth=to_earth)


def _rotated_per_radian(coord: Any, spacing: Spacing | None) -> float:
    if spacing is not None and spacing.dim in coord.dims:
        return spacing.per_radian
    units = unit_name(coord) or "degrees"
    return 1.0 if units in ("radians", "radian", "rad") else PER_DEGREE


def _east_north(position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local east and north unit vectors at unit ``position`` vectors; NaN at the poles."""
    x, y, z = position
    horizontal = np.hypot(x, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(horizontal == 0, np.nan, 1.0 / horizontal)
    east = np.stack([-y * inv, x * inv, np.zeros_like(z)])
    north = np.stack([-z * x * inv, -z * y * inv, horizontal])
    return east, north


def _projected(
    obj: Any, grid: HorizontalGrid, spacings: list, options: Options, frame: bool
) -> GridMetric:
    per_metre = {s.dim: s.per_radian for s in spacings}  # metres per coordinate unit
    if frame or len(per_metre) < 2:
        per_metre = {d: per_metre.get(d) or _metres_per_unit(obj, d) for d in (grid.x, grid.y)}
    x, y = (_in_metres(obj, d, per_metre[d]) for d in (grid.x, grid.y))
    xx, yy = np.meshgrid(x, y)  # (y, x) layout
    mapping = grid.mapping
    override = options.radius is not None or mapping.figure is None
    lat, _, a = projection_jacobian(mapping, grid.figure if override else None, xx, yy)
    det = a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        # columns of A^-1: Earth (east, north) metres per projected metre along x and along y
        length = {
            grid.x: np.hypot(a[1, 1], -a[1, 0]) / np.abs(det),
            grid.y: np.hypot(-a[0, 1], a[0, 0]) / np.abs(det),
        }
        scales = {
            s.dim: _field(1.0 / (per_metre[s.dim] * length[s.dim]), (grid.y, grid.x))
            for s in spacings
        }
    if not frame:
        return GridMetric(scales=scales)
    dims = (grid.y, grid.x)
    # east and north do not exist at a pole (the grid lines through it do: scales are finite)
    pole = np.abs(lat) == 90.0
    limit = {
        "east": {grid.x: a[0, 0] * length[grid.x], grid.y: a[1, 0] * length[grid.y]},
        "north": {grid.x: a[0, 1] * length[grid.x], grid.y: a[1, 1] * length[grid.y]},
    }
    to_earth = {
        row: {d: _field(np.where(pole, np.nan, value), dims) for d, value in columns.items()}
        for row, columns in limit.items()
    }
    any_frame = None
    if pole.any():
        any_frame = {
            row: {d: _field(value, dims) for d, value in columns.items()}
            for row, columns in limit.items()
        }
    return GridMetric(scales=scales, to_earth=to_earth, any_frame=any_frame)


def _in_metres(obj: Any, dim: Hashable, per_unit: float) -> np.ndarray:
    """A projection coordinate's values in metres (float64; pint: the magnitude)."""
    return (
        np.asarray(coordinate_numbers(coordinate_variables(obj)[dim].data), dtype=np.float64)
        * per_unit
    )


def _metres_per_unit(obj: Any, dim: Hashable) -> float:
    units = unit_name(coordinate_variables(obj)[dim]) or "m"
    if units not in LENGTH_UNITS:
        raise ValueError(
            f"projection coordinate {dim!r} has units {units!r}; the grid mapping needs a "
            f"length, e.g. `da[{dim!r}].attrs['units'] = 'm'`"
        )
    return LENGTH_UNITS[units]


def _grid_values(obj: Any, name: Hashable, grid: HorizontalGrid) -> np.ndarray:
    """A 2-D (or more) coordinate as a float64 (y, x) array; it must not vary along other dims."""
    coord = coordinate_variables(obj)[name]
    extra = [d for d in coord.dims if d not in (grid.y, grid.x)]
    values = np.asarray(coord.transpose(*extra, grid.y, grid.x).values, dtype=np.float64)
    if extra:
        flat = values.reshape((-1,) + values.shape[-2:])
        same = (flat == flat[:1]) | (np.isnan(flat) & np.isnan(flat[:1]))
        if not same.all():
            raise ValueError(
                f"coordinate {name!r} varies along {tuple(extra)!r}, so the grid moves; select "
                f"one position first, e.g. `da.isel({extra[0]}=0)` (or drop it and assign the "
                f"2-D one: `da.assign_coords({name}=da[{name!r}].isel({extra[0]}=0))`)"
            )
        values = flat[0]
    return values


def _latitude_longitude(obj: Any, grid: HorizontalGrid) -> tuple[np.ndarray, np.ndarray]:
    """A curvilinear grid's validated latitude and longitude in radians, (y, x) arrays."""
    lat, lon, per_lat, per_lon = _grid_angles(obj, grid)
    return lat / per_lat, lon / per_lon


def _grid_angles(obj: Any, grid: HorizontalGrid) -> tuple[np.ndarray, np.ndarray, float, float]:
    """A curvilinear grid's validated latitude and longitude as given, float64 (y, x) arrays,
    and their units per radian."""
    lat = _grid_values(obj, grid.latitude, grid)
    lon = _grid_values(obj, grid.longitude, grid)
    per_lat, per_lon = (
        _per_radian(coordinate_variables(obj)[n]) for n in (grid.latitude, grid.longitude)
    )
    latitude_values(grid.latitude, _field(lat, (grid.y, grid.x)), per_lat)
    bad = ~np.isfinite(lon)
    if bad.any():
        j, i = np.unravel_index(int(np.flatnonzero(bad)[0]), lon.shape)
        raise ValueError(
            f"longitude coordinate {grid.longitude!r} contains {float(lon[j, i])!r} "
            f"({grid.longitude}[{j}, {i}]); a curvilinear grid needs the position of every "
            "point, land included: take the coordinates from the model's grid or mesh file "
            f"(e.g. NEMO's mesh_mask.nc): `da.assign_coords({grid.longitude}=mesh[...])`"
        )
    return lat, lon, per_lat, per_lon


def unit_positions(
    obj: Any, grid: HorizontalGrid, options: Options, *, true_frame: bool
) -> np.ndarray:
    """Unit position vectors ``(3, ny, nx)`` of the grid points on the sphere, (y, x) layout.

    ``true_frame=False`` allows any rotated frame (a rotated-pole grid then needs no pole: its
    rotated sphere); with True they are Earth-centred, so that east and north are the true ones.
    """
    if grid.kind == "curvilinear":
        return Figure.sphere(1.0).positions(*_latitude_longitude(obj, grid))
    if grid.kind == "projected":
        x, y = (_in_metres(obj, d, _metres_per_unit(obj, d)) for d in (grid.x, grid.y))
        xx, yy = np.meshgrid(x, y)
        override = options.radius is not None or grid.mapping.figure is None
        lat, lon, _ = projection_jacobian(grid.mapping, grid.figure if override else None, xx, yy)
        return Figure.sphere(1.0).positions(np.radians(lat), np.radians(lon))
    coord = coordinate_variables(obj)[grid.latitude]
    rlat = latitude_values(grid.latitude, coord, _rotated_per_radian(coord, None))
    rlat = rlat / _rotated_per_radian(coord, None)
    lon_coord = coordinate_variables(obj)[grid.longitude]
    rlon = np.asarray(coordinate_numbers(lon_coord.data), np.float64) / _rotated_per_radian(
        lon_coord, None
    )
    phi, lam = np.meshgrid(rlat, rlon, indexing="ij")
    if not true_frame:
        return Figure.sphere(1.0).positions(phi, lam)
    return _rotated_pole(grid).frame(phi, lam)[0]


def _rotated_pole(grid: HorizontalGrid) -> RotatedPole:
    mapping = grid.mapping
    if mapping is None or mapping.name != ROTATED:
        raise ValueError(
            "eastward and northward derivatives on a rotated-pole grid need the position of its "
            "pole: the 'rotated_latitude_longitude' grid mapping (grid_north_pole_latitude, "
            "grid_north_pole_longitude); pass it: `crs=ds['rotated_pole']`, or open the file "
            "with `xr.open_dataset(path, decode_coords='all')`"
        )
    return RotatedPole.from_cf(mapping.attrs)


def _curvilinear(
    obj: Any, grid: HorizontalGrid, spacings: list, options: Options, frame: bool
) -> GridMetric:
    from . import _metric_kernels as compiled  # numba, imported on first use

    dims = (grid.y, grid.x)
    lat, lon, per_lat, per_lon = _grid_angles(obj, grid)
    figure = grid.figure
    radius = figure.semi_major_axis if figure.is_sphere else 1.0
    wanted = [s for s in spacings if s.dim in dims]
    # The positions laid out (ny, 3, nx), so that the engine's cache tiles (bands of rows)
    # hold all three components of their points. Figure.sphere(1.0).positions(lat / per_lat,
    # lon / per_lon), in one pass on threads.
    unit = compiled.positions(lat, lon, per_lat, per_lon, axis=-2)
    if figure.is_sphere:
        position = unit
    else:
        ellipsoid = figure.positions(lat / per_lat, lon / per_lon)
        position = np.ascontiguousarray(np.moveaxis(ellipsoid, 0, -2))
    axis = {grid.y: 0, grid.x: 2}

    def tangents(planned: list[Spacing], **combination: Any) -> list:
        """dP/di along the planned dims, with the data's stencils (``combination``: the
        engine's ``combine``, ``operands`` and ``into``)."""
        return differentiate(
            position,
            tuple(axis[s.dim] for s in planned),
            [axis_spacing(s) for s in planned],
            edge_order=options.edge_order,
            accuracy=options.accuracy,
            periodic=tuple(s.period is not None for s in planned),
            **combination,
        )

    if not frame:
        return GridMetric(
            scales={
                s.dim: _field(compiled.scale(t, radius, axis=-2), dims)
                for s, t in zip(wanted, tangents(wanted), strict=True)
            }
        )
    # The scales and J^-T diag(|P_i|, |P_j|) from a tile's tangents while they are in cache
    # (frame_tiles: one pass over the points; _metric_reference.frame_reference is the same
    # in numpy): the tangents along x never reach memory (benchmarks/grids.py's 721 x 1440
    # grid on one thread: 35 ms for tangents and frame, 51 ms as two passes). The six fields
    # are contiguous (ny, nx) arrays, views of the two (3, ny, nx) results.
    along = {s.dim: s for s in wanted}
    first, second = (np.empty((3, *lat.shape)) for _ in range(2))
    tangents(
        [along[grid.x], along[grid.y]],
        combine=functools.partial(compiled.frame_tiles, radius=radius),
        operands=[unit],
        into=[first.transpose(1, 0, 2), second.transpose(1, 0, 2)],
    )
    (sx, sy, ex), (ey, nx, ny) = first, second
    scales = {grid.x: _field(sx, dims), grid.y: _field(sy, dims)}
    to_earth = {
        "east": {grid.x: _field(ex, dims), grid.y: _field(ey, dims)},
        "north": {grid.x: _field(nx, dims), grid.y: _field(ny, dims)},
    }
    any_frame = None
    # east and north do not exist at a point on a pole (cos lat is exactly 0 there)
    pole = (unit[:, 0, :] == 0) & (unit[:, 1, :] == 0)
    if pole.any():
        tx, ty = tangents([along[grid.x], along[grid.y]])
        at = np.nonzero(pole)
        columns = _tangent_frame(
            unit[at[0], :, at[1]].T, tx[at[0], :, at[1]].T, ty[at[0], :, at[1]].T, radius
        )
        fields = []
        for whole, part in zip((ex, ey, nx, ny), columns, strict=True):
            whole = whole.copy()
            whole[at] = part
            fields.append(_field(whole, dims))
        any_frame = {
            "east": {grid.x: fields[0], grid.y: fields[1]},
            "north": {grid.x: fields[2], grid.y: fields[3]},
        }
    return GridMetric(
        scales={s.dim: scales[s.dim] for s in wanted}, to_earth=to_earth, any_frame=any_frame
    )


def _tangent_frame(
    unit: np.ndarray, tx: np.ndarray, ty: np.ndarray, radius: float
) -> tuple[np.ndarray, ...]:
    """``to_earth``'s ``(east_x, east_y, north_x, north_y)`` at points where east and north do
    not exist (on a pole), in the frame of the x tangent's direction and 90 degrees to its left
    (the tangent plane's normal is ``unit``): right for what does not depend on the frame's
    orientation (``magnitude``), as the projected grid's limit frame. ``(3, k)`` arrays."""
    t = tx - dot(unit, tx) * unit  # in the tangent plane
    with np.errstate(divide="ignore", invalid="ignore"):
        first = t / np.sqrt(dot(t, t))
        second = np.cross(unit, first, axis=0)
        lx, ly = radius * np.sqrt(dot(tx, tx)), radius * np.sqrt(dot(ty, ty))
        a, c = radius * dot(first, tx), radius * dot(second, tx)
        b, d = radius * dot(first, ty), radius * dot(second, ty)
        inverse = 1.0 / (a * d - b * c)
        return d * lx * inverse, -c * ly * inverse, -b * lx * inverse, a * ly * inverse


def _per_radian(coord: Any) -> float:
    """Units per radian of a 2-D latitude/longitude (recognised by CF metadata or by name)."""
    role, per_radian = cf_role(coord)
    return per_radian if role is not None else PER_DEGREE


def broadcast_field(
    field: Field, da: Any, dtype: np.dtype, what: str, *, operand: bool = False
) -> Any:
    """``field`` laid out to broadcast against ``da`` and cast to the result's real dtype: numpy,
    or for cubed data a cubed array (to meet it in arithmetic) unless ``operand`` (the engine's
    ``combine`` operands, which are numpy blocks' companions)."""
    if field is None or np.ndim(field) == 0:
        return field
    missing = [d for d in field.dims if d not in da.dims]
    if missing:
        raise ValueError(
            f"{what}: data variable {da.name!r} (dims {da.dims!r}) lacks the grid dims "
            f"{tuple(missing)!r} of the metric; drop it or differentiate it alone"
        )
    order = [d for d in da.dims if d in field.dims]
    values = field.transpose(*order).values
    shape = [field.sizes[d] if d in field.dims else 1 for d in da.dims]
    # no copy when already of that dtype: callers only read it (engine scales, operands)
    values = values.reshape(shape).astype(real_dtype(dtype), copy=False)
    if operand:
        return values
    # a cubed array for cubed data: `cubed * ndarray` is numpy computing the cubed array whole
    return numpy_operand(values, getattr(da, "data", da))
