"""The compiled pair kernels (xgrad.pairs, xgrad._compiled_pairs) give the tiles' bits.

Each case runs a method twice: as users call it (the pair kernel where it applies) and with
:func:`xgrad.pairs.run` refusing every block (the engine's tiles and the combination's
ufuncs, themselves checked against numpy and MetPy elsewhere). A spy records whether the pair
kernel ran, so a case that should take it fails if it silently stops doing so.
"""

from __future__ import annotations

import dask
import numpy as np
import pytest
import xarray as xr

import xgrad  # noqa: F401  (registers .grad)
from xgrad import inmemory, pairs
from xgrad.kernels import compiled

C = {"lon": "u", "lat": "v"}
XY = {"x": "u", "y": "v"}


def _fields(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for k, scale in (("T", 30.0), ("u", 10.0), ("v", 5.0)):
        values = rng.standard_normal(shape) * scale
        out[k] = values.astype(dtype)
    return out


def _sphere(shape, dtype, *, gaussian=False, regional=False, lon_first=False):
    *lead, nlat, nlon = shape
    if gaussian:  # a non-uniform latitude (Gaussian-grid-like), no poles
        lat = np.rad2deg(np.arcsin(np.polynomial.legendre.leggauss(nlat)[0]))
    else:
        lat = np.linspace(-80, 80, nlat)
    span = 60.0 if regional else 360.0
    lon = np.arange(nlon) * span / nlon
    dims = ("time",) * len(lead) + ("lat", "lon")
    data = _fields(shape, dtype)
    ds = xr.Dataset(
        {k: (dims, v, {"units": "K" if k == "T" else "m s-1"}) for k, v in data.items()},
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
    )
    if lon_first:  # C-contiguous (time, lon, lat) arrays
        ds = ds.transpose(*dims[:-2], "lon", "lat")
        ds = ds.map(lambda a: a.copy(data=np.ascontiguousarray(a.values)))
    return ds


def _cartesian(shape, dtype, *, nonuniform=False):
    *lead, ny, nx = shape
    x = np.arange(nx) * 250.0
    if nonuniform:
        x = np.cumsum(np.linspace(200.0, 300.0, nx))
    y = np.arange(ny) * 500.0
    dims = ("time",) * len(lead) + ("y", "x")
    data = _fields(shape, dtype, seed=1)
    return xr.Dataset(
        {k: (dims, v, {"units": "K" if k == "T" else "m s-1"}) for k, v in data.items()},
        coords={"x": ("x", x, {"units": "m"}), "y": ("y", y, {"units": "m"})},
    )


@pytest.fixture
def spy(monkeypatch):
    """``ran``: the answers of :func:`xgrad.pairs.run` since the test began."""
    ran = []
    real = pairs.run

    def run(*args, **kwargs):
        ran.append(real(*args, **kwargs))
        return ran[-1]

    monkeypatch.setattr(pairs, "run", run)
    return ran


def _without_pairs(monkeypatch, call):
    with monkeypatch.context() as m:
        m.setattr(pairs, "run", lambda *a, **k: False)
        return call()


CASES = {
    "sphere": lambda dt: (_sphere((3, 9, 16), dt), C, {}),
    "sphere 2-D": lambda dt: (_sphere((9, 16), dt), C, {}),
    "sphere, short rows": lambda dt: (_sphere((2, 5, 70), dt), C, {}),
    "sphere, one band per row": lambda dt: (_sphere((2, 7, 5000), dt), C, {}),
    "gaussian latitude": lambda dt: (_sphere((2, 12, 20), dt, gaussian=True), C, {}),
    "regional, edge order 2": lambda dt: (
        _sphere((2, 8, 11), dt, regional=True),
        C,
        {"edge_order": 2},
    ),
    "lon before lat": lambda dt: (_sphere((2, 9, 16), dt, lon_first=True), C, {}),
    "cartesian": lambda dt: (_cartesian((2, 6, 7), dt), XY, {}),
    "cartesian, edge order 2, non-uniform x": lambda dt: (
        _cartesian((3, 5, 9), dt, nonuniform=True),
        XY,
        {"edge_order": 2},
    ),
    "cartesian, three rows": lambda dt: (_cartesian((4, 3, 6), dt), XY, {"edge_order": 2}),
    "cartesian, periodic": lambda dt: (
        _cartesian((2, 6, 8), dt),
        XY,
        {"boundary": "periodic", "period": {"x": 2000.0, "y": 3000.0}},
    ),
    "cartesian, periodic, non-uniform x": lambda dt: (
        _cartesian((2, 6, 8), dt, nonuniform=True),
        XY,
        {"boundary": "periodic", "period": {"x": 2200.0, "y": 3000.0}},
    ),
}


METHODS = {
    "advection": lambda ds, components, options: ds.grad.advection("T", components, **options),
    "deformation": lambda ds, components, options: ds.grad.deformation(components, **options),
    "vector_gradient": lambda ds, components, options: ds.grad.vector_gradient(
        components, **options
    ),
    "frontogenesis": lambda ds, components, options: ds.grad.frontogenesis(
        "T", components, **options
    ),
    # the vector operators' |grad f| along the two dims, in the components' order
    "magnitude": lambda ds, components, options: ds["T"].grad.magnitude(*components, **options),
    # the spherical (or Cartesian) Laplacian: two second derivatives and the latitude's first
    "laplacian": lambda ds, components, options: ds["T"].grad.laplacian(*components, **options),
    "laplacian, dims reversed": lambda ds, components, options: ds["T"].grad.laplacian(
        *list(components)[::-1], **options
    ),
}


def _values(result):
    if isinstance(result, xr.Dataset):
        return {k: v.values for k, v in result.data_vars.items()}
    return {result.name: result.values}


@pytest.mark.parametrize("band", ["default", "one row"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("method", sorted(METHODS))
def test_pairs_match_the_tiles(
    method, case, dtype, threads, band, spy, monkeypatch, assert_bitwise_equal
):
    from xgrad import _compiled_pairs

    if method.startswith("laplacian") and case == "cartesian, three rows":
        pytest.skip("one-sided second derivatives take four rows")
    ds, components, options = CASES[case](dtype)
    if band == "one row":  # every band one row: the edge stencils' rows outside the band
        monkeypatch.setattr(_compiled_pairs, "BAND", 1)
    if threads == 2:  # every array is "large": the rows split over two threads
        monkeypatch.setattr(inmemory, "_MIN_THREADED_BYTES", 0)
        monkeypatch.setattr(inmemory, "cpu_threads", lambda: 2, raising=False)
    call = METHODS[method]
    with compiled(True):
        out = call(ds, components, options)
        if method == "vector_gradient" and components is XY:
            assert not spy  # four plain derivatives: nothing to combine
        else:
            # the sphere's metric terms vary along the latitude: along the last axis (lon
            # before lat) the kernels do not take them
            expected = method in ("advection", "magnitude") or case != "lon before lat"
            assert spy and all(spy) == expected, f"the pair kernel ran: {spy}"
        ref = _without_pairs(monkeypatch, lambda: call(ds, components, options))
    got, want = _values(out), _values(ref)
    assert got.keys() == want.keys()
    for k in want:
        assert_bitwise_equal(got[k], want[k], err_msg=k)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_pairs_take_dask_blocks_that_span_both_axes(method, spy, monkeypatch, assert_bitwise_equal):
    ds = _sphere((6, 9, 16), np.float64)
    call = METHODS[method]
    # compiled(True) holds for this thread: the blocks run on it
    with compiled(True), dask.config.set(scheduler="synchronous"):
        whole = _values(call(ds.chunk({"time": 2}), C, {}))
        assert spy and all(spy)
        spy.clear()
        split = _values(call(ds.chunk({"time": 2, "lat": 4}), C, {}))
        assert not any(spy)  # blocks with halos: the tiles
        ref = _values(_without_pairs(monkeypatch, lambda: call(ds, C, {})))
    for k in ref:
        assert_bitwise_equal(whole[k], ref[k], err_msg=k)
        assert_bitwise_equal(split[k], ref[k], err_msg=k)


def test_pairs_refuse_what_they_do_not_compute(spy, monkeypatch, assert_bitwise_equal):
    """Accuracy 4, the NaN fallback, mixed dtypes, a non-contiguous input: the tiles, the same
    bits (the advection and the Laplacian)."""
    ds = _sphere((2, 9, 16), np.float64)
    ds["T"].values[0, 4, 5] = np.nan
    mixed = ds.assign(u=ds.u.astype(np.float32))
    strided = ds.isel(lon=slice(None, None, 1)).transpose("lat", "lon", "time")
    calls = [
        lambda: ds.grad.advection("T", C, accuracy=4),
        lambda: ds.grad.advection("T", C, nan="one-sided"),
        lambda: mixed.grad.advection("T", C),
        lambda: strided.grad.advection("T", C),
        lambda: ds["T"].grad.laplacian("lat", "lon", accuracy=4),
        lambda: ds["T"].grad.laplacian("lat", "lon", nan="one-sided"),
        lambda: strided["T"].grad.laplacian("lat", "lon"),
    ]
    with compiled(True):
        for call in calls:
            spy.clear()
            out = call()
            assert not any(spy)
            assert_bitwise_equal(out.values, _without_pairs(monkeypatch, call).values)


SPHERES = {
    "sphere": lambda dt: _sphere((3, 9, 16), dt),
    "sphere 2-D": lambda dt: _sphere((9, 16), dt),
    "gaussian latitude": lambda dt: _sphere((2, 12, 20), dt, gaussian=True),
    "regional": lambda dt: _sphere((2, 8, 11), dt, regional=True),
    "short rows": lambda dt: _sphere((2, 5, 70), dt),
}


@pytest.mark.parametrize("band", ["default", "one row"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(SPHERES))
@pytest.mark.parametrize("operator", ["divergence", "curl"])
def test_flux_matches_two_passes(
    operator, case, dtype, threads, band, spy, monkeypatch, assert_bitwise_equal
):
    """The sphere's divergence and curl in one pass (the pair kernel ``flux``, and the same
    pass's tiles where it refuses) give the bits of the two passes (``vector._fused_flux``)."""
    from xgrad import _compiled_pairs, vector

    ds = SPHERES[case](dtype)
    if band == "one row":
        monkeypatch.setattr(_compiled_pairs, "BAND", 1)
    if threads == 2:
        monkeypatch.setattr(inmemory, "_MIN_THREADED_BYTES", 0)
        monkeypatch.setattr(inmemory, "cpu_threads", lambda: 2, raising=False)
    call = getattr(ds.grad, operator)
    with compiled(True):
        out = call(C).values
        assert spy and all(spy), f"the pair kernel did not run: {spy}"
        tiles = _without_pairs(monkeypatch, lambda: call(C).values)  # the one pass's tiles
        with monkeypatch.context() as m:
            m.setattr(vector, "_one_pass", lambda *a: None)
            two = call(C).values  # the two passes
    assert_bitwise_equal(out, two)
    assert_bitwise_equal(tiles, two)


def test_flux_takes_the_two_passes_elsewhere(spy, monkeypatch, assert_bitwise_equal):
    """Accuracy 4, the latitude as the last dim, mixed dtypes: no one pass (its tiles would
    compute two derivatives more), the same results as before."""
    from xgrad import vector

    ds = _sphere((2, 9, 16), np.float64)
    calls = [
        lambda: ds.grad.curl(C, accuracy=4),
        lambda: _sphere((2, 9, 16), np.float64, lon_first=True).grad.divergence(C),
        lambda: ds.assign(u=ds.u.astype(np.float32)).grad.divergence(C),
    ]
    real = vector._one_pass
    taken = []
    monkeypatch.setattr(vector, "_one_pass", lambda *a: taken.append(real(*a)) or taken[-1])
    with compiled(True):
        for call in calls:
            taken.clear()
            call()
            assert taken == [None] and not spy
