"""Units and attributes of derivatives (xgrad.units)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import xgrad  # noqa: F401  (registers .grad)
from xgrad import units as xunits
from xgrad.units import derivative_attrs, derivative_long_name, derivative_units

cf_units = pytest.importorskip("cf_xarray.units").units

CASES = [
    # data units, coordinate units, expected
    ("K", "m", "K m-1"),
    ("m2 s-2", "m", "m s-2"),
    ("m s-1", "s", "m s-2"),
    ("kg m-2 s-1", "m", "kg m-3 s-1"),
    ("K", "degrees_north", "K degrees_north-1"),
    ("K", "d", "K d-1"),
    ("K", "min", "K min-1"),
    ("K", "us", "K us-1"),  # not the micro sign: udunits and netCDF attributes want ASCII
    ("K", "week", "K week-1"),
    ("K", "hours since 2000-01-01", "K h-1"),  # undecoded CF time coordinate
    ("K", "Days since 2000-01-01", "K d-1"),  # an audit: "K Days-1", which nothing reads
    ("K", "hours after 1900-01-01", "K h-1"),  # udunits' other words (was the whole phrase)
    ("K", "seconds @ 1970-01-01", "K s-1"),
    ("hPa", "m", "hPa m-1"),
    ("degC", "m", "K m-1"),  # a difference of degC is a difference of kelvin
    ("degC", None, "K"),  # per index too (it was "degC": decode_cf added 273.15)
    ("degree_C", "1", "K"),
    ("degrees Celsius", "m", "K m-1"),  # not "degrees delta_degC m-1"
    ("K", "K", "1"),
    ("m", "1", "m"),
    ("1", "m", "m-1"),
    (None, "m", "m-1"),  # CF: no units means dimensionless
    ("K", None, "K"),  # unit spacing, or a coordinate without units
    ("K", "", "K"),
    (None, None, None),  # nothing known: no units attribute at all
]


CELSIUS_SPELLINGS = ("degC", "degree_C", "degrees Celsius")

# An audit: pint spells these in ways udunits (CF tools: iris, cf-python) cannot read, and a
# difference of degF per index was labelled "degF", a temperature
UDUNITS_CASES = [
    ("degC s-1", "m", "K m-1 s-1"),  # was "delta_degC m-1 s-1"
    ("degC/day", "m", "K day-1 m-1"),
    ("degC2", "m", "K2 m-1"),
    ("degC m-1", "m", "K m-2"),
    ("knots", "m", "kt m-1"),  # was "kn m-1"
    ("kts", "m", "kt m-1"),
    ("degF", None, "degR"),  # a difference of degF: one degree Rankine
    ("degF", "m", "degR m-1"),  # was "degF m-1" (cf-xarray writes the degree sign: fallback)
    ("degF s-1", "m", "degR m-1 s-1"),
]


@pytest.mark.parametrize(("data", "coord", "expected"), UDUNITS_CASES)
def test_units_pint_spells_unlike_udunits(data, coord, expected):
    got = derivative_units(data, coord)
    assert got == expected
    assert "delta" not in got and "kn" not in got.split()
    num = cf_units.Unit(data)  # pint's difference unit for an offset one (delta_degC / s)
    if not cf_units.Quantity(1, num)._is_multiplicative:
        num = cf_units.Unit(f"delta_{data}")
    quotient = num / cf_units.Unit(coord or "1")
    assert cf_units.Quantity(1.0, got).m_as(quotient) == 1.0


@pytest.mark.parametrize(("data", "coord", "expected"), CASES)
def test_derivative_units(data, coord, expected):
    assert derivative_units(data, coord) == expected


@pytest.mark.parametrize(("data", "coord", "expected"), [c for c in CASES if c[2] is not None])
def test_units_parse_with_cf_xarray_registry_to_the_quotient(data, coord, expected):
    got = cf_units.Unit(derivative_units(data, coord))
    num = cf_units.Unit("K" if data in CELSIUS_SPELLINGS else (data or "1"))
    den = cf_units.Unit(xunits._clean(coord) or "1")
    assert got == num / den


@pytest.mark.parametrize(
    ("data", "coord", "expected"),
    [
        ("K", "m", "K m-1"),
        ("K", "m2", "K m-2"),
        ("K", "s-1", "K s"),
        (None, "m", "m-1"),
        ("K/m", "s", "(K/m) s-1"),
        ("K", "m s-1", "K/(m s-1)"),
        ("kg m-2", "m s-1", "(kg m-2)/(m s-1)"),
        (None, "m s-1", "1/(m s-1)"),
        ("K", None, "K"),
    ],
)
def test_fallback_without_pint(monkeypatch, data, coord, expected):
    monkeypatch.setattr(xunits, "_registry", lambda: None)
    derivative_units.cache_clear()
    try:
        assert derivative_units(data, coord) == expected
    finally:
        derivative_units.cache_clear()
    # The hand-composed strings are still right, in pint's eyes too.
    num = cf_units.Unit(data or "1")
    assert cf_units.Quantity(1, expected) == cf_units.Quantity(1, num / cf_units.Unit(coord or "1"))


@pytest.mark.parametrize(
    ("data", "coord", "expected"),
    [
        ("10^3 kg", "m", "(10^3 kg) m-1"),  # scale factors: pint units cannot carry them
        ("kg", "1e-3 m", "kg/(1e-3 m)"),
        ("not_a_unit", "m", "not_a_unit m-1"),
    ],
)
def test_fallback_for_units_pint_cannot_format(data, coord, expected):
    assert derivative_units(data, coord) == expected


def test_long_name():
    assert (
        derivative_long_name("t", "air temperature", "lat")
        == "derivative of air temperature with respect to lat"
    )
    assert derivative_long_name("t", None, "x") == "derivative of t with respect to x"
    assert derivative_long_name("t", "", "x") == "derivative of t with respect to x"
    assert derivative_long_name(None, None, "x") == "derivative with respect to x"


def test_attrs_keep_drop_stale_and_rewrite():
    attrs = {
        "units": "K",
        "long_name": "temperature",
        "standard_name": "air_temperature",
        "valid_range": [0, 400],
        "source": "model",
        # codes that identify the field itself (an audit: STASH reached the derivative)
        "ukmo__um_stash_source": "m01s16i203",
        "GRIB_paramId": 130,
        "code": 130,
        "table": 128,
    }
    kept = derivative_attrs(
        attrs,
        name="t",
        data_units="K",
        coord_units="m",
        wrt="x",
        boundary="edge",
        keep_attrs=True,
    )
    assert kept == {
        "source": "model",
        "units": "K m-1",
        "long_name": "derivative of temperature with respect to x",
        "xgrad_boundary": "edge",
    }
    dropped = derivative_attrs(
        attrs,
        name="t",
        data_units=None,
        coord_units=None,
        wrt="x",
        boundary="edge",
        keep_attrs=False,
    )
    assert dropped == {
        "long_name": "derivative of temperature with respect to x",
        "xgrad_boundary": "edge",
    }
    assert attrs["units"] == "K" and "standard_name" in attrs  # input untouched
    quantified = derivative_attrs(
        attrs,
        name="t",
        data_units="K",
        coord_units="m",
        wrt="x",
        boundary="edge",
        keep_attrs=True,
        write_units=False,
    )
    assert "units" not in quantified


def test_packing_attributes_are_not_kept_on_derivatives():
    # An audit: data opened with decode_cf=False kept scale_factor/add_offset on its derivative,
    # and decoding the result then gave 274.15 for 1.0 (xarray's differentiate drops all attrs)
    packed = xr.DataArray(
        np.arange(5, dtype=np.int16) * 100,
        dims="x",
        coords={"x": np.arange(5.0)},
        attrs={
            "units": "K",
            "scale_factor": 0.01,
            "add_offset": 273.15,
            "_FillValue": np.int16(-32767),
            "missing_value": np.int16(-32767),
            "_Unsigned": "false",
            "source": "model",
        },
    )
    out = packed.grad.along("x")
    for name in ("scale_factor", "add_offset", "_FillValue", "missing_value", "_Unsigned"):
        assert name not in out.attrs
    assert out.attrs["source"] == "model"
    decoded = xr.decode_cf(out.to_dataset(name="d"))
    np.testing.assert_array_equal(decoded.d.values, np.full(5, 100.0))


def test_celsius_per_index_is_kelvin_as_with_pint():
    # a dim without a coordinate (per index): the attribute said "degC", a temperature, and
    # decode_cf / pint-xarray read 2.0 as 275.15 K; pint's own answer is a difference (K)
    pint_xarray = pytest.importorskip("pint_xarray")  # noqa: F841  (registers .pint)
    da = xr.DataArray([10.0, 12.0, 15.0, 19.0], dims="x", attrs={"units": "degC"})
    quantified = da.pint.quantify(unit_registry=cf_units)
    for method in ("along", "magnitude", "laplacian"):
        result = getattr(da.grad, method)("x")
        assert result.attrs["units"] == "K", method
        via_pint = getattr(quantified.grad, method)("x").pint.to("K")
        np.testing.assert_array_equal(result.values, via_pint.pint.magnitude)


@pytest.mark.parametrize(
    ("coord", "per"), [("degC", "K"), ("degree_Celsius", "K"), ("degF", "degR")]
)
def test_along_a_temperature_coordinate_is_per_degree_of_difference(coord, per):
    # An audit: density along a temperature coordinate in degC was labelled "kg m-3 degC-1"
    # (udunits reads degC-1 as per 274.15 K) and pint's kg/degC/m3 could not be converted to
    # kelvin ("offset units in higher order"); the spacing is a difference: per K (degR)
    temperature = np.array([0.0, 5.0, 10.0, 20.0])
    rho = xr.DataArray(
        1000.0 - 0.2 * temperature**1.5,
        dims="T",
        coords={"T": ("T", temperature, {"units": coord})},
        attrs={"units": "kg m-3"},
    )
    got = rho.grad.along("T")
    assert cf_units.Unit(got.attrs["units"]) == cf_units.Unit(f"kg m-3 {per}-1")
    assert cf_units.Unit(rho.grad.laplacian("T").attrs["units"]) == cf_units.Unit(f"kg m-3 {per}-2")
    np.testing.assert_array_equal(got.values, rho.differentiate("T").values)
    pytest.importorskip("pint_xarray")
    quantified = rho.pint.quantify(unit_registry=cf_units).grad.along("T")
    np.testing.assert_array_equal(quantified.pint.magnitude, got.values)
    np.testing.assert_allclose(
        quantified.pint.to(f"kg m-3 {per}-1").pint.magnitude, got.values, rtol=1e-12
    )
