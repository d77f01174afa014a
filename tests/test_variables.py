"""xgrad.variables: the one rule for which Dataset variables are differentiated."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from xgrad.variables import (
    Skipped,
    cf_metadata_variables,
    check_differentiable,
    dtype_problem,
    select_variables,
)


def _dataset() -> xr.Dataset:
    lat = np.linspace(-60.0, 60.0, 5)
    lon = np.arange(0.0, 360.0, 60.0)
    field = np.ones((5, 6))
    return xr.Dataset(
        {
            "T": (("lat", "lon"), field, {"grid_mapping": "crsA: lat lon crsB: x y"}),
            "u": (("lat", "lon"), field.astype("float32")),
            "n": (("lat", "lon"), field.astype("int16")),
            "flag": (("lat", "lon"), np.full((5, 6), "ok")),
            "mask": (("lat", "lon"), field > 0),
            "lat_bnds": (("lat", "nv"), np.ones((5, 2))),
            "crsA": (("lat", "lon"), field),  # a grid mapping with the dims (unusual, allowed)
            "crsB": ((), 0),
            "proj": (("lat", "lon"), field, {"grid_mapping_name": "polar_stereographic"}),
            "h": ("lat", np.ones(5)),
        },
        coords={
            "lat": ("lat", lat, {"bounds": "lat_bnds"}),
            "lon": ("lon", lon),
            "time": ((), np.datetime64("2000-01-01", "ns")),
        },
    )


def test_default_selection_and_what_is_left_out():
    chosen, skipped = select_variables(_dataset(), ["lat", "lon"])
    assert chosen == ["T", "u", "n"]
    assert skipped == [
        Skipped("flag", "its dtype <U2 is not numeric", "dtype"),
        Skipped("mask", "its dtype bool is not numeric", "dtype"),
        Skipped("crsA", "grid mapping of 'T'", "grid_mapping"),
        Skipped("proj", "grid mapping 'polar_stereographic'", "grid_mapping"),
    ]
    # along lat only, the 1-D variables and the bounds of lat come in view
    chosen, skipped = select_variables(_dataset(), ["lat"])
    assert chosen == ["T", "u", "n", "h"]
    assert Skipped("lat_bnds", "cell bounds of 'lat'", "bounds") in skipped


def test_cf_metadata_variables():
    found = cf_metadata_variables(_dataset())
    assert {k: v.kind for k, v in found.items()} == {
        "lat_bnds": "bounds",
        "crsA": "grid_mapping",
        "crsB": "grid_mapping",
        "proj": "grid_mapping",
    }


def test_metadata_named_in_encoding_and_climatology():
    # decode_coords="all" moves 'bounds' and 'grid_mapping' from attrs to encoding
    ds = xr.Dataset(
        {
            "T": ("time", np.arange(3.0)),
            "clim": (("time", "nv"), np.ones((3, 2))),
            "tb": (("time", "nv"), np.ones((3, 2))),
        },
        coords={"time": ("time", np.arange(3.0), {"climatology": "clim"})},
    )
    ds["T"].encoding["grid_mapping"] = "nowhere"  # names no variable: ignored
    ds["time"].encoding["bounds"] = "tb"
    chosen, skipped = select_variables(ds, ["time"])
    assert chosen == ["T"]
    assert [(s.name, s.kind) for s in skipped] == [("clim", "bounds"), ("tb", "bounds")]


def test_named_variables_are_taken_as_they_are():
    ds = _dataset()
    assert select_variables(ds, ["lat"], ["lat_bnds", "h"]) == (["lat_bnds", "h"], [])


@pytest.mark.parametrize(
    "names, error, match",
    [
        (["v"], ValueError, r"^'v' is not a data variable; the data variables are \('T', "),
        (["lon"], ValueError, r"^'lon' is not a data variable \(it is a coordinate\)"),
        (["T", "T"], ValueError, r"^'T' is named twice; name each variable once"),
        (
            ["h"],
            ValueError,
            r"^'h' does not have the dimension 'lon'; its dimensions are \('lat',\)",
        ),
        (
            ["flag"],
            TypeError,
            r"^'flag' has dtype <U2 and cannot be differentiated; .* "
            r"`ds\['flag'\] = ds\['flag'\]\.astype\(float\)`, or leave it out",
        ),
    ],
)
def test_named_variable_errors(names, error, match):
    with pytest.raises(error, match=match):
        select_variables(_dataset(), ["lat", "lon"], names)


def test_dtype_problem():
    assert dtype_problem(xr.DataArray(np.arange(3, dtype="uint8"))) is None
    assert dtype_problem(xr.DataArray(np.ones(3, dtype="complex64"))) is None
    times = np.array(["2000-01-01", "2000-01-02"], dtype="datetime64[ns]")
    assert dtype_problem(xr.DataArray(times)) is None
    assert dtype_problem(xr.DataArray(times - times[0])) is None
    assert dtype_problem(xr.DataArray(np.array([True]))) == "bool"
    assert dtype_problem(xr.DataArray(np.array([b"x"]))) == "|S1"
    assert dtype_problem(xr.DataArray(np.array(["a", None], dtype=object))) == "object"


def test_dtype_problem_objects_cftime_and_chunks():
    cftime = pytest.importorskip("cftime")
    days = np.array([cftime.DatetimeNoLeap(2000, 1, d) for d in (1, 2, 4)], dtype=object)
    assert dtype_problem(xr.DataArray(days)) is None  # in memory: differentiable
    pytest.importorskip("dask")
    assert dtype_problem(xr.DataArray(days).chunk()) == "object (chunked)"


def test_dtype_problem_pint_magnitude():
    pint = pytest.importorskip("pint")
    ureg = pint.UnitRegistry()
    assert dtype_problem(xr.DataArray(ureg.Quantity(np.arange(3.0), "m"))) is None


def test_check_differentiable():
    check_differentiable(xr.DataArray(np.arange(3.0), name="x"))
    with pytest.raises(
        TypeError,
        match=r"^data variable 'f' has dtype bool and cannot be differentiated; xgrad needs "
        r"numbers, datetime64 or \(in memory\) cftime values\. Convert it first, e\.g\. "
        r"`da\.astype\(float\)`$",
    ):
        check_differentiable(xr.DataArray(np.array([True, False]), name="f"))


def test_dataset_accessor_uses_the_same_rule():
    """ds.grad.along leaves out CF bounds and grid mappings, like the command line."""
    lat = np.arange(-30.0, 31.0, 10.0)
    ds = xr.Dataset(
        {
            "T": (("lat",), np.cos(np.deg2rad(lat)), {"units": "K", "grid_mapping": "crs"}),
            "lat_bnds": (("lat", "nv"), np.stack([lat - 5, lat + 5], axis=1)),
            "crs": ((), 0, {"grid_mapping_name": "latitude_longitude"}),
        },
        coords={"lat": ("lat", lat, {"units": "degrees_north", "bounds": "lat_bnds"})},
    )
    out = ds.grad.along("lat")
    assert list(out.data_vars) == ["T"]
    bad = ds.assign(s=("lat", np.array(list("abcdefg"), dtype=object)))
    with pytest.raises(TypeError, match=r"data variable 's' has dtype object"):
        bad.grad.along("lat")


def test_chunked_cftime_data_is_told_to_load_and_that_works():
    # An audit: the advice for cftime values on dask was `astype(float)`, which fails for them
    cftime = pytest.importorskip("cftime")
    days = [cftime.DatetimeNoLeap(2000, 1, d) for d in (1, 3, 4)]
    da = xr.DataArray(days, dims="x", coords={"x": [0.0, 1.0, 2.0]}, name="tmax").chunk(1)
    with pytest.raises(
        TypeError, match=r"differentiated in memory: load them first, `da\.load\(\)`"
    ):
        da.grad.along("x")
    loaded = da.copy().load()  # (load works in place)
    np.testing.assert_array_equal(loaded.grad.along("x").values, [172800.0, 129600.0, 86400.0])
    ds = da.to_dataset()
    with pytest.raises(TypeError, match=r"`ds\['tmax'\]\.load\(\)\.grad\.along\(\.\.\.\)`"):
        select_variables(ds, ["x"], ["tmax"])
