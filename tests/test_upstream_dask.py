"""dask's own ``test_gradient`` (``dask/array/tests/test_routines.py``) run against xgrad, plus a stricter twin.

The upstream test is imported, not copied, and re-exported under a ``test_`` name so pytest collects it
with its own ``@pytest.mark.parametrize`` marks; an autouse fixture replaces ``dask.array.gradient``
(which the upstream test calls as ``da.gradient``) by ``xgrad.gradient`` and checks xgrad was really
called. Upstream compares with ``assert_eq`` (allclose) on chunks of 5.

The stricter twin reuses upstream's (shape, varargs, axis) cases, read from its parametrize mark, with
chunks of 1, 2 and ragged chunks (1, 3, 2, 4, ...), integer and float data, numpy and dask coordinates,
and compares bit for bit with ``numpy.gradient`` -- which dask's own implementation cannot pass for
small chunks (it refuses chunks smaller than the stencil and is not bit-exact).
"""

from __future__ import annotations

import itertools
import math

import dask
import dask.array as da
import numpy as np
import pytest
from dask.array.tests.test_routines import test_gradient as _dask_test_gradient

import xgrad

# Re-exported under a name pytest collects; its parametrize marks travel with the function object.
test_dask_upstream_gradient = _dask_test_gradient

UPSTREAM_NAME = "test_dask_upstream_gradient"


def _upstream_param_values(argnames: str) -> list:
    for mark in _dask_test_gradient.pytestmark:
        if mark.name == "parametrize" and mark.args[0] == argnames:
            return list(mark.args[1])
    raise LookupError(f"dask's test_gradient no longer parametrizes {argnames!r}")


UPSTREAM_CASES = _upstream_param_values("shape, varargs, axis")
UPSTREAM_EDGE_ORDERS = _upstream_param_values("edge_order")
EXPECTED_UPSTREAM_ITEMS = len(UPSTREAM_CASES) * len(UPSTREAM_EDGE_ORDERS)


@pytest.fixture(autouse=True)
def _dask_gradient_is_xgrad(monkeypatch, request):
    calls = []

    def gradient(*args, **kwargs):
        calls.append(1)
        return xgrad.gradient(*args, **kwargs)

    monkeypatch.setattr(da, "gradient", gradient)
    yield
    if request.node.originalname == UPSTREAM_NAME:
        assert calls, "dask's test_gradient ran without calling the patched da.gradient"


def test_upstream_parametrization_collected(request):
    assert len(UPSTREAM_CASES) >= 11 and set(UPSTREAM_EDGE_ORDERS) == {1, 2}
    collected = [
        item
        for item in request.session.items
        if getattr(item, "originalname", None) == UPSTREAM_NAME and item.module is request.module
    ]
    if len(collected) != EXPECTED_UPSTREAM_ITEMS and (
        request.config.option.keyword or request.config.option.markexpr
    ):
        pytest.skip("upstream cases deselected by -k/-m")
    assert len(collected) == EXPECTED_UPSTREAM_ITEMS, [i.name for i in collected]


# --- stricter twin ----------------------------------------------------------------------------------

RAGGED_PATTERN = (1, 3, 2, 4)


def _chunks_for(shape, spec):
    if spec == "ragged":
        chunks = []
        for ax, n in enumerate(shape):
            # rotate the pattern per axis so axes do not all split at the same places
            cycle = itertools.cycle(RAGGED_PATTERN[ax % 4 :] + RAGGED_PATTERN[: ax % 4])
            sizes, total = [], 0
            while total < n:
                size = min(next(cycle), n - total)
                sizes.append(size)
                total += size
            chunks.append(tuple(sizes))
        return tuple(chunks)
    return tuple(tuple([spec] * (n // spec) + ([n % spec] if n % spec else [])) for n in shape)


def _data(shape, kind):
    rng = np.random.default_rng(20240611)
    if kind == "int":
        return rng.integers(0, 10, shape)  # what dask's test uses
    return rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4, shape)


def _has_array_vararg(varargs) -> bool:
    return any(np.ndim(v) == 1 for v in varargs)


def _strict_params():
    params = []
    for (shape, varargs, axis), edge_order, chunks, kind in itertools.product(
        UPSTREAM_CASES, UPSTREAM_EDGE_ORDERS, [1, 2, "ragged"], ["int", "float"]
    ):
        if chunks == 1 and kind == "float":
            continue  # 3000 one-element blocks take seconds per case; size-1 chunks run on int data
        coord_kinds = ["numpy", "dask"] if _has_array_vararg(varargs) else ["numpy"]
        for coords in coord_kinds:
            # One-element blocks of a 3-D shape are 3000 tasks per output (3-8 s a case); CI
            # runs all axes at both edge orders and the dask coordinate arrays at edge order 2,
            # the rest are `slow` (size-1 chunks of every layout are also drawn by
            # tests/test_properties.py::test_dask_input_bit_exact).
            heavy = chunks == 1 and len(shape) == 3
            representative = (not varargs and axis is None) or (
                coords == "dask" and edge_order == 2
            )
            marks = [pytest.mark.slow] if heavy and not representative else []
            vid = "-".join(
                f"arr{len(v)}" if np.ndim(v) else repr(v) for v in varargs
            )  # arrays are long; name them by length
            params.append(
                pytest.param(
                    shape,
                    varargs,
                    axis,
                    edge_order,
                    chunks,
                    kind,
                    coords,
                    id=f"{shape}-[{vid}]-axis{axis}-eo{edge_order}-chunks{chunks}-{kind}-{coords}",
                    marks=marks,
                )
            )
    return params


@pytest.mark.parametrize(
    ("shape", "varargs", "axis", "edge_order", "chunks", "kind", "coords"), _strict_params()
)
def test_strict_bit_exact_small_and_ragged_chunks(
    shape, varargs, axis, edge_order, chunks, kind, coords, assert_bitwise_equal
):
    a = _data(shape, kind)
    a_before = a.copy()
    d_a = da.from_array(a, chunks=_chunks_for(shape, chunks))
    if coords == "dask":
        d_varargs = tuple(
            da.from_array(v, chunks=_chunks_for(v.shape, chunks)[0]) if np.ndim(v) == 1 else v
            for v in varargs
        )
    else:
        d_varargs = varargs

    expected = np.gradient(a, *varargs, axis=axis, edge_order=edge_order)
    result = xgrad.gradient(d_a, *d_varargs, axis=axis, edge_order=edge_order)

    parts = result if isinstance(result, tuple) else (result,)
    assert isinstance(result, tuple) == isinstance(expected, tuple)
    for part in parts:
        assert isinstance(part, da.Array)
        assert part.chunks == d_a.chunks
    computed = (
        tuple(dask.compute(*result, scheduler="sync"))
        if isinstance(result, tuple)
        else result.compute(scheduler="sync")
    )
    for lazy, c in zip(
        parts, computed if isinstance(computed, tuple) else (computed,), strict=True
    ):
        assert lazy.dtype == c.dtype
    assert_bitwise_equal(computed, expected)
    np.testing.assert_array_equal(a, a_before)


def test_ragged_chunks_helper():
    assert _chunks_for((10, 15), "ragged") == ((1, 3, 2, 4), (3, 2, 4, 1, 3, 2))
    assert _chunks_for((5,), 2) == ((2, 2, 1),)
    assert all(sum(c) == n for c, n in zip(_chunks_for((10, 15, 20), "ragged"), (10, 15, 20)))
    assert math.prod(len(c) for c in _chunks_for((10, 15, 20), 1)) == 3000
