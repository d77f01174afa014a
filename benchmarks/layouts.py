"""xgrad on every block layout: views of a bigger array, Fortran order, transposes, float32.

``benchmarks/bench_gradient.py`` persists each dask block as its own contiguous copy.  Here
the blocks are what a notebook makes: ``da.from_array(big, chunks=...)`` and
``xr.DataArray(big).chunk(...)`` hand each task a strided view into ``big``.  One run, every
section timed in interleaved rounds (``_timing.interleaved``), medians, ratios printed:

* one block (an interior chunk of ``big``) as a view, d/d(axis 0, 1, 2): against the time
  of copying the view (``view.copy()``, the floor), xgrad on a contiguous copy of the block
  (the contiguous case) and ``numpy.gradient`` on the view;
* dask ``from_array(big, chunks)``, d/d(axis 2) and all 3 axes: against
  ``dask.array.gradient`` on the same array, and xgrad on the same values persisted as
  contiguous blocks (for reference); results are ``persist()``-ed, threaded scheduler;
* the accessor ``.grad.along`` on ``xr.DataArray(big).chunk(...)`` against
  ``DataArray.differentiate``;
* Fortran order along axis 0, a transposed array along its first axis: against their copies
  and the contiguous case;
* float32, uniform and non-uniform spacing along axis 0: against a float32 copy (float64
  non-uniform for reference).

The issue's targets (#14) are printed, each marked met or not.

    python benchmarks/layouts.py                      # big = (60, 512, 2048) float64, 480 MiB
    python benchmarks/layouts.py --shape 60,1024,2048 --chunks 15,512,512 --repeat 7
    python benchmarks/layouts.py --runs 2 --write-docs  # and rewrite the tables it quotes
    python benchmarks/layouts.py --smoke              # tiny, one repeat: checks the script
"""

from __future__ import annotations

import argparse
import os
import platform
from collections.abc import Callable
from typing import Any

import _docs
import numpy as np
from _timing import interleaved


def _call(fn: Callable[[], Any]) -> Any:
    return fn()


def _persist(fn: Callable[[], Any]) -> Any:
    import dask

    result = fn()
    return dask.persist(*(result if isinstance(result, list | tuple) else [result]))


def _row(label: str, t: float, refs: dict[str, float]) -> str:
    ratios = "".join(f"{t / r:>14.2f}" if r else f"{'':>14}" for r in refs.values())
    return f"  {label:44}{t * 1e3:>10.1f}{ratios}"


def _table(title: str, med: dict[str, float], refs: dict[str, str], p: Callable) -> None:
    p(f"== {title} ==")
    p(f"  {'method':44}{'median ms':>10}" + "".join(f"{'/ ' + r:>14}" for r in refs))
    for label, t in med.items():
        p(_row(label, t, {r: med[k] for r, k in refs.items()}))
    p()


def block_views(big: np.ndarray, chunks: tuple, repeat: int, p: Callable) -> dict:
    """One interior chunk of ``big`` as a view, each axis."""
    import xgrad

    view = big[tuple(slice(c, 2 * c) for c in chunks)]
    block = view.copy()
    found = {}
    for axis in range(3):
        fns = {
            "view.copy()": view.copy,
            "xgrad.gradient(contiguous copy)": lambda axis=axis: xgrad.gradient(block, axis=axis),
            "xgrad.gradient(view)": lambda axis=axis: xgrad.gradient(view, axis=axis),
            "numpy.gradient(view)": lambda axis=axis: np.gradient(view, axis=axis),
        }
        med = interleaved(fns, repeat, _call)
        refs = {"copy": "view.copy()", "contiguous": "xgrad.gradient(contiguous copy)"}
        _table(f"block {view.shape} viewed in {big.shape}, d/d(axis {axis})", med, refs, p)
        found[f"view-axis{axis}"] = med
    return found


def dask_views(big: np.ndarray, chunks: tuple, repeat: int, p: Callable) -> dict:
    """``da.from_array(big, chunks)`` (strided views) and the same values persisted."""
    import dask
    import dask.array as da
    import xarray as xr

    import xgrad

    views = da.from_array(big, chunks=chunks)
    (persisted,) = dask.persist(views.map_blocks(np.copy))
    found = {}
    for key, axes in (("dask-axis2", (2,)), ("dask-all3", (0, 1, 2))):
        fns = {
            # the floor: only writing as many outputs into fresh memory (persisted results
            # are new memory every round; the kernel zeroes each page before it is written)
            "floor: write the outputs (np.full_like)": lambda axes=axes: [
                views.map_blocks(np.full_like, 1.0, token=f"xgrad-floor-{j}")
                for j in range(len(axes))
            ],
            # one axis: a copy of the blocks (read every input, write every output once)
            **(
                {"floor: copy the blocks (np.copy)": lambda: views.map_blocks(np.copy)}
                if len(axes) == 1
                else {}
            ),
            "dask.array.gradient(from_array)": lambda axes=axes: da.gradient(views, axis=axes),
            "xgrad.gradient(from_array)": lambda axes=axes: xgrad.gradient(views, axis=axes),
            "xgrad.gradient(persisted contiguous)": lambda axes=axes: xgrad.gradient(
                persisted, axis=axes
            ),
        }
        med = interleaved(fns, repeat, _persist)
        refs = {"dask": "dask.array.gradient(from_array)"}
        _table(f"dask from_array {big.shape}, chunks {chunks}, axes {axes}", med, refs, p)
        found[key] = med
    arr = xr.DataArray(big, dims=("x0", "x1", "x2")).chunk(dict(zip(("x0", "x1", "x2"), chunks)))
    arr = arr.assign_coords(x2=np.arange(big.shape[2], dtype=np.float64))
    fns = {
        "floor: copy the blocks (np.copy)": lambda: arr.data.map_blocks(np.copy),
        "DataArray.differentiate('x2')": lambda: arr.differentiate("x2").data,
        "DataArray.grad.along('x2')": lambda: arr.grad.along("x2").data,
    }
    med = interleaved(fns, repeat, _persist)
    refs = {"differentiate": "DataArray.differentiate('x2')"}
    _table("accessor on xr.DataArray(big).chunk(...)", med, refs, p)
    found["accessor-chunk"] = med
    return found


def orders(big: np.ndarray, chunks: tuple, repeat: int, p: Callable) -> dict:
    """Fortran order and a transpose (of one chunk-sized array) against their copies."""
    import xgrad

    c = np.ascontiguousarray(big[tuple(slice(0, 2 * n) for n in chunks)])
    fortran = np.asfortranarray(c)
    # memory order (1, 2, 0): axis 0 innermost, neither C nor Fortran order
    transposed = np.ascontiguousarray(c.transpose(1, 2, 0)).transpose(2, 0, 1)
    found = {}
    for key, name, f in (
        ("fortran", "Fortran order", fortran),
        ("transposed", "transposed", transposed),
    ):
        fns = {
            "copy (same layout)": lambda f=f: f.copy(order="K"),
            "xgrad.gradient(C-ordered), axis 0": lambda: xgrad.gradient(c, axis=0),
            f"xgrad.gradient({name}), axis 0": lambda f=f: xgrad.gradient(f, axis=0),
            f"numpy.gradient({name}), axis 0": lambda f=f: np.gradient(f, axis=0),
        }
        med = interleaved(fns, repeat, _call)
        refs = {"copy": "copy (same layout)", "contiguous": "xgrad.gradient(C-ordered), axis 0"}
        _table(f"{name} {f.shape}, strides {f.strides}", med, refs, p)
        found[key] = med
    return found


def float32(big: np.ndarray, chunks: tuple, repeat: int, p: Callable) -> dict:
    """float32 with uniform and non-uniform spacing along axis 0, against a float32 copy."""
    import xgrad

    c64 = np.ascontiguousarray(big[tuple(slice(0, 2 * n) for n in chunks)])
    c32 = c64.astype(np.float32)
    x = np.cumsum(np.random.default_rng(1).uniform(0.5, 1.5, c64.shape[0]))
    fns = {
        "float32 copy": c32.copy,
        "float32 uniform": lambda: xgrad.gradient(c32, 0.5, axis=0),
        "float32 non-uniform": lambda: xgrad.gradient(c32, x, axis=0),
        "float32 accuracy 4 non-uniform": lambda: xgrad.gradient(c32, x, axis=0, accuracy=4),
        "float64 copy": c64.copy,
        "float64 non-uniform": lambda: xgrad.gradient(c64, x, axis=0),
        "float64 accuracy 4 non-uniform": lambda: xgrad.gradient(c64, x, axis=0, accuracy=4),
    }
    med = interleaved(fns, repeat, _call)
    p(f"== float32 and float64 {c64.shape}, d/d(axis 0), float64 coordinate ==")
    p(f"  {'method':44}{'median ms':>10}{'/ copy':>14}")
    for label, t in med.items():
        copy = med["float32 copy" if label.startswith("float32") else "float64 copy"]
        p(_row(label, t, {"copy": copy}))
    p()
    return {"float": med}


def ratios(r: dict) -> list[tuple[str, float, str | None]]:
    """(case, ratio of medians, the issue's target or None) for every row the docs quote.

    Rows without a target compare xgrad with its peers, so the cases where it is not ahead
    are printed and quoted too.
    """
    rows: list[tuple[str, float, str | None]] = []
    for axis in range(3):
        med = r[f"view-axis{axis}"]
        t = med["xgrad.gradient(view)"]
        rows.append((f"view, axis {axis}: time / copy", t / med["view.copy()"], "<= 1.5"))
        contiguous = med["xgrad.gradient(contiguous copy)"]
        rows.append((f"view, axis {axis}: time / contiguous", t / contiguous, "<= 1.3"))
        rows.append(
            (f"view, axis {axis}: numpy.gradient / xgrad", med["numpy.gradient(view)"] / t, None)
        )
    for key, bound in (("dask-axis2", ">= 2.5"), ("dask-all3", ">= 4")):
        med = r[key]
        t = med["xgrad.gradient(from_array)"]
        speed = med["dask.array.gradient(from_array)"] / t
        rows.append((f"{key}: dask.array.gradient / xgrad", speed, bound))
        contiguous = med["xgrad.gradient(persisted contiguous)"]
        rows.append((f"{key}: xgrad from_array / persisted contiguous", t / contiguous, None))
        floor = med["floor: write the outputs (np.full_like)"]
        rows.append((f"{key}: xgrad from_array / floor (writing the outputs)", t / floor, None))
        rows.append(
            (
                f"{key}: dask.array.gradient / floor (the most any speed-up could be)",
                med["dask.array.gradient(from_array)"] / floor,
                None,
            )
        )
        copy = med.get("floor: copy the blocks (np.copy)")
        if copy:  # one axis: reading the input is part of the floor too
            rows.append((f"{key}: xgrad from_array / copy of the blocks", t / copy, None))
            rows.append(
                (
                    f"{key}: dask.array.gradient / copy of the blocks (the most any speed-up "
                    "could be)",
                    med["dask.array.gradient(from_array)"] / copy,
                    None,
                )
            )
    med = r["accessor-chunk"]
    along, differentiate = med["DataArray.grad.along('x2')"], med["DataArray.differentiate('x2')"]
    rows.append(("accessor on .chunk(): differentiate / along", differentiate / along, ">= 3"))
    copy = med["floor: copy the blocks (np.copy)"]
    rows.append(("accessor on .chunk(): along / copy of the blocks", along / copy, None))
    rows.append(
        (
            "accessor on .chunk(): differentiate / copy of the blocks (the most any speed-up "
            "could be)",
            differentiate / copy,
            None,
        )
    )
    for key, name in (("fortran", "Fortran order"), ("transposed", "transposed")):
        med = r[key]
        t = med[f"xgrad.gradient({name}), axis 0"]
        rows.append((f"{name}, axis 0: time / copy", t / med["copy (same layout)"], "<= 1.5"))
        contiguous = med["xgrad.gradient(C-ordered), axis 0"]
        rows.append((f"{name}, axis 0: time / contiguous", t / contiguous, "<= 1.3"))
        numpy = med[f"numpy.gradient({name}), axis 0"]
        rows.append((f"{name}, axis 0: numpy.gradient / xgrad", numpy / t, None))
    med = r["float"]
    for label in ("uniform", "non-uniform", "accuracy 4 non-uniform"):
        t = med[f"float32 {label}"] / med["float32 copy"]
        rows.append((f"float32 {label}: time / float32 copy", t, "<= 1.5"))
    for label in ("non-uniform", "accuracy 4 non-uniform"):
        t = med[f"float64 {label}"] / med["float64 copy"]
        rows.append((f"float64 {label}: time / float64 copy", t, None))
    return rows


def targets(r: dict) -> list[tuple[str, float, str, bool]]:
    """(target, measured, bound, met) for the issue's targets this script measures."""
    return [
        (name, value, bound, _docs.meets(value, bound)) for name, value, bound in ratios(r) if bound
    ]


HEADLINE = {  # the rows README.md quotes, and the words it quotes them with
    "dask-axis2: dask.array.gradient / xgrad": "xgrad on `da.from_array` blocks is {}x faster "
    "than dask.array.gradient along one axis (target 2.5x)",
    "dask-all3: dask.array.gradient / xgrad": "{}x on three axes (target 4x)",
    "accessor on .chunk(): differentiate / along": "the accessor on `.chunk()`-ed in-memory data "
    "{}x faster than `DataArray.differentiate` (target 3x)",
    "view, axis 0: time / copy": "one block viewed in a bigger array takes {}x the time of "
    "copying it along axis 0",
    "view, axis 2: time / copy": "{}x along axis 2 (target 1.5x)",
    "Fortran order, axis 0: time / copy": "Fortran order along axis 0 {}x its copy (target 1.5x)",
    "float32 non-uniform: time / float32 copy": "float32 with a non-uniform float64 coordinate "
    "{}x a float32 copy (target 1.5x)",
}


def docs_blocks(rows: list, stamp: str, shape: tuple, chunks: tuple, repeat: int) -> list:
    """The (file, block, text) triples ``--write-docs`` writes; ranges are min-max over runs."""
    mib = np.prod(shape) * 8 / 2**20
    table = (
        f"Measured by `benchmarks/layouts.py --write-docs`: big {shape} float64 ({mib:.0f} MiB), "
        f"chunks {chunks}, median of {repeat} interleaved rounds per run; {stamp}. Ratios of "
        'medians; a range is min-max over runs; "time / X": lower is better, "A / xgrad": '
        "xgrad's speed-up, higher is better.\n\n" + _docs.ratio_table(rows, issue=14)
    )
    values = {name: v for name, v, _ in rows}
    met = [_docs.meets(v, b) for _, vs, b in rows if b for v in vs]
    headline = (
        f"Block layouts (`benchmarks/layouts.py`; {stamp}): "
        + "; ".join(words.format(_docs.span(values[k])) for k, words in HEADLINE.items())
        + f". {sum(met)} of {len(met)} target checks met over all runs."
    )
    return _docs.table_and_headline("layouts", table, headline)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="60,512,2048", help="the big array (float64)")
    ap.add_argument("--chunks", default="15,256,512", help="dask chunks, one per axis")
    ap.add_argument("--repeat", type=int, default=5, help="timed rounds (median)")
    ap.add_argument("--smoke", action="store_true", help="tiny arrays, one round: seconds")
    _docs.add_arguments(ap, "docs/performance.md and README.md", runs=True)
    args = ap.parse_args(argv)
    shape = (12, 12, 16) if args.smoke else tuple(int(s) for s in args.shape.split(","))
    chunks = (3, 4, 4) if args.smoke else tuple(int(s) for s in args.chunks.split(","))
    repeat = 1 if args.smoke else args.repeat
    big = np.random.default_rng(0).standard_normal(shape)

    def p(line: str = "") -> None:
        print(line, flush=True)

    p(f"layouts benchmark: big {shape} float64 ({big.nbytes / 2**20:.0f} MiB), chunks {chunks}")
    p(f"median of {repeat} interleaved rounds; {platform.machine()}, {os.cpu_count()} CPUs")
    p()

    def measure() -> list:
        r: dict = {}
        for section in (block_views, dask_views, orders, float32):
            r.update(section(big, chunks, repeat, p))
        p("== targets (issue #14) ==")
        for name, value, bound, met in targets(r):
            p(f"  {name:48}{value:>8.2f}  target {bound:8}{'met' if met else 'NOT met'}")
        p()
        return ratios(r)

    _docs.measure_runs(
        args, measure, lambda rows, stamp: docs_blocks(rows, stamp, shape, chunks, repeat)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
