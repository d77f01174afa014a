"""Horizontal Earth grids: which one the differentiated dims belong to (:class:`HorizontalGrid`).

Recognition is by metadata, strictly, dim by dim (``docs/guide/grids.md``):

=================  =====================================================================
``"sphere"``       a 1-D CF latitude or longitude coordinate (:func:`xgrad.geometry.cf_role`)
``"rotated_pole"`` a 1-D coordinate with ``standard_name`` ``grid_latitude``/``grid_longitude``
                   (whatever its units say), or, with a ``rotated_latitude_longitude`` grid
                   mapping, a 1-D angle coordinate with ``axis`` ``"Y"``/``"X"`` or CF lat/lon units
``"projected"``    a 1-D coordinate with ``standard_name`` ``projection_x/y_coordinate`` (or
                   ``axis`` ``"X"``/``"Y"``) in length units, with a map-projection grid mapping
``"curvilinear"``  a dim (without any of the above) spanned by a 2-D latitude/longitude pair
                   (:func:`curvilinear_pairs`)
=================  =====================================================================

All horizontal dims of one call must belong to one grid. A projected dim without a grid mapping
falls back to the 2-D latitude/longitude when there is one, else it is Cartesian (and an error
under ``geometry="sphere"``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .coords import Spacing, coordinate_variables
from .crs import (
    GEOGRAPHIC,
    ROTATED,
    GridMapping,
    check_mapping_used,
    earth_figure,
    find_grid_mapping,
    grid_mapping_names,
    missing_mapping_hint,
)
from .curvilinear import curvilinear_pairs, grid_dims_of, several_pairs_error, unit_name
from .earth import Figure
from .geometry import _DEGREES, _RADIANS, PER_DEGREE, cf_role, find_latitude
from .geometry import latitude_values as check_latitude
from .options import Options

__all__ = [
    "HorizontalGrid",
    "curvilinear_pairs",
    "horizontal_dims",
    "plan_grid",
]

Kind = Literal["sphere", "rotated_pole", "projected", "curvilinear"]

#: Length units of projection coordinates, in metres.
LENGTH_UNITS = {"m": 1.0, "metre": 1.0, "metres": 1.0, "meter": 1.0, "meters": 1.0}
LENGTH_UNITS |= {"km": 1000.0, "kilometre": 1000.0, "kilometres": 1000.0}
LENGTH_UNITS |= {"kilometer": 1000.0, "kilometers": 1000.0}
_ANGLE = {**dict.fromkeys(_DEGREES, PER_DEGREE), **dict.fromkeys(_RADIANS, 1.0), None: PER_DEGREE}
LOOKED_FOR = (
    "a CF latitude/longitude (units 'degrees_north'/'degrees_east' or standard_name "
    "'latitude'/'longitude'), a rotated-pole coordinate (standard_name 'grid_latitude'/"
    "'grid_longitude'), a projection coordinate (standard_name 'projection_x_coordinate'/"
    "'projection_y_coordinate' with a grid mapping) or a dim of a 2-D latitude/longitude "
    "(e.g. nav_lat/nav_lon)"
)


@dataclass(frozen=True, kw_only=True)
class HorizontalGrid:
    """The horizontal grid the differentiated dims belong to.

    Attributes
    ----------
    kind : {"sphere", "rotated_pole", "projected", "curvilinear"}
        Recorded in the output's ``xgrad_geometry`` attribute.
    x, y : Hashable or None
        The grid's dims: longitude / ``grid_longitude`` / ``projection_x_coordinate`` / the
        last dim of the 2-D latitude; ``y`` the other. None when the data lacks it.
    latitude, longitude : Hashable or None
        The coordinates giving latitude and longitude: the 1-D ones (rotated ones on a rotated
        grid), or the 2-D ones of a curvilinear grid; None for a projected grid.
    mapping : GridMapping or None
        The grid mapping found (``crs`` option or ``grid_mapping`` attribute).
    figure : Figure
        The figure of the Earth used (``radius`` option, else the grid mapping's, else the
        mean radius), recorded in ``xgrad_radius``.
    """

    kind: Kind
    x: Hashable | None = None
    y: Hashable | None = None
    latitude: Hashable | None = None
    longitude: Hashable | None = None
    mapping: GridMapping | None = None
    figure: Figure

    @property
    def dims(self) -> tuple[Hashable, ...]:
        return tuple(d for d in (self.x, self.y) if d is not None)

    def attrs(self) -> dict[str, Any]:
        """``xgrad_geometry`` and ``xgrad_radius`` for a result on this grid."""
        return {"xgrad_geometry": self.kind, "xgrad_radius": self.figure.label}


@dataclass(frozen=True)
class _Dim:
    """What one differentiated dim is: its grid kind, role and units per radian/metre."""

    kind: Kind | None
    role: str | None = None  # "latitude"/"longitude" (sphere, rotated), "x"/"y"
    per_unit: float = 1.0  # coordinate units per radian (angles) or metres per unit (lengths)


def _rotated_axis(coord: Any, mapping: GridMapping | None) -> str | None:
    """``"latitude"``/``"longitude"`` for a rotated-pole grid's coordinate: ``standard_name``
    ``grid_latitude``/``grid_longitude``, or, with a rotated grid mapping, an angle coordinate
    with ``axis`` Y/X or (a mapping the data names) CF latitude/longitude units; None for
    anything else."""
    standard = coord.attrs.get("standard_name")
    if standard in ("grid_latitude", "grid_longitude"):
        return "latitude" if standard == "grid_latitude" else "longitude"
    if mapping is None or mapping.name != ROTATED:
        return None
    axis = str(coord.attrs.get("axis", "")).upper()
    if axis in ("X", "Y") and unit_name(coord) in _ANGLE:
        return "longitude" if axis == "X" else "latitude"
    # CF latitude/longitude units are rotated only where the data names the mapping: a
    # rotated-pole coordinate xarray attaches to a regular grid's variable made its true
    # latitude/longitude rotated (a review: relative error 2)
    return cf_role(coord)[0] if mapping.named else None


def _angle_per_radian(name: Hashable, coord: Any, what: str) -> float:
    units = unit_name(coord)
    if units in _ANGLE:
        return _ANGLE[units]
    role = cf_role(coord)
    if role[0] is not None:
        return role[1]
    raise ValueError(
        f"coordinate {name!r} is a {what} but its units {units!r} are not an angle; "
        f"give it angle units, e.g. `da[{name!r}].attrs['units'] = 'degrees'`"
    )


def _classify(
    obj: Any, s: Spacing, mapping: GridMapping | None, pairs: list, projection: bool = True
) -> _Dim:
    variables = coordinate_variables(obj)
    coord = variables[s.name] if s.kind == "numeric" else None
    kind_of_mapping = None if mapping is None else mapping.name
    if coord is not None:
        rotated = _rotated_axis(coord, mapping)
        if rotated is not None:
            return _Dim(
                "rotated_pole", rotated, _angle_per_radian(s.name, coord, f"grid_{rotated}")
            )
        role, per_radian = cf_role(coord)
        if role is not None:
            return _Dim("sphere", role, per_radian)
        standard = coord.attrs.get("standard_name")
        axis = str(coord.attrs.get("axis", "")).upper()
        projected = standard in ("projection_x_coordinate", "projection_y_coordinate")
        if not projected and axis in ("X", "Y"):
            projected = kind_of_mapping not in (None, GEOGRAPHIC, ROTATED)
        if projected and projection:
            units = unit_name(coord)
            if units not in LENGTH_UNITS:
                if units in _RADIANS:
                    # relabelling an angle as metres would be silently wrong by the factor
                    # the projection puts between them (a geostationary scan angle: its height)
                    raise ValueError(
                        f"projection coordinate {s.name!r} is an angle ({units!r}, e.g. a "
                        "geostationary scan angle); the grid mapping needs metres: convert the "
                        "values, e.g. `da.assign_coords("
                        f"{s.name}=da[{s.name!r}] * crs.attrs['perspective_point_height'])` "
                        "with units 'm' (relabelling the units alone gives wrong numbers)"
                    )
                raise ValueError(
                    f"projection coordinate {s.name!r} has units {units!r}; the grid mapping "
                    f"needs a length: one of {sorted(set(LENGTH_UNITS))}, e.g. "
                    f"`da[{s.name!r}].attrs['units'] = 'm'`"
                )
            is_x = standard == "projection_x_coordinate" or (standard is None and axis == "X")
            return _Dim("projected", "x" if is_x else "y", LENGTH_UNITS[units])
    for lat, _ in pairs:
        if s.dim in grid_dims_of(variables[lat]):
            return _Dim("curvilinear", "grid")
    return _Dim(None)


def _sphere_spacing(obj: Any, s: Spacing, d: _Dim) -> Spacing:
    """A regular latitude/longitude dim, validated (as before 2.0: :mod:`xgrad.geometry`)."""
    if d.role == "latitude":
        check_latitude(s.name, coordinate_variables(obj)[s.name], d.per_unit)
    else:
        name, coord, per_radian, values = find_latitude(obj, along=s.name)
        if s.dim in coord.dims and coord.sizes[s.dim] > 1:
            axis = coord.get_axis_num(s.dim)
            if not (values == np.take(values, [0], axis=axis)).all():
                raise ValueError(
                    f"the latitude {name!r} varies along longitude dim {s.dim!r}, so this is "
                    "not a regular latitude/longitude grid and 1/(R cos(latitude)) is not the "
                    f"metric along {s.name!r}. On a rotated-pole grid mark the rotated "
                    f"coordinates: `da[{s.name!r}].attrs['standard_name'] = 'grid_longitude'` "
                    "(and 'grid_latitude'); on a curvilinear grid drop the 1-D labels so that "
                    f"the 2-D latitude/longitude give the metric: `da.drop_vars({s.name!r})`"
                )
    return dataclasses.replace(s, role=d.role, per_radian=d.per_unit, units="m")


def _rotated_latitude(obj: Any, along: Hashable, mapping: GridMapping | None) -> Hashable:
    found = [
        k
        for k, c in coordinate_variables(obj).items()
        if c.ndim == 1 and k in obj.dims and _rotated_axis(c, mapping) == "latitude"
    ]
    if len(found) != 1:
        what = "no" if not found else f"several ({tuple(found)!r})"
        raise ValueError(
            f"the derivative along rotated longitude {along!r} is divided by R cos(rotated "
            f"latitude), but there is {what} 1-D coordinate with standard_name "
            "'grid_latitude' (or, with the rotated grid mapping, axis 'Y' and angle units); "
            "mark the rotated latitude, e.g. "
            "`da['rlat'].attrs['standard_name'] = 'grid_latitude'`"
        )
    return found[0]


def plan_grid(
    obj: Any, spacings: list[Spacing], options: Options, *, geometry: str | None = None
) -> tuple[list[Spacing], str, HorizontalGrid | None]:
    """Resolve ``geometry`` and recognise the horizontal grid of the differentiated dims.

    Returns the spacings (horizontal ones with their ``role`` and units ``"m"``), the geometry
    (``"cartesian"`` or ``"sphere"``) and the grid (None in Cartesian geometry). Every
    recognition error is raised here; small coordinates (1-D ones, 2-D latitudes) are read.
    """
    geometry = options.geometry if geometry is None else geometry
    dims = [s.dim for s in spacings]
    if geometry == "cartesian":
        if options.crs is not None:
            check_mapping_used(find_grid_mapping(obj, options.crs, dims), None, dims)
        return spacings, geometry, None
    mapping = find_grid_mapping(obj, options.crs, dims)
    pairs = curvilinear_pairs(obj)
    found = [_classify(obj, s, mapping, pairs) for s in spacings]
    kinds = {d.kind for d in found} - {None}
    if not kinds:
        _not_horizontal(obj, spacings, geometry, mapping)
        return spacings, "cartesian", None
    if len(kinds) > 1:
        listing = ", ".join(f"{s.dim!r}: {d.kind}" for s, d in zip(spacings, found) if d.kind)
        raise ValueError(
            f"the dims belong to different horizontal grids ({listing}); differentiate along "
            "the dims of one grid per call"
        )
    (kind,) = kinds
    if kind == "projected" and not _known_projection(mapping):
        # no map projection: the 2-D latitude/longitude give the metric, if there are some
        found = [_by_latitude(obj, s, pairs) if d.kind else d for s, d in zip(spacings, found)]
        if not any(d.kind == "curvilinear" for d in found):
            # Cartesian (per projected metre) only where nothing says the data has a map
            # projection: a grid_mapping attribute naming a variable that is not there, or
            # variables naming different ones, would be silently off by the map factor
            if geometry == "sphere" or (mapping is None and grid_mapping_names(obj, dims)):
                raise _no_projection(obj, dims, cartesian=geometry != "sphere")
            check_mapping_used(mapping, None, dims)
            return spacings, "cartesian", None
        kind = "curvilinear"
    if geometry == "sphere":
        for s, d in zip(spacings, found, strict=True):
            if d.kind is None:
                _check_angle_units(obj, s)
    check_mapping_used(mapping, kind, dims)
    figure = earth_figure(options.radius, mapping)
    if kind == "rotated_pole" and not figure.is_sphere:
        raise ValueError(
            f"a rotated-pole grid lies on a sphere, but the figure of the Earth is the ellipsoid "
            f"{figure.label!r}; give a radius in metres, e.g. `radius=6371229.0`"
        )
    out, roles = [], {}
    for s, d in zip(spacings, found, strict=True):
        if d.kind is None:
            out.append(s)
            continue
        if kind == "sphere":
            out.append(_sphere_spacing(obj, s, d))
        elif kind == "rotated_pole":
            if d.role == "latitude":
                check_latitude(s.name, coordinate_variables(obj)[s.name], d.per_unit)
            else:
                _rotated_latitude(obj, s.name, mapping)
            out.append(dataclasses.replace(s, role=d.role, per_radian=d.per_unit, units="m"))
        else:
            out.append(dataclasses.replace(s, role="grid", per_radian=d.per_unit, units="m"))
        roles[s.dim] = d.role
    grid = _grid(obj, kind, roles, pairs, mapping, figure, dims)
    return out, "sphere", grid


def _known_projection(mapping: GridMapping | None) -> bool:
    """Whether ``mapping`` gives projection dims their map projection (not absent, not a
    geographic or rotated-pole mapping, which only give the figure or the rotated sphere)."""
    return mapping is not None and mapping.name not in (GEOGRAPHIC, ROTATED)


def _by_latitude(obj: Any, s: Spacing, pairs: list) -> _Dim:
    """A projection dim classified without its projection: curvilinear where 2-D
    latitude/longitude span it, else no grid."""
    return _classify(obj, s, None, pairs, False)


def _no_projection(obj: Any, dims: Sequence, *, cartesian: bool) -> ValueError:
    """Projection coordinates whose map projection is not found: the error and its fixes."""
    also = (
        "; or differentiate per projected unit (the x/y coordinates' units), without map "
        "factors: `geometry='cartesian'`"
        if cartesian
        else ""
    )
    return ValueError(
        f"the dims {tuple(dims)!r} are projection coordinates, but no grid mapping gives the map "
        f"projection: {missing_mapping_hint(obj, dims)}{also}"
    )


def _check_angle_units(obj: Any, s: Spacing) -> None:
    variables = coordinate_variables(obj)
    standard = variables[s.name].attrs.get("standard_name") if s.kind != "index" else None
    if standard in ("latitude", "longitude"):
        raise ValueError(
            f"geometry='sphere': coordinate {s.name!r} has standard_name {standard!r} "
            f"but units {s.units!r}, which are not an angle; give it angle units, e.g. "
            f"`da[{s.name!r}].attrs['units'] = 'degrees_{'north' if standard == 'latitude' else 'east'}'`"
        )


def _not_horizontal(obj: Any, spacings: list[Spacing], geometry: str, mapping: Any) -> None:
    dims = tuple(s.dim for s in spacings)
    if geometry == "sphere":
        for s in spacings:
            _check_angle_units(obj, s)
        raise ValueError(
            f"geometry='sphere': none of the dims {dims!r} is recognised as horizontal; xgrad "
            f"looked for {LOOKED_FOR}. Mark the coordinates (see docs/guide/grids.md), or "
            "differentiate per coordinate unit: `geometry='cartesian'`"
        )
    check_mapping_used(mapping, None, dims)


def _grid(obj, kind, roles, pairs, mapping, figure, dims) -> HorizontalGrid:
    x = next((d for d, r in roles.items() if r in ("longitude", "x")), None)
    y = next((d for d, r in roles.items() if r in ("latitude", "y")), None)
    lat = lon = None
    variables = coordinate_variables(obj)
    if kind == "curvilinear":
        spanning = [p for p in pairs if set(roles) <= set(variables[p[0]].dims)]
        if len(spanning) > 1:
            raise several_pairs_error(tuple(roles), spanning)
        if not spanning:  # dims of two grids (a C grid's xi_u and eta_v): an unpacking error was
            grids = tuple(dict.fromkeys(tuple(grid_dims_of(variables[la])) for la, _ in pairs))
            raise ValueError(
                f"the dims {tuple(roles)!r} are not the two dims of one curvilinear grid (no 2-D "
                f"latitude/longitude spans both); the grids' dims are {grids!r}: differentiate "
                "along the two dims of one of them"
            )
        ((lat, lon),) = spanning
        y, x = grid_dims_of(variables[lat])
    elif kind == "sphere":
        lat = y
        lon = x
        if lat is None:
            lat = next((k for k, c in variables.items() if cf_role(c)[0] == "latitude"), None)
    elif kind == "rotated_pole":
        x = x or _other_dim(obj, "longitude", mapping)
        y = y or _other_dim(obj, "latitude", mapping)
        lat, lon = y, x
    else:
        x = x or _projection_dim(obj, "projection_x_coordinate", dims)
        y = y or _projection_dim(obj, "projection_y_coordinate", dims)
    return HorizontalGrid(
        kind=kind, x=x, y=y, latitude=lat, longitude=lon, mapping=mapping, figure=figure
    )


def _other_dim(obj: Any, axis: str, mapping: GridMapping | None) -> Hashable | None:
    return next(
        (
            k
            for k, c in coordinate_variables(obj).items()
            if k in obj.dims and _rotated_axis(c, mapping) == axis
        ),
        None,
    )


def _projection_dim(obj: Any, standard: str, dims: Sequence) -> Hashable | None:
    return next(
        (
            k
            for k, c in coordinate_variables(obj).items()
            if k in obj.dims and c.attrs.get("standard_name") == standard
        ),
        None,
    )


def horizontal_dims(obj: Any, options: Options, *, missing_ok: bool = False) -> Any:
    """The (x, y) dims of the Earth grid of ``obj``, for ``.grad.horizontal``.

    Every dim of ``obj`` is classified as for ``along``; exactly one grid with both its dims
    must be found, else a ValueError saying what was looked for. ``missing_ok``: None where
    no grid has two dims at all (a Dataset's variable off the grid, a zonal mean), the errors
    only for a grid that cannot be used (ambiguous, an unknown projection).
    """
    if options.geometry == "cartesian":
        raise ValueError(
            "horizontal derivatives are eastward and northward, per metre on the Earth; they "
            "need geometry='auto' or 'sphere', not 'cartesian'. For derivatives along grid "
            "dims per coordinate unit use `.grad.along(...)`"
        )
    candidates = []
    variables = coordinate_variables(obj)
    for dim in obj.dims:
        name = dim if dim in variables and variables[dim].ndim == 1 else None
        kind = "numeric" if name is not None and variables[dim].dtype.kind in "iuf" else "index"
        s = Spacing(dim, dim, int(obj.sizes[dim]), 1.0, None, kind)  # type: ignore[arg-type]
        candidates.append(s)
    mapping = find_grid_mapping(obj, options.crs, ())
    pairs = curvilinear_pairs(obj)
    found = {s.dim: _classify(obj, s, mapping, pairs) for s in candidates}
    by_role = {}
    for dim, d in found.items():
        if d.kind is not None:
            by_role.setdefault(d.kind, {})[dim] = d.role
    grids = {k: v for k, v in by_role.items() if len(v) >= 2}
    if not grids and missing_ok:
        return None
    if len(grids) == 1:
        ((kind, roles),) = grids.items()
        if kind == "curvilinear":
            lat = next(lat for lat, _ in pairs if set(roles) & set(variables[lat].dims))
            y, x = grid_dims_of(variables[lat])
            return x, y
        x = next((d for d, r in roles.items() if r in ("longitude", "x")), None)
        y = next((d for d, r in roles.items() if r in ("latitude", "y")), None)
        if x is not None and y is not None and len(roles) == 2:
            if kind == "projected" and not _known_projection(mapping):
                # east and north need the projection (or the 2-D latitude/longitude), as
                # plan_grid: never the projection's x and y taken for east and north
                spacings = [s for s in candidates if s.dim in (x, y)]
                if not any(_by_latitude(obj, s, pairs).kind for s in spacings):
                    raise _no_projection(obj, (y, x), cartesian=False)
            return x, y
    named = {k: tuple(v) for k, v in by_role.items()}
    raise ValueError(
        f"horizontal derivatives need the two dims of one Earth grid, but among the dims "
        f"{tuple(obj.dims)!r} xgrad found {named or 'none'}; it looked for {LOOKED_FOR}. Mark "
        "the coordinates (see docs/guide/grids.md)"
    )
