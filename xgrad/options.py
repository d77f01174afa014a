"""The options of every entry point: names, allowed values, defaults, and the one validator.

``xgrad.gradient`` (``edge_order``, ``accuracy``, ``nan``), the engine and every ``.grad``
method take their options through :func:`check_choice` and :class:`Options`, so a value is
checked once, by type and by value, with one message style: the option's name, the value
given, the valid choices and an example (``tests/test_errors.py``, ``tests/test_accessor.py``).
Checks that need the data (which dims a per-dimension mapping may name) are
:meth:`Options.check_dims`.
"""

from __future__ import annotations

import datetime
import math
import numbers
import sys
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .earth import ELLIPSOIDS, MEAN_RADIUS

__all__ = [
    "CHOICES",
    "DATETIME_UNITS",
    "Options",
    "check_choice",
    "check_datetime_unit",
    "check_dim_key",
    "outside_xgrad",
]

#: The options whose values come from a fixed list, with that list (the default first).
CHOICES: dict[str, tuple[Any, ...]] = {
    "edge_order": (1, 2),
    "accuracy": (2, 4, 6),
    "nan": ("propagate", "one-sided"),
    "geometry": ("auto", "cartesian", "sphere"),
    "boundary": ("auto", "edge", "periodic"),
}

#: ``datetime_unit`` values and the CF/udunits spelling of each (numpy's "m" is the minute).
DATETIME_UNITS: dict[str, str] = {
    "W": "week",
    "D": "d",
    "h": "h",
    "m": "min",
    "s": "s",
    "ms": "ms",
    "us": "us",
    "ns": "ns",
}


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and np.ndim(value) > 0


def check_choice(option: str, value: Any, label: str | None = None) -> Any:
    """``value`` if it is one of ``CHOICES[option]`` (integral numbers as Python ints).

    TypeError for an array, and for a value that is not a number where the choices are
    numbers (``edge_order='2'``: numpy's type); ValueError for a value not in the list (bools
    included: True is not the edge order 1).  A 0-d array counts as its value.  ``label``
    names the value in messages (``"boundary['x']"`` for a per-dimension entry).

    Examples
    --------
    >>> check_choice("accuracy", 4.0), check_choice("edge_order", np.int64(2))
    (4, 2)
    >>> check_choice("nan", "skip")
    Traceback (most recent call last):
    ...
    ValueError: nan='skip' is not valid; choose one of ('propagate', 'one-sided'), e.g. `nan='one-sided'`
    """
    choices = CHOICES[option]
    if type(value) in (int, str) and value in choices:  # the usual call: 2-3 us less per check
        return value
    label = label or option
    numeric = isinstance(choices[0], int)
    if _is_array(value):
        raise TypeError(
            f"{label}={value!r} is not valid: it is an array of shape {np.shape(value)}; "
            f"choose one of {choices}, e.g. `{option}={choices[-1]!r}`"
        )
    if isinstance(value, np.ndarray):  # 0-d: its number or string, as numpy compares it
        value = value[()]
    boolean = isinstance(value, (bool, np.bool_))
    if numeric and not boolean and not isinstance(value, numbers.Real):
        # numpy's `edge_order > 2` raises TypeError for a string, None or a complex number
        raise TypeError(
            f"{label}={value!r} is not valid: it must be a number, one of {choices}, "
            f"e.g. `{option}={choices[-1]!r}`"
        )
    if numeric and not boolean and float(value).is_integer():
        value = int(value)
    if boolean or not isinstance(value, Hashable) or value not in choices:
        raise ValueError(
            f"{label}={value!r} is not valid; choose one of {choices}, "
            f"e.g. `{option}={choices[-1]!r}`"
        )
    return value


def check_datetime_unit(datetime_unit: Any) -> str:
    """Validate ``datetime_unit`` and return it, with None meaning seconds.

    Examples
    --------
    >>> check_datetime_unit(None), check_datetime_unit("h")
    ('s', 'h')
    """
    if datetime_unit is None:
        # Per second whatever the storage resolution: xarray's storage-resolution default gives
        # per-ns or per-s numbers for the same data with nothing to tell them apart (xarray#9937).
        return "s"
    if _is_array(datetime_unit):
        raise TypeError(
            f"datetime_unit={datetime_unit!r} is not valid: it is an array of shape "
            f"{np.shape(datetime_unit)}; choose one of {tuple(DATETIME_UNITS)} or None (seconds), "
            "e.g. `datetime_unit='h'`"
        )
    if datetime_unit in ("Y", "M"):
        raise ValueError(
            f"datetime_unit={datetime_unit!r} is a calendar unit: years and months have no fixed "
            f"length, so they cannot be a spacing. Use a fixed unit such as `datetime_unit='D'`; "
            f"choices: {tuple(DATETIME_UNITS)}"
        )
    if not isinstance(datetime_unit, str) or datetime_unit not in DATETIME_UNITS:
        raise ValueError(
            f"datetime_unit={datetime_unit!r} is not a valid unit; choose one of "
            f"{tuple(DATETIME_UNITS)} or None (seconds), e.g. `datetime_unit='h'`"
        )
    return datetime_unit


#: Radii in this range of metres are warned about: they are planets' and moons' radii in
#: kilometres (the Earth's 6371, the Moon's 1737, Jupiter's 69911), a unit slip that made
#: every derivative 1000 times too large, labelled per metre (an audit). A unit sphere
#: (radius=1) is not warned about; no body is 1-100 km across that anyone grids this way.
KILOMETRE_RADII = (1.0e3, 1.0e5)


def outside_xgrad() -> int:
    """The ``stacklevel`` (for a warning given by the caller of this function) of the first
    frame outside xgrad: the user's call, however deep in xgrad the check ran."""
    frame, level = sys._getframe(1), 1
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("xgrad"):
        frame, level = frame.f_back, level + 1
    return level


def _check_radius(radius: Any) -> float | str | None:
    if radius is None:
        return None
    if isinstance(radius, str):
        if radius in ELLIPSOIDS:
            return radius
    elif (
        isinstance(radius, numbers.Real)
        and not isinstance(radius, (bool, np.bool_))
        and math.isfinite(radius)
        and radius > 0
    ):
        if KILOMETRE_RADII[0] <= radius < KILOMETRE_RADII[1]:  # kilometres by mistake
            warnings.warn(
                f"radius={radius!r} is in metres: a body {2 * radius / 1000:g} km across; "
                f"derivatives per metre on it are {MEAN_RADIUS / radius:.3g} times the Earth's. "
                f"For the Earth in kilometres: `radius={float(radius) * 1000!r}`",
                UserWarning,
                stacklevel=outside_xgrad(),
            )
        return float(radius)
    raise (TypeError if _is_array(radius) else ValueError)(
        f"radius={radius!r} must be a positive number of metres, e.g. `radius={MEAN_RADIUS}` "
        f"(a sphere), an ellipsoid name {tuple(ELLIPSOIDS)} or None (the grid mapping's figure, "
        "else the mean Earth radius)"
    )


def _check_period_value(option: str, value: Any) -> float:
    if isinstance(value, (np.timedelta64, datetime.timedelta)):
        # np.timedelta64 is a numbers.Real (a numpy integer): its count would be taken in the
        # coordinate's units, whatever its own (an audit: a 'ns' period read as seconds)
        raise TypeError(
            f"{option}={value!r} is a time span; give a number in the coordinate's units (a "
            "time coordinate's are datetime_unit's, seconds by default), e.g. "
            "`period=365 * 86400` for a year of days in seconds"
        )
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{option}={value!r} must be a number in the coordinate's units, e.g. `period=360`"
        )
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"{option}={value!r} must be a positive, finite number in the coordinate's units, "
            "e.g. `period=360`"
        )
    return value


def check_dim_key(obj: Any, option: str, dim: Any) -> None:
    """ValueError when a per-dimension ``option`` mapping names something that is not a dim."""
    if not isinstance(dim, Hashable) or dim not in obj.dims:
        raise ValueError(
            f"{option} names {dim!r}, which is not a dimension; dimensions are {tuple(obj.dims)!r}"
        )


@dataclass(frozen=True, kw_only=True)
class Options:
    """The keyword options shared by every ``.grad`` method (see ``DataArray.grad.along``).

    Built by keyword; every value is checked (type and value) when the record is made, and
    integral numbers are normalised (``accuracy=4.0`` is 4).

    Examples
    --------
    >>> Options(accuracy=4.0).accuracy
    4
    >>> Options(geometry=np.array(["sphere"]))
    Traceback (most recent call last):
    ...
    TypeError: geometry=array(['sphere'], dtype='<U6') is not valid: it is an array of shape (1,); choose one of ('auto', 'cartesian', 'sphere'), e.g. `geometry='sphere'`
    """

    edge_order: int = 1
    accuracy: int = 2
    datetime_unit: str | None = None
    geometry: str = "auto"
    radius: float | str | None = None
    crs: Any = None
    boundary: str | Mapping[Hashable, str] = "auto"
    period: float | Mapping[Hashable, float] | None = None
    nan: str = "propagate"
    keep_attrs: bool = True

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        for name in ("edge_order", "accuracy", "nan", "geometry"):
            put(name, check_choice(name, getattr(self, name)))
        check_datetime_unit(self.datetime_unit)
        put("radius", _check_radius(self.radius))
        boundary = self.boundary
        if isinstance(boundary, Mapping):
            for dim, value in boundary.items():
                check_choice("boundary", value, f"boundary[{dim!r}]")
        else:
            check_choice("boundary", boundary)
        period = self.period
        if isinstance(period, Mapping):
            for dim, value in period.items():
                _check_period_value(f"period[{dim!r}]", value)
        elif period is not None:
            _check_period_value("period", period)
        if not isinstance(self.keep_attrs, (bool, np.bool_)):
            raise TypeError(f"keep_attrs={self.keep_attrs!r} must be True or False")

    @property
    def time_unit(self) -> str:
        """``datetime_unit`` with None resolved to seconds."""
        return check_datetime_unit(self.datetime_unit)

    def check_dims(self, obj: Any) -> None:
        """The per-dimension mappings (``boundary``, ``period``) name dims of ``obj``."""
        for option in ("boundary", "period"):
            value = getattr(self, option)
            if isinstance(value, Mapping):
                for dim in value:
                    check_dim_key(obj, option, dim)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in signature order."""
        return tuple(f.name for f in fields(cls))
