"""magnitude, laplacian, divergence and curl: exact answers, convergence, MetPy, chunks, errors.

Sphere oracles (R the radius, phi latitude, lambda longitude):

- solid-body rotation ``u = U cos(phi), v = 0``: relative vorticity ``2 U sin(phi) / R``, divergence 0;
- real spherical harmonics are eigenfunctions of the Laplacian: ``sin(phi)`` (l=1) and
  ``cos(phi)**2 cos(2 lambda)`` (l=2) give ``-l (l+1) / R**2`` times themselves.

Errors are measured away from the poles (|lat| < 80, or 60 for the harmonics), where the
one-sided latitude stencils and ``1/cos(phi)`` do not dominate, on cell-centred grids.
"""

from __future__ import annotations

import functools
import re
import warnings

import dask
import dask.array as dsa
import numpy as np
import pytest
import xarray as xr
from earth_grids import sphere

import xgrad  # noqa: F401  (registers .grad)

R = 6371008.8
U = 10.0


def solid_body(n, **kw):
    return sphere(
        n,
        {"u": (lambda p, lam: U * np.cos(p), "m s-1"), "v": (lambda p, lam: 0 * p, "m s-1")},
        **kw,
    )


def rel_error(actual, exact, where):
    actual, exact = np.asarray(actual), np.broadcast_to(exact, np.shape(actual))
    where = np.broadcast_to(where, np.shape(actual))
    return float(np.abs(actual - exact)[where].max() / np.abs(exact[where]).max())


# --- exact answers and convergence on the sphere ---------------------------------------------


@pytest.mark.parametrize(("accuracy", "order"), [(2, 2), (4, 4)])
def test_solid_body_rotation_vorticity_converges(accuracy, order):
    errors = []
    for n in (45, 90, 180):
        ds = solid_body(n)
        zeta = ds.grad.curl({"lon": "u", "lat": "v"}, accuracy=accuracy)
        exact = 2 * U * np.sin(np.deg2rad(ds.lat.values))[:, None] / R
        errors.append(rel_error(zeta, exact, (np.abs(ds.lat.values) < 80)[:, None]))
        assert zeta.attrs["units"] == "s-1"
        assert zeta.attrs["long_name"] == "relative vorticity of (u, v)"
        assert zeta.attrs["xgrad_boundary"] == "lon: periodic lat: edge"
        assert zeta.name == "curl"
    rates = [np.log2(c / f) for c, f in zip(errors, errors[1:])]
    assert min(rates) > order - 0.2, (errors, rates)
    assert errors[-1] < (3e-4 if accuracy == 2 else 1e-7)


def test_solid_body_rotation_is_divergence_free():
    for accuracy in (2, 4):
        div = solid_body(90).grad.divergence({"lat": "v", "lon": "u"}, accuracy=accuracy)
        # u does not vary along longitude and v is 0: only rounding remains
        assert np.abs(div.values).max() < 1e-19
        assert div.attrs["units"] == "s-1"
        assert div.attrs["long_name"] == "horizontal divergence of (u, v)"


@pytest.mark.parametrize(
    ("harmonic", "degree"),
    [
        (lambda p, lam: np.sin(p), 1),
        (lambda p, lam: np.cos(p) * np.cos(lam), 1),
        (lambda p, lam: np.cos(p) ** 2 * np.cos(2 * lam), 2),
        (lambda p, lam: np.sin(p) * np.cos(p) * np.sin(lam), 2),
    ],
)
@pytest.mark.parametrize(("accuracy", "order"), [(2, 2), (4, 4)])
def test_spherical_harmonics_are_laplacian_eigenfunctions(harmonic, degree, accuracy, order):
    errors = []
    for n in (45, 90, 180):
        ds = sphere(n, {"Y": (harmonic, "K")})
        lap = ds.Y.grad.laplacian("lat", "lon", accuracy=accuracy)
        exact = -degree * (degree + 1) / R**2 * ds.Y.values
        errors.append(rel_error(lap, exact, (np.abs(ds.lat.values) < 60)[:, None]))
        assert lap.attrs["units"] == "K m-2"
        assert lap.attrs["long_name"] == "Laplacian of Y"
    rates = [np.log2(c / f) for c, f in zip(errors, errors[1:])]
    assert min(rates) > order - 0.2, (errors, rates)


def test_laplacian_is_nan_only_at_the_poles():
    ds = sphere(18, {"Y": (lambda p, lam: np.sin(p) + np.cos(p) * np.cos(lam), "K")})
    lat = np.linspace(-90.0, 90.0, 19)
    with_poles = ds.assign_coords(lat=("lat", lat[:-1], {"units": "degrees_north"}))
    with_poles = with_poles.reindex(lat=lat, method="nearest")
    lap = with_poles.Y.grad.laplacian("lat", "lon")
    assert np.isnan(lap.values[[0, -1]]).all() and np.isfinite(lap.values[1:-1]).all()


# --- MetPy ---------------------------------------------------------------------------------


def _metpy_fields(n):
    return sphere(
        n,
        {
            "T": (lambda p, lam: 280 + 20 * np.cos(p) ** 2 * np.cos(2 * lam) + 5 * np.sin(p), "K"),
            "u": (lambda p, lam: 10 * np.cos(p) + 3 * np.sin(lam) * np.cos(p) ** 2, "m/s"),
            "v": (lambda p, lam: 4 * np.cos(lam) * np.cos(p), "m/s"),
        },
    )


def _values(x):
    x = x.metpy.dequantify() if hasattr(x, "metpy") else x
    return np.asarray(getattr(x, "magnitude", getattr(x, "values", x)))


def test_geospatial_gradient_matches_metpy():
    mpcalc = pytest.importorskip("metpy.calc")
    ds = _metpy_fields(90)
    crs = ds.metpy.assign_crs(grid_mapping_name="latitude_longitude", earth_radius=R)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gx, gy = mpcalc.geospatial_gradient(crs.T)
    # MetPy: 3-point centred differences, 2nd-order one-sided at the ends, no wrapping; the
    # same stencils as edge_order=2, boundary="edge". Only the order of the metric
    # multiplications differs: agreement to rounding.
    dy, dx = ds.T.grad.along("lat", "lon", edge_order=2, boundary="edge")
    for ours, theirs in ((dx, gx), (dy, gy)):
        theirs = _values(theirs)
        assert np.abs(ours.values - theirs).max() < 1e-10 * np.abs(theirs).max()


def test_vorticity_and_divergence_match_metpy_to_discretisation_error():
    mpcalc = pytest.importorskip("metpy.calc")
    differences = []
    for n in (90, 180):
        ds = _metpy_fields(n)
        crs = ds.metpy.assign_crs(grid_mapping_name="latitude_longitude", earth_radius=R)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zeta = _values(mpcalc.vorticity(crs.u, crs.v))
            div = _values(mpcalc.divergence(crs.u, crs.v))
        options = dict(edge_order=2, boundary="edge")
        ours_zeta = ds.grad.curl({"lon": "u", "lat": "v"}, **options).values
        ours_div = ds.grad.divergence({"lon": "u", "lat": "v"}, **options).values
        inner = (np.abs(ds.lat.values) < 60)[:, None]
        differences.append((rel_error(ours_zeta, zeta, inner), rel_error(ours_div, div, inner)))
    # MetPy differentiates u and adds the metric term u tan(phi) / R analytically; xgrad
    # differentiates the flux u cos(phi). Both are second-order approximations of the same
    # operator, so they differ by O(h^2): 2e-3 of the field's size at 2 degrees (measured
    # 2.2e-3 / 2.4e-3), a quarter of that at 1 degree.
    assert max(differences[0]) < 3e-3 and max(differences[1]) < 8e-4
    for coarse, fine in zip(*differences):
        assert 3.5 < coarse / fine < 4.5


# --- cartesian -----------------------------------------------------------------------------


def plane(chunks=None):
    x = np.linspace(0.0, 4.0, 9)
    y = np.array([0.0, 0.5, 1.5, 2.0, 3.5, 4.0])
    X, Y = np.meshgrid(x, y)
    ds = xr.Dataset(
        {
            "u": (("y", "x"), 2 * X - 3 * Y + 1, {"units": "m s-1", "source": "model"}),
            "v": (("y", "x"), 5 * X + 0.5 * Y, {"units": "m s-1", "source": "model"}),
            "h": (("y", "x"), X**2 + 3 * Y**2, {"units": "m", "long_name": "height"}),
        },
        coords={"x": ("x", x, {"units": "m"}), "y": ("y", y, {"units": "m"})},
    )
    return ds if chunks is None else ds.chunk(chunks)


@pytest.mark.parametrize("chunks", [None, {"x": 1, "y": 2}])
def test_cartesian_linear_fields_are_exact(chunks):
    ds = plane(chunks)
    div = ds.grad.divergence({"x": "u", "y": "v"})
    curl = ds.grad.curl({"x": "u", "y": "v"})
    np.testing.assert_allclose(div.values, 2.5, rtol=1e-13)
    np.testing.assert_allclose(curl.values, 8.0, rtol=1e-13)  # dv/dx - du/dy = 5 + 3
    swapped = ds.grad.curl({"y": "v", "x": "u"})  # cartesian: the first key is x
    np.testing.assert_allclose(swapped.values, -8.0, rtol=1e-13)
    assert div.attrs == {
        "source": "model",
        "units": "s-1",
        "long_name": "divergence of (u, v)",
        "xgrad_boundary": "edge",
    }
    assert curl.attrs["long_name"] == "vertical component of the curl of (u, v)"


def test_cartesian_laplacian_of_a_quadratic_is_exact():
    lap = plane().h.grad.laplacian("x", "y", edge_order=2)
    np.testing.assert_allclose(lap.values, 8.0, rtol=1e-12)
    assert lap.attrs["units"] == "m-1" and lap.attrs["long_name"] == "Laplacian of height"


def test_magnitude_is_hypot_of_one_pass(engine_calls, assert_bitwise_equal):
    h = plane().h
    mag = h.grad.magnitude("x", "y")
    assert [axes for axes, _ in engine_calls] == [(1, 0)]
    dx, dy = h.grad.along("x", "y")
    assert_bitwise_equal(mag.values, np.hypot(dx.values, dy.values))
    assert mag.attrs["units"] == "1"  # m per m
    assert mag.attrs["long_name"] == "magnitude of the gradient of height"


def test_magnitude_of_complex_data():
    da = xr.DataArray(np.arange(5.0) * (1 + 1j), dims="x")
    np.testing.assert_allclose(da.grad.magnitude("x").values, np.sqrt(2.0))


def test_dataset_magnitude_and_laplacian_map_over_variables():
    ds = plane().assign(t=("x", np.arange(9.0)))
    mag = ds.grad.magnitude("x", "y")
    assert set(mag.data_vars) == {"u", "v", "h"}
    xr.testing.assert_identical(mag["h"], ds.h.grad.magnitude("x", "y"))
    lap = ds.grad.laplacian("x")
    assert set(lap.data_vars) == {"u", "v", "h", "t"}


# --- sphere details ------------------------------------------------------------------------


def test_component_order_does_not_matter_on_the_sphere(assert_bitwise_equal):
    ds = _metpy_fields(18)
    a = ds.grad.curl({"lon": "u", "lat": "v"})
    b = ds.grad.curl({"lat": "v", "lon": "u"})
    assert_bitwise_equal(a.values, b.values)


@pytest.mark.parametrize("chunks", [None, {"lat": 5}])
@pytest.mark.parametrize("operator", ["divergence", "curl"])
def test_laid_out_as_the_x_component_when_orders_differ(operator, chunks):
    ds = _metpy_fields(18)
    for u_dims in (("lat", "lon"), ("lon", "lat")):
        v_dims = u_dims[::-1]
        mixed = ds.assign(u=ds.u.transpose(*u_dims), v=ds.v.transpose(*v_dims))
        if chunks is not None:
            mixed = mixed.chunk(chunks)
        out = getattr(mixed.grad, operator)({"lon": "u", "lat": "v"})
        assert out.dims == u_dims  # curl's first term is dv/dx: laid out as v before
        ref = getattr(ds.grad, operator)({"lon": "u", "lat": "v"})
        xr.testing.assert_allclose(out.transpose(*ref.dims), ref, rtol=1e-13)


@pytest.mark.parametrize("chunks", [{"lon": 1}, {"lat": 5, "lon": 7}, {"lon": (1, 2, 33)}])
def test_chunked_is_bit_identical_and_lazy(chunks, assert_bitwise_equal, raise_on_compute):
    ds = _metpy_fields(18)
    lazy_ds = ds.chunk(chunks)
    with dask.config.set(scheduler=raise_on_compute):
        lazy = [
            lazy_ds.grad.curl({"lon": "u", "lat": "v"}, accuracy=4),
            lazy_ds.grad.divergence({"lon": "u", "lat": "v"}),
            lazy_ds.T.grad.laplacian("lat", "lon"),
            lazy_ds.T.grad.magnitude("lat", "lon", accuracy=6),
        ]
    eager = [
        ds.grad.curl({"lon": "u", "lat": "v"}, accuracy=4),
        ds.grad.divergence({"lon": "u", "lat": "v"}),
        ds.T.grad.laplacian("lat", "lon"),
        ds.T.grad.magnitude("lat", "lon", accuracy=6),
    ]
    for out, ref in zip(lazy, eager):
        assert isinstance(out.data, dsa.Array)
        assert out.chunks == lazy_ds.T.chunks
        assert_bitwise_equal(out.values, ref.values)
        assert out.attrs == ref.attrs


def test_pint_quantified_components():
    pytest.importorskip("pint_xarray")
    from cf_xarray.units import units as registry

    ds = solid_body(18)
    q = ds.pint.quantify(unit_registry=registry)
    zeta = q.grad.curl({"lon": "u", "lat": "v"})
    assert zeta.data.units == registry.Unit("1/s")
    np.testing.assert_array_equal(
        zeta.data.magnitude, ds.grad.curl({"lon": "u", "lat": "v"}).values
    )
    lap = q.u.grad.laplacian("lat", "lon")
    assert lap.data.units == registry.Unit("1/(m s)")


def test_float32_stays_float32():
    ds = _metpy_fields(18).astype(np.float32)
    assert ds.grad.curl({"lon": "u", "lat": "v"}).dtype == np.float32
    assert ds.T.grad.laplacian("lat", "lon").dtype == np.float32
    assert ds.T.grad.magnitude("lat", "lon").dtype == np.float32


# --- errors ----------------------------------------------------------------------------------

VECTOR_ERRORS = [
    (
        lambda ds: ds.grad.curl(["u", "v"]),
        TypeError,
        r"components=\['u', 'v'\] must be a mapping of dimension to data variable name, e\.g\. "
        r"`ds\.grad\.curl\(\{'lon': 'u', 'lat': 'v'\}\)`",
    ),
    (
        lambda ds: ds.grad.curl({"x": "u"}),
        ValueError,
        r"curl needs exactly 2 components \(dimension: data variable\), got 1: \{'x': 'u'\}",
    ),
    (
        lambda ds: ds.grad.divergence({}),
        ValueError,
        r"divergence needs at least one components",
    ),
    (
        lambda ds: ds.grad.divergence({"x": "u", "y": "w"}),
        ValueError,
        r"components names 'w', which is not a data variable of this Dataset; data variables "
        r"are \('u', 'v', 'h', 'k'\)",
    ),
    (
        lambda ds: ds.grad.divergence({"x": "u", "y": "k"}),
        ValueError,
        r"divergence differentiates data variable 'k' along 'y', but its dims are \('x',\); "
        r"give components that have both dimensions",
    ),
    (
        lambda ds: ds.grad.divergence({"x": "u", "y": "h"}),
        ValueError,
        r"divergence: the components are in different units \('u': 'm s-1', 'h': 'm'\); "
        r"convert one first",
    ),
    (
        lambda ds: ds.assign_coords(y=ds.y.assign_attrs(units="km")).grad.curl(
            {"x": "u", "y": "v"}
        ),
        ValueError,
        r"curl adds derivatives along 'x' \(units 'm'\) and 'y' \(units 'km'\), whose coordinates "
        r"must be in the same units\. Convert one first, e\.g\. "
        r"`da\.assign_coords\(y=da\['y'\] \* factor\)`",
    ),
    (
        lambda ds: ds.assign_coords(y=ds.y.assign_attrs(units="s")).h.grad.magnitude("x", "y"),
        ValueError,
        r"the gradient magnitude adds derivatives along 'x' \(units 'm'\) and 'y' \(units 's'\)",
    ),
    (
        lambda ds: ds.assign_coords(y=ds.y.assign_attrs(units="s")).h.grad.laplacian("x", "y"),
        ValueError,
        r"the Laplacian adds derivatives along 'x'",
    ),
    (
        lambda ds: ds.grad.curl({"x": "u", "y": "v"}, boundary="periodic"),
        ValueError,
        r"boundary='periodic' along 'x' needs a period",
    ),
    (
        lambda ds: ds.grad.curl({"x": "u", "z": "v"}),
        ValueError,
        r"'z' is not a dimension or coordinate of this Dataset",
    ),
]


@pytest.mark.parametrize("case", range(len(VECTOR_ERRORS)), ids=str)
@pytest.mark.parametrize("chunks", [None, {"x": 2}])
def test_vector_errors(case, chunks, raise_on_compute):
    ds = plane(chunks).assign(k=("x", np.arange(9.0)))
    before = ds.copy(deep=True)
    call, exc, match = VECTOR_ERRORS[case]
    with dask.config.set(scheduler=raise_on_compute):
        with pytest.raises(exc, match=match):
            call(ds)
    xr.testing.assert_identical(ds, before)


def test_mixed_quantified_components_error():
    pytest.importorskip("pint_xarray")
    from cf_xarray.units import units as registry

    ds = plane()
    mixed = ds.assign(u=ds.u.copy(data=registry.Quantity(ds.u.values, "m/s")))
    with pytest.raises(ValueError, match=r"curl: some components are pint quantities and some"):
        mixed.grad.curl({"x": "u", "y": "v"})


def test_sphere_component_without_latitude_error():
    ds = solid_body(18).assign_coords(lat=("lat", np.linspace(-85.0, 85.0, 18)))
    with pytest.raises(ValueError, match=r"geometry='sphere': the derivative along longitude"):
        ds.grad.curl({"lon": "u", "lat": "v"}, geometry="sphere")


def test_laplacian_sees_grid_scale_noise():
    """Compact stencils: a (+1, -1, +1, ...) oscillation has Laplacian -4/h**2 times itself
    inside (the divergence of the gradient, a wide stencil, would give 0)."""
    x = np.arange(12.0) * 0.5
    noise = xr.DataArray((-1.0) ** np.arange(12), dims="x", coords={"x": x})
    lap = noise.grad.laplacian("x")
    np.testing.assert_allclose(lap.values[1:-1], -4 / 0.25 * noise.values[1:-1])


# --- the compiled combinations (xgrad.combinations, xgrad._vector_kernels) ---------------------

_SPECIAL64 = [0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 1e-150, 1e-145, 1e145, 1e200]
_SPECIAL64 += [1.7976931348623157e308, -1.7976931348623157e308, np.inf, -np.inf, np.nan, 3.0, 4.0]


def _pairs(dtype, n, seed):
    """Pairs of ``dtype`` numbers: every special value against every other, then random ones
    over all binades (and near-equal and lopsided magnitudes)."""
    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore", under="ignore"):
        special = np.array(_SPECIAL64).astype(dtype)
        a, b = (v.ravel() for v in np.meshgrid(special, special))
        top = 300 if dtype == np.float64 else 37
        x = rng.standard_normal(n) * 10.0 ** rng.integers(-top, top, n)
        y = np.where(
            rng.random(n) < 0.5,
            x * rng.random(n) * 10.0 ** rng.integers(-17, 1, n),
            rng.standard_normal(n) * 10.0 ** rng.integers(-top, top, n),
        )
        return np.concatenate([a, x.astype(dtype)]), np.concatenate([b, y.astype(dtype)])


def _ulps(value, x, y):
    """|value - |(x, y)|| in ulps of value, the exact length from longdouble (64-bit
    mantissa: ~1e-3 ulp of a float64) where it is finite."""
    ref = np.sqrt(x.astype(np.longdouble) ** 2 + y.astype(np.longdouble) ** 2)
    finite = np.isfinite(ref) & np.isfinite(value) & (value != 0)
    v = value[finite]
    with np.errstate(over="ignore"):  # the ulp of the largest float64 is inf: 0 ulps
        return np.abs(v.astype(np.longdouble) - ref[finite]) / np.spacing(np.abs(v)).astype(
            np.longdouble
        )


def test_hypot_float32_is_glibc_hypotf():
    """float32: numpy's bits (glibc's ``hypotf`` is the same formula; 3e8 random values were
    checked once, these guard it), and inf for inf with NaN."""
    from xgrad.combinations import hypot

    x, y = _pairs(np.float32, 200_000, 1)
    with np.errstate(all="ignore"):
        got, expected = hypot(x, y), np.hypot(x, y)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
    assert (
        hypot(np.float32([np.inf, np.nan]), np.float32([np.nan, -np.inf])).tolist() == [np.inf] * 2
    )


def test_hypot_float64_within_half_an_ulp():
    """float64: within ~0.5 ulp of the exact length (numpy's libm ``hypot`` is within 0.58
    and the plain ``sqrt(x*x + y*y)`` 1.2): never worse than 1 ulp; numpy's special values."""
    from xgrad.combinations import hypot

    x, y = _pairs(np.float64, 400_000, 2)
    with np.errstate(all="ignore"):
        got, expected = hypot(x, y), np.hypot(x, y)
    assert _ulps(got, x, y).max() < 0.501
    specials = np.isin(x, _SPECIAL64) & np.isin(y, _SPECIAL64)
    np.testing.assert_array_equal(got[specials], expected[specials])
    assert np.mean(got != expected) < 0.01  # ~0.2%: the values numpy rounds the other way
    with np.errstate(all="raise"):  # no spurious floating-point exceptions
        hypot(
            np.array([1e-320, 1e300, 3.0, np.nan, 0.0]), np.array([1e-310, 1e290, np.inf, 1.0, 0.0])
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plain_path_same_bits(dtype, assert_bitwise_equal):
    """The NumPy path of the combinations (cupy and other duck arrays) gives the numba
    ufuncs' bits on numpy, special values included, on a duck array refusing numpy operands."""
    from test_duck import StrictDuck

    from xgrad import _vector_kernels, combinations
    from xgrad.kernels import compiled

    x, y = _pairs(dtype, 20_000, 3)
    with np.errstate(all="ignore"):
        expected = _vector_kernels.hypot()(x, y)
        duck = combinations.hypot(StrictDuck(x), StrictDuck(y))
    assert isinstance(duck, StrictDuck)
    assert_bitwise_equal(duck.get(), expected)
    # the Laplacian and the flux sums: compiled (numpy arrays: the loop nests, and the ufuncs
    # where the metric varies along two axes) against numpy's expressions
    rng = np.random.default_rng(4)
    lat, lon = ("latitude", 57.3, 4.0e13, 3, 0), ("longitude", 57.3, 4.0e13, None, 1)
    cases = [(lat, lon), (lon, lat), (lat, lon, (None, 1.0, 1.0, None, 1)), (lon,)]
    for shape, metric_shape in [
        ((3, 17, 20), (1, 17, 1)),  # the metric along the middle axis
        ((3, 20, 17), (1, 1, 17)),  # along the last
        ((17, 20), (17, 1)),  # along the first
        ((3, 17, 20), (1, 17, 20)),  # along two axes: the ufuncs
    ]:
        d = [_specials(rng.standard_normal(shape)).astype(dtype) for _ in range(4)]
        ops = [rng.standard_normal(metric_shape).astype(dtype) for _ in range(2)]
        for terms in cases:
            combine = functools.partial(combinations.laplacian_of, terms=terms)
            with compiled(True), np.errstate(all="ignore"):
                got = combine(d, ops, out=[np.empty_like(d[0])])
                ducks = combine([StrictDuck(a) for a in d], [StrictDuck(a) for a in ops])
            assert_bitwise_equal(got, ducks.get(), err_msg=f"{terms} {shape}")
        for sign in (1, -1):
            combine = functools.partial(combinations.weighted_sum, sign=sign, weighted=True)
            with compiled(True), np.errstate(all="ignore"):
                got = combine(d[:1], [d[1], ops[0]], out=[np.empty_like(d[0])])
                want = d[1] + d[0] * ops[0] if sign > 0 else d[1] - d[0] * ops[0]
            assert_bitwise_equal(got, want)
    assert _vector_kernels.laplacian_loop.cache_info().currsize  # the loop nests ran


def _specials(a: np.ndarray) -> np.ndarray:
    """``a`` with NaN, inf, -inf and zeros of both signs in its first elements."""
    a.flat[:5] = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    return a


def test_small_arrays_never_import_numba():
    """Below the kernels' size threshold the operators stay on the NumPy path (the same bits):
    a script of small arrays never pays numba's import and compile (seconds per process)."""
    import subprocess
    import sys

    code = """
import sys, numpy as np, xarray as xr, xgrad
lat = np.linspace(-80, 80, 33); lon = np.arange(64) * 5.625
c = {"lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})}
rng = np.random.default_rng(0)
ds = xr.Dataset({k: (("t", "lat", "lon"), rng.standard_normal((4, 33, 64))) for k in "uv"}, coords=c)
ds.u.grad.magnitude("lat", "lon"); ds.u.grad.laplacian("lat", "lon")
ds.grad.divergence({"lon": "u", "lat": "v"}); ds.grad.curl({"lon": "u", "lat": "v"})
print("numba" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_arrays_same_bits_as_compiled(dtype, assert_bitwise_equal):
    """The NumPy path small arrays take gives the compiled kernels' bits."""
    from xgrad.kernels import compiled

    lat = np.linspace(-80, 80, 33)
    lon = np.arange(64) * 5.625
    rng = np.random.default_rng(3)
    data = rng.standard_normal((2, 33, 64)) * 10.0 ** rng.integers(-30, 30, (2, 33, 64))
    data[0, 3, 4], data[1, 5, 6], data[0, 7, 8] = np.nan, np.inf, 0.0
    coords = {
        "lat": ("lat", lat, {"units": "degrees_north"}),
        "lon": ("lon", lon, {"units": "degrees_east"}),
    }
    ds = xr.Dataset(
        {k: (("t", "lat", "lon"), (data * s).astype(dtype)) for k, s in (("u", 1), ("v", -2))},
        coords=coords,
    )
    ops = [
        lambda: ds.u.grad.magnitude("lat", "lon"),
        lambda: ds.u.grad.laplacian("lat", "lon"),
        lambda: ds.grad.divergence({"lon": "u", "lat": "v"}),
        lambda: ds.grad.curl({"lon": "u", "lat": "v"}),
    ]
    with np.errstate(all="ignore"):
        for op in ops:
            plain = op().values
            with compiled(True):
                fast = op().values
            assert_bitwise_equal(plain, fast)


def test_a_component_without_units_gets_advice_that_works():
    # An audit: the advice converted the unitless component with pint-xarray (which cannot),
    # or declared it dimensionless (then refused for its units)
    pytest.importorskip("pint_xarray")
    lat, lon = np.linspace(-40.0, 40.0, 9), np.linspace(0.0, 60.0, 7)
    rng = np.random.default_rng(5)
    ds = xr.Dataset(
        {
            "u": (("lat", "lon"), rng.standard_normal((9, 7)), {"units": "m s-1"}),
            "v": (("lat", "lon"), rng.standard_normal((9, 7))),
        },
        coords={
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
    )
    keys = {"lon": "u", "lat": "v"}
    with pytest.raises(ValueError, match="'v' has no units attribute") as err:
        ds.grad.curl(keys)
    (fix,) = re.findall(r"`(ds\[[^`]*)`", str(err.value))
    assert fix == "ds['v'].attrs['units'] = 'm s-1'"
    exec(fix)  # noqa: S102 (our own message)
    assert ds.grad.curl(keys).attrs["units"] == "s-1"
    del ds["v"].attrs["units"]
    with pytest.raises(ValueError, match="some components are pint quantities") as err:
        ds.pint.quantify().grad.divergence(keys)
    (fix,) = re.findall(r"`(ds\.pint\.quantify\([^`]*\))`", str(err.value))
    got = eval(fix).grad.divergence(keys)  # noqa: S307 (our own message)
    assert str(got.pint.units) == "1 / second"
    with pytest.raises(ValueError, match="some variables are pint quantities") as err:
        ds.pint.quantify().grad.deformation(keys)  # the kinematics: the same advice
    (fix,) = re.findall(r"`(ds\.pint\.quantify\([^`]*\))`", str(err.value))
    got = eval(fix).grad.deformation(keys)  # noqa: S307
    assert str(got.total_deformation.pint.units) == "1 / second"
