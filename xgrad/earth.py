"""The Earth's size: the one home of the mean radius, the reference ellipsoids and the figure.

``radius=None`` means the grid mapping's figure of the Earth when there is one, else the mean
radius :data:`MEAN_RADIUS`; a number is a sphere of that radius in metres; an ellipsoid name
(:data:`ELLIPSOIDS`) uses its meridional and prime-vertical radii of curvature. The
:class:`Figure` record holds whichever was chosen and gives those radii:

    M(phi) = a (1 - e^2) / (1 - e^2 sin^2 phi)^(3/2)     (meridional, for d/dy)
    N(phi) = a / sqrt(1 - e^2 sin^2 phi)                 (prime vertical, for d/dx)

with ``e^2 = f (2 - f)``; on a sphere both are the radius.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ELLIPSOIDS", "MEAN_RADIUS", "Figure"]

#: The mean radius of the Earth in metres (IUGG: (2a + b) / 3 of WGS84).
MEAN_RADIUS = 6371008.8

#: Reference ellipsoids by name: (semi-major axis in metres, inverse flattening).
ELLIPSOIDS: dict[str, tuple[float, float]] = {
    "WGS84": (6378137.0, 298.257223563),
    "GRS80": (6378137.0, 298.257222101),
}


def _number(attrs: Mapping[str, Any], key: str) -> float | None:
    value = attrs.get(key)
    if value is None:
        return None
    value = np.asarray(value).ravel()
    if value.size != 1 or value.dtype.kind not in "iuf" or not np.isfinite(value[0]):
        raise ValueError(
            f"grid mapping attribute {key}={attrs.get(key)!r} must be one finite number of "
            f"metres; fix it or give the figure of the Earth yourself, e.g. `radius={MEAN_RADIUS}`"
        )
    return float(value[0])


@dataclass(frozen=True, kw_only=True)
class Figure:
    """The figure of the Earth: a sphere (``inverse_flattening=0``) or an ellipsoid.

    Attributes
    ----------
    semi_major_axis : float
        ``a`` in metres (the radius of a sphere).
    inverse_flattening : float
        ``1/f``; 0 means a sphere.
    name : str or None
        The ellipsoid's name when it is a known one (:data:`ELLIPSOIDS`).

    Examples
    --------
    >>> Figure.from_option(None).label, Figure.from_option("WGS84").label
    (6371008.8, 'WGS84')
    >>> wgs84 = Figure.from_option("WGS84")
    >>> round(float(wgs84.meridional_radius(0.0)), 3), round(float(wgs84.prime_vertical_radius(0.0)), 3)
    (6335439.327, 6378137.0)
    """

    semi_major_axis: float
    inverse_flattening: float = 0.0
    name: str | None = None

    @classmethod
    def sphere(cls, radius: float) -> Figure:
        """A sphere of ``radius`` metres."""
        return cls(semi_major_axis=float(radius))

    @classmethod
    def ellipsoid(cls, a: float, inverse_flattening: float) -> Figure:
        """An ellipsoid, named when it is one of :data:`ELLIPSOIDS` (to 1e-9)."""
        if inverse_flattening == 0:
            return cls.sphere(a)
        name = next(
            (
                k
                for k, (ka, kf) in ELLIPSOIDS.items()
                if math.isclose(a, ka, rel_tol=1e-12)
                and math.isclose(inverse_flattening, kf, rel_tol=1e-9)
            ),
            None,
        )
        return cls(
            semi_major_axis=float(a), inverse_flattening=float(inverse_flattening), name=name
        )

    @classmethod
    def from_option(cls, radius: float | str | None) -> Figure:
        """The figure for a validated ``radius`` option (None: the mean Earth radius)."""
        if radius is None:
            return cls.sphere(MEAN_RADIUS)
        if isinstance(radius, str):
            a, inverse = ELLIPSOIDS[radius]
            return cls(semi_major_axis=a, inverse_flattening=inverse, name=radius)
        return cls.sphere(radius)

    @classmethod
    def from_cf(cls, attrs: Mapping[str, Any]) -> Figure | None:
        """The figure a CF grid mapping states (``earth_radius``, or ``semi_major_axis`` with
        ``semi_minor_axis`` or ``inverse_flattening``), or None when it states none.

        >>> Figure.from_cf({"semi_major_axis": 6371229.0, "semi_minor_axis": 6371229.0}).label
        6371229.0
        >>> Figure.from_cf({"semi_major_axis": 6378137.0, "inverse_flattening": 298.257223563}).name
        'WGS84'
        """
        radius = _number(attrs, "earth_radius")
        if radius is not None:
            return cls.sphere(radius)
        a = _number(attrs, "semi_major_axis")
        if a is None:
            return None
        b = _number(attrs, "semi_minor_axis")
        inverse = _number(attrs, "inverse_flattening")
        if inverse is None and b is not None:
            inverse = 0.0 if b == a else a / (a - b)
        return cls.ellipsoid(a, inverse or 0.0)

    @property
    def is_sphere(self) -> bool:
        return self.inverse_flattening == 0

    @property
    def eccentricity_squared(self) -> float:
        if self.is_sphere:
            return 0.0
        f = 1.0 / self.inverse_flattening
        return f * (2.0 - f)

    @property
    def label(self) -> float | str:
        """The ``xgrad_radius`` attribute: metres for a sphere, else the ellipsoid's name (or
        its parameters when it has none)."""
        if self.is_sphere:
            return self.semi_major_axis
        if self.name is not None:
            return self.name
        return f"ellipsoid a={self.semi_major_axis:.10g} m, 1/f={self.inverse_flattening:.12g}"

    def cf_attrs(self) -> dict[str, float]:
        """The figure as CF grid-mapping attributes."""
        if self.is_sphere:
            return {"earth_radius": self.semi_major_axis}
        return {
            "semi_major_axis": self.semi_major_axis,
            "inverse_flattening": self.inverse_flattening,
        }

    def _w(self, phi: Any) -> Any:
        return 1.0 - self.eccentricity_squared * np.sin(phi) ** 2

    def meridional_radius(self, phi: Any) -> Any:
        """``M(phi)`` in metres (``phi`` in radians): metres per radian of latitude."""
        e2 = self.eccentricity_squared
        return self.semi_major_axis * (1.0 - e2) / self._w(phi) ** 1.5

    def prime_vertical_radius(self, phi: Any) -> Any:
        """``N(phi)`` in metres (``phi`` in radians): ``N cos phi`` metres per radian of
        longitude."""
        return self.semi_major_axis / np.sqrt(self._w(phi))

    def positions(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Earth-centred positions ``(3,) + lat.shape`` of points at ``lat``/``lon`` (radians):
        unit vectors ``(cos lat cos lon, cos lat sin lon, sin lat)`` on a sphere (times the
        radius by the caller), metres on an ellipsoid.  ``cos lat`` is exactly 0 at a pole
        (``np.cos(np.pi / 2)`` is 6e-17): the points of a grid's pole row coincide, so the
        derivatives along that row are NaN as on a regular grid, not noise over 1e-10 m."""
        cos_lat = np.where(np.abs(lat) == np.pi / 2, 0.0, np.cos(lat))
        # written into one (3, ...) array: no np.stack copy (a large grid's fixed cost)
        out = np.empty((3, *np.shape(cos_lat)), dtype=np.result_type(cos_lat, np.float64))
        np.multiply(cos_lat, np.cos(lon), out=out[0])
        np.multiply(cos_lat, np.sin(lon), out=out[1])
        np.sin(lat, out=out[2])
        if not self.is_sphere:
            n = self.prime_vertical_radius(lat)
            out[0] *= n
            out[1] *= n
            out[2] *= n * (1.0 - self.eccentricity_squared)
        return out


def is_number(value: Any) -> bool:
    """A real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
