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
