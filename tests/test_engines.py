"""Engines other than dask's legacy graphs: cubed, and lazy arrays xgrad must refuse.

cubed runs the same kernels through ``cubed.map_overlap`` (``xgrad/cubed_engine.py``): the
results are numpy.gradient's bits for every chunking cubed can carry, lazily; what it cannot
carry is a typed error naming cubed, raised while building. A chunked array of a kind xgrad
does not run on is refused by type, never read into memory silently.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import xgrad

cubed = pytest.importorskip("cubed")

F = np.random.default_rng(7).standard_normal((7, 9))
X = np.cumsum(np.arange(1.0, 10.0))


@pytest.fixture
def no_compute(monkeypatch):
    """Building must not compute: any cubed computation fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("cubed computed while building")

    monkeypatch.setattr(cubed.Array, "compute", refuse)
    monkeypatch.setattr(cubed, "compute", refuse)
    return monkeypatch


@pytest.mark.parametrize("chunks", [(3, 4), (2, 5), (7, 9), (3, 9), (4, 2)])
@pytest.mark.parametrize(
    "options",
    [{}, {"edge_order": 2}, {"nan": "one-sided"}, {"accuracy": 4}],
    ids=["default", "edge2", "one-sided", "accuracy4"],
)
def test_cubed_same_bits_as_numpy(chunks, options, no_compute, assert_bitwise_equal):
    a = cubed.from_array(F, chunks=chunks)
    if options.get("accuracy") == 4 and min(chunks[0], chunks[1]) < 4:
        with pytest.raises(ValueError, match=r"on cubed arrays the halo along axis \d .*rechunk"):
            xgrad.gradient(a, 0.5, X, **options)
        return
    lazy = xgrad.gradient(a, 0.5, X, **options)
    assert all(type(g) is type(a) and g.chunks == a.chunks for g in lazy)
    no_compute.undo()
    # numpy is the oracle for its own options; the in-memory result for the extensions
    oracle = np.gradient if set(options) <= {"edge_order"} else xgrad.gradient
    for got, want in zip(lazy, oracle(F, 0.5, X, **options)):
        assert_bitwise_equal(got.compute(), want)


def test_cubed_accessor_sphere_and_refusals(no_compute, assert_bitwise_equal):
    lat = np.arange(-60.0, 61.0, 10.0)
    lon = np.arange(0.0, 360.0, 30.0)
    obj = xr.DataArray(
        np.cos(np.deg2rad(lat))[:, None] * np.sin(np.deg2rad(lon)),
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
        attrs={"units": "K"},
    )
    lazy = obj.chunk(lat=4, lon=5, chunked_array_type="cubed")
    # the accessor's errors name the dim and the xarray fix (they named axis numbers)
    with pytest.raises(ValueError, match=r"periodic boundary along 'lon' is not supported on cub"):
        lazy.grad.along("lat", "lon")  # a global longitude wraps by default
    with pytest.raises(ValueError, match=r"periodic boundary along 'lon' is not supported on cub"):
        lazy.grad.laplacian("lat", "lon")
    thin = obj.chunk(lat=1, chunked_array_type="cubed")
    with pytest.raises(
        ValueError, match=r"halo along 'lat' \(3 rows\).*`da.chunk\(\{'lat': 3\}\)`"
    ):
        thin.grad.laplacian("lat", "lon", boundary="edge")
    dy, dx = lazy.grad.along("lat", "lon", boundary="edge")
    assert isinstance(dy.data, cubed.Array) and dx.attrs["units"] == "K m-1"
    no_compute.undo()
    for got, want in zip((dy, dx), obj.grad.along("lat", "lon", boundary="edge")):
        assert_bitwise_equal(got.values, want.values)


class _LazyChunked:
    """A chunked, lazy array of a kind xgrad does not know (numpy could read it whole)."""

    shape, dtype, ndim, chunks = (4,), np.dtype(float), 1, ((2, 2),)

    def __array__(self, dtype=None, copy=None):
        raise AssertionError("read into memory")


def test_unknown_chunked_arrays_are_refused_by_type():
    zarr = pytest.importorskip("zarr")
    for array in (zarr.zeros((4,), chunks=(2,)), _LazyChunked()):
        name = f"{type(array).__module__}.{type(array).__qualname__}"
        with pytest.raises(TypeError, match=rf"chunked array of type {name}.*from_array"):
            xgrad.gradient(array)


def test_cubed_vector_operators_stay_lazy(no_compute, assert_bitwise_equal):
    # divergence and curl on the sphere multiplied the cubed derivatives by numpy cos/sec
    # weights, and `cubed * ndarray` is numpy computing the cubed array whole (an audit)
    lat = np.arange(-60.0, 61.0, 10.0)
    lon = np.arange(0.0, 360.0, 30.0)
    rng = np.random.default_rng(5)
    coords = {
        "lat": ("lat", lat, {"units": "degrees_north"}),
        "lon": ("lon", lon, {"units": "degrees_east"}),
    }
    ds = xr.Dataset(
        {k: (("time", "lat", "lon"), rng.standard_normal((2, 13, 12))) for k in "uvT"},
        coords=coords,
    )
    lazy = ds.chunk({"time": 1, "lat": 5, "lon": 4}, chunked_array_type="cubed")
    wind = {"lon": "u", "lat": "v"}
    edge = {"boundary": "edge"}  # cubed's overlap does not wrap around
    results = [lazy.grad.divergence(wind, **edge), lazy.grad.curl(wind, **edge)]
    # the kinematics with the horizontal dims split: their metric fields chunked as the data
    # (cubed's apply_gufunc refused fields chunked its own way: a ValueError before)
    results += list(lazy.grad.deformation(wind, **edge).data_vars.values())
    assert all(isinstance(r.data, cubed.Array) for r in results)
    no_compute.undo()
    expected = [ds.grad.divergence(wind, **edge), ds.grad.curl(wind, **edge)]
    expected += list(ds.grad.deformation(wind, **edge).data_vars.values())
    for got, want in zip(results, expected, strict=True):
        assert_bitwise_equal(got.compute().values, want.values)


def _cubed_winds(n=11, nt=2):
    lat, lon = np.linspace(20.0, 50.0, n), np.linspace(-30.0, 0.0, n)
    rng = np.random.default_rng(0)
    return xr.Dataset(
        {
            k: (("time", "lat", "lon"), rng.standard_normal((nt, n, n)), {"units": "m s-1"})
            for k in "uv"
        },
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
    )


def test_cubed_components_of_different_layouts_chunks_and_kinds(no_compute, assert_bitwise_equal):
    # Found by an audit, each on cubed only: v laid out (time, lon, lat) beside u's (time, lat,
    # lon) was an AttributeError (xarray's broadcast calls `cubed.transpose`); u and v chunked
    # differently along time was a ValueError blaming split horizontal dims; a cubed u with a
    # numpy v was computed whole while building and returned numpy
    ds = _cubed_winds(nt=4)
    wind = {"east": "u", "north": "v"}
    transposed = ds.assign(v=ds.v.transpose("time", "lon", "lat"))
    cases = {
        "transposed": transposed.chunk({"time": 1}, chunked_array_type="cubed"),
        "chunks": ds.assign(
            u=ds.u.chunk({"time": 1}, chunked_array_type="cubed"),
            v=ds.v.chunk({"time": 2, "lat": 5}, chunked_array_type="cubed"),
        ),
        "numpy v": ds.assign(u=ds.u.chunk({"time": 1}, chunked_array_type="cubed")),
    }
    calls = {
        "vector_gradient": lambda d: d.grad.vector_gradient(wind),
        "deformation": lambda d: d.grad.deformation(wind),
        "divergence": lambda d: d.grad.divergence({"lon": "u", "lat": "v"}).to_dataset(),
        "curl": lambda d: d.grad.curl(wind).to_dataset(),
    }
    built = {(c, m): call(data) for c, data in cases.items() for m, call in calls.items()}
    for key, out in built.items():
        assert all(isinstance(v.data, cubed.Array) for v in out.data_vars.values()), key
    no_compute.undo()
    for (case, method), out in built.items():
        want = calls[method](transposed if case == "transposed" else ds)
        for name, value in want.data_vars.items():
            got = out[name].compute().transpose(*value.dims)
            assert_bitwise_equal(got.values, value.values)


def test_cubed_beside_dask_components_is_an_error(no_compute):
    # a cubed u with a dask v: divergence computed the cubed one whole while building and
    # returned dask (the review of this session's changes); now a ValueError
    ds = _cubed_winds()
    mixed = ds.assign(u=ds.u.chunk({"time": 1}, chunked_array_type="cubed"), v=ds.v.chunk())
    for call in (
        lambda d: d.grad.divergence({"lon": "u", "lat": "v"}),
        lambda d: d.grad.vector_gradient({"east": "u", "north": "v"}),
    ):
        with pytest.raises(ValueError, match=r"'u' is a cubed array and 'v' a dask array; chunk"):
            call(mixed)
    spec = cubed.Spec(allowed_mem="500MB")
    other = ds.assign(
        u=ds.u.chunk({"time": 1}, chunked_array_type="cubed"),
        v=ds.v.chunk({"time": 1}, chunked_array_type="cubed", from_array_kwargs={"spec": spec}),
    )
    with pytest.raises(ValueError, match=r"'u' and 'v' are cubed arrays of different specs"):
        other.grad.curl({"lon": "u", "lat": "v"})


def _winds_and_t(da: xr.DataArray, seed: int) -> xr.Dataset:
    """Random u, v (m s-1) beside ``da`` as T, on its grid, each naming its grid mapping."""
    rng = np.random.default_rng(seed)
    ds = xr.Dataset(
        {k: (da.dims, rng.standard_normal(da.shape), {"units": "m s-1"}) for k in "uv"},
        coords=da.coords,
    )
    ds["T"] = da
    for k in "uvT":
        ds[k].encoding["grid_mapping"] = da.encoding["grid_mapping"]
    return ds


def test_cubed_earth_grid_metric_over_a_megabyte(no_compute, assert_bitwise_equal):
    # the grid's (y, x) fields went to cubed through `cubed.asarray`, which refuses more than
    # 1 MB: every operator but horizontal/magnitude failed on a 400 x 400 projected grid (an
    # audit); now they are cubed arrays chunked as the data
    pytest.importorskip("pyproj")
    from earth_grids import lambert  # tests/earth_grids.py

    ds = _winds_and_t(lambert(400).da, seed=1)
    lazy = ds.copy()
    for k in "uvT":
        lazy[k] = ds[k].chunk({"y": 200}, chunked_array_type="cubed")
        lazy[k].encoding = ds[k].encoding
    calls = {
        "along": lambda d: d.T.grad.along("x"),
        "laplacian": lambda d: d.T.grad.laplacian("y", "x"),
        "curl": lambda d: d.grad.curl({"x": "u", "y": "v"}),
        "advection": lambda d: d.grad.advection("T", {"east": "u", "north": "v"}),
    }
    results = {name: call(lazy) for name, call in calls.items()}
    assert all(isinstance(r.data, cubed.Array) for r in results.values())
    no_compute.undo()
    for name, result in results.items():
        assert_bitwise_equal(result.compute().values, calls[name](ds).values)


@pytest.mark.parametrize("rows", ["south to north", "north to south"])
def test_cubed_earth_grid_operators_stay_lazy(rows, no_compute, assert_bitwise_equal):
    # On curvilinear (and projected) grids the metric fields met the cubed data as numpy
    # arrays, and `cubed * ndarray` computed the data whole while building: curl, divergence,
    # the Laplacian, the magnitude and the Earth-relative kinematics (an audit)
    lat = np.arange(20.0, 50.1, 3.0)
    lat = lat if rows == "south to north" else lat[::-1]
    lon = np.arange(-30.0, 0.1, 3.0)
    LAT, LON = np.meshgrid(lat, lon, indexing="ij")
    rng = np.random.default_rng(7)
    ds = xr.Dataset(
        {k: (("time", "y", "x"), rng.standard_normal((2, *LAT.shape))) for k in "uvT"},
        coords={
            "nav_lat": (("y", "x"), LAT, {"units": "degrees_north"}),
            "nav_lon": (("y", "x"), LON, {"units": "degrees_east"}),
        },
    )
    for k in "uv":
        ds[k].attrs["units"] = "m s-1"
    earth, grid = {"east": "u", "north": "v"}, {"x": "u", "y": "v"}
    calls = {
        "curl": lambda d: d.grad.curl(grid),
        "divergence earth": lambda d: d.grad.divergence(earth),
        "laplacian": lambda d: d.T.grad.laplacian("y", "x"),
        "magnitude": lambda d: d.T.grad.magnitude("y", "x"),
        "horizontal": lambda d: d.T.grad.horizontal()[1],
        "vorticity earth": lambda d: d.grad.vector_gradient(earth).dv_dx,
        "shearing grid": lambda d: d.grad.deformation(grid).shearing_deformation,
        "advection earth": lambda d: d.grad.advection("T", earth),
        "frontogenesis grid": lambda d: d.grad.frontogenesis("T", grid),
    }
    lazy = ds.copy()
    for k in "uvT":  # the data only: the 2-D coordinates are read while building, as designed
        lazy[k] = ds[k].chunk({"time": 1}, chunked_array_type="cubed")
    results = {name: call(lazy) for name, call in calls.items()}
    for name, result in results.items():
        assert isinstance(result.data, cubed.Array), name
    no_compute.undo()
    for name, result in results.items():
        assert_bitwise_equal(result.compute().values, calls[name](ds).values)


@pytest.mark.parametrize("kind", ["datetime64[ns]", "datetime64[s]", "timedelta64[ms]"])
def test_cubed_datetime_data_stays_lazy(kind, no_compute, assert_bitwise_equal):
    # datetime data on cubed went through the numpy path: `np.isnat` computed the array while
    # building, then cubed's indexing failed (an audit); now the earliest time is a lazy
    # minimum of the int64 ticks, with the numpy path's bits (NaT: NaN around it)
    rng = np.random.default_rng(3)
    ticks = np.sort(rng.integers(-(10**9), 10**9, size=(6, 5)), axis=0)
    values = ticks.astype(kind)
    values[2, 1] = np.timedelta64("NaT") if kind.startswith("m") else np.datetime64("NaT")
    da = xr.DataArray(values, dims=("a", "b"))
    lazy = da.chunk({"a": 2}, chunked_array_type="cubed")
    results = [lazy.grad.along("a"), lazy.grad.along("a", datetime_unit="h")]
    assert all(isinstance(r.data, cubed.Array) for r in results)
    no_compute.undo()
    for got, want in zip(results, [da.grad.along("a"), da.grad.along("a", datetime_unit="h")]):
        assert got.attrs == want.attrs
        assert_bitwise_equal(got.compute().values, want.values)


@pytest.mark.parametrize("coords", ["numpy", "cubed"])
def test_cubed_tasks_compute_nothing_nested(coords, no_compute, assert_bitwise_equal):
    # An audit: on grids whose metric varies (rotated pole, projected) the scale factors
    # reached the block tasks as cubed arrays, and `np.multiply(out, scale)` ran a nested cubed
    # computation in every task (36 for one result, outside cubed's memory model); with the
    # grid's 2-D latitude/longitude chunked as cubed, xarray's merge of the kinematics'
    # arguments computed them while building. Values were right; the work was not
    pytest.importorskip("pyproj")
    from earth_grids import rotated  # tests/earth_grids.py

    ds = _winds_and_t(rotated(15).da, seed=2)
    chunks = {"rlat": 5, "rlon": 5}
    if coords == "cubed":  # every variable, coordinates too, as `ds.chunk(...)` does
        lazy = ds.chunk(chunks, chunked_array_type="cubed")
    else:
        lazy = ds.copy()
        for k in "uvT":
            lazy[k] = ds[k].chunk(chunks, chunked_array_type="cubed")
    for k in "uvT":
        lazy[k].encoding = ds[k].encoding
    grid, earth = {"rlon": "u", "rlat": "v"}, {"east": "u", "north": "v"}
    calls = {
        "along": lambda d: d.T.grad.along("rlon"),
        "laplacian": lambda d: d.T.grad.laplacian("rlat", "rlon"),
        "divergence": lambda d: d.grad.divergence(grid),
        "curl earth": lambda d: d.grad.curl(earth),
        "advection": lambda d: d.grad.advection("T", grid),
        "deformation earth": lambda d: d.grad.deformation(earth).total_deformation,
    }
    results = {name: call(lazy) for name, call in calls.items()}
    no_compute.undo()

    def nested(*args, **kwargs):
        raise AssertionError("a cubed array was computed inside a task")

    no_compute.setattr(cubed.Array, "__array__", nested)
    got = {name: result.data.compute() for name, result in results.items()}
    no_compute.undo()
    for name, values in got.items():
        assert_bitwise_equal(values, calls[name](ds).values)
