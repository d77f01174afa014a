"""Curvilinear grids: recognising the 2-D latitude/longitude coordinates that span them.

A coordinate with two or more dims is a latitude (longitude) when :func:`xgrad.geometry.cf_role`
says so (units ``degrees_north``..., or ``standard_name`` ``latitude`` with angle units), or when
its name is a model's usual one (:data:`LATITUDE_NAMES`: NEMO's ``nav_lat``, ROMS's ``lat_rho``,
WRF's ``XLAT``, ...) and its units are only ``"degrees"`` or absent. Its grid dims are its last
two (CF puts the horizontal dims last). Nothing is computed here: names and attributes only.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from .coords import coordinate_units, coordinate_variables
from .geometry import _DEGREES, cf_role

__all__ = [
    "LATITUDE_NAMES",
    "LONGITUDE_NAMES",
    "check_names",
    "curvilinear_pairs",
    "grid_dims_of",
    "unit_name",
]

#: Names (lower case) of 2-D latitude / longitude coordinates in model output, recognised when
#: their units are only "degrees" (or absent): NEMO, ROMS, WRF, CESM/POP, MOM, CICE.
LATITUDE_NAMES = frozenset(
    "nav_lat lat latitude lat_rho lat_u lat_v lat_psi xlat xlat_u xlat_v gphit gphiu gphiv "
    "gphif tlat ulat geolat geolat_t geolat_c".split()
)
LONGITUDE_NAMES = frozenset(
    "nav_lon lon longitude lon_rho lon_u lon_v lon_psi xlong xlong_u xlong_v glamt glamu glamv "
    "glamf tlong ulong tlon ulon geolon geolon_t geolon_c".split()
)


def unit_name(coord: Any) -> str | None:
    """A coordinate's units, lower case: pint's where pint-xarray quantified it, else the
    ``units`` attribute (:func:`xgrad.coords.coordinate_units`), else None."""
    units = coordinate_units(coord)
    return None if units is None else units.strip().lower()


def _named_angle(name: Hashable, coord: Any, names: frozenset) -> bool:
    return str(name).lower() in names and unit_name(coord) in (None, *_DEGREES)


def grid_dims_of(coord: Any) -> tuple[Hashable, Hashable]:
    """A 2-D (or more) latitude's grid dims: its last two (CF puts the horizontal dims last)."""
    return tuple(coord.dims[-2:])  # type: ignore[return-value]


def curvilinear_pairs(obj: Any) -> list[tuple[Hashable, Hashable]]:
    """``(latitude, longitude)`` coordinate names of ``obj`` with 2 or more dims, paired by
    their grid dims (the last two).

    A coordinate is a latitude (longitude) if :func:`~xgrad.geometry.cf_role` says so, or if its
    name is a model's usual one (:data:`LATITUDE_NAMES`, e.g. ``nav_lat``, ``lat_rho``,
    ``XLAT``) and its units are only ``"degrees"`` or absent. Nothing is computed.
    """
    lats, lons = {}, {}
    for name, coord in coordinate_variables(obj).items():
        if coord.ndim < 2:
            continue
        role = cf_role(coord)[0]
        if role == "latitude" or (role is None and _named_angle(name, coord, LATITUDE_NAMES)):
            lats.setdefault(frozenset(grid_dims_of(coord)), []).append(name)
        elif role == "longitude" or (role is None and _named_angle(name, coord, LONGITUDE_NAMES)):
            lons.setdefault(frozenset(grid_dims_of(coord)), []).append(name)
    pairs = []
    for dims, names in lats.items():
        for lat in names:
            for lon in lons.get(dims, []):
                pairs.append((lat, lon))
    return pairs


#: Name parts that say latitude / longitude in model coordinate names (``gphiu``/``glamu``,
#: ``XLAT_U``/``XLONG_U``, ``lat_rho``/``lon_rho``), longest first.
_LATITUDE_PARTS = ("lat", "phi")
_LONGITUDE_PARTS = ("long", "lon", "lam")


def _position_key(name: Hashable, parts: tuple[str, ...]) -> str | None:
    """``name`` without its first latitude/longitude part (case-insensitive): ``gphiu`` and
    ``glamu`` both give ``gu``, ``nav_lat`` and ``nav_lon`` ``nav_``; None without one."""
    text = str(name).lower()
    for part in parts:
        at = text.find(part)
        if at >= 0:
            return text[:at] + text[at + len(part) :]
    return None


def several_pairs_error(dims: Sequence[Hashable], pairs: Sequence[tuple]) -> ValueError:
    """The ValueError for several 2-D latitude/longitude pairs on one grid's dims (NEMO's
    ``nav_lat``/``gphiu``/``gphiv``, a C grid's points on shared dims): which pair is the
    variable's own points is not for xgrad to guess. The advice keeps one latitude and the
    longitude named like it and drops the rest (an audit: it dropped every one of them, and
    the derivative that followed was per index)."""
    lats = tuple(dict.fromkeys(la for la, _ in pairs))
    lons = tuple(dict.fromkeys(lo for _, lo in pairs))
    named = []  # (latitude, longitude) pairs by name: gphiu with glamu
    for lat in lats:
        key = _position_key(lat, _LATITUDE_PARTS)
        same = [lo for lo in lons if key is not None and _position_key(lo, _LONGITUDE_PARTS) == key]
        if len(same) == 1:
            named.append((lat, same[0]))
    keeps = named or [(lats[0], lons[0])]
    ways = "; ".join(
        f"{keep!r}: `da.drop_vars({[n for n in (*lats, *lons) if n not in keep]!r})`"
        for keep in keeps
    )
    return ValueError(
        f"several 2-D latitude/longitude pairs span the dims {tuple(dims)!r}: latitudes "
        f"{lats!r}, longitudes {lons!r}; which are this variable's points is not for xgrad to "
        "guess. Keep the latitude and longitude of its own points and drop the others, e.g. "
        f"to keep {ways}. Variables of a Dataset on different ones of these points are "
        "differentiated one at a time, each with its own pair: `ds['name'].drop_vars([...])`"
    )


def check_names(obj: Any, names: Sequence[Hashable]) -> None:
    """A 2-D latitude/longitude given to ``along`` is an error that names the grid dims and
    ``.grad.horizontal()`` (a derivative along ``nav_lat`` is not a thing)."""
    variables = coordinate_variables(obj)
    for name in names:
        if not isinstance(name, Hashable) or name in obj.dims or name not in variables:
            continue
        coord = variables[name]
        if coord.ndim < 2:
            continue
        for lat, lon in curvilinear_pairs(obj):
            if name in (lat, lon):
                dims = grid_dims_of(variables[lat])
                call = ", ".join(repr(d) for d in dims)
                raise ValueError(
                    f"coordinate {name!r} is the {coord.ndim}-D "
                    f"{'latitude' if name == lat else 'longitude'} of a curvilinear grid with "
                    f"dims {dims!r}; a derivative is taken along the grid dims: per metre along "
                    f"each grid line with `.grad.along({call})`, or eastward and northward "
                    "with `.grad.horizontal()`"
                )
