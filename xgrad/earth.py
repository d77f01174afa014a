"""The Earth's size: the one home of the mean radius and the reference ellipsoids.

``radius=None`` means the grid mapping's figure of the Earth when there is one, else the mean
radius :data:`MEAN_RADIUS`; a number is a sphere of that radius in metres; an ellipsoid name
(:data:`ELLIPSOIDS`) uses its meridional and prime-vertical radii of curvature.
"""

from __future__ import annotations

__all__ = ["ELLIPSOIDS", "MEAN_RADIUS"]

#: The mean radius of the Earth in metres (IUGG: (2a + b) / 3 of WGS84).
MEAN_RADIUS = 6371008.8

#: Reference ellipsoids by name: (semi-major axis in metres, inverse flattening).
ELLIPSOIDS: dict[str, tuple[float, float]] = {
    "WGS84": (6378137.0, 298.257223563),
    "GRS80": (6378137.0, 298.257222101),
}
