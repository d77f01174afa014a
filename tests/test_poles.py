"""Grid points on a pole, and grids whose rows run north to south (an audit's findings).

- A projected grid centred on a pole (sea-ice products on polar stereographic): PROJ takes its
  numerical derivatives 1e-5 rad away from a pole, so the pole's map scale factor came out 1e11
  too large and spread to its neighbours through the kinematics. Oracle: pyproj's own scale
  factors (``T = x`` has ``dT/dx`` per metre on the Earth = the map scale factor ``k``).
- A curvilinear grid with a pole row (``nav_lat == 90``): ``cos(pi/2)`` is 6e-17, so the row's
  points did not coincide and the derivatives along it were noise over 1e-10 m (1e4 K/m).
  Oracle: the regular grid, NaN along a pole row, finite next to it.
- A curvilinear grid whose rows run north to south: the orthogonal-grid curl is the vertical
  component on the grid's own frame; it must be the relative vorticity on either kind of grid.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import xgrad  # noqa: F401  (registers .grad)

R = 6371008.8
POLAR = {
    "north polar stereographic": {
        "grid_mapping_name": "polar_stereographic",
        "straight_vertical_longitude_from_pole": -45.0,
        "latitude_of_projection_origin": 90.0,
        "standard_parallel": 70.0,
        "earth_radius": R,
    },
    "south polar stereographic, WGS84": {
        "grid_mapping_name": "polar_stereographic",
        "straight_vertical_longitude_from_pole": 0.0,
        "latitude_of_projection_origin": -90.0,
        "standard_parallel": -71.0,
        "semi_major_axis": 6378137.0,
        "inverse_flattening": 298.257223563,
    },
    "lambert azimuthal equal area, north pole": {
        "grid_mapping_name": "lambert_azimuthal_equal_area",
        "longitude_of_projection_origin": 0.0,
        "latitude_of_projection_origin": 90.0,
        "earth_radius": R,
    },
}


def _polar_grid(mapping: dict, n: int = 9, step: float = 50e3) -> xr.DataArray:
    """``T = x`` on an n x n projected grid whose centre point is the pole."""
    x = (np.arange(n) - n // 2) * step
    xx, _ = np.meshgrid(x, x)
    return xr.DataArray(
        xx.copy(),
        dims=("y", "x"),
        coords={
            "x": ("x", x, {"standard_name": "projection_x_coordinate", "units": "m"}),
            "y": ("y", x.copy(), {"standard_name": "projection_y_coordinate", "units": "m"}),
            "crs": ((), 0, mapping),
        },
        name="T",
        attrs={"units": "K", "grid_mapping": "crs"},
    )


def _scale_along_x(mapping: dict, x: np.ndarray, y: np.ndarray, step: float = 100.0):
    """Map metres per Earth metre along x: the geodesic between ``x -+ step / 2`` (any
    projection; PROJ's inverse is good to about a millimetre next to a pole, so 1e-5 here)."""
    import pyproj

    crs = pyproj.CRS.from_cf(mapping)
    to_true = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    lon0, lat0 = to_true.transform(x - step / 2, y)
    lon1, lat1 = to_true.transform(x + step / 2, y)
    _, _, metres = crs.get_geod().inv(lon0, lat0, lon1, lat1)
    return step / np.asarray(metres)


def _parallel_scale(mapping: dict, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """pyproj's map scale factor ``k`` at projected points (a conformal projection's scale)."""
    import pyproj

    crs = pyproj.CRS.from_cf(mapping)
    to_true = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    return np.asarray(pyproj.Proj(crs).get_factors(*to_true.transform(x, y)).parallel_scale)


@pytest.mark.parametrize("name", list(POLAR))
def test_projected_grid_through_a_pole(name):
    pytest.importorskip("pyproj")
    mapping = POLAR[name]
    T = _polar_grid(mapping)
    j = i = T.sizes["x"] // 2  # the pole
    xx, yy = np.meshgrid(T.x.values, T.y.values)
    expected = _scale_along_x(mapping, xx, yy)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _, dT_dx = T.grad.along("y", "x")
        east, north = T.grad.horizontal()
    # T = x is linear: the centred differences are exact, so the per-metre derivative is the
    # map factor (to the 1 m geodesic's own accuracy) at every point, the pole included
    np.testing.assert_allclose(dT_dx.values[:, 1:-1], expected[:, 1:-1], rtol=1e-5)
    assert np.isfinite(dT_dx.values).all()
    # east and north do not exist at the pole; next to it they do
    assert np.isnan(east.values[j, i]) and np.isnan(north.values[j, i])
    finite = np.ones(T.shape, bool)
    finite[j, i] = False
    assert np.isfinite(east.values[finite]).all() and np.isfinite(north.values[finite]).all()
    assert np.abs(np.hypot(east, north).values[finite] - dT_dx.values[finite]).max() < 1e-6


def test_projected_pole_does_not_spoil_its_neighbours_kinematics():
    # grid-relative winds (along x and y): the kinematics use the scale factors and their
    # derivatives, which were 1e11 wrong at the pole and so at its four neighbours
    pytest.importorskip("pyproj")
    T = _polar_grid(POLAR["north polar stereographic"], n=11, step=25e3)
    xx, yy = np.meshgrid(T.x.values, T.y.values)
    ds = xr.Dataset(
        {
            "T": T,
            "u": (("y", "x"), 5.0 + 1e-6 * yy, {"units": "m s-1"}),
            "v": (("y", "x"), -3.0 + 2e-6 * xx, {"units": "m s-1"}),
        }
    )
    wind = {"x": "u", "y": "v"}
    for result in (
        ds.grad.advection("T", wind),
        ds.grad.deformation(wind).total_deformation,
        ds.grad.frontogenesis("T", wind),
        ds.grad.curl(wind),
        ds.grad.divergence(wind),
    ):
        values = result.values[1:-1, 1:-1]  # away from the one-sided edges
        assert np.isfinite(values).all(), result.name
        # linear winds on a grid of map factor ~0.97: every term is O(1e-6 s-1) or O(1) K/s
        assert np.abs(values).max() < 10.0, (result.name, np.abs(values).max())
    # conformal, h = 1/k along both lines: curl = k^2 [d(v/k)/dx - d(u/k)/dy]
    # = k (dv/dx - du/dy) - v dk/dx + u dk/dy, with dv/dx - du/dy = 1e-6 per map metre
    mapping, h = T.crs.attrs, 10.0
    k = _parallel_scale(mapping, xx, yy)
    k_x = (_parallel_scale(mapping, xx + h, yy) - _parallel_scale(mapping, xx - h, yy)) / (2 * h)
    k_y = (_parallel_scale(mapping, xx, yy + h) - _parallel_scale(mapping, xx, yy - h)) / (2 * h)
    exact = k * 1e-6 - ds.v.values * k_x + ds.u.values * k_y
    curl = ds.grad.curl(wind)
    np.testing.assert_allclose(curl.values[1:-1, 1:-1], exact[1:-1, 1:-1], rtol=1e-3)


def _curvilinear(lat: np.ndarray, lon: np.ndarray, values: np.ndarray, name: str = "T"):
    LAT, LON = np.meshgrid(lat, lon, indexing="ij")
    return xr.Dataset(
        {name: (("y", "x"), values, {"units": "K"})},
        coords={
            "nav_lat": (("y", "x"), LAT, {"units": "degrees_north"}),
            "nav_lon": (("y", "x"), LON, {"units": "degrees_east"}),
        },
    )


@pytest.mark.parametrize("pole", [90.0, -90.0])
def test_curvilinear_pole_row_is_nan_as_on_a_regular_grid(pole):
    lat = np.arange(60.0, 90.1, 5.0) if pole > 0 else np.arange(-90.0, -59.9, 5.0)
    lon = np.arange(0.0, 50.0, 10.0)
    LAT, LON = np.meshgrid(lat, lon, indexing="ij")
    rng = np.random.default_rng(0)
    T = 280 + 10 * np.sin(np.radians(LAT)) + np.cos(np.radians(LON)) + 1e-6 * rng.random(LAT.shape)
    ds = _curvilinear(lat, lon, T)
    regular = xr.DataArray(
        T,
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
    )
    row = -1 if pole > 0 else 0  # the pole row
    rest = np.arange(len(lat)) != row % len(lat)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        d_dy, d_dx = ds.T.grad.along("y", "x", edge_order=2)
        east, north = ds.T.grad.horizontal(edge_order=2)
        magnitude = ds.T.grad.magnitude("y", "x", edge_order=2)
        laplacian = ds.T.grad.laplacian("y", "x", edge_order=2)
    reg_dy, reg_dx = regular.grad.along("lat", "lon", edge_order=2)
    for result in (d_dx, east, north, magnitude, laplacian):
        assert np.isnan(result.values[row]).all()
        assert np.isfinite(result.values[rest]).all()
    assert np.isnan(reg_dx.values[row]).all()
    # away from the pole row the curvilinear grid is the regular one
    # to the curvilinear metric's truncation error (chords of 10 degrees of longitude: 1 %)
    np.testing.assert_allclose(d_dx.values[rest], reg_dx.values[rest], rtol=2e-2)
    np.testing.assert_allclose(d_dy.values, reg_dy.values, rtol=5e-3)
    assert np.abs(laplacian.values[rest]).max() < 1e-10  # O(1e-12) K m-2, no 1e15 spikes


def _handed_wind(rows: str):
    """u = U cos(lat) e + V sin(2 lon) n and T on a curvilinear grid whose rows run ``rows``:
    Earth-relative ``(u, v)``; along the grid's directions ``(u, along_y)``, ``along_y`` = v
    where y runs north and -v where it runs south. Also the exact vorticity."""
    lat = np.arange(20.0, 60.1, 1.0)
    lat = lat if rows == "south to north" else lat[::-1]
    lon = np.arange(-30.0, 30.1, 1.0)
    LAT, LON = np.meshgrid(lat, lon, indexing="ij")
    u = 10.0 * np.cos(np.radians(LAT))
    v = 5.0 * np.sin(2 * np.radians(LON))
    ds = _curvilinear(lat, lon, u, name="u").assign(
        v=(("y", "x"), v, {"units": "m s-1"}),
        along_y=(("y", "x"), v if rows == "south to north" else -v, {"units": "m s-1"}),
        T=(("y", "x"), np.sin(np.radians(LAT)) + np.cos(np.radians(2 * LON)), {"units": "K"}),
    )
    ds.u.attrs["units"] = "m s-1"
    phi, lam = np.radians(LAT), np.radians(LON)
    exact = (10.0 * np.sin(2 * phi) / np.cos(phi) + 10.0 * np.cos(2 * lam) / np.cos(phi)) / R
    return ds, exact


@pytest.mark.parametrize("rows", ["south to north", "north to south"])
def test_curvilinear_curl_is_the_vorticity_on_either_handedness(rows):
    ds, exact = _handed_wind(rows)
    earth = ds.grad.curl({"east": "u", "north": "v"}, edge_order=2, radius=R)
    grid = ds.grad.curl({"x": "u", "y": "along_y"}, edge_order=2, radius=R)
    inner = (slice(1, -1), slice(1, -1))
    for result in (earth, grid):
        np.testing.assert_allclose(result.values[inner], exact[inner], rtol=2e-3)
    # the divergence does not depend on the handedness
    div_earth = ds.grad.divergence({"east": "u", "north": "v"}, edge_order=2, radius=R)
    div_grid = ds.grad.divergence({"x": "u", "y": "along_y"}, edge_order=2, radius=R)
    scale = np.abs(exact).max()
    assert np.abs(div_grid - div_earth).values[inner].max() < 2e-3 * scale


@pytest.mark.parametrize("earth", [True, False], ids=["east_north", "grid"])
def test_curvilinear_kinematics_are_in_a_right_handed_frame_on_either_handedness(earth):
    # The kinematics' frame is x along the grid's x lines and y 90 degrees to its left: on a
    # grid whose rows run north to south that is (east, north), as where they run south to
    # north, so every result is the same field (the vorticity dv_dx - du_dy was its negative:
    # the tensor was in the left-handed frame of the grid's directions).
    results = {}
    for rows in ("south to north", "north to south"):
        ds, exact = _handed_wind(rows)
        if not earth:  # the grid-relative components, named as the Earth-relative ones
            ds = ds.assign(v=ds.along_y)
        wind = {"east": "u", "north": "v"} if earth else {"x": "u", "y": "v"}
        options = {"edge_order": 2, "radius": R}
        out = xr.merge(
            [
                ds.grad.vector_gradient(wind, **options),
                ds.grad.deformation(wind, **options),
                ds.grad.frontogenesis("T", wind, **options).rename("frontogenesis"),
                ds.grad.advection("T", wind, **options).rename("advection"),
            ],
            compat="override",
        )
        out["vorticity"] = out.dv_dx - out.du_dy
        results[rows] = out if rows == "south to north" else out.isel(y=slice(None, None, -1))
        inner = (slice(1, -1), slice(1, -1))
        np.testing.assert_allclose(out.vorticity.values[inner], exact[inner], rtol=2e-3)
    a, b = results["south to north"], results["north to south"]
    tensor = ["du_dx", "du_dy", "dv_dx", "dv_dy"]
    for name in a.data_vars:
        # relative to the tensor's largest component for its components (dv_dy is 0 here)
        scale = float(np.abs(a[tensor if name in tensor else [name]].to_array()).max())
        # the same field up to the truncation error of the grid's frame
        assert float(np.abs(a[name] - b[name]).max()) < 1e-3 * scale, name
    for name in tensor:
        assert "y 90 degrees to its left" in b[name].attrs["long_name"]


def test_float32_radian_latitudes_reach_the_poles():
    # float32(pi / 2) is 1.5707964 > pi / 2: within the float32 rounding it is the pole
    lat = np.linspace(-np.pi / 2, np.pi / 2, 7).astype(np.float32)
    lon = np.linspace(0, 2 * np.pi, 12, endpoint=False).astype(np.float32)
    da = xr.DataArray(
        np.outer(np.sin(lat.astype(float)), np.ones(12)),
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", lat, {"units": "radians", "standard_name": "latitude"}),
            "lon": ("lon", lon, {"units": "radians", "standard_name": "longitude"}),
        },
    )
    d_dlat, d_dlon = da.grad.along("lat", "lon")
    assert np.isnan(d_dlon.values[[0, -1]]).all() and np.isfinite(d_dlon.values[1:-1]).all()
    assert np.isfinite(d_dlat.values).all()
    # a float32 latitude beyond the pole's rounding is still refused
    bad = da.assign_coords(
        lat=da.lat.copy(data=np.nextafter(lat, np.float32(4)).astype(np.float32))
    )
    with pytest.raises(ValueError, match="outside"):
        bad.grad.along("lat")


@pytest.mark.parametrize("earth", [True, False], ids=["east_north", "grid"])
@pytest.mark.parametrize("flip", ["y", "x", "xy"])
def test_curvilinear_kinematics_do_not_depend_on_the_storage_order(flip, earth):
    # The same wind stored with rows or columns reversed: the frame is x along the grid's x
    # lines (increasing index) and y 90 degrees to its left, so reversing x turns it by 180
    # degrees and reversing y not at all; a 180-degree turn leaves every tensor component as
    # it is. So every result is the same field, to rounding. Grid-relative components are
    # along increasing index: reversing a dim negates its component.
    ds, _ = _handed_wind("south to north")
    ds = ds.assign(v=ds.v + 3.0 * np.cos(np.radians(ds.nav_lat)) * np.sin(np.radians(ds.nav_lon)))
    ds.v.attrs["units"] = "m s-1"
    reverse = {d: slice(None, None, -1) for d in flip}
    stored = ds.isel(reverse)
    if not earth:
        stored = stored.assign(u=-stored.u if "x" in flip else stored.u)
        stored = stored.assign(v=-stored.v if "y" in flip else stored.v)
        for k in "uv":
            stored[k].attrs["units"] = "m s-1"
    wind = {"east": "u", "north": "v"} if earth else {"x": "u", "y": "v"}

    def everything(d):
        options = {"edge_order": 2, "radius": R}
        return xr.merge(
            [
                d.grad.vector_gradient(wind, **options),
                d.grad.deformation(wind, **options),
                d.grad.advection("T", wind, **options).rename("advection"),
                d.grad.frontogenesis("T", wind, **options).rename("frontogenesis"),
            ],
            compat="override",
        )

    want, got = everything(ds), everything(stored).isel(reverse)
    for name in want.data_vars:
        scale = float(np.abs(want[name]).max())
        np.testing.assert_allclose(got[name].values, want[name].values, rtol=0, atol=1e-9 * scale)


@pytest.mark.parametrize("name", list(POLAR))
def test_projected_magnitude_is_finite_on_the_pole(name):
    # docs/guide/grids.md says `magnitude` is right at a projected grid's point on a pole; it
    # was NaN there (the length of east/north, which do not exist at the pole). A length does not
    # depend on the frame's orientation: the frame of the limit along the meridian gives it
    pytest.importorskip("pyproj")
    T = _polar_grid(POLAR[name])
    j = i = T.sizes["x"] // 2  # the pole
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        magnitude = T.grad.magnitude("y", "x")
        _, dT_dx = T.grad.along("y", "x")
        east, north = T.grad.horizontal()
    assert np.isfinite(magnitude.values).all()
    # T = x: dT/dy = 0 and the grid is orthogonal at the pole (by symmetry, any projection
    # here), so |grad T| there is the map factor along x
    np.testing.assert_allclose(magnitude.values[j, i], dT_dx.values[j, i], rtol=1e-12)
    finite = np.ones(T.shape, bool)
    finite[j, i] = False
    # elsewhere |(east, north)|, to the one rounding in which xgrad's compiled hypot and
    # numpy's may differ
    np.testing.assert_allclose(
        magnitude.values[finite], np.hypot(east, north).values[finite], rtol=2.3e-16, atol=0
    )
    lazy = T.chunk(y=4, x=5).grad.magnitude("y", "x")
    np.testing.assert_array_equal(lazy.values, magnitude.values)


@pytest.mark.parametrize(
    "name", ["north polar stereographic", "lambert azimuthal equal area, north pole"]
)
def test_curvilinear_magnitude_is_finite_on_a_pole_point(name):
    # A polar grid given only by its 2-D lat/lon, the centre point on the pole: east and north
    # do not exist there (NaN), but |grad T| does; it was NaN. The frame of the x tangent's
    # direction gives it, as the projected grid's limit frame does
    pytest.importorskip("pyproj")
    import pyproj

    projected = _polar_grid(POLAR[name], n=21, step=100e3)
    projected = projected + 0.3 * projected.y  # T = x + 0.3 y: a gradient not along x
    crs = pyproj.CRS.from_cf(POLAR[name])
    to_lonlat = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    xx, yy = np.meshgrid(projected.x.values, projected.y.values)
    lon, lat = to_lonlat.transform(xx, yy)
    j = i = 10  # the pole
    assert lat[j, i] == 90.0
    T = projected.drop_vars(["x", "y", "crs"]).assign_coords(
        lat=(("y", "x"), lat, {"units": "degrees_north"}),
        lon=(("y", "x"), lon, {"units": "degrees_east"}),
    )
    T.attrs = {"units": "K"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        magnitude = T.grad.magnitude("y", "x", radius=R)
        east, north = T.grad.horizontal(radius=R)
    assert np.isnan(east.values[j, i]) and np.isnan(north.values[j, i])
    assert np.isfinite(magnitude.values).all()
    # the projected grid's exact map factors: the curvilinear metric's chords (100 km) differ
    # from them by its truncation error, here and at the neighbours alike
    exact = projected.grad.magnitude("y", "x").values
    np.testing.assert_allclose(magnitude.values[j, i], exact[j, i], rtol=1e-3)
    np.testing.assert_allclose(magnitude.values[j, i + 1], exact[j, i + 1], rtol=1e-3)
    finite = np.ones(T.shape, bool)
    finite[j, i] = False
    np.testing.assert_allclose(
        magnitude.values[finite], np.hypot(east, north).values[finite], rtol=2.3e-16, atol=0
    )
    lazy = T.chunk(y=4, x=5).grad.magnitude("y", "x", radius=R)
    np.testing.assert_array_equal(lazy.values, magnitude.values)
