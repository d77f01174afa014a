"""dask's array expressions (``array.query-planning``) give the legacy graphs' results and tasks.

The mode is fixed when dask is imported, so these tests run in both: CI runs this file and the
core property tests a second time with ``DASK_ARRAY__QUERY_PLANNING=True`` (``.ci/run``), and
the subprocess test below compares the two modes from a legacy run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import dask
import dask.array as da
import numpy as np
import pytest
import xarray as xr

import xgrad

EXPRESSIONS = type(da.ones(1)).__module__.startswith("dask.array._array_expr")
F = np.random.default_rng(3).standard_normal((9, 11, 6))
X = np.cumsum(np.arange(1.0, 12.0))


@pytest.mark.parametrize("chunks", [(2, 3, 4), (9, 11, 6), (1, 5, 2)], ids=str)
@pytest.mark.parametrize(
    "options",
    [{}, {"edge_order": 2}, {"accuracy": 4}, {"nan": "one-sided"}],
    ids=["default", "edge2", "accuracy4", "one-sided"],
)
def test_same_bits_lazily(chunks, options, raise_on_compute, assert_bitwise_equal):
    x = da.from_array(F, chunks=chunks)
    with dask.config.set(scheduler=raise_on_compute):
        lazy = xgrad.gradient(x, 0.5, X, 1.0, **options)
    assert all(type(g) is type(x) and g.chunks == x.chunks for g in lazy)
    expected = xgrad.gradient(F, 0.5, X, 1.0, **options)
    assert_bitwise_equal(tuple(g.compute() for g in lazy), expected)


def test_persisted_and_derived_inputs(assert_bitwise_equal):
    x = da.from_array(F, chunks=(3, 4, 2))
    assert_bitwise_equal(xgrad.gradient(x.persist(), axis=1).compute(), np.gradient(F, axis=1))
    assert_bitwise_equal(
        xgrad.gradient(x * 2 + 1, axis=0).compute(), np.gradient(F * 2 + 1, axis=0)
    )
    part = xgrad.gradient(x, axis=2)[2:6, 1:4]  # slicing the result after the fact
    assert_bitwise_equal(part.compute(), np.gradient(F, axis=2)[2:6, 1:4])


def test_accessor_on_chunked_data(raise_on_compute, assert_bitwise_equal):
    obj = xr.DataArray(F, dims=("y", "x", "t"), coords={"x": X}).chunk(y=4, x=5)
    with dask.config.set(scheduler=raise_on_compute):
        dy, dx = obj.grad.along("y", "x")
    assert_bitwise_equal(dx.data.compute(), np.gradient(F, X, axis=1))
    assert_bitwise_equal(dy.data.compute(), np.gradient(F, axis=0))


_COUNT = textwrap.dedent(
    """
    import json, numpy as np, dask.array as da, xgrad
    x = da.from_array(np.ones((16, 12, 8)), chunks=(4, 5, 3))
    counts = {}
    for axis in (0, 2, None):
        g = xgrad.gradient(x, axis=axis)
        keys = set()
        for o in g if isinstance(g, tuple) else (g,):
            keys.update(dict(o.__dask_graph__()))
        counts[str(axis)] = len(keys)
    print(json.dumps({"expr": type(x).__module__, "counts": counts}))
    """
)


def _counts(query_planning: bool) -> dict:
    env = dict(os.environ, DASK_ARRAY__QUERY_PLANNING=str(query_planning))
    out = subprocess.run(
        [sys.executable, "-c", _COUNT], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_task_count_as_legacy():
    """With array expressions the graph has no more tasks than the legacy graph."""
    legacy, expressions = _counts(False), _counts(True)
    assert "_array_expr" not in legacy["expr"] and "_array_expr" in expressions["expr"]
    for axis, n in legacy["counts"].items():
        assert expressions["counts"][axis] <= n, (axis, expressions["counts"], legacy["counts"])


def test_command_line_with_array_expressions(tmp_path):
    """``xgrad gradient`` as users run it, with dask's array expressions on: the derivatives
    build, but dask 2026.8 has no ``store`` for expressions, which xarray's writers need. One
    clear line, nothing written (docs/guide/engines.md); in the legacy mode the file is right."""
    src, out = tmp_path / "in.nc", tmp_path / "out.nc"
    xr.Dataset(
        {"h": (("y", "x"), F[:, :, 0], {"units": "m"})}, coords={"x": ("x", X, {"units": "m"})}
    ).to_netcdf(src)
    command = [sys.executable, "-m", "xgrad", "gradient", str(src), str(out), "--along", "x"]
    for planning in ("True", "False"):
        env = dict(os.environ, DASK_ARRAY__QUERY_PLANNING=planning)
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        if planning == "True":
            assert proc.returncode == 1
            assert proc.stderr == "xgrad: error: Function store is not implemented for dask-expr.\n"
            assert not out.exists() and not list(tmp_path.glob(".*"))
            continue
        assert proc.returncode == 0, proc.stderr[-2000:]
        with xr.open_dataset(out) as result:
            expected = np.gradient(F[:, :, 0], X, axis=1)
            np.testing.assert_array_equal(result["dh_dx"].values, expected)
