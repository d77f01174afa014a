"""Layers 1-2: plans and kernels, compared bit for bit with numpy.gradient."""

from __future__ import annotations

import functools

import dask.array as da
import numpy as np
import pytest

import xgrad
from xgrad.blocks import block_gradients
from xgrad.kernels import axis_gradient, compiled
from xgrad.stencils import plan_axis, points_needed, spacing_from_varargs

RNG = np.random.default_rng(20261121)


def _index(nd, axis, sl):
    return tuple(sl if k == axis else slice(None) for k in range(nd))


def _spacing(kind, n):
    if kind == "none":
        return ()
    if kind == "py":
        return (0.3,)
    if kind == "f32":
        return (np.float32(0.3),)
    if kind == "int":
        return (2,)
    if kind == "uniform-coord":
        return (np.arange(n) * 0.25 + 3,)
    if kind == "descending":
        return (-np.cumsum(RNG.random(n) + 0.1),)
    return (np.cumsum(RNG.random(n) + 0.1).astype(kind),)


DTYPES = [np.float64, np.float32, np.float16, np.int16, np.uint8, np.complex128, np.complex64]
SPACINGS = ["none", "py", "f32", "int", "uniform-coord", "descending", "float64", "float32"]
CASES = [((9,), 0), ((6, 7), 0), ((6, 7), 1), ((4, 5, 6), 1), ((4, 5, 6), 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spacing", SPACINGS)
@pytest.mark.parametrize("shape,axis", CASES)
@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("mode", [True, False], ids=["compiled", "numpy"])
def test_blocks_match_numpy(dtype, spacing, shape, axis, edge_order, mode, assert_bitwise_equal):
    """Every split of the axis into blocks of 1, 2, 3 rows (with halos) gives numpy's bits."""
    f = (RNG.standard_normal(shape) * 50).astype(dtype)
    if f.dtype.kind == "c":
        f.imag = RNG.standard_normal(shape) * 50
    n = shape[axis]
    varargs = _spacing(spacing, n)
    expected = np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    (dx,) = spacing_from_varargs(varargs, shape, (axis,))
    plan = plan_axis(n, dx, edge_order)
    with compiled(mode):
        for size in (n, 1, 2, 3):
            out = np.empty_like(expected)
            for s in range(0, n, size):
                m = min(size, n - s)
                nlo, nhi = plan.rows_needed(s, m)
                lo = f[_index(f.ndim, axis, slice(s - nlo, s))] if nlo else None
                hi = f[_index(f.ndim, axis, slice(s + m, s + m + nhi))] if nhi else None
                block = np.empty_like(expected[_index(f.ndim, axis, slice(s, s + m))])
                axis_gradient(
                    f[_index(f.ndim, axis, slice(s, s + m))], axis, plan, s, lo, hi, block
                )
                out[_index(f.ndim, axis, slice(s, s + m))] = block
            assert_bitwise_equal(out, expected)


@pytest.mark.parametrize("order", ["C", "F", "strided"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.complex64])
def test_compiled_matches_reference(order, dtype, assert_bitwise_equal):
    """The compiled bulk kernels and the NumPy reference give identical bits, any layout."""
    base = RNG.standard_normal((9, 10, 11)).astype(dtype)
    if base.dtype.kind == "c":
        base.imag = RNG.standard_normal(base.shape)
    f = {"C": base, "F": np.asfortranarray(base), "strided": base[::2, :, ::-1]}[order]
    coords = [np.cumsum(RNG.random(s) + 0.5) for s in f.shape]
    for varargs in [(), (0.7,), tuple(coords)]:
        for edge_order in (1, 2):
            dx = spacing_from_varargs(varargs, f.shape, (0, 1, 2))
            plans = [plan_axis(f.shape[k], d, edge_order) for k, d in enumerate(dx)]
            results = []
            for mode in (True, False):
                outs = [np.empty_like(f) for _ in range(3)]
                with compiled(mode):
                    block_gradients(f, (0, 1, 2), plans, (0, 0, 0), [(None, None)] * 3, outs)
                results.append(outs)
            expected = np.gradient(f, *varargs, edge_order=edge_order)
            for a, b, e in zip(*results, expected):
                assert_bitwise_equal(a, e)
                assert_bitwise_equal(b, e)


def _layouts(dtype):
    """Blocks as dask, xarray and users hand them to the kernels: name -> array."""
    big = RNG.standard_normal((11, 13, 17)).astype(dtype)
    if big.dtype.kind == "c":
        big.imag = RNG.standard_normal(big.shape)
    big4 = RNG.standard_normal((8, 9, 10, 11)).astype(dtype)
    line = RNG.standard_normal(200).astype(dtype)
    # rows long enough that the strided middle kernels go in strips of 3 rows (19 = 6 * 3 + 1)
    wide = RNG.standard_normal((8, 21, 1100)).astype(dtype)
    return {
        "C": big[:9, :10, :11].copy(),
        # axis 0 folds into long rows (7000): the middle kernels' rows and edge rows
        "C-long-rows": wide[:7, :7, :1000].copy(),
        "F": np.asfortranarray(big[:9, :10, :11]),
        # short rows along axis 0 in pieces of 2048 // 20 = 102 rows (8 * 62 = 4 * 102 + 88)
        "F-many-rows": np.asfortranarray(wide[:, :20, :62].transpose(1, 0, 2)),
        "strided": big[::2, :, ::-1],
        "from_array-view": big[2:10, 3:12, 4:15],  # a block of a bigger array
        "fortran-view": np.asfortranarray(big)[2:10, 3:12, 4:15],
        "transposed": big.transpose(2, 0, 1),
        "transposed-view": big[1:9, 2:11, 3:16].transpose(1, 2, 0),
        "negative": big[::-1, ::-1, ::-1],
        "inner-step": big[:, 1:, ::3],
        "broadcast": np.broadcast_to(big[:, :1, :], big.shape),
        "4-D view": big4[1:8, 1:8, 2:9, 1:10],
        "4-D transposed": big4[1:8, 1:8, 2:9, 1:10].transpose(3, 1, 0, 2),
        "2-D view": big[3, 1:12, 2:15],
        "long-rows view": wide[1:7, 1:20, 2:1090],
        "2-D transposed": big[3].T,
        "1-D strided": line[::3],
        "1-D negative": line[::-2],
    }


@pytest.mark.parametrize("accuracy", [2, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("layout", list(_layouts(np.float64)))
def test_layouts_match_numpy(layout, dtype, accuracy, assert_bitwise_equal, monkeypatch):
    """Every layout (views of bigger arrays, transposes, negative steps, broadcasts, 4-D,
    Fortran order) gives numpy.gradient's bits on both paths: alone per axis (the strided
    kernels and their edge rows) and all axes at once (the tiled driver), into outputs laid
    out as empty_output makes them.  Accuracy 4 has no numpy oracle: the NumPy path on a
    contiguous copy is the reference there."""
    from xgrad import _compiled_strided
    from xgrad.blocks import empty_output

    ran = []  # the dtypes the strided kernels ran on, in this test (layouts.py looks them up)
    for name in ("uniform", "weighted"):
        for where in ("middle", "last"):
            kernel = getattr(_compiled_strided, f"{name}_strided_{where}")
            spy = functools.partial(_spied, kernel, ran)
            monkeypatch.setattr(_compiled_strided, f"{name}_strided_{where}", spy)
    f = _layouts(dtype)[layout]
    axes = tuple(range(f.ndim))
    coords = tuple(np.cumsum(RNG.random(s) + 0.5) for s in f.shape)
    got, want = [], []
    for varargs in [(), (0.7,) * f.ndim, coords, tuple(c.astype(np.float32) for c in coords)]:
        for edge_order in (1, 2):
            dx = spacing_from_varargs(varargs, f.shape, axes)
            plans = [plan_axis(n, d, edge_order, accuracy=accuracy) for n, d in zip(f.shape, dx)]
            no_halos = [(None, None)] * f.ndim
            if accuracy == 2:
                expected = np.gradient(f, *varargs, edge_order=edge_order)
                expected = list(expected) if f.ndim > 1 else [expected]
            else:
                expected = [np.empty_like(f) for _ in axes]
                with compiled(False):
                    block_gradients(f.copy(), axes, plans, (0,) * f.ndim, no_halos, expected)
            for mode in (True, False):
                with compiled(mode):
                    outs = [empty_output(f, e.dtype) for e in expected]
                    block_gradients(f, axes, plans, (0,) * f.ndim, no_halos, outs)
                    got += outs
                    want += expected
                    for k in axes:
                        out = empty_output(f, expected[k].dtype)
                        axis_gradient(f, k, plans[k], 0, None, None, out)
                        got.append(out)
                        want.append(expected[k])
    assert [(a.dtype, a.shape) for a in got] == [(e.dtype, e.shape) for e in want]
    # one flat comparison: the failure message's repr of every small array costs seconds
    assert_bitwise_equal(*(np.concatenate([a.ravel() for a in x]) for x in (got, want)))
    # the strided kernels ran (not NumPy) on this dtype, except on the layouts whose dims
    # permute into a C-contiguous (P, m, Q) view (layouts._as_3d_pair: the contiguous
    # kernels take those)
    if layout not in ("C", "C-long-rows", "F", "F-many-rows", "transposed", "2-D transposed"):
        assert np.dtype(dtype) in ran


def _spied(kernel, ran, f, *args):
    """``kernel(f, *args)``, noting ``f``'s dtype in ``ran``."""
    ran.append(f.dtype)
    return kernel(f, *args)


@pytest.mark.parametrize("accuracy,order", [(4, 1), (6, 1), (2, 2), (4, 2), (6, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
@pytest.mark.parametrize("shape,axis", [((300, 9), 1), ((2, 400, 3), 1), ((9, 300), 0)])
def test_weighted_short_rows_match_reference(
    shape, axis, dtype, accuracy, order, assert_bitwise_equal
):
    """Many short rows through the weighted kernels (accuracy 4/6, second derivatives: 3 to
    7 points, the first three summed in registers), along a contiguous last axis and a middle
    axis (300 rows of 9, 400 of 3): the bits of the NumPy path, uniform and non-uniform, each
    edge order (a kernel that runs several rows at a time must keep them)."""
    f = (RNG.standard_normal(shape) * 50).astype(dtype)
    if f.dtype.kind == "c":
        f.imag = RNG.standard_normal(shape)
    n = shape[axis]
    for dx in (0.3, np.diff(np.cumsum(RNG.random(n) + 0.1))):
        for edge_order in (1, 2):
            plan = plan_axis(n, dx, edge_order, accuracy=accuracy, order=order)
            got, want = np.empty_like(f), np.empty_like(f)
            for mode, out in ((True, got), (False, want)):
                with compiled(mode):
                    axis_gradient(f, axis, plan, 0, None, None, out)
            assert_bitwise_equal(got, want)


def test_tiling_matches_numpy(monkeypatch, assert_bitwise_equal):
    """Tiles of one row (the tiling path and its halo stitching) keep numpy's bits."""
    from xgrad import blocks

    monkeypatch.setattr(blocks, "TILE_BYTES", 1)
    f = RNG.standard_normal((7, 5, 4))
    x0 = np.cumsum(RNG.random(7) + 0.1)
    for edge_order in (1, 2):
        expected = np.gradient(f, x0, 1.0, 2.0, edge_order=edge_order)
        dx = spacing_from_varargs((x0, 1.0, 2.0), f.shape, (0, 1, 2))
        plans = [plan_axis(f.shape[k], d, edge_order) for k, d in enumerate(dx)]
        for threads in (1, 3):
            outs = [np.empty_like(f) for _ in range(3)]
            with compiled(True):
                blocks.block_gradients(
                    f, (0, 1, 2), plans, (0, 0, 0), [(None, None)] * 3, outs, threads=threads
                )
            for a, e in zip(outs, expected):
                assert_bitwise_equal(a, e)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("accuracy", [2, 6])
def test_tiled_copy_of_a_view_matches_numpy(accuracy, order, monkeypatch, assert_bitwise_equal):
    """A strided view with several axes is copied tile by tile into a scratch tile in its
    own memory order (blocks._copy_wanted, blocks._scratch_like), the derivative along the
    tiling axis read from the view: tiles of one row, on 1 and 3 threads, every edge order,
    keep the bits of numpy (accuracy 2) or of the same block contiguous (accuracy 6)."""
    from xgrad import blocks

    monkeypatch.setattr(blocks, "TILE_BYTES", 1)
    big = np.asarray(RNG.standard_normal((30, 13, 24)), order=order)
    f = big[2:27, 1:12, ::-2]  # (25, 11, 12): not dense in any order
    assert blocks._copy_wanted(f, (0, 1, 2), None)
    x0 = np.cumsum(RNG.random(f.shape[0]) + 0.1)
    for edge_order in (1, 2):
        dx = spacing_from_varargs((x0, 1.0, 2.0), f.shape, (0, 1, 2))
        plans = [plan_axis(n, d, edge_order, accuracy=accuracy) for n, d in zip(f.shape, dx)]
        if accuracy == 2:
            expected = np.gradient(f, x0, 1.0, 2.0, edge_order=edge_order)
        else:
            expected = [np.empty_like(f) for _ in range(3)]
            no_copy = np.ascontiguousarray(f)
            blocks.block_gradients(
                no_copy, (0, 1, 2), plans, (0,) * 3, [(None, None)] * 3, expected
            )
        for threads in (1, 3):
            outs = [blocks.empty_output(f, f.dtype) for _ in range(3)]
            with compiled(True):
                blocks.block_gradients(
                    f, (0, 1, 2), plans, (0, 0, 0), [(None, None)] * 3, outs, threads=threads
                )
            for a, e in zip(outs, expected):
                assert_bitwise_equal(a, e)


@pytest.mark.parametrize("n,edge_order", [(2, 1), (3, 2), (10, 1), (10, 2)])
def test_rows_needed_covers_footprint(n, edge_order):
    """Halo widths cover every stencil point of every block, and no more than needed."""
    plan = plan_axis(n, 1.0, edge_order)
    for start in range(n):
        for size in range(1, n - start + 1):
            lo, hi = plan.rows_needed(start, size)
            reads = set()
            for g in range(start, start + size):
                if g == 0:
                    reads |= set(range(0, edge_order + 1))
                elif g == n - 1:
                    reads |= set(range(n - 1 - edge_order, n))
                else:
                    reads |= {g - 1, g, g + 1}
            assert min(reads) == start - lo
            assert max(reads) == start + size - 1 + hi


def test_plan_is_numpy_uniform_decision():
    """Uniform-or-not is decided on the whole coordinate, exactly as numpy does."""
    x = np.array([0.0, 1.0, 2.0, 3.5, 4.5, 5.5])  # uniform inside blocks of 3, not globally
    (dx,) = spacing_from_varargs((x,), (6,), (0,))
    assert not plan_axis(6, dx, 1).uniform
    (dx,) = spacing_from_varargs((np.arange(6) * 0.5,), (6,), (0,))
    plan = plan_axis(6, dx, 1)
    assert plan.uniform and isinstance(plan.two_dx, np.float64)


def _special(shape, dtype):
    """Random data with zeros of both signs, infinities, NaN, subnormals and huge values."""
    real = np.finfo(dtype).dtype
    values = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-310, -1e-310, 1e-40, 1e300, 3e38])
    with np.errstate(over="ignore"):
        values = values.astype(real)

    def part():
        x = RNG.standard_normal(shape).astype(real)
        hit = RNG.random(shape) < 0.3
        x[hit] = RNG.choice(values, hit.sum())
        return x

    f = part().astype(dtype)
    if f.dtype.kind == "c":
        f.imag = part()
    return f


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.complex64])
@pytest.mark.parametrize("mode", [True, False], ids=["compiled", "numpy"])
def test_special_values_match_numpy(dtype, mode, assert_bitwise_equal):
    """inf, NaN, signed zeros, subnormals, zero and huge spacings: numpy's bits on every path
    (bulk, face rows of one-row tiles, edge rows), real and complex."""
    f = _special((12, 9, 40), dtype)
    repeated = np.array([0.0, 1.0, 1.0, 2.0, 1e-310, 3.0, 4.0, 4.5, 9.0, 9.5, 10.0, 12.0])
    spacings = [
        (),
        (1e-310, 2.0, np.float64(0.0)),
        (np.float32(0.3), -0.5, np.float64(1e300)),
        (repeated, np.cumsum(RNG.random(9)) * 1e300, np.linspace(0.0, 1.0, 40)),
    ]
    for varargs in spacings:
        for edge_order in (1, 2):
            with np.errstate(all="ignore"):
                expected = np.gradient(f, *varargs, edge_order=edge_order)
                with compiled(mode):
                    got = xgrad.gradient(f, *varargs, edge_order=edge_order)
                    chunked = xgrad.gradient(
                        da.from_array(f, chunks=(5, 4, 7)), *varargs, edge_order=edge_order
                    )
                    chunked = tuple(c.compute(scheduler="sync") for c in chunked)
            assert_bitwise_equal(got, expected)
            assert_bitwise_equal(chunked, expected)
    if mode:  # the compiled kernels really ran on this dtype
        from xgrad import _compiled

        ran = [
            str(s)
            for k in (_compiled.uniform_middle_axis, _compiled.nonuniform_middle_axis)
            for s in k.signatures
        ]
        assert any(f"Array({np.dtype(dtype)}, 3" in s for s in ran), ran


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_complex_multiply_rounds_as_numpy(dtype, monkeypatch, assert_bitwise_equal):
    """``weight * complex`` rounds once or twice as numpy's loop does on this CPU: a product
    that underflows keeps numpy's zero sign, and the other choice would not."""
    from xgrad import _compiled

    real = np.finfo(dtype).dtype  # a coordinate of this type keeps the weights in it
    tiny = np.finfo(real).smallest_subnormal * 4
    f = np.empty((4, 64), dtype)
    f.real, f.imag = tiny, -0.36  # the weights below are tiny: products underflow to zero
    f[1::2].real, f[1::2].imag = -tiny, 0.5
    x = (np.array([0.0, 1.0, 2.5, 4.0]) * np.sqrt(np.finfo(real).max) / 1e4).astype(real)
    expected = np.gradient(f, x, axis=0, edge_order=2)
    assert np.signbit(expected.real).any() and not np.signbit(expected.real).all()
    with compiled(True):
        assert_bitwise_equal(xgrad.gradient(f, x, axis=0, edge_order=2), expected)
        monkeypatch.setattr(_compiled, "FUSED_CMUL", not _compiled.FUSED_CMUL)
        other = xgrad.gradient(f, x, axis=0, edge_order=2)
    assert not np.array_equal(other.view(np.uint8), expected.view(np.uint8))


def test_compiled_nan_sign_depends_on_position():
    """Evidence for comparing NaN without its sign (conftest._assert_bitwise_equal).

    ``(a*f0 + b*f1) + c*f2`` with ``a*f0 + b*f1 = inf - inf`` (x86's default NaN, negative)
    and ``c*f2`` a positive NaN: which NaN comes out depends on the operand order of the
    last addition, and LLVM commutes it differently in a compiled loop's vector body and
    its scalar tail, so one kernel gives both signs along one row.  numpy gives one sign.
    """
    from xgrad import _compiled

    n = 1000
    f = np.empty((3, n))
    f[0], f[1], f[2] = np.inf, np.inf, np.nan
    a, b, c = (np.array([v]) for v in (-1.0, 2.0, 3.0))
    out = np.empty_like(f)
    with np.errstate(invalid="ignore"):
        no_ends = np.zeros(2, np.int64), np.ones(2), np.zeros((2, 3))
        _compiled.nonuniform_middle_axis(f[None], out[None], a, b, c, 1, 2, *no_ends, False, None)
        expected = a * f[0] + b * f[1] + c * f[2]
    assert np.isnan(out[1]).all() and np.isnan(expected).all()
    assert len(set(np.signbit(expected))) == 1
    if len(set(np.signbit(out[1]))) == 1:
        pytest.skip("this CPU's code keeps one operand order along the row")
    assert len(set(np.signbit(out[1]))) == 2


@pytest.mark.parametrize("order", ["C", "F", "strided", "transposed", "reversed"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, "m8[s]"])
def test_empty_output_is_huge_page_aligned(order, dtype):
    """Large outputs start on a 2 MiB boundary and keep empty_like's shape, dtype and memory
    order (``order="K"``), whatever the input's layout."""
    from xgrad.blocks import empty_output

    base = np.zeros((40, 100, 300))  # 9 MiB
    f = {
        "C": base,
        "F": np.asfortranarray(base),
        "strided": np.zeros((40, 200, 300))[:, ::2],
        "transposed": base.transpose(2, 0, 1),
        "reversed": base[::-1, :, ::-1],
    }[order]
    out = empty_output(f, np.dtype(dtype))
    assert out.ctypes.data % (2 << 20) == 0
    assert out.shape == f.shape and out.dtype == np.dtype(dtype)
    assert out.flags.writeable and out.strides == np.empty_like(f, dtype=dtype).strides
    # small, subclass and object outputs are plain empty_like
    for g, dt in [(np.zeros(10), np.float64), (np.ma.zeros(f.shape), np.float64), (f, object)]:
        o = empty_output(g, np.dtype(dt))
        assert type(o) is type(g) and o.base is None and o.shape == g.shape


# One compiled kernel in a fresh process: `python -c KERNEL_RUN ROLE DTYPE SYNC`.  Roles A and
# B compile and save with sync points inside numba's IndexDataCacheFile.save, forcing the
# interleaving of numba issue 4807: both choose data file 1, A saves its index first, B writes
# its code first and A overwrites it.  Lower-case roles (a, b) run numba's own save, without
# xgrad's lock, and wait for each other as long as it takes; upper-case ones run xgrad's
# locked save, where the other process cannot be inside save at the same time, so each wait
# gives up after a few seconds.  ROLE "-" runs plainly.  Prints whether the result is right
# and how many overloads came from the cache.
KERNEL_RUN = r"""
import os, sys, time
import numpy as np
from numba.core import caching

role, dtype, sync = sys.argv[1:4]
cls = caching.IndexDataCacheFile
save_index, save_data = cls._save_index, cls._save_data
TARGET = "_compiled.uniform_last_axis"
LIMIT = 600 if role.islower() else 5
me, other = role.upper(), "B" if role.upper() == "A" else "A"


def mark(name):
    open(os.path.join(sync, name), "w").close()


def wait(name):
    t0 = time.time()
    while not os.path.exists(os.path.join(sync, name)):
        if time.time() - t0 > LIMIT:
            assert LIMIT < 600, name
            return
        time.sleep(0.01)


def forced_index(self, overloads):  # both processes have chosen data file 1; A saves first
    if self._index_name.startswith(TARGET) and overloads:
        mark(me + "-chose")
        wait(other + "-chose")
        if me == "B":
            wait("A-index")
        save_index(self, overloads)
        mark(me + "-index")
    else:
        save_index(self, overloads)


def forced_data(self, name, data):  # B writes its code first, A overwrites it
    if self._index_name.startswith(TARGET) and me == "A":
        wait("B-data")
    save_data(self, name, data)
    if self._index_name.startswith(TARGET):
        mark(me + "-data")


if role != "-":
    cls._save_index, cls._save_data = forced_index, forced_data

from xgrad import _compiled, _numba_cache

if role.islower():  # numba's own save, no lock
    _numba_cache._LockedIndex.save = cls.save

f = (np.arange(200) ** 1.5).reshape(4, 50).astype(dtype)
out = np.zeros_like(f)
edges = np.zeros(2, np.int64), np.ones(2, dtype), np.zeros((2, 3))
_compiled.uniform_last_axis(f, out, f.dtype.type(2.0), 1, 49, *edges, False, None)
right = np.array_equal(out[:, 1:49], (f[:, 2:] - f[:, :-2]) / f.dtype.type(2.0))
print("right" if right else "wrong", sum(_compiled.uniform_last_axis.stats.cache_hits.values()))
"""


def _kernel_process(role, dtype, cache_dir, sync, setting=None):
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    env.pop("XGRAD_NUMBA_CACHE", None)
    if setting is not None:
        env["XGRAD_NUMBA_CACHE"] = setting
    args = [sys.executable, "-c", KERNEL_RUN, role, dtype, str(sync)]
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(process):
    out, err = process.communicate(timeout=900)
    return process.returncode, out.strip(), err


def test_numba_cache_on_by_default_and_guarded():
    """numba's on-disk cache is on unless ``XGRAD_NUMBA_CACHE=0`` (docs/performance.md), and
    every kernel's cache (njit kernels and vectorized ufuncs) is xgrad's locked one, stamped
    with the whole package (the inlined per-row helpers, ``_numba_cache.inline``, have none:
    they compile into their callers)."""
    import os
    import subprocess
    import sys

    show = (
        "from xgrad import _compiled as c, _vector_kernels as v, _numba_cache as n\n"
        "kernels = [k for k in vars(c).values() if hasattr(k, '_cache')]\n"
        "caches = [k._cache for k in kernels if k.targetoptions.get('inline') != 'always']\n"
        "caches.append(v.hypot()._dispatcher.cache)\n"
        "files = [getattr(k, '_cache_file', None) for k in caches]\n"
        "print(sorted({type(f).__name__ for f in files}),"
        " all(f is None or f._source_stamp[1] == n.package_stamp() for f in files))"
    )
    for setting, expected in [
        (None, "['_LockedIndex'] True"),
        ("1", "['_LockedIndex'] True"),
        ("0", "['NoneType'] True"),
        ("false", "['NoneType'] True"),
    ]:
        env = dict(os.environ)
        env.pop("XGRAD_NUMBA_CACHE", None)
        if setting is not None:
            env["XGRAD_NUMBA_CACHE"] = setting
        shown = subprocess.run(
            [sys.executable, "-c", show], env=env, capture_output=True, text=True
        )
        assert shown.stdout.strip() == expected, shown.stderr


def test_package_stamp_follows_every_module(tmp_path):
    """A change to any module (its size or time) changes the stamp of every kernel's cache."""
    import os

    from xgrad._numba_cache import package_stamp

    (tmp_path / "sub").mkdir()
    for name in ("a.py", "sub/b.py"):
        (tmp_path / name).write_text("x = 1\n")
    before = package_stamp(tmp_path)
    assert [n for n, *_ in before] == ["a.py", "sub/b.py"]
    (tmp_path / "sub/b.py").write_text("x = 22\n")
    assert package_stamp(tmp_path) != before
    after = package_stamp(tmp_path)
    os.utime(tmp_path / "a.py", ns=(1, 1))
    assert package_stamp(tmp_path) != after


@pytest.mark.slow
def test_numba_cache_is_used_by_default(tmp_path):
    """A fresh process loads the kernel the previous one wrote."""
    on = tmp_path / "on"
    assert _finish(_kernel_process("-", "float64", on, tmp_path))[:2] == (0, "right 0")
    assert any(on.rglob("*.nbi")) and any(on.rglob("*.nbc"))
    assert _finish(_kernel_process("-", "float64", on, tmp_path))[:2] == (0, "right 1")


@pytest.mark.slow
def test_numba_cache_race_without_the_lock(tmp_path):
    """Why the lock (numba issue 4807): with numba's own save, two cold processes that
    compile float64 and float32 of one kernel at the same time (interleaved here by sync
    points in its steps) leave an index mapping float32 to float64 machine code; from then
    on every process that loads the float32 kernel fails, until the cache is deleted.  If
    this test starts failing, numba has fixed the race."""
    cache, sync = tmp_path / "cache", tmp_path / "sync"
    sync.mkdir()
    racers = [_kernel_process(r, d, cache, sync) for r, d in [("a", "float64"), ("b", "float32")]]
    assert [_finish(p)[:2] for p in racers] == [(0, "right 0"), (0, "right 0")]
    code, out, err = _finish(_kernel_process("-", "float32", cache, sync))
    assert code != 0 and "can't unbox array" in err, (code, out, err[-2000:])


@pytest.mark.slow
def test_numba_cache_writers_take_turns(tmp_path):
    """The same forced interleaving with xgrad's locked save: the second writer waits for the
    first, reads its index and takes the next data file, so both signatures load right."""
    cache, sync = tmp_path / "cache", tmp_path / "sync"
    sync.mkdir()
    racers = [_kernel_process(r, d, cache, sync) for r, d in [("A", "float64"), ("B", "float32")]]
    assert [_finish(p)[:2] for p in racers] == [(0, "right 0"), (0, "right 0")]
    for dtype in ("float32", "float64"):
        assert _finish(_kernel_process("-", dtype, cache, sync))[:2] == (0, "right 1")


def test_combine_writes_into_results(assert_bitwise_equal):
    """A ``combine`` that takes ``out=`` writes the results directly (blocks._combine_into),
    with the bits of the same combination returned and copied, and of numpy."""
    from xgrad.combinations import magnitude_of
    from xgrad.engine import differentiate

    f = RNG.standard_normal((6, 40, 50)).astype(np.float32)[:, ::-1]
    wrote = []

    def into(derivatives, operands, out=None):
        value = magnitude_of(derivatives, operands, out=out)
        if out is not None:  # None: the engine's dtype probe
            wrote.append(value is out[0])
        return value

    def returned(derivatives, operands):
        return magnitude_of(derivatives, operands)

    with compiled(True):  # a block this small stays on the NumPy path otherwise
        (got,) = differentiate(f, (1, 2), [1.0, 0.5], combine=into)
    (copied,) = differentiate(f, (1, 2), [1.0, 0.5], combine=returned)
    assert wrote and all(wrote)
    assert_bitwise_equal(got, copied)
    assert_bitwise_equal(got, np.hypot(*np.gradient(f, 1.0, 0.5, axis=(1, 2))))


def test_takes_out_sees_through_partials():
    """Whether a combine writes ``into`` its results is read from its signature, kept per
    function: through ``functools.partial`` layers; callables without ``out`` and unhashable
    ones answer too."""
    import functools

    from xgrad.blocks import _takes_out

    def writes(derivatives, operands, *, scale=1, out=None):
        return out

    def returns(derivatives, operands, *, scale=1):
        return derivatives

    class Unhashable:
        __hash__ = None

        def __call__(self, derivatives, operands, out=None):
            return out

    for _ in range(2):  # the second time from the cache
        assert _takes_out(writes)
        assert _takes_out(functools.partial(functools.partial(writes, scale=2)))
        assert not _takes_out(returns)
        assert not _takes_out(functools.partial(returns, scale=2))
        assert not _takes_out(lambda derivatives, operands: derivatives)
        assert _takes_out(Unhashable())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_premultiply_same_bits_as_the_product(dtype, monkeypatch, assert_bitwise_equal):
    """``premultiply=c`` differentiates ``f * c`` with the bits of the product made first:
    tile by tile on threads (one-row tiles), along the tiling axis (the product made whole),
    with periodic halos, a combination writing ``into`` an operand, dask blocks; ``f`` is
    left as it was."""
    import functools

    from xgrad import blocks, inmemory
    from xgrad.combinations import weighted_sum
    from xgrad.engine import differentiate

    monkeypatch.setattr(blocks, "TILE_BYTES", 1)
    monkeypatch.setattr(inmemory, "_MIN_THREADED_BYTES", 0)
    f = (RNG.standard_normal((6, 40, 50)) * 10).astype(dtype)[:, ::-1]
    before = f.copy()
    x = np.cumsum(RNG.random(40) + 0.5)
    for c in [RNG.random((40, 1)), RNG.random((1, 50)), RNG.random((6, 1, 1)), RNG.random(50)]:
        c = c.astype(dtype)
        for axes, periodic in [((1,), None), ((2,), (True,)), ((0,), None), ((1, 2), None)]:
            spacing = [np.diff(x) if k == 1 else 0.5 for k in axes]
            for accuracy in (2, 4):
                kw = {"periodic": periodic, "accuracy": accuracy}
                with compiled(True):
                    got = differentiate(f, axes, spacing, premultiply=c, **kw)
                want = differentiate(f * c, axes, spacing, **kw)
                for g, w in zip(got, want, strict=True):
                    assert_bitwise_equal(g, w, err_msg=f"{c.shape} {axes} {accuracy}")
        lazy = da.from_array(f, chunks=(2, 13, 50))
        (got,) = differentiate(lazy, (1,), [np.diff(x)], premultiply=c)
        assert_bitwise_equal(got.compute(), differentiate(f * c, (1,), [np.diff(x)])[0])
        # the flux form's second term: total + d(f c)/dy * sec, written into the total
        total, sec = RNG.standard_normal(f.shape).astype(dtype), RNG.random((40, 1)).astype(dtype)
        combine = functools.partial(weighted_sum, sign=1, weighted=True)
        (want,) = differentiate(f * c, (1,), [0.5], combine=combine, operands=[total, sec])
        into = total.copy()
        with compiled(True):
            (got,) = differentiate(
                f, (1,), [0.5], combine=combine, operands=[into, sec], premultiply=c, into=[into]
            )
        assert got is into
        assert_bitwise_equal(got, want)
    assert_bitwise_equal(f, before)


def test_into_takes_arrays_of_the_results_shape_and_dtype():
    from xgrad.combinations import magnitude_of
    from xgrad.engine import differentiate

    f = RNG.standard_normal((5, 7))
    for wrong in ([np.empty((5, 6))], [np.empty((5, 7), np.float32)], [np.empty((5, 7))] * 2):
        with pytest.raises(ValueError, match="into= takes numpy arrays of shape"):
            differentiate(f, (0, 1), [1.0, 1.0], combine=magnitude_of, into=wrong)


def test_fields_and_direct_results(assert_bitwise_equal):
    """``fields=`` differentiates other arrays in ``f``'s pass (their derivatives after
    ``f``'s, each with the bits of its own call), in memory and on dask blocks with one chunk
    along the axes (a periodic one: the block's own rows as halos); ``direct=`` writes a
    derivative straight into a result, which ``combine`` hands back untouched."""
    from xgrad.engine import differentiate, fields_fit

    f, g = (RNG.standard_normal((4, 30, 40)) for _ in range(2))
    x = np.cumsum(RNG.random(30) + 0.5)
    seen = []

    def combine(ds, ops, out=None):
        if out is not None:
            seen.append(np.shares_memory(ds[3], out[1]))
        return ds[0] + ds[2], ds[3]

    want = [np.gradient(f, x, axis=1) + np.gradient(g, x, axis=1)]
    want.append(differentiate(g, (2,), [0.5], periodic=(True,))[0])
    kw = {"periodic": (False, True), "combine": combine}
    for lazy in (False, True):
        a, b = (da.from_array(v, chunks=(1, 30, 40)) if lazy else v for v in (f, g))
        assert fields_fit(a, [b], (1, 2))
        with compiled(True):
            got = differentiate(a, (1, 2), [np.diff(x), 0.5], fields=[b], direct=[(3, 1)], **kw)
        for r, w in zip(got, want, strict=True):
            assert_bitwise_equal(np.asarray(r), w)
    assert seen and all(seen)
    chunked = da.from_array(g, chunks=(4, 15, 40))  # two chunks along axis 1: halos needed
    assert not fields_fit(da.from_array(f, chunks=(4, 15, 40)), [chunked], (1, 2))
    assert not fields_fit(f, [g.astype(np.float32)], (1, 2))
    with pytest.raises(ValueError, match="fields= takes a combine="):
        differentiate(f, (1,), [0.5], fields=[g])


def _scales(shape, dtype):
    """Metric-factor shapes as the labelled layer makes them, for a 3-D block: name -> scale."""
    n0, n1, n2 = shape
    real = np.dtype(dtype).type if np.dtype(dtype).kind == "f" else np.float64
    r = RNG.random(shape) + 0.5
    return {
        "python float": 0.37,
        "0-d": np.asarray(0.37, dtype=real),
        "along axis 0": r[:, :1, :1].astype(real),
        "along axis 1": r[0, :, :1].astype(real),  # the sphere's 1/(R cos(lat)), (lat, 1)
        "along axis 2": r[0, 0, :].astype(real),
        "axes 1 and 2": r[0].astype(real),  # a projected grid's map factor, (y, x)
        "whole block": r.astype(real),
    }


@pytest.mark.parametrize("accuracy,order", [(2, 1), (4, 1), (2, 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("spacing", ["uniform", "float64", "float32"])
# (9, 3, 1500): axis 0 folds into rows of 4500 with a scale along axis 2 compact enough for
# the kernels to take it
@pytest.mark.parametrize("shape", [(5, 40, 70), (40, 7, 8), (3, 300, 9), (9, 3, 1500)])
def test_scale_in_the_pass_matches_scaling_after(
    shape, spacing, dtype, accuracy, order, assert_bitwise_equal
):
    """``axis_gradient(..., scale=s)`` gives the bits of the derivative times ``s`` afterwards
    (``np.multiply(out, s, out=out)``, numpy's loop) on both paths: the compiled kernels
    multiply each row in their pass (middle axis, long and short last-axis rows, the global
    edge rows they take, accuracy 4's rows near an end), the rows they do not take (faces,
    partial tiles) are multiplied after, as are layouts and dtypes the kernels leave out
    (complex, Fortran order).  Accuracy 4 and second derivatives (the weighted kernels) have
    no numpy oracle: the NumPy path unscaled is the reference."""
    from xgrad import _compiled
    from xgrad.blocks import empty_output

    base = RNG.standard_normal(shape).astype(dtype)
    for f in (base, np.asfortranarray(base)):
        for axis in range(3):
            n = f.shape[axis]
            d = 0.3 if spacing == "uniform" else np.cumsum(RNG.random(n) + 0.5).astype(spacing)
            for edge_order in (1, 2):
                if n < points_needed(edge_order, accuracy, order=order):
                    continue
                dx = spacing_from_varargs((d,), (n,), (0,))[0]
                plan = plan_axis(n, dx, edge_order, accuracy=accuracy, order=order)
                if plan.weights is None:
                    expected = np.gradient(f, d, axis=axis, edge_order=edge_order)
                else:
                    expected = empty_output(f, np.result_type(f.dtype, np.float32(0)))
                    with compiled(False):
                        axis_gradient(f.copy(), axis, plan, 0, None, None, expected)
                for name, s in _scales(shape, dtype).items():
                    want = expected.copy()
                    np.multiply(want, s, out=want)
                    assert want.dtype == expected.dtype, name  # a scale that keeps the dtype
                    for mode in (True, False):
                        with compiled(mode):
                            out = empty_output(f, expected.dtype)
                            axis_gradient(f, axis, plan, 0, None, None, out, None, s)
                            assert_bitwise_equal(out, want)
                            # in pieces of rows (the tiled driver's way): edges in one piece
                            out = empty_output(f, expected.dtype)
                            for rows in ((0, 2), (2, n - 1), (n - 1, n)):
                                axis_gradient(f, axis, plan, 0, None, None, out, rows, s)
                            assert_bitwise_equal(out, want)
                    # a block in the middle of the axis: face rows from halos, scaled after
                    lo, hi = accuracy // 2 + order - 1, n - accuracy // 2 - order + 1
                    if hi <= lo:
                        continue
                    block = f[_index(3, axis, slice(lo, hi))]
                    before = f[_index(3, axis, slice(0, lo))]
                    after = f[_index(3, axis, slice(hi, n))]
                    k = axis - 3 + np.ndim(s)  # the scale's dim under `axis` (trailing dims)
                    part = s if k < 0 or np.shape(s)[k] == 1 else s[_index(k + 1, k, slice(lo, hi))]
                    with compiled(True):
                        out = empty_output(block, expected.dtype)
                        axis_gradient(block, axis, plan, lo, before, after, out, None, part)
                    assert_bitwise_equal(out, want[_index(3, axis, slice(lo, hi))])
    if np.dtype(dtype).kind == "f":  # the kernels took a scale (not only the multiply after)
        kernels = (
            (_compiled.uniform_middle_axis, _compiled.uniform_last_axis)
            + (_compiled.nonuniform_middle_axis, _compiled.nonuniform_last_axis)
            if (accuracy, order) == (2, 1)
            else (_compiled.weighted_middle_axis, _compiled.weighted_last_axis)
        )
        taken = [str(sig[-1]) for k in kernels for sig in k.signatures]
        assert any(t.startswith("array") for t in taken), taken


def test_kept_scratch_is_per_thread_and_slot():
    """Scratch tiles reuse the calling thread's memory for the same slot, never another
    slot's or another thread's; above the kept size they are fresh arrays."""
    import threading

    from xgrad.blocks import _KEEP_BYTES, kept_scratch

    a = kept_scratch(0, (4, 5), np.float64)
    b = kept_scratch(0, (2, 5), np.float32)  # smaller, another dtype: the same memory
    c = kept_scratch(1, (4, 5), np.float64)
    assert (a.shape, a.dtype, b.shape, b.dtype) == ((4, 5), np.float64, (2, 5), np.float32)
    assert a.flags.c_contiguous and b.flags.c_contiguous
    assert np.shares_memory(a, b) and not np.shares_memory(a, c)
    grown = kept_scratch(0, (40, 50), np.float64)  # larger: new memory, kept from now on
    assert np.shares_memory(grown, kept_scratch(0, (40, 50), np.float64))
    other = []
    thread = threading.Thread(target=lambda: other.append(kept_scratch(0, (40, 50), np.float64)))
    thread.start()
    thread.join()
    assert not np.shares_memory(grown, other[0])
    big = (_KEEP_BYTES // 8 + 1,)
    assert not np.shares_memory(kept_scratch(2, big, np.float64), kept_scratch(2, big, np.float64))


def test_results_do_not_share_the_kept_scratch(assert_bitwise_equal):
    """A combination built in kept scratch tiles is copied out: a second call (on other
    data, same thread) leaves the first call's results as they were."""
    from xgrad import engine

    rng = np.random.default_rng(5)
    f, g = (rng.standard_normal((6, 300, 200)) for _ in range(2))
    operand = rng.standard_normal((6, 300, 200))

    def combine(derivatives, operands):
        return derivatives[0] * operands[0] + derivatives[1]

    def run(data):
        return engine.differentiate(data, (1, 2), [0.5, 0.25], combine=combine, operands=[operand])[
            0
        ]

    first = run(f)
    kept = first.copy()
    run(g)
    assert_bitwise_equal(first, kept)
    d1, d2 = np.gradient(f, 0.5, 0.25, axis=(1, 2))
    assert_bitwise_equal(first, d1 * operand + d2)


_SPACINGS = {
    "python complex": 0.5 + 0.1j,
    "numpy complex128": np.complex128(1j),
    "numpy complex64": np.complex64(0.5 - 0.25j),
    "complex coordinate": np.cumsum(np.linspace(0.5, 1.5, 40)) * (1 + 0.5j),
    "float16 coordinate": np.cumsum(np.linspace(0.5, 1.5, 40)).astype(np.float16),
    "float16 scalar": np.float16(0.3),
}


# numpy (and so xgrad) warns that real data with a complex spacing gives real derivatives
@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("spacing", list(_SPACINGS), ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("mode", [True, None])
def test_compiled_path_takes_numpys_spacings(spacing, dtype, edge_order, mode):
    # An audit, with the compiled kernels on (as for arrays of 32768 elements or more): complex
    # data with a complex numpy scalar spacing and edge_order=2 came out 0 at the ends (the
    # edge weights' imaginary part dropped); a complex spacing on real data, a complex or
    # float16 coordinate were numba typing errors. The kernels take real weights: the rest goes
    # the NumPy way, numpy's bits
    rng = np.random.default_rng(1)
    f = rng.standard_normal((40, 40, 24)).astype(dtype)  # 38400 elements: compiled by size
    if np.dtype(dtype).kind == "c":
        f = f + 1j * f[::-1]
    dx = _SPACINGS[spacing]
    with compiled(mode):
        got = xgrad.gradient(f, dx, axis=1, edge_order=edge_order)
    expected = np.gradient(f, dx, axis=1, edge_order=edge_order)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_timedelta_spacing_on_float_data_is_numpys_error():
    # the compiled path was taken with no working dtype (`None in _COMPILED_DTYPES` is True):
    # numba's "not enough arguments: expected 10, got 9" instead of numpy's UFuncTypeError
    f = np.ones((200, 200))
    with pytest.raises(TypeError) as expected:
        np.gradient(f, np.timedelta64(3, "s"))
    with pytest.raises(type(expected.value), match="cannot use operands"):
        xgrad.gradient(f, np.timedelta64(3, "s"))


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize(
    "spacing", [0.5 + 0.1j, np.arange(8.0) * (1 + 1j)], ids=["scalar", "coords"]
)
@pytest.mark.parametrize("accuracy", [4, 6])
def test_weighted_stencils_refuse_complex_spacing(spacing, accuracy):
    # the coordinates went to float64 with only numpy's ComplexWarning: real derivatives of a
    # complex coordinate, silently wrong; accuracy 2 takes them as numpy does
    f = np.arange(8.0) ** 2
    with pytest.raises(TypeError, match="use accuracy=2"):
        xgrad.gradient(f, spacing, accuracy=accuracy)
    with pytest.raises(TypeError, match="use accuracy=2"):
        xgrad.gradient(da.from_array(f, chunks=4), spacing, accuracy=accuracy)
    np.testing.assert_array_equal(xgrad.gradient(f, spacing), np.gradient(f, spacing))
