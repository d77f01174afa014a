"""The bad-input contract (docs/comparison.md, "Errors"): one table, four checks per case.

For every kind of bad input: the exception type; a message naming the offending argument
or dimension (and the fix where there is one); nothing computed first (dask inputs are
built under a scheduler that refuses to compute); the input object unchanged afterwards.
"""

from __future__ import annotations

import copy

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import xgrad


def _field(chunks=None, **coords):
    x = np.array([0.0, 1.0, 2.5, 4.0, 6.0])
    y = np.arange(4.0)
    data = np.arange(20.0).reshape(4, 5)
    base = {"y": ("y", y, {"units": "m"}), "x": ("x", x, {"units": "m"})}
    base.update(coords)
    obj = xr.DataArray(data, dims=("y", "x"), coords=base, name="h", attrs={"units": "m"})
    return obj.chunk(chunks) if chunks else obj


def _with_x(values, **attrs):
    return lambda chunks: _field(chunks, x=("x", values, attrs))


ACCESSOR_CASES = {
    # name: (build(chunks) -> object, call(obj), exception, message pattern)
    "unknown dim": (_field, lambda o: o.grad.along("z"), ValueError, r"'z'.*dimensions are"),
    "repeated dim": (_field, lambda o: o.grad.along("x", "x"), ValueError, r"'x'.*once"),
    "no dim": (_field, lambda o: o.grad.along(), ValueError, r"at least one"),
    "dims as a list": (
        _field,
        lambda o: o.grad.along(["x", "y"]),
        TypeError,
        r"separate arguments",
    ),
    "too few points": (
        lambda c: _field(c).isel(x=slice(0, 2)),
        lambda o: o.grad.along("x", edge_order=2),
        ValueError,
        r"'x' has 2 point.*edge_order=2.*at least 3",
    ),
    "too few points, accuracy 6": (
        _field,
        lambda o: o.grad.along("x", accuracy=6),
        ValueError,
        r"'x' has 5 point.*accuracy=6.*7",
    ),
    "2-D coordinate": (
        lambda c: _field(c).assign_coords(lon=(("y", "x"), np.ones((4, 5)))),
        lambda o: o.grad.along("lon"),
        ValueError,
        r"'lon'.*1-D coordinate",
    ),
    "string coordinate": (
        _with_x(np.array(list("abcde"))),
        lambda o: o.grad.along("x"),
        TypeError,
        r"coordinate 'x'.*cannot be used as a spacing.*drop_vars",
    ),
    "NaN in coordinate": (
        _with_x(np.array([0.0, 1.0, np.nan, 3.0, 4.0])),
        lambda o: o.grad.along("x"),
        ValueError,
        r"'x'.*nan",
    ),
    "repeated coordinate values": (
        _with_x(np.array([0.0, 1.0, 1.0, 3.0, 4.0])),
        lambda o: o.grad.along("x"),
        ValueError,
        r"'x' has repeated values.*drop_duplicates",
    ),
    "unsorted coordinate": (
        _with_x(np.array([0.0, 2.0, 1.0, 3.0, 4.0])),
        lambda o: o.grad.along("x"),
        ValueError,
        r"'x' is not monotonic.*sortby\('x'\)",
    ),
    "calendar datetime unit": (
        _with_x(pd.date_range("2000-01-01", periods=5, freq="D").values),
        lambda o: o.grad.along("x", datetime_unit="M"),
        ValueError,
        r"datetime_unit='M'.*calendar",
    ),
    "unknown datetime unit": (
        _with_x(pd.date_range("2000-01-01", periods=5, freq="D").values),
        lambda o: o.grad.along("x", datetime_unit="fortnight"),
        ValueError,
        r"datetime_unit='fortnight'",
    ),
    "bad edge_order": (
        _field,
        lambda o: o.grad.along("x", edge_order=3),
        ValueError,
        r"edge_order=3",
    ),
    "bad accuracy": (_field, lambda o: o.grad.along("x", accuracy=3), ValueError, r"accuracy=3"),
    "bad nan mode": (_field, lambda o: o.grad.along("x", nan="drop"), ValueError, r"nan='drop'"),
    "bad geometry": (
        _field,
        lambda o: o.grad.along("x", geometry="flat"),
        ValueError,
        r"geometry='flat'",
    ),
    "bad boundary": (
        _field,
        lambda o: o.grad.along("x", boundary="wrap"),
        ValueError,
        r"boundary='wrap'",
    ),
    "object data": (
        lambda c: _field(c).astype(object),
        lambda o: o.grad.along("x"),
        TypeError,
        r"'h'.*dtype.*astype\(float\)",
    ),
}


@pytest.mark.parametrize("backend", ["numpy", "dask"])
@pytest.mark.parametrize("case", list(ACCESSOR_CASES))
def test_accessor_errors(case, backend, raise_on_compute):
    build, call, exc, pattern = ACCESSOR_CASES[case]
    if backend == "dask" and case == "object data":
        pytest.skip("object dtype is not chunked meaningfully by dask")
    obj = build({"x": 2, "y": 3} if backend == "dask" else None)
    before = copy.deepcopy(obj)
    with dask.config.set(scheduler=raise_on_compute), pytest.raises(exc, match=pattern):
        call(obj)
    xr.testing.assert_identical(obj, before)
    assert obj.attrs == before.attrs and obj.x.attrs == before.x.attrs


# Unknown chunk sizes (after a boolean mask), every entry point:
# test_laziness_graph.py::test_unknown_chunks_raise_valueerror

GRADIENT_CASES = {
    "wrong number of spacings": (lambda f: xgrad.gradient(f, 1.0, 2.0, 3.0), TypeError, r"2 axes"),
    "2-D spacing": (
        lambda f: xgrad.gradient(f, np.ones((4, 5)), 1.0),
        ValueError,
        r"scalars or 1d",
    ),
    "coordinate too long": (
        lambda f: xgrad.gradient(f, np.arange(5.0), 1.0),
        ValueError,
        r"length 5.*axis 0",
    ),
    "edge_order 3": (lambda f: xgrad.gradient(f, edge_order=3), ValueError, r"edge_order"),
    "accuracy 5": (lambda f: xgrad.gradient(f, accuracy=5), ValueError, r"accuracy"),
    "nan mode": (lambda f: xgrad.gradient(f, nan="ignore"), ValueError, r"nan"),
    "axis out of range": (lambda f: xgrad.gradient(f, axis=2), np.exceptions.AxisError, r"axis 2"),
    "repeated axis": (lambda f: xgrad.gradient(f, axis=(0, 0)), ValueError, r"repeated axis"),
    "too short for accuracy": (
        lambda f: xgrad.gradient(f, accuracy=6),
        ValueError,
        r"axis 0 has 4",
    ),
}


@pytest.mark.parametrize("backend", ["numpy", "dask"])
@pytest.mark.parametrize("case", list(GRADIENT_CASES))
def test_gradient_errors(case, backend, raise_on_compute):
    call, exc, pattern = GRADIENT_CASES[case]
    data = np.arange(20.0).reshape(4, 5)
    f = da.from_array(data, chunks=2) if backend == "dask" else data.copy()
    with dask.config.set(scheduler=raise_on_compute), pytest.raises(exc, match=pattern):
        call(f)
    np.testing.assert_array_equal(np.asarray(f), data)


def test_object_and_string_data():
    with pytest.raises(TypeError, match="dtype"):
        xgrad.gradient(np.array(["a", "b", "c"]))
    with pytest.raises(TypeError, match="dtype"):
        xgrad.gradient(np.array([1, 2, 3], dtype=object))


def test_inputs_never_modified():
    """Success paths leave inputs alone too (numpy, dask, masked, DataArray)."""
    data = np.arange(30.0).reshape(5, 6)
    keep = data.copy()
    xgrad.gradient(data, accuracy=4, nan="one-sided")
    np.testing.assert_array_equal(data, keep)
    m = np.ma.masked_array(data, mask=data > 20)
    mask = m.mask.copy()
    xgrad.gradient(m, edge_order=2)
    np.testing.assert_array_equal(m.mask, mask)
    obj = _field({"x": 2})
    before = copy.deepcopy(obj)
    obj.grad.along("x", "y")[0].compute()
    xr.testing.assert_identical(obj, before)


def test_laplacian_too_few_points_names_the_dim():
    obj = _field()  # x has 5 points; accuracy 4 second derivatives need 6
    before = copy.deepcopy(obj)
    with pytest.raises(ValueError, match=r"dimension 'x' has 5 point.*Laplacian.*accuracy=4.*6"):
        obj.grad.laplacian("x", accuracy=4)
    xr.testing.assert_identical(obj, before)


# --- dtype compatibility of data, spacings and coordinates (numpy is the oracle) -------------

_KIND_DATA = {
    "b": np.array([True, False, True, True, False, True]),
    "i": np.arange(6),
    "u": np.arange(6, dtype=np.uint16),
    "f": np.arange(6.0),
    "f4": np.arange(6.0, dtype=np.float32),
    "c": np.arange(6.0) + 1j,
    "m": np.arange(6).astype("m8[s]"),
    "M": np.arange(6).astype("M8[s]"),
}
_KIND_SPACINGS = {
    "python int": 2,
    "python float": 2.0,
    "python complex": 2j,
    "numpy bool": np.bool_(True),
    "numpy float32": np.float32(2.0),
    "numpy complex": np.complex64(2j),
    "timedelta64": np.timedelta64(2, "h"),
    "datetime64": np.datetime64("2000-01-01"),
    "0-d array": np.array(2.0),
    "bool coordinate": np.array([False, True, True, False, True, True]),
    "int coordinate": np.array([0, 1, 3, 4, 6, 9]),
    "float coordinate": np.array([0.0, 1.0, 3.0, 4.0, 6.0, 9.0]),
    "complex coordinate": np.array([0.0, 1.0, 3.0, 4.0, 6.0, 9.0]) * (1 + 1j),
    "uniform complex coordinate": np.arange(6) * (1 + 1j),
    "timedelta coordinate": np.array([0, 1, 3, 4, 6, 9]).astype("m8[s]"),
    "uniform timedelta coordinate": np.arange(6).astype("m8[s]"),
    "datetime coordinate": np.array([0, 1, 3, 4, 6, 9]).astype("M8[D]"),
    "uniform datetime coordinate": np.arange(6).astype("M8[s]"),
}


def _numpy_outcome(data, spacing, edge_order):
    try:
        return np.gradient(data, spacing, edge_order=edge_order)
    except Exception as err:  # the oracle's exception, whatever it is
        return err


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")  # numpy's own, too
@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("spacing", list(_KIND_SPACINGS))
@pytest.mark.parametrize("kind", list(_KIND_DATA))
def test_dtype_table_raises_like_numpy_while_building(kind, spacing, edge_order, raise_on_compute):
    """Every (data kind, spacing kind, edge order): numpy's exception type at once, on numpy
    and on dask input (built under a scheduler that refuses to compute), or numpy's values."""
    data, step = _KIND_DATA[kind], _KIND_SPACINGS[spacing]
    expected = _numpy_outcome(data, step, edge_order)
    for f in (data.copy(), da.from_array(data, chunks=2)):
        if isinstance(expected, Exception):
            # numpy's own class or, where numpy raises a subclass, its TypeError base
            kinds = (
                type(expected),
                TypeError if isinstance(expected, TypeError) else type(expected),
            )
            with dask.config.set(scheduler=raise_on_compute), pytest.raises(kinds, match=r"."):
                xgrad.gradient(f, step, edge_order=edge_order)
            continue
        with dask.config.set(scheduler=raise_on_compute):
            result = xgrad.gradient(f, step, edge_order=edge_order)
        np.testing.assert_array_equal(np.asarray(result), expected)


@pytest.mark.parametrize("chunks", [None, {"lat": 2}])
def test_nan_latitude_used_only_for_a_metric_factor(chunks, raise_on_compute):
    """Along longitude the latitude only feeds 1/cos(lat): a NaN there is still refused."""
    lat = np.array([10.0, np.nan, 30.0])
    obj = xr.DataArray(
        np.ones((3, 4)),
        dims=("lat", "lon"),
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", np.arange(0.0, 40.0, 10.0), {"units": "degrees_east"}),
        },
    )
    obj = obj.chunk(chunks) if chunks else obj
    before = copy.deepcopy(obj)
    with (
        dask.config.set(scheduler=raise_on_compute),
        pytest.raises(ValueError, match=r"latitude coordinate 'lat' contains nan \(lat\[1\]\)"),
    ):
        obj.grad.along("lon")
    xr.testing.assert_identical(obj, before)


@pytest.mark.parametrize("option", ["accuracy", "nan"])
def test_gradient_option_given_as_an_array_names_the_option(option):
    value = {"accuracy": np.array([2, 4]), "nan": np.array(["a"])}
    with pytest.raises(TypeError, match=rf"{option}=array\(.*is not valid: it is an array"):
        xgrad.gradient(np.arange(10.0), **{option: value[option]})


@pytest.mark.parametrize(
    "edge_order",
    [np.array(2), np.array([1]), np.array([[2]]), np.array(True), np.int8(2)],
    ids=repr,
)
@pytest.mark.parametrize("chunks", [None, 2])
def test_gradient_edge_order_as_a_one_element_array_is_its_number(edge_order, chunks):
    # numpy compares edge_order with `== 1` and `> 2`: a one-element array works as its number
    f = np.array([1.0, 4.0, 9.0, 16.0, 30.0, 31.0])
    x = f if chunks is None else da.from_array(f, chunks=chunks)
    actual = np.asarray(xgrad.gradient(x, edge_order=edge_order))
    np.testing.assert_array_equal(actual, np.gradient(f, edge_order=edge_order))


@pytest.mark.parametrize(
    ("edge_order", "error", "match"),
    [
        (np.array([1, 2]), ValueError, r"edge_order=array\(\[1, 2\]\) is not valid: .*ambiguous"),
        ("2", TypeError, r"edge_order='2' is not valid: it must be a number, one of \(1, 2\)"),
        (None, TypeError, r"edge_order=None is not valid: it must be a number"),
        (2 + 0j, TypeError, r"edge_order=\(2\+0j\) is not valid: it must be a number"),
    ],
    ids=repr,
)
def test_gradient_edge_order_of_another_type_raises_as_numpy(edge_order, error, match):
    f = np.arange(10.0) ** 2
    with pytest.raises(error) as numpy_raised:
        np.gradient(f, edge_order=edge_order)
    assert numpy_raised.type is error  # numpy's own type, so the drop-in's matches it
    for x in (f, da.from_array(f, chunks=3)):
        with pytest.raises(error, match=match):
            xgrad.gradient(x, edge_order=edge_order)


@pytest.mark.parametrize(
    "option", ["accuracy", "edge_order", "geometry", "boundary", "datetime_unit"]
)
def test_accessor_option_given_as_an_array_names_the_option(option):
    value = np.array([1, 2]) if option in ("accuracy", "edge_order") else np.array(["auto", "x"])
    with pytest.raises(TypeError, match=rf"{option}=array\(.*is not valid: it is an array"):
        _field().grad.along("x", **{option: value})


def test_integral_float_options_are_their_integer():
    f = np.arange(12.0) ** 3
    np.testing.assert_array_equal(xgrad.gradient(f, accuracy=4.0), xgrad.gradient(f, accuracy=4))
    np.testing.assert_array_equal(
        xgrad.gradient(f, edge_order=np.float64(2.0)), np.gradient(f, edge_order=2)
    )
    with pytest.raises(ValueError, match=r"accuracy=4\.5 is not valid; choose one of \(2, 4, 6\)"):
        xgrad.gradient(f, accuracy=4.5)


def test_pint_offset_units_give_delta_units():
    pint = pytest.importorskip("pint")
    ureg = pint.UnitRegistry()
    q = ureg.Quantity(np.arange(6.0) ** 2, "degC")
    assert xgrad.gradient(q).units == np.gradient(q).units == ureg.Unit("delta_degC")
    x = ureg.Quantity(np.arange(6.0), "m")
    assert xgrad.gradient(q, x).units == ureg.Unit("delta_degC / m")


@pytest.mark.parametrize("chunks", [None, 2])
def test_masked_coordinate_with_masked_values_is_refused(chunks, assert_bitwise_equal):
    # numpy.gradient differences the values under the mask (its interior rows here are -1, -1
    # for the derivative 2x of x**2): not a derivative of anything, so the drop-in refuses.
    f = np.array([0.0, 1.0, 4.0, 9.0, 16.0])
    x = f if chunks is None else da.from_array(f, chunks=chunks)
    coord = np.ma.masked_array([0.0, 1.0, 2.0, 3.0, 5.0], mask=[0, 1, 0, 0, 0])
    before = coord.copy()
    with pytest.raises(ValueError, match=r"spacing argument 0 is a masked array with 1 masked"):
        xgrad.gradient(x, coord)
    assert np.array_equal(coord.mask, before.mask) and np.array_equal(coord.data, before.data)
    # nothing masked (netCDF4 gives coordinates as masked arrays): numpy's bits
    unmasked = np.ma.masked_array(coord.data, mask=False)
    for edge_order in (1, 2):
        assert_bitwise_equal(
            np.asarray(xgrad.gradient(x, unmasked, edge_order=edge_order)),
            np.gradient(f, unmasked, edge_order=edge_order),
        )
