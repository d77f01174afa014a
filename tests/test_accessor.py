"""The .grad accessor: DataArray.grad.along and Dataset.grad.along (cartesian, edge boundaries).

xarray's ``differentiate`` (and numpy.gradient with a float64 coordinate) is the oracle, compared
bit for bit. Every error message of the accessor has a ``pytest.raises(..., match=...)`` here; the
coordinate errors are in test_coords.py.
"""

from __future__ import annotations

import warnings

import dask
import dask.array as dsa
import numpy as np
import pytest
import xarray as xr

import xgrad.accessor  # noqa: F401  (registers .grad)
from xgrad import labelled as xlabelled

cf_units = pytest.importorskip("cf_xarray.units").units

COORDS = {
    "uniform": np.linspace(0.0, 3.5, 8),
    "nonuniform": np.array([0.2, 0.35, 0.4, 0.6, 0.7, 0.75, 0.76, 0.8]),
    "descending": np.array([90.0, 70.0, 45.0, 30.0, 0.0, -10.0, -45.0, -90.0]),
    "int": np.array([0, 2, 3, 7, 8, 10, 11, 15]),
    "int_uniform": np.arange(0, 16, 2),
}


def field(x, *, chunks=None, attrs=None):
    da = xr.DataArray(
        np.random.default_rng(0).random((8, 5)),  # same values every call
        dims=("x", "y"),
        coords={"x": ("x", x, {"units": "m"}), "y": [0.0, 1.0, 3.0, 6.0, 10.0], "z": 3},
        name="f",
        attrs={"units": "K", "long_name": "temperature"} if attrs is None else attrs,
    )
    return da if chunks is None else da.chunk(chunks)


def unchanged(da):
    """A deep copy to compare with afterwards (data, coords, attrs, encoding)."""
    return da.copy(deep=True)


def assert_unchanged(da, before):
    xr.testing.assert_identical(da, before)
    assert da.encoding == before.encoding


# --- values: bit for bit with xarray.DataArray.differentiate -----------------------------------


@pytest.mark.parametrize("coord", list(COORDS))
@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("chunks", [None, {"x": 3, "y": 2}, {"x": 1}])
def test_equals_xarray_differentiate(assert_bitwise_equal, coord, edge_order, chunks):
    da = field(COORDS[coord], chunks=chunks)
    before = unchanged(da)
    for dim in ("x", "y"):
        actual = da.grad.along(dim, edge_order=edge_order)
        # On numpy data: dask.array.gradient (under xarray) refuses chunks < edge_order + 2.
        expected = da.compute().differentiate(dim, edge_order=edge_order)
        assert actual.dims == da.dims and actual.name == "f"
        xr.testing.assert_identical(actual.coords.to_dataset(), da.coords.to_dataset())
        if chunks is not None:
            assert isinstance(actual.data, dsa.Array)
            assert actual.chunks == da.chunks
        assert_bitwise_equal(actual.values, expected.values)
    assert_unchanged(da, before)


def test_several_dims_one_gradient_call(engine_calls, assert_bitwise_equal):
    da = field(COORDS["nonuniform"], chunks={"x": 3})
    dy, dx = da.grad.along("y", "x", edge_order=2)
    assert [axes for axes, _ in engine_calls] == [(1, 0)]
    expected = da.compute()
    assert_bitwise_equal(dx.values, expected.differentiate("x", edge_order=2).values)
    assert_bitwise_equal(dy.values, expected.differentiate("y", edge_order=2).values)
    assert dx.attrs["units"] == "K m-1" and dy.attrs["units"] == "K"


def test_lazy_under_a_scheduler_that_refuses_to_compute(raise_on_compute):
    t = np.arange(8).astype("datetime64[h]").astype("datetime64[ns]")
    da = field(COORDS["nonuniform"], chunks={"x": 3, "y": 2})
    times = xr.DataArray(t, dims="x", coords={"x": COORDS["nonuniform"]}).chunk({"x": 3})
    with dask.config.set(scheduler=raise_on_compute):
        dx, dy = da.grad.along("x", "y", edge_order=2)
        dt = times.grad.along("x")
        dds = da.to_dataset().grad.along("x")
    for out in (dx, dy, dt, dds["f"]):
        assert isinstance(out.data, dsa.Array)
    assert dx.chunks == da.chunks and dt.chunks == times.chunks


def test_float32_coordinate_spacing_in_float64(assert_bitwise_equal):
    lat = np.linspace(-90, 90, 8, dtype=np.float32)
    data = np.random.default_rng(1).random((8, 5)).astype(np.float32)
    da = xr.DataArray(data, dims=("lat", "y"), coords={"lat": lat})
    actual = da.grad.along("lat")
    assert actual.dtype == np.float32
    assert_bitwise_equal(actual.values, np.gradient(data, lat.astype(np.float64), axis=0))


def test_integer_data_gives_float64(assert_bitwise_equal):
    da = xr.DataArray(np.arange(12).reshape(3, 4) ** 2, dims=("a", "b"))
    actual = da.grad.along("b")
    assert_bitwise_equal(actual.values, np.gradient(da.values, axis=1))


def test_non_dimension_coordinate_like_xarray(assert_bitwise_equal):
    da = field(COORDS["uniform"]).assign_coords(depth=("x", COORDS["nonuniform"] * 100))
    actual = da.grad.along("depth")
    assert_bitwise_equal(actual.values, da.differentiate("depth").values)
    assert actual.attrs["long_name"] == "derivative of temperature with respect to depth"


# --- time ------------------------------------------------------------------------------------

INSTANTS = ["2000-01-01T00", "2000-01-01T06", "2000-01-02T00", "2000-01-05T12", "2000-01-06T00"]


@pytest.mark.parametrize("storage", ["s", "ms", "us", "ns"])
def test_datetime64_storage_does_not_change_the_numbers(storage, assert_bitwise_equal):
    t = np.array(INSTANTS, dtype="datetime64[h]").astype(f"datetime64[{storage}]")
    values = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    da = xr.DataArray(values, dims="time", coords={"time": t}, attrs={"units": "K"})
    actual = da.grad.along("time")
    seconds = np.array([0, 6, 24, 108, 120], dtype=float) * 3600
    assert_bitwise_equal(actual.values, np.gradient(values, seconds))
    assert actual.attrs["units"] == "K s-1"
    hours = da.grad.along("time", datetime_unit="h")
    assert_bitwise_equal(hours.values, np.gradient(values, seconds / 3600))
    assert hours.attrs["units"] == "K h-1"


def test_cftime_noleap_per_second(assert_bitwise_equal):
    t = xr.date_range("2001-02-27", periods=5, freq="12h", calendar="noleap", use_cftime=True)
    values = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    da = xr.DataArray(values, dims="time", coords={"time": t}, attrs={"units": "m"})
    actual = da.grad.along("time")
    assert_bitwise_equal(actual.values, np.gradient(values, np.arange(5) * 43200.0))
    assert actual.attrs["units"] == "m s-1"
    assert_bitwise_equal(da.chunk(time=2).grad.along("time").values, actual.values)


@pytest.mark.parametrize("chunked", [False, True])
def test_derivative_of_time_along_time_is_one(chunked):
    t = np.array(INSTANTS, dtype="datetime64[ns]")
    times = xr.DataArray(t, dims="time", coords={"time": t}, name="t")
    cf = xr.date_range("2000-01-01", periods=5, freq="5D", calendar="noleap", use_cftime=True)
    cftimes = xr.DataArray(cf, dims="time", coords={"time": cf})
    if chunked:
        times = times.chunk(time=2)
    for da in (times, cftimes):
        for unit in (None, "h", "D"):
            out = da.grad.along("time", datetime_unit=unit)
            np.testing.assert_allclose(out.values, 1.0, rtol=1e-15)
            assert cf_units.Unit(out.attrs["units"]) == cf_units.Unit("1")


def test_datetime_data_along_space_with_nat():
    t = np.array(["2000-01-01", "2000-01-02", "NaT", "2000-01-05"], dtype="datetime64[s]")
    da = xr.DataArray(t, dims="x", coords={"x": ("x", [0.0, 1.0, 2.0, 3.0], {"units": "km"})})
    for data in (da, da.chunk(x=2)):
        out = data.grad.along("x", datetime_unit="D")
        np.testing.assert_array_equal(out.values, [1.0, np.nan, 1.5, np.nan])
        assert out.attrs["units"] == "d km-1"


# --- attributes and units --------------------------------------------------------------------


def test_units_and_long_name_parse_with_cf_xarray():
    da = field(COORDS["uniform"], attrs={"units": "m2 s-2", "long_name": "geopotential"})
    da = da.assign_coords(y=da.y.assign_attrs(units="s"))
    dx, dy = da.grad.along("x", "y")
    assert dx.attrs["units"] == "m s-2" and dy.attrs["units"] == "m2 s-3"
    assert dx.attrs["long_name"] == "derivative of geopotential with respect to x"
    assert cf_units.Unit(dx.attrs["units"]) == cf_units.Unit("m/s**2")
    assert cf_units.Unit(dy.attrs["units"]) == cf_units.Unit("m**2/s**3")


def test_missing_units():
    da = field(COORDS["uniform"], attrs={})
    dx, dy = da.grad.along("x", "y")
    assert dx.attrs["units"] == "m-1"  # no data units: dimensionless per metre
    assert "units" not in dy.attrs  # neither has units: nothing to claim
    assert dy.attrs["long_name"] == "derivative of f with respect to y"


@pytest.mark.parametrize("keep_attrs", [True, False])
def test_keep_attrs(keep_attrs):
    attrs = {"units": "K", "long_name": "T", "standard_name": "air_temperature", "source": "model"}
    da = field(COORDS["uniform"], attrs=attrs)
    da.encoding = {"dtype": "int16", "scale_factor": 0.01}
    before = unchanged(da)
    out = da.grad.along("x", keep_attrs=keep_attrs)
    common = {"units": "K m-1", "long_name": "derivative of T with respect to x"}
    common["xgrad_boundary"] = "edge"
    assert out.attrs == ({"source": "model"} | common if keep_attrs else common)
    assert out.encoding == {}  # the input's packing would corrupt the derivative on write
    assert out.x.attrs == {"units": "m"}
    assert_unchanged(da, before)


def test_result_keeps_the_input_coordinates_and_indexes():
    """The result has the input's coordinates and indexes as they are (as xarray's own
    differentiate and its arithmetic give them: no copied values, no rebuilt index) and a
    variable of its own: attrs and encoding set on it leave the input untouched."""
    da = field(COORDS["nonuniform"])
    before = unchanged(da)
    for out in (da.grad.along("x"), *da.grad.along("x", "y")):
        xr.testing.assert_identical(out.coords.to_dataset(), da.coords.to_dataset())
        assert set(out.xindexes) == set(da.xindexes)
        assert all(out.xindexes[k] is da.xindexes[k] for k in da.xindexes)
        out.attrs["note"] = "changed"
        out.encoding["dtype"] = "int8"
        assert_unchanged(da, before)


def test_pint_quantified_input():
    pint_xarray = pytest.importorskip("pint_xarray")  # noqa: F841
    da = field(COORDS["nonuniform"], attrs={"units": "degC"}).pint.quantify()
    out = da.grad.along("x")
    assert out.pint.units == cf_units.Unit("delta_degC / m")
    expected = field(COORDS["nonuniform"]).differentiate("x")
    np.testing.assert_array_equal(out.pint.magnitude, expected.values)
    assert "units" not in out.attrs


def test_quantified_then_chunked_coordinates_keep_their_units(assert_bitwise_equal):
    # pint-xarray's `quantify().chunk()` makes lat/lon dask arrays of pint blocks and drops
    # their units attribute: they were read as unitless, so a variable without units was
    # differentiated per degree (1.1e5 times too large, no units written), silently (an audit)
    pytest.importorskip("pint_xarray")
    lat, lon = np.linspace(-60.0, 60.0, 13), np.linspace(0.0, 330.0, 12)
    rng = np.random.default_rng(2)
    ds = xr.Dataset(
        {
            "w": (("lat", "lon"), rng.standard_normal((13, 12))),
            "u": (("lat", "lon"), rng.standard_normal((13, 12)), {"units": "m s-1"}),
            "v": (("lat", "lon"), rng.standard_normal((13, 12)), {"units": "m s-1"}),
        },
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
    )
    lazy = ds.pint.quantify().chunk({"lat": 4})
    assert "units" not in lazy.lat.attrs  # the layout that lost them
    got, want = lazy.w.grad.along("lat"), ds.w.grad.along("lat")
    assert got.attrs["xgrad_geometry"] == "sphere" and got.attrs["units"] == want.attrs["units"]
    assert_bitwise_equal(got.values, want.values)
    # quantified data in dask blocks: refused with the xarray spelling that works
    with pytest.raises(TypeError, match=r"chunk first, then quantify, `ds\.chunk\(\.\.\.\)\.pint"):
        lazy.grad.curl({"lon": "u", "lat": "v"})
    works = ds.pint.quantify().pint.chunk({"lat": 4})
    curl = works.grad.curl({"lon": "u", "lat": "v"})
    assert_bitwise_equal(
        curl.pint.dequantify().values, ds.grad.curl({"lon": "u", "lat": "v"}).values
    )
    assert str(curl.pint.units) == "1 / second"


# --- options ---------------------------------------------------------------------------------


def test_accuracy_and_nan_passed_through(engine_calls):
    field(COORDS["uniform"]).grad.along("x", accuracy=4, nan="one-sided", edge_order=2)
    ((_, options),) = engine_calls
    assert options == {
        "edge_order": 2,
        "accuracy": 4,
        "nan": "one-sided",
        "periodic": (False,),
        "scales": (None,),
        "names": ("x",),  # what a chunked engine's errors name
    }


@pytest.mark.parametrize("geometry", ["auto", "cartesian"])
@pytest.mark.parametrize("boundary", ["auto", "edge", {"x": "edge"}])
def test_cartesian_edge_spellings_are_the_same(geometry, boundary, assert_bitwise_equal):
    da = field(COORDS["nonuniform"])
    out = da.grad.along("x", geometry=geometry, boundary=boundary)
    assert_bitwise_equal(out.values, da.differentiate("x").values)
    assert out.attrs["xgrad_boundary"] == "edge"


# --- Dataset ---------------------------------------------------------------------------------


def test_dataset_maps_over_variables_with_all_dims(assert_bitwise_equal):
    da = field(COORDS["nonuniform"], chunks={"x": 3})
    ds = xr.Dataset(
        {"f": da, "g": 2 * da.isel(y=0, drop=True), "h": da.isel(x=0, drop=True)},
        attrs={"title": "t"},
    )
    before = ds.copy(deep=True)
    out = ds.grad.along("x")
    assert list(out.data_vars) == ["f", "g"]
    assert set(out.coords) == set(ds.coords)
    assert out.attrs == {"title": "t"}
    assert_bitwise_equal(out["f"].values, da.grad.along("x").values)
    assert_bitwise_equal(out["g"].values, ds["g"].differentiate("x").values)
    assert out["f"].chunks == da.chunks
    both = ds.grad.along("x", "y", keep_attrs=False)
    assert isinstance(both, tuple) and len(both) == 2
    assert [list(d.data_vars) for d in both] == [["f"], ["f"]]
    assert both[1].attrs == {} and both[1]["f"].attrs["units"] == "K"
    assert_bitwise_equal(both[1]["f"].values, da.differentiate("y").values)
    xr.testing.assert_identical(ds, before)


def test_dataset_without_matching_variables_is_empty():
    ds = xr.Dataset({"a": ("x", [1.0, 2.0])}, coords={"x": [0.0, 1.0], "y": [0.0, 1.0]})
    out = ds.grad.along("y")
    assert list(out.data_vars) == [] and set(out.coords) == {"x", "y"}


def test_dataset_dtype_errors_before_any_work(monkeypatch):
    monkeypatch.setattr(xlabelled, "differentiate", lambda *a, **k: pytest.fail("engine called"))
    ds = xr.Dataset({"a": ("x", [1.0, 2.0]), "s": ("x", np.array(["u", "v"], dtype=object))})
    with pytest.raises(TypeError, match=r"data variable 's' has dtype object"):
        ds.grad.along("x")


# --- errors ----------------------------------------------------------------------------------

OPTION_ERRORS = [
    (
        {"edge_order": 3},
        r"edge_order=3 is not valid; choose one of \(1, 2\), e\.g\. `edge_order=2`",
    ),
    ({"edge_order": True}, r"edge_order=True is not valid"),
    ({"accuracy": 3}, r"accuracy=3 is not valid; choose one of \(2, 4, 6\)"),
    ({"nan": "skip"}, r"nan='skip' is not valid; choose one of \('propagate', 'one-sided'\)"),
    ({"geometry": "flat"}, r"geometry='flat' is not valid; choose one of \('auto', 'cartesian', "),
    ({"boundary": "wrap"}, r"boundary='wrap' is not valid; choose one of \('auto', 'edge', "),
    ({"boundary": {"x": "wrap"}}, r"boundary\['x'\]='wrap' is not valid"),
    ({"boundary": {"q": "edge"}}, r"boundary names 'q', which is not a dimension; dimensions are"),
    ({"radius": -1.0}, r"radius=-1\.0 must be a positive number of metres, e\.g\. `radius="),
    ({"radius": "earth"}, r"radius='earth' must be a positive number"),
    ({"radius": float("nan")}, r"radius=nan must be a positive number"),
    (
        {"period": 360.0},
        r"period=360\.0 is only used with boundary='periodic' \(or by a CF longitude under "
        r"'auto'\), and no dimension in \('x',\) has either; ask for a seam: "
        r"`boundary='periodic'`",
    ),
    ({"period": {"x": 2.0}}, r"period\['x'\]=2 is given but the boundary of 'x' is 'auto'"),
    ({"period": {"q": 2.0}}, r"period names 'q', which is not a dimension; dimensions are"),
    ({"period": -1.0}, r"period=-1\.0 must be a positive, finite number"),
    ({"datetime_unit": "Y"}, r"datetime_unit='Y' is a calendar unit"),
    ({"datetime_unit": "sec"}, r"datetime_unit='sec' is not a valid unit"),
    (
        {"boundary": "periodic"},
        r"boundary='periodic' along 'x' needs a period, in the units of coordinate 'x' \(m\); "
        r"give it: `period=\{'x': \.\.\.\}`",
    ),
    ({"boundary": {"x": "periodic"}}, r"boundary='periodic' along 'x' needs a period"),
    (
        {"boundary": "periodic", "period": 3.5},
        r"coordinate 'x' spans 3\.5 \(from 0 to 3\.5\), which is not less than period=3\.5, so "
        r"it cannot wrap around; its last point repeats the first one, one period on; drop it: "
        r"`da\.isel\(\{'x': slice\(None, -1\)\}\)`",
    ),
    (
        {"boundary": "periodic", "period": 2.0},
        r"coordinate 'x' spans 3\.5 .*not less than period=2, .*select one period",
    ),
]


@pytest.mark.parametrize("chunks", [None, {"x": 3}])
@pytest.mark.parametrize(("options", "match"), OPTION_ERRORS)
def test_option_errors(options, match, chunks, monkeypatch):
    monkeypatch.setattr(xlabelled, "differentiate", lambda *a, **k: pytest.fail("engine called"))
    da = field(COORDS["uniform"], chunks=chunks)
    before = unchanged(da)
    with pytest.raises(ValueError, match=match):
        da.grad.along("x", **options)
    with pytest.raises(ValueError, match=match):
        da.to_dataset().grad.along("x", **options)
    assert_unchanged(da, before)


def test_keep_attrs_type():
    with pytest.raises(TypeError, match=r"keep_attrs='yes' must be True or False"):
        field(COORDS["uniform"]).grad.along("x", keep_attrs="yes")


CONVERT = r"Convert it first, e\.g\. `da\.astype\(float\)`"
LOAD = (  # chunked objects may be cftime values, differentiated once loaded
    r"cftime values are differentiated in memory: load them first, `da\.load\(\)`; other "
    r"objects: convert them, e\.g\. `da\.astype\(float\)`"
)


@pytest.mark.parametrize(
    ("data", "what", "fix"),
    [
        (np.array([[1, "a"], [2, "b"]], dtype=object), "object", CONVERT),
        (np.array([["a", "b"], ["c", "d"]]), "<U1", CONVERT),
        (np.array([[True, False], [False, True]]), "bool", CONVERT),
        (
            dsa.from_array(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=object), chunks=1),
            r"object \(chunked\)",
            LOAD,
        ),
    ],
)
def test_non_numeric_data_is_type_error(data, what, fix):
    da = xr.DataArray(data, dims=("x", "y"), name="v")
    with pytest.raises(
        TypeError,
        match=rf"data variable 'v' has dtype {what} and cannot be differentiated; xgrad needs "
        rf"numbers, datetime64 or \(in memory\) cftime values\. {fix}$",
    ):
        da.grad.along("x")


def test_coordinate_errors_reach_the_user_and_leave_input_unchanged():
    da = field(np.array([0.0, 1.0, 2.0, 1.5, 4.0, 5.0, 6.0, 7.0]), chunks={"x": 3})
    before = unchanged(da)
    with pytest.raises(ValueError, match=r"not monotonic.*`da\.sortby\('x'\)`"):
        da.grad.along("x")
    with pytest.raises(ValueError, match=r"'q' is not a dimension or coordinate"):
        da.grad.along("q", "x")
    with pytest.raises(ValueError, match=r"no dimension given"):
        da.grad.along()
    assert_unchanged(da, before)
    da.sortby("x").grad.along("x")  # the suggested fix works


def test_accessor_is_thin():
    da = field(COORDS["uniform"])
    assert da.grad.__slots__ == () and "_obj" in type(da.grad).__mro__[1].__slots__
    assert da.grad._obj is da


def test_dims_as_a_list_is_type_error():
    with pytest.raises(
        TypeError,
        match=r"dims must be given as separate arguments, not as list \['x', 'y'\]: "
        r"`\.grad\.along\('x', 'y'\)`",
    ):
        field(COORDS["uniform"]).grad.along(["x", "y"])


@pytest.mark.parametrize("method", ["magnitude", "laplacian"])
def test_dims_errors_name_the_method_called(method):
    """The fixes the dims errors suggest call the method the user called, on a DataArray
    and on a Dataset."""
    da = field(COORDS["uniform"])
    for obj in (da, da.to_dataset(name="f")):
        call = getattr(obj.grad, method)
        with pytest.raises(
            ValueError, match=rf"no dimension given; name at least one, e\.g\. `\.grad\.{method}\("
        ):
            call()
        with pytest.raises(
            TypeError,
            match=rf"not as list \['x', 'y'\]: `\.grad\.{method}\('x', 'y'\)`",
        ):
            call(["x", "y"])
        with pytest.raises(
            ValueError,
            match=rf"given more than once .*; ask for each dimension once, e\.g\. "
            rf"`\.grad\.{method}\('x'\)`",
        ):
            call("x", "x")


def test_pint_coordinate_units_unknown_to_the_data_registry(monkeypatch):
    pint = pytest.importorskip("pint")
    monkeypatch.setattr(xlabelled, "differentiate", lambda *a, **k: pytest.fail("engine called"))
    ureg = pint.UnitRegistry()  # a plain registry, without cf-xarray's definitions
    da = xr.DataArray(
        ureg.Quantity(np.arange(4.0), "K"),
        dims="x",
        coords={"x": ("x", [0.0, 1.0, 2.0, 3.0], {"units": "no_such_unit"})},
    )
    with pytest.raises(
        ValueError,
        match=r"the units of coordinate 'x' \('no_such_unit'\) are unknown to the pint registry "
        r"of the data; quantify the coordinate too: `da\.pint\.quantify\(\{'x': 'm'\}\)`",
    ):
        da.grad.along("x")


# Unknown chunk sizes (message and fix), every entry point:
# test_laziness_graph.py::test_unknown_chunks_raise_valueerror


def test_grid_attrs_only_on_derivatives_along_the_earth_grid():
    # along("time", "lat"): the time derivative keeps the time's units and says nothing of a
    # sphere; the latitude's records the geometry and radius
    da = xr.DataArray(
        np.arange(24.0).reshape(2, 3, 4),
        dims=("time", "lat", "lon"),
        coords={
            "time": ("time", [0.0, 6.0], {"units": "h"}),
            "lat": ("lat", [-10.0, 0.0, 10.0], {"units": "degrees_north"}),
            "lon": ("lon", [0.0, 5.0, 10.0, 15.0], {"units": "degrees_east"}),
        },
        attrs={"units": "K"},
    )
    d_dt, d_dlat = da.grad.along("time", "lat")
    assert d_dt.attrs["units"] == "K h-1"
    assert "xgrad_geometry" not in d_dt.attrs and "xgrad_radius" not in d_dt.attrs
    assert d_dlat.attrs["xgrad_geometry"] == "sphere" and d_dlat.attrs["xgrad_radius"] == 6371008.8


def test_dataset_on_a_staggered_grid_plans_each_set_of_dims(assert_bitwise_equal):
    # An audit: T on (lat, lon) and v on (lat_v, lon) made every Dataset method along lon fail
    # ("several coordinates are latitudes"), whose suggested fix (drop lat_v) broke v
    lat = np.arange(-60.0, 61.0, 10.0)
    lon = np.arange(0.0, 360.0, 20.0)
    wave = np.cos(np.deg2rad(lon))[None, :]
    ds = xr.Dataset(
        {
            "T": (("lat", "lon"), wave * np.cos(np.deg2rad(lat))[:, None], {"units": "K"}),
            "v": (("lat_v", "lon"), wave * np.ones((lat.size - 1, 1)), {"units": "m s-1"}),
        },
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lat_v": ("lat_v", lat[:-1] + 5.0, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
    )
    out = ds.grad.along("lon")
    for name in ("T", "v"):
        assert_bitwise_equal(out[name].values, ds[name].grad.along("lon").values)
    lap = ds.grad.laplacian("lon")
    assert_bitwise_equal(lap.v.values, ds.v.grad.laplacian("lon").values)
    # along lat: v lacks it and is left out, as before
    assert list(ds.grad.along("lat").data_vars) == ["T"]
    # one set of dims with two latitudes is still the error it was
    both = ds.assign(w=(("lat", "lat_v", "lon"), np.ones((lat.size, lat.size - 1, lon.size))))
    with pytest.raises(ValueError, match=r"latitude"):
        both[["w"]].grad.along("lon")


def test_dataset_string_variable_error_names_drop_vars():
    ds = xr.Dataset(
        {"T": ("x", [1.0, 2.0, 4.0]), "flag": ("x", np.array(["a", "b", "c"]))},
        coords={"x": [0.0, 1.0, 2.0]},
    )
    with pytest.raises(TypeError, match=r"'flag' has dtype <U1 .* `ds\.drop_vars\('flag'\)`"):
        ds.grad.along("x")
    with pytest.raises(TypeError, match=r"`da\.astype\(float\)`$"):  # a DataArray: no Dataset
        ds.flag.grad.along("x")


def test_float16_on_the_sphere_is_computed_in_float32():
    # An audit: per-metre derivatives of float16 data (1e-6 K m-1, Laplacians 1e-12) are below
    # float16's smallest normal number; the Laplacian came out exactly 0 at every point
    lat = np.arange(-60.0, 61.0, 10.0)
    lon = np.arange(0.0, 360.0, 30.0)
    values = (280 + 20 * np.cos(np.deg2rad(lat))[:, None] * np.cos(np.deg2rad(lon))).astype(
        np.float16
    )
    coords = {
        "lat": ("lat", lat, {"units": "degrees_north"}),
        "lon": ("lon", lon, {"units": "degrees_east"}),
    }
    half = xr.DataArray(values, dims=("lat", "lon"), coords=coords)
    full = half.astype(np.float64)
    for method in ("along", "laplacian"):
        got = getattr(half.grad, method)("lat", "lon")
        want = getattr(full.grad, method)("lat", "lon")
        got, want = (r if isinstance(r, tuple) else (r,) for r in (got, want))
        for g, w in zip(got, want, strict=True):
            assert g.dtype == np.float32
            np.testing.assert_allclose(g.values, w.values, rtol=1e-5, atol=1e-5 * abs(w).max())
    # Cartesian float16 stays float16, as in numpy
    plain = half.grad.along("lat", geometry="cartesian")
    assert plain.dtype == np.float16
    np.testing.assert_array_equal(plain.values, np.gradient(values, lat, axis=0))


def test_a_radius_in_kilometres_is_warned_about():
    # An audit: radius=6371.0 (the Earth in km) gave derivatives 1000 times too large,
    # labelled per metre, without a word; a unit sphere (radius=1) is a choice, not a slip
    da = xr.DataArray(
        np.arange(12.0).reshape(3, 4),
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", [-10.0, 0.0, 10.0], {"units": "degrees_north"}),
            "lon": ("lon", [0.0, 5.0, 10.0, 15.0], {"units": "degrees_east"}),
        },
    )
    with pytest.warns(UserWarning, match=r"radius=6371\.0 is in metres: .* `radius=6371000\.0`"):
        slip = da.grad.along("lat", radius=6371.0)
    right = da.grad.along("lat", radius=6371000.0)
    np.testing.assert_allclose(slip.values, 1000 * right.values)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        da.grad.along("lat", radius=1.0)
        da.grad.along("lat", radius=6371008.8)
