"""Divergence, curl, Laplacian and gradient magnitude on rotated-pole, projected and curvilinear
grids (issue #13, item 6).

Oracles: solid-body rotation ``u = U cos(lat)``, ``v = 0`` (Earth-relative) has relative vorticity
``2 U sin(lat) / R`` and no divergence; the Laplace-Beltrami operator of the analytic field of
``earth_grids.py``; convergence orders measured as the grids are refined; ``.grad.horizontal`` for
the magnitude; in-memory results for chunked input.
"""

from __future__ import annotations

import dask
import dask.array as dsa
import numpy as np
import pytest
import xarray as xr
from earth_grids import (
    R,
    field_laplacian,
    lambert,
    orca,
    order,
    relative_error,
    rotated,
    stereo,
    unit,
    wrf_like,
)

import xgrad  # noqa: F401  (registers .grad)
from xgrad.combinations import hypot

pytest.importorskip("pyproj")

U = 20.0


# builder, options, sizes
GRIDS = {
    "rotated pole": (rotated, {}, (41, 81, 161)),
    "polar stereographic": (stereo, {}, (21, 41, 81)),
    "Lambert conformal": (lambert, {}, (21, 41, 81)),
    "ORCA-like tripolar": (orca, {"boundary": {"x": "periodic"}}, (21, 41, 81)),
    "WRF-like XLAT/XLONG": (wrf_like, {}, (21, 41, 81)),
}


def _positions(da):
    for lat, lon in (("lat", "lon"), ("nav_lat", "nav_lon"), ("XLAT", "XLONG")):
        if lat in da.coords:
            return np.asarray(da[lat].values, float), np.asarray(da[lon].values, float)
    raise AssertionError("no latitude")


def solid_body(grid):
    """Earth-relative solid-body rotation on the grid, as a Dataset keeping the grid mapping."""
    da = grid.da
    lat, _ = _positions(da)
    u = xr.DataArray(U * np.cos(np.radians(lat)), dims=da.dims, attrs={"units": "m s-1"})
    ds = xr.Dataset({"u": u, "v": xr.zeros_like(u).assign_attrs(units="m s-1")}, coords=da.coords)
    for name in ("u", "v"):
        ds[name].encoding = dict(da.encoding)
    return ds, 2 * U * np.sin(np.radians(lat)) / R


@pytest.mark.parametrize("case", list(GRIDS))
@pytest.mark.parametrize(("accuracy", "edge_order", "minimum"), [(2, 2, 1.8), (4, 1, 3.5)])
def test_solid_body_rotation(case, accuracy, edge_order, minimum):
    build, options, sizes = GRIDS[case]
    errors = []
    for n in sizes:
        ds, vorticity = solid_body(build(n))
        kwargs = {"accuracy": accuracy, "edge_order": edge_order, "radius": R, **options}
        curl = ds.grad.curl({"east": "u", "north": "v"}, **kwargs)
        div = ds.grad.divergence({"east": "u", "north": "v"}, **kwargs)
        errors.append(relative_error(curl, vorticity))
        # V = Omega x X is linear in the positions: its divergence is zero to rounding
        assert np.nanmax(np.abs(div.values)) < 1e-12 * np.abs(vorticity).max()
    assert min(order(errors)) > minimum, errors
    assert curl.attrs["long_name"] == "relative vorticity of (u, v)"
    assert curl.attrs["units"] == "s-1" and curl.attrs["xgrad_geometry"] != "sphere"


@pytest.mark.parametrize("case", list(GRIDS))
def test_grid_relative_components(case):
    """Components along the grid lines (the Earth-relative ones projected on the grid's exact
    unit tangents): the orthogonal-grid flux form converges to the same vorticity."""
    build, options, sizes = GRIDS[case]
    if case.startswith("ORCA"):
        sizes = (41, 81, 161)  # the divergence's measured orders: 3.4, 3.55, then closer to 4
    errors, divergences = [], []
    for n in sizes:
        grid = build(n)
        ds, vorticity = solid_body(grid)
        (xdim, (xe, xn)), (ydim, (ye, yn)) = grid.tangents.items()
        ds = ds.assign(gx=ds.u * xe + ds.v * xn, gy=ds.u * ye + ds.v * yn)
        curl = ds.grad.curl({xdim: "gx", ydim: "gy"}, accuracy=4, radius=R, **options)
        div = ds.grad.divergence({ydim: "gy", xdim: "gx"}, accuracy=4, radius=R, **options)
        errors.append(relative_error(curl, vorticity))
        divergences.append(float(np.nanmax(np.abs(div))) / np.abs(vorticity).max())
    assert min(order(errors)) > 3.5, errors
    assert min(order(divergences)) > 3.5, divergences


def test_rotated_solid_body_about_the_rotated_axis():
    """Grid-relative u' = U cos(rlat), v' = 0: a rotation about the rotated pole, vorticity
    2 U sin(rlat) / R, no divergence (exactly: u' does not vary along rlon)."""
    errors = []
    for n in (21, 41, 81):
        da = rotated(n).da
        phi = np.radians(da.rlat.values)[:, None] + np.zeros(da.shape)
        ds = xr.Dataset(
            {"u": (da.dims, U * np.cos(phi)), "v": (da.dims, np.zeros(da.shape))}, coords=da.coords
        )
        curl = ds.grad.curl({"rlon": "u", "rlat": "v"}, accuracy=4, edge_order=1)
        div = ds.grad.divergence({"rlon": "u", "rlat": "v"})
        np.testing.assert_array_equal(div.values, 0.0)
        errors.append(relative_error(curl, 2 * U * np.sin(phi) / R))
    assert min(order(errors)) > 3.5, errors


@pytest.mark.parametrize("case", list(GRIDS))
@pytest.mark.parametrize(("accuracy", "edge_order", "minimum"), [(2, 2, 1.8), (4, 1, 3.5)])
def test_laplacian_converges(case, accuracy, edge_order, minimum):
    build, options, sizes = GRIDS[case]
    if accuracy == 2 and case in (
        "polar stereographic",
        "Lambert conformal",
        "WRF-like XLAT/XLONG",
    ):
        sizes = (81, 161, 321)  # one-sided second derivatives at the edges: 1.4, 1.8, 1.9, 1.95
    errors = []
    for n in sizes:
        grid = build(n)
        lap = grid.da.grad.laplacian(
            *grid.da.dims, accuracy=accuracy, edge_order=edge_order, radius=R, **options
        )
        errors.append(relative_error(lap, field_laplacian(unit(*_positions(grid.da)))))
    assert min(order(errors)) > minimum, errors
    assert lap.attrs["units"] == "K m-2"


@pytest.mark.parametrize("case", list(GRIDS))
def test_magnitude_is_the_horizontal_gradients_length(case, assert_bitwise_equal):
    build, options, _ = GRIDS[case]
    da = build(15).da
    magnitude = da.grad.magnitude(*da.dims, **options)
    east, north = da.grad.horizontal(**options)
    # xgrad's hypot (xgrad.combinations): numpy.hypot's bits on float32, within one ulp of
    # them on float64 (closer to the exact value: tests/test_vector.py::test_hypot_*)
    assert_bitwise_equal(magnitude.values, hypot(east.values, north.values))
    np.testing.assert_array_max_ulp(magnitude.values, np.hypot(east, north).values, maxulp=1)
    assert magnitude.attrs["units"] == "K m-1"


@pytest.mark.parametrize("case", ["rotated pole", "ORCA-like tripolar", "polar stereographic"])
def test_methods_sharing_a_metric_compute_together(case, assert_bitwise_equal):
    # magnitude("y", "x") and horizontal() (x first) share one kept metric; the frame operands
    # derived from it are laid out in each call's order, so they are kept and named apart: with
    # one name for both, dask computed magnitude from horizontal's operands (a review)
    from xgrad import metric_cache

    build, options, _ = GRIDS[case]
    da = build(15).da
    lazy = da.chunk(dict.fromkeys(da.dims, 5))
    metric_cache.clear_metrics()
    results = [lazy.grad.magnitude(*da.dims, **options), *lazy.grad.horizontal(**options)]
    assert len(metric_cache._entries) <= 2
    computed = dask.compute(*(r.data for r in results))
    metric_cache.clear_metrics()
    east, north = da.grad.horizontal(**options)
    magnitude = da.grad.magnitude(*da.dims, **options)
    assert_bitwise_equal(computed, (magnitude.values, east.values, north.values))


def test_transposed_square_grid_computes_together(assert_bitwise_equal):
    # the frame fields of a square grid and of its transpose have the same shapes and chunks,
    # and had the same dask names: computed together, one got the other's (a review)
    from earth_grids import stereo

    g = stereo(15).da
    a = g.chunk(y=5, x=5).grad.horizontal()
    b = g.transpose("x", "y").chunk(x=5, y=5).grad.horizontal()
    computed = dask.compute(*(r.data for r in (*a, *b)))
    east, north = g.grad.horizontal()
    assert_bitwise_equal(computed, (east.values, north.values, east.values.T, north.values.T))


@pytest.mark.parametrize("case", ["ORCA-like tripolar", "polar stereographic"])
def test_chunked_is_bit_identical_and_lazy(case, assert_bitwise_equal, raise_on_compute):
    build, options, _ = GRIDS[case]
    grid = build(17)
    ds, _ = solid_body(grid)
    sizes = dict(grid.da.sizes)
    chunks = tuple((1, 2, 5, sizes[d] - 8) for d in grid.da.dims)
    lazy = ds.copy()
    for name in ("u", "v"):
        lazy[name] = ds[name].copy(data=dsa.from_array(ds[name].values, chunks=chunks))
    da = grid.da.copy(data=dsa.from_array(grid.da.values, chunks=chunks))
    kwargs = {"accuracy": 4, **options}
    with dask.config.set(scheduler=raise_on_compute):
        out = [
            lazy.grad.curl({"east": "u", "north": "v"}, **kwargs),
            lazy.grad.divergence({"east": "u", "north": "v"}, **kwargs),
            da.grad.laplacian(*da.dims, **kwargs),
            da.grad.magnitude(*da.dims, **kwargs),
        ]
    expected = [
        ds.grad.curl({"east": "u", "north": "v"}, **kwargs),
        ds.grad.divergence({"east": "u", "north": "v"}, **kwargs),
        grid.da.grad.laplacian(*da.dims, **kwargs),
        grid.da.grad.magnitude(*da.dims, **kwargs),
    ]
    for o, e in zip(out, expected):
        assert isinstance(o.data, dsa.Array)
        assert_bitwise_equal(o.values, e.values)


# --- errors --------------------------------------------------------------------------------------

ERRORS = {
    "one grid dim": (
        lambda ds: ds.grad.divergence({"y": "u"}),
        r"divergence on a curvilinear grid needs the components along its two dims \('x', "
        r"'y'\) \(grid-relative\), e\.g\. `\{'x': 'u', 'y': 'v'\}`, or Earth-relative ones",
    ),
    "east without north": (
        lambda ds: ds.grad.curl({"east": "u", "y": "v"}),
        r"curl: the keys 'east' and 'north' name Earth-relative components; give both and no "
        r"other",
    ),
    "ellipsoid": (
        lambda ds: ds.grad.curl({"east": "u", "north": "v"}, radius="WGS84"),
        r"curl on the ellipsoid 'WGS84' is not available; give the radius of a sphere in metres",
    ),
    "Laplacian along one grid dim": (
        lambda ds: ds.u.grad.laplacian("x"),
        r"the Laplacian on a curvilinear grid is taken along both of its dims \('x', 'y'\)",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors(case):
    ds, _ = solid_body(orca(11))
    before = ds.copy(deep=True)
    call, match = ERRORS[case]
    with pytest.raises(ValueError, match=match):
        call(ds)
    xr.testing.assert_identical(ds, before)


def test_regular_grid_east_north_keys_are_lon_lat(assert_bitwise_equal):
    lat = np.linspace(-80.0, 80.0, 17)
    lon = np.arange(0.0, 360.0, 15.0)
    coords = {
        "lat": ("lat", lat, {"units": "degrees_north"}),
        "lon": ("lon", lon, {"units": "degrees_east"}),
    }
    u = U * np.cos(np.radians(lat))[:, None] + 0 * lon
    ds = xr.Dataset({"u": (("lat", "lon"), u), "v": (("lat", "lon"), np.sin(u))}, coords=coords)
    for op in ("curl", "divergence"):
        earth = getattr(ds.grad, op)({"east": "u", "north": "v"})
        grid = getattr(ds.grad, op)({"lon": "u", "lat": "v"})
        assert_bitwise_equal(earth.values, grid.values)


def test_rotated_pole_metric_terms_use_the_rotated_latitude():
    """tan(phi)/R on a rotated grid is that of the rotated latitude (cos_latitude is given the
    rotated coordinate's units): for u' = U cos(rlat), v' = 0, dv/dx = U sin(rlat) / R exactly."""
    da = rotated(21).da
    phi = np.radians(da.rlat.values)[:, None] + np.zeros(da.shape)
    ds = xr.Dataset(
        {"u": (da.dims, U * np.cos(phi)), "v": (da.dims, np.zeros(da.shape))}, coords=da.coords
    )
    out = ds.grad.vector_gradient({"rlon": "u", "rlat": "v"}, accuracy=4)
    np.testing.assert_allclose(out["dv_dx"].values, U * np.sin(phi) / R, rtol=1e-14)
    assert relative_error(out["du_dy"], -U * np.sin(phi) / R) < 1e-6
