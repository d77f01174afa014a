"""xarray's own differentiate tests, run with ``differentiate`` routed through ``.grad.along``.

The test functions are imported from the installed xarray (not copied), so they are exactly
upstream's expectations. An autouse fixture monkeypatches ``DataArray.differentiate`` and
``Dataset.differentiate`` for the duration of each test.

One difference is bridged in the routing, on purpose: xarray's default ``datetime_unit`` for a
datetime64 coordinate is its storage resolution, xgrad's is seconds (xarray#9937), so the wrapper
passes xarray's default explicitly. For cftime coordinates both default to seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import xgrad.accessor  # noqa: F401  (registers .grad)

pytest.importorskip("xarray.tests")
from xarray.tests.conftest import use_dask  # noqa: E402,F401  (fixture used by the tests below)
from xarray.tests.test_dataset import (  # noqa: E402,F401
    test_differentiate,
    test_differentiate_cftime,
    test_differentiate_datetime,
)


def _xarray_default_unit(obj, coord, datetime_unit):
    if datetime_unit is None:
        dtype = obj[coord].dtype
        if dtype.kind in "mM":
            return np.datetime_data(dtype)[0]
    return datetime_unit


def _routed_dataarray(self, coord, edge_order=1, datetime_unit=None):
    unit = _xarray_default_unit(self, coord, datetime_unit)
    return self.grad.along(coord, edge_order=edge_order, datetime_unit=unit)


def _routed_dataset(self, coord, edge_order=1, datetime_unit=None):
    unit = _xarray_default_unit(self, coord, datetime_unit)
    return self.grad.along(coord, edge_order=edge_order, datetime_unit=unit)


CALLS: list[str] = []


@pytest.fixture(autouse=True)
def route_differentiate_through_xgrad(monkeypatch):
    """Make xarray's differentiate call xgrad, and count the calls to prove it did."""

    def count(f, kind):
        def wrapper(*args, **kwargs):
            CALLS.append(kind)
            return f(*args, **kwargs)

        return wrapper

    CALLS.clear()
    monkeypatch.setattr(xr.DataArray, "differentiate", count(_routed_dataarray, "da"))
    monkeypatch.setattr(xr.Dataset, "differentiate", count(_routed_dataset, "ds"))
    yield
    assert CALLS, "the upstream test never called differentiate"
