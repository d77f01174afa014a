"""Property tests of the labelled layer: coordinates, periodic seams and the sphere, bit for bit.

The oracles are those of the example tests (test_accessor.py, test_periodic_accessor.py,
test_geometry.py), drawn at random from the shared strategies (``strategies.py``):

- coordinates: on any strictly monotonic 1-D coordinate (uniform, non-uniform, integer, float32,
  datetime64, timedelta64; ascending or descending; dimension or non-dimension coordinate), in
  cartesian geometry, ``.grad.along`` and ``numpy.gradient`` on the spacing that
  :func:`xgrad.coords.resolve_spacings` gives equal ``DataArray.differentiate`` bit for bit, in
  memory and on any chunking. A float32 coordinate is differentiated in float64 (xgrad's documented
  choice, test_accessor.py::test_float32_coordinate_spacing_in_float64), so the oracle gets it in
  float64 too.
- periodic seams: a field on one turn of longitudes whose spacings are all one float, rolled along
  the longitude, gives the rolled derivative bit for bit (the seam is differentiated like the
  interior); ``boundary="periodic"`` on any chunking gives the in-memory bits, for any one-turn
  longitude (degrees or radians, any offset, float32, descending), and ``boundary="auto"`` finds
  the seam of every one of them.
- geometry: a descending latitude gives the mirror image of the ascending one (bit for bit, but for
  the sign of zeros and the ``edge_order=2`` end rows, whose three terms are summed in the other
  order); along a latitude the sphere's derivative is the cartesian one times ``(180 / pi) / R``,
  bit for bit.

Each property runs the hypothesis profile's number of examples (conftest.py: a few dozen locally,
hundreds under ``CI=true``).
"""

from __future__ import annotations

import math

import dask
import dask.array as da
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, note
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from strategies import (
    MAX_SIDE,
    TIME_UNITS,
    chunkings,
    latlon_grids,
    monotonic_coordinates,
    periodic_longitudes,
)

import xgrad  # noqa: F401  (registers .grad)
from xgrad.coords import resolve_spacings

#: The mean Earth radius in metres (IUGG), the sphere's default radius.
MEAN_RADIUS = 6371008.8
ACCURACIES = (2, 4, 6)


def _values(draw, shape, dtypes=("float64", "float32")):
    dtype = np.dtype(draw(st.sampled_from(dtypes), label="dtype"))
    elements = st.floats(-1e3, 1e3, width=8 * dtype.itemsize)
    return draw(arrays(dtype, shape, elements=elements), label="values")


def _chunked(draw, obj):
    """``obj`` chunked at random (size-1 and ragged chunks included)."""
    chunks = draw(chunkings(obj.shape), label="chunks")
    return obj.chunk(dict(zip(obj.dims, chunks, strict=True)))


def _compute(obj):
    return obj.compute(scheduler="sync")


# --- coordinates -------------------------------------------------------------------------------


@given(data=st.data())
def test_coordinate_spacing_equals_differentiate(data, assert_bitwise_equal):
    draw = data.draw
    edge_order = draw(st.sampled_from([1, 2]), label="edge_order")
    n = draw(st.integers(edge_order + 1, MAX_SIDE), label="points")
    coord = draw(monotonic_coordinates(n))
    time = coord.dtype.kind in "mM"
    # xgrad's default unit is the second; xarray's, the coordinate's own unit
    unit = draw(st.sampled_from((None, *TIME_UNITS)), label="datetime_unit") if time else None
    name = draw(st.sampled_from(["x", "distance"]), label="dimension or other coordinate")
    obj = xr.DataArray(
        _values(draw, (n, draw(st.integers(1, 4), label="other size"))),
        dims=("x", "y"),
        coords={name: ("x", coord, {"units": "m"})},
        name="f",
    )
    if draw(st.booleans(), label="transposed"):
        obj = obj.transpose("y", "x")
    oracle = obj.assign_coords({name: obj[name].astype(np.float64)}) if coord.dtype == "f4" else obj
    first = int(coord.view(np.int64).min()) if coord.dtype.kind == "M" else 0
    if int(np.float64(first)) != first:
        # xarray measures datetimes from their minimum found through float64
        # (xarray.core.duck_array_ops._datetime_nanreduce), which rounds int64 ticks beyond
        # 2**53 (nanoseconds after April 1970); xgrad measures them from the exact minimum.
        # Both give the same numbers for the timedeltas from the minimum.
        oracle = obj.assign_coords({name: ("x", coord - coord.min())})
    expected = oracle.differentiate(
        name, edge_order=edge_order, datetime_unit=unit or ("s" if time else None)
    ).values

    (spacing,) = resolve_spacings(obj, [name], edge_order=edge_order, datetime_unit=unit)
    axis = obj.get_axis_num("x")
    assert_bitwise_equal(
        np.gradient(obj.values, spacing.values, axis=axis, edge_order=edge_order), expected
    )
    if draw(st.booleans(), label="chunked"):
        obj = _chunked(draw, obj)
    actual = obj.grad.along(name, edge_order=edge_order, datetime_unit=unit, geometry="cartesian")
    assert type(actual.data) is type(obj.data)
    assert_bitwise_equal(_compute(actual).values, expected)


# --- periodic seams ----------------------------------------------------------------------------


def _ring(draw, lon, *, lat=None):
    """A field over ``(lat, lon)`` (in a random order) on the longitudes ``lon``."""
    nlat = draw(st.integers(1, 4), label="latitudes")
    lat = np.linspace(-60.0, 60.0, nlat) if lat is None else lat
    obj = xr.DataArray(
        _values(draw, (nlat, len(lon.values))),
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon.values, lon.attrs),
        },
        name="f",
        attrs={"units": "K"},
    )
    return obj.transpose("lon", "lat") if draw(st.booleans(), label="lon first") else obj


@given(data=st.data())
def test_rolled_periodic_field_gives_rolled_derivative(data, assert_bitwise_equal):
    draw = data.draw
    accuracy = draw(st.sampled_from(ACCURACIES), label="accuracy")
    lon = draw(periodic_longitudes(min_points=accuracy + 1, exact=True))
    field = _ring(draw, lon)
    shift = draw(st.integers(1, len(lon.values) - 1), label="shift")
    axis = field.get_axis_num("lon")
    rolled = field.copy(data=np.roll(field.values, shift, axis=axis))
    options = {
        "accuracy": accuracy,
        "boundary": draw(st.sampled_from(["auto", "periodic"]), label="boundary"),
        "geometry": draw(st.sampled_from(["cartesian", "sphere"]), label="geometry"),
    }
    derivative = field.grad.along("lon", **options)
    assert derivative.attrs["xgrad_boundary"] == "periodic"
    expected = np.roll(derivative.values, shift, axis=axis)
    assert_bitwise_equal(rolled.grad.along("lon", **options).values, expected)


@given(data=st.data())
def test_periodic_boundary_any_chunking_equals_in_memory(
    data, raise_on_compute, assert_bitwise_equal
):
    draw = data.draw
    accuracy = draw(st.sampled_from(ACCURACIES), label="accuracy")
    lon = draw(periodic_longitudes(min_points=accuracy + 1))
    note(f"longitudes: {lon!r}")
    field = _ring(draw, lon)
    geometry = draw(st.sampled_from(["cartesian", "sphere"]), label="geometry")
    eager = field.grad.along("lon", accuracy=accuracy, boundary="periodic", geometry=geometry)
    lazy_field = _chunked(draw, field)
    with dask.config.set(scheduler=raise_on_compute):
        lazy = lazy_field.grad.along(
            "lon", accuracy=accuracy, boundary="periodic", geometry=geometry
        )
    assert isinstance(lazy.data, da.Array) and lazy.chunks == lazy_field.chunks
    assert_bitwise_equal(_compute(lazy).values, eager.values)
    # every one-turn CF longitude is found periodic under "auto"
    auto = field.grad.along("lon", accuracy=accuracy, geometry=geometry)
    assert auto.attrs["xgrad_boundary"] == "periodic"
    assert_bitwise_equal(auto.values, eager.values)


# --- geometry ----------------------------------------------------------------------------------


@given(data=st.data())
def test_descending_latitude_mirrors_ascending(data, assert_bitwise_equal):
    draw = data.draw
    up = draw(latlon_grids(descending=False))
    down = up.isel(lat=slice(None, None, -1))
    edge_order = draw(st.sampled_from([1, 2]), label="edge_order")
    for dim in ("lat", "lon"):
        a = up.grad.along(dim, edge_order=edge_order)
        mirrored = down.grad.along(dim, edge_order=edge_order).isel(lat=slice(None, None, -1))
        assert a.attrs["units"] == "K m-1"
        if dim == "lat":
            # (f[i-1] - f[i+1]) / (-2h) is (f[i+1] - f[i-1]) / 2h, but where the difference is
            # exactly zero: +0 / -2h is -0. Adding +0 makes every zero +0, and changes nothing else.
            a, mirrored = a + 0.0, mirrored + 0.0
        if dim == "lon" or edge_order == 1:
            assert_bitwise_equal(mirrored.values, a.values)
            continue
        inner = {"lat": slice(1, -1)}
        assert_bitwise_equal(mirrored.isel(inner).values, a.isel(inner).values)
        # numpy's edge_order=2 ends, -1.5 f0 + 2 f1 - 0.5 f2, come back summed in the other
        # order: a few roundings of the largest term apart
        ends = {"lat": [0, -1]}
        step = abs(float(up.lat[1] - up.lat[0])) * math.pi / 180 * MEAN_RADIUS
        largest = 2 * float(np.max(np.abs(up.values.astype(np.float64)))) / step
        atol = 8 * np.finfo(up.dtype).eps * largest
        np.testing.assert_allclose(
            mirrored.isel(ends).values, a.isel(ends).values, rtol=0, atol=atol
        )


# radii of 1-100 km are drawn on purpose (the metric's arithmetic, not a planet): the warning
# about a radius given in kilometres is expected there
@pytest.mark.filterwarnings(r"ignore:radius=.* is in metres:UserWarning")
@given(data=st.data())
def test_sphere_latitude_derivative_is_cartesian_times_metric(data, assert_bitwise_equal):
    draw = data.draw
    grid = draw(latlon_grids())
    edge_order = draw(st.sampled_from([1, 2]), label="edge_order")
    nlat = grid.sizes["lat"]
    allowed = [a for a in ACCURACIES if nlat >= (edge_order + 1 if a == 2 else a + 1)]
    accuracy = draw(st.sampled_from(allowed), label="accuracy")
    radius = draw(st.none() | st.floats(1e3, 1e8), label="radius")
    options = {"edge_order": edge_order, "accuracy": accuracy}
    cartesian = grid.grad.along("lat", geometry="cartesian", **options)
    if draw(st.booleans(), label="chunked"):
        grid = _chunked(draw, grid)
    geometry = draw(st.sampled_from(["auto", "sphere"]), label="geometry")
    sphere = _compute(grid.grad.along("lat", geometry=geometry, radius=radius, **options))
    per_metre = (180 / math.pi) / (MEAN_RADIUS if radius is None else radius)
    assert sphere.attrs["units"] == "K m-1"
    assert_bitwise_equal(sphere.values, cartesian.values * per_metre)


# --- the strategies draw what they promise -----------------------------------------------------


@given(data=st.data())
def test_labelled_strategies_are_valid(data):
    draw = data.draw
    coord = draw(monotonic_coordinates(draw(st.integers(2, MAX_SIDE))))
    kind = coord.dtype.kind  # exact steps: int64 ticks or integers, floats in float64
    steps = np.diff(
        coord.view(np.int64) if kind in "mM" else coord.astype("i8" if kind in "iu" else "f8")
    )
    assert (steps > 0).all() or (steps < 0).all(), coord
    lon = draw(periodic_longitudes())
    x = lon.values.astype(np.float64)
    n = len(x)
    assert math.isclose(abs(x[-1] - x[0]) * n / (n - 1), lon.period, rel_tol=1e-6), lon
    grid = draw(latlon_grids())
    lat = grid["lat"].values
    assert (np.abs(lat) <= 90).all() and (np.diff(lat) == lat[1] - lat[0]).all(), lat
