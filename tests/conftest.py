"""Shared test configuration: hypothesis profiles and helpers for laziness and bit-exact comparison.

Hypothesis profiles
-------------------
``HYPOTHESIS_PROFILE=default`` (the default) runs 60 examples per property;
``HYPOTHESIS_PROFILE=ci`` runs 500. Without ``HYPOTHESIS_PROFILE``, ``CI=true`` selects ``ci`` (see
``.ci/run``). Neither has a deadline: a property builds and computes dask graphs, whose timing
varies.

Fixtures
--------
The fixtures below are session-scoped and return plain functions, so hypothesis-decorated tests can
use them (hypothesis refuses function-scoped fixtures, which would not be reset between examples);
``engine_calls`` (a spy on the labelled layer's engine calls) is per test.

- ``raise_on_compute``: a dask ``get`` function usable as ``dask.config.set(scheduler=...)`` that raises
  ``ComputeForbidden`` whenever anything is computed.
- ``counting_array``: ``counting_array(arr, chunks) -> (dask_array, counter)`` where ``counter()`` is
  the number of data blocks materialised so far. Use it where computing *something* (e.g. a 1-D dask
  coordinate) is allowed but computing the *data* is not.
- ``assert_bitwise_equal``: ``assert_bitwise_equal(actual, desired, err_msg="")`` checks type
  (ndarray vs tuple, masked vs plain), dtype, shape and every bit of every value, signed zeros
  included, except the sign and payload of a NaN (IEEE 754 leaves them unspecified; see
  ``_assert_bitwise_equal`` and docs/guide/chunking.md). The one definition of "same bits" in the
  suite: a test that needs a NaN's raw bits says why next to its own comparison.

Hypothesis strategies shared by the test modules live in ``strategies.py``.
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Both profiles: no deadline (an example builds and computes a dask graph, whose timing varies),
# and large or slow-to-generate examples are fine.
_PROFILE = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("default", max_examples=60, **_PROFILE)
settings.register_profile("ci", max_examples=500, print_blob=True, **_PROFILE)
# HYPOTHESIS_PROFILE wins; otherwise CI=true (set by .ci/run's environment) selects "ci".
_ci = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if _ci else "default"))


def pytest_configure(config):
    # The upstream test modules imported by tests/test_upstream_*.py use marks their own
    # conftest files register (which pytest does not load from site-packages); register them
    # here or --strict-markers fails collection in a fresh environment.
    config.addinivalue_line("markers", "thread_unsafe: numpy's mark for tests unsafe under threads")
    config.addinivalue_line("markers", "flaky: xarray's mark for tests retried on failure")
    config.addinivalue_line("markers", "network: xarray's mark for tests that need the network")


class ComputeForbidden(RuntimeError):
    """Raised by the ``raise_on_compute`` scheduler."""


def _raise_on_compute_get(dsk, keys, **kwargs):
    # A dask scheduler is any callable ``get(dsk, keys, **kwargs)``; this one refuses all work.
    n = len(dsk) if hasattr(dsk, "__len__") else "?"
    raise ComputeForbidden(
        f"dask tried to compute {n} task(s) while building; keys requested: {keys!r:.200}"
    )


@pytest.fixture(scope="session")
def raise_on_compute():
    """A dask scheduler that fails on any compute: ``with dask.config.set(scheduler=raise_on_compute)``."""
    return _raise_on_compute_get


def _counting_array(arr, chunks):
    import dask.array as da

    arr = np.asarray(arr)
    calls = itertools.count()
    seen = []

    def materialise(block):
        # Runs once per data block that is actually computed (never at graph-build time: meta given).
        seen.append(next(calls))
        return block

    base = da.from_array(arr, chunks=chunks)
    counted = base.map_blocks(
        materialise, dtype=arr.dtype, meta=np.empty((0,) * arr.ndim, arr.dtype)
    )
    return counted, lambda: len(seen)


@pytest.fixture(scope="session")
def counting_array():
    """``counting_array(arr, chunks) -> (dask_array, counter)``; ``counter()`` counts computed data blocks."""
    return _counting_array


def _uint_view(a: np.ndarray) -> np.ndarray:
    """Flat view of the raw bits: unsigned ints of the same itemsize (int64 for datetime/timedelta)."""
    flat = np.array(a, copy=True, order="C", subok=False).reshape(-1)
    if flat.dtype.kind in "mM":
        return flat.view(np.int64)
    if flat.dtype.kind == "c":
        # complex: compare both halves, each as an unsigned int of the component's size
        part = flat.dtype.itemsize // 2
        return flat.view(np.dtype(f"u{part}"))
    if flat.dtype.kind == "b":
        return flat.view(np.uint8)
    return flat.view(np.dtype(f"u{flat.dtype.itemsize}"))


def _describe(a) -> str:
    with np.printoptions(precision=20, threshold=50, edgeitems=5):
        return repr(a)


def _assert_bitwise_equal(actual, desired, *, err_msg: str = "", _path: str = "result") -> None:
    where = f"{_path} ({err_msg})" if err_msg else _path
    assert type(actual) is type(desired), (
        f"{where}: type {type(actual).__name__} != expected {type(desired).__name__}"
    )
    if isinstance(desired, (tuple, list)):
        assert len(actual) == len(desired), f"{where}: length {len(actual)} != {len(desired)}"
        for i, (a, d) in enumerate(zip(actual, desired, strict=True)):
            _assert_bitwise_equal(a, d, err_msg=err_msg, _path=f"{_path}[{i}]")
        return
    assert actual.dtype == desired.dtype, f"{where}: dtype {actual.dtype} != {desired.dtype}"
    assert actual.shape == desired.shape, f"{where}: shape {actual.shape} != {desired.shape}"
    if isinstance(desired, np.ma.MaskedArray):
        np.testing.assert_array_equal(
            np.ma.getmaskarray(actual), np.ma.getmaskarray(desired), err_msg=f"{where}: mask"
        )
        actual, desired = np.ma.getdata(actual), np.ma.getdata(desired)
    if desired.dtype.kind in "fc":
        # The sign and payload of a NaN are the one thing IEEE 754 leaves unspecified, and
        # neither numpy nor a compiler keeps them stable: numpy's complex loops give the same
        # element a different NaN sign depending on the length of the operation
        # (test_properties.py::test_numpy_complex_nan_sign_is_not_stable), and LLVM commutes
        # `x + y` where both are NaN differently in a compiled loop's vector body and its
        # scalar tail (test_kernels.py::test_compiled_nan_sign_depends_on_position).  Which
        # elements are NaN is compared, and every bit of every other value, signed zeros too.
        actual, desired = _canonical_nan(actual), _canonical_nan(desired)
    bits, expected_bits = _uint_view(actual), _uint_view(desired)
    if np.array_equal(bits, expected_bits):
        return  # the message below costs ~0.1 s per call (two reprs): build it only on failure
    np.testing.assert_array_equal(
        bits,
        expected_bits,
        err_msg=(
            f"{where}: bits differ (views as unsigned ints shown above)\n"
            f"actual  = {_describe(actual)}\ndesired = {_describe(desired)}"
        ),
        strict=True,
    )


def _canonical_nan(a: np.ndarray) -> np.ndarray:
    """Float or complex array with every NaN (component) replaced by the one default NaN."""
    # C order: a complex array viewed as its real parts needs a contiguous last axis (results
    # follow their input's layout, Fortran order or strided included)
    parts = np.array(a, copy=True, order="C")
    parts = parts.view(parts.real.dtype) if parts.dtype.kind == "c" else parts
    parts[np.isnan(parts)] = np.nan
    return parts.view(a.dtype)


@pytest.fixture
def engine_calls(monkeypatch):
    """``(axes, options)`` of every call the labelled layer makes to the one-pass engine."""
    from xgrad import labelled

    calls = []
    real = labelled.differentiate

    def spy(f, axes, *args, **kwargs):
        calls.append((axes, kwargs))
        return real(f, axes, *args, **kwargs)

    monkeypatch.setattr(labelled, "differentiate", spy)
    return calls


@pytest.fixture(scope="session")
def assert_bitwise_equal():
    """``assert_bitwise_equal(actual, desired, err_msg="")``: same type, dtype, shape and bits."""
    return _assert_bitwise_equal
