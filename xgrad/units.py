"""Units and attributes of a derivative.

The units of ``d(data)/d(coord)`` are data units / coordinate units, written as a string that a
CF/udunits parser and pint with cf-xarray's registry (``cf_xarray.units.units``) both accept, e.g.
``"K m-1"`` or ``"m s-2"``. When pint and cf-xarray are installed the two units are divided with pint
and formatted back with cf-xarray's ``"cf"`` formatter, which also simplifies (``"m2 s-2"`` per
``"m"`` is ``"m s-2"``); the string is kept only if it is ASCII and parses back to the same unit.
Otherwise (no pint, a unit pint does not know, a scale factor such as ``"1e-3"``) the two strings
are composed by hand into ``"<data> <coord>-1"`` form, which is always correct though not simplified.

Conventions (CF: a variable without ``units`` is dimensionless):

- data without units, coordinate ``"m"``: ``"m-1"``;
- coordinate without units (or no coordinate at all, unit spacing): the data units unchanged;
- neither has units: no ``units`` attribute on the result;
- a time coordinate "hours since 2000-01-01" counts in hours: ``"K h-1"``;
- data in degrees Celsius: a difference of degC is a difference of kelvin, so ``"K m-1"``.

Importing ``cf_xarray.units`` makes its registry pint's application registry; that is cf-xarray's
doing and happens on the first derivative of data that has units.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Hashable, Mapping
from typing import Any

__all__ = [
    "derivative_attrs",
    "derivative_long_name",
    "derivative_units",
    "of_phrase",
    "quantity_name",
    "result_attrs",
    "same_units",
]

#: Attributes that describe the values of the original quantity and would be wrong on its
#: derivative (a stale ``standard_name`` or ``valid_range`` misleads downstream tools).
STALE_ATTRS = frozenset(
    {
        "standard_name",
        "valid_min",
        "valid_max",
        "valid_range",
        "actual_range",
        "flag_values",
        "flag_masks",
        "flag_meanings",
        "units_metadata",
        # packing and missing-value encodings of the data (CF): a derivative is neither packed
        # nor filled, and decode_cf would apply them to it (an audit: 274.15 for 1.0)
        "scale_factor",
        "add_offset",
        "_FillValue",
        "missing_value",
        "_Unsigned",
        # the variables that describe the data's uncertainty or quality, not its derivative's
        "ancillary_variables",
        # codes that identify the quantity itself (the UM's STASH, GRIB's parameter as cfgrib
        # and CDO write it): on the derivative they would select it as the field (iris's
        # STASH constraints, a PP save; an audit of the A1B file's output)
        "ukmo__um_stash_source",
        "um_stash_source",
        "STASH",
        "code",
        "table",
        "GRIB_paramId",
        "GRIB_shortName",
        "GRIB_cfName",
        "GRIB_cfVarName",
        "GRIB_name",
        "GRIB_units",
    }
)

_TOKEN = re.compile(r"^([A-Za-z_]+)(-?\d+)?$")


#: udunits spellings of degrees Celsius that pint's and cf-xarray's registries lack (NEMO
#: writes ``degree_C``); read as ``degC`` so that the derivative is in ``K`` per unit.
CELSIUS = frozenset(
    {"degree_c", "degrees_c", "degree_celsius", "degrees_celsius", "celsius", "deg_c", "degc"}
)


def _celsius(units: str) -> bool:
    """Whether ``units`` spells degrees Celsius ("degC", "degree_C", "degrees Celsius")."""
    return re.sub(r"[\s_]+", "_", units.strip().lower()) in CELSIUS


def _clean(units: Any) -> str | None:
    """None for missing or dimensionless units, else the stripped string ("since" part removed)."""
    if units is None:
        return None
    text = str(units).strip()
    # Undecoded CF time coordinates: "hours since 2000-01-01" counts in hours; udunits also
    # reads "after", "from", "ref" and "@", in any case (an audit: "Days since" gave the label
    # "K Days-1", which neither pint nor udunits reads, "hours after" a whole phrase)
    since = time_reference_unit(text)
    text = text if since is None else since
    return None if text in ("", "1") else text


_SINCE = re.compile(r"\s+(?:since|after|from|ref)\s+|\s*@\s*", re.IGNORECASE)


def time_reference_unit(units: Any) -> str | None:
    """The unit an undecoded CF time coordinate counts in ("hours since 2000-01-01":
    ``"hours"``), lower case; None where ``units`` has no reference time.

    Examples
    --------
    >>> time_reference_unit("Days since 1850-01-01"), time_reference_unit("m")
    ('days', None)
    """
    if units is None:
        return None
    parts = _SINCE.split(str(units).strip(), maxsplit=1)
    return parts[0].strip().lower() if len(parts) > 1 else None


def counts_time(units: Any) -> str | None:
    """:func:`time_reference_unit` where the reference is a date ("hours since 2000-01-01",
    "days since -4713-01-01"), else None: "m from surface" is a length, not a time count (a
    review: read as one, and refused with ``datetime_unit``).

    Examples
    --------
    >>> counts_time("hours since 2000-01-01"), counts_time("m from surface")
    ('hours', None)
    """
    unit = time_reference_unit(units)
    reference = _SINCE.split(str(units).strip(), maxsplit=1)[-1].strip()
    return unit if unit is not None and re.match(r"[-+]?\d", reference) else None


@functools.lru_cache(maxsize=1)
def _registry() -> Any:
    try:
        with warnings.catch_warnings():
            # cf_xarray warns on import when matplotlib is missing; irrelevant here.
            warnings.simplefilter("ignore")
            from cf_xarray.units import units
    except ImportError:
        return None
    return units


def _compose(data: str | None, coord: str) -> str:
    """Hand-written ``data / coord`` in udunits syntax; correct, not simplified."""
    token = _TOKEN.match(coord)
    if token:
        base, exp = token.group(1), -int(token.group(2) or 1)
        inverse = base if exp == 1 else f"{base}{exp}"
        if data is None:
            return inverse
        data = f"({data})" if re.search(r"[/()^*]", data) else data
        return f"{data} {inverse}"
    if data is None:
        return f"1/({coord})"
    data = f"({data})" if re.search(r"[/()^*\s]", data) else data
    return f"{data}/({coord})"


_NAME = re.compile(r"[A-Za-z_]+")


def _keep_names(ureg: Any, text: str, given: str) -> str:
    """Where the input wrote a unit by its pint name, write it so in the result too.

    cf-xarray's formatter writes each unit by its symbol, and a unit's symbol is whatever the
    last definition of it said: MetPy, imported by xarray when it lists its backends (MetPy
    registers one), redefines cf-xarray's ``degrees_north`` with the symbol ``degrees_N``. The
    input's ``degrees_north`` is also the unit's name, and keeping it makes the string a
    function of the inputs alone (``tests/test_units.py`` after ``tests/test_distributed.py``).
    """
    names = set(_NAME.findall(given))

    def spelling(match: re.Match) -> str:
        token = match.group(0)
        definition = ureg._units.get(token)
        if definition is not None and definition.name in names:
            return definition.name
        return token

    return _NAME.sub(spelling, text)


def _with_pint(data: str | None, coord: str) -> str | None:
    """``data / coord`` simplified by pint and formatted by cf-xarray; None if that fails."""
    ureg = _registry()
    if ureg is None:
        return None
    try:
        num = ureg.Unit(data or "1")
        den = ureg.Unit(coord)
        if not ureg.Quantity(1, num)._is_multiplicative:
            # An offset unit (degC): its derivative is in the matching difference unit. Only
            # written as "K" when that is exact; other offset units keep their name (fallback).
            num = _kelvin_difference(ureg, num)
            if num is None:
                return None
        result = num / den
        # udunits and pint both read "u" as micro, and "degR" as degrees Rankine
        text = f"{result:cf}".replace("µ", "u").replace("°R", "degR")
        text = _keep_names(ureg, text, f"{data or ''} {coord}")
        text = _NAME.sub(lambda m: UDUNITS_SPELLING.get(m.group(0), m.group(0)), text)
        if not text.isascii() or not _same_unit(ureg, ureg.Unit(text), result):
            return None
        return text
    except Exception:  # any parse or format problem: the caller composes the string by hand
        return None


#: pint's spellings that udunits cannot read, and udunits' of the same unit (an audit: wind in
#: knots gave "kn m-1", a compound Celsius unit "delta_degC m-1 s-1", which CF tools refuse)
UDUNITS_SPELLING = {"kn": "kt", "delta_degC": "K", "delta_degF": "degR"}


def _same_unit(ureg: Any, a: Any, b: Any) -> bool:
    """Whether pint units ``a`` and ``b`` are one unit (kelvin and delta_degC are)."""
    return a == b or ureg.Quantity(1.0, a).m_as(b) == 1.0


def _kelvin_difference(ureg: Any, unit: Any) -> Any:
    """The unit of a difference of the offset ``unit``, where one exists under a plain name:
    kelvin for degC, degR for degF (each exactly one degree of the difference); else None."""
    (name,) = unit._units
    delta = ureg.Unit(f"delta_{name}")
    for plain in ("kelvin", "degR"):
        if _same_unit(ureg, delta, ureg.Unit(plain)):
            return ureg.Unit(plain)
    return None


def _difference(data: str) -> str:
    """The units of a difference of ``data``: "K" for degrees Celsius, else ``data``."""
    if _celsius(data):
        return "K"
    ureg = _registry()
    try:
        unit = ureg.Unit(data)
        if not ureg.Quantity(1, unit)._is_multiplicative:
            plain = _kelvin_difference(ureg, unit)
            if plain is not None:  # degF: degR, the unit of its differences
                return "K" if plain == ureg.Unit("kelvin") else "degR"
    except Exception:  # unknown to pint (or no pint): the string as it is
        pass
    return data


@functools.lru_cache(maxsize=256)
def derivative_units(data_units: str | None, coord_units: str | None) -> str | None:
    """Units of ``d(data)/d(coord)`` as a CF/udunits string, or None when neither has units.

    Parameters
    ----------
    data_units, coord_units : str or None
        The ``units`` attributes (None when absent). A missing or ``"1"`` unit is dimensionless.

    Examples
    --------
    >>> derivative_units("K", "m")
    'K m-1'
    >>> derivative_units("m2 s-2", "m")
    'm s-2'
    >>> derivative_units(None, "m"), derivative_units("K", None), derivative_units(None, None)
    ('m-1', 'K', None)
    >>> derivative_units("degree_C", "m")  # udunits' spelling (NEMO), unknown to pint
    'K m-1'
    >>> derivative_units("degC", None)  # a difference of temperatures, per index
    'K'
    >>> derivative_units("kg m-3", "degC")  # along a temperature coordinate: per kelvin
    'kg K-1 m-3'
    """
    if data_units is None and coord_units is None:
        return None
    data, coord = _clean(data_units), _clean(coord_units)
    if coord is None:  # per index: a difference of the data (of degC: kelvin)
        return "1" if data is None else _difference(data)
    # the spacing is a difference of the coordinate too: per kelvin along a degC coordinate
    # (an audit: "kg m-3 degC-1", and pint's kg/degC/m3 could not be converted to kelvin)
    coord = _difference(coord)
    if data is not None and _celsius(data):
        data = "degC"
    return _with_pint(data, coord) or _compose(data, coord)


def derivative_long_name(name: Hashable | None, long_name: Any, wrt: Hashable) -> str:
    """``long_name`` of a derivative.

    Examples
    --------
    >>> derivative_long_name("t", "air temperature", "lat")
    'derivative of air temperature with respect to lat'
    >>> derivative_long_name(None, None, "x")
    'derivative with respect to x'
    """
    return f"derivative{of_phrase(quantity_name(name, long_name))} with respect to {wrt}"


def quantity_name(name: Hashable | None, long_name: Any) -> str | None:
    """What a variable is called in a derived long_name: its long_name, else its name.

    >>> quantity_name("t", "air temperature"), quantity_name("t", ""), quantity_name(None, None)
    ('air temperature', 't', None)
    """
    if long_name not in (None, ""):
        return str(long_name)
    return None if name is None else str(name)


def of_phrase(what: str | None) -> str:
    """``" of <what>"``, or nothing when the quantity has no name: the one spelling of it.

    >>> "Laplacian" + of_phrase("T"), "Laplacian" + of_phrase(None)
    ('Laplacian of T', 'Laplacian')
    """
    return "" if what is None else f" of {what}"


def check_component_units(
    operator: str, a: Hashable, a_units: Any, b: Hashable, b_units: Any
) -> None:
    """ValueError where components ``a`` and ``b`` (names) are in different units, with the fix:
    a conversion where both have units, else the units attribute to set (an audit: converting
    a variable without units, as advised, fails in pint-xarray)."""
    if same_units(a_units, b_units):
        return
    listed = f"{a!r}: {a_units!r}, {b!r}: {b_units!r}"
    if a_units is None or b_units is None:
        bare, other, given = (a, b, b_units) if a_units is None else (b, a, a_units)
        raise ValueError(
            f"{operator}: the components are in different units ({listed}): {bare!r} has no "
            f"units attribute; if it is in the units of {other!r}, set them: "
            f"`ds[{bare!r}].attrs['units'] = {given!r}`"
        )
    raise ValueError(
        f"{operator}: the components are in different units ({listed}); convert one first, "
        f"e.g. with pint-xarray: `ds.pint.quantify().pint.to({b}={a_units!r}).pint.dequantify()`"
    )


def same_units(a: str | None, b: str | None) -> bool:
    """Whether two ``units`` strings mean the same unit (by pint when it can tell).

    >>> same_units("m", "m"), same_units("m s-1", "m/s"), same_units("m", "km")
    (True, True, False)
    >>> same_units(None, "1"), same_units(None, "m")
    (True, False)
    """
    a, b = _clean(a), _clean(b)
    if a == b:
        return True
    ureg = _registry()
    if ureg is None or a is None or b is None:
        return False
    try:
        return bool(ureg.Unit(a) == ureg.Unit(b))
    except Exception:  # unknown to pint: only identical strings are the same
        return False


def result_attrs(
    attrs: Mapping[Hashable, Any],
    *,
    units: str | None,
    long_name: str,
    boundary: str,
    keep_attrs: bool,
    write_units: bool = True,
) -> dict[Hashable, Any]:
    """Attributes of a derived field: the input's (if ``keep_attrs``) less stale ones, then
    ``units`` (unless ``write_units`` is False or there are none), ``long_name`` and
    ``xgrad_boundary`` (the boundary treatment used).

    Examples
    --------
    >>> result_attrs({"units": "m s-1", "source": "model"}, units="s-1", long_name="curl",
    ...              boundary="edge", keep_attrs=True)
    {'source': 'model', 'units': 's-1', 'long_name': 'curl', 'xgrad_boundary': 'edge'}
    """
    out = {k: v for k, v in attrs.items() if k not in STALE_ATTRS} if keep_attrs else {}
    out.pop("units", None)
    if write_units and units is not None:
        out["units"] = units
    out["long_name"] = long_name
    out["xgrad_boundary"] = boundary
    return out


def derivative_attrs(
    attrs: Mapping[Hashable, Any],
    *,
    name: Hashable | None,
    data_units: str | None,
    coord_units: str | None,
    wrt: Hashable,
    boundary: str,
    keep_attrs: bool,
    write_units: bool = True,
) -> dict[Hashable, Any]:
    """Attributes of a derivative: the input's (if ``keep_attrs``) less stale ones, new units.

    ``units`` and ``long_name`` are always rewritten; ``xgrad_boundary`` records the boundary
    treatment used. ``write_units=False`` leaves ``units`` out (pint-quantified data carries them).

    Examples
    --------
    >>> derivative_attrs({"units": "K", "standard_name": "air_temperature", "source": "model"},
    ...                  name="t", data_units="K", coord_units="m", wrt="x", boundary="edge",
    ...                  keep_attrs=True)
    {'source': 'model', 'units': 'K m-1', 'long_name': 'derivative of t with respect to x', 'xgrad_boundary': 'edge'}
    """
    return result_attrs(
        attrs,
        units=derivative_units(data_units, coord_units),
        long_name=derivative_long_name(name, attrs.get("long_name"), wrt),
        boundary=boundary,
        keep_attrs=keep_attrs,
        write_units=write_units,
    )
