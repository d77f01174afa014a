"""Differential property tests: ``xgrad.gradient`` against ``numpy.gradient``, bit for bit.

numpy is the oracle for every generated call -- valid or not. Where numpy returns, xgrad (numpy
input, and dask input once computed) must return the same type (array vs tuple), dtype, shape and
bits (conftest's ``assert_bitwise_equal``: unsigned integers of the same itemsize, so signed zeros
count, int64 views for datetime/timedelta; a NaN's sign and payload, which IEEE 754 leaves
unspecified, do not). Where numpy raises, xgrad must raise an instance of the same exception type --
for dask input while building, without computing the data.

Generated (the strategies live in ``strategies.py``): shapes 1-D..4-D with axis lengths 1..12
(too-short axes included, numpy raises ValueError), every numeric dtype numpy.gradient takes, plus
bool (TypeError) and datetime64/timedelta64, values with NaN/inf/subnormals, every spacing form (none;
one scalar: python float/int, np.float32/np.float64, 0-d array; one per axis mixing scalars and 1-D
coordinates: uniform, non-uniform, descending, integer, float32, unsorted, as lists), ``axis`` as
None/int/negative/tuple/list/empty/invalid/repeated, edge_order 1 and 2, random chunkings (size-1
and ragged chunks), numpy or dask coordinates; the data in any memory layout (C, Fortran,
transposed, strided views of a bigger array, negative strides; for dask, ``da.from_array`` of such a
view), through the compiled kernels, the NumPy reference path or the automatic choice between them.
"""

from __future__ import annotations

import contextlib
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from strategies import (
    ALL_DTYPES,
    MAX_BLOCKS,
    chunkings,
    dask_arrays,
    data_arrays,
    gradient_calls,
    layouts,
    shapes,
)

import xgrad
from xgrad.kernels import compiled

#: ``xgrad.kernels.compiled`` modes: force the compiled kernels (where the dtype allows), forbid
#: them (the NumPy reference), or let the size decide (small arrays take the NumPy path).
KERNEL_MODES = [True, False, None]


@contextlib.contextmanager
def quiet():
    """numpy warns on overflow/0-division/invalid; those are part of the generated inputs."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


# --- helpers ---------------------------------------------------------------------------------------


def _outcome(fn):
    try:
        with quiet():
            return fn(), None
    except Exception as exc:  # noqa: BLE001 -- compared against numpy's exception
        return None, exc


def _snapshot(call):
    return (
        call.f.copy(),
        tuple(v.copy() if isinstance(v, np.ndarray) else v for v in call.varargs),
    )


def _assert_unchanged(call, snapshot, assert_bitwise_equal):
    f0, varargs0 = snapshot
    assert_bitwise_equal(call.f, f0)
    for v, v0 in zip(call.varargs, varargs0, strict=True):
        if isinstance(v0, np.ndarray):
            assert_bitwise_equal(v, v0)


def _same_error(xgrad_exc, numpy_exc):
    assert xgrad_exc is not None, (
        f"numpy raised {type(numpy_exc).__name__}({numpy_exc}) but xgrad did not raise"
    )
    assert isinstance(xgrad_exc, type(numpy_exc)), (
        f"numpy raised {type(numpy_exc).__name__}({numpy_exc}); "
        f"xgrad raised {type(xgrad_exc).__name__}({xgrad_exc})"
    )


def _compute(result):
    with quiet():
        if isinstance(result, tuple):
            return tuple(dask.compute(*result, scheduler="sync"))
        return result.compute(scheduler="sync")


def _describe(call):
    note(
        f"f: dtype={call.f.dtype} shape={call.f.shape}\n{call.f!r}\n"
        f"varargs={call.varargs!r}\naxis={call.axis!r} edge_order={call.edge_order}"
    )


# --- properties ------------------------------------------------------------------------------------


@given(data=st.data(), call=gradient_calls())
def test_numpy_input_bit_exact(data, call, assert_bitwise_equal):
    _describe(call)
    snapshot = _snapshot(call)
    # the same values in any memory layout, through either kernel path: numpy's bits
    f = data.draw(layouts(call.f))
    mode = data.draw(st.sampled_from(KERNEL_MODES), label="compiled")
    # numpy data with 1-D dask coordinates is still numpy in, numpy out (numpy.gradient itself
    # would convert the coordinate with np.asanyarray)
    varargs = [
        da.from_array(v, chunks=data.draw(chunkings(v.shape), label="coord chunks"))
        if isinstance(v, np.ndarray) and v.ndim == 1 and data.draw(st.integers(0, 3)) == 0
        else v
        for v in call.varargs
    ]
    expected, numpy_exc = _outcome(lambda: np.gradient(call.f, *call.varargs, **call.kwargs()))
    with compiled(mode):
        actual, xgrad_exc = _outcome(lambda: xgrad.gradient(f, *varargs, **call.kwargs()))
    if numpy_exc is not None:
        _same_error(xgrad_exc, numpy_exc)
    else:
        if xgrad_exc is not None:
            raise xgrad_exc
        assert_bitwise_equal(actual, expected)
    _assert_unchanged(call, snapshot, assert_bitwise_equal)
    assert_bitwise_equal(np.ascontiguousarray(f), snapshot[0])  # the view, too


@given(data=st.data(), call=gradient_calls())
def test_dask_input_bit_exact(data, call, counting_array, assert_bitwise_equal):
    _describe(call)
    snapshot = _snapshot(call)
    chunks = data.draw(chunkings(call.f.shape), label="chunks")
    # da.from_array of a view in any memory layout: its blocks are strided views too
    f_dask, blocks_computed = counting_array(data.draw(layouts(call.f)), chunks)
    mode = data.draw(st.sampled_from(KERNEL_MODES), label="compiled")
    dask_varargs = []
    for v in call.varargs:
        if (
            isinstance(v, np.ndarray)
            and v.ndim == 1
            and data.draw(st.booleans(), label="dask coord")
        ):
            v = da.from_array(v, chunks=data.draw(chunkings(v.shape), label="coord chunks"))
        dask_varargs.append(v)

    expected, numpy_exc = _outcome(lambda: np.gradient(call.f, *call.varargs, **call.kwargs()))
    with compiled(mode):  # the kernels run at compute time, in _compute below (sync scheduler)
        result, xgrad_exc = _outcome(lambda: xgrad.gradient(f_dask, *dask_varargs, **call.kwargs()))
    assert blocks_computed() == 0, "building the gradient computed the data"
    if numpy_exc is not None:
        _same_error(xgrad_exc, numpy_exc)  # ... and at build time, not at compute time
    else:
        if xgrad_exc is not None:
            raise xgrad_exc
        assert isinstance(result, tuple) == isinstance(expected, tuple)
        parts = result if isinstance(result, tuple) else (result,)
        for part in parts:
            assert isinstance(part, da.Array), f"not lazy: {type(part)}"
            assert part.chunks == f_dask.chunks, "output chunks differ from input chunks"
        with compiled(mode):
            computed = _compute(result)
        for lazy, c in zip(
            parts, computed if isinstance(result, tuple) else (computed,), strict=True
        ):
            assert lazy.dtype == c.dtype, f"lazy dtype {lazy.dtype} != computed {c.dtype}"
            assert lazy.shape == c.shape
        assert_bitwise_equal(computed, expected)
    _assert_unchanged(call, snapshot, assert_bitwise_equal)


@given(
    data=st.data(),
    call=gradient_calls(
        dtypes=[np.dtype(d) for d in ["float64", "float32", "complex128", "int16"]]
    ),
)
def test_chunk_invariant(data, call, assert_bitwise_equal):
    """Two chunkings of the same data give the same bits (not merely both close to numpy)."""
    _describe(call)
    _, numpy_exc = _outcome(lambda: np.gradient(call.f, *call.varargs, **call.kwargs()))
    if numpy_exc is not None:
        return  # error paths are covered above
    # two chunkings, each of a view in its own memory layout
    first, second = data.draw(dask_arrays(call.f)), data.draw(dask_arrays(call.f))
    with quiet():
        ra = xgrad.gradient(first, *call.varargs, **call.kwargs())
        rb = xgrad.gradient(second, *call.varargs, **call.kwargs())
    assert_bitwise_equal(_compute(ra), _compute(rb))


@given(data=st.data())
def test_chunkings_strategy_is_valid(data):
    shape = data.draw(shapes())
    chunks = data.draw(chunkings(shape))
    assert tuple(sum(c) for c in chunks) == shape
    assert all(all(s >= 1 for s in c) for c in chunks)
    assert np.prod([len(c) for c in chunks]) <= MAX_BLOCKS
    da.from_array(np.zeros(shape), chunks=chunks)  # dask accepts it


@given(data=st.data())
def test_layouts_strategy_is_valid(data, assert_bitwise_equal):
    shape = data.draw(shapes())
    f = data.draw(data_arrays(shape, data.draw(st.sampled_from(ALL_DTYPES))))
    view = data.draw(layouts(f))
    assert_bitwise_equal(view, f)
    assert not np.shares_memory(view, f)


@pytest.mark.parametrize("backend", ["numpy", "dask"])
@pytest.mark.parametrize("edge_order", [1, 2])
def test_too_short_axis_raises_valueerror(backend, edge_order):
    f = np.zeros((edge_order, 5))
    if backend == "dask":
        f = da.from_array(f, chunks=1)
    too_short = (
        r"Shape of array too small to calculate a numerical gradient, "
        r"at least \(edge_order \+ 1\) elements are required"
    )
    with pytest.raises(ValueError, match=too_short):
        np.gradient(np.zeros((edge_order, 5)), edge_order=edge_order)
    # xgrad says which axis and how many points (numpy's words first: code matching on them works)
    which = rf"{too_short}: axis 0 has {edge_order} element\(s\) and edge_order={edge_order} needs"
    with pytest.raises(ValueError, match=which):
        xgrad.gradient(f, edge_order=edge_order)
    with pytest.raises(ValueError, match=which):
        xgrad.gradient(f, axis=0, edge_order=edge_order)
    xgrad.gradient(f, axis=1, edge_order=edge_order)  # the long axis alone is fine


@pytest.mark.parametrize("backend", ["numpy", "dask"])
def test_bool_data_raises_typeerror(backend):
    f = np.array([True, False, True, True])
    with pytest.raises(
        TypeError, match=r"numpy boolean subtract, the `-` operator, is not supported"
    ):
        np.gradient(f)
    with pytest.raises(
        TypeError,
        match=r"numpy boolean subtract, the `-` operator, is not supported: cannot difference "
        r"boolean data along axis 0; convert it first, e\.g\. `f\.astype\(float\)`",
    ):
        xgrad.gradient(da.from_array(f, chunks=2) if backend == "dask" else f)


# --- the comparison helper really is bit-exact -----------------------------------------------------


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "complex64", "complex128"])
def test_helper_fails_on_one_ulp(dtype, assert_bitwise_equal):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(7).astype(dtype)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(7).astype(dtype)
    assert_bitwise_equal(a, a.copy())
    b = a.copy()
    real = b.real if b.dtype.kind == "c" else b
    real[3] = np.nextafter(real[3], np.inf, dtype=real.dtype)
    assert abs(b[3] - a[3]) > 0
    with pytest.raises(AssertionError, match="result: bits differ"):
        assert_bitwise_equal(b, a)
    if b.dtype.kind == "c":
        c = a.copy()
        c.imag[2] = np.nextafter(c.imag[2], -np.inf, dtype=c.imag.dtype)
        with pytest.raises(AssertionError, match="result: bits differ"):
            assert_bitwise_equal(c, a)
    # tuples are compared element-wise
    with pytest.raises(AssertionError, match=r"result\[1\]: bits differ"):
        assert_bitwise_equal((a, b), (a, a))


def test_helper_fails_on_signed_zero_nan_position_type_and_dtype(assert_bitwise_equal):
    with pytest.raises(AssertionError, match="bits differ"):
        assert_bitwise_equal(np.array([0.0]), np.array([-0.0]))
    nan = np.array([np.nan])
    assert_bitwise_equal(nan, nan.copy())  # NaN equals itself bitwise
    # a NaN's sign and payload are not compared (conftest._assert_bitwise_equal says why)...
    assert_bitwise_equal(-nan, nan)
    assert_bitwise_equal((nan.view(np.uint64) | np.uint64(1)).view(np.float64), nan)
    # ...but where the NaNs are is
    with pytest.raises(AssertionError, match="bits differ"):
        assert_bitwise_equal(np.array([np.nan, 1.0]), np.array([1.0, np.nan]))
    with pytest.raises(AssertionError, match="bits differ"):
        assert_bitwise_equal(np.array([np.inf]), nan)
    with pytest.raises(AssertionError, match="dtype float32 != float64"):
        assert_bitwise_equal(np.zeros(3, np.float32), np.zeros(3))
    with pytest.raises(AssertionError, match="type ndarray != expected tuple"):
        assert_bitwise_equal(np.zeros(3), (np.zeros(3),))
    with pytest.raises(AssertionError, match=r"shape \(3, 1\) != \(3,\)"):
        assert_bitwise_equal(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(AssertionError, match="type MaskedArray != expected ndarray"):
        assert_bitwise_equal(np.ma.zeros(3), np.zeros(3))


@pytest.mark.parametrize("dtype", ["timedelta64[ns]", "datetime64[s]"])
def test_helper_fails_on_one_tick(dtype, assert_bitwise_equal):
    a = np.arange(5).astype(dtype)
    b = a.copy()
    b[1] += np.timedelta64(1, np.datetime_data(a.dtype)[0])
    with pytest.raises(AssertionError, match="bits differ"):
        assert_bitwise_equal(b, a)
    nat = a.copy()
    nat[0] = np.datetime64("NaT") if a.dtype.kind == "M" else np.timedelta64("NaT")
    assert_bitwise_equal(nat, nat.copy())


# --- arguments numpy accepts in other spellings, and degenerate shapes -------------------------------


@pytest.mark.parametrize(
    "edge_order",
    [1.0, 2.0, np.int64(1), np.int64(2), np.float64(2.0), True],
    ids=["1.0", "2.0", "np.int64(1)", "np.int64(2)", "np.float64(2.0)", "True"],
)
@pytest.mark.parametrize("chunks", [None, 1, 2, (1, 3, 2, 1)], ids=str)
def test_edge_order_spelled_differently(edge_order, chunks, assert_bitwise_equal):
    # numpy compares edge_order with == 1 and > 2 only, so 1.0, np.int64(2) and True are accepted.
    f = np.array([1.0, 4.0, 9.0, 16.0, 30.0, 31.0, 29.0])
    coord = np.array([0.0, 1.0, 1.5, 3.0, 4.0, 4.5, 7.0])
    for varargs in [(), (0.5,), (coord,)]:
        expected = np.gradient(f, *varargs, edge_order=edge_order)
        if chunks is None:
            actual = xgrad.gradient(f, *varargs, edge_order=edge_order)
        else:
            actual = _compute(
                xgrad.gradient(da.from_array(f, chunks=chunks), *varargs, edge_order=edge_order)
            )
        assert_bitwise_equal(actual, expected)


@pytest.mark.parametrize("backend", ["numpy", "dask"])
@pytest.mark.parametrize(
    ("shape", "axis"),
    [((), None), ((0, 5), 1), ((5, 0), 0), ((3, 0), (0,)), ((0, 5), None), ((0,), None)],
    ids=str,
)
def test_degenerate_shapes(shape, axis, backend, assert_bitwise_equal):
    # 0-d data: no axes, numpy returns (); zero-length axes not differentiated: empty results.
    f = np.zeros(shape)
    expected, numpy_exc = _outcome(lambda: np.gradient(f, axis=axis))
    x = da.from_array(f) if backend == "dask" else f
    actual, xgrad_exc = _outcome(lambda: xgrad.gradient(x, axis=axis))
    if numpy_exc is not None:
        _same_error(xgrad_exc, numpy_exc)
        return
    if xgrad_exc is not None:
        raise xgrad_exc
    if backend == "dask":
        parts = actual if isinstance(actual, tuple) else (actual,)
        assert all(isinstance(p, da.Array) for p in parts)
        actual = (
            tuple(_compute(p) for p in actual) if isinstance(actual, tuple) else _compute(actual)
        )
    assert_bitwise_equal(actual, expected)


def test_numpy_complex_nan_sign_is_not_stable():
    """Evidence for the complex-NaN canonicalisation in conftest._assert_bitwise_equal.

    numpy computes the same complex element with a different NaN sign depending on how
    long the array operation is, so NaN sign bits of complex results are not a property
    of numpy.gradient's formula; if numpy ever makes them stable this test fails and the
    canonicalisation should go.
    """
    import platform
    import warnings

    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("the NaN sign pattern below is x86's (its default NaN is negative)")
    column = [complex(np.nan, -np.inf), 1 + 1j, 1e234 + 1e234j, 1e234 - 1e300j]
    column += [complex(np.nan, np.nan), complex(np.nan, -np.inf)]
    f = np.repeat(np.array(column)[:, None], 2, axis=1)
    m = np.copysign(np.nan, -1)  # what 0/0 gives on x86, e.g. coefficients of a zero spacing
    a = np.array([m, m, m, -np.inf])
    b = np.array([m, m, m, np.inf])
    c = np.array([m, m, m, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = a[:, None] * f[:-2] + b[:, None] * f[1:-1] + c[:, None] * f[2:]
        alone = a[2] * f[2:3] + b[2] * f[3:4] + c[2] * f[4:5]
    assert np.isnan(whole[2]).all() and np.isnan(alone[0]).all()
    assert (whole[2].view(np.uint64) != alone[0].view(np.uint64)).any()


# numpy validates in this order: axis, number of varargs, each coordinate (ndim, length, then its
# first difference -- IndexError for a 1-element coordinate), edge_order > 2, then axis by axis in the
# order given: length check, edge coefficients (a python 0 spacing divides by zero in Python:
# ZeroDivisionError), arithmetic (bool data: TypeError). With two faults, the first one wins.
ERROR_ORDER_CASES = {
    "axis-before-count": (np.zeros((4, 4)), (1.0, 1.0, 1.0), {"axis": 2}),
    "count-before-edge-order": (np.zeros((4, 4)), (1.0, 1.0, 1.0), {"edge_order": 3}),
    "1-point-coordinate-before-edge-order": (np.zeros(1), (np.array([1.0]),), {"edge_order": 3}),
    "1-point-coordinate-before-short-axis": (np.zeros(1), (np.array([1.0]),), {}),
    "edge-order-before-bool": (np.zeros(4, bool), (), {"edge_order": 3}),
    "zero-spacing-axis0-before-short-axis1": (np.zeros((3, 1)), (0.0,), {"edge_order": 2}),
    "short-axis0-before-zero-spacing-axis1": (np.zeros((1, 3)), (0,), {"edge_order": 2}),
    "zero-spacing-axis1-first-in-axis-order": (
        np.zeros((1, 3)),
        (0.0,),
        {"edge_order": 2, "axis": (1, 0)},
    ),
    "bool-axis0-before-short-axis1": (np.zeros((3, 1), bool), (), {}),
    "short-axis1-first-before-bool": (np.zeros((3, 1), bool), (), {"axis": (1, 0)}),
    # numpy computes axis 0 (timedelta data over a complex spacing: TypeError) before it
    # looks at axis 1's length
    "dtype-axis0-before-short-axis1": (np.zeros((3, 1, 4), "M8[s]"), (1j,), {}),
    "dtype-axis0-before-short-axis1-coordinate": (
        np.zeros((3, 1), "m8[s]"),
        (np.array([0, 1, 3], "M8[s]"), 1.0),
        {},
    ),
}


@pytest.mark.parametrize("backend", ["numpy", "dask"])
@pytest.mark.parametrize("case", sorted(ERROR_ORDER_CASES))
def test_first_error_wins_as_in_numpy(case, backend):
    f, varargs, kwargs = ERROR_ORDER_CASES[case]
    _, numpy_exc = _outcome(lambda: np.gradient(f, *varargs, **kwargs))
    assert numpy_exc is not None
    x = da.from_array(f, chunks=1) if backend == "dask" else f
    _, xgrad_exc = _outcome(lambda: xgrad.gradient(x, *varargs, **kwargs))
    _same_error(xgrad_exc, numpy_exc)
