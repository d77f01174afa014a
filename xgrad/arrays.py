"""What kind of array is this: the one home of "is it dask", "is it a pint quantity", "a duck array".

Every module asks these questions through the functions here, so the answer never depends on
which module asked (``tests/test_duck.py`` covers the duck array and quantity paths).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["difference_units", "is_dask_array", "is_duck_array", "is_quantity", "magnitude"]


def is_dask_array(x: Any) -> bool:
    """A ``dask.array.Array`` (checked without importing dask)."""
    return type(x).__module__.startswith("dask.") and hasattr(x, "__dask_graph__")


def is_duck_array(x: Any) -> bool:
    """cupy, pint, sparse...: arrays numpy must not convert (they dispatch via NEP 18)."""
    return (
        not isinstance(x, np.ndarray)
        and hasattr(x, "__array_function__")
        and hasattr(x, "shape")
        and hasattr(x, "dtype")
    )


def is_quantity(x: Any) -> bool:
    """A pint Quantity (bare, or the data of a pint-xarray quantified DataArray)."""
    return hasattr(x, "_REGISTRY") and hasattr(x, "magnitude") and hasattr(x, "units")


def magnitude(x: Any) -> Any:
    """The numbers of a pint quantity; anything else unchanged."""
    return x.magnitude if is_quantity(x) else x


def difference_units(units: Any) -> Any:
    """The pint units of a difference of values in ``units``: ``delta_degC`` for ``degC``.

    An offset unit's differences (hence its derivatives) are in the matching delta unit, as
    pint's own ``numpy.gradient`` gives; multiplicative units are their own.
    """
    registry = units._REGISTRY
    if registry.Quantity(1, units)._is_multiplicative:
        return units
    (name,) = units._units
    return registry.Unit(f"delta_{name}")
