"""Earth grids (issue #13): recognition, ``.grad.along`` per metre along grid lines, errors.

Oracles: analytic fields sampled on the true positions of each grid (``earth_grids.py``), with the
convergence order measured as the grid is refined; numpy on the rotated sphere; MetPy's
``geospatial_gradient`` on projected grids; in-memory results for chunked ones; real model
output from iris-sample-data (NEMO/ORCA, rotated pole, polar stereographic).
"""

from __future__ import annotations

import math
import sys

import dask
import dask.array as dsa
import numpy as np
import pytest
import xarray as xr
from earth_grids import (
    STEREO,
    R,
    lambert,
    orca,
    orca_like,
    order,
    projected,
    relative_error,
    rotated,
    sheared,
    stereo,
    wrf_like,
)

import xgrad  # noqa: F401  (registers .grad)
from xgrad import metric_cache
from xgrad.labelled import prepare
from xgrad.options import Options

pyproj = pytest.importorskip("pyproj")

PER_DEGREE = 180.0 / math.pi


# builder, dims of along, options, expected xgrad_geometry
GRIDS = {
    "rotated pole": (rotated, ("rlat", "rlon"), {}, "rotated_pole"),
    "polar stereographic": (stereo, ("y", "x"), {}, "projected"),
    "Lambert conformal": (lambert, ("y", "x"), {}, "projected"),
    "ORCA-like tripolar": (orca, ("y", "x"), {"boundary": {"x": "periodic"}}, "curvilinear"),
    "WRF-like XLAT/XLONG": (wrf_like, ("south_north", "west_east"), {}, "curvilinear"),
}

#: Finer grids where the fourth-order one-sided edge stencils reach their asymptotic regime
#: later (on a 2-degree rotated grid the measured order is 3.5-3.7, then 3.8-3.9)
SIZES = {"rotated pole": (81, 161, 321)}


# --- recognition -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(GRIDS))
@pytest.mark.parametrize("geometry", ["auto", "sphere"])
def test_recognised_and_recorded(case, geometry):
    build, dims, options, kind = GRIDS[case]
    grid = build(11)
    out = grid.da.grad.along(*dims, geometry=geometry, radius=R, **options)
    for o in out:
        assert o.attrs["xgrad_geometry"] == kind
        assert o.attrs["xgrad_radius"] == R
        assert o.attrs["units"] in ("K m-1",)


def test_radius_from_the_grid_mapping():
    """radius=None: the grid mapping's earth_radius (R here, not the mean 6371008.8 m)."""
    for build in (rotated, stereo):
        out = build(11).da.grad.along("rlat" if build is rotated else "y")
        assert out.attrs["xgrad_radius"] == R
    da = orca(11).da  # no grid mapping: the mean radius
    assert da.grad.along("y").attrs["xgrad_radius"] == 6371008.8
    ellipsoid = dict(STEREO, semi_major_axis=6378137.0, inverse_flattening=298.257223563)
    del ellipsoid["earth_radius"]
    out = stereo(11).da.grad.along("y", crs=ellipsoid)
    assert out.attrs["xgrad_radius"] == "WGS84"


def test_curvilinear_names_need_degrees():
    """2-D coordinates in plain 'degrees' are recognised by a model's usual names only."""
    da = orca(11).da
    assert da.grad.along("x").attrs["xgrad_geometry"] == "curvilinear"
    renamed = da.rename(nav_lat="foo", nav_lon="bar")
    assert "xgrad_geometry" not in renamed.grad.along("x").attrs  # per index, Cartesian
    metres = da.assign_coords(nav_lat=da.nav_lat.assign_attrs(units="m"))
    assert "xgrad_geometry" not in metres.grad.along("x").attrs
    cf = renamed.assign_coords(foo=renamed.foo.assign_attrs(standard_name="latitude"))
    cf = cf.assign_coords(bar=cf.bar.assign_attrs(units="degrees_east"))
    assert cf.grad.along("x").attrs["xgrad_geometry"] == "curvilinear"


def test_rotated_longitude_marked_degrees_east_uses_the_rotated_latitude():
    """rlon marked 'degrees_east': the rotated grid mapping (or standard_name) wins, and the
    metric takes cos of the rotated latitude, never of the 2-D true one."""
    grid = rotated(21)
    expected = grid.da.grad.along("rlon")
    marked = grid.da.assign_coords(rlon=grid.da.rlon.assign_attrs(units="degrees_east"))
    np.testing.assert_array_equal(marked.grad.along("rlon").values, expected.values)
    no_name = marked.assign_coords(
        rlon=marked.rlon.assign_attrs(standard_name="x"), rlat=marked.rlat.assign_attrs(axis="Y")
    )
    assert no_name.grad.along("rlon").attrs["xgrad_geometry"] == "rotated_pole"
    bare = no_name.drop_vars("rotated_pole")
    bare = bare.drop_encoding()
    with pytest.raises(ValueError, match=r"the latitude 'lat' varies along longitude dim 'rlon'"):
        bare.grad.along("rlon")


@pytest.mark.parametrize(
    "attrs",
    [
        ({"units": "degrees_north", "axis": "Y"}, {"units": "degrees_east", "axis": "X"}),
        ({"units": "degrees", "axis": "Y"}, {"units": "degrees", "axis": "X"}),
        ({"units": "degrees_north"}, {"units": "degrees_east"}),
    ],
    ids=["cf-units-and-axis", "degrees-and-axis", "cf-units"],
)
def test_rotated_grid_recognised_by_its_grid_mapping_alone(attrs, assert_bitwise_equal):
    """No standard_name grid_latitude/grid_longitude: the rotated grid mapping with angle
    coordinates (axis Y/X or CF units) is a rotated-pole grid for both dims, the rotated
    longitude's metric included (it asked for standard_name 'grid_latitude' before)."""
    grid = rotated(11)
    lat_attrs, lon_attrs = attrs
    da = grid.da.assign_coords(
        rlat=xr.Variable("rlat", grid.da.rlat.values, lat_attrs),
        rlon=xr.Variable("rlon", grid.da.rlon.values, lon_attrs),
    )
    for dims in (("rlat", "rlon"), ("rlon",), ("rlat",)):
        out = da.grad.along(*dims)
        expected = grid.da.grad.along(*dims)
        for o, e in zip(*(r if isinstance(r, tuple) else (r,) for r in (out, expected))):
            assert o.attrs["xgrad_geometry"] == "rotated_pole"
            assert_bitwise_equal(o.values, e.values)
    for o, e in zip(da.grad.horizontal(), grid.da.grad.horizontal()):
        assert_bitwise_equal(o.values, e.values)


def test_rotated_coordinate_without_angle_units_is_named():
    """A grid_longitude in metres cannot be a rotated longitude: the error names it."""
    grid = rotated(11)
    metres = grid.da.assign_coords(rlon=grid.da.rlon.assign_attrs(units="m"))
    with pytest.raises(
        ValueError,
        match=r"coordinate 'rlon' is a grid_longitude but its units 'm' are not an angle; "
        r"give it angle units, e\.g\. `da\['rlon'\]\.attrs\['units'\] = 'degrees'`",
    ):
        metres.grad.along("rlon")


def test_projected_without_grid_mapping_uses_the_2d_latitude():
    grid = stereo(21)
    plain = grid.da.drop_vars("crs")
    plain = plain.drop_encoding()
    out = plain.grad.along("x", radius=R, edge_order=2)
    assert out.attrs["xgrad_geometry"] == "curvilinear"
    exact_metric = grid.da.grad.along("x", edge_order=2)
    assert relative_error(out, grid.along["x"]) < 1.5 * relative_error(
        exact_metric, grid.along["x"]
    )
    bare = plain.drop_vars(["lat", "lon"])
    cartesian = bare.grad.along("x")  # auto: per projected metre, as numpy
    np.testing.assert_array_equal(cartesian.values, np.gradient(bare.values, bare.x.values, axis=1))
    with pytest.raises(ValueError, match=r"are projection coordinates, but no grid mapping"):
        bare.grad.along("x", geometry="sphere")


def test_projection_known_to_be_missing_is_an_error_not_per_projected_metre():
    # An audit: `xr.open_dataset(f)["T"]` keeps T's grid_mapping attribute but not the mapping
    # variable; `along` and `horizontal` then went per projected metre, without map factors
    # (horizontal calling x east and y north, units 'K m-1' for km coordinates).
    grid = lambert(15)
    ds = grid.da.drop_encoding().to_dataset(name="T")
    ds = ds.reset_coords("crs").drop_vars(["lat", "lon"])
    ds.T.attrs["grid_mapping"] = "crs"
    alone = ds.T  # the mapping variable is not carried
    fix = r"names 'crs', which is not a coordinate here; .*`crs=ds\['crs'\]`"
    with pytest.raises(
        ValueError, match=r"are projection coordinates, but no grid mapping.*" + fix
    ):
        alone.grad.along("x")
    with pytest.raises(ValueError, match=fix):
        alone.grad.horizontal()
    # the fixes work: crs=, or per projected metre on purpose
    exact = grid.da.grad.along("x")
    np.testing.assert_array_equal(alone.grad.along("x", crs=ds.crs).values, exact.values)
    per_metre = alone.grad.along("x", geometry="cartesian")
    np.testing.assert_array_equal(
        per_metre.values, np.gradient(alone.values, alone.x.values, axis=1)
    )
    # the Dataset carries the mapping variable: projected
    assert ds.grad.along("x").T.attrs["xgrad_geometry"] == "projected"
    # no grid mapping at all: east and north are unknowable (along stays per projected metre)
    bare = alone.copy()
    del bare.attrs["grid_mapping"]
    with pytest.raises(ValueError, match=r"the data has no grid_mapping attribute"):
        bare.grad.horizontal()
    assert "xgrad_geometry" not in bare.grad.along("x").attrs
    # Earth-relative components need the projection too (curl/divergence went Cartesian)
    wind = xr.Dataset({"u": alone, "v": alone})
    for call in (wind.grad.curl, wind.grad.divergence, wind.grad.deformation):
        with pytest.raises(ValueError, match=fix):
            call({"east": "u", "north": "v"})


def test_variables_naming_different_grid_mappings_are_an_error():
    grid = lambert(15)
    ds = grid.da.drop_encoding().to_dataset(name="T").reset_coords("crs")
    ds = ds.drop_vars(["lat", "lon"])
    ds["S"] = ds.T * 2
    ds["crs2"] = ds.crs.copy()
    ds.T.attrs["grid_mapping"], ds.S.attrs["grid_mapping"] = "crs", "crs2"
    with pytest.raises(ValueError, match=r"name different grid mappings \('crs', 'crs2'\)"):
        ds.grad.along("x")
    one = ds[["T", "crs"]].grad.along("x")
    np.testing.assert_array_equal(one.T.values, grid.da.grad.along("x").values)


def test_cartesian_geometry_is_numpy_on_projected_grids():
    da = lambert(21).da
    dy, dx = da.grad.along("y", "x", geometry="cartesian")
    ref = np.gradient(da.values, da.y.values, da.x.values)
    np.testing.assert_array_equal(dy.values, ref[0])
    np.testing.assert_array_equal(dx.values, ref[1])
    assert "xgrad_geometry" not in dx.attrs


@pytest.mark.parametrize("form", ["dict", "DataArray", "pyproj"])
def test_crs_forms_agree(form):
    grid = stereo(15)
    da = grid.da.drop_vars("crs")
    da = da.drop_encoding()
    crs = {
        "dict": STEREO,
        "DataArray": grid.da.crs,
        "pyproj": pyproj.CRS.from_cf(STEREO),
    }[form]
    expected = grid.da.grad.along("y", "x")
    for out, ref in zip(da.grad.along("y", "x", crs=crs), expected):
        np.testing.assert_allclose(out.values, ref.values, rtol=1e-12)
        assert out.attrs["xgrad_geometry"] == "projected"


def test_kilometre_coordinates():
    metres, km = projected(15), projected(15, units="km")
    for a, b in zip(metres.da.grad.along("y", "x"), km.da.grad.along("y", "x")):
        np.testing.assert_allclose(a.values, b.values, rtol=1e-12)
        assert b.attrs["units"] == "K m-1"


# --- along: oracles ------------------------------------------------------------------------------


def test_rotated_along_is_the_sphere_derivative_on_the_rotated_sphere():
    """numpy oracle: np.gradient in rotated degrees times (180/pi)/R, and times
    1/cos(rotated latitude) along the rotated longitude: the same bits."""
    da = rotated(31).da
    drlat, drlon = da.grad.along("rlat", "rlon")
    k = PER_DEGREE / R
    ref_lat, ref_lon = np.gradient(da.values, da.rlat.values, da.rlon.values)
    np.testing.assert_array_equal(drlat.values, ref_lat * k)
    sec = 1.0 / np.cos(np.radians(da.rlat.values))[:, None]
    np.testing.assert_array_equal(drlon.values, ref_lon * (k * sec))


@pytest.mark.parametrize("case", list(GRIDS))
@pytest.mark.parametrize(("accuracy", "edge_order", "minimum"), [(2, 2, 1.8), (4, 1, 3.5)])
def test_along_converges(case, accuracy, edge_order, minimum):
    build, dims, options, _ = GRIDS[case]
    errors = {d: [] for d in dims}
    for n in SIZES.get(case, (21, 41, 81)):
        grid = build(n)
        out = grid.da.grad.along(
            *dims, accuracy=accuracy, edge_order=edge_order, radius=R, **options
        )
        for d, o in zip(dims, out):
            errors[d].append(relative_error(o, grid.along[d]))
    for d in dims:
        assert min(order(errors[d])) > minimum, (d, errors[d])


def test_projected_along_matches_metpy():
    """MetPy's geospatial_gradient (grid-relative, map factors from pyproj) on the same grid:
    the same stencils with edge_order=2, so they agree to pyproj's factors (~1e-10)."""
    mpcalc = pytest.importorskip("metpy.calc")
    from metpy.units import units

    for build in (stereo, lambert):
        da = build(31).da
        crs = pyproj.CRS.from_cf(dict(da.crs.attrs))
        dfdx, dfdy = mpcalc.geospatial_gradient(
            units.Quantity(da.values, "K"),
            dx=units.Quantity(np.diff(da.x.values), "m"),
            dy=units.Quantity(np.diff(da.y.values), "m"),
            latitude=units.Quantity(da.lat.values, "degrees"),
            longitude=units.Quantity(da.lon.values, "degrees"),
            crs=crs,
        )
        dy, dx = da.grad.along("y", "x", edge_order=2)
        assert relative_error(dx, dfdx.m) < 1e-9
        assert relative_error(dy, dfdy.m) < 1e-9


def test_curvilinear_metric_uses_the_data_stencils():
    """A field linear in the grid index along x has the same stencil error as the grid's
    positions, so per metre it is exactly the reciprocal of the metric's length."""
    grid = orca(21)
    index = xr.DataArray(np.broadcast_to(np.arange(40.0), (21, 40)), dims=("y", "x"))
    da = grid.da.copy(data=index.values)
    for accuracy in (2, 4, 6):
        out = da.grad.along("x", accuracy=accuracy, boundary={"x": "periodic"})
        plan = prepare(da, ["x"], Options(accuracy=accuracy, boundary={"x": "periodic"}))
        scale = plan.metric.scales["x"].values
        # d(index)/dx is 1 except across the seam (index jumps by -40 there)
        np.testing.assert_allclose(out.values[:, 3:-3], scale[:, 3:-3], rtol=1e-12)


def test_metric_is_two_dimensional_and_broadcast_over_time():
    grid = orca(11)
    da = grid.da.expand_dims(time=3).copy()
    da[1] = 2 * da[1]
    plan = prepare(da, ["y", "x"], Options())
    assert plan.metric.scales["x"].dims == ("y", "x")
    dy, dx = da.grad.along("y", "x")
    ref_y, ref_x = grid.da.grad.along("y", "x")
    np.testing.assert_array_equal(dx[0].values, ref_x.values)
    np.testing.assert_array_equal(dx[1].values, (2 * grid.da).grad.along("x").values)


def _chunked(da, chunks):
    """A dask-backed copy whose coordinates stay in memory."""
    data = dsa.from_array(da.values, chunks=tuple(chunks[d] for d in da.dims))
    return da.copy(data=data)


@pytest.mark.parametrize("case", list(GRIDS))
def test_chunked_is_bit_identical_and_lazy(case, assert_bitwise_equal, raise_on_compute):
    build, dims, options, _ = GRIDS[case]
    da = build(17).da
    if case.startswith("ORCA"):
        da = orca_like(32, 17).da
    sizes = dict(da.sizes)
    ragged = {d: (1, 2, 5, sizes[d] - 8) for d in da.dims}
    lazy = _chunked(da, ragged)
    with dask.config.set(scheduler=raise_on_compute):
        out = lazy.grad.along(*dims, accuracy=4, **options)
        east, north = lazy.grad.horizontal(accuracy=4, radius=R, **options)
    expected = da.grad.along(*dims, accuracy=4, **options)
    for o, e in zip(out, expected):
        assert isinstance(o.data, dsa.Array) and o.chunks == lazy.chunks
        assert_bitwise_equal(o.values, e.values)
    for o, e in zip((east, north), da.grad.horizontal(accuracy=4, radius=R, **options)):
        assert isinstance(o.data, dsa.Array) and o.chunks == lazy.chunks
        assert_bitwise_equal(o.values, e.values)


def test_dask_coordinates_are_read_the_data_never(counting_array):
    grid = orca(11)
    data, computed = counting_array(grid.da.values, (3, 7))
    da = grid.da.copy(data=data).chunk()  # chunks the 2-D coordinates too
    assert isinstance(da.nav_lat.data, dsa.Array)
    dy, dx = da.grad.along("y", "x")
    east, north = da.grad.horizontal()
    assert computed() == 0
    np.testing.assert_array_equal(dx.values, grid.da.grad.along("x").values)


def test_input_is_not_modified():
    for build, dims, options, _ in GRIDS.values():
        da = build(11).da
        before = da.copy(deep=True)
        da.grad.along(*dims, **options)
        da.grad.horizontal(**options)
        xr.testing.assert_identical(da, before)
        assert da.encoding == before.encoding


# --- errors --------------------------------------------------------------------------------------


def _nan_latitude(c):
    da = orca(11).da
    lat = da.nav_lat.values.copy()
    lat[2, 3] = np.nan
    return da.assign_coords(nav_lat=(da.nav_lat.dims, lat, da.nav_lat.attrs))


def _bad_latitude(c):
    da = orca(11).da
    return da.assign_coords(nav_lat=da.nav_lat + 100)


ERRORS = {
    "2-D latitude given to along": (
        lambda c: orca(11).da,
        lambda o: o.grad.along("nav_lat"),
        r"coordinate 'nav_lat' is the 2-D latitude of a curvilinear grid with dims \('y', "
        r"'x'\); a derivative is taken along the grid dims: per metre along each grid line with "
        r"`\.grad\.along\('y', 'x'\)`, or eastward and northward with `\.grad\.horizontal\(\)`",
    ),
    "NaN latitude over land": (
        _nan_latitude,
        lambda o: o.grad.along("y"),
        r"latitude coordinate 'nav_lat' contains nan \(nav_lat\[2, 3\]\).*need the positions of "
        r"every point, land included: take them from the model's grid or mesh file",
    ),
    "latitude beyond the pole, only in a metric": (
        _bad_latitude,
        lambda o: o.grad.along("x", boundary={"x": "periodic"}),
        r"latitude coordinate 'nav_lat' has values outside \[-90, 90\] degrees",
    ),
    "sphere with no horizontal dim": (
        lambda c: xr.DataArray(np.zeros((4, 5)), dims=("t", "x"), coords={"x": np.arange(5.0)}),
        lambda o: o.grad.along("x", geometry="sphere"),
        r"geometry='sphere': none of the dims \('x',\) is recognised as horizontal; xgrad looked "
        r"for a CF latitude/longitude .*grid_latitude.*projection_x_coordinate.*2-D "
        r"latitude/longitude",
    ),
    "projection coordinates without a grid mapping under sphere": (
        lambda c: stereo(11).da.drop_vars(["crs", "lat", "lon"]),
        lambda o: o.grad.along("y", geometry="sphere"),
        r"the dims \('y',\) are projection coordinates, but no grid mapping gives the map "
        r"projection: the data's grid_mapping attribute names 'crs', which is not a coordinate "
        r"here; if the file has it, open the file with `xr\.open_dataset\(path, "
        r"decode_coords='all'\)` \(the command line does\) or pass it: `crs=ds\['crs'\]`; if "
        r"not, pass the projection: `crs=` a dict of its CF attributes or a pyproj CRS",
    ),
    "crs on a regular grid": (
        lambda c: xr.DataArray(
            np.zeros(3),
            dims="lat",
            coords={"lat": ("lat", [0.0, 1.0, 2.0], {"units": "degrees_north"})},
        ),
        lambda o: o.grad.along("lat", crs=STEREO),
        r"crs is a 'polar_stereographic' grid mapping, but the dims \('lat',\) are a sphere grid, "
        r"where it would not be used\. crs applies to projected grids",
    ),
    "crs on a curvilinear grid": (
        lambda c: orca(11).da,
        lambda o: o.grad.along("y", crs=STEREO),
        r"crs is a 'polar_stereographic' grid mapping, but the dims \('y',\) are a curvilinear grid",
    ),
    "crs in cartesian geometry": (
        lambda c: stereo(11).da,
        lambda o: o.grad.along("y", geometry="cartesian", crs=STEREO),
        r"crs is a 'polar_stereographic' grid mapping, but the dims \('y',\) are no Earth grid",
    ),
    "rotated pole on an ellipsoid": (
        lambda c: rotated(11).da,
        lambda o: o.grad.along("rlat", radius="WGS84"),
        r"a rotated-pole grid lies on a sphere, but the figure of the Earth is the ellipsoid "
        r"'WGS84'; give a radius in metres",
    ),
    "crs without grid_mapping_name": (
        lambda c: stereo(11).da,
        lambda o: o.grad.along("y", crs={"earth_radius": 6.4e6}),
        r"crs has no 'grid_mapping_name' \(nor 'crs_wkt'\)",
    ),
    "bad projection units": (
        lambda c: stereo(11).da.assign_coords(x=stereo(11).da.x.assign_attrs(units="degrees")),
        lambda o: o.grad.along("x"),
        r"projection coordinate 'x' has units 'degrees'; the grid mapping needs a length",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
@pytest.mark.parametrize("chunked", [False, True])
def test_errors(case, chunked, raise_on_compute):
    build, call, match = ERRORS[case]
    obj = build(None)
    if chunked:
        obj = obj.copy(data=dsa.from_array(obj.values, chunks=3))
    before = obj.copy(deep=True)
    with dask.config.set(scheduler=raise_on_compute):
        with pytest.raises(ValueError, match=match):
            call(obj)
    xr.testing.assert_identical(obj, before)


def test_crs_of_the_wrong_type():
    with pytest.raises(TypeError, match=r"crs=42 must be a pyproj CRS, a dict of CF"):
        stereo(11).da.grad.along("y", crs=42)


def test_missing_pyproj_is_a_clear_import_error(monkeypatch):
    da, curvilinear = stereo(11).da, orca(11).da
    monkeypatch.setitem(sys.modules, "pyproj", None)
    with pytest.raises(ImportError, match=r'pip install "xgrad\[geo\]"'):
        da.grad.along("y")
    # grids that need no projection work without pyproj
    assert curvilinear.grad.along("y").attrs["xgrad_geometry"] == "curvilinear"


# --- real model output ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_data():
    iris_sample_data = pytest.importorskip("iris_sample_data")
    return iris_sample_data.path


def _open(path, name):
    """The sample file in memory, the file closed (an open one left to the garbage collector
    warns "deallocating CachingFileManager ... not already closed")."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cell_measures 'area' not in the file
        with xr.open_dataset(f"{path}/{name}", decode_coords="all") as ds:
            return ds.load()


def _haversine_gradient(t, lat, lon, axis):
    """Centred difference over the great-circle distance between the two neighbours."""
    phi, lam = np.radians(lat), np.radians(lon)

    def shift(a, k):
        return np.roll(a, -k, axis=axis)

    dphi, dlam = shift(phi, 1) - shift(phi, -1), shift(lam, 1) - shift(lam, -1)
    h = (
        np.sin(dphi / 2) ** 2
        + np.cos(shift(phi, 1)) * np.cos(shift(phi, -1)) * np.sin(dlam / 2) ** 2
    )
    distance = 2 * 6371008.8 * np.arcsin(np.sqrt(h))
    return (shift(t, 1) - shift(t, -1)) / distance


def test_nemo_orca_sea_surface_temperature(sample_data):
    ds = _open(sample_data, "NEMO/nemo_1m_20150101-20150201_grid-T.nc")
    dy, dx = ds.tos.grad.along("y", "x")
    for out in (dy, dx):
        assert out.attrs["xgrad_geometry"] == "curvilinear"
        assert out.attrs["units"] == "K m-1"  # degree_C: a difference is in kelvin
    t = ds.tos.values[0].astype(float)
    for out, axis in ((dy, 0), (dx, 1)):
        ref = _haversine_gradient(t, ds.nav_lat.values, ds.nav_lon.values, axis)
        inner = (slice(1, -1), slice(1, -1))
        got = out.values[0][inner]
        ok = np.isfinite(got) & np.isfinite(ref[inner])
        # same centred differences; the metric differs by the chord/arc of two steps
        np.testing.assert_allclose(got[ok], ref[inner][ok], rtol=2e-3, atol=1e-12)
    east, north = ds.tos.grad.horizontal()
    speed = np.hypot(east, north).values
    median = float(np.nanmedian(speed))
    assert 1e-7 < median < 1e-5  # SST fronts: order 1e-6 K/m
    np.testing.assert_allclose(speed, np.hypot(dx, dy).values, rtol=1e-2)  # nearly orthogonal


def test_orca2_degrees_units_and_fold(sample_data):
    ds = _open(sample_data, "orca2_votemper.nc")
    dy, dx = ds.votemper.grad.along("dim0", "dim1")
    assert dx.attrs["xgrad_geometry"] == "curvilinear" and dx.attrs["units"] == "K m-1"
    assert not np.isinf(dx.values).any() and not np.isinf(dy.values).any()
    assert 1e-8 < float(np.nanmedian(np.abs(dx))) < 1e-4


def test_rotated_pole_file(sample_data):
    ds = _open(sample_data, "rotated_pole.nc")
    p = ds.air_pressure_at_sea_level
    drlat, drlon = p.grad.along("grid_latitude", "grid_longitude")
    assert drlat.attrs["xgrad_geometry"] == "rotated_pole"
    assert drlat.attrs["xgrad_radius"] == 6371229.0  # from the grid mapping
    assert drlat.attrs["units"] == "Pa m-1"
    k = PER_DEGREE / 6371229.0
    rlat = p.grid_latitude.values.astype(np.float64)
    ref = np.gradient(p.values, rlat, p.grid_longitude.values.astype(np.float64))
    np.testing.assert_array_equal(drlat.values, ref[0] * k)
    east, north = p.grad.horizontal()
    assert east.dtype == np.float32
    # a rotation by the grid angle: the magnitude is the grid-relative one (float64 to compare)
    p64 = p.astype(np.float64)
    east, north = p64.grad.horizontal()
    drlat, drlon = p64.grad.along("grid_latitude", "grid_longitude")
    np.testing.assert_allclose(np.hypot(east, north), np.hypot(drlat, drlon), rtol=1e-12)
    assert 1e-5 < float(np.median(np.abs(east))) < 1e-2  # Pa/m: 1 hPa per 100 km is 1e-3


def test_wrf_latitude_with_a_time_dim():
    """WRF writes XLAT(Time, south_north, west_east): the grid dims are the last two, and the
    grid must not move in time."""
    da = wrf_like(11).da
    t = da.expand_dims(Time=2).copy()
    t = t.assign_coords(XLAT=da.XLAT.expand_dims(Time=2), XLONG=da.XLONG.expand_dims(Time=2))
    out = t.grad.along("south_north", "west_east")
    for o, ref in zip(out, da.grad.along("south_north", "west_east")):
        np.testing.assert_array_equal(o[1].values, ref.values)
    assert "xgrad_geometry" not in t.grad.along("Time").attrs
    lat = t.XLAT.values.copy()
    lat[1] += 0.1
    moving = t.assign_coords(XLAT=(t.XLAT.dims, lat, t.XLAT.attrs))
    with pytest.raises(
        ValueError, match=r"coordinate 'XLAT' varies along \('Time',\), so the grid"
    ):
        moving.grad.along("south_north")


# --- the compiled curvilinear metric and rotation (xgrad._metric_kernels) ----------------------


def test_compiled_metric_matches_reference(assert_bitwise_equal):
    """The numba kernels spell out the numpy reference's operations in its order: same bits,
    poles (no east/north) and zero tangents (coincident points: NaN scale) included."""
    from xgrad import _metric_kernels as compiled
    from xgrad._metric_reference import frame_reference, scale_reference
    from xgrad.earth import Figure

    rng = np.random.default_rng(3)
    phi = rng.uniform(-np.pi / 2, np.pi / 2, (7, 9))
    lam = rng.uniform(-np.pi, np.pi, (7, 9))
    phi[0, :2] = np.pi / 2
    assert_bitwise_equal(compiled.positions(phi, lam), Figure.sphere(1.0).positions(phi, lam))
    unit = compiled.positions(phi, lam)
    unit[:, 0, 0] = (0.0, 0.0, 1.0)  # exactly at a pole
    tx, ty = rng.standard_normal((2, 3, 7, 9))
    tx[:, 1, 1] = 0.0
    ty[:, 2, 3] = 0.0
    for radius in (1.0, 6371008.8):
        got = compiled.frame(unit, tx, ty, radius)
        for g, e in zip(got, frame_reference(unit, tx, ty, radius), strict=True):
            assert_bitwise_equal(g, e)
        assert_bitwise_equal(compiled.scale(tx, radius), scale_reference(tx, radius))
    assert np.isnan(got[0][1, 1]) and np.isnan(got[2][0, 0])
    # degrees divided inside the kernel: numpy's `lat / per_lat`, the same bits
    per = 180.0 / np.pi
    deg = compiled.positions(np.degrees(phi), np.degrees(lam), per, per)
    sphere = Figure.sphere(1.0).positions(np.degrees(phi) / per, np.degrees(lam) / per)
    assert_bitwise_equal(deg, sphere)


def test_compiled_metric_on_threads_matches_one_thread(assert_bitwise_equal, monkeypatch):
    """A large grid's points are cut into ranges run on threads (uneven ranges here): pointwise
    kernels, so the bits of one thread."""
    from xgrad import _metric_kernels as compiled

    rng = np.random.default_rng(6)
    n = 3 * compiled.MIN_POINTS_PER_THREAD + 17
    lat, lon = rng.uniform(-90.0, 90.0, n), rng.uniform(-180.0, 180.0, n)
    tx, ty = rng.standard_normal((2, 3, n))
    results = {}
    for threads in (1, 3):
        monkeypatch.setattr(compiled, "cpu_threads", lambda threads=threads: threads)
        unit = compiled.positions(lat, lon, 57.0, 57.5)
        results[threads] = (
            unit,
            *compiled.frame(unit, tx, ty, 6371008.8),
            compiled.scale(ty, 2.0),
            compiled.product(tx[0], ty[0], np.dtype(np.float32)),
        )
    for one, many in zip(results[1], results[3], strict=True):
        assert_bitwise_equal(many, one)


@pytest.mark.parametrize("tiled", [False, True])
@pytest.mark.parametrize("radius", [None, "WGS84"])
@pytest.mark.parametrize(
    "options",
    [{}, {"accuracy": 4}, {"edge_order": 2}, {"accuracy": 6, "boundary": "edge"}],
)
def test_curvilinear_metric_is_the_numpy_reference(
    options, radius, tiled, assert_bitwise_equal, monkeypatch
):
    """grid_metric's frame on a curvilinear grid (positions by rows, tangents turned into the
    frame tile by tile inside the engine's pass) has the bits of the plain steps: numpy
    positions (Figure.positions), whole-array tangents in the (3, ny, nx) layout and the NumPy
    reference of the frame; the tangents-only metric (``along``) too. ``tiled``: tiles of two
    rows on three threads, as on a large grid."""
    from xgrad import blocks, inmemory, metrics

    if tiled:
        monkeypatch.setattr(blocks, "TILE_BYTES", 2 * 3 * 72 * 8)
        monkeypatch.setattr(inmemory, "_MIN_THREADED_BYTES", 0)
        monkeypatch.setattr(inmemory, "cpu_threads", lambda: 3)
    from xgrad._metric_reference import frame_reference, scale_reference
    from xgrad.engine import differentiate
    from xgrad.periodic import axis_spacing

    da = orca(37).da
    lat = da.nav_lat.values.copy()
    lat[0, 3] = -90.0  # a point at the pole (cos(-pi/2) is 6e-17: a finite frame)
    da = da.assign_coords(nav_lat=(da.nav_lat.dims, lat, da.nav_lat.attrs))
    plan = prepare(da, ("y", "x"), Options(radius=radius, **options), frame=True)
    grid, spacings = plan.grid, {s.dim: s for s in plan.spacings}
    metric_cache.clear_metrics()
    got = metrics.grid_metric(da, grid, plan.spacings, plan.options, frame=True)
    along_only = metrics.grid_metric(da, grid, [spacings["y"]], plan.options)
    figure = grid.figure
    phi, lam = lat / PER_DEGREE, da.nav_lon.values / PER_DEGREE  # as the metric divides
    unit = figure.sphere(1.0).positions(phi, lam)
    position = unit if figure.is_sphere else figure.positions(phi, lam)
    tx, ty = differentiate(
        position,
        (2, 1),
        [axis_spacing(spacings[d]) for d in ("x", "y")],
        edge_order=plan.options.edge_order,
        accuracy=plan.options.accuracy,
        periodic=tuple(spacings[d].period is not None for d in ("x", "y")),
    )
    scale = figure.semi_major_axis if figure.is_sphere else 1.0
    sx, sy, ex, ey, nx, ny = frame_reference(unit, tx, ty, scale)
    assert_bitwise_equal(got.scales["x"].values, sx)
    assert_bitwise_equal(got.scales["y"].values, sy)
    expected = {"east": {"x": ex, "y": ey}, "north": {"x": nx, "y": ny}}
    for row, fields in expected.items():
        for dim, field in fields.items():
            assert got.to_earth[row][dim].values.flags.c_contiguous
            assert_bitwise_equal(got.to_earth[row][dim].values, field)
    assert_bitwise_equal(along_only.scales["y"].values, scale_reference(ty, scale))


def test_frame_tiles_without_out_is_the_reference(assert_bitwise_equal):
    """The engine's combine protocol: without ``out`` (its dtype probe, or any caller that
    gives none) frame_tiles computes with numpy, the bits of the kernel with ``out``."""
    from xgrad import _metric_kernels as compiled

    rng = np.random.default_rng(8)
    unit = compiled.positions(*rng.uniform(-80.0, 80.0, (2, 5, 6)), 57.0, 57.5, axis=-2)
    tx, ty = rng.standard_normal((2, 5, 3, 6))
    tx[1, :, 2] = 0.0
    stores = [np.empty((3, 5, 6)) for _ in range(2)]
    out = [a.transpose(1, 0, 2) for a in stores]
    into = compiled.frame_tiles([tx, ty], [unit], out, radius=6371008.8)
    assert into[0] is out[0] and into[1] is out[1]
    plain = compiled.frame_tiles([tx, ty], [unit], radius=6371008.8)
    for kernel, reference in zip(stores, plain, strict=True):
        assert_bitwise_equal(kernel, reference.transpose(1, 0, 2))
    probe = compiled.frame_tiles([np.zeros((1, 1, 1))] * 2, [np.zeros((1, 1, 1))], radius=1.0)
    assert [p.dtype for p in probe] == [np.float64, np.float64]


def test_positions_and_scales_by_rows(assert_bitwise_equal):
    """positions(axis=-2) is the (ny, 3, nx) layout of the same values (C-contiguous), and
    scale(axis=-2) reads it as scale() reads (3, ...) arrays; 1-D and 0-d points too."""
    from xgrad import _metric_kernels as compiled

    rng = np.random.default_rng(9)
    lat, lon = rng.uniform(-90.0, 90.0, (2, 4, 5, 6))
    first = compiled.positions(lat, lon, 57.0, 57.5)
    rows = compiled.positions(lat, lon, 57.0, 57.5, axis=-2)
    assert first.shape == (3, 4, 5, 6) and rows.shape == (4, 5, 3, 6)
    assert rows.flags.c_contiguous
    assert_bitwise_equal(rows, np.moveaxis(first, 0, -2))
    assert_bitwise_equal(compiled.scale(rows, 3.0, axis=-2), compiled.scale(first, 3.0))
    for points in (lat[0, 0], lat[0, 0, 0]):  # a 1-D set of points, one point
        alone = compiled.positions(points, points, 57.0, 57.5)
        assert alone.shape == (3, *np.shape(points))
        assert_bitwise_equal(
            alone,
            compiled.positions(lat, lon * 0 + lat, 57.0, 57.5)[
                (slice(None), 0, 0) + ((0,) if np.ndim(points) == 0 else ())
            ],
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_rotation_matches_numpy(dtype, assert_bitwise_equal):
    """Contiguous fields, fields broadcast along leading dims (a block of several time steps),
    and a mix of both give numpy's bits; other layouts are left to numpy (None)."""
    from xgrad._metric_kernels import rotate

    rng = np.random.default_rng(4)
    gx, gy = rng.standard_normal((2, 3, 5, 6)).astype(dtype)
    grid = rng.standard_normal((4, 1, 5, 6)).astype(dtype)
    layouts = {
        "contiguous": [np.ascontiguousarray(np.broadcast_to(g, gx.shape)) for g in grid],
        "broadcast": [np.broadcast_to(g, gx.shape) for g in grid],
    }
    layouts["mixed"] = layouts["contiguous"][:2] + layouts["broadcast"][2:]
    for matrix in layouts.values():
        east, north = rotate(gx, gy, *matrix)
        assert_bitwise_equal(east, gx * matrix[0] + gy * matrix[1])
        assert_bitwise_equal(north, gx * matrix[2] + gy * matrix[3])
    assert rotate(gx[:, ::2], gy[:, ::2], *(m[:, ::2] for m in layouts["contiguous"])) is None
    assert rotate(gx.astype(np.complex64), gy, *layouts["contiguous"]) is None


def test_compiled_product_is_numpys_cast_product(assert_bitwise_equal):
    from xgrad._metric_kernels import product

    a, b = np.random.default_rng(5).standard_normal((2, 4, 7)) * 1e3
    for dtype in (np.float32, np.float64):
        assert_bitwise_equal(product(a, b, np.dtype(dtype)), (a * b).astype(dtype))


def test_horizontal_frame_enters_the_graph_once_by_name(assert_bitwise_equal, raise_on_compute):
    """On dask the frame's fields are named by a token of their values (same input, same
    names), one combined kernel task per block; several time steps per block broadcast them."""
    da = orca(11).da.expand_dims(time=5).copy()
    da = da.copy(data=da.data * np.arange(1.0, 6.0)[:, None, None])
    lazy = da.copy(data=dsa.from_array(da.values, chunks=(2, 4, 11)))
    with dask.config.set(scheduler=raise_on_compute):
        east, north = lazy.grad.horizontal()
        again = lazy.grad.horizontal()
    assert east.data.name == again[0].data.name and north.data.name == again[1].data.name
    layers = east.data.__dask_graph__().layers
    assert len([k for k in layers if k.startswith("xgrad-frame-")]) == 4
    for o, e in zip((east, north), da.grad.horizontal(), strict=True):
        assert o.chunks == lazy.chunks
        assert_bitwise_equal(o.values, e.values)


def test_metric_is_reused_only_for_the_same_grid(assert_bitwise_equal):
    """grid_metric keeps the last grids' metrics keyed by a token of the coordinates' values
    (and the grid, spacings, options): the same grid again is not recomputed, a grid whose
    coordinates differ by one value, or other options, is."""
    from xgrad import metrics

    da = orca(11).da
    first = prepare(da, ("y", "x"), Options())
    again = prepare(da.copy(deep=True), ("y", "x"), Options())
    assert again.metric is first.metric
    lat = da.nav_lat.values.copy()
    lat[3, 4] += 1e-9
    moved = da.assign_coords(nav_lat=(da.nav_lat.dims, lat, da.nav_lat.attrs))
    other = prepare(moved, ("y", "x"), Options())
    assert other.metric is not first.metric and other.metric.token != first.metric.token
    assert prepare(da, ("y", "x"), Options(accuracy=4)).metric is not first.metric
    fresh = metrics._curvilinear(moved, other.grid, list(other.spacings), Options(), False)
    for d in ("y", "x"):
        assert_bitwise_equal(other.metric.scales[d].values, fresh.scales[d].values)
    assert len(metric_cache._entries) <= metric_cache.CACHED_GRIDS


def test_kept_metric_is_not_reused_after_coordinates_change_in_place(assert_bitwise_equal):
    """The kept metric is found by the coordinates' exact values, not by the array object: a
    coordinate written in place (one value, or only the sign of a zero), or a new array of the
    same shape, dtype, dims and attributes, gives the metric of the new values."""
    from xgrad import metrics

    metric_cache.clear_metrics()
    da = orca(11).da.copy(deep=True)
    first = prepare(da, ("y", "x"), Options(), frame=True).metric
    assert prepare(da, ("y", "x"), Options(), frame=True).metric is first
    da.nav_lon.values[5, 6] += 1e-7  # in place: same array object, same name, dims, attrs
    moved = prepare(da, ("y", "x"), Options(), frame=True)
    assert moved.metric is not first and moved.metric.token != first.token
    fresh = metrics._curvilinear(da, moved.grid, list(moved.spacings), Options(), True)
    for row in ("east", "north"):
        for d in ("y", "x"):
            assert_bitwise_equal(
                moved.metric.to_earth[row][d].values, fresh.to_earth[row][d].values
            )
    # the sign of a zero longitude changes sin(lon)'s bits, so it is another grid
    lon = da.nav_lon.values
    k = np.unravel_index(np.argmin(np.abs(lon)), lon.shape)
    lon[k] = 0.0
    zero = prepare(da, ("y", "x"), Options(), frame=True).metric
    lon[k] = -0.0
    assert prepare(da, ("y", "x"), Options(), frame=True).metric is not zero
    # a new array of the same shape and metadata, other values: another grid
    other = da.assign_coords(nav_lat=da.nav_lat.copy(data=da.nav_lat.values * 0.5))
    assert prepare(other, ("y", "x"), Options(), frame=True).metric is not zero


@pytest.mark.filterwarnings("ignore:Consolidated metadata:UserWarning")
def test_kept_metric_is_not_reused_for_a_store_rewritten_in_place(tmp_path, assert_bitwise_equal):
    # a Zarr store's 2-D coordinates rewritten in place (mode="r+") and reopened: xarray names
    # the dask arrays by path and modification time, which the store keeps, and the metric was
    # found by that name: grid B got grid A's derivatives (a factor cos(60 deg) off; an audit)
    metric_cache.clear_metrics()
    a = sheared(15, 5.0).da
    store = tmp_path / "grid.zarr"
    a.to_dataset(name="T").chunk(y=5, x=5).to_zarr(store)
    with xr.open_zarr(store, chunks={"y": 5, "x": 5}) as ds:
        first = ds.T.grad.horizontal()[0].values
    moved = xr.Dataset(coords={"lat": a.lat + 60.0, "lon": a.lon})
    moved.to_zarr(store, mode="r+")
    with xr.open_zarr(store, chunks={"y": 5, "x": 5}) as ds:
        second = ds.T.grad.horizontal()[0].values
    expected = a.assign_coords(lat=a.lat + 60.0).grad.horizontal()[0].values
    assert not np.array_equal(first, expected)
    assert_bitwise_equal(second, expected)
    metric_cache.clear_metrics()


def test_dask_coordinates_are_read_once_per_new_grid():
    # the metric cache computes dask coordinates for its key; the metric read them again from
    # the object (two reads of a file's coordinates per new grid; a review): once now, and once
    # per call on a kept grid (the key compares values, never dask names)
    metric_cache.clear_metrics()
    g = orca(12).da
    reads = []

    def counted(block):
        reads.append(block.shape)
        return block

    lat, lon = (
        dsa.from_array(c.values, chunks=(6, 11)).map_blocks(counted, dtype=float)
        for c in (g.nav_lat, g.nav_lon)
    )
    lazy = g.chunk(y=6, x=11).assign_coords(
        nav_lat=(g.nav_lat.dims, lat, g.nav_lat.attrs),
        nav_lon=(g.nav_lon.dims, lon, g.nav_lon.attrs),
    )
    blocks = lat.npartitions + lon.npartitions
    for method in ("along", "horizontal"):
        metric_cache.clear_metrics()
        del reads[:]
        getattr(lazy.grad, method)(*(("y", "x") if method == "along" else ()))
        assert len(reads) == blocks, (method, len(reads), blocks)
    del reads[:]
    lazy.grad.along("y", "x")
    assert len(reads) == blocks  # kept: found by the values read
    metric_cache.clear_metrics()


def test_one_kept_metric_serves_every_method_on_a_grid():
    # magnitude("y", "x") kept a metric without the frame and one with it (its dims in that
    # order), horizontal() one with the frame (x first): three entries of CACHED_GRIDS = 2,
    # recomputed in turn when a user alternates them (benchmarks/grids.py: horizontal()
    # 0.036 -> 0.112 s on ERA5's grid). The order of the dims is not part of the key, and a
    # metric with the frame serves the calls without it.
    metric_cache.clear_metrics()
    da = orca(11).da
    frame = prepare(da, ("x", "y"), Options(), frame=True).metric
    assert prepare(da, ("y", "x"), Options(), frame=True).metric is frame
    assert prepare(da, ("y", "x"), Options()).metric is frame
    for _ in range(2):
        da.grad.magnitude("y", "x")
        da.grad.horizontal()
        da.grad.along("y", "x")
        assert len(metric_cache._entries) == 1 and metric_cache._entries[0].metric is frame
    metric_cache.clear_metrics()
    one = prepare(da, ("x",), Options()).metric  # one dim: its own metric, as before
    assert one is not frame and set(one.scales) == {"x"}
    metric_cache.clear_metrics()


def test_kept_metrics_are_found_for_several_grids_of_one_shape():
    """Two grids with the same shape and metadata (two ensemble members' grids, alternating)
    are both kept, each found by its values; beyond CACHED_GRIDS the least recently used goes."""
    metric_cache.clear_metrics()
    a = orca(11).da
    b = a.assign_coords(nav_lat=a.nav_lat * 0.99)
    first_a = prepare(a, ("y", "x"), Options()).metric
    first_b = prepare(b, ("y", "x"), Options()).metric
    assert first_a is not first_b and first_a.token != first_b.token
    assert prepare(a, ("y", "x"), Options()).metric is first_a
    assert prepare(b, ("y", "x"), Options()).metric is first_b
    c = a.assign_coords(nav_lat=a.nav_lat * 0.98)
    prepare(c, ("y", "x"), Options())  # evicts a (b was used last)
    assert len(metric_cache._entries) == metric_cache.CACHED_GRIDS
    assert prepare(b, ("y", "x"), Options()).metric is first_b
    again = prepare(a, ("y", "x"), Options()).metric
    assert again is not first_a and again.token == first_a.token  # same values, same name
    metric_cache.clear_metrics()
    assert not metric_cache._entries


def test_kept_metric_copies_the_values_it_compares():
    """The kept values are a copy (writing the caller's array does not change them) and the
    comparison is bitwise: NaN payloads and signed zeros count, non-contiguous views work."""
    kept = np.array([[0.0, 1.0], [np.nan, 2.0]])
    key = metric_cache.grid_key([("lat", xr.Variable(("y", "x"), kept))], "grid")
    metric_cache.clear_metrics()
    metric_cache.keep(key, "metric")
    assert metric_cache.find(key) == "metric"
    kept[0, 1] = 5.0  # the caller's array, written after keep
    assert metric_cache.find(key) is None
    kept[0, 1] = 1.0
    view = np.asfortranarray(kept)  # same values, another layout
    again = metric_cache.grid_key([("lat", xr.Variable(("y", "x"), view))], "grid")
    assert again.key == key.key and metric_cache.find(again) == "metric"
    kept[0, 0] = -0.0
    assert metric_cache.find(key) is None
    metric_cache.clear_metrics()


def test_projection_coordinates_in_radians_are_converted_not_relabelled():
    # GOES-R ABI fixed grid: scan angles in rad under projection_x/y_coordinate; relabelling
    # them 'm' (what the error used to suggest) gives d/dnorth 4e7 times too large
    pytest.importorskip("pyproj")
    mapping = {
        "grid_mapping_name": "geostationary",
        "perspective_point_height": 35786023.0,
        "longitude_of_projection_origin": -75.0,
        "sweep_angle_axis": "x",
        "semi_major_axis": 6378137.0,
        "semi_minor_axis": 6356752.31414,
    }
    angles = np.linspace(0.05, 0.07, 11)
    da = xr.DataArray(
        np.zeros((11, 11)),
        dims=("y", "x"),
        coords={
            "x": ("x", angles, {"standard_name": "projection_x_coordinate", "units": "rad"}),
            "y": ("y", angles, {"standard_name": "projection_y_coordinate", "units": "rad"}),
            "crs": ((), 0, mapping),
        },
        attrs={"grid_mapping": "crs"},
    )
    with pytest.raises(
        ValueError,
        match=r"projection coordinate '.' is an angle \('rad'.*perspective_point_height.*"
        r"relabelling the units alone gives wrong numbers",
    ):
        da.grad.horizontal()
