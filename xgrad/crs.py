"""Grid mappings: finding a CF grid mapping, rotated poles, and map projections (pyproj).

A grid mapping comes from the ``crs`` option (a :class:`pyproj.CRS`, a dict of CF grid-mapping
attributes, or a grid-mapping DataArray) or, with ``crs=None``, through the data's
``grid_mapping`` attribute (in ``attrs``, or in ``encoding`` once ``decode_coords="all"`` has
made the grid-mapping variable a coordinate). It is used for:

- the figure of the Earth (``earth_radius``, ``semi_major_axis`` ...) when ``radius=None``;
- a rotated pole (``rotated_latitude_longitude``): :class:`RotatedPole`, in numpy (the rotation
  agrees with PROJ's ``ob_tran`` to 1e-13 degrees, ``tests/test_grids.py``);
- a map projection: :func:`projection_jacobian`, from :func:`pyproj.Proj.get_factors`. pyproj is
  an optional dependency (``pip install "xgrad[geo]"``), imported only here and only then.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from .coords import coordinate_variables
from .earth import Figure

__all__ = [
    "GridMapping",
    "RotatedPole",
    "find_grid_mapping",
    "import_pyproj",
    "projection_jacobian",
]

ROTATED = "rotated_latitude_longitude"
GEOGRAPHIC = "latitude_longitude"
#: CF attributes that state the figure of the Earth (replaced when ``radius`` is given).
FIGURE_KEYS = frozenset(
    {
        "earth_radius",
        "semi_major_axis",
        "semi_minor_axis",
        "inverse_flattening",
        "reference_ellipsoid_name",
        "horizontal_datum_name",
        "geographic_crs_name",
        "projected_crs_name",
        "crs_wkt",
        "spatial_ref",
    }
)


def import_pyproj() -> Any:
    """pyproj, or an ImportError that says how to install it."""
    try:
        import pyproj
    except ImportError as err:
        raise ImportError(
            "derivatives on a projected grid need pyproj for the map scale factors; install "
            'it with `pip install "xgrad[geo]"` (or `pip install pyproj`)'
        ) from err
    return pyproj


@dataclass(frozen=True, kw_only=True)
class GridMapping:
    """A CF grid mapping and where it came from.

    Attributes
    ----------
    attrs : dict
        The CF grid-mapping attributes (from a pyproj CRS: its ``to_cf()``).
    crs : pyproj.CRS or None
        The CRS when one was given.
    source : str
        Where it came from, for messages: ``"crs="`` or ``"grid mapping variable 'crs'"``.
    explicit : bool
        Given through the ``crs`` option (then it must be used, never ignored).
    named : bool
        Named by the data (its ``grid_mapping`` attribute) or given; False for the only
        grid-mapping coordinate there is, which xarray attaches to every variable of a
        Dataset, those of other grids too.
    """

    attrs: dict
    crs: Any = None
    source: str = "crs="
    explicit: bool = False
    named: bool = True

    @property
    def name(self) -> str:
        """``grid_mapping_name``: ``latitude_longitude``, ``rotated_latitude_longitude``, a
        projection's name, or ``"projected"`` for a CRS that has no CF name."""
        name = self.attrs.get("grid_mapping_name")
        if name is not None:
            return str(name)
        crs = self.pyproj_crs()
        if crs.is_geographic and not crs.is_derived:
            return GEOGRAPHIC
        if crs.is_geographic:
            return ROTATED
        return "projected"

    @property
    def figure(self) -> Figure | None:
        """The figure of the Earth it states, if any."""
        return Figure.from_cf(self.attrs)

    def pyproj_crs(self, figure: Figure | None = None) -> Any:
        """The pyproj CRS; with ``figure``, rebuilt from the CF attributes on that figure."""
        pyproj = import_pyproj()
        if figure is None and self.crs is not None:
            return self.crs
        # CF's default prime meridian, given: without it pyproj looks "Greenwich" up in its
        # database, which takes a second per CRS (pyproj 3.7, crs/_cf1x8.py)
        attrs = {"longitude_of_prime_meridian": 0.0} | dict(self.attrs)
        if figure is not None:
            attrs = {k: v for k, v in attrs.items() if k not in FIGURE_KEYS} | figure.cf_attrs()
        try:
            return pyproj.CRS.from_cf(attrs)
        except Exception as err:  # pyproj's errors vary (CRSError, KeyError): all mean "unusable"
            raise ValueError(
                f"the grid mapping ({self.source}) cannot be read as a CRS by pyproj: {err}. "
                "Give it as a pyproj CRS instead: `crs=pyproj.CRS(...)`"
            ) from err


def _attribute_name(value: Any) -> Hashable | None:
    """The variable a ``grid_mapping`` attribute names (CF 1.7's ``"crs: x y"`` form too)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.split(":")[0].split()[0]


def _is_dataset(obj: Any) -> bool:
    """Whether ``obj`` is an xarray Dataset.  Not ``hasattr(obj, "data_vars")``: on a
    DataArray a missing attribute is looked for among its attrs and coordinates first
    (xarray's ``__getattr__``), ~30 us a call."""
    return isinstance(obj, xr.Dataset)


def grid_mapping_names(obj: Any, dims: Any) -> list[Hashable]:
    """The grid-mapping variables named by ``obj`` (or its data variables having ``dims``)."""
    # a Dataset's variables as Variables (dims, attrs, encoding): ``ds.data_vars.values()``
    # builds a DataArray for each
    dataset = _is_dataset(obj)
    arrays = [obj.variables[k] for k in obj.data_vars] if dataset else [obj]
    names: list[Hashable] = []
    for a in arrays:
        if not set(dims) <= set(a.dims):
            continue
        name = _attribute_name(a.attrs.get("grid_mapping", a.encoding.get("grid_mapping")))
        if name is not None and name not in names:
            names.append(name)
    return names


def _from_option(crs: Any) -> GridMapping:
    if isinstance(crs, Mapping):
        return GridMapping(attrs=dict(crs), source="crs=", explicit=True)
    if hasattr(crs, "attrs") and hasattr(crs, "dims"):  # a grid-mapping DataArray
        name = getattr(crs, "name", None)
        return GridMapping(attrs=dict(crs.attrs), source=f"crs={name!r}", explicit=True)
    if type(crs).__module__.startswith("pyproj"):
        return GridMapping(attrs=dict(crs.to_cf()), crs=crs, source="crs=", explicit=True)
    raise TypeError(
        f"crs={crs!r} must be a pyproj CRS, a dict of CF grid-mapping attributes or a "
        "grid-mapping variable, e.g. `crs=ds['crs']`, or None (read the data's grid_mapping "
        "attribute)"
    )


def find_grid_mapping(obj: Any, crs: Any, dims: Any) -> GridMapping | None:
    """The grid mapping from the ``crs`` option, else the one the data's ``grid_mapping``
    attribute names (a coordinate of a DataArray, a variable of a Dataset), else the only
    coordinate with a ``grid_mapping_name`` attribute, else None.

    A name that is not there, or Dataset variables naming different mappings, give None here;
    :mod:`xgrad.grids` raises when the grid needs the mapping (:func:`missing_mapping_hint`).
    """
    if crs is not None:
        mapping = _from_option(crs)
        if "grid_mapping_name" not in mapping.attrs and mapping.crs is None:
            if not {"crs_wkt", "spatial_ref"} & set(mapping.attrs):
                raise ValueError(
                    f"crs has no 'grid_mapping_name' (nor 'crs_wkt'): {mapping.attrs!r}; give "
                    "the CF grid mapping's attributes, e.g. `crs={'grid_mapping_name': "
                    "'polar_stereographic', ...}`, or a pyproj CRS"
                )
        return mapping
    names = grid_mapping_names(obj, dims)
    variables = obj.variables if _is_dataset(obj) else coordinate_variables(obj)
    named = bool(names)
    if not names:
        # xarray drops ``encoding`` (where decode_coords="all" puts the attribute) in most
        # operations (astype, arithmetic); the grid-mapping coordinate itself stays: use it
        # when it is the only coordinate with a grid_mapping_name.
        names = [k for k, c in coordinate_variables(obj).items() if "grid_mapping_name" in c.attrs]
    found = [n for n in names if n in variables]
    if len(found) != 1 or len(names) != 1:
        return None
    (name,) = found
    return GridMapping(
        attrs=dict(variables[name].attrs), source=f"grid mapping variable {name!r}", named=named
    )


def missing_mapping_hint(obj: Any, dims: Any) -> str:
    """Why no grid mapping was found, and the fix."""
    names = grid_mapping_names(obj, dims)
    if len(names) > 1:
        return (
            f"the data variables name different grid mappings {tuple(names)!r}; differentiate "
            f"one variable at a time or pass one: `crs=ds[{names[0]!r}]`"
        )
    if names:
        return (
            f"the data's grid_mapping attribute names {names[0]!r}, which is not a coordinate "
            f"here; if the file has it, open the file with `xr.open_dataset(path, "
            f"decode_coords='all')` (the command line does) or pass it: `crs=ds[{names[0]!r}]`; "
            "if not, pass the projection: `crs=` a dict of its CF attributes or a pyproj CRS"
        )
    return (
        "the data has no grid_mapping attribute; pass the grid mapping: `crs=ds['crs']` (a "
        "grid-mapping variable), a dict of its CF attributes or a pyproj CRS"
    )


def _degrees(attrs: Mapping[str, Any], key: str, default: float | None = None) -> float:
    value = attrs.get(key, default)
    if value is None:
        raise ValueError(
            f"the rotated-pole grid mapping has no {key!r}; CF needs 'grid_north_pole_latitude' "
            "and 'grid_north_pole_longitude' (and optionally 'north_pole_grid_longitude')"
        )
    value = float(np.asarray(value).ravel()[0])
    if not math.isfinite(value):
        raise ValueError(f"the rotated-pole grid mapping's {key!r} is {value!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class RotatedPole:
    """A CF ``rotated_latitude_longitude`` grid: where its north pole is, in true coordinates.

    ``pole_latitude``/``pole_longitude`` are ``grid_north_pole_latitude``/``_longitude``;
    ``north_pole_grid_longitude`` is the rotated longitude of the true north pole.
    """

    pole_latitude: float
    pole_longitude: float
    north_pole_grid_longitude: float = 0.0

    @classmethod
    def from_cf(cls, attrs: Mapping[str, Any]) -> RotatedPole:
        return cls(
            pole_latitude=_degrees(attrs, "grid_north_pole_latitude"),
            pole_longitude=_degrees(attrs, "grid_north_pole_longitude"),
            north_pole_grid_longitude=_degrees(attrs, "north_pole_grid_longitude", 0.0),
        )

    def axes(self) -> np.ndarray:
        """The rotated frame's axes as rows, in true Earth-centred coordinates: ``x'`` points
        to rotated (0, ``north_pole_grid_longitude``), ``z'`` to the rotated north pole."""
        p, lp = math.radians(self.pole_latitude), math.radians(self.pole_longitude)
        z = np.array([math.cos(p) * math.cos(lp), math.cos(p) * math.sin(lp), math.sin(p)])
        x = np.array([-math.sin(p) * math.cos(lp), -math.sin(p) * math.sin(lp), math.cos(p)])
        return np.stack([x, np.cross(z, x), z])

    def frame(self, rlat: np.ndarray, rlon: np.ndarray) -> tuple[np.ndarray, ...]:
        """Unit position, rotated east and rotated north vectors ``(3,) + shape`` at rotated
        ``rlat``/``rlon`` (radians), in true Earth-centred coordinates."""
        lam = rlon - math.radians(self.north_pole_grid_longitude)
        x, y, z = (a.reshape((3,) + (1,) * np.ndim(rlat)) for a in self.axes())
        cos_p, sin_p, cos_l, sin_l = np.cos(rlat), np.sin(rlat), np.cos(lam), np.sin(lam)
        position = cos_p * cos_l * x + cos_p * sin_l * y + sin_p * z
        east = -sin_l * x + cos_l * y
        north = -sin_p * cos_l * x - sin_p * sin_l * y + cos_p * z
        return position, east, north


def projection_jacobian(
    mapping: GridMapping, figure: Figure | None, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True latitude/longitude (degrees) and ``A = d(x, y)/d(east, north)`` at projected points.

    ``x``, ``y`` are arrays of one shape in metres; ``A`` has shape ``(2, 2) + x.shape``
    (``A[0, 1]`` is ``dx/dnorth``), dimensionless. From pyproj's partial derivatives
    (``Proj.get_factors``: ``dx_dlam`` ... on the unit ellipsoid) and the radii of curvature:
    ``dx/deast = a dx_dlam / (N cos phi)``, ``dx/dnorth = a dx_dphi / M``. This is right for
    any projection, conformal or not; for a conformal one ``A`` is the scale factor ``k`` times
    a rotation by the meridian convergence.
    """
    pyproj = import_pyproj()
    crs = mapping.pyproj_crs(figure)
    if not crs.is_projected:
        raise ValueError(
            f"the grid mapping ({mapping.source}) is not a map projection ({crs.name!r}); "
            "projection_x/y_coordinate dims need one"
        )
    geodetic = crs.geodetic_crs
    to_lonlat = pyproj.Transformer.from_crs(crs, geodetic, always_xy=True)
    lon, lat = to_lonlat.transform(np.asarray(x, float), np.asarray(y, float))
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        i = np.unravel_index(int(np.flatnonzero(bad)[0]), bad.shape)
        raise ValueError(
            f"the projected point (x={float(x[i])!r}, y={float(y[i])!r}) m lies outside the "
            f"domain of the grid mapping ({mapping.source}, {crs.name!r}); check the "
            "coordinates' units and the grid mapping"
        )
    ellipsoid = crs.ellipsoid
    earth = Figure.ellipsoid(ellipsoid.semi_major_metre, ellipsoid.inverse_flattening)
    factors = pyproj.Proj(crs).get_factors(lon, lat, errcheck=True)
    phi = np.radians(lat)
    m = earth.meridional_radius(phi) / earth.semi_major_axis
    n_cos = earth.prime_vertical_radius(phi) * np.cos(phi) / earth.semi_major_axis
    with np.errstate(divide="ignore", invalid="ignore"):
        return lat, lon, _jacobian(factors, phi, m, n_cos)


def _jacobian(factors: Any, phi: np.ndarray, m: np.ndarray, n_cos: np.ndarray) -> np.ndarray:
    """:func:`projection_jacobian`'s ``A`` from pyproj's factors and the radii of curvature."""
    dx_deast, dy_deast = factors.dx_dlam / n_cos, factors.dy_dlam / n_cos
    # PROJ takes its numerical derivatives 1e-5 rad away from a pole for points closer than
    # that, where our N cos(phi) is not theirs (at the pole 6e-17 instead of 1e-5: a map scale
    # factor 1e11 too large). There, its parallel scale k = hypot(dx_dlam, dy_dlam) / (N cos
    # phi), computed with its own cos(phi), gives the ratio: the limit along the meridian.
    near = np.abs(phi) > np.pi / 2 - 1e-4
    if near.any():
        k = factors.parallel_scale / np.hypot(factors.dx_dlam, factors.dy_dlam)
        dx_deast = np.where(near, factors.dx_dlam * k, dx_deast)
        dy_deast = np.where(near, factors.dy_dlam * k, dy_deast)
    return np.stack(
        [np.stack([dx_deast, factors.dx_dphi / m]), np.stack([dy_deast, factors.dy_dphi / m])]
    )


def earth_figure(radius: float | str | None, mapping: GridMapping | None) -> Figure:
    """The ``radius`` option's figure, else the grid mapping's, else the mean radius."""
    if radius is not None:
        return Figure.from_option(radius)
    figure = None if mapping is None else mapping.figure
    return figure or Figure.from_option(None)


def check_mapping_used(mapping: GridMapping | None, kind: str | None, dims: Sequence) -> None:
    """An explicit ``crs`` must be used: a projection on projected dims, a rotated pole on
    rotated dims; a ``latitude_longitude`` one (the figure only) on any Earth grid."""
    if mapping is None or not mapping.explicit:
        return
    name = mapping.name
    fits = {
        None: False,
        "sphere": name == GEOGRAPHIC,
        "curvilinear": name == GEOGRAPHIC,
        "rotated_pole": name in (ROTATED, GEOGRAPHIC),
        "projected": name not in (ROTATED, GEOGRAPHIC),
    }[kind]
    if fits:
        return
    what = "no Earth grid" if kind is None else f"a {kind.replace('_', '-')} grid"
    raise ValueError(
        f"crs is a {name!r} grid mapping, but the dims {tuple(dims)!r} are {what}, where it "
        "would not be used. crs applies to projected grids (1-D dims with standard_name "
        "'projection_x_coordinate'/'projection_y_coordinate'), to rotated-pole grids "
        "('grid_latitude'/'grid_longitude' dims) and, as a 'latitude_longitude' mapping, gives "
        "the figure of the Earth on any Earth grid; drop it (`crs=None`), or give the "
        "Earth's size with `radius=`"
    )
