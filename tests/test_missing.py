"""nan="one-sided": derivatives next to missing data."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest

import xgrad

RNG = np.random.default_rng(5)


@pytest.mark.parametrize("accuracy", [2, 4, 6])
@pytest.mark.parametrize("grid", ["uniform", "stretched"])
def test_exact_on_linear_fields_with_holes(accuracy, grid):
    n = 25
    x = np.linspace(0, 10, n) if grid == "uniform" else np.cumsum(RNG.random(n) + 0.2)
    f = 3.0 * x - 7.0
    holes = [0, 4, 5, 11, 13, 20, 24]
    f[holes] = np.nan
    got = xgrad.gradient(f, x, accuracy=accuracy, nan="one-sided")
    expected = np.full(n, 3.0)
    expected[holes] = np.nan
    expected[12] = np.nan  # between holes 11 and 13: no valid neighbour
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    # propagate (the default) spoils the neighbours, as numpy does
    assert np.isnan(xgrad.gradient(f, x, accuracy=accuracy)[3])


def test_isolated_point_is_nan():
    f = np.array([np.nan, 1.0, np.nan, 2.0, 3.0])
    got = xgrad.gradient(f, nan="one-sided")
    assert np.isnan(got[0]) and np.isnan(got[1]) and np.isnan(got[2])
    np.testing.assert_array_equal(got[3:], [1.0, 1.0])


def test_second_order_when_two_points():
    """Next to a hole, the 2nd-order one-sided stencil is used: exact on a parabola."""
    x = np.arange(8.0)
    f = x**2
    f[3] = np.nan
    got = xgrad.gradient(f, nan="one-sided")
    np.testing.assert_allclose(got[2], 4.0)  # backward 2nd order: exact
    np.testing.assert_allclose(got[4], 8.0)  # forward 2nd order: exact


def test_propagate_is_numpy(assert_bitwise_equal):
    f = RNG.standard_normal((9, 7))
    f[RNG.random(f.shape) < 0.2] = np.nan
    for a, e in zip(xgrad.gradient(f), np.gradient(f)):
        assert_bitwise_equal(a, e)


@pytest.mark.parametrize("accuracy", [2, 4, 6])
def test_land_mask_chunk_invariance(accuracy, assert_bitwise_equal):
    """An ocean field with a land mask: the same bits for chunks of 1, 2 and larger."""
    ny, nx = 14, 17
    y, x = np.meshgrid(np.linspace(-1, 1, ny), np.linspace(0, 3, nx), indexing="ij")
    f = np.sin(x) * np.cos(2 * y)
    land = (x - 1.5) ** 2 + (y * 1.5) ** 2 < 0.4
    f[land] = np.nan
    f[0, 5] = np.nan
    xs = np.cumsum(RNG.random(nx) + 0.1)
    expected = xgrad.gradient(f, 0.1, xs, accuracy=accuracy, nan="one-sided")
    assert np.isnan(expected[0][land]).all()
    assert not np.isnan(expected[1][~land & ~np.isnan(f)]).any()
    for chunks in [1, 2, (5, 4), ((3, 11), (1, 16))]:
        got = xgrad.gradient(
            da.from_array(f, chunks=chunks), 0.1, xs, accuracy=accuracy, nan="one-sided"
        )
        for g, e in zip(dask.compute(*got), expected):
            assert_bitwise_equal(g, e, err_msg=str(chunks))


def _ticks(numbers, dtype):
    """Oracle: float64 tick counts rounded to the nearest tick, NaN as NaT."""
    nat = np.isnan(numbers)
    ticks = np.rint(np.where(nat, 0.0, numbers)).astype(np.int64)
    return np.where(nat, np.iinfo(np.int64).min, ticks).view(np.dtype(dtype))


def _times(dtype, n):
    """Irregular times (1 to 599 s apart): a ramp with curvature, in ``dtype``."""
    seconds = np.cumsum(RNG.integers(1, 600, n))
    if dtype.startswith("M"):
        return (np.datetime64("2024-03-01T00:00:00") + seconds.astype("m8[s]")).astype(dtype)
    return seconds.astype("m8[s]").astype(dtype)


CHUNKINGS = [1, 3, ((5, 9),)]


@pytest.mark.parametrize("dtype", ["m8[s]", "m8[ns]", "M8[s]", "M8[ns]"])
def test_one_sided_time_data_without_nat_is_numpy(dtype, assert_bitwise_equal):
    """nan="one-sided" on time data with no NaT: numpy.gradient's integer results, bit for bit
    (it raised "Could not convert object to NumPy timedelta")."""
    t = _times(dtype, 14)
    expected = np.gradient(t)
    assert_bitwise_equal(xgrad.gradient(t, nan="one-sided"), expected)
    for chunks in CHUNKINGS:
        got = xgrad.gradient(da.from_array(t, chunks=chunks), nan="one-sided")
        assert_bitwise_equal(got.compute(), expected)
    ramp = np.arange(5).astype("m8[s]")
    assert_bitwise_equal(xgrad.gradient(ramp, nan="one-sided"), np.ones(5, dtype="m8[s]"))


@pytest.mark.parametrize("dtype", ["m8[s]", "M8[ns]"])
@pytest.mark.parametrize("accuracy", [2, 4])
def test_one_sided_time_data_nat_is_missing(dtype, accuracy, assert_bitwise_equal):
    """NaT is time data's NaN: NaT where the point is NaT, one-sided stencils next to it.
    Patched points are the float64 stencils rounded to a tick once; at accuracy 2 the others
    keep numpy's integer arithmetic; any chunking gives the same bits."""
    unit = np.datetime_data(np.dtype(dtype))[0]
    ramp = (np.arange(12) * 60).astype("m8[s]").astype(f"m8[{unit}]")
    if dtype.startswith("M"):
        ramp = np.datetime64("2024-03-01T00:00:00", unit) + ramp
    holes = [0, 4, 5, 8, 10]
    ramp[holes] = np.datetime64("NaT") if dtype.startswith("M") else np.timedelta64("NaT")
    got = xgrad.gradient(ramp, nan="one-sided", accuracy=accuracy)
    minute = np.full(12, 60, dtype="m8[s]").astype(f"m8[{unit}]")
    minute[holes + [9, 11]] = np.timedelta64("NaT")  # no valid neighbour
    assert_bitwise_equal(got, minute)

    t = _times(dtype, 14)
    t[[0, 4, 5, 11]] = np.datetime64("NaT") if dtype.startswith("M") else np.timedelta64("NaT")
    ticks = t.view(np.int64)
    numbers = np.where(np.isnat(t), np.nan, ticks.astype(np.float64))
    expected = _ticks(xgrad.gradient(numbers, nan="one-sided", accuracy=accuracy), got.dtype)
    if accuracy == 2:
        with np.errstate(invalid="ignore"):
            regular = np.gradient(t)  # numpy's own rows where no NaT was read
        expected = np.where(np.isnat(regular) | np.isnat(t), expected, regular)
    got = xgrad.gradient(t, nan="one-sided", accuracy=accuracy)
    assert_bitwise_equal(got, expected)
    for chunks in CHUNKINGS:
        lazy = xgrad.gradient(da.from_array(t, chunks=chunks), nan="one-sided", accuracy=accuracy)
        assert_bitwise_equal(lazy.compute(), expected)


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("rows", [2, 3])
def test_one_sided_matrix_is_elementwise(rows, assert_bitwise_equal):
    """np.matrix input: the fallback's ``w * f`` stays elementwise (it was a matrix product:
    wrong values for 2 rows, a shape error for 3); outputs are matrices, as numpy gives."""
    a = np.arange(rows * 6.0).reshape(rows, 6) ** 2
    a[0, 2] = a[-1, 4] = np.nan
    m = np.matrix(a)
    got = xgrad.gradient(m, nan="one-sided")
    expected = xgrad.gradient(a, nan="one-sided")
    assert [type(g) for g in got] == [type(g) for g in np.gradient(m)] == [np.matrix] * 2
    for g, e in zip(got, expected):
        assert_bitwise_equal(np.asarray(g), e)


@pytest.mark.parametrize("spacing", ["unit", "coord"])
def test_one_sided_masked_array_keeps_numpy_mask(spacing, assert_bitwise_equal):
    """Masked arrays: the output mask is numpy.gradient's; NaN data is patched as in a plain
    array, and points masked in the input count as missing for the fallback stencils (their
    data is never read): unmasked results at unmasked inputs equal those of the plain array
    with NaN where masked.  Dask blocks of masked arrays give the same."""
    rng = np.random.default_rng(7)
    data = rng.standard_normal((6, 9))
    data[rng.random(data.shape) < 0.15] = np.nan
    mask = rng.random(data.shape) < 0.15
    ma = np.ma.masked_array(data, mask=mask)
    args = () if spacing == "unit" else (1.0, np.cumsum(rng.random(9) + 0.2))
    got = xgrad.gradient(ma, *args, nan="one-sided")
    plain = xgrad.gradient(np.where(mask, np.nan, data), *args, nan="one-sided")
    for g, e, p in zip(got, np.gradient(ma, *args), plain):
        assert isinstance(g, np.ma.MaskedArray)
        np.testing.assert_array_equal(np.ma.getmaskarray(g), np.ma.getmaskarray(e))
        seen = ~np.ma.getmaskarray(g) & ~mask
        assert_bitwise_equal(g.data[seen], p[seen])
    lazy = xgrad.gradient(da.from_array(ma, chunks=(2, 4), asarray=False), *args, nan="one-sided")
    for g, c in zip(got, dask.compute(*lazy)):
        np.testing.assert_array_equal(np.ma.getmaskarray(c), np.ma.getmaskarray(g))
        assert_bitwise_equal(c.data[~c.mask], g.data[~g.mask])
