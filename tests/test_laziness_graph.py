"""Laziness, deterministic names, build-time errors and a pinned graph size for dask input."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
from numpy.exceptions import AxisError

import xgrad

# Graph-size budget, in tasks per input block, for an N-axis gradient (beyond the input's own tasks).
# The design needs about N + 2 per block (halo slices/concatenation shared by all axes plus one kernel
# task per axis and block); 2N + 3 is the ceiling that still counts as "one fused layer per axis".
GRAPH_TASKS_PER_BLOCK = {n: 2 * n + 3 for n in (1, 2, 3)}

SHAPE_3D = (8, 6, 4)
CHUNKS_4x3x2 = (2, 2, 2)  # -> 4 x 3 x 2 = 24 blocks


def _data(shape=SHAPE_3D, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 100).astype(dtype)


def _parts(result):
    return result if isinstance(result, tuple) else (result,)


def _compute(result):
    if isinstance(result, tuple):
        return tuple(dask.compute(*result, scheduler="sync"))
    return result.compute(scheduler="sync")


SPACINGS_NUMPY_ONLY = {
    "none": lambda shape, axes: (),
    "scalar": lambda shape, axes: (0.25,),
    "per-axis-mixed": lambda shape, axes: tuple(
        np.cumsum(np.linspace(1.0, 2.0, shape[a])) if i % 2 == 0 else 2.0
        for i, a in enumerate(axes)
    ),
    "coords-float32": lambda shape, axes: tuple(
        np.cumsum(np.arange(1, shape[a] + 1, dtype=np.float32)) for a in axes
    ),
}


# --- laziness ----------------------------------------------------------------------------------------


def test_raise_on_compute_fixture_works(raise_on_compute):
    x = da.ones(4, chunks=2)
    with dask.config.set(scheduler=raise_on_compute), pytest.raises(RuntimeError, match="compute"):
        x.sum().compute()


@pytest.mark.parametrize("dtype", ["float64", "float32", "int16", "complex64", "datetime64[s]"])
@pytest.mark.parametrize("axis", [None, 0, -1, (2, 0)])
@pytest.mark.parametrize("spacing", sorted(SPACINGS_NUMPY_ONLY))
@pytest.mark.parametrize("edge_order", [1, 2])
def test_building_never_computes(
    dtype, axis, spacing, edge_order, raise_on_compute, assert_bitwise_equal
):
    f = (
        _data().astype(np.int64).astype(dtype)
        if dtype.startswith("datetime")
        else _data(dtype=dtype)
    )
    x = da.from_array(f, chunks=CHUNKS_4x3x2)
    axes = tuple(range(3)) if axis is None else tuple(np.atleast_1d(axis) % 3)
    varargs = SPACINGS_NUMPY_ONLY[spacing](f.shape, axes)
    with dask.config.set(scheduler=raise_on_compute):
        result = xgrad.gradient(x, *varargs, axis=axis, edge_order=edge_order)
        for part in _parts(result):
            assert isinstance(part, da.Array)
            assert part.chunks == x.chunks
            assert part.dtype == np.gradient(f[:3, :3, :3], axis=0).dtype
    # and the lazy result is right
    with np.errstate(all="ignore"):
        expected = np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    assert_bitwise_equal(_compute(result), expected)


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("axis", [None, 1])
def test_dask_coordinate_may_be_computed_but_data_never(
    axis, edge_order, counting_array, assert_bitwise_equal
):
    # A 1-D dask coordinate may be computed while building (numpy's formula choice needs its values),
    # so the scheduler is left working; the data blocks count their own materialisation instead.
    f = _data()
    x, data_blocks_computed = counting_array(f, CHUNKS_4x3x2)
    coords = [np.cumsum(np.linspace(0.5, 1.5, n)) ** 1.5 for n in f.shape]
    uniform = np.arange(f.shape[1]) * 0.5
    if axis is None:
        varargs_np = (coords[0], uniform, coords[2])
    else:
        varargs_np = (coords[1],)
    varargs = tuple(da.from_array(c, chunks=2) for c in varargs_np)
    result = xgrad.gradient(x, *varargs, axis=axis, edge_order=edge_order)
    assert data_blocks_computed() == 0, "building the gradient computed the data"
    for part in _parts(result):
        assert isinstance(part, da.Array)
        assert part.chunks == x.chunks
    computed = _compute(result)
    assert data_blocks_computed() > 0  # the counter does work
    assert_bitwise_equal(computed, np.gradient(f, *varargs_np, axis=axis, edge_order=edge_order))


def test_counting_array_counts(counting_array):
    x, counter = counting_array(np.arange(10), 3)
    assert counter() == 0
    x.sum().compute(scheduler="sync")
    assert counter() == 4


# --- deterministic names -----------------------------------------------------------------------------


def _names(result):
    return tuple(p.name for p in _parts(result))


def test_same_input_same_name():
    f = _data()
    x = da.from_array(f, chunks=CHUNKS_4x3x2)
    y = da.from_array(f.copy(), chunks=CHUNKS_4x3x2)  # equal content, same dask name
    coord = np.cumsum(np.linspace(1, 2, 8))
    for args, kwargs in [
        ((), {}),
        ((2.0,), {"axis": 0}),
        ((coord, 1.0, 3.0), {"edge_order": 2}),
        ((coord,), {"axis": 0}),
        ((da.from_array(coord, chunks=3),), {"axis": 0}),
    ]:
        first = _names(xgrad.gradient(x, *args, **kwargs))
        assert first == _names(xgrad.gradient(x, *args, **kwargs))
        assert first == _names(xgrad.gradient(y, *args, **kwargs))
        copied = tuple(a.copy() if isinstance(a, (np.ndarray, da.Array)) else a for a in args)
        assert first == _names(xgrad.gradient(x, *copied, **kwargs))
        assert len(set(first)) == len(first), "different axes share a name"


def test_different_arguments_different_names():
    f = _data()
    x = da.from_array(f, chunks=CHUNKS_4x3x2)
    coord = np.cumsum(np.linspace(1, 2, 8))
    base = xgrad.gradient(x, axis=0).name
    others = {
        "edge_order": xgrad.gradient(x, axis=0, edge_order=2).name,
        "scalar spacing": xgrad.gradient(x, 2.0, axis=0).name,
        "other scalar spacing": xgrad.gradient(x, 3.0, axis=0).name,
        "coordinate": xgrad.gradient(x, coord, axis=0).name,
        "other coordinate": xgrad.gradient(x, coord**2, axis=0).name,
        "axis": xgrad.gradient(x, axis=1).name,
        "data": xgrad.gradient(x + 1, axis=0).name,
        "chunks": xgrad.gradient(x.rechunk((4, 2, 2)), axis=0).name,
    }
    names = [base, *others.values()]
    assert len(set(names)) == len(names), others


def test_spacing_type_that_changes_bits_changes_name():
    # float32 data: 0.1 (python float, weak) computes in float32; np.float64(0.1) computes in float64.
    f = _data(shape=(50,), dtype=np.float32, seed=1)
    weak, strong = np.gradient(f, 0.1), np.gradient(f, np.float64(0.1))
    assert not np.array_equal(weak.view(np.uint32), strong.view(np.uint32))  # precondition
    x = da.from_array(f, chunks=7)
    a, b = xgrad.gradient(x, 0.1), xgrad.gradient(x, np.float64(0.1))
    assert a.name != b.name, "different results under one name would be conflated by dask"


# --- errors while building -------------------------------------------------------------------------


def _x2d():
    return da.from_array(_data(shape=(6, 5)), chunks=(2, 3))


_COUNT = r"invalid number of arguments"
_TOO_SHORT = (
    r"Shape of array too small to calculate a numerical gradient, at least \(edge_order \+ 1\) "
    r"elements are required"
)
BUILD_ERRORS = {
    # name: (exception, numpy's message, xgrad's message (None: numpy's), build(gradient, x))
    "too-many-varargs": (
        TypeError,
        _COUNT,
        rf"{_COUNT}: got 3 spacing arguments for 2 axes; pass none, one scalar, or one",
        lambda g, x: g(x, 1.0, 1.0, 1.0),
    ),
    "varargs-vs-axis": (
        TypeError,
        _COUNT,
        rf"{_COUNT}: got 2 spacing arguments for 1 axes",
        lambda g, x: g(x, 1.0, 1.0, axis=1),
    ),
    "one-coordinate-two-axes": (
        TypeError,
        _COUNT,
        rf"{_COUNT}: got 1 spacing arguments for 2 axes",
        lambda g, x: g(x, np.arange(6.0)),
    ),
    "coordinate-wrong-length": (
        ValueError,
        r"when 1d, distances must match the length of the corresponding dimension",
        r"when 1d, distances must match the length of the corresponding dimension \(spacing "
        r"argument 0 has length 5, axis 0 has length 6\)",
        lambda g, x: g(x, np.arange(5.0), 1.0),
    ),
    "coordinate-2d": (
        ValueError,
        r"distances must be either scalars or 1d",
        r"distances must be either scalars or 1d \(spacing argument 0 has 2 dimensions\)",
        lambda g, x: g(x, np.ones((6, 2)), 1.0),
    ),
    "edge-order-3": (
        ValueError,
        r"'edge_order' greater than 2 not supported",
        r"edge_order=3 is not valid; choose one of \(1, 2\), e\.g\. `edge_order=2`",
        lambda g, x: g(x, edge_order=3),
    ),
    "axis-out-of-range": (
        AxisError,
        r"axis 2 is out of bounds for array of dimension 2",
        None,
        lambda g, x: g(x, axis=2),
    ),
    "repeated-axis": (ValueError, r"repeated axis", None, lambda g, x: g(x, axis=(0, 0))),
    "too-short-axis": (
        ValueError,
        _TOO_SHORT,
        rf"{_TOO_SHORT}: axis 0 has 1 element\(s\) and edge_order=1 needs 2",
        lambda g, x: g(x[:1], axis=0),
    ),
    "too-short-axis-edge-order-2": (
        ValueError,
        _TOO_SHORT,
        rf"{_TOO_SHORT}: axis 0 has 2 element\(s\) and edge_order=2 needs 3",
        lambda g, x: g(x[:2], edge_order=2),
    ),
    "bool-data": (
        TypeError,
        r"numpy boolean subtract, the `-` operator, is not supported",
        r"numpy boolean subtract, the `-` operator, is not supported: cannot difference boolean "
        r"data along axis 0; convert it first, e\.g\. `f\.astype\(float\)`",
        lambda g, x: g(x > 0),
    ),
}


@pytest.mark.parametrize("case", sorted(BUILD_ERRORS))
def test_bad_arguments_raise_while_building(case, raise_on_compute):
    exc_type, numpy_says, xgrad_says, build = BUILD_ERRORS[case]
    x = _x2d()
    # numpy raises the same type for the same call on the computed array; xgrad's message starts
    # with numpy's where it has more to say
    with pytest.raises(exc_type, match=numpy_says), np.errstate(all="ignore"):
        build(np.gradient, x.compute())
    with (
        dask.config.set(scheduler=raise_on_compute),
        pytest.raises(exc_type, match=xgrad_says or numpy_says),
    ):
        build(xgrad.gradient, x)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_bad_dask_coordinate_raises_without_computing_data(edge_order, counting_array):
    f = _data(shape=(6, 5))
    x, data_blocks_computed = counting_array(f, (2, 3))
    with pytest.raises(ValueError, match=r"spacing argument 0 has length 5, axis 0 has length 6"):
        xgrad.gradient(x, da.arange(5.0, chunks=2), 1.0, edge_order=edge_order)
    with pytest.raises(ValueError, match=r"scalars or 1d \(spacing argument 0 has 2 dimensions\)"):
        xgrad.gradient(x, da.ones((6, 2), chunks=2), 1.0, edge_order=edge_order)
    with pytest.raises(TypeError, match=r"got 1 spacing arguments for 2 axes"):
        xgrad.gradient(x, da.arange(6.0, chunks=2), edge_order=edge_order)
    assert data_blocks_computed() == 0


def _unknown_gradient(y, axis):
    return _parts(xgrad.gradient(y, axis=axis))


def _unknown_engine(y, axis):
    from xgrad.engine import differentiate

    axes = tuple(range(y.ndim)) if axis is None else (axis,)
    return tuple(differentiate(y, axes, [1.0] * len(axes)))


def _unknown_accessor(y, axis):
    import xarray as xr

    obj = xr.DataArray(y, dims=("y", "x")[-y.ndim :])
    dims = obj.dims if axis is None else (obj.dims[axis],)
    return tuple(d.data for d in _parts(obj.grad.along(*dims)))


_UNKNOWN_ARRAY = (
    r"the dask array has unknown chunk sizes along axis 0 \(its chunks are \(nan, .*\)\), so "
    r"halos cannot be planned; compute them first with `x = x\.compute_chunk_sizes\(\)` or "
    r"rechunk to known sizes"
)
_UNKNOWN_DIM = (
    r"dimension '{dim}' has unknown size \(the dask array's chunk sizes along it are unknown\); "
    r"compute them first: `da = da\.copy\(data=da\.data\.compute_chunk_sizes\(\)\)`"
)
UNKNOWN_CHUNKS_ENTRY_POINTS = {
    # name: (differentiate(y, axis) -> tuple of dask arrays, message pattern for dim {dim})
    "xgrad.gradient": (_unknown_gradient, _UNKNOWN_ARRAY),
    "engine.differentiate": (_unknown_engine, _UNKNOWN_ARRAY),
    "DataArray.grad.along": (_unknown_accessor, _UNKNOWN_DIM),
}


@pytest.mark.parametrize("entry", list(UNKNOWN_CHUNKS_ENTRY_POINTS))
@pytest.mark.parametrize(
    ("make", "axis"),
    [
        (lambda x: x[x > 0], None),
        (lambda x: x[x > 0], 0),
        (lambda x: x.reshape(6, 5)[x.reshape(6, 5)[:, 0] > 0], 0),
        (lambda x: x.reshape(6, 5)[x.reshape(6, 5)[:, 0] > 0], None),
    ],
    ids=["1d", "1d-axis0", "2d-axis0", "2d-all"],
)
def test_unknown_chunks_raise_valueerror(make, axis, entry, raise_on_compute, assert_bitwise_equal):
    """Every entry point refuses unknown chunk sizes while building, and its fix works.

    The one test of unknown chunk sizes (after a boolean mask): it replaces four copies, in
    test_errors.py (accessor, gradient), test_accessor.py (accessor message and fix) and here.
    """
    differentiate, message = UNKNOWN_CHUNKS_ENTRY_POINTS[entry]
    # the masks drop leading points only, which leaves one empty chunk at the start; empty chunks
    # elsewhere are another matter (test_empty_chunks_inside)
    x = da.from_array((np.arange(30.0) - 4) ** 3, chunks=4)
    with dask.config.set(scheduler=raise_on_compute):
        y = make(x)
        assert any(np.isnan(c) for c in y.chunks[0])  # precondition: unknown chunk sizes
        dim = ("y", "x")[-y.ndim :][0]
        with pytest.raises(ValueError, match=message.format(dim=dim)):
            differentiate(y, axis)
    # the fix the message gives (compute the chunk sizes) works
    fixed = y.compute_chunk_sizes()
    expected = _parts(np.gradient(fixed.compute(), axis=axis))
    assert_bitwise_equal(dask.compute(*differentiate(fixed, axis)), expected)


@pytest.mark.parametrize("chunks", [(3, 0, 3), (0, 0, 4, 4), (3, 3, 1, 0, 2, 2, 2, 1)], ids=str)
def test_empty_chunks_inside(chunks, assert_bitwise_equal):
    """Chunks of size 0 (what a boolean mask leaves, once its sizes are computed) are skipped."""
    f = _data(shape=(sum(chunks),))
    got = xgrad.gradient(da.from_array(f, chunks=(chunks,)))
    assert_bitwise_equal(got.compute(scheduler="sync"), np.gradient(f))


# --- graph size ------------------------------------------------------------------------------------


def _task_count(collections) -> int:
    keys = set()
    for c in collections:
        keys.update(dict(c.__dask_graph__()).keys())
    return len(keys)


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("spacing", ["none", "coords"])
@pytest.mark.parametrize(("n_axes", "axis"), [(1, 1), (2, (0, 2)), (3, None)])
def test_graph_size_pinned(n_axes, axis, spacing, edge_order):
    f = _data()
    x = da.from_array(f, chunks=CHUNKS_4x3x2)
    nblocks = x.npartitions
    assert x.numblocks == (4, 3, 2) and nblocks == 24
    axes = tuple(range(3)) if axis is None else tuple(np.atleast_1d(axis))
    varargs = () if spacing == "none" else tuple(np.cumsum(np.arange(1.0, n + 1)) for n in f.shape)
    varargs = tuple(varargs[a] for a in axes) if varargs else ()
    result = xgrad.gradient(x, *varargs, axis=axis, edge_order=edge_order)
    extra = _task_count(_parts(result)) - _task_count([x])
    bound = GRAPH_TASKS_PER_BLOCK[n_axes] * nblocks
    assert extra <= bound, f"{extra} tasks for {nblocks} blocks and {n_axes} axes (bound {bound})"


# --- the graph runs on every scheduler ---------------------------------------------------------------


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_graph_runs_on_threads_and_processes(scheduler, assert_bitwise_equal):
    # "processes" pickles every task (as dask.distributed does): kernels and plans must pickle.
    f = _data()
    coord = np.cumsum(np.linspace(1.0, 2.0, f.shape[0]))
    x = da.from_array(f, chunks=(3, 2, 1))
    for args, kwargs in [((), {}), ((coord, 0.5), {"axis": (0, 2), "edge_order": 2})]:
        result = xgrad.gradient(x, *args, **kwargs)
        parts = _parts(result)
        computed = dask.compute(*parts, scheduler=scheduler)
        computed = computed if isinstance(result, tuple) else computed[0]
        assert_bitwise_equal(computed, np.gradient(f, *args, **kwargs))
