"""Hypothesis strategies shared by the test suite (one home, as flox's tests/strategies.py).

Every layer gets property tests from the same generators, so a case one test finds (a size-1 chunk,
a descending coordinate, a negative stride) is a case every test can draw.

numpy.gradient's arguments (``test_properties.py``)
    :func:`shapes`, :func:`data_arrays` (every dtype numpy.gradient takes, NaN/inf/subnormals),
    :func:`scalar_spacings` and :func:`coordinate_spacings` (every spacing form numpy accepts,
    valid or not), :func:`axis_args`, and :func:`gradient_calls` that combines them in a
    :class:`Call`.
Chunks and memory layouts
    :func:`chunkings` (any partition of each axis: size-1 and ragged chunks), :func:`layouts`
    (the same values C- or Fortran-ordered, transposed, strided in a bigger array, with negative
    strides) and :func:`dask_arrays` (``da.from_array`` of such a view, randomly chunked).
Labelled coordinates (``test_properties_labelled.py``)
    :func:`monotonic_coordinates` (uniform, non-uniform, integer, float32, datetime64,
    timedelta64; ascending or descending), :func:`periodic_longitudes` (one full turn in degrees
    or radians, with or without an offset, as a :class:`Longitudes` record) and
    :func:`latlon_grids` (a field on a regular latitude/longitude grid with CF attributes).

Sizes are kept small (:data:`MAX_SIDE`, :data:`MAX_SIZE`, :data:`MAX_BLOCKS`) so that one
example builds and computes its dask graph in milliseconds; the hypothesis profiles in
``conftest.py`` set how many examples run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import dask.array as da
import numpy as np
import xarray as xr
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays, from_dtype
from numpy.lib.array_utils import normalize_axis_tuple

MAX_SIDE = 12
MAX_SIZE = 3000  # elements in one generated array (a 12x12x12 cube plus change)
MAX_BLOCKS = 150  # dask blocks in one generated chunking; keeps graphs quick to build and run

INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOAT_DTYPES = ["float16", "float32", "float64", "complex64", "complex128"]
TIME_DTYPES = [
    "datetime64[ns]",
    "datetime64[s]",
    "datetime64[D]",
    "timedelta64[ns]",
    "timedelta64[s]",
]
ALL_DTYPES = [np.dtype(d) for d in [*INT_DTYPES, *FLOAT_DTYPES, *TIME_DTYPES, "bool"]]
NAT = np.iinfo(np.int64).min


# --- numpy.gradient's arguments -------------------------------------------------------------------


@st.composite
def shapes(draw, min_dims=1, max_dims=4):
    """Shapes of at most :data:`MAX_SIZE` elements, axes 1..:data:`MAX_SIDE` long (1-2 at times)."""
    ndim = draw(st.integers(min_dims, max_dims))
    shape, budget = [], MAX_SIZE
    for _ in range(ndim):
        cap = max(1, min(MAX_SIDE, budget))
        if cap < 3 or draw(st.integers(0, 15)) == 0:
            n = draw(st.integers(1, min(2, cap)))  # too short for some edge_order: numpy raises
        else:
            n = draw(st.integers(3, cap))
        shape.append(n)
        budget //= n
    return tuple(draw(st.permutations(shape)))


@st.composite
def data_arrays(draw, shape, dtype):
    """Values of ``dtype``: NaN (any sign, payload), inf, subnormals and extremes for floats."""
    dtype = np.dtype(dtype)
    if dtype.kind in "mM":
        # Moderate int64 values (and NaT) so that numpy's own float->int64 casts stay defined.
        ints = st.one_of(st.integers(-(10**12), 10**12), st.just(NAT))
        return draw(arrays(np.int64, shape, elements=ints)).view(dtype)
    if dtype.kind in "fc":
        elements = st.one_of(
            from_dtype(dtype),  # NaN (with payloads and signs), inf, subnormals, extremes
            from_dtype(dtype, min_value=-1e3, max_value=1e3)
            if dtype.kind == "f"
            else st.complex_numbers(max_magnitude=1e3, width=dtype.itemsize * 8),
        )
        return draw(arrays(dtype, shape, elements=elements))
    return draw(arrays(dtype, shape, elements=from_dtype(dtype)))


def _magnitudes():
    return st.one_of(st.floats(1e-3, 1e3), st.sampled_from([0.5, 1.0, 2.0, 0.1, 3.0]))


@st.composite
def scalar_spacings(draw, time_data):
    """One scalar spacing in every form numpy takes (python, numpy or 0-d), zero at times."""
    form = draw(st.sampled_from(["float", "int", "np.float32", "np.float64", "0d"]))
    sign = draw(st.sampled_from([1, -1]))
    if not time_data and draw(st.integers(0, 19)) == 0:
        value = 0.0  # zero spacing: inf/NaN, but numpy defines it
    else:
        value = sign * draw(_magnitudes())
    if form == "float":
        return float(value)
    if form == "int":
        return int(sign * draw(st.integers(1, 1000)) if value != 0 else 0)
    if form == "np.float32":
        return np.float32(value)
    if form == "np.float64":
        return np.float64(value)
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    return np.array(value if dtype is not np.int64 else round(value) or sign, dtype=dtype)


@st.composite
def coordinate_spacings(draw, n, time_data):
    """A 1-D coordinate of ``n`` values as numpy.gradient takes it (unsorted ones too)."""
    kinds = ["uniform", "uniform_int", "nonuniform", "descending", "int", "float32", "uniform32"]
    if not time_data:
        kinds.append("unsorted")  # repeats and sign changes: numpy gives inf/NaN, deterministically
    kind = draw(st.sampled_from(kinds))
    start = draw(st.floats(-1e3, 1e3))
    step = draw(_magnitudes())
    steps = np.array(draw(st.lists(_magnitudes(), min_size=n, max_size=n)))
    if kind == "uniform":
        coord = start + step * np.arange(n)
    elif kind == "uniform_int":
        coord = np.arange(n, dtype=np.int64) * draw(st.integers(-50, 50).filter(bool))
    elif kind == "uniform32":
        coord = np.float32(start) + np.float32(step) * np.arange(n, dtype=np.float32)
    elif kind == "nonuniform":
        coord = start + np.cumsum(steps)
    elif kind == "descending":
        coord = (start + np.cumsum(steps))[::-1]
    elif kind == "int":
        dtype = draw(st.sampled_from([np.int64, np.int32, np.uint32, np.uint16]))
        coord = np.cumsum(draw(st.lists(st.integers(1, 40), min_size=n, max_size=n)))
        coord = coord.astype(dtype)
        if draw(st.booleans()):
            coord = coord[::-1]  # descending unsigned: numpy converts ints to float64 first
    elif kind == "float32":
        coord = (start + np.cumsum(steps)).astype(np.float32)
    else:
        coord = np.array(draw(st.lists(st.floats(-10, 10), min_size=n, max_size=n)))
    if draw(st.integers(0, 9)) == 0:
        return coord.tolist()
    return coord


@st.composite
def axis_args(draw, ndim):
    """``axis=`` in every spelling numpy accepts, and some it refuses."""
    form = draw(
        st.sampled_from(
            ["none"] * 4
            + ["int", "neg", "np.int"] * 2
            + ["tuple"] * 4
            + ["list", "empty", "invalid", "repeated"]
        )
    )
    if form == "none":
        return None
    if form == "int":
        return draw(st.integers(0, ndim - 1))
    if form == "neg":
        return draw(st.integers(-ndim, -1))
    if form == "np.int":
        return np.int64(draw(st.integers(-ndim, ndim - 1)))
    if form in ("tuple", "list"):
        axes = draw(st.permutations(range(ndim)))[: draw(st.integers(1, ndim))]
        axes = [a - ndim if draw(st.booleans()) else a for a in axes]
        return tuple(axes) if form == "tuple" else list(axes)
    if form == "empty":
        return ()
    if form == "invalid":
        return draw(st.sampled_from([ndim, -ndim - 1, (0, ndim)]))
    return (0, 0) if ndim == 1 else (0, 1, -ndim)


@dataclass
class Call:
    f: np.ndarray
    varargs: tuple
    axis: object
    edge_order: int

    def kwargs(self):
        return {"axis": self.axis, "edge_order": self.edge_order}


@st.composite
def gradient_calls(draw, dtypes=ALL_DTYPES, shape=None):
    """A :class:`Call` of numpy.gradient, valid or not (wrong counts, lengths, 2-D spacings)."""
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(shapes()) if shape is None else shape
    f = draw(data_arrays(shape, dtype))
    time_data = dtype.kind in "mM"
    axis = draw(axis_args(len(shape)))
    edge_order = draw(st.sampled_from([1, 2]))
    try:
        axes = normalize_axis_tuple(axis, len(shape)) if axis is not None else range(len(shape))
    except Exception:
        axes = range(len(shape))
    lengths = [shape[a] for a in axes]

    mode = draw(
        st.sampled_from(
            ["none"] * 3 + ["single"] * 3 + ["per_axis"] * 6 + ["bad_count", "bad_length", "2d"]
        )
    )
    if mode == "none":
        varargs = ()
    elif mode == "single":
        varargs = (draw(scalar_spacings(time_data)),)
    else:
        varargs = []
        for n in lengths:
            if draw(st.booleans()):
                varargs.append(draw(scalar_spacings(time_data)))
            else:
                varargs.append(draw(coordinate_spacings(n, time_data)))
        if mode == "bad_count":
            if varargs and draw(st.booleans()):
                varargs.pop()
            else:
                varargs.append(draw(scalar_spacings(time_data)))
        elif mode == "bad_length" and lengths:
            i = draw(st.integers(0, len(lengths) - 1))
            varargs[i] = np.arange(lengths[i] + draw(st.sampled_from([-1, 1, 2])), dtype=float)
        elif mode == "2d" and lengths:
            i = draw(st.integers(0, len(lengths) - 1))
            varargs[i] = np.ones((lengths[i], 2))
        varargs = tuple(varargs)
    return Call(f, varargs, axis, edge_order)


# --- chunks and memory layouts --------------------------------------------------------------------


@st.composite
def chunkings(draw, shape, max_blocks=MAX_BLOCKS):
    """Random chunks for ``shape``: any partition of each axis, size-1 and ragged chunks too."""
    chunks, budget = [], max_blocks
    for n in draw(st.permutations(range(len(shape)))):
        length = shape[n]
        max_pieces = max(1, min(length, budget))
        style = draw(st.sampled_from(["random", "random", "regular", "ones", "whole"]))
        if style == "whole" or max_pieces == 1:
            sizes = (length,)
        elif style == "ones" and length <= max_pieces:
            sizes = (1,) * length
        elif style == "regular":
            size = draw(st.integers(max(1, -(-length // max_pieces)), length))
            sizes = (size,) * (length // size) + ((length % size,) if length % size else ())
        else:
            cuts = draw(
                st.lists(
                    st.integers(1, length - 1), unique=True, max_size=min(max_pieces, length) - 1
                )
            )
            edges = [0, *sorted(cuts), length]
            sizes = tuple(b - a for a, b in zip(edges[:-1], edges[1:], strict=True))
        chunks.append((n, sizes))
        budget = max(1, budget // len(sizes))
    return tuple(sizes for _, sizes in sorted(chunks))


#: The memory layouts :func:`layouts` draws from.
LAYOUTS = ("C", "F", "transposed", "strided", "reversed", "mixed")


def _filler(dtype: np.dtype):
    """What fills the bigger array around a strided view: a value a stray read would show."""
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind in "mM":
        return np.array("NaT", dtype=dtype)
    if dtype.kind == "b":
        return True
    return np.iinfo(dtype).max


@st.composite
def layouts(draw, f, kinds=LAYOUTS):
    """``f``'s values (bit for bit) in another memory layout, never sharing ``f``'s memory.

    "C": a C-contiguous copy. "F": Fortran order. "transposed": C order in a permuted axis order,
    seen through ``.transpose`` (a 2-D one is Fortran order). "strided": every 1st to 3rd element
    of a bigger array, from an offset (what slicing a bigger array gives). "reversed": negative
    strides on some axes. "mixed": all of these at once. Around a strided view the bigger array
    holds NaN (NaT, the largest integer), so a kernel reading past the view's elements shows.
    """
    f = np.asarray(f)
    kind = draw(st.sampled_from(kinds), label="layout")
    if kind == "C":
        return np.array(f, order="C", copy=True)
    if kind == "F":
        return np.array(f, order="F", copy=True)
    ndim = f.ndim
    order, steps, pads, flips = list(range(ndim)), [1] * ndim, [0] * ndim, [False] * ndim
    if kind in ("transposed", "mixed"):
        order = draw(st.permutations(range(ndim)), label="memory order of the axes")
    if kind in ("strided", "mixed"):
        steps = draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim), label="steps")
        pads = draw(st.lists(st.integers(0, 2), min_size=ndim, max_size=ndim), label="offsets")
    if kind in ("reversed", "mixed"):
        flips = draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim), label="reversed")
    big = [n * s + p for n, s, p in zip(f.shape, steps, pads, strict=True)]
    # The bigger array, its axes laid out in memory in the order ``order``.
    base = np.full([big[k] for k in order], _filler(f.dtype), dtype=f.dtype)
    base = base.transpose(np.argsort(order))
    view = base[tuple(slice(p, p + n * s, s) for n, s, p in zip(f.shape, steps, pads, strict=True))]
    view = view[tuple(slice(None, None, -1) if flip else slice(None) for flip in flips)]
    view[...] = f
    return view


@st.composite
def dask_arrays(draw, f, kinds=LAYOUTS, max_blocks=MAX_BLOCKS):
    """``da.from_array(view, chunks=...)``: a :func:`layouts` view of ``f``, randomly chunked."""
    view = draw(layouts(f, kinds))
    return da.from_array(view, chunks=draw(chunkings(f.shape, max_blocks), label="chunks"))


# --- labelled coordinates ----------------------------------------------------------------------


#: The kinds :func:`monotonic_coordinates` draws from.
COORDINATE_KINDS = ("uniform", "nonuniform", "int", "float32", "datetime64", "timedelta64")
#: Steps whose multiples (and sums with :data:`EXACT_OFFSETS`) are exact in float64, so that every
#: difference of the coordinate is the same float and numpy takes its uniform formulas.
EXACT_STEPS = (0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 5.0, 7.5, 9.0, 10.0, 12.0, 15.0, 18.0, 20.0, 22.5)
EXACT_STEPS += (30.0, 36.0, 40.0, 45.0, 60.0, 72.0, 90.0, 120.0)
EXACT_OFFSETS = (0.0, -180.0, 0.5, 1.25, 100.0, -0.125)
TIME_UNITS = ("ns", "us", "s", "m", "h", "D")


@st.composite
def monotonic_coordinates(draw, n, kinds=COORDINATE_KINDS, descending=None):
    """A strictly monotonic 1-D coordinate of ``n`` values, as a dimension coordinate holds it.

    "uniform": ``start + step * arange(n)``, either exactly uniform (every difference the same
    float: numpy's uniform formulas) or uniform up to rounding (its non-uniform ones).
    "nonuniform": cumulative sums of random steps. "int": integers of several widths. "float32":
    stored in float32. "datetime64" / "timedelta64": random steps in a random unit. ``descending``
    (default: drawn) reverses it.
    """
    kind = draw(st.sampled_from(kinds), label="coordinate kind")
    if kind == "uniform":
        if draw(st.booleans(), label="exactly uniform"):
            step, start = draw(st.sampled_from(EXACT_STEPS)), draw(st.sampled_from(EXACT_OFFSETS))
        else:
            step, start = draw(_magnitudes()), draw(st.floats(-1e3, 1e3))
        coord = start + step * np.arange(n)
    elif kind == "nonuniform":
        steps = draw(st.lists(_magnitudes(), min_size=n, max_size=n))
        coord = draw(st.floats(-1e3, 1e3)) + np.cumsum(steps)
    elif kind == "int":
        dtype = draw(st.sampled_from([np.int64, np.int32, np.int16, np.uint32, np.uint16]))
        steps = draw(st.lists(st.integers(1, 40), min_size=n, max_size=n))
        coord = (draw(st.integers(0, 100)) + np.cumsum(steps)).astype(dtype)
    elif kind == "float32":
        # steps of at least 0.01 on values below ~250: far above float32's rounding there
        steps = draw(st.lists(st.floats(0.01, 10.0), min_size=n, max_size=n))
        coord = (draw(st.floats(-100.0, 100.0)) + np.cumsum(steps)).astype(np.float32)
    else:
        unit = draw(st.sampled_from(TIME_UNITS), label="time unit")
        steps = np.cumsum(draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n)))
        ticks = (draw(st.integers(-(10**6), 10**6)) + steps).astype(np.int64)
        coord = ticks.astype(f"timedelta64[{unit}]")
        if kind == "datetime64":
            coord = np.datetime64("2000-01-01", unit) + coord
    if descending if descending is not None else draw(st.booleans(), label="descending"):
        coord = coord[::-1].copy()
    return coord


@dataclass(frozen=True)
class Longitudes:
    """One full turn of longitudes, as :func:`periodic_longitudes` draws them."""

    values: np.ndarray
    attrs: dict
    period: float  # in the units of ``values``: 360 or 2 pi
    per_radian: float  # 180 / pi for degrees, 1 for radians
    # Every spacing, the seam's included, is the same float: the derivative of rolled data is the
    # rolled derivative bit for bit (with unequal spacings the rolled data meet other spacings).
    exact: bool


def _cf_degrees(direction: str, standard_name: str) -> tuple[dict, ...]:
    """CF attributes of a coordinate in degrees: udunits' spellings, or a ``standard_name``."""
    letter = direction[0].upper()
    return (
        {"units": f"degrees_{direction}"},
        {"units": f"degree_{letter}"},
        {"units": f"degrees{letter}"},
        {"standard_name": standard_name},
        {"standard_name": standard_name, "units": "degrees"},
    )


LONGITUDE_ATTRS = _cf_degrees("east", "longitude")
LATITUDE_ATTRS = _cf_degrees("north", "latitude")
RADIAN_ATTRS = ({"standard_name": "longitude", "units": "radians"},)


def _all_spacings_equal(values: np.ndarray, period: float) -> bool:
    """Whether the ``n`` spacings of a periodic coordinate (the seam last) are all one float."""
    x = values.astype(np.float64)
    seam = x[0] + period - x[-1] if x[-1] > x[0] else x[0] - period - x[-1]
    return bool(np.all(np.append(np.diff(x), seam) == x[1] - x[0]))


@st.composite
def periodic_longitudes(
    draw, min_points=3, max_points=48, angles=("degrees", "radians"), exact=False
):
    """A CF longitude covering exactly one turn: :class:`Longitudes`.

    Degrees: ``np.arange(0, 360, step) + offset`` with a step from :data:`EXACT_STEPS` and an
    offset from :data:`EXACT_OFFSETS` (every spacing the same float; float64 or integers), or
    ``offset + arange(n) * (360 / n)`` with any ``n`` and offset (spacings equal only to rounding;
    ``arange(0, 360, 360 / n)`` itself can give ``n + 1`` points), possibly stored in float32.
    Radians: ``offset + arange(n) * (2 pi / n)``. Ascending or descending. ``exact=True`` draws
    only longitudes with ``exact`` set. CF attributes in several spellings.
    """
    angle = "degrees" if exact else draw(st.sampled_from(angles), label="angle")
    period = 360.0 if angle == "degrees" else 2 * math.pi
    if angle == "degrees" and (exact or draw(st.booleans(), label="exact steps")):
        steps = [s for s in EXACT_STEPS if min_points <= 360 / s <= max_points and 360 % s == 0]
        step = draw(st.sampled_from(steps), label="step")
        offset = draw(st.sampled_from(EXACT_OFFSETS), label="offset")
        values = np.arange(0, 360, step) + offset
        if step == int(step) and offset == int(offset) and draw(st.booleans(), label="integers"):
            values = values.astype(np.int64)
    else:
        n = draw(st.integers(min_points, max_points), label="points")
        offset = draw(
            st.sampled_from([0.0, -period / 2]) | st.floats(-period, period), label="offset"
        )
        values = offset + np.arange(n) * (period / n)
        if angle == "degrees" and draw(st.integers(0, 3), label="float32") == 0:
            values = values.astype(np.float32)
    if draw(st.booleans(), label="descending"):
        values = values[::-1].copy()
    attrs = draw(st.sampled_from(LONGITUDE_ATTRS if angle == "degrees" else RADIAN_ATTRS))
    equal = _all_spacings_equal(values, period)
    assert equal or not exact, f"EXACT_STEPS/EXACT_OFFSETS gave unequal spacings: {values!r}"
    return Longitudes(
        values=values,
        attrs=dict(attrs),
        period=period,
        per_radian=180 / math.pi if angle == "degrees" else 1.0,
        exact=equal,
    )


@st.composite
def latlon_grids(draw, dtypes=("float64", "float32"), max_side=10, descending=None):
    """A field ``T(lat, lon)`` on a regular grid with CF attributes: an ``xarray.DataArray``.

    Latitudes are exactly uniform (a step from :data:`EXACT_STEPS` from a multiple of 0.5, within
    [-90, 90], poles possibly included), ascending or (``descending``, default: drawn) descending.
    Longitudes are one full turn (:func:`periodic_longitudes`, degrees) or a regional band.
    Dimension order ``(lat, lon)`` or ``(lon, lat)``; values in [-1000, 1000].
    """
    nlat = draw(st.integers(3, max_side), label="latitudes")
    lat_step = draw(st.sampled_from([s for s in EXACT_STEPS if (nlat - 1) * s <= 180]))
    top = int(2 * (90 - (nlat - 1) * lat_step))  # the highest first latitude, in half degrees
    first = draw(st.integers(-180, top), label="first latitude, in halves of a degree") / 2
    lat = first + lat_step * np.arange(nlat)
    if descending if descending is not None else draw(st.booleans(), label="descending"):
        lat = lat[::-1].copy()
    lat_attrs = dict(draw(st.sampled_from(LATITUDE_ATTRS)))
    if draw(st.booleans(), label="global longitudes"):
        lon = draw(periodic_longitudes(max_points=max_side, angles=("degrees",)))
        lon_values, lon_attrs = lon.values, lon.attrs
    else:
        nlon = draw(st.integers(3, max_side), label="longitudes")
        lon_step = draw(st.sampled_from(EXACT_STEPS[:6]), label="longitude step")
        lon_values = draw(st.integers(-180, 170)) + lon_step * np.arange(nlon)
        lon_attrs = {"units": "degrees_east"}
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    shape = (len(lat), len(lon_values))
    values = draw(arrays(dtype, shape, elements=st.floats(-1e3, 1e3, width=8 * dtype.itemsize)))
    field = xr.DataArray(
        values,
        dims=("lat", "lon"),
        coords={"lat": ("lat", lat, lat_attrs), "lon": ("lon", lon_values, lon_attrs)},
        name="T",
        attrs={"units": "K"},
    )
    return field.transpose("lon", "lat") if draw(st.booleans(), label="lon first") else field
