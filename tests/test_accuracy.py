"""accuracy=4/6: exactness, convergence order, chunk invariance (issue: numerics beyond numpy)."""

from __future__ import annotations

import datetime

import dask
import dask.array as da
import numpy as np
import pytest

import xgrad
from xgrad.engine import differentiate

RNG = np.random.default_rng(4)


def stretched(n, lo=0.0, hi=2 * np.pi):
    s = np.linspace(0.0, 1.0, n)
    return lo + (hi - lo) * (s + 0.15 * np.sin(2 * np.pi * s) / (2 * np.pi))


@pytest.mark.parametrize("accuracy", [2, 4, 6])
@pytest.mark.parametrize("grid", ["uniform", "stretched"])
def test_polynomials_exact(accuracy, grid):
    """Stencils of order p differentiate polynomials of degree p exactly (edges included)."""
    n = 15
    x = np.linspace(-1.0, 2.0, n) if grid == "uniform" else stretched(n, -1.0, 2.0)
    f = 1.0 + 0.5 * x - x**2 + 0.25 * x**accuracy
    exact = 0.5 - 2 * x + 0.25 * accuracy * x ** (accuracy - 1)
    got = xgrad.gradient(f, x, accuracy=accuracy, edge_order=2)
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-10)


def convergence_orders(accuracy, grid, sizes=(32, 64, 128, 256)):
    errors = []
    for n in sizes:
        x = np.linspace(0, 2 * np.pi, n) if grid == "uniform" else stretched(n)
        got = xgrad.gradient(np.sin(x), x, accuracy=accuracy, edge_order=2)
        errors.append(np.max(np.abs(got - np.cos(x))))
    return np.log2(np.array(errors[:-1]) / np.array(errors[1:]))


@pytest.mark.parametrize("accuracy", [2, 4, 6])
@pytest.mark.parametrize("grid", ["uniform", "stretched"])
def test_convergence_order(accuracy, grid, capsys):
    """Error halves 2**p times per grid doubling (max error over the whole axis, edges in)."""
    orders = convergence_orders(accuracy, grid)
    with capsys.disabled():
        print(f"\nconvergence accuracy={accuracy} {grid}: orders {np.round(orders, 2)}")
    assert orders[-1] > accuracy - 0.3


@pytest.mark.parametrize("accuracy", [4, 6])
@pytest.mark.parametrize("spacing", ["unit", "scalar", "coord"])
def test_chunk_invariance(accuracy, spacing, assert_bitwise_equal):
    """Chunks of 1, 2, 3 (smaller than the halo) and ragged: same bits as in memory."""
    f = RNG.standard_normal((13, 8))
    varargs = {"unit": (), "scalar": (0.3,), "coord": (np.cumsum(RNG.random(13) + 0.2), 1.5)}[
        spacing
    ]
    expected = xgrad.gradient(f, *varargs, accuracy=accuracy)
    for chunks in [1, 2, 3, ((5, 1, 7), (3, 5)), (13, 8)]:
        got = xgrad.gradient(da.from_array(f, chunks=chunks), *varargs, accuracy=accuracy)
        for g, e in zip(dask.compute(*got), expected):
            assert_bitwise_equal(g, e, err_msg=str(chunks))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("accuracy", [4, 6])
def test_compiled_matches_numpy_path(accuracy, dtype, assert_bitwise_equal):
    from xgrad.kernels import compiled

    f = RNG.standard_normal((40, 30, 20)).astype(dtype)
    if f.dtype.kind == "c":
        f.imag = RNG.standard_normal(f.shape)
    x = np.cumsum(RNG.random(30) + 0.1)
    z = np.cumsum(RNG.random(20) + 0.1)  # non-uniform along the contiguous last axis too
    for varargs in [(1.0, 0.5, 2.0), (1.0, x, 2.0), (1.0, 0.5, z)]:
        with compiled(True):
            a = xgrad.gradient(f, *varargs, accuracy=accuracy)
        with compiled(False):
            b = xgrad.gradient(f, *varargs, accuracy=accuracy)
        for u, v in zip(a, b):
            assert u.dtype == dtype
            assert_bitwise_equal(u, v)


@pytest.mark.parametrize("layout", ["C", "Fortran view", "transposed"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("accuracy", [2, 4, 6])
def test_compiled_face_rows_match_numpy_path(accuracy, dtype, layout, assert_bitwise_equal):
    """Rows next to chunk faces (their stencils read the halo) give the same bits compiled,
    blocks of any layout (the face kernels take views of any strides)."""
    from xgrad.kernels import compiled

    big = RNG.standard_normal((19, 14, 13)).astype(dtype)
    if big.dtype.kind == "c":
        big.imag = RNG.standard_normal(big.shape)
    f = {
        "C": big[:17, :12, :11].copy(),
        "Fortran view": np.asfortranarray(big)[1:18, 2:14, 1:12],
        "transposed": np.ascontiguousarray(big[:12, :11, :17]).transpose(2, 0, 1),
    }[layout]
    x = np.cumsum(RNG.random(12) + 0.1)
    x3 = da.from_array(f, chunks=(4, 5, 3))
    results = []
    for mode in (True, False):
        with compiled(mode):
            lazy = xgrad.gradient(x3, 0.5, x, 2.0, accuracy=accuracy)
            results.append(tuple(r.compute(scheduler="sync") for r in lazy))
    assert_bitwise_equal(*results)


@pytest.mark.parametrize("accuracy", [2, 4, 6])
def test_periodic_matches_roll(accuracy, assert_bitwise_equal):
    """A periodic axis: the seam is differentiated like the interior (rolled field, same numbers)."""
    n = 24
    x = np.arange(n) * (360.0 / n)
    f = np.sin(np.deg2rad(x))[None, :] * np.ones((3, 1)) + RNG.standard_normal((3, n)) * 1e-3
    (got,) = differentiate(f, (1,), [360.0 / n], accuracy=accuracy, periodic=(True,))
    for shift in (1, 5, 12):
        (rolled,) = differentiate(
            np.roll(f, shift, axis=1), (1,), [360.0 / n], accuracy=accuracy, periodic=(True,)
        )
        assert_bitwise_equal(np.roll(got, shift, axis=1), rolled)


@pytest.mark.parametrize("accuracy", [2, 4, 6])
def test_periodic_nonuniform_and_chunked_seam_bits(accuracy, assert_bitwise_equal):
    n = 40
    s = np.arange(n) * (2 * np.pi / n)
    x = 1.0 + s + 0.1 * np.sin(s)  # smoothly stretched, periodic with period 2 pi
    seam = x[0] + 2 * np.pi - x[-1]
    dx = np.append(np.diff(x), seam)
    f = np.sin(x)
    (whole,) = differentiate(f, (0,), [dx], accuracy=accuracy, periodic=(True,))
    atol = {2: 1e-2, 4: 1e-4, 6: 1e-5}[accuracy]
    np.testing.assert_allclose(whole, np.cos(x), rtol=0, atol=atol)
    for chunks in [1, 2, 3, (7, 33), 40]:
        (lazy,) = differentiate(
            da.from_array(f, chunks=chunks), (0,), [dx], accuracy=accuracy, periodic=(True,)
        )
        assert_bitwise_equal(lazy.compute(), whole, err_msg=str(chunks))


# --- second derivatives (the Laplacian's stencils) --------------------------------------------


@pytest.mark.parametrize("accuracy", [2, 4, 6])
@pytest.mark.parametrize("grid", ["uniform", "stretched"])
def test_second_derivative_exact_on_polynomials(accuracy, grid):
    n = 17
    x = np.linspace(-1.0, 2.0, n) if grid == "uniform" else stretched(n, -1.0, 2.0)
    f = 2.0 - x + 0.5 * x**2 + 0.1 * x**accuracy
    exact = 1.0 + 0.1 * accuracy * (accuracy - 1) * x ** (accuracy - 2)
    (got,) = differentiate(f, (0,), [np.diff(x)], accuracy=accuracy, orders=(2,))
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-9)


@pytest.mark.parametrize("accuracy", [2, 4, 6])
@pytest.mark.parametrize("grid", ["uniform", "stretched"])
def test_second_derivative_convergence(accuracy, grid, capsys):
    errors = []
    sizes = (32, 64, 128, 256)
    for n in sizes:
        x = np.linspace(0, 2 * np.pi, n) if grid == "uniform" else stretched(n)
        (got,) = differentiate(np.sin(x), (0,), [np.diff(x)], accuracy=accuracy, orders=(2,))
        errors.append(np.max(np.abs(got + np.sin(x))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    with capsys.disabled():
        print(f"\nsecond derivative accuracy={accuracy} {grid}: orders {np.round(orders, 2)}")
    assert orders[-1] > accuracy - 0.3


@pytest.mark.parametrize("accuracy", [2, 4, 6])
@pytest.mark.parametrize("periodic", [False, True])
def test_second_derivative_chunk_invariance(accuracy, periodic, assert_bitwise_equal):
    f = RNG.standard_normal((15, 6))
    dx = np.cumsum(RNG.random(15 if periodic else 14) + 0.2)
    expected = differentiate(
        f, (0, 0), [dx, dx], accuracy=accuracy, periodic=(periodic,) * 2, orders=(2, 1)
    )
    for chunks in [1, 2, (4, 11), 15]:
        got = differentiate(
            da.from_array(f, chunks=(chunks, 3)),
            (0, 0),
            [dx, dx],
            accuracy=accuracy,
            periodic=(periodic,) * 2,
            orders=(2, 1),
        )
        for g, e in zip(dask.compute(*got), expected):
            assert_bitwise_equal(g, e, err_msg=str(chunks))


def _as_ticks(numbers, dtype):
    """Oracle: float64 tick counts rounded to the nearest tick, NaN as NaT."""
    nat = np.isnan(numbers)
    ticks = np.rint(np.where(nat, 0.0, numbers)).astype(np.int64)
    return np.where(nat, np.iinfo(np.int64).min, ticks).view(np.dtype(dtype))


@pytest.mark.parametrize("accuracy", [4, 6])
@pytest.mark.parametrize("dtype", ["m8[s]", "M8[s]", "M8[ns]"])
def test_time_data_as_numbers(accuracy, dtype, assert_bitwise_equal):
    """accuracy 4/6 on time data differentiates the float64 tick counts (NaT as NaN) and rounds
    each result to a tick once, NaN to NaT; any chunking gives the same bits.  numpy's integer
    timedelta arithmetic truncated every stencil term (a one-second ramp gave 0, 1 and 2 s) and
    overflowed to NaT on large weights (hourly datetime64[ns] in 2024, accuracy 6)."""
    unit = np.datetime_data(np.dtype(dtype))[0]
    out = np.dtype(f"m8[{unit}]")

    def times(start, steps):  # datetime64 from `start`, or timedelta64 from zero
        t = np.datetime64(start) + steps
        return t.astype(dtype) if dtype.startswith("M") else (t - t[0]).astype(dtype)

    if unit == "s":  # a ramp of one tick per step (datetime64[ns] ticks since 1970 are
        # beyond float64's integers)
        ramp = times("2024-03-01T00:00:00", np.arange(12).astype("m8[s]"))
        assert_bitwise_equal(xgrad.gradient(ramp, accuracy=accuracy), np.ones(12, dtype=out))
    got = xgrad.gradient(times("2024-01-01T00", np.arange(24).astype("m8[h]")), accuracy=accuracy)
    error = (got - np.timedelta64(1, "h")).astype(np.int64)  # ticks of `unit`
    assert not np.isnat(got).any()
    assert np.abs(error).max() <= (0 if unit == "s" else 2000)  # float64 keeps 256 ns steps

    t = times("2024-03-01T00:00:00", np.cumsum(RNG.integers(1, 600, 17)).astype("m8[s]"))
    t[[3, 9]] = np.datetime64("NaT") if dtype.startswith("M") else np.timedelta64("NaT")
    x = np.cumsum(RNG.random(17) + 0.5)
    numbers = np.where(np.isnat(t), np.nan, t.view(np.int64).astype(np.float64))
    for varargs in [(), (2.0,), (x,)]:
        for nan in ["propagate", "one-sided"]:
            expected = xgrad.gradient(numbers, *varargs, accuracy=accuracy, nan=nan)
            expected = _as_ticks(expected, out)
            assert_bitwise_equal(xgrad.gradient(t, *varargs, accuracy=accuracy, nan=nan), expected)
            for chunks in [1, 4, ((7, 2, 8),)]:
                lazy = xgrad.gradient(
                    da.from_array(t, chunks=chunks), *varargs, accuracy=accuracy, nan=nan
                )
                assert_bitwise_equal(lazy.compute(), expected, err_msg=f"{chunks} {nan}")


def test_time_data_second_derivative_and_accuracy_2():
    """Second derivatives of time data go the float64 way too (zero for a ramp); accuracy 2
    keeps numpy's integer timedelta arithmetic, also when both are asked in one pass."""
    t = np.datetime64("2024-01-01T00", "h") + np.cumsum(RNG.integers(1, 5, 15)).astype("m8[h]")
    ramp = np.datetime64("2024-01-01T00", "h") + np.arange(15).astype("m8[h]")
    first, second = differentiate(t, (0, 0), [1.0, 1.0], orders=(1, 2))
    np.testing.assert_array_equal(first.view(np.int64), np.gradient(t).view(np.int64))
    numbers = t.view(np.int64).astype(np.float64)
    (expected,) = differentiate(numbers, (0,), [1.0], orders=(2,))
    np.testing.assert_array_equal(
        second.view(np.int64), _as_ticks(expected, "m8[h]").view(np.int64)
    )
    assert second.dtype == np.dtype("m8[h]")
    (flat,) = differentiate(ramp, (0,), [1.0], orders=(2,))
    np.testing.assert_array_equal(flat.view(np.int64), np.zeros(15, dtype=np.int64))


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize(
    "options",
    [{"accuracy": 4}, {"accuracy": 6}, {"nan": "one-sided"}, {"accuracy": 4, "nan": "one-sided"}],
)
def test_time_spacing_with_extensions_is_refused(options, chunked):
    """An audit: the weighted stencils and the one-sided fallbacks read timedelta spacings as
    counts of their storage unit (per day for M8[D], per ns for M8[ns]; NaT a finite -9.2e18),
    so results came in no stated unit, silently. numpy's own options refuse such spacings."""
    days = np.array([0, 1, 3, 4, 8, 9, 12, 13, 15])
    f = days.astype(float) ** 2
    x = da.from_array(f, chunks=4) if chunked else f
    t = np.datetime64("2000-01-01") + days.astype("m8[D]")
    for spacing in (t, t.astype("M8[ns]"), np.timedelta64(1, "D"), datetime.timedelta(days=1)):
        with pytest.raises(TypeError, match=r"the spacing is a time difference .* np\.timedelta64"):
            xgrad.gradient(x, spacing, **options)
    # the advice, as written, gives the derivative per second
    seconds = (t - t[0]) / np.timedelta64(1, "s")
    got = xgrad.gradient(x, seconds, **options)
    np.testing.assert_allclose(np.asarray(got)[4:6], 2 * days[4:6] / 86400.0, rtol=1e-12)
