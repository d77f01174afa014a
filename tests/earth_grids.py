"""Synthetic Earth grids with analytic fields, shared by test_grids.py and test_horizontal.py.

Every grid is a smooth map ``position(i, j) -> (lat, lon)`` from continuous grid indices
(``i`` along the x dim, ``j`` along the y dim) onto the sphere. The field is a polynomial of the
Earth-centred unit vector ``P = (cos lat cos lon, cos lat sin lon, sin lat)``, so it is smooth
everywhere, poles and the 180th meridian included, and its exact derivatives are

    d/deast  = grad F . e / R        d/dnorth = grad F . n / R
    per metre along grid dim i = grad F . (dP/di) / (R |dP/di|)

with ``e``/``n`` the local east/north unit vectors and ``dP/di`` the grid's exact tangent (a
fourth-order difference of ``position`` with a step of 1e-4 index, exact to ~1e-12).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

R = 6371000.0
POLE = {"grid_north_pole_latitude": 37.5, "grid_north_pole_longitude": 177.5}


def unit(lat, lon):
    phi, lam = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def field(p):
    """F(P) = exp(X) sin(2Y) + Z^3 + X cos(3Z), in kelvin."""
    x, y, z = p
    return np.exp(x) * np.sin(2 * y) + z**3 + x * np.cos(3 * z)


def field_gradient(p):
    x, y, z = p
    return np.stack(
        [
            np.exp(x) * np.sin(2 * y) + np.cos(3 * z),
            2 * np.exp(x) * np.cos(2 * y),
            3 * z**2 - 3 * x * np.sin(3 * z),
        ]
    )


def east_north(lat, lon):
    phi, lam = np.radians(lat), np.radians(lon)
    east = np.stack([-np.sin(lam), np.cos(lam), np.zeros_like(lam)])
    north = np.stack([-np.sin(phi) * np.cos(lam), -np.sin(phi) * np.sin(lam), np.cos(phi)])
    return east, north


@dataclass
class Grid:
    """A sampled grid: the DataArray and the exact answers."""

    da: xr.DataArray
    east: np.ndarray
    north: np.ndarray
    along: dict  # dim -> exact per-metre derivative along that grid dim
    tangents: dict | None = None  # dim -> (t . east, t . north) of the grid line's unit tangent


def sample(position: Callable, ni: int, nj: int, *, radius: float = R) -> tuple:
    """lat, lon (nj, ni), F and the exact derivatives of F on the grid ``position``."""
    j, i = np.meshgrid(np.arange(nj, dtype=float), np.arange(ni, dtype=float), indexing="ij")
    lat, lon = position(i, j)
    p = unit(lat, lon)
    grad = field_gradient(p)
    east, north = east_north(lat, lon)
    exact = {
        "east": np.einsum("k...,k...->...", grad, east) / radius,
        "north": np.einsum("k...,k...->...", grad, north) / radius,
    }
    for name, shift in (("i", (1, 0)), ("j", (0, 1))):
        h = 1e-4
        pts = [unit(*position(i + k * h * shift[0], j + k * h * shift[1])) for k in (-2, -1, 1, 2)]
        tangent = (pts[0] - 8 * pts[1] + 8 * pts[2] - pts[3]) / (12 * h)
        norm = np.sqrt(np.einsum("k...,k...->...", tangent, tangent))
        exact[name] = np.einsum("k...,k...->...", grad, tangent) / (radius * norm)
        # the unit tangent's east and north components (grid-relative vector components)
        exact["t" + name] = tuple(
            np.einsum("k...,k...->...", tangent, b) / norm for b in (east, north)
        )
    return lat, lon, field(p), exact


def _wrap(lon):
    return (np.asarray(lon) + 180.0) % 360.0 - 180.0


def rotated(n: int, *, pole: dict = POLE) -> Grid:
    """A CORDEX-like rotated-pole grid: rlat in [-20, 20], rlon in [-25, 25] degrees (n x n);
    true lat/lon from PROJ's ob_tran (independent of xgrad's own rotation); along the rotated
    grid lines the exact derivative is grad F . (rotated east or north) / R."""
    import pyproj

    cf = {"grid_mapping_name": "rotated_latitude_longitude", **pole, "earth_radius": R}
    cf["longitude_of_prime_meridian"] = 0.0
    crs = pyproj.CRS.from_cf(cf)
    to_true = pyproj.Transformer.from_crs(crs, pyproj.CRS(proj="longlat", R=R), always_xy=True)
    rlat = np.linspace(-20.0, 20.0, n)
    rlon = np.linspace(-25.0, 25.0, n)

    def position(i, j):
        lon, lat = to_true.transform(-25.0 + 50.0 * i / (n - 1), -20.0 + 40.0 * j / (n - 1))
        return np.asarray(lat), np.asarray(lon)

    lat, lon, f, exact = sample(position, n, n)
    # the grid lines' exact directions: rotated east is z' x P (z' the rotated pole, from PROJ)
    p = unit(lat, lon)
    pole_lon, pole_lat = to_true.transform(0.0, 90.0)
    z = unit(np.asarray(pole_lat), np.asarray(pole_lon)).reshape(3, 1, 1)
    east_r = np.cross(z, p, axis=0)
    east_r /= np.sqrt(np.einsum("k...,k...->...", east_r, east_r))
    north_r = np.cross(p, east_r, axis=0)
    grad = field_gradient(p)
    exact["i"] = np.einsum("k...,k...->...", grad, east_r) / R
    exact["j"] = np.einsum("k...,k...->...", grad, north_r) / R
    east, north = east_north(lat, lon)
    exact["ti"] = tuple(np.einsum("k...,k...->...", east_r, b) for b in (east, north))
    exact["tj"] = tuple(np.einsum("k...,k...->...", north_r, b) for b in (east, north))
    da = xr.DataArray(
        f,
        dims=("rlat", "rlon"),
        coords={
            "rlat": ("rlat", rlat, {"standard_name": "grid_latitude", "units": "degrees"}),
            "rlon": ("rlon", rlon, {"standard_name": "grid_longitude", "units": "degrees"}),
            "lat": (("rlat", "rlon"), lat, {"standard_name": "latitude", "units": "degrees_north"}),
            "lon": (("rlat", "rlon"), lon, {"standard_name": "longitude", "units": "degrees_east"}),
            "rotated_pole": ((), 0, cf),
        },
        name="T",
        attrs={"units": "K"},
    )
    da.encoding["grid_mapping"] = "rotated_pole"
    along = {"rlon": exact["i"], "rlat": exact["j"]}
    return Grid(
        da, exact["east"], exact["north"], along, {"rlon": exact["ti"], "rlat": exact["tj"]}
    )


STEREO = {
    "grid_mapping_name": "polar_stereographic",
    "straight_vertical_longitude_from_pole": -45.0,
    "latitude_of_projection_origin": 90.0,
    "standard_parallel": 70.0,
    "false_easting": 0.0,
    "false_northing": 0.0,
    "earth_radius": R,
    "longitude_of_prime_meridian": 0.0,
}
LAMBERT = {
    "grid_mapping_name": "lambert_conformal_conic",
    "standard_parallel": [30.0, 60.0],
    "longitude_of_central_meridian": 180.0,
    "latitude_of_projection_origin": 45.0,
    "false_easting": 0.0,
    "false_northing": 0.0,
    "earth_radius": R,
    "longitude_of_prime_meridian": 0.0,
}


def projected(n: int, mapping: dict = STEREO, *, span: float = 3.0e6, units: str = "m") -> Grid:
    """x/y in metres (or km) over [-span, span] (x shifted so that no point is the pole)."""
    import pyproj

    crs = pyproj.CRS.from_cf(mapping)
    to_true = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    x0, y0, width = -span - 11111.0, -span, 2 * span

    def xy(i, j):
        return x0 + width * i / (n - 1), y0 + width * j / (n - 1)

    def position(i, j):
        lon, lat = to_true.transform(*xy(i, j))
        return np.asarray(lat), np.asarray(lon)

    lat, lon, f, exact = sample(position, n, n)
    if mapping.get("grid_mapping_name") != "lambert_azimuthal_equal_area":
        # conformal: the grid lines are east and north turned by the meridian convergence
        gamma = np.radians(pyproj.Proj(crs).get_factors(lon, lat).meridian_convergence)
        exact["ti"] = (np.cos(gamma), -np.sin(gamma))
        exact["tj"] = (np.sin(gamma), np.cos(gamma))
    x, y = xy(np.arange(n, dtype=float), np.arange(n, dtype=float))
    scale = 1000.0 if units == "km" else 1.0
    da = xr.DataArray(
        f,
        dims=("y", "x"),
        coords={
            "x": ("x", x / scale, {"standard_name": "projection_x_coordinate", "units": units}),
            "y": ("y", y / scale, {"standard_name": "projection_y_coordinate", "units": units}),
            "lat": (("y", "x"), lat, {"standard_name": "latitude", "units": "degrees_north"}),
            "lon": (("y", "x"), lon, {"standard_name": "longitude", "units": "degrees_east"}),
            "crs": ((), 0, mapping),
        },
        name="T",
        attrs={"units": "K"},
    )
    da.encoding["grid_mapping"] = "crs"
    along = {"x": exact["i"], "y": exact["j"]}
    return Grid(da, exact["east"], exact["north"], along, {"x": exact["ti"], "y": exact["tj"]})


def wrf_like(n: int) -> Grid:
    """WRF-like: a Lambert conformal grid across the 180th meridian given only by 2-D
    XLAT/XLONG (units degree_north/degree_east) on dims without coordinates."""
    grid = projected(n, LAMBERT, span=2.5e6)
    da = grid.da.drop_vars(["x", "y", "crs", "lat", "lon"]).rename(y="south_north", x="west_east")
    da = da.drop_encoding()
    da = da.assign_coords(
        XLAT=(("south_north", "west_east"), grid.da.lat.values, {"units": "degree_north"}),
        XLONG=(("south_north", "west_east"), _wrap(grid.da.lon.values), {"units": "degree_east"}),
    )
    along = {"west_east": grid.along["x"], "south_north": grid.along["y"]}
    tangents = {"west_east": grid.tangents["x"], "south_north": grid.tangents["y"]}
    return Grid(da, grid.east, grid.north, along, tangents)


def orca_like(nx: int, ny: int) -> Grid:
    """A global ORCA-like grid, periodic in x (no coordinates, like NEMO's y/x).

    In the north-polar stereographic plane ``z = tan(colatitude/2) exp(i lon)`` the grid is
    ``z = c + zeta sqrt(1 + a^2/zeta^2)``, ``zeta = rho exp(i theta)``: rows (fixed ``rho``) are
    Cassini ovals around the two foci ``c +- a`` (the grid's two northern poles, at 60.9N and
    74.1N on the Greenwich meridian, inside the innermost row: "over land"). ``theta`` runs once
    round (the periodic x), ``log rho`` from 70S-ish (j = 0) to the innermost row (j = ny - 1).
    The true north pole lies inside the grid; longitudes jump from 180 to -180 inside rows.
    """
    a, c = 0.06, 0.2
    s_south, s_north = math.log(5.5), math.log(0.13)

    def position(i, j):
        theta = 2 * np.pi * i / nx
        s = s_south + (s_north - s_south) * j / (ny - 1)
        zeta = np.exp(s + 1j * theta)
        z = c + zeta * np.sqrt(1 + a**2 / zeta**2)
        lat = 90.0 - np.degrees(2 * np.arctan(np.abs(z)))
        return lat, np.degrees(np.angle(z))

    lat, lon, f, exact = sample(position, nx, ny)
    da = xr.DataArray(
        f,
        dims=("y", "x"),
        coords={
            "nav_lat": (("y", "x"), lat.astype(np.float64), {"units": "degrees"}),
            "nav_lon": (("y", "x"), lon, {"units": "degrees"}),
        },
        name="tos",
        attrs={"units": "degC", "standard_name": "sea_surface_temperature"},
    )
    along = {"x": exact["i"], "y": exact["j"]}
    return Grid(da, exact["east"], exact["north"], along, {"x": exact["ti"], "y": exact["tj"]})


def relative_error(actual, expected) -> float:
    """Max abs error over the max abs of the exact answer."""
    actual = np.asarray(actual)
    return float(np.nanmax(np.abs(actual - expected)) / np.nanmax(np.abs(expected)))


def order(errors) -> list[float]:
    """Observed orders between successive halvings of the grid step."""
    return [math.log2(a / b) for a, b in zip(errors[:-1], errors[1:])]


def field_laplacian(p, radius: float = R):
    """The Laplace-Beltrami operator of F on the sphere: lap F - P.H.P - 2 P.grad F (at r = 1)."""
    x, y, z = p
    ex, s2, c2 = np.exp(x), np.sin(2 * y), np.cos(2 * y)
    hessian = np.array(
        [
            [ex * s2, 2 * ex * c2, -3 * np.sin(3 * z)],
            [2 * ex * c2, -4 * ex * s2, np.zeros_like(x)],
            [-3 * np.sin(3 * z), np.zeros_like(x), 6 * z - 9 * x * np.cos(3 * z)],
        ]
    )
    laplace = hessian[0, 0] + hessian[1, 1] + hessian[2, 2]
    radial2 = np.einsum("i...,ij...,j...->...", p, hessian, p)
    radial1 = np.einsum("k...,k...->...", p, field_gradient(p))
    return (laplace - radial2 - 2 * radial1) / radius**2


def sphere(n, fields, *, chunks=None):
    """A Dataset of ``fields`` (name -> (f(phi, lam), units)) on a cell-centred n x 2n regular
    global latitude/longitude grid (CF units), chunked when ``chunks`` is given."""
    lat = -90 + (np.arange(n) + 0.5) * 180 / n
    lon = np.arange(2 * n) * 180.0 / n
    phi, lam = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
    ds = xr.Dataset(
        {
            name: (("lat", "lon"), f(phi, lam) + 0 * lam, {"units": units})
            for name, (f, units) in fields.items()
        },
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
    )
    return ds if chunks is None else ds.chunk(chunks)


# The grids the tests refine, by the number of points along each grid line


def stereo(n):
    """A polar-stereographic grid of ``n`` x ``n`` points."""
    return projected(n, STEREO)


def lambert(n):
    """A Lambert conformal grid of ``n`` x ``n`` points."""
    return projected(n, LAMBERT, span=2.5e6)


def orca(n):
    """An ORCA-like tripolar grid of ``2 (n - 1)`` x ``n`` points."""
    return orca_like(2 * (n - 1), n)


def sheared(n: int, degrees: float) -> Grid:
    """A skewed curvilinear grid of ``n`` x ``n`` points about the equator: latitude
    ``-10 + 20 j/(n-1)``, longitude ``20 i/(n-1) + tan(degrees) * latitude`` (2-D ``lat``/``lon``,
    CF units, on dims ``y``, ``x`` without coordinates). The x lines are parallels, the y lines
    lean east by ``atan(tan(degrees) cos(lat))``: ``degrees`` from a right angle on the equator
    (the middle row for odd ``n``), less elsewhere."""
    lean = math.tan(math.radians(degrees))

    def position(i, j):
        lat = -10.0 + 20.0 * j / (n - 1)
        return lat, 20.0 * i / (n - 1) + lean * lat

    lat, lon, f, exact = sample(position, n, n)
    da = xr.DataArray(
        f,
        dims=("y", "x"),
        coords={
            "lat": (("y", "x"), lat, {"units": "degrees_north"}),
            "lon": (("y", "x"), lon, {"units": "degrees_east"}),
        },
        name="T",
        attrs={"units": "K"},
    )
    along = {"x": exact["i"], "y": exact["j"]}
    return Grid(da, exact["east"], exact["north"], along, {"x": exact["ti"], "y": exact["tj"]})
