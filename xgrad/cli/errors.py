"""The command line's errors: :class:`InputError` (exit status 2) and one-line messages.

Every error the command reports is one line on stderr, ``xgrad: error: ...``; these helpers
turn an exception into that line.
"""

from __future__ import annotations

import re

__all__ = ["InputError", "as_options", "failed_reading", "message", "one_line"]


class InputError(ValueError):
    """A usage or input problem found before computing (the command line exits with 2)."""


def one_line(text: str) -> str:
    """``text`` with its lines joined by single spaces.

    Examples
    --------
    >>> one_line("could not read\\n  the file ")
    'could not read the file'
    """
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def message(err: BaseException) -> str:
    """The one-line message of ``err``; its type's name when it has none.

    Examples
    --------
    >>> message(KeyError("x")), message(RuntimeError())
    ('x', 'RuntimeError')
    """
    # str(KeyError('x')) is "'x'" with quotes; its argument is the message.
    text = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    return as_options(one_line(text)) or type(err).__name__


def failed_reading(err: BaseException) -> str | None:
    """The input variable whose reading raised ``err`` (a damaged Zarr chunk, an unreadable
    NetCDF block): the name of the xarray backend array in its traceback, else None (an
    audit: "Zstd decompression error: invalid input data" named neither variable nor file).
    A traceback from a dask.distributed worker has no frames to look in: None there."""
    from xarray.backends.common import BackendArray

    name, tb = None, err.__traceback__
    while tb is not None:
        backend = tb.tb_frame.f_locals.get("self")
        if isinstance(backend, BackendArray):
            # NetCDF4/h5netcdf wrappers keep the name; zarr's keeps the zarr array ("/u")
            found = getattr(backend, "variable_name", None)
            found = found or getattr(getattr(backend, "_array", None), "name", None)
            name = str(found).rsplit("/", 1)[-1] if found else name  # not its --group path
        tb = tb.tb_next
    return name


#: The library's keyword arguments that are command-line options of the same meaning.
_OPTION = re.compile(
    r"`(accuracy|edge_order|boundary|geometry|nan|radius|datetime_unit|period)="
    # a plain value, or a one-entry mapping {'dim': value}; nothing else is an option's value
    r"(\{'[^`',:]+': ([^`',}\s]+)\}|'?[^`',\s{}]+'?)`"
)


def as_options(text: str) -> str:
    """The library's advice in a message spelled as the command line's options: a user of the
    command cannot type ``accuracy=6`` (an audit).

    Examples
    --------
    >>> as_options("choose one of (2, 4, 6), e.g. `accuracy=6`")
    'choose one of (2, 4, 6), e.g. `--accuracy 6`'
    >>> as_options("needs a period: `period={'time': ...}` or `boundary='edge'`")
    'needs a period: `--period ...` or `--boundary edge`'
    >>> as_options("`period=365 * 86400` or `boundary={'lat': 'edge', 'lon': 'periodic'}`")
    "`period=365 * 86400` or `boundary={'lat': 'edge', 'lon': 'periodic'}`"
    """

    def option(match: re.Match) -> str:
        value = match.group(3) if match.group(3) is not None else match.group(2)
        return f"`--{match.group(1).replace('_', '-')} {value.strip().strip(chr(39))}`"

    return _OPTION.sub(option, text)
