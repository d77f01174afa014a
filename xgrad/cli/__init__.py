"""The ``xgrad`` command line: ``xgrad gradient`` and ``xgrad demo`` (also ``python -m xgrad``).

Exit status: 0 on success; 2 for usage and input errors (bad options, missing or unreadable
input, unknown variable or dimension, existing output without ``--overwrite``), all found
before computing; 1 for failures while computing or writing; 130 when interrupted (Ctrl-C or
SIGTERM). Errors are one line on stderr, ``xgrad: error: ...``, without a traceback; warnings
are one line each, ``xgrad: warning: ...``.

The modules, each importing only those listed after it: this one (:func:`main`, the commands);
:mod:`~xgrad.cli.parser` (argparse); :mod:`~xgrad.cli.demo`; :mod:`~xgrad.cli.pipeline` (open,
choose variables, differentiate, write, plot); :mod:`~xgrad.cli.plot`;
:mod:`~xgrad.cli.reading` (open NetCDF and Zarr, check them);
:mod:`~xgrad.cli.writing` (check the output path, write atomically);
:mod:`~xgrad.cli.schedulers` (dask schedulers, progress, interruption);
:mod:`~xgrad.cli.errors`.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import Any

from .demo import run_demo
from .errors import InputError, as_options, failed_reading, message, one_line
from .parser import UsageError, build_parser, parse_chunks
from .pipeline import run_gradient
from .schedulers import on_signal

__all__ = ["build_parser", "main"]


def _gradient_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    options = {
        key: getattr(args, key)
        for key in ("geometry", "radius", "boundary", "period", "accuracy", "edge_order", "nan")
        if getattr(args, key) is not None
    }
    if args.datetime_unit is not None:
        options["datetime_unit"] = args.datetime_unit
    path, names = run_gradient(
        args.input,
        args.output,
        args.along,
        variables=args.var,
        options=options,
        horizontal=args.horizontal,
        chunks=parse_chunks(args.chunks),
        group=args.group,
        scheduler_spec=args.scheduler,
        plot=args.plot,
        overwrite=args.overwrite,
        command=shlex.join(["xgrad", *argv]),
    )
    print(f"wrote {path}: {', '.join(names)}" + (f"; plot {args.plot}" if args.plot else ""))
    return 0


def _demo_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    run_demo(args.out)
    return 0


_COMMANDS = {"gradient": _gradient_command, "demo": _demo_command}


def _show_warning(
    text: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    print(f"xgrad: warning: {as_options(one_line(str(text)))}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``xgrad`` command; return its exit status (0, 1, 2 or 130).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # SIGTERM (a batch job's time limit) cleans up like Ctrl-C. Handlers can only be set from
    # the main thread (main() may be called from another one).
    in_main_thread = threading.current_thread() is threading.main_thread()
    signals = (signal.SIGINT, signal.SIGTERM) if in_main_thread else ()
    previous = {sig: signal.signal(sig, on_signal) for sig in signals}
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            args = build_parser().parse_args(argv)
            if args.command is None:
                raise UsageError(
                    "choose a command: `xgrad gradient ...` or `xgrad demo` (see `xgrad --help`)"
                )
            return _COMMANDS[args.command](args, argv)
    except (UsageError, InputError) as err:
        print(f"xgrad: error: {message(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xgrad: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        variable = failed_reading(err)
        where = "" if variable is None else f"reading {variable!r} from INPUT failed: "
        print(f"xgrad: error: {where}{message(err)}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
