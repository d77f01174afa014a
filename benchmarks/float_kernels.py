"""float32 against float64 per kernel, each relative to a copy of the same array (issue #14).

numpy.gradient's non-uniform formula computes float32 data in float64 (float64 coefficients
times float32 values) and rounds to float32; xgrad's weighted stencils (accuracy 4/6) sum in
that working dtype too.  The issue asks for float32 kernels at their float64 counterparts'
speed relative to a copy.  Per memory order (C, Fortran), axis and kernel (uniform and
non-uniform spacing at accuracy 2, non-uniform at accuracy 4 and 6), ``xgrad.gradient`` on a
float32 and a float64 array against ``a.copy(order="K")`` of the same array, all in
interleaved rounds (``_timing.interleaved``), medians:

    python benchmarks/float_kernels.py                    # (30, 512, 1024), 5 rounds
    python benchmarks/float_kernels.py --orders C --axes 0 --repeat 9
    python benchmarks/float_kernels.py --smoke            # tiny, one round: checks the script
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from _timing import interleaved

import xgrad

KERNELS = {  # label: (spacing kind, accuracy)
    "uniform": ("uniform", 2),
    "non-uniform": ("coordinate", 2),
    "accuracy 4": ("coordinate", 4),
    "accuracy 6": ("coordinate", 6),
}


def ratios(a64: np.ndarray, axis: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Per kernel label: (float32 time / float32 copy, float64 time / float64 copy)."""
    x = np.cumsum(np.random.default_rng(1).uniform(0.5, 1.5, a64.shape[axis]))
    fns = {}
    for name, a in (("float32", a64.astype(np.float32, order="K")), ("float64", a64)):
        fns[f"{name} copy"] = lambda a=a: a.copy(order="K")
        for label, (kind, accuracy) in KERNELS.items():
            spacing = 0.5 if kind == "uniform" else x
            fns[f"{name} {label}"] = lambda a=a, s=spacing, k=accuracy: xgrad.gradient(
                a, s, axis=axis, accuracy=k
            )
    med = interleaved(fns, repeat, lambda fn: fn())
    return {
        label: tuple(med[f"{n} {label}"] / med[f"{n} copy"] for n in ("float32", "float64"))
        for label in ("copy", *KERNELS)
    } | {"copy ms": (med["float32 copy"] * 1e3, med["float64 copy"] * 1e3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="30,512,1024")
    ap.add_argument("--orders", default="C,F", help="memory orders: C, F")
    ap.add_argument("--axes", default="0,1,2")
    ap.add_argument("--repeat", type=int, default=5, help="timed rounds (median)")
    ap.add_argument("--smoke", action="store_true", help="tiny arrays, one round: seconds")
    args = ap.parse_args(argv)
    shape = (8, 9, 10) if args.smoke else tuple(int(s) for s in args.shape.split(","))
    repeat = 1 if args.smoke else args.repeat
    base = np.random.default_rng(0).standard_normal(shape)
    print(f"float32/float64 kernels, {shape}, median of {repeat} interleaved rounds")
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs; time / copy:")
    print(f"  {'case':14}{'copy ms f32/f64':>17}" + "".join(f"{k:>24}" for k in KERNELS))
    for order in args.orders.split(","):
        a64 = np.asfortranarray(base) if order == "F" else base
        for axis in map(int, args.axes.split(",")):
            r = ratios(a64, axis, repeat)
            copy = "{:.1f}/{:.1f}".format(*r["copy ms"])
            cells = "".join(f"{'{:.2f} (f64 {:.2f})'.format(*r[k]):>24}" for k in KERNELS)
            print(f"  {order} axis {axis:<7}{copy:>17}{cells}", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
