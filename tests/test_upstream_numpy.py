"""numpy's own ``TestGradient`` (shipped in ``numpy/lib/tests/test_function_base.py``) run against xgrad.

Nothing is copied: the installed upstream module is imported, every ``test_*`` method of its
``TestGradient`` class is discovered by introspection (its own ``@pytest.mark.parametrize`` marks are
expanded here), and each is run with the module's global ``gradient`` -- and ``numpy.gradient``, which a
few upstream tests call directly -- replaced by

- ``numpy`` backend: ``xgrad.gradient`` itself;
- ``dask`` backend: a wrapper that turns ``f`` (masked arrays kept masked, via
  ``da.from_array(x, chunks=2, asarray=False)``) and every ndarray vararg into dask arrays chunked by 2,
  calls ``xgrad.gradient``, checks that the result is lazy with the input's chunks, and computes it back
  (an array stays an array, a tuple stays a tuple).

Both replacements are also oracle-checked against the real ``numpy.gradient`` on every call: where numpy
returns, xgrad's result must be bit-for-bit equal (type, dtype, shape, bits); where numpy raises, xgrad
must raise an instance of the same exception type. So upstream tests that only check "does not raise",
or compare with ``assert_almost_equal``, still get a bit-exact check.

While a case runs, numpy's gradient implementation is booby-trapped (its ``__code__`` is swapped), so
if xgrad computed anything by calling ``numpy.gradient`` -- by any name -- the case fails.
"""

from __future__ import annotations

import types

import numpy as np
import numpy.lib.tests.test_function_base as upstream
import pytest

import xgrad

UPSTREAM_CLASS = upstream.TestGradient
DASK_CHUNKS = 2

# --- discovery -------------------------------------------------------------------------------------


def _param_id(value) -> str:
    if isinstance(value, type):
        return value.__name__
    return repr(value)


def _expand_upstream_cases(cls) -> list:
    """One ``pytest.param(method_name, kwargs)`` per test method x its own parametrization."""
    cases = []
    for name in sorted(n for n in vars(cls) if n.startswith("test_")):
        method = getattr(cls, name)
        if not callable(method):
            continue
        all_marks = list(getattr(method, "pytestmark", []))
        parametrize = [m for m in all_marks if m.name == "parametrize"]
        other_marks = [m for m in all_marks if m.name != "parametrize"]
        combos: list[tuple[dict, list, list]] = [({}, [], [])]  # (kwargs, id parts, marks)
        for mark in parametrize:
            argnames, argvalues = mark.args[0], mark.args[1]
            if isinstance(argnames, str):
                argnames = [a.strip() for a in argnames.split(",") if a.strip()]
            expanded = []
            for kwargs, ids, marks in combos:
                for value in argvalues:
                    value_marks = []
                    if hasattr(value, "values") and hasattr(value, "marks"):  # pytest.param(...)
                        value_marks = list(value.marks)
                        value = value.values if len(argnames) > 1 else value.values[0]
                    values = (value,) if len(argnames) == 1 else tuple(value)
                    expanded.append(
                        (
                            {**kwargs, **dict(zip(argnames, values, strict=True))},
                            [*ids, *(_param_id(v) for v in values)],
                            [*marks, *value_marks],
                        )
                    )
            combos = expanded
        for kwargs, ids, marks in combos:
            case_id = name + (f"[{'-'.join(ids)}]" if ids else "")
            cases.append(pytest.param(name, kwargs, id=case_id, marks=[*other_marks, *marks]))
    return cases


UPSTREAM_CASES = _expand_upstream_cases(UPSTREAM_CLASS)

# --- the real numpy.gradient, kept safe from the booby trap ----------------------------------------

_NUMPY_IMPL = np.gradient._implementation  # the plain function behind numpy's dispatcher
_ORACLE = types.FunctionType(
    _NUMPY_IMPL.__code__,
    _NUMPY_IMPL.__globals__,
    "numpy_gradient_oracle",
    _NUMPY_IMPL.__defaults__,
    _NUMPY_IMPL.__closure__,
)
_ORACLE.__kwdefaults__ = _NUMPY_IMPL.__kwdefaults__


TRAP_MESSAGE = "numpy.gradient was called during the test; xgrad must not delegate to it"


def _trap(f, *varargs, axis=None, edge_order=1):
    # Runs with numpy's module globals (only its __code__ is borrowed): builtins and literals only.
    raise AssertionError("numpy.gradient was called during the test; xgrad must not delegate to it")


@pytest.fixture
def numpy_gradient_trapped():
    """Swap the code of numpy's gradient implementation for one that raises, for the test's duration."""
    original = _NUMPY_IMPL.__code__
    _NUMPY_IMPL.__code__ = _trap.__code__
    try:
        yield
    finally:
        _NUMPY_IMPL.__code__ = original


# --- the replacements -------------------------------------------------------------------------------


def _to_dask(x):
    import dask.array as da

    if isinstance(x, np.ma.MaskedArray):
        # dask keeps masked blocks masked when asked not to coerce them (asarray=False)
        return da.from_array(x, chunks=DASK_CHUNKS, asarray=False)
    return da.from_array(np.asanyarray(x), chunks=DASK_CHUNKS)


def _compute_checked(result, f_dask):
    """Check the dask result is lazy with the input's chunks, then compute it (keeping tuple/array)."""
    import dask
    import dask.array as da

    parts = result if isinstance(result, tuple) else (result,)
    for i, part in enumerate(parts):
        assert isinstance(part, da.Array), f"output {i} is {type(part).__name__}, not a dask Array"
        assert part.chunks == f_dask.chunks, f"output {i} chunks {part.chunks} != {f_dask.chunks}"
    if isinstance(result, tuple):
        computed = tuple(dask.compute(*result, scheduler="sync"))
        for i, (lazy, c) in enumerate(zip(result, computed, strict=True)):
            assert lazy.dtype == c.dtype, (
                f"output {i}: lazy dtype {lazy.dtype} != computed {c.dtype}"
            )
        return computed
    computed = result.compute(scheduler="sync")
    assert result.dtype == computed.dtype, f"lazy dtype {result.dtype} != computed {computed.dtype}"
    return computed


def _call_xgrad(backend, f, varargs, kwargs):
    if backend == "numpy":
        return xgrad.gradient(f, *varargs, **kwargs)
    f_dask = _to_dask(f)
    dask_varargs = [
        _to_dask(v) if isinstance(v, np.ndarray) and v.ndim >= 1 else v for v in varargs
    ]
    return _compute_checked(xgrad.gradient(f_dask, *dask_varargs, **kwargs), f_dask)


def _masked_filled(x):
    # Values under a mask are unspecified (numpy.ma leaves whatever the operand held there), so they
    # are zeroed before the bit comparison; the masks themselves are compared exactly.
    if isinstance(x, tuple):
        return tuple(_masked_filled(p) for p in x)
    if isinstance(x, np.ma.MaskedArray):
        out = x.copy()
        out.data[np.ma.getmaskarray(x)] = 0
        return out
    return x


def _make_replacement(backend, assert_bitwise_equal):
    def gradient(f, *varargs, **kwargs):
        try:
            expected = _ORACLE(f, *varargs, **kwargs)
        except Exception as numpy_exc:  # noqa: BLE001 -- xgrad must raise the same type
            try:
                _call_xgrad(backend, f, varargs, kwargs)
            except Exception as xgrad_exc:
                assert isinstance(xgrad_exc, type(numpy_exc)), (
                    f"numpy raised {type(numpy_exc).__name__}({numpy_exc}) but xgrad raised "
                    f"{type(xgrad_exc).__name__}({xgrad_exc})"
                )
                raise
            raise AssertionError(
                f"numpy raised {type(numpy_exc).__name__}({numpy_exc}); xgrad did not raise"
            ) from numpy_exc
        actual = _call_xgrad(backend, f, varargs, kwargs)
        assert_bitwise_equal(_masked_filled(actual), _masked_filled(expected))
        return actual

    return gradient


# --- the tests --------------------------------------------------------------------------------------


def test_upstream_cases_discovered():
    # Guard against silently testing nothing if numpy renames or moves its tests.
    names = {p.values[0] for p in UPSTREAM_CASES}
    assert {"test_basic", "test_args", "test_badargs", "test_masked", "test_spacing"} <= names
    assert len(names) >= 15
    assert len(UPSTREAM_CASES) >= 28  # four dtype-parametrized methods expand to 4 cases each


@pytest.mark.parametrize("backend", ["numpy", "dask"])
@pytest.mark.parametrize(("method", "kwargs"), UPSTREAM_CASES)
def test_numpy_testgradient(method, kwargs, backend, monkeypatch, assert_bitwise_equal, request):
    replacement = _make_replacement(backend, assert_bitwise_equal)
    monkeypatch.setattr(upstream, "gradient", replacement)
    monkeypatch.setattr(np, "gradient", replacement)
    request.getfixturevalue("numpy_gradient_trapped")
    instance = UPSTREAM_CLASS()
    if hasattr(instance, "setup_method"):
        instance.setup_method(getattr(instance, method))
    try:
        getattr(instance, method)(**kwargs)
    finally:
        if hasattr(instance, "teardown_method"):
            instance.teardown_method(getattr(instance, method))


def test_trap_catches_numpy_gradient(numpy_gradient_trapped):
    # The booby trap used above really fires, whatever name numpy.gradient is reached by.
    import numpy.lib._function_base_impl as nfb

    with pytest.raises(AssertionError, match=TRAP_MESSAGE):
        np.gradient(np.arange(4.0))
    with pytest.raises(AssertionError, match=TRAP_MESSAGE):
        nfb.gradient(np.arange(4.0))
    # ... and the oracle copy is unaffected by it
    np.testing.assert_array_equal(_ORACLE(np.arange(4.0) ** 2), [1.0, 2.0, 4.0, 5.0])
