"""Staggered grids (Arakawa B and C) as model output comes: components on different dims must
never be combined into an outer product, and each variable is differentiated on its own points.

Found by an audit of ROMS/NEMO/WRF/MITgcm-like Datasets: ``divergence``, ``curl`` and
``advection`` of components on ``(YC, XG)`` and ``(YG, XC)`` were 4-D (6-D on ROMS), silently;
the advice for several 2-D latitude/longitude pairs dropped all of them (the derivative that
followed was per index); a B grid's two latitudes made every Dataset method ambiguous.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import xgrad  # noqa: F401

NORTH = {"units": "degrees_north"}
EAST = {"units": "degrees_east"}
RNG = np.random.default_rng(18)
LCC = {
    "grid_mapping_name": "lambert_conformal_conic",
    "standard_parallel": [30.0, 60.0],
    "longitude_of_central_meridian": -100.0,
    "latitude_of_projection_origin": 45.0,
}
PX = {"standard_name": "projection_x_coordinate", "units": "m"}
PY = {"standard_name": "projection_y_coordinate", "units": "m"}


def _c_grid_in_metres(ny=6, nx=7, dx=1000.0, chunk=None):
    """MITgcm/xgcm-like: U on (YC, XG), V on (YG, XC), T on (YC, XC); x and y in metres."""
    m = {"units": "m"}
    ds = xr.Dataset(
        {
            "U": (("YC", "XG"), RNG.standard_normal((ny, nx)), {"units": "m s-1"}),
            "V": (("YG", "XC"), RNG.standard_normal((ny, nx)), {"units": "m s-1"}),
            "T": (("YC", "XC"), RNG.standard_normal((ny, nx)), {"units": "K"}),
        },
        coords={
            "XC": ("XC", dx * (np.arange(nx) + 0.5), m),
            "XG": ("XG", dx * np.arange(nx), m),
            "YC": ("YC", dx * (np.arange(ny) + 0.5), m),
            "YG": ("YG", dx * np.arange(ny), m),
        },
    )
    return ds if chunk is None else ds.chunk(chunk)


def _b_grid(ny=8, nx=9):
    """Regular latitude/longitude B grid: u, v on (lat_u, lon_u), T on (lat, lon)."""
    lat, lon = 10.0 + np.arange(ny), -40.0 + np.arange(nx)
    return xr.Dataset(
        {
            "u": (("lat_u", "lon_u"), RNG.standard_normal((ny, nx)), {"units": "m s-1"}),
            "v": (("lat_u", "lon_u"), RNG.standard_normal((ny, nx)), {"units": "m s-1"}),
            "T": (("lat", "lon"), RNG.standard_normal((ny, nx)), {"units": "K"}),
        },
        coords={
            "lat": ("lat", lat, NORTH),
            "lon": ("lon", lon, EAST),
            "lat_u": ("lat_u", lat + 0.5, NORTH),
            "lon_u": ("lon_u", lon + 0.5, EAST),
        },
    )


def _curvilinear(ny, nx, joff=0.0, ioff=0.0):
    """2-D latitude/longitude of a skewed grid (grid lines not along east and north)."""
    j, i = np.meshgrid(np.arange(ny) + joff, np.arange(nx) + ioff, indexing="ij")
    return 20.0 + 0.5 * j + 0.1 * i, -10.0 + 0.5 * i - 0.05 * j


def _nemo(ny=7, nx=8):
    """NEMO-like: uo, vo, tos share (y, x); T, U and V points all attached."""
    coords = {}
    for (lat, lon), (jo, io) in {
        ("nav_lat", "nav_lon"): (0.0, 0.0),
        ("gphiu", "glamu"): (0.0, 0.5),
        ("gphiv", "glamv"): (0.5, 0.0),
    }.items():
        la, lo = _curvilinear(ny, nx, jo, io)
        coords[lat] = (("y", "x"), la, NORTH)
        coords[lon] = (("y", "x"), lo, EAST)
    data = {k: (("y", "x"), RNG.standard_normal((ny, nx)), {"units": "m s-1"}) for k in "uv"}
    return xr.Dataset({"uo": data["u"], "vo": data["v"]}, coords=coords)


def _wrf(ny=6, nx=7):
    """WRF-like: T2 on the mass points, U on west_east_stag, V on south_north_stag."""
    dims = {
        "T2": ("south_north", "west_east"),
        "U": ("south_north", "west_east_stag"),
        "V": ("south_north_stag", "west_east"),
    }
    shapes = {"T2": (ny, nx), "U": (ny, nx + 1), "V": (ny + 1, nx)}
    offsets = {"T2": (0.0, 0.0), "U": (0.0, -0.5), "V": (-0.5, 0.0)}
    coords, data = {}, {}
    for name, d in dims.items():
        la, lo = _curvilinear(*shapes[name], *offsets[name])
        suffix = "" if name == "T2" else f"_{name}"
        coords[f"XLAT{suffix}"] = (d, la, NORTH)
        coords[f"XLONG{suffix}"] = (d, lo, EAST)
        units = "K" if name == "T2" else "m s-1"
        data[name] = (d, RNG.standard_normal(shapes[name]), {"units": units})
    return xr.Dataset(data, coords=coords)


@pytest.mark.parametrize("chunk", [None, {"YC": 3, "YG": 3}])
def test_c_grid_components_are_refused_not_broadcast(chunk):
    ds = _c_grid_in_metres(chunk=chunk)
    calls = {
        "divergence": lambda: ds.grad.divergence({"XG": "U", "YG": "V"}),
        "curl": lambda: ds.grad.curl({"XC": "U", "YC": "V"}),
        "advection": lambda: ds.grad.advection("T", {"XC": "U", "YC": "V"}),
        "deformation": lambda: ds.grad.deformation({"XG": "U", "YG": "V"}),
    }
    for operator, call in calls.items():
        with pytest.raises(
            ValueError, match=rf"^{operator}: the variables it combines lie on"
        ) as e:
            call()
        assert "would broadcast them into ('YC', 'XG', 'YG', 'XC')" in str(e.value)
        assert "interpolate them to one grid first" in str(e.value)


def test_curvilinear_staggered_components_are_refused():
    ds = _wrf()
    with pytest.raises(ValueError, match="advection: the variables it combines lie on different"):
        ds.grad.advection("T2", {"west_east": "U", "south_north": "V"})
    for method in ("divergence", "curl", "deformation", "vector_gradient"):
        with pytest.raises(ValueError, match=f"{method}: the variables it combines lie on"):
            getattr(ds.grad, method)({"west_east_stag": "U", "south_north_stag": "V"})
    # dims of two grids: it was "not enough values to unpack (expected at least 1, got 0)"
    with pytest.raises(ValueError, match=r"the dims \('south_north_stag', 'west_east_stag'\) are"):
        ds.grad.along("south_north_stag", "west_east_stag")


def test_components_whose_dims_nest_still_broadcast(assert_bitwise_equal):
    """u on (time, y, x) and v on (y, x): v is the same at every time, broadcast as meant."""
    ds = _c_grid_in_metres().drop_vars(["XG", "YG"])
    u = ds.T.expand_dims(time=3).copy(data=RNG.standard_normal((3, 6, 7)))
    v = ds.T.rename("v")
    both = xr.Dataset({"u": u, "v": v})
    got = both.grad.divergence({"XC": "u", "YC": "v"})
    full = both.assign(v=v.broadcast_like(u).transpose(*u.dims))
    assert got.dims == ("time", "YC", "XC")
    assert_bitwise_equal(got.values, full.grad.divergence({"XC": "u", "YC": "v"}).values)
    adv = both.grad.advection("v", {"XC": "u", "YC": "v"})
    assert adv.sizes == {"time": 3, "YC": 6, "XC": 7}


def test_b_grid_dataset_methods_use_each_variables_own_points(assert_bitwise_equal):
    ds = _b_grid()
    alone = ds[["u", "v"]]
    assert_bitwise_equal(
        ds.grad.divergence({"lon_u": "u", "lat_u": "v"}).values,
        alone.grad.divergence({"lon_u": "u", "lat_u": "v"}).values,
    )
    assert_bitwise_equal(
        ds.grad.curl({"lon_u": "u", "lat_u": "v"}).values,
        alone.grad.curl({"lon_u": "u", "lat_u": "v"}).values,
    )
    adv = ds.grad.advection("u", {"lon_u": "u", "lat_u": "v"})
    assert_bitwise_equal(adv.values, alone.grad.advection("u", {"lon_u": "u", "lat_u": "v"}).values)
    # along one grid's longitude: that grid's variables, on their own latitude
    on_u = ds.grad.along("lon_u")
    assert list(on_u.data_vars) == ["u", "v"]
    assert_bitwise_equal(on_u["u"].values, ds.u.grad.along("lon_u").values)
    on_t = ds.grad.along("lon")
    assert list(on_t.data_vars) == ["T"]
    assert_bitwise_equal(on_t["T"].values, ds.T.grad.along("lon").values)


def test_c_grid_one_variable_on_a_dim_is_differentiated(assert_bitwise_equal):
    """Only U has XG: planned on its own coordinates (it was refused as ambiguous)."""
    lat = {"units": "degrees_north"}
    lon = {"units": "degrees_east"}
    ds = _c_grid_in_metres()
    for name, attrs in {"XC": lon, "XG": lon, "YC": lat, "YG": lat}.items():
        ds[name] = ds[name] / 1e4
        ds[name].attrs.update(attrs)
    got = ds.grad.along("XG")
    assert list(got.data_vars) == ["U"]
    assert got["U"].attrs["xgrad_geometry"] == "sphere"
    assert_bitwise_equal(got["U"].values, ds.U.grad.along("XG").values)


def test_several_latitude_longitude_pairs_advice_keeps_one_pair(assert_bitwise_equal):
    ds = _nemo()
    with pytest.raises(ValueError, match="several 2-D latitude/longitude pairs") as e:
        ds.uo.grad.along("x")
    text = str(e.value)
    assert (
        "latitudes ('nav_lat', 'gphiu', 'gphiv'), longitudes ('nav_lon', 'glamu', 'glamv')" in text
    )
    advice = dict(re.findall(r"(\('\w+', '\w+'\)): `da\.drop_vars\((\[[^\]]*\])\)`", text))
    assert set(advice) == {"('nav_lat', 'nav_lon')", "('gphiu', 'glamu')", "('gphiv', 'glamv')"}
    # the advice for the U points, run as written, keeps them and gives a derivative per metre
    drop = eval(advice["('gphiu', 'glamu')"])  # noqa: S307 (a list of names from our message)
    da = ds.uo
    got = da.drop_vars(drop).grad.along("x")
    assert set(got.coords) == {"gphiu", "glamu"}
    assert got.attrs["xgrad_geometry"] == "curvilinear" and got.attrs["units"] == "s-1"
    own = ds.uo.drop_vars(["nav_lat", "nav_lon", "gphiv", "glamv"]).grad.along("x")
    assert_bitwise_equal(got.values, own.values)


@pytest.mark.parametrize("chunk", [None, 4])
@pytest.mark.parametrize("make", [_wrf, _b_grid])
def test_dataset_horizontal_differentiates_every_grid(make, chunk, assert_bitwise_equal):
    # An audit (ROMS rho/u/v/psi points): Dataset.grad.horizontal() took one grid, the first
    # whose coordinates it met, and left the other grids' variables out without a word; with
    # the coordinates in another order, other variables. Each grid now gets its own plan.
    ds = make()
    ds["series"] = ("time", np.arange(3.0))  # on no grid: left out
    first = list(ds.coords)[-2:]  # the last grid's coordinates first
    reordered = ds.drop_vars(list(ds.coords)).assign_coords(
        {k: ds[k] for k in first + [c for c in ds.coords if c not in first]}
    )
    want = {k: ds[k].grad.horizontal() for k in ds.data_vars if k != "series"}
    for each in (ds, reordered):
        if chunk:
            each = each.chunk(chunk)
        east, north = each.grad.horizontal()
        assert list(east.data_vars) == list(north.data_vars) == list(want)
        for k, (want_east, want_north) in want.items():
            assert east[k].dims == ds[k].dims
            assert east[k].attrs == want_east.attrs
            assert_bitwise_equal(east[k].values, want_east.values)
            assert_bitwise_equal(north[k].values, want_north.values)


def test_dataset_horizontal_shares_a_grid_and_refuses_an_unusable_one(assert_bitwise_equal):
    ds = _wrf()
    ds["T2_t"] = (("time",) + ds.T2.dims, RNG.standard_normal((2,) + ds.T2.shape), {"units": "K"})
    east, _ = ds.grad.horizontal()
    assert_bitwise_equal(
        east["T2_t"].isel(time=1).values, ds.T2_t.isel(time=1).grad.horizontal()[0].values
    )
    # a grid among them whose latitude is ambiguous is an error, not left out
    nemo = _nemo().rename({"x": "i", "y": "j"})
    with pytest.raises(ValueError, match="several 2-D latitude/longitude pairs"):
        xr.merge([ds, nemo]).grad.horizontal()


def test_static_field_beside_time_dependent_wrf_coordinates(tmp_path, assert_bitwise_equal):
    # An audit: XLAT(Time, y, x) as in wrfout, a static HGT0(y, x): differentiated in a
    # Dataset of one grid, but left out without a word once U (a second grid) was there;
    # `--var HGT0` was refused (its own coordinates have no Time)
    ds = _wrf()
    ds = ds.assign_coords(
        {k: (("Time", *ds[k].dims), np.stack([ds[k].values] * 2), ds[k].attrs) for k in ds.coords}
    )
    ds["T2"] = ds.T2.expand_dims(Time=2).copy()
    ds["HGT0"] = (ds.T2.dims[1:], 1000.0 * RNG.random(ds.T2.shape[1:]), {"units": "m"})
    alone = ds.drop_vars(["U", "V", "XLAT_U", "XLONG_U", "XLAT_V", "XLONG_V"])
    want_east, want_north = alone.grad.horizontal()
    assert list(want_east.data_vars) == ["T2", "HGT0"]
    east, north = ds.grad.horizontal()
    assert list(east.data_vars) == ["T2", "U", "V", "HGT0"]
    # U and V lack Time too, and so does every variable on their grids: read on XLAT_U(Time, ..)
    assert {east[k].attrs["xgrad_geometry"] for k in east.data_vars} == {"curvilinear"}
    u = ds.U.expand_dims(Time=2).assign_coords(XLAT_U=ds.XLAT_U, XLONG_U=ds.XLONG_U)
    assert_bitwise_equal(east.U.values, u.grad.horizontal()[0].isel(Time=1).values)
    assert_bitwise_equal(east.HGT0.values, want_east.HGT0.values)
    assert_bitwise_equal(north.HGT0.values, want_north.HGT0.values)
    ds.to_netcdf(tmp_path / "wrf.nc")
    proc = subprocess.run(
        [sys.executable, "-m", "xgrad", "gradient", "wrf.nc", "o.nc", "--horizontal"]
        + ["--var", "HGT0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    with xr.open_dataset(tmp_path / "o.nc") as got:
        assert list(got.data_vars) == ["dHGT0_deast", "dHGT0_dnorth"]
        assert_bitwise_equal(got.dHGT0_deast.values, want_east.HGT0.values)


def test_two_grids_with_their_own_grid_mappings(assert_bitwise_equal):
    # An audit: each variable names its own mapping; the Dataset was refused as "naming a
    # grid mapping that is not a coordinate here"
    x, y = 12000.0 * np.arange(7), 12000.0 * np.arange(6)
    ds = xr.Dataset(
        {
            "t": (("y", "x"), RNG.random((6, 7)), {"units": "K", "grid_mapping": "crs"}),
            "t2": (("y2", "x2"), RNG.random((6, 7)), {"units": "K", "grid_mapping": "crs2"}),
        },
        coords={
            "x": ("x", x, PX),
            "y": ("y", y, PY),
            "x2": ("x2", x, PX),
            "y2": ("y2", y, PY),
            "crs": ((), 0, LCC),
            "crs2": ((), 0, dict(LCC, longitude_of_central_meridian=-90.0)),
        },
    )
    east, north = ds.grad.horizontal()
    for k in ("t", "t2"):
        want_east, want_north = ds[k].grad.horizontal()
        assert east[k].attrs["xgrad_geometry"] == "projected"
        assert_bitwise_equal(east[k].values, want_east.values)
        assert_bitwise_equal(north[k].values, want_north.values)
    # the two mappings differ: so do the results of the same values on the same x, y
    same = ds.assign(t2=(("y2", "x2"), ds.t.values, ds.t2.attrs))
    assert not np.array_equal(same.grad.horizontal()[0].t2.values, east.t.values)


@pytest.mark.parametrize("mapping_is_coordinate", [True, False])
def test_static_field_without_grid_mapping_on_a_projected_grid(
    assert_bitwise_equal, mapping_is_coordinate
):
    # A review: T(time, y, x) names the grid mapping, orog(y, x) does not (common for
    # orography and masks); the Dataset was refused for orog after the per-grid change
    ds = xr.Dataset(
        {
            "T": (("time", "y", "x"), RNG.random((2, 6, 7)), {"units": "K", "grid_mapping": "crs"}),
            "orog": (("y", "x"), 1000.0 * RNG.random((6, 7)), {"units": "m"}),
        },
        coords={
            "x": ("x", 12000.0 * np.arange(7), PX),
            "y": ("y", 12000.0 * np.arange(6), PY),
            "crs": ((), 0, LCC),
        },
    )
    if not mapping_is_coordinate:  # as xarray opens a file without decode_coords="all"
        ds = ds.reset_coords("crs")
    east, north = ds.grad.horizontal()
    want_east, want_north = ds.orog.grad.horizontal(crs=ds.crs)
    assert east.orog.attrs["xgrad_geometry"] == "projected"
    assert_bitwise_equal(east.orog.values, want_east.values)
    assert_bitwise_equal(north.orog.values, want_north.values)
    # and beside a second grid, each variable still on its own
    two = ds.assign(
        u=(("y", "x_stag"), RNG.random((6, 8)), {"units": "m s-1", "grid_mapping": "crs"})
    )
    two = two.assign_coords(x_stag=("x_stag", 12000.0 * (np.arange(8) - 0.5), PX))
    east2, _ = two.grad.horizontal()
    assert list(east2.data_vars) == ["T", "orog", "u"]
    assert_bitwise_equal(east2.orog.values, want_east.values)
    assert_bitwise_equal(east2.u.values, two.u.grad.horizontal(crs=two.crs)[0].values)


@pytest.mark.parametrize("as_coordinate", [False, True])
def test_a_grid_does_not_take_another_grids_mapping(assert_bitwise_equal, as_coordinate):
    # A review: rotated-pole P names its mapping; a regular grid's Q names none. With the
    # mapping a coordinate (as the CLI opens files), Q was planned as rotated: wrong values,
    # exit 0. Two projected grids sharing y (T on x, U on xs, each its own mapping) and an
    # orog(y, x) naming none were refused.
    rotated = {
        "grid_mapping_name": "rotated_latitude_longitude",
        "grid_north_pole_latitude": 39.25,
        "grid_north_pole_longitude": -162.0,
    }
    ds = xr.Dataset(
        {
            "P": (("time", "rlat", "rlon"), RNG.random((2, 5, 6)), {"grid_mapping": "rp"}),
            "Q": (("time", "latitude", "longitude"), RNG.random((2, 6, 7)), {"units": "K"}),
            "rp": ((), 0, rotated),
        },
        coords={
            "rlat": ("rlat", np.linspace(-2, 2, 5), {"standard_name": "grid_latitude"}),
            "rlon": ("rlon", np.linspace(-3, 3, 6), {"standard_name": "grid_longitude"}),
            "latitude": ("latitude", np.linspace(40, 60, 6), NORTH),
            "longitude": ("longitude", np.linspace(0, 20, 7), EAST),
        },
    )
    for name in ("rlat", "rlon"):
        ds[name].attrs["units"] = "degrees"
    if as_coordinate:
        ds = ds.set_coords("rp")
    east, _ = ds.grad.horizontal()
    assert east.Q.attrs["xgrad_geometry"] == "sphere"
    assert east.P.attrs["xgrad_geometry"] == "rotated_pole"
    assert_bitwise_equal(
        east.Q.values, ds.Q.drop_vars("rp", errors="ignore").grad.horizontal()[0].values
    )
    assert_bitwise_equal(east.P.values, ds.P.grad.horizontal(crs=ds.rp)[0].values)
    # Q alone carries the mapping as a coordinate when it is one (xarray attaches every 0-d
    # coordinate): it names none, so its CF latitude/longitude stay true ones
    assert_bitwise_equal(ds.Q.grad.horizontal()[0].values, east.Q.values)

    two = xr.Dataset(
        {
            "T": (("y", "x"), RNG.random((6, 7)), {"grid_mapping": "crs_a"}),
            "U": (("y", "xs"), RNG.random((6, 8)), {"grid_mapping": "crs_b"}),
            "orog": (("y", "x"), RNG.random((6, 7)), {"units": "m"}),
            "crs_a": ((), 0, LCC),
            "crs_b": ((), 0, dict(LCC, longitude_of_central_meridian=-90.0)),
        },
        coords={
            "x": ("x", 12000.0 * np.arange(7), PX),
            "xs": ("xs", 12000.0 * (np.arange(8) - 0.5), PX),
            "y": ("y", 12000.0 * np.arange(6), PY),
        },
    )
    if as_coordinate:
        two = two.set_coords(["crs_a", "crs_b"])
    east, _ = two.grad.horizontal()
    assert_bitwise_equal(east.orog.values, two.orog.grad.horizontal(crs=two.crs_a)[0].values)
    assert_bitwise_equal(east.T.values, two.T.grad.horizontal(crs=two.crs_a)[0].values)
    assert_bitwise_equal(east.U.values, two.U.grad.horizontal(crs=two.crs_b)[0].values)


def test_earth_relative_components_beside_a_field_on_another_grid():
    # An audit: a B grid's advection of T by {"east": "u", "north": "v"} said no Earth grid was
    # found and advised grid-relative keys; the components' grid is found, T is refused by name
    ds = _b_grid()
    for operator in ("advection", "frontogenesis"):
        with pytest.raises(ValueError, match=f"{operator}: the variables it combines lie on"):
            getattr(ds.grad, operator)("T", {"east": "u", "north": "v"})
    want = ds[["u", "v"]].assign(T=ds.u * 0 + 1.0)
    assert np.isfinite(want.grad.advection("T", {"east": "u", "north": "v"}).values).all()
