"""Geometry: CF latitude/longitude recognition and the sphere's metric factors.

On a sphere of radius ``R`` a derivative along latitude ``phi`` or longitude ``lambda`` (in
radians) becomes a derivative per metre:

    d/dy = (1/R) d/dphi                    (along the meridian)
    d/dx = 1/(R cos phi) d/dlambda         (along the parallel; NaN exactly at the poles)

On an ellipsoid (``radius="WGS84"``) ``R`` is the meridional radius of curvature ``M(phi)`` in
``d/dy`` and the prime-vertical one ``N(phi)`` in ``d/dx`` (:class:`xgrad.earth.Figure`).

xgrad differentiates in the coordinate's own units first (degrees: exactly the numbers of
``DataArray.differentiate``, uniform spacing kept uniform) and then multiplies by a factor,
``per_radian / R`` or ``per_radian / (R cos phi)`` with ``per_radian = 180/pi`` for degrees. Doing
it in that order keeps the stencil arithmetic identical for a latitude stored ascending or
descending (only the sign of the spacing differs, which is exact), so the two give mirrored,
bit-identical numbers (``test_geometry.py::test_descending_latitude_is_mirrored``). A descending
latitude needs no special case: its spacing is negative, and so is the derivative's sign flip.

Coordinates are recognised by CF metadata only, never by name: ``units`` in
:data:`LATITUDE_UNITS` / :data:`LONGITUDE_UNITS` (case-insensitive, so udunits' aliases such as
``degree_N`` and ``degreesN`` are included), or ``standard_name`` ``"latitude"``/``"longitude"``
with angle units (degrees, or radians; no units means degrees). Which grid a dim belongs to
(this regular one, rotated pole, projected, curvilinear) is decided in :mod:`xgrad.grids`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np
import xarray as xr

from .arrays import coordinate_numbers
from .coords import Spacing, coordinate_units, coordinate_variables
from .earth import Figure
from .engine import real_dtype

__all__ = [
    "LATITUDE_UNITS",
    "LONGITUDE_UNITS",
    "cf_role",
    "cos_latitude",
    "cos_secant",
    "find_latitude",
    "full_turn",
    "latitude_values",
    "metric_factor",
]

Role = Literal["latitude", "longitude"]

_DEGREE_FORMS = ("degrees_{}", "degree_{}", "degree_{0[0]}", "degrees_{0[0]}", "degree{0[0]}")
_DEGREE_FORMS += ("degrees{0[0]}",)
#: ``units`` (lower-cased) that make a coordinate a CF latitude / longitude, whatever its name.
LATITUDE_UNITS = frozenset(f.format("north") for f in _DEGREE_FORMS)
LONGITUDE_UNITS = frozenset(f.format("east") for f in _DEGREE_FORMS)
_DEGREES = frozenset({"degrees", "degree", "deg", "degs", "arc_degree", "angular_degree"})
_RADIANS = frozenset({"radians", "radian", "rad"})
PER_DEGREE = 180.0 / math.pi  # degrees per radian


def cf_role(coord: Any) -> tuple[Role | None, float]:
    """Whether ``coord`` is a CF latitude or longitude, and its units per radian.

    Returns
    -------
    role : {"latitude", "longitude"} or None
    per_radian : float
        ``180/pi`` for degrees, 1 for radians (1 when ``role`` is None).

    Examples
    --------
    >>> import xarray as xr
    >>> cf_role(xr.DataArray([0.0, 1.0], dims="y", attrs={"units": "degree_N"}))
    ('latitude', 57.29577951308232)
    >>> cf_role(xr.DataArray([0.0, 1.0], dims="x", attrs={"standard_name": "longitude",
    ...                                                    "units": "radians"}))
    ('longitude', 1.0)
    >>> cf_role(xr.DataArray([0.0, 1.0], dims="x", attrs={"units": "degrees"}))
    (None, 1.0)
    """
    units = coordinate_units(coord)
    text = None if units is None else units.strip().lower()
    if text in LATITUDE_UNITS:
        return "latitude", PER_DEGREE
    if text in LONGITUDE_UNITS:
        return "longitude", PER_DEGREE
    standard = coord.attrs.get("standard_name")
    if standard in ("latitude", "longitude"):
        if text is None or text in _DEGREES:
            return standard, PER_DEGREE
        if text in _RADIANS:
            return standard, 1.0
    return None, 1.0


def full_turn(per_radian: float) -> float:
    """The period of a longitude in its own units: 360 (degrees) or 2 pi (radians).

    >>> full_turn(180 / math.pi), full_turn(1.0)
    (360.0, 6.283185307179586)
    """
    return 360.0 if per_radian != 1.0 else 2 * math.pi


def _magnitude(data: Any) -> np.ndarray:
    return np.asarray(
        coordinate_numbers(data), dtype=np.float64
    )  # a dask-backed coordinate is computed: it is small


def latitude_values(name: Hashable, coord: Any, per_radian: float) -> np.ndarray:
    """Latitude in float64 coordinate units; ValueError for NaN or values beyond the poles.

    A coordinate with 2 or more dims (a curvilinear grid's) that is NaN is told where its
    values should come from (land points of model output).
    """
    values = _magnitude(coord.data)
    missing = np.flatnonzero(~np.isfinite(values.ravel()))
    if missing.size:
        i = np.unravel_index(int(missing[0]), values.shape) if values.ndim else ()
        where = f"{name}[{', '.join(str(int(k)) for k in i)}]" if values.ndim else str(name)
        fix = (
            f"Fill or drop those points first, e.g. `da.where(da[{name!r}].notnull(), drop=True)`"
            if values.ndim < 2
            else "Model files that blank the coordinates over land (NaN there) need the "
            "positions of every point, land included: take them from the model's grid or mesh "
            "file (e.g. NEMO's mesh_mask.nc), e.g. "
            f"`da.assign_coords({name}=mesh[{name!r}])`"
        )
        raise ValueError(
            f"latitude coordinate {name!r} contains {float(values.ravel()[missing[0]])!r} "
            f"({where}); the sphere's metric factors need a finite latitude at every point. " + fix
        )
    limit = 90.0 if per_radian != 1.0 else math.pi / 2
    if np.dtype(getattr(coord, "dtype", np.float64)) == np.float32:
        # float32(pi / 2) is 1.5707964 > pi / 2: a float32 pole is the pole
        pole32 = np.abs(values) == float(np.float32(limit))
        if pole32.any():
            values = np.where(pole32, np.copysign(limit, values), values)
    bad = np.flatnonzero(np.abs(values.ravel()) > limit)
    if bad.size:
        i = np.unravel_index(int(bad[0]), values.shape) if values.ndim else ()
        where = f"{name}[{', '.join(str(int(k)) for k in i)}]" if values.ndim else str(name)
        unit = "degrees" if per_radian != 1.0 else "radians"
        raise ValueError(
            f"latitude coordinate {name!r} has values outside [-{limit:g}, {limit:g}] {unit} "
            f"({where} = {float(values.ravel()[bad[0]])!r}), so it cannot be a latitude on the sphere. "
            f"Fix its values or its units, or differentiate per coordinate unit: "
            "`geometry='cartesian'`"
        )
    return values


def _guess_latitude_name(obj: Any) -> str:
    for name in obj.coords:
        if str(name).lower().startswith("lat") or "lat" in str(name).lower().split("_"):
            return str(name)
    return "lat"


def find_latitude(obj: Any, *, along: Hashable) -> tuple[Hashable, Any, float, np.ndarray]:
    """The latitude coordinate of ``obj`` that a derivative along longitude ``along`` needs.

    Returns ``(name, coordinate variable, per_radian, values)``, the values checked by
    :func:`latitude_values`. A dimension coordinate is preferred when there are several CF
    latitudes; ambiguity, absence and values beyond the poles are ValueErrors.
    """
    found = [(k, c) for k, c in coordinate_variables(obj).items() if cf_role(c)[0] == "latitude"]
    if len(found) > 1:
        dims = [(k, c) for k, c in found if k in obj.dims]
        found = dims if len(dims) == 1 else found
    if not found:
        guess = _guess_latitude_name(obj)
        named = isinstance(obj, xr.DataArray) and obj.name is not None
        # A Dataset's variables are checked one by one: name the one (e.g. a CF bounds
        # variable such as lon_bnds, which has no latitude) so it can be dropped.
        what = f"DataArray {obj.name!r}" if named else f"this {type(obj).__name__}"
        raise ValueError(
            f"geometry='sphere': the derivative along longitude {along!r} is divided by "
            f"R cos(latitude), but {what} has no latitude coordinate "
            "(recognised by units='degrees_north' or standard_name='latitude'). Mark it, e.g. "
            f"`da[{guess!r}].attrs['units'] = 'degrees_north'`, drop a variable without "
            "latitude, or differentiate per degree: `geometry='cartesian'`"
        )
    if len(found) > 1:
        names = tuple(k for k, _ in found)
        raise ValueError(
            f"geometry='sphere': several coordinates are latitudes {names!r}, so the one to use "
            f"for the derivative along {along!r} is ambiguous; drop the others, e.g. "
            f"`da.drop_vars({list(names[1:])!r})`"
        )
    name, coord = found[0]
    per_radian = cf_role(coord)[1]
    return name, coord, per_radian, latitude_values(name, coord, per_radian)


def _broadcast(coord: Any, dims: Sequence[Hashable], values: np.ndarray) -> np.ndarray:
    """``values`` (laid out as ``coord.dims``) reshaped to broadcast against ``dims``."""
    order = [d for d in dims if d in coord.dims]
    values = np.transpose(values, [coord.dims.index(d) for d in order]) if order else values
    shape = [values.shape[order.index(d)] if d in order else 1 for d in dims]
    return np.reshape(values, shape)


def cos_latitude(
    obj: Any,
    *,
    along: Hashable,
    latitude: Hashable | None = None,
    per_radian: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``cos(phi)`` and ``1/cos(phi)`` (NaN exactly at the poles), float64, broadcast to ``obj``.

    ``latitude`` names the latitude coordinate (the one differentiated along, for the flux
    form of a divergence); by default it is found with :func:`find_latitude`. Its units per
    radian are ``per_radian`` when given (a rotated latitude, which :func:`cf_role` does not
    call a latitude), else its CF units.

    Examples
    --------
    >>> import xarray as xr
    >>> da = xr.DataArray([[1.0], [2.0], [3.0]], dims=("lat", "lon"),
    ...                   coords={"lat": ("lat", [-90.0, 0.0, 60.0], {"units": "degrees_north"})})
    >>> cos, sec = cos_latitude(da, along="lon")
    >>> sec.shape, sec.ravel().round(6).tolist()
    ((3, 1), [nan, 1.0, 2.0])
    """
    if latitude is None:
        name, coord, per_radian, values = find_latitude(obj, along=along)
    else:
        name, coord = latitude, coordinate_variables(obj)[latitude]
        per_radian = cf_role(coord)[1] if per_radian is None else per_radian
        values = latitude_values(name, coord, per_radian)
    return _cos_sec(coord, obj.dims, values, per_radian)


def _cos_sec(
    coord: Any, dims: Sequence[Hashable], values: np.ndarray, per_radian: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cos_latitude` of checked latitude ``values`` (laid out as ``coord.dims``)."""
    cos, sec = cos_secant(values, per_radian)
    return _broadcast(coord, dims, cos), _broadcast(coord, dims, sec)


def cos_secant(values: np.ndarray, per_radian: float) -> tuple[np.ndarray, np.ndarray]:
    """``cos`` and ``1/cos`` of checked latitudes ``values`` (``per_radian`` units per radian),
    the secant NaN exactly at the poles: the one rule for where the poles are. cos(pi/2) is
    6e-17, not 0, in floating point, so the poles are found from the values (+-90 degrees,
    +-pi/2 radians; float32 radians are snapped by :func:`latitude_values`)."""
    pole = np.abs(values) == (90.0 if per_radian != 1.0 else math.pi / 2)
    cos = np.cos(values / per_radian)
    with np.errstate(divide="ignore"):
        return cos, np.where(pole, np.nan, 1.0 / cos)


def metric_factor(obj: Any, spacing: Spacing, figure: Figure, dtype: np.dtype) -> Any:
    """What turns the derivative per coordinate unit along ``spacing`` into one per metre.

    None for a dimension without a sphere ``role``. On a sphere of radius ``R``:
    ``per_radian / R`` (a Python float, so float32 results stay float32) along latitude;
    ``per_radian / (R cos phi)`` broadcast against ``obj.dims`` and cast to the result's
    precision along longitude, NaN at the poles. On an ellipsoid ``R`` is the meridional radius
    of curvature ``M(phi)`` along latitude and the prime-vertical one ``N(phi)`` along longitude
    (:class:`~xgrad.earth.Figure`), both arrays.
    """
    if spacing.role not in ("latitude", "longitude"):
        return None
    real = real_dtype(dtype)
    if spacing.role == "latitude":
        if figure.is_sphere:
            return spacing.per_radian / figure.semi_major_axis
        coord = coordinate_variables(obj)[spacing.name]
        values = latitude_values(spacing.name, coord, spacing.per_radian)
        radius = figure.meridional_radius(values / spacing.per_radian)
        return (spacing.per_radian / _broadcast(coord, obj.dims, radius)).astype(real)
    if figure.is_sphere:
        _, sec = cos_latitude(obj, along=spacing.name)
        factor = (spacing.per_radian / figure.semi_major_axis) * sec
        return factor.astype(real)
    name, coord, per_radian, values = find_latitude(obj, along=spacing.name)
    _, sec = _cos_sec(coord, obj.dims, values, per_radian)
    radius = _broadcast(coord, obj.dims, figure.prime_vertical_radius(values / per_radian))
    return (spacing.per_radian * sec / radius).astype(real)
