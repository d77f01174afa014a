"""vector_gradient, deformation, advection, frontogenesis: MetPy, exact physics, chunks, errors.

Oracles (R the radius, phi latitude, lambda longitude):

- MetPy 1.7 on a ``latitude_longitude`` CRS of the same radius: the same second-order stencils
  (``edge_order=2, boundary="edge"``); its only difference is the metric term, which it takes
  from a centred difference of the parallel scale ``1/cos(phi)`` where xgrad uses
  ``tan(phi)/R`` analytically. With MetPy's own metric term put in xgrad's place, every field
  agrees to rounding; the direct differences are that term's truncation error, measured.
- solid-body rotation ``u = U cos(phi), v = 0``: no deformation, no divergence, vorticity
  ``2 U sin(phi) / R``; a zonally uniform field advected by a zonal wind: zero;
- linear fields on a Cartesian grid: every quantity exact (to rounding).
"""

from __future__ import annotations

import inspect
import warnings

import dask
import dask.array as dsa
import numpy as np
import pytest
import xarray as xr
from earth_grids import sphere

import xgrad  # noqa: F401  (registers .grad)
from xgrad.options import Options

R = 6371008.8
U = 10.0
C = {"lon": "u", "lat": "v"}
METHODS = ("vector_gradient", "deformation", "advection", "frontogenesis")


def smooth(n, **kw):
    return sphere(
        n,
        {
            "T": (lambda p, lam: 280 + 20 * np.cos(p) ** 2 * np.cos(2 * lam) + 5 * np.sin(p), "K"),
            "u": (lambda p, lam: 10 * np.cos(p) + 3 * np.sin(lam) * np.cos(p) ** 2, "m/s"),
            "v": (lambda p, lam: 4 * np.cos(lam) * np.cos(p), "m/s"),
        },
        **kw,
    )


def solid_body(n):
    return sphere(
        n, {"u": (lambda p, lam: U * np.cos(p), "m s-1"), "v": (lambda p, lam: 0 * p, "m s-1")}
    )


def tan_over_r(ds):
    return np.tan(np.deg2rad(ds.lat.values))[:, None] / R


def rel(actual, desired, where=True):
    actual, desired = np.asarray(actual), np.asarray(desired)
    where = np.broadcast_to(where, actual.shape)
    return float(np.abs(actual - desired)[where].max() / np.abs(desired[where]).max())


# --- MetPy ---------------------------------------------------------------------------------


def _metpy(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = func(*args, **kwargs)
    out = out[0] if isinstance(out, tuple) and len(out) == 1 else out
    if isinstance(out, tuple):
        return tuple(_plain(o) for o in out)
    return _plain(out)


def _plain(x):
    x = x.metpy.dequantify() if isinstance(x, xr.DataArray) else x
    return np.asarray(getattr(x, "magnitude", getattr(x, "values", x)))


def _with_crs(ds):
    return ds.metpy.assign_crs(grid_mapping_name="latitude_longitude", earth_radius=R)


def _metpy_metric(ds, mpcalc):
    """MetPy's metric term (its ``tan(phi)/R``): -du/dx of ``u = 0, v = 1``."""
    ones = _with_crs(ds.assign(u=0 * ds.u, v=0 * ds.v + 1))
    return -_metpy(mpcalc.vector_derivative, ones.u, ones.v, return_only=["du/dx"])


MP = dict(edge_order=2, boundary="edge")  # MetPy's stencils: 2nd-order one-sided ends, no wrap


@pytest.mark.parametrize("n", [90, 180])
def test_vector_gradient_matches_metpy_but_for_the_metric_term(n):
    mpcalc = pytest.importorskip("metpy.calc")
    ds = smooth(n)
    ux, uy, vx, vy = _metpy(mpcalc.vector_derivative, _with_crs(ds).u, _with_crs(ds).v)
    g = ds.grad.vector_gradient(C, **MP)
    # No metric term in d/dy: the same numbers (measured 1.0e-12 .. 4.6e-12 relative).
    assert rel(g.du_dy, uy) < 1e-10 and rel(g.dv_dy, vy) < 1e-10
    # d/dx differs exactly by the metric term: with MetPy's in place of tan(phi)/R, rounding
    # (measured 2.7e-12 and 1.1e-12 relative), at every latitude.
    metric = _metpy_metric(ds, mpcalc)
    u, v, tan = ds.u.values, ds.v.values, tan_over_r(ds)
    assert rel(g.du_dx + v * tan - v * metric, ux) < 1e-10
    assert rel(g.dv_dx - u * tan + u * metric, vx) < 1e-10
    # MetPy's differenced metric term against tan(phi)/R: O(h^2), largest near the poles
    # (measured at 80 degrees: 3.4e-2 at 2 degrees (n=90, 79 N), 9.2e-3 at 1 degree (79.5 N),
    # 2.4e-3 at 0.5 degrees (79.75 N); 4.4e-3 / 1.1e-3 at 60 degrees).
    lat = ds.lat.values
    at80 = np.argmin(np.abs(lat - 80))
    gap = abs(metric[at80, 0] / tan[at80, 0] - 1)
    assert {90: 3e-2 < gap < 4e-2, 180: 8e-3 < gap < 1e-2}[n]
    # ... which is the whole direct difference (measured within 60 degrees: du/dx 3.0e-3 and
    # 7.8e-4 of its largest value at n=90 and 180).
    inner = (np.abs(lat) < 60)[:, None]
    assert rel(g.du_dx, ux, inner) < {90: 4e-3, 180: 1e-3}[n]


def test_deformation_advection_frontogenesis_match_metpy():
    mpcalc = pytest.importorskip("metpy.calc")
    direct = []
    for n in (90, 180):
        ds = smooth(n)
        mp = _with_crs(ds)
        theirs = {
            "stretching_deformation": _metpy(mpcalc.stretching_deformation, mp.u, mp.v),
            "shearing_deformation": _metpy(mpcalc.shearing_deformation, mp.u, mp.v),
            "total_deformation": _metpy(mpcalc.total_deformation, mp.u, mp.v),
            "advection": _metpy(mpcalc.advection, mp.T, mp.u, mp.v),
            "frontogenesis": _metpy(mpcalc.frontogenesis, mp.T, mp.u, mp.v),
        }
        ours = dict(ds.grad.deformation(C, **MP).data_vars)
        ours["advection"] = ds.grad.advection("T", C, **MP)
        ours["frontogenesis"] = ds.grad.frontogenesis("T", C, **MP)
        # advection has no metric term: MetPy's numbers (measured 6.8e-12 relative)
        assert rel(ours["advection"], theirs["advection"]) < 1e-10
        # MetPy's metric term in place of ours: MetPy's numbers, at every point (measured
        # 6e-12 .. 8e-12 for the deformations, 1.1e-11 / 3.5e-11 for frontogenesis;
        # MetPy writes it with the angle between the isentropes and the dilatation axis).
        g = ds.grad.vector_gradient(C, **MP)
        metric = _metpy_metric(ds, mpcalc) - tan_over_r(ds)
        ux = g.du_dx.values - ds.v.values * metric
        vx = g.dv_dx.values + ds.u.values * metric
        uy, vy = g.du_dy.values, g.dv_dy.values
        ty, tx = (d.values for d in ds.T.grad.along("lat", "lon", **MP))
        like = {
            "stretching_deformation": ux - vy,
            "shearing_deformation": vx + uy,
            "total_deformation": np.hypot(ux - vy, vx + uy),
            "frontogenesis": -(tx * tx * ux + tx * ty * (uy + vx) + ty * ty * vy)
            / np.hypot(tx, ty),
        }
        for key, value in like.items():
            assert rel(value, theirs[key]) < 1e-10, key
        # Directly: the metric term's truncation error, second order (measured within 60
        # degrees at n=90 / 180: stretching 5.0e-3 / 1.3e-3, shearing 7.9e-3 / 2.0e-3,
        # total 7.9e-3 / 2.0e-3, frontogenesis 4.3e-3 / 1.1e-3).
        inner = (np.abs(ds.lat.values) < 60)[:, None]
        direct.append([rel(ours[k], theirs[k], inner) for k in like])
    assert max(direct[0]) < 9e-3 and max(direct[1]) < 2.5e-3
    for coarse, fine in zip(*direct):
        assert 3.5 < coarse / fine < 4.5


# --- exact physics ---------------------------------------------------------------------------


def test_solid_body_rotation_has_no_deformation():
    shearing = {}
    for n in (90, 180, 360):
        ds = solid_body(n)
        d = ds.grad.deformation(C)
        # u_lambda and v are exactly zero: no stretching at all
        assert np.all(d.stretching_deformation.values == 0)
        lat = ds.lat.values
        shearing[n] = np.abs(d.shearing_deformation.values[np.abs(lat) < 80]).max()
        # u tan(phi)/R + u_phi/R: the centred u_phi's truncation U sin(phi) h^2 / (6 R)
        # (measured at 60 N: 2.7e-10, 6.9e-11, 1.7e-11 s-1 at 2, 1, 0.5 degrees; MetPy's
        # differenced metric term gives 6.2e-9, 1.6e-9, 4.1e-10).
        h = np.deg2rad(180 / n)
        bound = U * np.sin(np.deg2rad(80)) * h**2 / (6 * R)
        assert shearing[n] < 1.01 * bound
    assert 3.9 < shearing[90] / shearing[180] < 4.1 and 3.9 < shearing[180] / shearing[360] < 4.1
    ds = solid_body(180)
    # accuracy 4: measured 4.8e-15 s-1 (and stretching from rounding in the wider stencil, 6e-21)
    d4 = ds.grad.deformation(C, accuracy=4)
    assert np.abs(d4.shearing_deformation.values[np.abs(ds.lat.values) < 80]).max() < 1e-14
    assert np.abs(d4.stretching_deformation.values).max() < 1e-19
    # Without the metric terms (what `.grad.along` alone gives) it is -1.35e-6 s-1 at 60 N.
    dudy, _ = ds.u.grad.along("lat", "lon")
    _, dvdx = ds.v.grad.along("lat", "lon")
    at60 = np.argmin(np.abs(ds.lat.values - 60))
    assert (dvdx + dudy).values[at60, 0] < -1.3e-6


@pytest.mark.parametrize(("accuracy", "bound"), [(2, 3e-5), (4, 2e-9)])
def test_solid_body_rotation_vorticity_and_divergence(accuracy, bound):
    ds = solid_body(180)
    g = ds.grad.vector_gradient(C, accuracy=accuracy)
    lat = ds.lat.values
    inner = (np.abs(lat) < 80)[:, None]
    exact = 2 * U * np.sin(np.deg2rad(lat))[:, None] / R + 0 * ds.u.values
    # measured 2.5e-5 (accuracy 2) and 1.6e-9 (accuracy 4) relative
    assert rel(g.dv_dx - g.du_dy, exact, inner) < bound
    divergence = (g.du_dx + g.dv_dy).values
    if accuracy == 2:
        assert np.all(divergence == 0)
    else:  # rounding in the 5-point stencil of a zonally uniform u: 5.7e-21 s-1
        assert np.abs(divergence).max() < 1e-19


@pytest.mark.parametrize("accuracy", [2, 4, 6])
def test_zonally_uniform_field_advected_by_zonal_wind(accuracy):
    ds = solid_body(36).assign(T=lambda d: 280 + 20 * np.sin(np.deg2rad(d.lat)) + 0 * d.u)
    adv = ds.grad.advection("T", C, accuracy=accuracy).values
    if accuracy == 2:  # (f - f) / 2h and v = 0: exactly zero
        assert np.all(adv == 0)
    else:  # the wider stencils' weights sum to zero only to rounding (measured 4e-19, 5e-19)
        assert np.abs(adv).max() < 1e-17


def plane(chunks=None):
    x = np.linspace(0.0, 4.0, 9)
    y = np.array([0.0, 0.5, 1.5, 2.0, 3.5, 4.0])
    X, Y = np.meshgrid(x, y)
    ds = xr.Dataset(
        {
            "u": (("y", "x"), 2 * X - 3 * Y + 1, {"units": "m s-1", "source": "model"}),
            "v": (("y", "x"), 5 * X + 0.5 * Y, {"units": "m s-1", "source": "model"}),
            "T": (("y", "x"), 0.25 * X - 2 * Y + 7, {"units": "K", "long_name": "temperature"}),
        },
        coords={"x": ("x", x, {"units": "m"}), "y": ("y", y, {"units": "m"})},
        attrs={"title": "plane"},
    )
    return ds if chunks is None else ds.chunk(chunks)


@pytest.mark.parametrize("chunks", [None, {"x": 2, "y": 1}])
def test_cartesian_linear_fields_are_exact(chunks):
    ds = plane(chunks)
    c = {"x": "u", "y": "v"}
    g = ds.grad.vector_gradient(c)
    for key, value in {"du_dx": 2, "du_dy": -3, "dv_dx": 5, "dv_dy": 0.5}.items():
        np.testing.assert_allclose(g[key].values, value, rtol=1e-13)
    d = ds.grad.deformation(c)
    np.testing.assert_allclose(d.stretching_deformation.values, 1.5, rtol=1e-13)
    np.testing.assert_allclose(d.shearing_deformation.values, 2.0, rtol=1e-13)
    np.testing.assert_allclose(d.total_deformation.values, 2.5, rtol=1e-13)
    u, v = ds.u.values, ds.v.values
    adv = ds.grad.advection("T", c)
    np.testing.assert_allclose(adv.values, -(0.25 * u - 2 * v), rtol=1e-12, atol=1e-12)
    fx, fy = 0.25, -2.0
    exact = -(fx * fx * 2 + fx * fy * (-3 + 5) + fy * fy * 0.5) / np.hypot(fx, fy)
    np.testing.assert_allclose(ds.grad.frontogenesis("T", c).values, exact, rtol=1e-13)
    # cartesian: x is the first key
    swapped = ds.grad.vector_gradient({"y": "v", "x": "u"})
    assert list(swapped.data_vars) == ["dv_dx", "dv_dy", "du_dx", "du_dy"]
    np.testing.assert_allclose(swapped.dv_dx.values, 0.5, rtol=1e-13)


def test_okubo_weiss_one_liner():
    x = np.linspace(-1.0, 1.0, 5)
    X, Y = np.meshgrid(x, x)
    c = {"x": "u", "y": "v"}
    for u, v, sign in ((X, -Y, 4.0), (-Y, X, -4.0)):  # pure strain, solid rotation
        ds = xr.Dataset({"u": (("y", "x"), u), "v": (("y", "x"), v)}, coords={"x": x, "y": x})
        d = ds.grad.deformation(c)
        w = d.stretching_deformation**2 + d.shearing_deformation**2 - ds.grad.curl(c) ** 2
        np.testing.assert_allclose(w.values, sign, rtol=1e-13)


def test_frontogenesis_sign_and_flat_field():
    x = np.linspace(0.0, 4.0, 5)
    X, Y = np.meshgrid(x, x)
    ds = xr.Dataset(
        {
            "T": (("y", "x"), X),
            "flat": (("y", "x"), 0 * X + 3),
            "u": (("y", "x"), -X),  # confluent across the isotherms: strengthening
            "v": (("y", "x"), Y),
        },
        coords={"x": x, "y": x},
    )
    c = {"x": "u", "y": "v"}
    np.testing.assert_array_equal(ds.grad.frontogenesis("T", c).values, 1.0)
    diffluent = ds.assign(u=-ds.u, v=-ds.v)
    np.testing.assert_array_equal(diffluent.grad.frontogenesis("T", c).values, -1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 warning: 0 where grad f is zero, as MetPy
        flat = ds.grad.frontogenesis("flat", c).values
    assert np.all(flat == 0)


# --- consistency with curl and divergence ------------------------------------------------------


def test_consistency_with_curl_and_divergence():
    differences = []
    for n in (90, 180):
        ds = smooth(n)
        g = ds.grad.vector_gradient(C)
        inner = (np.abs(ds.lat.values) < 80)[:, None]
        differences.append(
            (
                rel(g.dv_dx - g.du_dy, ds.grad.curl(C), inner),
                rel(g.du_dx + g.dv_dy, ds.grad.divergence(C), inner),
            )
        )
    # local frame against flux form: truncation, second order (measured within 80 degrees:
    # curl 1.2e-3 / 3.1e-4, divergence 6.5e-4 / 1.6e-4 relative at n=90 / 180)
    assert max(differences[0]) < 1.5e-3 and max(differences[1]) < 4e-4
    for coarse, fine in zip(*differences):
        assert 3.5 < coarse / fine < 4.5
    # exactly (to the last bit, signed zeros aside) where the flux-form term vanishes:
    # curl where u == 0, divergence where v == 0
    ds = smooth(90)
    inner = (np.abs(ds.lat.values) < 80)[:, None]
    meridional = ds.assign(u=0 * ds.u)
    g = meridional.grad.vector_gradient(C)
    np.testing.assert_array_equal(g.dv_dx - g.du_dy, meridional.grad.curl(C))
    # ... but not the other one (measured 7.1e-4 relative)
    assert rel(g.du_dx + g.dv_dy, meridional.grad.divergence(C), inner) > 1e-4
    zonal = ds.assign(v=0 * ds.v)
    g = zonal.grad.vector_gradient(C)
    np.testing.assert_array_equal(g.du_dx + g.dv_dy, zonal.grad.divergence(C))
    assert rel(g.dv_dx - g.du_dy, zonal.grad.curl(C), inner) > 1e-4  # measured 1.4e-3
    # cartesian: no metric terms, the same sums of the same derivatives
    flat = plane().assign(u=lambda d: d.u**2, v=lambda d: d.u * d.v)
    c = {"x": "u", "y": "v"}
    g = flat.grad.vector_gradient(c)
    np.testing.assert_array_equal(g.dv_dx - g.du_dy, flat.grad.curl(c))
    np.testing.assert_array_equal(g.du_dx + g.dv_dy, flat.grad.divergence(c))


# --- one pass, laziness, chunks --------------------------------------------------------------


def test_one_engine_pass_reads_each_input_once(engine_calls):
    """In memory, and chunked along neither grid dim, each method is one engine pass: the
    inputs it differentiates beside the first go in as ``fields``; chunked along a grid dim
    (halos), one pass per input, the earlier passes' derivatives as operands."""
    ds = smooth(18)  # (lat, lon): x = lon is axis 1
    for chunks, passes in [(None, [1, 1, 1, 1]), ({"lat": 5}, [2, 2, 1, 3])]:
        data = ds if chunks is None else ds.chunk(chunks)
        found = []
        for call in [
            lambda d: d.grad.vector_gradient(C),
            lambda d: d.grad.deformation({"lat": "v", "lon": "u"}),
            lambda d: d.grad.advection("T", C, accuracy=4, nan="one-sided"),
            lambda d: d.grad.frontogenesis("T", C),
        ]:
            engine_calls.clear()
            call(data)
            assert {axes for axes, _ in engine_calls} == {(1, 0)}
            found.append(len(engine_calls))
            inputs = sum(1 + len(kwargs.get("fields", ())) for _, kwargs in engine_calls)
            assert inputs == [2, 2, 1, 3][len(found) - 1]  # every input differentiated once
        assert found == passes, chunks
    engine_calls.clear()
    ds.grad.advection("T", C, accuracy=4, nan="one-sided")
    assert engine_calls[-1][1]["accuracy"] == 4 and engine_calls[-1][1]["nan"] == "one-sided"


@pytest.mark.parametrize(
    "chunks", [{"lon": 1}, {"lat": 5, "lon": 7}, {"lon": (1, 2, 33)}, {"lat": -1, "lon": -1}]
)
def test_chunked_is_bit_identical_and_lazy(chunks, assert_bitwise_equal, raise_on_compute):
    ds = smooth(18)
    lazy_ds = ds.chunk(chunks)
    calls = [
        lambda d: d.grad.vector_gradient(C, accuracy=4),
        lambda d: d.grad.deformation(C),
        lambda d: d.grad.advection("T", C, accuracy=6),
        lambda d: d.grad.frontogenesis("T", C, nan="one-sided"),
    ]
    with dask.config.set(scheduler=raise_on_compute):
        lazy = [call(lazy_ds) for call in calls]
    for out, ref in zip(lazy, [call(ds) for call in calls]):
        pairs = (
            [(out[k], ref[k]) for k in ref.data_vars]
            if isinstance(ref, xr.Dataset)
            else [(out, ref)]
        )
        for a, b in pairs:
            assert isinstance(a.data, dsa.Array)
            assert a.chunks == lazy_ds.T.chunks
            assert_bitwise_equal(a.values, b.values)
            assert a.attrs == b.attrs and a.name == b.name


def test_component_order_and_east_north_keys(assert_bitwise_equal):
    ds = smooth(18)
    ref = ds.grad.deformation(C)
    for components in ({"lat": "v", "lon": "u"}, {"east": "u", "north": "v"}):
        out = ds.grad.deformation(components)
        for k in ref.data_vars:
            assert_bitwise_equal(out[k].values, ref[k].values)
    g = ds.grad.vector_gradient({"north": "v", "east": "u"})
    assert list(g.data_vars) == ["du_dx", "du_dy", "dv_dx", "dv_dy"]


def test_transposed_components_and_scalar():
    ds = smooth(18)
    mixed = ds.assign(v=ds.v.transpose("lon", "lat"), T=ds.T.transpose("lon", "lat"))
    for method in ("vector_gradient", "deformation"):
        for chunks in (None, {"lat": 5}):
            data = mixed if chunks is None else mixed.chunk(chunks)
            g, ref = getattr(data.grad, method)(C), getattr(ds.grad, method)(C)
            for k in ref.data_vars:  # every field laid out as u, the x component
                assert g[k].dims == ("lat", "lon"), (method, k)
                xr.testing.assert_allclose(g[k], ref[k], rtol=1e-14)
    # u broadcast against v (u without time): xarray's layout, time first, as before
    timed = ds.assign(v=ds.v.expand_dims(time=2))
    g = timed.grad.vector_gradient(C)
    assert g.dv_dx.dims == g.dv_dy.dims == ("time", "lat", "lon")
    assert timed.grad.curl(C).dims == ("time", "lat", "lon")
    f = mixed.grad.frontogenesis("T", C)
    assert f.dims == ("lon", "lat")  # laid out as the scalar
    xr.testing.assert_allclose(f.T, ds.grad.frontogenesis("T", C), rtol=1e-12)


# --- units, attrs, pint, dtypes ---------------------------------------------------------------


def test_units_names_and_attrs():
    ds = smooth(18)
    ds.u.attrs.update(long_name="eastward wind", source="model")
    ds.v.attrs.update(long_name="northward wind", source="model")
    ds.T.attrs.update(long_name="potential temperature", standard_name="air_potential_temperature")
    g = ds.grad.vector_gradient(C)
    assert g.du_dy.attrs == {
        "source": "model",
        "units": "s-1",
        "long_name": "vector gradient component du/dy of (eastward wind, northward wind), "
        "x eastward and y northward in the local frame",
        "xgrad_boundary": "lon: periodic lat: edge",
        "xgrad_geometry": "sphere",
        "xgrad_radius": R,
    }
    d = ds.grad.deformation(C)
    assert d.total_deformation.attrs["long_name"] == (
        "total deformation of (eastward wind, northward wind)"
    )
    assert {v.attrs["units"] for v in d.data_vars.values()} == {"s-1"}
    adv = ds.grad.advection("T", C)
    assert adv.name == "advection" and adv.attrs["units"] == "K s-1"
    assert "standard_name" not in adv.attrs
    assert adv.attrs["long_name"] == (
        "advection of potential temperature by (eastward wind, northward wind)"
    )
    fg = ds.grad.frontogenesis("T", C)
    assert fg.name == "frontogenesis" and fg.attrs["units"] == "K m-1 s-1"
    bare = ds.grad.frontogenesis("T", C, keep_attrs=False)
    assert set(bare.attrs) == {
        "units",
        "long_name",
        "xgrad_boundary",
        "xgrad_geometry",
        "xgrad_radius",
    }
    plain = plane()
    assert plain.grad.deformation({"x": "u", "y": "v"}).attrs == {"title": "plane"}
    assert plain.grad.deformation({"x": "u", "y": "v"}, keep_attrs=False).attrs == {}
    g = plain.grad.vector_gradient({"x": "u", "y": "v"})
    assert g.du_dx.attrs["long_name"].endswith("x along 'x' and y along 'y'")
    assert plain.grad.advection("T", {"x": "u", "y": "v"}).attrs["units"] == "K s-1"


def test_pint_quantified_input():
    pytest.importorskip("pint_xarray")
    from cf_xarray.units import units as registry

    ds = smooth(18)
    q = ds.pint.quantify(unit_registry=registry)
    for method in ("vector_gradient", "deformation"):
        out, ref = getattr(q.grad, method)(C), getattr(ds.grad, method)(C)
        for k in ref.data_vars:
            assert out[k].data.units == registry.Unit("1/s")
            np.testing.assert_array_equal(out[k].data.magnitude, ref[k].values)
            assert "units" not in out[k].attrs
    adv = q.grad.advection("T", C)
    assert adv.data.units == registry.Unit("K/s")
    np.testing.assert_array_equal(adv.data.magnitude, ds.grad.advection("T", C).values)
    fg = q.grad.frontogenesis("T", C)
    assert fg.data.units == registry.Unit("K/m/s")
    np.testing.assert_array_equal(fg.data.magnitude, ds.grad.frontogenesis("T", C).values)
    celsius = ds.assign(T=ds.T - 273.15).pint.quantify(
        {"T": "degC", "u": "m/s", "v": "m/s"}, unit_registry=registry
    )
    assert celsius.grad.advection("T", C).data.units == registry.Unit("delta_degC/s")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_advection_is_the_formula_on_along(dtype, assert_bitwise_equal):
    """advection's fused pass gives the bits of ``-(u df/dx + v df/dy)`` on ``.grad.along``'s
    derivatives (the engine's metric factors), in memory (threads, compiled kernels, tiles)
    and on dask."""
    from xgrad import inmemory

    ds = smooth(48).astype(dtype)
    ds = xr.concat([ds * (1 + 0.01 * k) for k in range(12)], dim="time")  # 12 tiles
    for data in (ds, ds.chunk({"time": 5, "lat": 20})):
        fx, fy = data["T"].grad.along("lon", "lat")
        expected = -(fx.values * data.u.values + fy.values * data.v.values)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(inmemory, "_MIN_THREADED_BYTES", 0)
            got = data.grad.advection("T", C)
        assert got.dtype == dtype
        assert_bitwise_equal(got.values, expected)


def test_float32_stays_float32():
    ds = smooth(18).astype(np.float32)
    for method in ("vector_gradient", "deformation"):
        assert {v.dtype for v in getattr(ds.grad, method)(C).data_vars.values()} == {
            np.dtype(np.float32)
        }
    assert ds.grad.advection("T", C).dtype == np.float32
    assert ds.grad.frontogenesis("T", C).dtype == np.float32


def test_signatures_list_every_option():
    for method in METHODS:
        params = inspect.signature(getattr(xr.Dataset.grad, method)).parameters
        keyword = [p for p, v in params.items() if v.kind is inspect.Parameter.KEYWORD_ONLY]
        assert keyword == list(Options.names()), method


# --- errors ----------------------------------------------------------------------------------

ERRORS = [
    (
        lambda ds: ds.grad.vector_gradient(["u", "v"]),
        TypeError,
        r"components=\['u', 'v'\] must be a mapping of dimension to data variable name, e\.g\. "
        r"`ds\.grad\.vector_gradient\(\{'lon': 'u', 'lat': 'v'\}\)`",
    ),
    (
        lambda ds: ds.grad.deformation({"x": "u"}),
        ValueError,
        r"deformation needs exactly 2 components \(dimension: data variable\), got 1: "
        r"\{'x': 'u'\}; e\.g\. `ds\.grad\.deformation\(\{'lon': 'u', 'lat': 'v'\}\)`",
    ),
    (
        lambda ds: ds.grad.advection("T", {"x": "u"}),
        ValueError,
        r"advection needs exactly 2 components .* "
        r"`ds\.grad\.advection\('T', \{'lon': 'u', 'lat': 'v'\}\)`",
    ),
    (
        lambda ds: ds.grad.vector_gradient({"x": "u", "y": "w"}),
        ValueError,
        r"components names 'w', which is not a data variable of this Dataset; data variables "
        r"are \('u', 'v', 'T', 'k', 'h'\)",
    ),
    (
        lambda ds: ds.grad.deformation({"x": "u", "z": "v"}),
        ValueError,
        r"'z' is not a dimension or coordinate of this Dataset",
    ),
    (
        lambda ds: ds.grad.deformation({"x": "u", "y": "h"}),
        ValueError,
        r"deformation: the components are in different units \('u': 'm s-1', 'h': 'm'\); "
        r"convert one first",
    ),
    (
        lambda ds: ds.grad.advection("q", {"x": "u", "y": "v"}),
        ValueError,
        r"advection: 'q' is not a data variable of this Dataset; data variables are "
        r"\('u', 'v', 'T', 'k', 'h'\)",
    ),
    (
        lambda ds: ds.grad.advection("k", {"x": "u", "y": "v"}),
        ValueError,
        r"advection differentiates data variable 'k' along 'y', but its dims are \('x',\); "
        r"give variables that have both dimensions",
    ),
    (
        lambda ds: ds.grad.frontogenesis("T", {"x": "u", "y": "k"}),
        ValueError,
        r"frontogenesis differentiates data variable 'k' along 'y'",
    ),
    (
        lambda ds: ds.assign_coords(y=ds.y.assign_attrs(units="km")).grad.deformation(
            {"x": "u", "y": "v"}
        ),
        ValueError,
        r"deformation adds derivatives along 'x' \(units 'm'\) and 'y' \(units 'km'\)",
    ),
    (
        lambda ds: ds.grad.frontogenesis("T", {"x": "u", "y": "v"}, accuracy=3),
        ValueError,
        r"accuracy=3 is not valid; choose one of \(2, 4, 6\)",
    ),
    (
        lambda ds: ds.assign_coords(y=ds.y.assign_attrs(units="degrees_north")).grad.deformation(
            {"x": "u", "y": "v"}
        ),
        ValueError,
        r"deformation on the sphere needs the longitude and latitude dims as keys; 'x' and 'y' "
        r"are neither and latitude",
    ),
    (
        lambda ds: ds.grad.vector_gradient({"east": "u", "north": "v"}),
        ValueError,
        r"vector_gradient: components keyed \['east', 'north'\] are Earth-relative \(eastward and "
        r"northward\); but horizontal derivatives need the two dims of one Earth grid, .* Give "
        r"grid-relative components keyed by the grid's dims",
    ),
    (
        lambda ds: ds.grad.advection("T", {"east": "u", "up": "v"}),
        ValueError,
        r"advection: components keyed \['east', 'up'\] are Earth-relative .*; give both, 'east' "
        r"and 'north'",
    ),
    (  # with a key that is a dim (an audit: "'east' is not a dimension or coordinate")
        lambda ds: ds.grad.deformation({"east": "u", "y": "v"}),
        ValueError,
        r"deformation: components keyed \['east', 'y'\] are Earth-relative .*; give both, 'east' "
        r"and 'north'",
    ),
    (
        lambda ds: ds.assign(u=ds.u.astype(complex)).grad.deformation({"x": "u", "y": "v"}),
        TypeError,
        r"deformation: data variable 'u' is complex; .* `ds\['u'\]\.real`",
    ),
    (
        lambda ds: ds.assign(v=ds.v.astype(str)).grad.advection("T", {"x": "u", "y": "v"}),
        TypeError,
        r"data variable 'v' has dtype <U\d+ and cannot be differentiated",
    ),
]


@pytest.mark.parametrize("case", range(len(ERRORS)), ids=str)
@pytest.mark.parametrize("chunks", [None, {"x": 2}])
def test_errors(case, chunks, raise_on_compute):
    ds = plane(chunks).assign(k=("x", np.arange(9.0)), h=lambda d: d.u.assign_attrs(units="m"))
    before = ds.copy(deep=True)
    call, exc, match = ERRORS[case]
    with dask.config.set(scheduler=raise_on_compute):
        with pytest.raises(exc, match=match):
            call(ds)
    xr.testing.assert_identical(ds, before)


def _earth_dataset(grid):
    """u, v, T on a tests/earth_grids.py grid (T its analytic field; u, v smooth)."""
    da = grid.da
    return xr.Dataset(
        {
            "T": da,
            "u": (da * 0 + 5).assign_attrs(units="m s-1"),
            "v": da.assign_attrs(units="m s-1"),
        }
    )


@pytest.mark.parametrize("kind", ["projected", "curvilinear"])
@pytest.mark.parametrize("method", METHODS)
def test_earth_grid_keys_error(kind, method):
    """Projected and curvilinear grids are supported (below); what is still an error: keys that
    are not the grid's two dims, and east/north where there is no Earth (cartesian geometry)."""
    pytest.importorskip("pyproj")
    from earth_grids import projected, wrf_like  # tests/earth_grids.py

    ds = _earth_dataset(projected(9) if kind == "projected" else wrf_like(9)).chunk()
    x, y = ("x", "y") if kind == "projected" else ("west_east", "south_north")
    ds = ds.assign(w=ds.u.expand_dims(z=2).assign_coords(z=[0.0, 1.0])).assign(
        u3=lambda d: d.u + 0 * d.w
    )
    wrong = {x: "u", "z": "u3"}
    args = ("T",) if method in ("advection", "frontogenesis") else ()
    before = ds.copy(deep=True)
    with pytest.raises(
        ValueError,
        match=rf"{method} on a {kind} grid needs the components along its two dims",
    ):
        getattr(ds.grad, method)(*args, wrong)
    with pytest.raises(ValueError, match=rf"{method}: components keyed \['east', 'north'\] "):
        getattr(ds.grad, method)(*args, {"east": "u", "north": "v"}, geometry="cartesian")
    xr.testing.assert_identical(ds, before)
    getattr(ds.grad, method)(*args, {x: "u", y: "v"}, geometry="cartesian")  # per unit: allowed


@pytest.mark.parametrize("kind", ["rotated", "projected", "wrf", "orca"])
def test_earth_grid_components_in_another_order(kind, assert_bitwise_equal):
    """v laid out (x, y) beside u (y, x): the same bits as one layout, in memory and chunked
    (Earth-relative components were a ValueError asking to transpose; grid-relative ones on a
    curvilinear grid too)."""
    pytest.importorskip("pyproj")
    import earth_grids  # tests/earth_grids.py

    grid = {
        "rotated": lambda: earth_grids.rotated(12),
        "projected": lambda: earth_grids.projected(12),
        "wrf": lambda: earth_grids.wrf_like(12),
        "orca": lambda: earth_grids.orca_like(14, 10),
    }[kind]()
    ds = _earth_dataset(grid)
    ds = ds.assign(v=(ds.v * ds.T + 1.0).assign_attrs(units="m s-1"))  # not a multiple of T
    y, x = ds.T.dims
    mixed = ds.assign(v=ds.v.transpose(x, y))
    calls = [(m, (*(("T",) if m in ("advection", "frontogenesis") else ()),)) for m in METHODS]
    calls += [("divergence", ()), ("curl", ())]
    for keys in ({"east": "u", "north": "v"}, {x: "u", y: "v"}):
        for method, args in calls:
            ref = getattr(ds.grad, method)(*args, keys)
            for data in (mixed, mixed.chunk({y: 5})):
                out = getattr(data.grad, method)(*args, keys)
                for name in ref.data_vars if isinstance(ref, xr.Dataset) else [None]:
                    a, b = (ref, out) if name is None else (ref[name], out[name])
                    assert b.dims == a.dims, (method, keys, name)
                    assert_bitwise_equal(b.values, a.values)


@pytest.mark.parametrize(
    ("method", "keys"),
    [
        ("divergence", {"west_east": "u", "south_north": "v"}),
        ("curl", {"east": "u", "north": "v"}),
        ("deformation", {"east": "u", "north": "v"}),
    ],
)
def test_earth_grid_components_of_different_dims_advice_works(method, keys):
    # u (time, y, x) beside v (y, x): the message's fix is run as written (it said transpose,
    # which cannot give v a time dim; the review of this session's changes)
    pytest.importorskip("pyproj")
    from earth_grids import wrf_like

    da = wrf_like(10).da
    ds = xr.Dataset(
        {
            "u": da.expand_dims(time=2).copy().assign_attrs(units="m s-1"),
            "v": (0.5 * da).assign_attrs(units="m s-1"),
        }
    )
    with pytest.raises(ValueError, match=r"must have the same dims|need the same dims") as err:
        getattr(ds.grad, method)(keys)
    text = str(err.value)
    fix = text[text.index("`") + 1 : text.rindex("`")]
    assert fix == "ds['v'] = ds['v'].broadcast_like(ds['u']).transpose(*ds['u'].dims)"
    exec(fix, {"ds": ds})
    out = getattr(ds.grad, method)(keys)
    assert all(v.dims == ds.u.dims for v in getattr(out, "data_vars", {"r": out}).values())


def test_rotated_pole_grid_relative_components():
    """Solid-body rotation about the rotated pole, components along the rotated grid lines:
    no deformation, vorticity 2 U sin(rlat') / R; the advection of T is the derivative along
    the rotated parallels times the wind."""
    pytest.importorskip("pyproj")
    from earth_grids import R as RADIUS
    from earth_grids import rotated

    errors = []
    for n in (41, 81):
        grid = rotated(n)
        rlat = np.deg2rad(grid.da.rlat.values)[:, None] + 0 * grid.da.values
        ds = xr.Dataset(
            {
                "T": grid.da,
                "u": (("rlat", "rlon"), U * np.cos(rlat), {"units": "m s-1"}),
                "v": (("rlat", "rlon"), 0 * rlat, {"units": "m s-1"}),
            }
        )
        c = {"rlon": "u", "rlat": "v"}
        d = ds.grad.deformation(c, accuracy=4)
        assert d.total_deformation.attrs["xgrad_geometry"] == "rotated_pole"
        assert d.total_deformation.attrs["xgrad_radius"] == RADIUS
        # u_lambda of a zonally uniform u: rounding in the 5-point stencil (1.3e-19 s-1)
        assert np.abs(d.stretching_deformation.values).max() < 1e-18
        g = ds.grad.vector_gradient(c, accuracy=4)
        vorticity = 2 * U * np.sin(rlat) / RADIUS
        adv = ds.grad.advection("T", c, accuracy=4)
        errors.append(
            (
                np.abs(d.shearing_deformation.values).max() / np.abs(vorticity).max(),
                rel(g.dv_dx - g.du_dy, vorticity),
                rel(adv, -U * np.cos(rlat) * grid.along["rlon"]),
            )
        )
    # accuracy 4, relative, at n = 41 / 81 (1.25 / 0.625 degrees), edges included: shearing
    # and vorticity 8.5e-9 / 5.6e-10, advection 8.8e-7 / 6.9e-8 (fourth order, 13-15x)
    assert max(errors[1]) < 1e-7, errors
    for coarse, fine in zip(*errors):
        assert coarse / fine > 12, errors


def test_ellipsoid_rigid_rotation():
    """Rigid rotation on the WGS84 ellipsoid, u = Omega N(phi) cos(phi), v = 0, has no
    deformation: u tan(phi) / N + u_phi / M = 0 only with the ellipsoid's radii of curvature
    (the sphere's tan(phi)/R would leave ~e^2 Omega)."""
    from xgrad.earth import Figure

    wgs84 = Figure.from_option("WGS84")
    omega = 7.292e-5
    shearing = {}
    for n in (90, 180):
        ds = sphere(n, {"u": (lambda p, lam: 0 * p, "m s-1"), "v": (lambda p, lam: 0 * p, "m s-1")})
        phi = np.deg2rad(ds.lat.values)[:, None]
        ds["u"] = ds.u + omega * wgs84.prime_vertical_radius(phi) * np.cos(phi)
        inner = (np.abs(ds.lat.values) < 80)[:, None]
        d = ds.grad.deformation(C, radius="WGS84")
        assert d.shearing_deformation.attrs["xgrad_radius"] == "WGS84"
        shearing[n] = np.abs(np.where(inner, d.shearing_deformation.values, 0)).max()
        g = ds.grad.vector_gradient(C, radius="WGS84")
        vorticity = 2 * omega * np.sin(phi) + 0 * ds.u.values
        # measured 1.0e-4 / 2.6e-5 relative (a sphere's radius instead: 4.1e-3 / 4.2e-3)
        assert rel(g.dv_dx - g.du_dy, vorticity, inner) < {90: 1.5e-4, 180: 4e-5}[n]
        # a sphere's radius instead leaves ~e^2 Omega sin(phi): measured 1.9e-7 s-1
        wrong = ds.grad.deformation(C, radius=6371008.8).shearing_deformation.values
        assert np.abs(np.where(inner, wrong, 0)).max() > 1e-7
    # truncation of u_phi, second order: measured 1.5e-8 / 3.7e-9 s-1 within 80 degrees
    assert shearing[180] < 5e-9 and 3.9 < shearing[90] / shearing[180] < 4.1, shearing


def test_mixed_quantified_error():
    pytest.importorskip("pint_xarray")
    from cf_xarray.units import units as registry

    ds = plane()
    mixed = ds.assign(T=ds.T.copy(data=registry.Quantity(ds.T.values, "K")))
    with pytest.raises(ValueError, match=r"frontogenesis: some variables are pint quantities"):
        mixed.grad.frontogenesis("T", {"x": "u", "y": "v"})
    # a tracer without units beside quantified winds: the hint names it, and works as written
    # (`ds.pint.quantify()` skips a variable without units: the same error came back; an audit)
    winds = ds.assign(c=ds.T.drop_attrs()).pint.quantify()
    with pytest.raises(
        ValueError, match=r"quantify all of them: `ds\.pint\.quantify\(\{'c': '1'\}\)`"
    ):
        winds.grad.advection("c", {"x": "u", "y": "v"})
    fixed = winds.pint.quantify({"c": "1"}).grad.advection("c", {"x": "u", "y": "v"})
    assert str(fixed.pint.units) == "meter / second"  # x, y without units: per their unit


def test_sphere_without_latitude_error():
    ds = smooth(18).drop_vars("lat")
    with pytest.raises(
        ValueError, match=r"geometry='sphere': the derivative along longitude 'lon'"
    ):
        ds.grad.vector_gradient({"lon": "u", "lat": "v"})


# Solid-body rotation about the Earth's axis, east = U cos(lat), north = 0, on every Earth grid
# of tests/earth_grids.py: no divergence, no deformation, vorticity dv/dx - du/dy = 2 U sin(lat)/R
# (both invariants of the frame); f = sin(lat) is constant along the flow, so its advection is 0.
# Measured at accuracy 2, edge_order 2, edges included, relative to max |vorticity| (advection to
# U/R); (vorticity, divergence, total deformation, advection) on the finest grid, and the order:
#   rotated pole   41/81   grid and east/north alike  2.8e-5 2.5e-6 2.2e-5 1.4e-5 -> 1.94-2.0
#   stereographic  41/81   grid and east/north alike  4.1e-5 9.1e-6 3.8e-5 3.3e-5 -> 1.96-2.04
#   Lambert        41/81   grid and east/north alike  1.2e-4 6.0e-5 1.3e-4 3.2e-5 -> 1.94-2.03
#   WRF-like       41/81   grid-relative              4.2e-5 4.5e-5 6.0e-5 1.4e-5 -> 1.90-1.99
#                          east/north                 1.8e-5 6.9e-6 4.1e-5 9.2e-6 -> 1.95-1.99
#   ORCA-like      81/161  grid-relative              6.8e-4 4.0e-4 7.6e-4 4.8e-5 -> 1.89-2.04
#                  41/81   east/north                 3.1e-4 1.2e-4 3.1e-4 1.7e-4 -> 1.99-2.11
# Rotating east/north onto a curvilinear grid with its stencil-made angle and then differentiating
# would be first order at the edges (measured: WRF-like vorticity 0.93, deformation 1.0); the
# 3-D form (xgrad.local_frame._earth_curvilinear) keeps the second order.
EARTH_GRIDS = ("rotated", "stereographic", "lambert", "wrf", "orca")


def _earth_grid(kind, n):
    from earth_grids import LAMBERT, STEREO, orca_like, projected, rotated, wrf_like

    if kind == "rotated":
        return rotated(n)
    if kind in ("stereographic", "lambert"):
        return projected(n, STEREO if kind == "stereographic" else LAMBERT)
    return wrf_like(n) if kind == "wrf" else orca_like(2 * n, n)


def _solid_body(grid, earth, *, chunks=None):
    """u, v (grid-relative: rotated onto the exact unit tangents of the grid lines; or east and
    north), f = sin(lat); the components and the true latitude in radians."""
    da = grid.da
    lat_name = next(k for k in ("lat", "XLAT", "nav_lat") if k in da.coords)
    lat = np.radians(da[lat_name].values)
    east, north = U * np.cos(lat), 0 * lat
    y, x = da.dims
    if earth:
        u, v, comps = east, north, {"east": "u", "north": "v"}
    else:
        (ex, nx), (ey, ny) = grid.tangents[x], grid.tangents[y]
        u, v, comps = east * ex + north * nx, east * ey + north * ny, {x: "u", y: "v"}
    ds = xr.Dataset(
        {
            "u": (da.dims, u, {"units": "m s-1"}),
            "v": (da.dims, v, {"units": "m s-1"}),
            "f": (da.dims, np.sin(lat), {"units": "1"}),
            "T": da,
        }
    )
    return (ds if chunks is None else ds.chunk(chunks)), comps, lat


@pytest.mark.parametrize("earth", [False, True], ids=["grid", "east_north"])
@pytest.mark.parametrize("kind", EARTH_GRIDS)
def test_solid_body_rotation_on_earth_grids(kind, earth):
    pytest.importorskip("pyproj")
    from earth_grids import R as RADIUS
    from earth_grids import order

    sizes = (81, 161) if kind == "orca" and not earth else (41, 81)
    errors = []
    for n in sizes:
        ds, comps, lat = _solid_body(_earth_grid(kind, n), earth)
        options = {"accuracy": 2, "edge_order": 2}
        g = ds.grad.vector_gradient(comps, **options)
        assert g.du_dx.attrs["xgrad_geometry"] == ds.T.grad.horizontal()[0].attrs["xgrad_geometry"]
        assert "local grid frame" in g.du_dx.attrs["long_name"]
        d = ds.grad.deformation(comps, **options)
        adv = ds.grad.advection("f", comps, **options)
        vorticity = 2 * U * np.sin(lat) / RADIUS
        scale = np.abs(vorticity).max()
        errors.append(
            [
                rel(g.dv_dx - g.du_dy, vorticity),
                np.abs(g.du_dx + g.dv_dy).max().item() / scale,
                d.total_deformation.max().item() / scale,
                np.abs(adv).max().item() / (U / RADIUS),
            ]
        )
    coarse, fine = errors
    assert max(fine) < 1e-3, errors
    orders = [order(pair)[0] for pair in zip(coarse, fine, strict=True)]
    assert min(orders) > 1.8, (orders, errors)


@pytest.mark.parametrize("earth", [False, True], ids=["grid", "east_north"])
@pytest.mark.parametrize("kind", EARTH_GRIDS)
def test_earth_grids_chunked_bitwise(kind, earth, assert_bitwise_equal, raise_on_compute):
    """Small ragged chunks give the in-memory answer bit for bit; building computes nothing."""
    pytest.importorskip("pyproj")
    grid = _earth_grid(kind, 13)
    y, x = grid.da.dims
    ds, comps, _ = _solid_body(grid, earth)
    ds = ds.assign(
        T=ds.T * 1.0, u=(ds.u + 0.1 * ds.T).assign_attrs(units="m s-1")
    )  # a wind with deformation, T with fronts
    chunks = {y: (3, 5, 2, 3), x: (4, 1, 8) if ds.sizes[x] == 13 else 5}
    # the data chunked; the 2-D latitude/longitude in memory (they may be read while building)
    chunked = ds.chunk(chunks).assign_coords({k: ds[k].variable for k in ds.coords})
    calls = {
        "vector_gradient": lambda d: d.grad.vector_gradient(comps, accuracy=4),
        "deformation": lambda d: d.grad.deformation(comps),
        "advection": lambda d: d.grad.advection("T", comps, edge_order=2),
        "frontogenesis": lambda d: d.grad.frontogenesis("T", comps),
    }
    for method, call in calls.items():
        expected = call(ds)
        with dask.config.set(scheduler=raise_on_compute):
            lazy = call(chunked)
        for name in expected.data_vars if method in ("vector_gradient", "deformation") else [None]:
            a = lazy if name is None else lazy[name]
            b = expected if name is None else expected[name]
            assert a.chunks is not None
            assert_bitwise_equal(a.values, b.values, err_msg=f"{kind} {method} {name}")


_KERNEL_ARITY = {
    "minus_product": 3,
    "plus_product": 3,
    "stretching": 4,
    "shearing": 4,
    "advection": 4,
    "frontogenesis": 9,
    "hypot": 2,
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(_KERNEL_ARITY))
def test_plain_path_same_bits(name, dtype, assert_bitwise_equal):
    """The NumPy path of the fused kernels (cupy and other duck arrays) gives the numba ufuncs'
    bits on numpy, special values included (zeros, NaN, inf, tiny and huge magnitudes that take
    ``_hypot``'s other branch), and runs on a duck array that refuses numpy operands."""
    from test_duck import StrictDuck

    from xgrad import _fused

    rng = np.random.default_rng(7)
    special = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-150, 1e150, 1e-40, 3.0])
    n = _KERNEL_ARITY[name]
    flag = name in ("stretching", "shearing", "frontogenesis")
    args = []
    for k in range(n):
        a = rng.standard_normal(64) * 10.0 ** rng.integers(-3, 4, 64)
        a[k : k + special.size] = special  # each argument meets the special values elsewhere
        with np.errstate(over="ignore"):  # 1e150 is inf in float32: a special value too
            args.append(a.astype(dtype))
    for metric in (True, False) if flag else (None,):
        extra = (metric,) if flag else ()
        with np.errstate(all="ignore"):
            expected = _fused.kernel(name)(*args, *extra)
            duck = _fused.apply(name, *map(StrictDuck, args), *extra)  # the plain path
        assert isinstance(duck, StrictDuck)
        assert_bitwise_equal(duck.get(), expected, err_msg=f"{name} metric={metric}")


_LOOPS = {  # loop name -> (number of derivatives, of full-size operands, of outputs, steps)
    "minus_pair": (2, 1, 2, (("minus_product", (("d", 0), ("o", 0), ("o", 1))),)),
    "plus_pair": (2, 1, 2, (("plus_product", (("d", 0), ("o", 0), ("o", 1))),)),
    "pairs": (  # u and v differentiated in one pass: (ux, uy, vx, vy), operands (v, u, tan)
        4,
        2,
        4,
        (
            ("minus_product", (("d", 0), ("o", 0), ("o", 2))),
            ("plus_product", (("d", 2), ("o", 1), ("o", 2))),
        ),
    ),
    "deformation": (
        2,
        4,
        3,
        (
            ("stretching", (("o", 0), ("o", 3), ("o", 4), ("d", 1), ("c", True))),
            ("shearing", (("d", 0), ("o", 2), ("o", 4), ("o", 1), ("c", True))),
            ("hypot", (("r", 0), ("r", 1))),
        ),
    ),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "name, metric",
    [
        ("minus_pair", True),
        ("plus_pair", True),
        ("pairs", True),
        ("deformation", True),
        ("deformation", False),
    ],
)
def test_loops_same_bits(name, dtype, metric, assert_bitwise_equal):
    """The compiled loops of ``xgrad._fused_loops`` give the ufunc steps' bits (special values
    included: zeros, NaN, inf, tiny and huge magnitudes for ``_hypot``'s other branch), with
    ``tan`` along a middle axis, inputs that are not contiguous (copied), and fall back to the
    ufuncs where an output view is not C-contiguous."""
    from xgrad import _fused, _fused_loops
    from xgrad.kernels import compiled

    nd, nop, nout, steps = _LOOPS[name]
    if not metric:  # as kinematics._tan_args: u, v and tan constants, the flag False
        constant = {("c", True): ("c", False), ("o", 2): ("c", 0.0), ("o", 3): ("c", 0.0)}
        constant[("o", 4)] = ("c", 0.0)
        steps = tuple((k, tuple(constant.get(a, a) for a in args)) for k, args in steps)
    rng = np.random.default_rng(11)
    shape = (3, 5, 7)
    special = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-150, 1e150, 1e-40, 3.0])
    arrays = []
    for k in range(nd + nop):
        a = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4, shape)
        a.flat[k : k + special.size] = special
        if k == nd:  # both zero where the other full-size operands are: hypot(0, 0)
            a.flat[40:45] = 0.0
        with np.errstate(over="ignore"):
            arrays.append(a.astype(dtype))
    for a in arrays[nd + 1 :]:
        a.flat[40:45] = 0.0
    arrays[0].flat[40:45] = 0.0
    arrays[1] = np.asfortranarray(arrays[1])  # an input that is not C-contiguous
    tan = (rng.standard_normal((1, shape[1], 1)) * 1e-7).astype(dtype)
    ders, ops = arrays[:nd], arrays[nd:] + ([tan] if metric else [])
    keep = {
        "deformation": tuple(("r", i) for i in range(nout)),
        "pairs": (("r", 0), ("D", 1), ("r", 1), ("D", 3)),
    }.get(name, (("r", 0), ("D", 1)))
    loop = (name, 1, metric)
    kwargs = {"steps": steps, "keep": keep, "dtype": np.dtype(dtype).name}
    with np.errstate(all="ignore"):
        expected = _fused.combine(ders, ops, **kwargs)
        out = [np.empty(shape, dtype) for _ in range(nout)]
        assert _fused_loops.run(name, ders, ops, out, dtype=kwargs["dtype"], axis=1, metric=metric)
        with compiled(True):  # a block this small takes the ufuncs otherwise (compiled_wanted)
            got = _fused.combine(ders, ops, **kwargs, loop=loop, out=out)
        assert all(g is o for g, o in zip(got, out))
        strided = [np.empty(shape[::-1], dtype).T for _ in range(nout)]  # Fortran views
        assert not _fused_loops.run(
            name, ders, ops, strided, dtype=kwargs["dtype"], axis=1, metric=metric
        )
        fallback = _fused.combine(ders, ops, **kwargs, loop=loop, out=strided)
    for e, g, f in zip(expected, got, fallback):
        assert_bitwise_equal(g, e, err_msg=f"{name} metric={metric}")
        assert_bitwise_equal(np.asarray(f), e, err_msg=f"{name} metric={metric} fallback")


@pytest.mark.parametrize("earth", [False, True], ids=["grid", "east_north"])
def test_float32_chunked_on_earth_grids_computes_float32(earth):
    # The zeros passed for "no metric term" were Python floats: on dask blocks they picked
    # the kernel's float64 loop, so results declared float32 computed to float64 (an audit)
    pytest.importorskip("pyproj")
    ds, comps, _ = _solid_body(_earth_grid("wrf", 13), earth)
    ds = ds.astype(np.float32)
    for k in ds.data_vars:
        ds[k].attrs = {"units": "m s-1"} if k in "uv" else {"units": "K"}
    lazy = ds.chunk({ds.u.dims[0]: 5})
    for call in (
        lambda d: d.grad.deformation(comps).total_deformation,
        lambda d: d.grad.frontogenesis("T", comps),
        lambda d: d.grad.vector_gradient(comps).du_dx,
    ):
        result = call(lazy)
        assert result.dtype == np.float32
        assert result.compute().dtype == np.float32
        np.testing.assert_array_equal(result.compute().values, call(ds).values)
