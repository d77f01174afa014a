"""geometry="sphere": CF recognition, metric factors, poles, descending latitude, errors.

The oracle is ``DataArray.differentiate`` in degrees times the metric factor: xgrad differentiates
in the coordinate's units and then multiplies, so along latitude the numbers are those bits
exactly, and along longitude they match to rounding of the factor.
"""

from __future__ import annotations

import math

import dask
import dask.array as dsa
import numpy as np
import pytest
import xarray as xr

import xgrad  # noqa: F401  (registers .grad)
from xgrad.geometry import LATITUDE_UNITS, LONGITUDE_UNITS, cf_role, cos_latitude

R = 6371008.8
PER_DEGREE = 180.0 / math.pi


def globe(nlat=19, nlon=24, *, lat=None, lon=None, chunks=None, extra_dims=False):
    """T(lat, lon) on a regular grid including the poles (nlat=19: every 10 degrees)."""
    lat = np.linspace(-90.0, 90.0, nlat) if lat is None else np.asarray(lat)
    lon = np.arange(nlon) * 360.0 / nlon if lon is None else np.asarray(lon)
    phi, lam = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
    values = 280 + 20 * np.cos(phi) ** 2 * np.cos(2 * lam) + 5 * np.sin(phi) + np.sin(lam)
    da = xr.DataArray(
        values,
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
        name="T",
        attrs={"units": "K", "long_name": "temperature", "standard_name": "air_temperature"},
    )
    if extra_dims:
        da = da.expand_dims(time=np.arange(3) * np.timedelta64(6, "h") + np.datetime64("2000"))
        da = (da * xr.DataArray([1.0, 2.0, 3.0], dims="time")).assign_attrs(da.attrs)
        da = da.transpose("lon", "time", "lat")
    return da if chunks is None else da.chunk(chunks)


# --- recognition ------------------------------------------------------------------------------


@pytest.mark.parametrize("units", sorted(LATITUDE_UNITS) + ["Degrees_North", "degree_N"])
def test_latitude_units_recognised(units):
    assert cf_role(xr.DataArray([0.0], dims="y", attrs={"units": units})) == (
        "latitude",
        PER_DEGREE,
    )


@pytest.mark.parametrize("units", sorted(LONGITUDE_UNITS) + ["degree_E", "degreesE"])
def test_longitude_units_recognised(units):
    coord = xr.DataArray([0.0], dims="x", attrs={"units": units})
    assert cf_role(coord) == ("longitude", PER_DEGREE)


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({"standard_name": "latitude", "units": "degrees"}, ("latitude", PER_DEGREE)),
        ({"standard_name": "latitude"}, ("latitude", PER_DEGREE)),
        ({"standard_name": "longitude", "units": "radians"}, ("longitude", 1.0)),
        ({"standard_name": "latitude", "units": "rad"}, ("latitude", 1.0)),
        ({"units": "radians"}, (None, 1.0)),  # radians alone: could be any angle
        ({"units": "degrees"}, (None, 1.0)),
        ({"standard_name": "grid_latitude", "units": "degrees"}, (None, 1.0)),  # rotated pole
        ({"standard_name": "latitude", "units": "m"}, (None, 1.0)),
        ({}, (None, 1.0)),
    ],
)
def test_standard_name_recognition(attrs, expected):
    assert cf_role(xr.DataArray([0.0], dims="lat", attrs=attrs)) == expected


def test_named_lat_without_metadata_is_cartesian(assert_bitwise_equal):
    da = globe().assign_coords(lat=("lat", np.linspace(-90.0, 90.0, 19)))
    out = da.grad.along("lat")
    assert_bitwise_equal(out.values, da.differentiate("lat").values)
    assert out.attrs["units"] == "K"  # no coordinate units: data units unchanged


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize("geometry", ["auto", "sphere"])
@pytest.mark.parametrize("edge_order", [1, 2])
def test_latitude_is_differentiate_over_r(geometry, edge_order, assert_bitwise_equal):
    da = globe()
    before = da.copy(deep=True)
    out = da.grad.along("lat", geometry=geometry, edge_order=edge_order)
    expected = da.differentiate("lat", edge_order=edge_order).values * (PER_DEGREE / R)
    assert_bitwise_equal(out.values, expected)
    assert out.attrs["units"] == "K m-1"
    assert out.attrs["long_name"] == "derivative of temperature with respect to lat"
    assert "standard_name" not in out.attrs
    xr.testing.assert_identical(da, before)


def test_longitude_per_metre_along_the_parallel():
    da = globe(lat=np.linspace(-80.0, 80.0, 17))
    out = da.grad.along("lon", boundary="edge")
    phi = np.deg2rad(da.lat.values)[:, None]
    expected = da.differentiate("lon").values * PER_DEGREE / (R * np.cos(phi))
    np.testing.assert_allclose(out.values, expected, rtol=1e-14, atol=0)
    assert out.attrs["units"] == "K m-1"


def test_analytic_gradient_converges_at_second_order():
    errors = []
    for n in (36, 72, 144):
        lat = -90 + (np.arange(n) + 0.5) * 180 / n  # cell centres: no pole
        da = globe(lat=lat, nlon=2 * n)
        dlat, dlon = da.grad.along("lat", "lon")
        phi, lam = np.deg2rad(lat)[:, None], np.deg2rad(da.lon.values)[None, :]
        exact_lat = (-40 * np.cos(phi) * np.sin(phi) * np.cos(2 * lam) + 5 * np.cos(phi)) / R
        exact_lon = (-40 * np.cos(phi) ** 2 * np.sin(2 * lam) + np.cos(lam)) / (R * np.cos(phi))
        inner = np.abs(lat) < 80
        errors.append(
            (
                np.abs(dlat.values - exact_lat)[inner].max() / np.abs(exact_lat).max(),
                np.abs(dlon.values - exact_lon)[inner].max() / np.abs(exact_lon[inner]).max(),
            )
        )
    for coarse, fine in zip(errors, errors[1:]):
        for c, f in zip(coarse, fine):
            assert 3.5 < c / f < 4.5  # second order: halving h quarters the error
    assert max(errors[-1]) < 5e-4


def test_poles_are_nan_along_longitude_only():
    da = globe()  # latitudes -90, -80, ..., 90
    dlat, dlon = da.grad.along("lat", "lon")
    assert np.isnan(dlon.values[[0, -1]]).all()
    assert np.isfinite(dlon.values[1:-1]).all()
    assert np.isfinite(dlat.values).all()


def test_radians_with_standard_name(assert_bitwise_equal):
    deg = globe(lat=np.linspace(-80.0, 80.0, 17))
    rad = deg.assign_coords(
        lat=("lat", np.deg2rad(deg.lat.values), {"standard_name": "latitude", "units": "radians"}),
        lon=("lon", np.deg2rad(deg.lon.values), {"standard_name": "longitude", "units": "rad"}),
    )
    dlat, dlon = rad.grad.along("lat", "lon")
    assert_bitwise_equal(dlat.values, rad.differentiate("lat").values * (1.0 / R))
    expected = deg.grad.along("lon").values
    np.testing.assert_allclose(dlon.values, expected, rtol=0, atol=1e-13 * np.abs(expected).max())
    assert dlon.attrs["xgrad_boundary"] == "periodic"  # 2 pi is a full turn


@pytest.mark.parametrize("accuracy", [2, 4])
def test_descending_latitude_is_mirrored(accuracy, assert_bitwise_equal):
    up = globe()
    down = up.isel(lat=slice(None, None, -1))
    ds = xr.Dataset({"u": up, "v": up * 0.5}).assign(v=lambda d: d.v.assign_attrs(units="K"))
    ds_down = ds.isel(lat=slice(None, None, -1))
    pairs = [
        (
            up.grad.along("lat", "lon", accuracy=accuracy),
            down.grad.along("lat", "lon", accuracy=accuracy),
        ),
        (
            (up.grad.laplacian("lat", "lon", accuracy=accuracy),),
            (down.grad.laplacian("lat", "lon", accuracy=accuracy),),
        ),
        (
            (ds.grad.curl({"lon": "u", "lat": "v"}, accuracy=accuracy),),
            (ds_down.grad.curl({"lon": "u", "lat": "v"}, accuracy=accuracy),),
        ),
    ]
    for a_results, d_results in pairs:
        for a, d in zip(a_results, d_results):
            mirrored = d.isel(lat=slice(None, None, -1)).values
            if accuracy == 2:
                # uniform central differences: (f[i-1] - f[i+1]) / (-2h) is the same float
                assert_bitwise_equal(mirrored, a.values)
            else:
                # one-sided edge stencils (Fornberg weights, large and of both signs) sum their
                # terms in the other order: rounding, amplified by their cancellation
                scale = np.nanmax(np.abs(a.values))
                np.testing.assert_allclose(mirrored, a.values, rtol=0, atol=1e-11 * scale)


def test_float32_latitude_spacing_in_float64(assert_bitwise_equal):
    lat = np.linspace(-89.5, 89.5, 180, dtype=np.float32)
    da32 = globe(lat=lat, nlon=8).astype(np.float32)
    da64 = da32.assign_coords(lat=da32.lat.astype(np.float64).assign_attrs(units="degrees_north"))
    for d32, d64 in zip(da32.grad.along("lat", "lon"), da64.grad.along("lat", "lon")):
        assert d32.dtype == np.float32
        assert_bitwise_equal(d32.values, d64.values)


def test_latitude_broadcast_against_any_dim_order(assert_bitwise_equal):
    da = globe(lat=np.linspace(-80.0, 80.0, 17), extra_dims=True)  # dims (lon, time, lat)
    dlon, dt = da.grad.along("lon", "time", geometry="sphere")
    ref = da.transpose("time", "lat", "lon")
    expected = ref.grad.along("lon").transpose(*da.dims)
    assert_bitwise_equal(dlon.values, expected.values)
    assert dt.attrs["units"] == "K s-1"  # other dims keep their own units on the sphere
    assert dlon.attrs["units"] == "K m-1"


def test_two_dimensional_and_scalar_latitude():
    da = globe(lat=np.linspace(-60.0, 60.0, 13))
    lat2d = xr.broadcast(da.lat, da.lon)[0].assign_attrs(units="degrees_north")
    curvilinear = da.drop_vars("lat").assign_coords(latitude=lat2d)
    expected = da.grad.along("lon")
    np.testing.assert_array_equal(curvilinear.grad.along("lon").values, expected.values)
    row = da.sel(lat=30.0)  # a scalar latitude coordinate is enough along a parallel
    np.testing.assert_array_equal(row.grad.along("lon").values, expected.sel(lat=30.0).values)


@pytest.mark.parametrize("chunks", [{"lon": 1}, {"lon": 5, "lat": 4}, {"lon": (1, 2, 3, 18)}])
def test_chunked_is_bit_identical_and_lazy(chunks, assert_bitwise_equal, raise_on_compute):
    da = globe()
    with dask.config.set(scheduler=raise_on_compute):
        lazy = da.chunk(chunks).grad.along("lat", "lon", accuracy=4)
    for out, ref in zip(lazy, da.grad.along("lat", "lon", accuracy=4)):
        assert isinstance(out.data, dsa.Array)
        assert out.chunks == da.chunk(chunks).chunks
        assert_bitwise_equal(out.values, ref.values)


def test_metric_factors_ride_in_the_kernel_layer(assert_bitwise_equal):
    """On the sphere the metric factors multiply inside the kernel pass: the graph has the
    same layers as a Cartesian gradient (no elementwise layer, no second pass over memory)."""
    da = globe(extra_dims=True, chunks={"lon": 5, "lat": 4, "time": 1})
    sphere = da.grad.along("lat", "lon")
    cartesian = da.grad.along("lat", "lon", geometry="cartesian")
    for s, c in zip(sphere, cartesian):
        assert len(s.data.dask.layers) == len(c.data.dask.layers)
        assert len(dict(s.data.dask)) == len(dict(c.data.dask))
    expected = globe(extra_dims=True).grad.along("lat", "lon")
    assert_bitwise_equal(tuple(s.values for s in sphere), tuple(e.values for e in expected))


def test_cartesian_keeps_degrees(assert_bitwise_equal):
    da = globe()
    out = da.grad.along("lat", geometry="cartesian")
    assert_bitwise_equal(out.values, da.differentiate("lat").values)
    assert out.attrs["units"] == "K degrees_north-1"


def test_pint_quantified_gives_per_metre():
    pytest.importorskip("pint_xarray")
    from cf_xarray.units import units as registry

    q = globe(lat=np.linspace(-80.0, 80.0, 17)).pint.quantify(unit_registry=registry)
    dlat, dlon = q.grad.along("lat", "lon")
    for out, ref in zip(
        (dlat, dlon), globe(lat=np.linspace(-80.0, 80.0, 17)).grad.along("lat", "lon")
    ):
        assert out.data.units == registry.Unit("K / m")
        np.testing.assert_array_equal(out.data.magnitude, ref.values)
        assert "units" not in out.attrs


def test_cos_latitude_radians_pole():
    da = xr.DataArray(
        [1.0, 2.0],
        dims="lat",
        coords={
            "lat": ("lat", [math.pi / 2, 0.0], {"standard_name": "latitude", "units": "radians"})
        },
    )
    cos, sec = cos_latitude(da, along="lon")
    assert np.isnan(sec[0]) and sec[1] == 1.0 and abs(cos[0]) < 1e-16


# --- errors ------------------------------------------------------------------------------------


def _no_latitude(c):
    return globe(chunks=c).assign_coords(lat=("lat", np.linspace(-90.0, 90.0, 19)))


def _two_latitudes(c):
    da = globe(chunks=c).rename(lat="y").drop_vars("y")
    lat = ("y", np.linspace(-90.0, 90.0, 19), {"units": "degrees_north"})
    return da.assign_coords(lat1=lat, lat2=(lat[0], lat[1], {"units": "degree_N"}))


GEOMETRY_ERRORS = {
    "no latitude for a longitude derivative": (
        _no_latitude,
        {"geometry": "sphere"},
        "lon",
        r"geometry='sphere': the derivative along longitude 'lon' is divided by "
        r"R cos\(latitude\), but (DataArray 'T'|this Dataset) has no latitude coordinate "
        r"\(recognised by "
        r"units='degrees_north' or standard_name='latitude'\)\. Mark it, e\.g\. "
        r"`da\['lat'\]\.attrs\['units'\] = 'degrees_north'`, drop a variable without latitude, "
        r"or differentiate per degree: "
        r"`geometry='cartesian'`",
    ),
    "no latitude under auto": (_no_latitude, {}, "lon", r"has no latitude coordinate"),
    "latitude beyond the pole": (
        lambda c: globe(lat=np.linspace(0.0, 180.0, 19), chunks=c),
        {},
        "lat",
        r"latitude coordinate 'lat' has values outside \[-90, 90\] degrees \(lat\[10\] = "
        r"100\.0\), so it cannot be a latitude on the sphere\. Fix its values or "
        r"its units, or differentiate per coordinate unit: `geometry='cartesian'`",
    ),
    "latitude beyond the pole, along longitude": (
        lambda c: globe(lat=np.linspace(0.0, 180.0, 19), chunks=c),
        {},
        "lon",
        r"latitude coordinate 'lat' has values outside",
    ),
    "two latitudes": (
        lambda c: _two_latitudes(c),
        {},
        "lon",
        r"several coordinates are latitudes \('lat1', 'lat2'\), so the one to use for the "
        r"derivative along 'lon' is ambiguous; drop the others, e\.g\. `da\.drop_vars\(\['lat2'\]\)`",
    ),
    "standard_name without angle units": (
        lambda c: globe(chunks=c).assign_coords(
            lat=("lat", np.linspace(-90.0, 90.0, 19), {"standard_name": "latitude", "units": "km"})
        ),
        {"geometry": "sphere"},
        "lat",
        r"geometry='sphere': coordinate 'lat' has standard_name 'latitude' but units 'km', which "
        r"are not an angle; give it angle units, e\.g\. `da\['lat'\]\.attrs\['units'\] = "
        r"'degrees_north'`",
    ),
}


@pytest.mark.parametrize("case", list(GEOMETRY_ERRORS))
@pytest.mark.parametrize("chunks", [None, {"lon": 5}])
def test_geometry_errors(case, chunks, raise_on_compute):
    build, options, dim, match = GEOMETRY_ERRORS[case]
    obj = build(chunks)
    before = obj.copy(deep=True)
    with dask.config.set(scheduler=raise_on_compute):
        with pytest.raises(ValueError, match=match):
            obj.grad.along(dim, **options)
        with pytest.raises(ValueError, match=match):
            obj.to_dataset().grad.along(dim, **options)
    xr.testing.assert_identical(obj, before)
    assert obj.attrs == before.attrs and obj.lon.attrs == before.lon.attrs


def test_cartesian_needs_no_latitude(assert_bitwise_equal):
    da = _no_latitude(None)
    out = da.grad.along("lon", geometry="cartesian", boundary="edge")
    assert_bitwise_equal(out.values, da.differentiate("lon").values)


def test_dataset_variable_without_latitude_is_named():
    ds = globe().to_dataset().assign(lon_bnds=(("lon", "nv"), np.zeros((24, 2))))
    with pytest.raises(ValueError, match=r"but DataArray 'lon_bnds' has no latitude coordinate"):
        ds.grad.along("lon")
    out = ds.drop_vars("lon_bnds").grad.along("lon")
    assert out["T"].attrs["units"] == "K m-1"
