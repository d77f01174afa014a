"""``.grad.horizontal()``: eastward and northward derivatives per metre on every Earth grid.

Oracles: analytic fields on the true positions of each grid (``earth_grids.py``) with the
convergence order measured; ``.grad.along(lon, lat)`` on a regular grid (bit for bit); MetPy's
``geospatial_gradient`` rotated by pyproj's meridian convergence on projected grids; the same
grid given as projected (exact map factors) and as curvilinear (2-D latitude/longitude); the
ellipsoid's radii of curvature.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from earth_grids import (
    STEREO,
    R,
    east_north,
    field,
    field_gradient,
    lambert,
    orca_like,
    order,
    projected,
    relative_error,
    rotated,
    stereo,
    unit,
    wrf_like,
)

import xgrad  # noqa: F401  (registers .grad)
from xgrad.earth import Figure

pyproj = pytest.importorskip("pyproj")


def regular(n):
    """A regional regular latitude/longitude grid, 20S-70N, 170E-120W (across 180)."""
    lat = np.linspace(-20.0, 70.0, n)
    lon = np.linspace(170.0, 240.0, n)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    p = unit(la, lo)
    grad = field_gradient(p)
    e, nn = east_north(la, lo)
    da = xr.DataArray(
        field(p),
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
        name="T",
        attrs={"units": "K"},
    )
    east = np.einsum("k...,k...->...", grad, e) / R
    north = np.einsum("k...,k...->...", grad, nn) / R
    return da, east, north


GRIDS = {
    "rotated pole": (rotated, {}),
    "polar stereographic": (stereo, {}),
    "Lambert conformal": (lambert, {}),
    "ORCA-like tripolar": (lambda n: orca_like(2 * (n - 1), n), {"boundary": {"x": "periodic"}}),
    "WRF-like XLAT/XLONG": (wrf_like, {}),
}


#: Finer grids where the fourth-order one-sided edge stencils reach their asymptotic regime
#: later (on a 2-degree rotated grid the measured order is 3.5-3.7, then 3.8-3.9)
SIZES = {"rotated pole": (81, 161, 321)}


@pytest.mark.parametrize("case", ["regular", *GRIDS])
@pytest.mark.parametrize(("accuracy", "edge_order", "minimum"), [(2, 2, 1.8), (4, 1, 3.5)])
def test_converges_to_the_analytic_gradient(case, accuracy, edge_order, minimum):
    errors = {"east": [], "north": []}
    for n in SIZES.get(case, (21, 41, 81)):
        if case == "regular":
            da, exact_east, exact_north = regular(n)
            options = {}
        else:
            build, options = GRIDS[case]
            grid = build(n)
            da, exact_east, exact_north = grid.da, grid.east, grid.north
        east, north = da.grad.horizontal(
            accuracy=accuracy, edge_order=edge_order, radius=R, **options
        )
        errors["east"].append(relative_error(east, exact_east))
        errors["north"].append(relative_error(north, exact_north))
    for key, values in errors.items():
        assert min(order(values)) > minimum, (key, values)


def test_regular_grid_is_along_lon_lat(assert_bitwise_equal):
    da, _, _ = regular(21)
    east, north = da.grad.horizontal(accuracy=4)
    dlon, dlat = da.grad.along("lon", "lat", accuracy=4)
    assert_bitwise_equal(east.values, dlon.values)
    assert_bitwise_equal(north.values, dlat.values)
    assert east.attrs["units"] == "K m-1" and east.attrs["xgrad_geometry"] == "sphere"
    assert east.attrs["long_name"] == "derivative of T with respect to eastward distance"
    assert north.attrs["long_name"] == "derivative of T with respect to northward distance"
    transposed = da.transpose("lon", "lat").grad.horizontal(accuracy=4)
    assert_bitwise_equal(transposed[0].values, east.values.T)


def test_orthogonal_grids_rotate_by_the_grid_angle():
    """Rotated pole and conformal projections: east/north is a rotation of the grid-relative
    per-metre derivatives, so the magnitude is kept (to rounding)."""
    for build, dims in ((rotated, ("rlon", "rlat")), (stereo, ("x", "y")), (lambert, ("x", "y"))):
        da = build(21).da
        east, north = da.grad.horizontal()
        gx, gy = da.grad.along(*dims)
        np.testing.assert_allclose(np.hypot(east, north), np.hypot(gx, gy), rtol=1e-9)


def _metpy_east_north(da):
    mpcalc = pytest.importorskip("metpy.calc")
    from metpy.units import units

    crs = pyproj.CRS.from_cf(dict(da.crs.attrs)) if "crs" in da.coords else da.attrs["crs"]
    # positions from the projection, in float64 (files store float32 latitudes)
    x, y = np.meshgrid(da.x.values.astype(float), da.y.values.astype(float))
    to_lonlat = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    lon, lat = to_lonlat.transform(x, y)
    dfdx, dfdy = mpcalc.geospatial_gradient(
        units.Quantity(da.values.astype(float), "K"),
        dx=units.Quantity(np.diff(da.x.values.astype(float)), "m"),
        dy=units.Quantity(np.diff(da.y.values.astype(float)), "m"),
        latitude=units.Quantity(lat, "degrees"),
        longitude=units.Quantity(lon, "degrees"),
        crs=crs,
    )
    # MetPy is grid-relative; pyproj's meridian convergence turns it to east/north
    gamma = np.radians(pyproj.Proj(crs).get_factors(lon, lat).meridian_convergence)
    east = dfdx.m * np.cos(gamma) + dfdy.m * np.sin(gamma)
    north = -dfdx.m * np.sin(gamma) + dfdy.m * np.cos(gamma)
    return east, north


@pytest.mark.parametrize("build", [stereo, lambert])
def test_projected_matches_metpy_rotated_by_the_convergence(build):
    da = build(31).da
    east, north = da.grad.horizontal(edge_order=2)
    ref_east, ref_north = _metpy_east_north(da)
    assert relative_error(east, ref_east) < 1e-9
    assert relative_error(north, ref_north) < 1e-9


def test_projected_and_curvilinear_descriptions_agree():
    """The same Lambert grid through its grid mapping (exact map factors) and through its 2-D
    latitude/longitude only (the WRF way): equal to the stencils' truncation error."""
    differences = []
    for n in (21, 41, 81):
        grid = lambert(n)
        exact = grid.da.grad.horizontal(radius=R, edge_order=2)
        curvilinear = wrf_like(n).da.grad.horizontal(radius=R, edge_order=2)
        assert curvilinear[0].attrs["xgrad_geometry"] == "curvilinear"
        differences.append(max(relative_error(c, e.values) for c, e in zip(curvilinear, exact)))
    assert min(order(differences)) > 1.8, differences


def _ellipsoid_exact(lat, lon, figure):
    """East/north derivatives of F(P(geodetic lat, lon)) on the ellipsoid: grad F . e / N and
    grad F . n / M."""
    p = unit(lat, lon)
    grad = field_gradient(p)
    e, n = east_north(lat, lon)
    phi = np.radians(lat)
    east = np.einsum("k...,k...->...", grad, e) / figure.prime_vertical_radius(phi)
    north = np.einsum("k...,k...->...", grad, n) / figure.meridional_radius(phi)
    return east, north


def test_ellipsoid_on_a_regular_grid():
    wgs84 = Figure.from_option("WGS84")
    errors = {"east": [], "north": []}
    for n in (21, 41, 81):
        da, _, _ = regular(n)
        east, north = da.grad.horizontal(radius="WGS84", accuracy=4)
        lat, lon = xr.broadcast(da.lat, da.lon)
        exact = _ellipsoid_exact(lat.values, lon.values, wgs84)
        errors["east"].append(relative_error(east, exact[0]))
        errors["north"].append(relative_error(north, exact[1]))
        assert east.attrs["xgrad_radius"] == "WGS84"
    for values in errors.values():
        assert min(order(values)) > 3.5, values
    # the sphere's values are those of before (radius a number: unchanged bits)
    sphere = regular(21)[0].grad.along("lat", radius=6371008.8)
    np.testing.assert_array_equal(
        sphere.values, regular(21)[0].differentiate("lat").values * (180 / np.pi / 6371008.8)
    )


def test_ellipsoid_on_projected_and_curvilinear_grids():
    mapping = {k: v for k, v in STEREO.items() if k != "earth_radius"}
    mapping |= {"semi_major_axis": 6378137.0, "inverse_flattening": 298.257223563}
    wgs84 = Figure.from_option("WGS84")
    for n in (41, 81):
        grid = projected(n, mapping)
        exact = _ellipsoid_exact(grid.da.lat.values, grid.da.lon.values, wgs84)
        east, north = grid.da.grad.horizontal(accuracy=4)
        assert east.attrs["xgrad_radius"] == "WGS84"
        errors = [relative_error(east, exact[0]), relative_error(north, exact[1])]
        curvilinear = (
            grid.da.drop_vars("crs").drop_encoding().grad.horizontal(accuracy=4, radius="WGS84")
        )
        assert curvilinear[0].attrs["xgrad_geometry"] == "curvilinear"
        errors += [
            relative_error(curvilinear[0], exact[0]),
            relative_error(curvilinear[1], exact[1]),
        ]
        assert max(errors) < (2e-5 if n == 41 else 2e-6), errors


def test_dataset_horizontal():
    grid = orca_like(20, 11)
    ds = xr.Dataset(
        {"tos": grid.da, "sos": 2 * grid.da, "depth": ("z", [1.0, 2.0])},
        attrs={"title": "ORCA-like"},
    )
    east, north = ds.grad.horizontal(boundary={"x": "periodic"})
    assert set(east.data_vars) == {"tos", "sos"} and east.attrs == {"title": "ORCA-like"}
    ref_east, ref_north = grid.da.grad.horizontal(boundary={"x": "periodic"})
    np.testing.assert_array_equal(east["tos"].values, ref_east.values)
    np.testing.assert_array_equal(
        north["sos"].values, (2 * grid.da).grad.horizontal(boundary={"x": "periodic"})[1].values
    )


def test_pint_quantified():
    pytest.importorskip("pint_xarray")
    import warnings

    from cf_xarray.units import units as registry
    from pint import UnitStrippedWarning

    grid = rotated(11)
    q = grid.da.pint.quantify(unit_registry=registry)
    with warnings.catch_warnings():  # the quantified rotated longitude read as its magnitude
        warnings.simplefilter("error", UnitStrippedWarning)
        east, north = q.grad.horizontal()
    assert east.data.units == registry.Unit("K / m")
    np.testing.assert_array_equal(east.data.magnitude, grid.da.grad.horizontal()[0].values)


def test_pint_quantified_projected_km():
    """Projection coordinates in km quantified by pint-xarray: their units are pint's (the
    attribute is gone), read as km, not refused as "units None" nor taken as metres."""
    pytest.importorskip("pint_xarray")
    import warnings

    from cf_xarray.units import units as registry
    from pint import UnitStrippedWarning

    grid = projected(12, units="km")
    q = grid.da.pint.quantify(unit_registry=registry)
    assert "units" not in q.x.attrs
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitStrippedWarning)
        east, _ = q.grad.horizontal()
        along = q.grad.along("x")
    np.testing.assert_array_equal(east.data.magnitude, grid.da.grad.horizontal()[0].values)
    np.testing.assert_array_equal(along.data.magnitude, grid.da.grad.along("x").values)
    assert along.data.units == registry.Unit("K / m")


def test_float32_stays_float32():
    grid = orca_like(20, 11)
    east, north = grid.da.astype(np.float32).grad.horizontal(boundary={"x": "periodic"})
    assert east.dtype == np.float32 and north.dtype == np.float32
    ref = grid.da.grad.horizontal(boundary={"x": "periodic"})
    np.testing.assert_allclose(east.values, ref[0].values, rtol=1e-5, atol=1e-12)


def test_stereographic_file(sample_data=None):
    iris_sample_data = pytest.importorskip("iris_sample_data")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with xr.open_dataset(
            f"{iris_sample_data.path}/toa_brightness_stereographic.nc", decode_coords="all"
        ) as opened:  # in memory and closed: no "deallocating CachingFileManager" warning
            ds = opened.load()
    t = ds.data
    dy, dx = t.grad.along("y", "x")
    assert dx.attrs["xgrad_geometry"] == "projected" and dx.attrs["xgrad_radius"] == 6378169.0
    assert dx.attrs["units"] == "K m-1"
    east, north = t.astype(np.float64).grad.horizontal(edge_order=2)
    ref_east, ref_north = _metpy_east_north(
        t.assign_attrs(crs=pyproj.CRS.from_cf(dict(ds.stereographic.attrs))).drop_vars(
            "stereographic"
        )
    )
    ok = np.isfinite(ref_east)
    np.testing.assert_allclose(east.values[ok], ref_east[ok], rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(north.values[ok], ref_north[ok], rtol=1e-7, atol=1e-12)
    median = float(np.nanmedian(np.hypot(east, north)))
    assert 1e-6 < median < 1e-3  # brightness temperature: K per km is 1e-3


# --- errors --------------------------------------------------------------------------------------

ERRORS = {
    "cartesian geometry": (
        lambda: rotated(11).da,
        {"geometry": "cartesian"},
        r"horizontal derivatives are eastward and northward, per metre on the Earth; they need "
        r"geometry='auto' or 'sphere', not 'cartesian'",
    ),
    "no Earth grid": (
        lambda: xr.DataArray(np.zeros((4, 5)), dims=("y", "x")),
        {},
        r"horizontal derivatives need the two dims of one Earth grid, but among the dims "
        r"\('y', 'x'\) xgrad found none; it looked for a CF latitude/longitude",
    ),
    "only a latitude": (
        lambda: regular(11)[0].isel(lon=0),
        {},
        r"among the dims \('lat',\) xgrad found \{'sphere': \('lat',\)\}",
    ),
    "rotated pole without its grid mapping": (
        lambda: rotated(11).da.drop_vars("rotated_pole").drop_encoding(),
        {},
        r"eastward and northward derivatives on a rotated-pole grid need the position of its "
        r"pole: the 'rotated_latitude_longitude' grid mapping",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors(case):
    build, options, match = ERRORS[case]
    da = build()
    before = da.copy(deep=True)
    with pytest.raises(ValueError, match=match):
        da.grad.horizontal(**options)
    with pytest.raises(ValueError, match=match):
        da.to_dataset(name="T").grad.horizontal(**options)
    xr.testing.assert_identical(da, before)


def test_horizontal_refuses_a_plan_without_an_earth_grid():
    # a guard: a plan of index dims (as a Dataset's grid read without its coordinates gave,
    # in an audit: per index under the name d/deast) is an error, never a result
    from xgrad.horizontal import horizontal
    from xgrad.labelled import prepare
    from xgrad.options import Options

    da = xr.DataArray(np.ones((3, 4)), dims=("y", "x"), name="U")
    with pytest.raises(ValueError, match=r"of 'U' need an Earth grid, and none was found"):
        horizontal(da, prepare(da, ["x", "y"], Options()))
