"""boundary= and period= in the accessor: strict auto-detection, the seam, chunking, errors.

Oracle for a periodic axis: the same field with the seam moved (rolled data on a shifted
coordinate) must give the same numbers, bit for bit where the spacing is uniform, and a
manually wrapped ``numpy.gradient`` (pad one point each side) gives the interior formula.
"""

from __future__ import annotations

import datetime

import dask
import dask.array as dsa
import numpy as np
import pytest
import xarray as xr

import xgrad  # noqa: F401  (registers .grad)
from xgrad.periodic import AUTO_RTOL


def ring(lon, *, lat=(-30.0, 0.0, 45.0), chunks=None, units="degrees_east", dtype=None):
    """f(lat, lon) = cos(lat) sin(lon) + 0.3 cos(2 lon) on the given longitudes."""
    lon = np.asarray(lon) if dtype is None else np.asarray(lon, dtype=dtype)
    phi, lam = np.deg2rad(np.asarray(lat))[:, None], np.deg2rad(lon.astype(float))[None, :]
    values = np.cos(phi) * np.sin(lam) + 0.3 * np.cos(2 * lam)
    attrs = {} if units is None else {"units": units}
    da = xr.DataArray(
        values,
        dims=("lat", "lon"),
        coords={"lat": ("lat", list(lat), {"units": "degrees_north"}), "lon": ("lon", lon, attrs)},
        name="f",
        attrs={"units": "K"},
    )
    return da if chunks is None else da.chunk(chunks)


def wrapped_gradient(values, step, axis=-1):
    """numpy.gradient on the array padded periodically, then trimmed: the periodic answer."""
    padded = np.concatenate([values[..., -1:], values, values[..., :1]], axis=axis)
    return np.gradient(padded, step, axis=axis)[..., 1:-1]


# --- auto-detection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "expected"),
    [
        (np.arange(0.0, 360.0, 1.0), "periodic"),  # 0..359 step 1
        (np.arange(-180.0, 180.0, 2.5), "periodic"),
        (np.arange(360.0, 0.0, -5.0), "periodic"),  # descending
        (np.arange(0, 360, 10), "periodic"),  # integer longitudes
        (np.arange(0.0, 359.0, 1.0), "edge"),  # 0..358: one point short of a full circle
        (np.arange(0.0, 361.0, 1.0), "edge"),  # 0..360: repeats the first point
        (np.arange(100.0, 151.0, 1.0), "edge"),  # regional
        (np.r_[0.0, 2.0, np.arange(3.0, 360.0)], "edge"),  # covers 360 but not uniform
    ],
)
def test_auto_detection_recorded(lon, expected):
    out = ring(lon).grad.along("lon")
    assert out.attrs["xgrad_boundary"] == expected


def test_auto_is_edge_with_too_few_points_for_a_seam(assert_bitwise_equal):
    # 0, 180 covers one period, but a seam needs 3 points: "auto" gives the edges (it did pick
    # periodic, then refused it)
    da = ring(np.array([0.0, 180.0]))
    out = da.grad.along("lon")
    assert out.attrs["xgrad_boundary"] == "edge"
    assert_bitwise_equal(out.values, da.grad.along("lon", boundary="edge").values)
    with pytest.raises(ValueError, match="boundary='periodic' along 'lon' needs at least 3"):
        da.grad.along("lon", boundary="periodic")
    # 4 points at accuracy 4: too few for a seam (5) and for the edges (5): the points' error
    with pytest.raises(ValueError, match="dimension 'lon' has 4 point.* accuracy=4 needs at least"):
        ring(np.arange(4) * 90.0).grad.along("lon", accuracy=4)


def test_auto_is_only_for_a_cf_longitude():
    x = np.arange(0.0, 360.0, 1.0)
    for units in (None, "degrees", "m"):
        assert ring(x, units=units).grad.along("lon").attrs["xgrad_boundary"] == "edge"
    assert ring(x).grad.along("lat").attrs["xgrad_boundary"] == "edge"


def test_auto_tolerance_is_tight():
    lon = np.arange(0.0, 360.0, 1.0)
    assert ring(lon * (1 + 1e-12)).grad.along("lon").attrs["xgrad_boundary"] == "periodic"
    assert ring(lon * (1 + 1e-7)).grad.along("lon").attrs["xgrad_boundary"] == "edge"
    assert AUTO_RTOL == 1e-9


def test_float32_tenth_degree_longitude_is_periodic():
    # float32 cannot hold 0.1-degree steps closer than ~1e-5 degrees: allowed storage rounding
    lon = np.arange(3600, dtype=np.float32) * np.float32(0.1)
    out = ring(lon, lat=(10.0,)).grad.along("lon")
    assert out.attrs["xgrad_boundary"] == "periodic"


def test_radians_standard_name_period_is_two_pi():
    lon = np.linspace(0.0, 2 * np.pi, 48, endpoint=False)
    da = ring(np.rad2deg(lon)).assign_coords(
        lon=("lon", lon, {"standard_name": "longitude", "units": "radians"})
    )
    assert da.grad.along("lon").attrs["xgrad_boundary"] == "periodic"


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize("accuracy", [2, 4, 6])
@pytest.mark.parametrize("shift", [1, 90, 180, 359])
def test_seam_is_invisible_rolled_field(shift, accuracy, assert_bitwise_equal):
    lon = np.arange(0.0, 360.0, 1.0)
    da = ring(lon)
    rolled = da.roll(lon=shift, roll_coords=False).assign_coords(
        lon=("lon", lon - shift, {"units": "degrees_east"})
    )
    out = da.grad.along("lon", accuracy=accuracy)
    out_rolled = rolled.grad.along("lon", accuracy=accuracy)
    assert_bitwise_equal(out_rolled.values, np.roll(out.values, shift, axis=-1))


def test_seam_is_the_periodic_central_difference(assert_bitwise_equal):
    lon = np.arange(0.0, 360.0, 15.0)
    da = ring(lon, lat=(0.0,))  # on the equator the metric factor is per_radian / R exactly
    out = da.grad.along("lon", geometry="cartesian")
    assert_bitwise_equal(out.values, wrapped_gradient(da.values, np.float64(15.0)))
    # no seam artefact (cf-python#289: -270 across an unwrapped seam)
    exact = np.deg2rad(np.cos(np.deg2rad(lon)) - 0.6 * np.sin(np.deg2rad(2 * lon)))
    error = np.abs(out.values[0] - exact)
    assert error[[0, -1]].max() <= error.max() < 1e-3  # the truncation error of a 15-degree step


@pytest.mark.parametrize("accuracy", [2, 4, 6])
def test_nonuniform_periodic_uses_the_seam_spacing(accuracy):
    lon = np.r_[0.0, 7.0, np.arange(10.0, 350.0, 10.0), 353.0]
    da = ring(lon, lat=(0.0,))
    out = da.grad.along("lon", boundary="periodic", geometry="cartesian", accuracy=accuracy)
    assert out.attrs["xgrad_boundary"] == "periodic"
    # oracle: three periods side by side, differentiated with edges, middle period kept
    tripled = xr.concat(
        [da.assign_coords(lon=da.lon + k * 360.0) for k in (-1, 0, 1)], dim="lon"
    ).grad.along("lon", boundary="edge", geometry="cartesian", accuracy=accuracy)
    middle = tripled.isel(lon=slice(lon.size, 2 * lon.size)).values
    np.testing.assert_allclose(out.values, middle, rtol=1e-12, atol=1e-15)
    assert da.grad.along("lon").attrs["xgrad_boundary"] == "edge"  # auto: not uniform


def test_descending_longitude_periodic_is_mirrored():
    lon = np.arange(0.0, 360.0, 5.0)
    up, down = ring(lon), ring(lon[::-1])
    out_up, out_down = up.grad.along("lon"), down.grad.along("lon")
    assert out_down.attrs["xgrad_boundary"] == "periodic"
    # equal values; only the sign of an exact zero may differ (0 / -h is -0.0)
    np.testing.assert_array_equal(out_down.values[:, ::-1], out_up.values)


def test_explicit_period_for_any_dimension(assert_bitwise_equal):
    x = np.arange(10.0) * 0.5
    da = xr.DataArray(np.sin(2 * np.pi * x / 5.0) ** 3, dims="x", coords={"x": x})
    out = da.grad.along("x", boundary="periodic", period=5.0)
    assert_bitwise_equal(out.values, wrapped_gradient(da.values, np.float64(0.5)))
    mapped = da.grad.along("x", boundary={"x": "periodic"}, period={"x": 5.0})
    assert_bitwise_equal(mapped.values, out.values)


def test_dimension_without_coordinate_wraps_after_n(assert_bitwise_equal):
    da = xr.DataArray(np.arange(6.0) ** 2, dims="i")
    out = da.grad.along("i", boundary="periodic")
    assert_bitwise_equal(out.values, wrapped_gradient(da.values, 1.0))


def test_dimension_without_coordinate_period_must_exceed_its_span():
    da = xr.DataArray(np.arange(6.0), dims="i")
    out = da.grad.along("i", boundary="periodic", period=8.0)  # a gap of 3 across the seam
    # row 0: neighbours f=5 at -3 and f=1 at +1, numpy's non-uniform 3-point weights
    assert out.values[0] == pytest.approx(-5 / 12 + 3 / 4, rel=1e-15)
    assert out.values[2] == 1.0
    with pytest.raises(ValueError, match=r"coordinate 'i' spans 5 \(from 0 to 5\), which is not"):
        da.grad.along("i", boundary="periodic", period=5.0)


def test_boundary_mapping_overrides_auto(assert_bitwise_equal):
    da = ring(np.arange(0.0, 360.0, 10.0))
    edge = da.grad.along("lon", boundary={"lon": "edge"})
    assert edge.attrs["xgrad_boundary"] == "edge"
    expected = da.grad.along("lon", boundary="edge")
    assert_bitwise_equal(edge.values, expected.values)


def test_lon_periodic_lat_edge_in_one_call():
    da = ring(np.arange(0.0, 360.0, 10.0), lat=tuple(np.linspace(-60.0, 60.0, 7)))
    dlat, dlon = da.grad.along("lat", "lon")
    assert (dlat.attrs["xgrad_boundary"], dlon.attrs["xgrad_boundary"]) == ("edge", "periodic")
    assert da.grad.magnitude("lat", "lon").attrs["xgrad_boundary"] == "lat: edge lon: periodic"


@pytest.mark.parametrize("accuracy", [2, 4, 6])
@pytest.mark.parametrize(
    "chunks",
    [{"lon": 1}, {"lon": 5}, {"lon": (1, 1, 30, 4)}, {"lon": (35, 1)}, {"lat": 1, "lon": 7}],
)
def test_chunked_periodic_is_bit_identical_and_lazy(
    chunks, accuracy, assert_bitwise_equal, raise_on_compute
):
    da = ring(np.arange(0.0, 360.0, 10.0), lat=tuple(np.linspace(-60.0, 60.0, 7)))
    with dask.config.set(scheduler=raise_on_compute):
        lazy = da.chunk(chunks).grad.along("lon", "lat", accuracy=accuracy)
        mag = da.chunk(chunks).grad.magnitude("lon", accuracy=accuracy)
    ref = da.grad.along("lon", "lat", accuracy=accuracy)
    for out, expected in zip(lazy, ref):
        assert isinstance(out.data, dsa.Array) and out.chunks == da.chunk(chunks).chunks
        assert_bitwise_equal(out.values, expected.values)
    assert_bitwise_equal(mag.values, da.grad.magnitude("lon", accuracy=accuracy).values)


def test_dataset_periodic():
    ds = ring(np.arange(0.0, 360.0, 10.0)).to_dataset()
    out = ds.grad.along("lon")
    assert out["f"].attrs["xgrad_boundary"] == "periodic"


# --- errors ------------------------------------------------------------------------------------

FULL = np.arange(0.0, 360.0, 10.0)

PERIODIC_ERRORS = [
    (
        {"lon": np.arange(5.0), "units": "m"},
        ("lon",),
        {"boundary": "periodic"},
        ValueError,
        r"boundary='periodic' along 'lon' needs a period, in the units of coordinate 'lon' "
        r"\(m\); give it: `period=\{'lon': \.\.\.\}`",
    ),
    (
        {"lon": np.arange(0.0, 361.0, 10.0)},
        ("lon",),
        {"boundary": "periodic"},
        ValueError,
        r"coordinate 'lon' spans 360 \(from 0 to 360\), which is not less than period=360, so it "
        r"cannot wrap around; its last point repeats the first one, one period on; drop it: "
        r"`da\.isel\(\{'lon': slice\(None, -1\)\}\)`",
    ),
    (
        {"lon": np.arange(0.0, 720.0, 10.0)},
        ("lon",),
        {"boundary": "periodic"},
        ValueError,
        r"coordinate 'lon' spans 710 \(from 0 to 710\), which is not less than period=360, so it "
        r"cannot wrap around; select one period, e\.g\. `da\.isel\(\{'lon': slice\(0, n\)\}\)` "
        r"with lon\[n\] == lon\[0\] \+ 360",
    ),
    (
        {"lon": np.array([0.0, 120.0])},
        ("lon",),
        {"boundary": "periodic"},
        ValueError,
        r"boundary='periodic' along 'lon' needs at least 3 points with accuracy=2 \(the "
        r"stencil must not reach a point twice\); it has 2\. Use `boundary='edge'` or more points",
    ),
    (
        {"lon": FULL[:6]},
        ("lon",),
        {"boundary": "periodic", "accuracy": 6},
        ValueError,
        r"'lon' has 6 point\(s\) but accuracy=6 needs at least 7",
    ),
    (
        {"lon": np.r_[FULL[18:], FULL[:18]]},  # 180..350, 0..170: rolled without sorting
        ("lon",),
        {"boundary": "periodic"},
        ValueError,
        r"coordinate 'lon' is not monotonic \(it increases at index 1 and decreases at index 18\); "
        r"it wraps around .* `da\.assign_coords\(lon=\(da\['lon'\] \+ 180\) % 360 - 180\)`",
    ),
    (
        {"lon": FULL},
        ("lon",),
        {"period": 0.0},
        ValueError,
        r"period=0\.0 must be a positive, finite number in the coordinate's units, e\.g\. "
        r"`period=360`",
    ),
    (
        {"lon": FULL},
        ("lon",),
        {"period": {"lon": float("inf")}},
        ValueError,
        r"period\['lon'\]=inf must be a positive, finite number",
    ),
    ({"lon": FULL}, ("lon",), {"period": "360"}, TypeError, r"period='360' must be a number"),
    ({"lon": FULL}, ("lon",), {"period": True}, TypeError, r"period=True must be a number"),
    (
        {"lon": FULL},
        ("lat",),
        {"period": {"lat": 360.0}},
        ValueError,
        r"period\['lat'\]=360 is given but the boundary of 'lat' is 'auto' \(periodic under "
        r"'auto' only for a CF longitude\); ask for a seam: `boundary=\{'lat': 'periodic'\}`",
    ),
    (
        {"lon": FULL},
        ("lon",),
        {"boundary": "edge", "period": 360.0},
        ValueError,
        r"period=360\.0 is only used with boundary='periodic' \(or by a CF longitude under "
        r"'auto'\), and no dimension in \('lon',\) has either",
    ),
]


@pytest.mark.parametrize("case", range(len(PERIODIC_ERRORS)), ids=lambda i: str(i))
@pytest.mark.parametrize("chunks", [None, {"lon": 1}])
def test_periodic_errors(case, chunks, raise_on_compute):
    coord, dims, options, exc, match = PERIODIC_ERRORS[case]
    da = ring(coord["lon"], units=coord.get("units", "degrees_east"), chunks=chunks)
    before = da.copy(deep=True)
    with dask.config.set(scheduler=raise_on_compute):
        with pytest.raises(exc, match=match):
            da.grad.along(*dims, **options)
        with pytest.raises(exc, match=match):
            da.to_dataset().grad.along(*dims, **options)
        with pytest.raises(exc, match=match):
            da.grad.magnitude(*dims, **options)
    xr.testing.assert_identical(da, before)
    assert da.lon.attrs == before.lon.attrs


@pytest.mark.parametrize(
    "period",
    [np.timedelta64(365, "D"), np.timedelta64(365 * 86400 * 10**9, "ns"), datetime.timedelta(365)],
)
def test_time_span_period_is_refused_not_read_in_the_coordinate_units(period):
    # np.timedelta64 is a numpy integer: a 'ns' period was taken as that many seconds
    time = xr.date_range("2001-01-01", periods=12, freq="MS", calendar="noleap", use_cftime=True)
    da = xr.DataArray(np.arange(12.0), dims="time", coords={"time": time})
    with pytest.raises(TypeError, match=r"is a time span; give a number in the coordinate's units"):
        da.grad.along("time", boundary="periodic", period=period)
