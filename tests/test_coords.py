"""Spacing records from coordinates (xgrad.coords): values, time conversion and every error."""

from __future__ import annotations

import datetime
import re

import cftime
import dask.array as dsa
import numpy as np
import pytest
import xarray as xr

from xgrad.coords import (
    DATETIME_UNITS,
    Spacing,
    resolve_spacings,
    time_to_numbers,
)
from xgrad.options import check_datetime_unit
from xgrad.stencils import points_needed


def _da(x, name="x", **attrs):
    return xr.DataArray(
        np.arange(len(x), dtype=float), dims=name, coords={name: (name, x, attrs)}, name="f"
    )


# --- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint16", "float32", "float64"])
def test_numeric_coordinate_is_float64_of_its_values(dtype):
    x = np.array([0, 1, 3, 7, 8], dtype=dtype)
    (s,) = resolve_spacings(_da(x, units="m"), ["x"])
    assert s == Spacing("x", "x", 5, s.values, "m", "numeric")
    assert s.values.dtype == np.float64
    np.testing.assert_array_equal(s.values, x.astype(np.float64))


def test_descending_coordinate_kept_as_is():
    (s,) = resolve_spacings(_da([90.0, 45.0, 0.0, -45.0, -90.0]), ["x"])
    np.testing.assert_array_equal(s.values, [90.0, 45.0, 0.0, -45.0, -90.0])


def test_dimension_without_coordinate_is_unit_spacing():
    da = xr.DataArray(np.zeros((3, 4)), dims=("y", "x"))
    sx, sy = resolve_spacings(da, ["x", "y"])
    assert (sx.dim, sx.values, sx.kind, sx.units, sx.size) == ("x", 1.0, "index", None, 4)
    assert (sy.dim, sy.size) == ("y", 3)


def test_non_dimension_coordinate_resolves_to_its_dimension():
    da = _da([0.0, 1.0, 2.0]).assign_coords(depth=("x", [10.0, 20.0, 40.0], {"units": "m"}))
    (s,) = resolve_spacings(da, ["depth"])
    assert (s.dim, s.name, s.units) == ("x", "depth", "m")
    np.testing.assert_array_equal(s.values, [10.0, 20.0, 40.0])


def test_works_on_dataset():
    ds = xr.Dataset({"a": ("x", [1.0, 2.0, 3.0])}, coords={"x": [0.0, 2.0, 3.0]})
    (s,) = resolve_spacings(ds, ["x"])
    np.testing.assert_array_equal(s.values, [0.0, 2.0, 3.0])


@pytest.mark.parametrize("storage", ["s", "ms", "us", "ns"])
def test_datetime64_any_storage_gives_per_second_numbers(storage):
    t = np.array(
        ["2000-01-01T00:00", "2000-01-01T06:00", "2000-01-02T00:00", "2000-01-02T00:00:01.5"],
        dtype=f"datetime64[{storage}]",
    )
    if storage == "s":
        t = t.astype("datetime64[s]")  # drops the half second: compare the first three only
    (s,) = resolve_spacings(_da(t), ["x"])
    assert (s.units, s.kind) == ("s", "time")
    np.testing.assert_array_equal(s.values[:3], [0.0, 21600.0, 86400.0])
    if storage != "s":
        assert s.values[3] == 86401.5


@pytest.mark.parametrize("unit", list(DATETIME_UNITS))
def test_datetime_unit_scales_and_names_units(unit):
    t = np.array(["2000-01-01", "2000-01-15"], dtype="datetime64[ns]")
    (s,) = resolve_spacings(_da(t), ["x"], datetime_unit=unit)
    assert s.units == DATETIME_UNITS[unit]
    assert s.values[1] == np.timedelta64(14, "D") / np.timedelta64(1, unit)


@pytest.mark.parametrize("unit", list(DATETIME_UNITS))
@pytest.mark.parametrize("counts", ["hours since 2000-01-01", "Days since 1850-1-1 0:0:0"])
def test_datetime_unit_applies_to_undecoded_times(unit, counts, assert_bitwise_equal):
    # An audit: with decode_times=False the time coordinate is numbers ("hours since ..."),
    # and an explicit datetime_unit was ignored: per hour, whatever was asked for. It now
    # counts in datetime_unit, as the decoded coordinate does.
    numbers = np.array([0.0, 6.0, 12.0, 30.0, 31.5])
    time = xr.Variable("time", numbers, {"units": counts})
    data = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    da = xr.DataArray(data, dims="time", coords={"time": time}, attrs={"units": "K"})
    decoded = xr.decode_cf(da.to_dataset(name="v")).v
    assert decoded.time.dtype.kind == "M"
    got = da.grad.along("time", datetime_unit=unit)
    want = decoded.grad.along("time", datetime_unit=unit)
    assert got.attrs["units"] == want.attrs["units"] == f"K {DATETIME_UNITS[unit]}-1"
    np.testing.assert_allclose(got.values, want.values, rtol=1e-14)
    own = "h" if counts.startswith("hours") else "d"
    assert da.grad.along("time").attrs["units"] == f"K {own}-1"  # unset: per unit of the coordinate
    assert_bitwise_equal(da.grad.along("time").values, da.differentiate("time").values)


def test_datetime_unit_beside_undecoded_calendar_counts_and_lengths(assert_bitwise_equal):
    # months since a date have no fixed length: per month, as the label says, with a warning
    # (a review: refusing broke a CLI run, and the decode_cf advised fails for the standard
    # calendar's months)
    time = xr.Variable("time", [0.0, 1.0, 2.0], {"units": "months since 2000-01-01"})
    da = xr.DataArray([1.0, 2.0, 4.0], dims="time", coords={"time": time})
    with pytest.warns(UserWarning, match=r"`datetime_unit='D'` does not apply to coordinate "):
        got = da.grad.along("time", datetime_unit="D")
    assert got.attrs["units"] == "month-1"
    assert_bitwise_equal(got.values, da.differentiate("time").values)
    # a length measured from a surface is no time count
    z = xr.Variable("z", [0.0, 10.0, 30.0], {"units": "m from surface"})
    dz = xr.DataArray([1.0, 2.0, 4.0], dims="z", coords={"z": z})
    assert_bitwise_equal(dz.grad.along("z", datetime_unit="s").values, dz.grad.along("z").values)
    # the unit's own count: the same bits as without datetime_unit (a float ratio was 1 ulp off)
    minutes = xr.Variable("t", [0.0, 7.0, 19.0, 20.5], {"units": "minutes since 2000-01-01"})
    dm = xr.DataArray([1.0, 2.0, 4.0, 3.0], dims="t", coords={"t": minutes})
    assert_bitwise_equal(dm.grad.along("t", datetime_unit="m").values, dm.grad.along("t").values)
    per_us = dm.grad.along("t", datetime_unit="us").values
    np.testing.assert_allclose(per_us, dm.grad.along("t").values / 60e6, rtol=1e-15)


def test_cftime_noleap_gives_exact_seconds():
    t = xr.date_range("2000-02-27", periods=4, freq="D", calendar="noleap", use_cftime=True)
    (s,) = resolve_spacings(_da(t.values), ["x"])
    # noleap: no 29 February, so 27 Feb -> 1 Mar is two days.
    np.testing.assert_array_equal(s.values, [0.0, 86400.0, 172800.0, 259200.0])
    assert s.units == "s"


def test_cftime_and_datetime64_with_same_instants_give_same_bits(assert_bitwise_equal):
    cf = xr.date_range("2001-01-01", periods=6, freq="7h", calendar="standard", use_cftime=True)
    np64 = np.array([str(v) for v in cf.values], dtype="datetime64[ns]")
    for unit in ("s", "h", "D"):
        (a,) = resolve_spacings(_da(cf.values), ["x"], datetime_unit=unit)
        (b,) = resolve_spacings(_da(np64), ["x"], datetime_unit=unit)
        assert_bitwise_equal(a.values, b.values)


@pytest.mark.parametrize("storage", ["datetime64[s]", "cftime"])
def test_fine_datetime_unit_over_centuries_does_not_wrap(storage):
    # 'ns' of a span over 292 years wrapped around int64 silently (numpy's conversion, as in
    # xarray's differentiate): an audit found derivatives 1.9x and 3x too large, or negative
    t = np.array(["1500-01-01", "1700-01-01", "1900-01-01", "2100-01-01"], dtype="datetime64[s]")
    seconds = (t - t[0]).astype(np.int64).astype(float)
    years = (1500, 1700, 1900, 2100)
    values = (
        t
        if storage != "cftime"
        else np.array([cftime.DatetimeProlepticGregorian(y, 1, 1) for y in years])
    )
    for unit, per_second in (("ns", 1e9), ("us", 1e6), ("s", 1.0), ("D", 1 / 86400)):
        (s,) = resolve_spacings(_da(values), ["x"], datetime_unit=unit)
        np.testing.assert_allclose(s.values, seconds * per_second, rtol=1e-15)
    # where nothing wraps, numpy's own bits (xarray's)
    short = t[2:]
    assert np.array_equal(
        time_to_numbers(short, "ns"), (short - short.min()) / np.timedelta64(1, "ns")
    )
    # the same numbers chunked (time as data)
    chunked = time_to_numbers(dsa.from_array(np.append(t, np.datetime64("NaT")), chunks=2), "ns")
    np.testing.assert_array_equal(chunked.compute()[:-1], seconds * 1e9)
    assert np.isnan(chunked.compute()[-1])


def test_timedelta_coordinate():
    lead = np.array([0, 6, 12, 24], dtype="timedelta64[h]").astype("timedelta64[ns]")
    (s,) = resolve_spacings(_da(lead), ["x"], datetime_unit="h")
    np.testing.assert_array_equal(s.values, [0.0, 6.0, 12.0, 24.0])


def test_time_to_numbers_missing_values_are_nan():
    t = np.array(["2000-01-01", "NaT", "2000-01-03"], dtype="datetime64[s]")
    np.testing.assert_array_equal(time_to_numbers(t, "D"), [0.0, np.nan, 2.0])
    c = np.array([cftime.DatetimeNoLeap(2000, 1, 2), None, cftime.DatetimeNoLeap(2000, 1, 1)])
    np.testing.assert_array_equal(time_to_numbers(c, "D"), [1.0, np.nan, 0.0])
    assert np.isnan(time_to_numbers(np.array(["NaT"], dtype="datetime64[s]"), "s")).all()


def test_min_points_and_datetime_unit_default():
    assert [points_needed(e, 2) for e in (1, 2)] == [2, 3]
    assert [points_needed(1, a) for a in (4, 6)] == [5, 7]
    assert check_datetime_unit(None) == "s"


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["Y", "M"])
def test_calendar_datetime_unit(unit):
    with pytest.raises(ValueError, match=rf"datetime_unit='{unit}' is a calendar unit.*'D'"):
        check_datetime_unit(unit)


@pytest.mark.parametrize("unit", ["sec", "ps", 3])
def test_unknown_datetime_unit(unit):
    with pytest.raises(ValueError, match=r"is not a valid unit; choose one of \('W', 'D'"):
        check_datetime_unit(unit)


def test_no_dims():
    with pytest.raises(ValueError, match=r"no dimension given.*`\.grad\.along\('x'\)`"):
        resolve_spacings(_da([0.0, 1.0]), [])


def test_unknown_dim_lists_dims_and_suggests():
    da = xr.DataArray(np.zeros((2, 3)), dims=("lat", "lon"))
    with pytest.raises(
        ValueError,
        match=r"'latt' is not a dimension or coordinate of this DataArray; dimensions are "
        r"\('lat', 'lon'\); did you mean 'lat'\?",
    ):
        resolve_spacings(da, ["latt"])
    with pytest.raises(ValueError, match=r"'zz' is not a dimension .* of this Dataset"):
        resolve_spacings(da.to_dataset(name="v"), ["zz"])


def test_repeated_dim():
    da = xr.DataArray(np.zeros((2, 3)), dims=("y", "x"))
    with pytest.raises(
        ValueError,
        match=r"dimension 'x' is given more than once in dims=\('x', 'y', 'x'\); ask for each "
        r"dimension once, e\.g\. `\.grad\.along\('x', 'y'\)`",
    ):
        resolve_spacings(da, ["x", "y", "x"])


def test_two_names_along_one_dim():
    da = _da([0.0, 1.0, 2.0]).assign_coords(depth=("x", [1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"'x' and 'depth' both lie along dimension 'x'"):
        resolve_spacings(da, ["x", "depth"])


@pytest.mark.parametrize(
    ("edge_order", "accuracy", "size", "match"),
    [
        (1, 2, 1, r"dimension 'x' has 1 point\(s\) but edge_order=1 needs at least 2; use more"),
        (2, 2, 2, r"has 2 point\(s\) but edge_order=2 needs at least 3; use `edge_order=1` or"),
        (1, 4, 4, r"has 4 point\(s\) but accuracy=4 needs at least 5; use `accuracy=2` or more"),
    ],
)
def test_too_few_points(edge_order, accuracy, size, match):
    with pytest.raises(ValueError, match=match):
        resolve_spacings(
            _da(np.arange(size, dtype=float)), ["x"], edge_order=edge_order, accuracy=accuracy
        )


def test_two_dimensional_coordinate():
    da = xr.DataArray(
        np.zeros((2, 3)), dims=("y", "x"), coords={"c": (("y", "x"), np.ones((2, 3)))}
    )
    with pytest.raises(
        ValueError,
        match=r"coordinate 'c' is 2-D with dims \('y', 'x'\); a derivative needs a 1-D "
        r"coordinate\. Differentiate along a dimension instead, e\.g\. `\.grad\.along\('y'\)`",
    ):
        resolve_spacings(da, ["c"])


def test_scalar_coordinate():
    da = _da([0.0, 1.0]).assign_coords(z=3.0)
    with pytest.raises(ValueError, match=r"coordinate 'z' is a scalar; .*`\.grad\.along\('x'\)`"):
        resolve_spacings(da, ["z"])


@pytest.mark.parametrize(
    "values", [np.array(["a", "b", "c"]), np.array([True, False, True]), np.array([1j, 2j, 3j])]
)
def test_non_numeric_coordinate_is_type_error(values):
    with pytest.raises(
        TypeError,
        match=r"coordinate 'x' has dtype .* cannot be used as a spacing.*"
        r"`da\.drop_vars\('x'\)\.grad\.along\('x'\)`",
    ):
        resolve_spacings(_da(values), ["x"])


def test_object_strings_coordinate_is_type_error():
    with pytest.raises(TypeError, match=r"coordinate 'x' has dtype object"):
        resolve_spacings(_da(np.array(["a", "b"], dtype=object)), ["x"])


def test_nan_coordinate():
    with pytest.raises(
        ValueError,
        match=r"coordinate 'x' contains nan at index 1; every point needs a finite coordinate "
        r"value\. Drop those points first: `da\.isel\(x=da\['x'\]\.notnull\(\)\)`",
    ):
        resolve_spacings(_da([0.0, np.nan, 2.0]), ["x"])


def test_inf_coordinate():
    with pytest.raises(
        ValueError, match=r"contains inf at index 2.*`da\.isel\(x=np\.isfinite\(da\['x'\]\)\)`"
    ):
        resolve_spacings(_da([0.0, 1.0, np.inf]), ["x"])


def test_nat_coordinate_and_non_identifier_dim():
    t = np.array(["2000-01-01", "NaT", "2000-01-03"], dtype="datetime64[ns]")
    with pytest.raises(
        ValueError,
        match=r"coordinate 'my time' contains NaT at index 1;.*"
        r"`da\.isel\(\{'my time': da\['my time'\]\.notnull\(\)\}\)`",
    ):
        resolve_spacings(_da(t, name="my time"), ["my time"])


def test_missing_cftime_value():
    c = np.array([cftime.DatetimeNoLeap(2000, 1, 1), None, cftime.DatetimeNoLeap(2000, 1, 3)])
    with pytest.raises(ValueError, match=r"coordinate 'x' contains a missing time at index 1"):
        resolve_spacings(_da(c), ["x"])


def test_mixed_calendars_advice_runs(assert_bitwise_equal):
    # The advice was `da.convert_calendar('noleap', dim='x')`, which leaves a coordinate of
    # mixed calendars as it is (an audit); the one given now rebuilds it, run as written
    c = np.array(
        [cftime.DatetimeNoLeap(2000, 1, 1), cftime.DatetimeGregorian(2000, 1, 2, 6, 0, 0, 5)]
    )
    da = _da(c)
    with pytest.raises(
        TypeError,
        match=r"coordinate 'x' mixes times that cannot be subtracted .*"
        r"\(noleap, standard are mixed\), e\.g\. `da = da\.assign_coords",
    ) as err:
        da.grad.along("x")
    exec(str(err.value).split("e.g. `")[1].rstrip("`"), {"cftime": cftime}, scope := {"da": da})
    fixed = scope["da"]
    assert {t.calendar for t in fixed.x.values} == {"noleap"}
    want = np.array(
        [cftime.DatetimeNoLeap(2000, 1, 1), cftime.DatetimeNoLeap(2000, 1, 2, 6, 0, 0, 5)]
    )
    assert_bitwise_equal(fixed.grad.along("x").values, _da(want).grad.along("x").values)
    # the calendar advised has every date: 30 February is a 360_day date, not a noleap one
    feb30 = _da(np.array([cftime.DatetimeNoLeap(2000, 2, 1), cftime.Datetime360Day(2000, 2, 30)]))
    with pytest.raises(TypeError, match=r"calendar='360_day'") as err:
        feb30.grad.along("x")
    exec(str(err.value).split("e.g. `")[1].rstrip("`"), {"cftime": cftime}, scope := {"da": feb30})
    assert np.isfinite(scope["da"].grad.along("x").values).all()
    mixed_types = np.array([cftime.DatetimeNoLeap(2000, 1, 1), datetime.datetime(2000, 1, 2)])
    with pytest.raises(TypeError, match=r"\(noleap, datetime are mixed\): datetime64, or cftime"):
        resolve_spacings(_da(mixed_types), ["x"])


@pytest.mark.parametrize(
    "x",
    [
        [0.0, 1.0, 1.0, 2.0],
        np.array([0, 1, 1, 2]),
        np.array(["2000-01-01", "2000-01-02", "2000-01-02"], dtype="datetime64[ns]"),
        np.array([cftime.DatetimeNoLeap(2000, 1, 1)] * 2),
    ],
)
def test_repeated_values(x):
    with pytest.raises(
        ValueError,
        match=r"coordinate 'x' has repeated values \(x\[\d\] == x\[\d\] == .*\), so the "
        r"spacing there is zero\. Remove the duplicates first: `da\.drop_duplicates\('x'\)`",
    ):
        resolve_spacings(_da(x), ["x"])


def test_not_monotonic_increasing_then_decreasing():
    with pytest.raises(
        ValueError,
        match=r"coordinate 'lat' is not monotonic \(it increases at index 1 and decreases at "
        r"index 3\); sort it first: `da\.sortby\('lat'\)`",
    ):
        resolve_spacings(_da([0.0, 1.0, 2.0, 1.5], name="lat"), ["lat"])


@pytest.mark.parametrize(
    ("lon", "fix"),
    [
        (np.r_[np.arange(160.0, 180.0, 2.5), np.arange(-180.0, -160.0, 2.5)], "% 360"),
        (np.r_[np.arange(350.0, 360.0, 2.5), np.arange(0.0, 20.0, 2.5)], "+ 180) % 360 - 180"),
        (np.r_[np.arange(-160.0, -180.0, -2.5), np.arange(180.0, 160.0, -2.5)], "% 360"),
    ],
)
def test_a_longitude_wrapping_around_is_made_continuous_not_sorted(lon, fix):
    # A regional grid across the dateline (or Greenwich): "sort it first" joined its two ends
    # (a 322.5-degree gap at the seam) and the derivatives there were wrong, silently (an
    # audit). The message now gives the fix that keeps the order; the fix works
    T = np.sin(np.radians(lon % 360.0) * 3.0)
    lat = xr.DataArray([10.0, 20.0], dims="lat", attrs={"units": "degrees_north"})
    da = xr.DataArray(
        np.stack([T, 2 * T]),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": ("lon", lon, {"units": "degrees_east"})},
    )
    with pytest.raises(
        ValueError,
        match=rf"wraps around.*`da\.assign_coords\(lon=\(?da\['lon'\] {re.escape(fix)}\)`",
    ):
        da.grad.along("lon")
    fixed = da.assign_coords(lon=da.lon % 360 if fix == "% 360" else (da.lon + 180) % 360 - 180)
    h = np.radians(2.5)
    exact = 3 * np.cos(np.radians(lon % 360.0) * 3.0) / (6371008.8 * np.cos(np.radians(10.0)))
    got = fixed.grad.along("lon", edge_order=2).values[0]
    # second-order truncation error: 9 h^2 / 3 of max|f'| at the one-sided ends (f = sin 3 lon)
    np.testing.assert_allclose(got, exact, rtol=0, atol=4 * h**2 * np.abs(exact).max())


def test_wrap_advice_for_integer_degrees_and_not_for_other_disorder():
    # the review of this session's changes: integer degrees got "sortby"; [269, 90, 91] (no
    # step over 180) crashed in numpy's max of an empty array
    lon = _da(np.array([150, 160, 170, -180, -170, -160], dtype="i4"), name="lon")
    lon["lon"].attrs["units"] = "degrees_east"
    with pytest.raises(
        ValueError, match=r"wraps around.*`da\.assign_coords\(lon=da\['lon'\] % 360\)`"
    ):
        resolve_spacings(lon, ["lon"])
    other = _da([269.0, 90.0, 91.0], name="lon")
    other["lon"].attrs["units"] = "degrees_east"
    with pytest.raises(ValueError, match=r"not monotonic .*sort it first"):
        resolve_spacings(other, ["lon"])
    odd = _da([170.0, 175.0, -180.0, -175.0], name="lon east")
    odd["lon east"].attrs["units"] = "degrees_east"
    with pytest.raises(
        ValueError,
        match=r"it wraps around: make it continuous with `da\['lon east'\] % 360` \(not sortby\)",
    ):
        resolve_spacings(odd, ["lon east"])


def test_not_monotonic_decreasing_then_increasing():
    t = np.array(["2000-01-03", "2000-01-02", "2000-01-04"], dtype="datetime64[s]")
    with pytest.raises(
        ValueError, match=r"it decreases at index 1 and increases at index 2\); sort it first"
    ):
        resolve_spacings(_da(t), ["x"])


def test_suggested_fixes_work():
    """The code in each message repairs the coordinate it complains about."""
    bad = {
        "sortby": _da([0.0, 2.0, 1.0]).sortby("x"),
        "drop_duplicates": _da([0.0, 1.0, 1.0, 2.0]).drop_duplicates("x"),
    }
    da = _da([0.0, np.nan, 2.0])
    bad["notnull"] = da.isel(x=da["x"].notnull())
    da = _da([0.0, np.inf, 2.0])
    bad["isfinite"] = da.isel(x=np.isfinite(da["x"]))
    da = _da(np.array(["a", "b"]))
    bad["drop_vars"] = da.drop_vars("x")
    for fixed in bad.values():
        resolve_spacings(fixed, ["x"])


def test_errors_leave_input_unchanged():
    da = _da([0.0, 2.0, 1.0], units="m")
    before = da.copy(deep=True)
    with pytest.raises(ValueError, match=r"coordinate 'x' is not monotonic"):
        resolve_spacings(da, ["x"])
    xr.testing.assert_identical(da, before)


def test_times_float64_cannot_tell_apart_are_refused_with_a_fix_that_works():
    # An audit: distinct times (checked exact, on their integers) whose float64 numbers over
    # a span of years are equal gave inf and NaN derivatives with only numpy's warnings
    t = np.array(
        ["2000-01-01", "2010-01-01T00:00:00", "2010-01-01T00:00:00.000000001", "2010-01-02"],
        dtype="M8[ns]",
    )
    da = xr.DataArray([0.0, 1.0, 2.0, 3.0], dims="time", coords={"time": t})
    with pytest.raises(ValueError, match="too close for float64 to tell apart") as err:
        da.grad.along("time")
    fix = re.findall(r"`(da[ .][^`]*)`", str(err.value))
    assert fix == [
        "da = da.assign_coords({'time': da['time'].dt.round('1s')})",
        "da.drop_duplicates('time')",
    ]
    namespace = {"da": da}
    exec(fix[0], namespace)  # noqa: S102 (our own message)
    fixed = eval(fix[1], namespace)  # noqa: S307
    assert np.isfinite(fixed.grad.along("time").values).all()
    # a time coordinate that is not a dim (forecast steps): the advice swaps it in first
    steps = xr.DataArray(
        da.values, dims="step", coords={"step": np.arange(4), "valid_time": ("step", t)}
    )
    with pytest.raises(ValueError, match="too close for float64") as err:
        steps.grad.along("valid_time")
    fix = re.findall(r"`(da[ .][^`]*)`", str(err.value))
    assert fix[0] == "da = da.swap_dims({'step': 'valid_time'})"
    namespace = {"da": steps}
    exec(fix[0], namespace)  # noqa: S102
    exec(fix[1], namespace)  # noqa: S102
    fixed = eval(fix[2], namespace)  # noqa: S307
    assert np.isfinite(fixed.grad.along("valid_time").values).all()


def test_periods_and_dates_get_a_conversion_not_positions():
    # An audit: a monthly PeriodIndex (or datetime.date values) was refused with the advice to
    # differentiate along positions, which drops the month lengths (per index, labelled K)
    pd = pytest.importorskip("pandas")
    months = xr.DataArray(
        [0.0, 31.0, 60.0, 91.0],
        dims="time",
        coords={"time": pd.period_range("2000-01", periods=4, freq="M")},
        attrs={"units": "K"},
    )
    dates = xr.DataArray(
        [0.0, 2.0, 3.0],
        dims="t",
        coords={
            "t": [datetime.date(2000, 1, 1), datetime.date(2000, 1, 3), datetime.date(2000, 1, 4)]
        },
        attrs={"units": "K"},
    )
    for da, name, dtype in ((months, "time", "period[M]"), (dates, "t", "object")):
        with pytest.raises(TypeError, match=f"has dtype {re.escape(dtype)} and cannot") as err:
            da.grad.along(name)
        (fix,) = re.findall(r"`(da = [^`]*)`", str(err.value))
        namespace = {"da": da, "pd": pd}
        exec(fix, namespace)  # noqa: S102 (our own message)
        got = namespace["da"].grad.along(name, datetime_unit="D")
        assert got.attrs["units"] == "K d-1"
        np.testing.assert_allclose(got.values, 1.0)  # one kelvin per day, month lengths kept


def test_dask_month_coordinate_counts_month_lengths(assert_bitwise_equal):
    # An audit: xarray keeps datetime64[M] where dask holds a non-index coordinate; its
    # differences were months (numpy: "Cannot get a common metadata divisor ... [M] and [s]")
    months = np.arange(6).astype("datetime64[M]")
    lazy = xr.DataArray(
        np.arange(6.0), dims="step", coords={"vt": ("step", dsa.from_array(months, chunks=2))}
    )
    assert lazy.vt.dtype == np.dtype("datetime64[M]")
    eager = lazy.assign_coords(vt=("step", months))
    assert eager.vt.dtype.kind == "M"
    got = lazy.grad.along("vt", datetime_unit="D")
    assert_bitwise_equal(got.values, eager.grad.along("vt", datetime_unit="D").values)
    np.testing.assert_allclose(got.values[0], 1 / 31)  # January: 31 days
    with pytest.raises(TypeError, match=r"timedelta64\[M\] values have no fixed length"):
        time_to_numbers(np.arange(3).astype("timedelta64[M]"), "s")


def test_undecoded_times_keep_their_precision_in_a_coarser_unit():
    # A review: 1.7e9 "seconds since 1970" with 1 s steps, counted in weeks before the
    # differences, kept 7 digits (relative error 2e-7); from the first time: as decoded
    seconds = 1.7e9 + np.array([0.0, 1.0, 2.0, 4.0, 5.0])
    time = xr.Variable("time", seconds, {"units": "seconds since 1970-01-01"})
    da = xr.DataArray(np.array([0.0, 1.0, 4.0, 9.0, 7.0]), dims="time", coords={"time": time})
    decoded = xr.decode_cf(da.to_dataset(name="v")).v
    for unit in ("W", "D", "h"):
        got = da.grad.along("time", datetime_unit=unit).values
        want = decoded.grad.along("time", datetime_unit=unit).values
        np.testing.assert_allclose(got, want, rtol=4e-15)
    # udunits' common_year is 365 days exactly
    years = xr.Variable("t", [0.0, 1.0, 3.0], {"units": "common_years since 2000-01-01"})
    dy = xr.DataArray([0.0, 365.0, 1095.0], dims="t", coords={"t": years})
    np.testing.assert_allclose(dy.grad.along("t", datetime_unit="D").values, 1.0, rtol=1e-15)
