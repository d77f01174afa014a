"""Whether a curvilinear grid really wraps around where ``boundary="periodic"`` says it does.

On a 1-D coordinate the seam's spacing is ``first + period - last`` (:mod:`xgrad.periodic`); on a
curvilinear grid (2-D latitude/longitude) it is the distance between the last and the first
column, read from the positions. Three common mistakes give a silently wrong band of results
there, so :func:`check_periodic_seams` refuses them while the graph is built, reading only the
four columns next to the seam:

* **halo columns** (NEMO files written with the model's ``jpi`` halo: column ``-2`` repeats
  column ``0`` and column ``-1`` repeats column ``1``): the stencil across the seam would span
  the same point twice;
* **a grid that does not wrap around** (a regional grid, or a global one cut to a region): the
  seam would join two columns thousands of kilometres apart as if they were neighbours;
* **a cyclic point** (the first column repeated at the end, as added for plotting).

The seam may be at most :data:`SEAM_RATIO` times longer than the spacing of the columns beside
it, on every row whose positions are known (``tests/test_seams.py``); on the iris-sample NEMO and
ORCA2 files it is within 1.4% of them or shorter (the north fold's rows).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from .coords import Spacing
from .earth import MEAN_RADIUS, Figure
from .grids import HorizontalGrid
from .metrics import _latitude_longitude

__all__ = ["SEAM_RATIO", "check_periodic_seams"]

SEAM_RATIO = 2.0
"""How many times longer than its neighbours' the seam's spacing may be."""


def check_periodic_seams(
    obj: Any, grid: HorizontalGrid | None, spacings: Sequence[Spacing]
) -> None:
    """ValueError where a periodic dim of a curvilinear grid does not join up at its seam."""
    if grid is None or grid.kind != "curvilinear":
        return
    for s in spacings:
        if s.period is not None and s.dim in (grid.y, grid.x) and s.size >= 4:
            _check_seam(obj, grid, s.dim)


def _check_seam(obj: Any, grid: HorizontalGrid, dim: Hashable) -> None:
    edge = obj.isel({dim: [0, 1, -2, -1]})  # four columns: a dask coordinate computes only these
    lat, lon = _latitude_longitude(edge, grid)
    p = Figure.sphere(1.0).positions(lat, lon)
    p = np.moveaxis(p, 1 + (grid.y, grid.x).index(dim), 1)  # (3, 4 along dim, rows)
    p = p.reshape(3, 4, -1)

    def apart(a: int, b: int) -> np.ndarray:
        return np.linalg.norm(p[:, a] - p[:, b], axis=0) * MEAN_RADIUS / 1e3  # km

    seam, first, last = apart(3, 0), apart(0, 1), apart(2, 3)
    beside = np.maximum(first, last)
    known = np.isfinite(seam) & (beside > 0)  # rows of made-up zeros over land tell nothing
    if not known.any():
        return
    other = grid.y if dim == grid.x else grid.x
    if np.all((apart(2, 0) <= 1e-6 * beside) & (apart(3, 1) <= 1e-6 * beside) | ~known):
        raise ValueError(
            f"boundary='periodic' along {dim!r}: the grid's last two columns repeat its first "
            f"two (halo columns, as in NEMO files written with the model's halo), so the seam "
            f"would join a point to itself; drop them: `da.isel({dim}=slice(1, -1))`"
        )
    if np.all((seam <= 1e-6 * beside) | ~known):
        raise ValueError(
            f"boundary='periodic' along {dim!r}: the grid's last column repeats its first (a "
            f"cyclic point, as added for plotting), so the seam would join a point to itself; "
            f"drop it: `da.isel({dim}=slice(None, -1))`"
        )
    # only too long: near a tripolar grid's north fold the seam shrinks to a few % of its
    # neighbours (the iris-sample NEMO file's last rows); it is never longer on a global grid
    bad = known & (seam > SEAM_RATIO * beside)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"boundary='periodic' along {dim!r}, but the grid does not wrap around there: at "
            f"{other} index {k} its last and first points along {dim!r} are {seam[k]:.4g} km "
            f"apart, where neighbouring points are {first[k]:.4g} and {last[k]:.4g} km apart "
            f"(a regional grid, or a global one cut short); use `boundary={{{dim!r}: 'edge'}}`"
        )
