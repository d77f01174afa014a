"""Benchmark xgrad against a copy, numpy.gradient, dask.array.gradient and xarray in one run.

Every method differentiates the same float64 3-D array in the same process, so the ratios in
the table compare like with like; absolute times depend on the machine.

* in memory: ``a.copy()`` (the floor), ``numpy.gradient``, ``xarray.DataArray.differentiate``
  on a numpy-backed DataArray, ``xgrad.gradient`` (all cores, and pinned to one core, like
  ``numpy.gradient``) and the ``.grad.along`` accessor when it is installed;
* dask, threaded scheduler, input already persisted, every result ``persist()``-ed so no side
  pays the final concatenation of ``compute()``: ``x.map_blocks(np.copy)`` (the floor;
  ``x.copy()`` is a no-op in dask that shares the graph, so it would time nothing),
  ``dask.array.gradient``, ``DataArray.differentiate``, ``xgrad.gradient`` and the accessor.

Cases: one axis (first and last, unit spacing), one axis with a non-uniform coordinate, and
all three axes.  Each time is the median of ``--repeat`` runs after one warm-up run (numba
compilation, dask imports), timed in rounds that call every method once in turn, so bursts of
machine noise hit all methods alike; graph construction is inside the dask times, as a user
pays it.

Also printed: task counts per case, graph construction for 100,000 chunks, a per-task
profile of the dask runs (kernel vs. graph vs. scheduler), peak memory of the 3-axis gradient
(a fresh subprocess per measurement, ``ru_maxrss``), and the project's speed targets, each
marked met or not.  ``--json PATH`` writes the raw numbers; ``--plot PNG`` adds a sweep of
throughput against array size.  ``--smoke`` runs everything on tiny arrays in a few seconds
(``tests/test_benchmarks_smoke.py``).

    python benchmarks/bench_gradient.py                    # 1 GiB, 5 repeats
    python benchmarks/bench_gradient.py --size 256 --repeat 3 --json out.json
    python benchmarks/bench_gradient.py --size 1024 --plot docs/img/throughput.png
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import _docs
import numpy as np

MiB = 2**20
DIMS = ("x0", "x1", "x2")
CASES = {
    "axis0": ("d/d(axis 0), unit spacing", (0,), False),
    "axis2": ("d/d(axis 2), unit spacing", (2,), False),
    "axis0-nonuniform": ("d/d(axis 0), non-uniform coordinate", (0,), True),
    "all3": ("all 3 axes, unit spacing", (0, 1, 2), False),
}
# (key, label, backend); backend "numpy" rows are compared with a.copy(), "dask" rows with
# the persisted dask copy and the dask-backed differentiate.
METHODS = [
    ("copy", "a.copy()", "numpy"),
    ("numpy", "numpy.gradient", "numpy"),
    ("xarray", "DataArray.differentiate", "numpy"),
    ("xgrad", "xgrad.gradient", "numpy"),
    ("xgrad-1core", "xgrad.gradient (1 core)", "numpy"),
    ("accessor", "DataArray.grad.along", "numpy"),
    ("dask-copy", "x.map_blocks(np.copy)", "dask"),
    ("dask", "dask.array.gradient", "dask"),
    ("xarray-dask", "DataArray.differentiate", "dask"),
    ("xgrad-dask", "xgrad.gradient", "dask"),
    ("accessor-dask", "DataArray.grad.along", "dask"),
]
LABELS = {key: label for key, label, _ in METHODS}
SWEEP_METHODS = ["copy", "numpy", "xgrad", "dask-copy", "dask", "xgrad-dask"]


# --------------------------------------------------------------------------------------------
# data and methods


def shape_for(mb: float) -> tuple[int, int, int]:
    """A 3-D float64 shape of about ``mb`` MiB: powers of two when possible, else near-cubic."""
    n = max(8, round(mb * MiB / 8))
    if n & (n - 1) == 0:
        bits = n.bit_length() - 1
        b2 = bits // 3
        b1 = (bits - b2) // 2
        return (1 << (bits - b1 - b2), 1 << b1, 1 << b2)
    side = max(2, round(n ** (1 / 3)))
    return (max(2, round(n / side**2)), side, side)


def chunks_for(shape: tuple[int, ...], spec: str) -> tuple[int, ...]:
    """``"16,-1,-1"`` -> (16, n1, n2): -1 means the whole axis."""
    parts = [int(p) for p in spec.split(",")]
    if len(parts) != len(shape):
        raise SystemExit(f"--chunks {spec!r} needs {len(shape)} comma-separated sizes")
    return tuple(n if c <= 0 else min(c, n) for c, n in zip(parts, shape))


def accessor_available() -> bool:
    import xarray as xr

    import xgrad  # noqa: F401  (registers the accessor when it exists)

    try:
        return hasattr(xr.DataArray([1.0, 2.0, 3.0]).grad, "along")
    except AttributeError:
        return False


def as_list(result: Any) -> list:
    if isinstance(result, dict):
        return list(result.values())
    if isinstance(result, list | tuple):
        return list(result)
    return [result]


class Data:
    """One array in memory (``a``), the same values as a persisted dask array (``x``)."""

    def __init__(self, shape: tuple[int, ...], chunks: tuple[int, ...], seed: int = 0):
        import dask
        import dask.array as da

        self.shape, self.chunks = shape, chunks
        self.a = np.random.default_rng(seed).standard_normal(shape)
        # own copies per block (contiguous, not views of `a`), as a dask array read from disk
        (self.x,) = dask.persist(da.from_array(self.a, chunks=chunks).map_blocks(np.copy))
        self.nbytes = self.a.nbytes
        rng = np.random.default_rng(seed + 1)
        self.nonuniform = np.cumsum(rng.uniform(0.5, 1.5, shape[0]))
        self.uniform = [np.arange(n, dtype=np.float64) for n in shape]

    def case(self, key: str) -> dict:
        import xarray as xr

        _, axes, nonuniform = CASES[key]
        coords = {d: c for d, c in zip(DIMS, self.uniform)}
        varargs: tuple = ()
        if nonuniform:
            coords[DIMS[0]] = self.nonuniform
            varargs = (self.nonuniform,)
        return {
            "axes": axes,
            "axis": axes[0] if len(axes) == 1 else None,
            "dims": [DIMS[k] for k in axes],
            "varargs": varargs,
            "xa": xr.DataArray(self.a, dims=DIMS, coords=coords),
            "xd": xr.DataArray(self.x, dims=DIMS, coords=coords),
        }


class one_core:
    """Pin the calling thread (and threads it starts) to one CPU: xgrad then runs serially."""

    def __enter__(self) -> None:
        self.old = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(self.old)})

    def __exit__(self, *exc: Any) -> None:
        os.sched_setaffinity(0, self.old)


def builders(d: Data, c: dict) -> dict[str, Callable[[], Any]]:
    """Per method, a function returning its (lazy, for dask) result for case ``c``."""
    import dask.array as da

    import xgrad

    axis, varargs, dims = c["axis"], c["varargs"], c["dims"]

    def xgrad_1core() -> Any:
        with one_core():
            return xgrad.gradient(d.a, *varargs, axis=axis)

    b = {
        "copy": lambda: d.a.copy(),
        "numpy": lambda: np.gradient(d.a, *varargs, axis=axis),
        "xarray": lambda: [c["xa"].differentiate(dim) for dim in dims],
        "xgrad": lambda: xgrad.gradient(d.a, *varargs, axis=axis),
        "xgrad-1core": xgrad_1core,
        "dask-copy": lambda: d.x.map_blocks(np.copy),
        "dask": lambda: da.gradient(d.x, *varargs, axis=axis),
        "xarray-dask": lambda: [c["xd"].differentiate(dim) for dim in dims],
        "xgrad-dask": lambda: xgrad.gradient(d.x, *varargs, axis=axis),
    }
    if not hasattr(os, "sched_setaffinity"):
        del b["xgrad-1core"]
    if accessor_available():
        b["accessor"] = lambda: c["xa"].grad.along(*dims)
        b["accessor-dask"] = lambda: c["xd"].grad.along(*dims)
    return b


def runner(key: str, build: Callable[[], Any]) -> Callable[[], Any]:
    """What is timed: the eager call, or building the dask graph and persisting it."""
    if dict((k, b) for k, _, b in METHODS)[key] == "numpy":
        return build
    import dask

    return lambda: dask.persist(*as_list(build()), scheduler="threads")


def time_rounds(
    fns: dict[str, Callable[[], Any]],
    repeat: int,
    errors: dict | None = None,
    sequential: bool = False,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds per call of every method, timed in interleaved rounds.

    Each method runs once untimed (warm-up), then ``repeat`` rounds call every method once in
    turn (``sequential``: each method's calls back to back instead).  Results are freed
    between calls.  CPU is the process's CPU time (all threads): less sensitive than wall
    time to other processes.  A method whose warm-up raises goes into ``errors``.

    Why rounds: on a VM whose balloon reports freed memory to the host (this one does), a
    page freed a few seconds ago costs a host fault when touched again.  Back to back, a
    method reuses its own just-freed memory, and a burst of host faults lands on one
    method's whole series (2x on a median, seen twice); in rounds every method pays for the
    fresh memory it touches, temporaries included (numpy.gradient's 3-axis median went from
    0.8 s to 3.6 s), and bursts spread over all methods.  docs/performance.md shows both.
    """
    live = {}
    for key, fn in fns.items():
        try:
            result = fn()
        except Exception as e:  # report a broken method, keep measuring the others
            if errors is None:
                raise
            errors[key] = f"{type(e).__name__}: {e}"
            continue
        del result
        live[key] = fn
    # Free any cycle holding a result between runs, cheaply: collect once, then freeze the
    # survivors (modules, numba's caches) so later collections only scan the new objects.
    gc.collect()
    gc.freeze()
    wall: dict[str, list[float]] = {key: [] for key in live}
    cpu: dict[str, list[float]] = {key: [] for key in live}
    order = [k for k in live for _ in range(repeat)] if sequential else list(live) * repeat
    for key in order:
        c0 = time.process_time()
        t0 = time.perf_counter()
        result = live[key]()
        wall[key].append(time.perf_counter() - t0)
        cpu[key].append(time.process_time() - c0)
        del result
        gc.collect()
    return wall, cpu


def graph_tasks(objs: list) -> int:
    from dask.highlevelgraph import HighLevelGraph

    graphs = [o.__dask_graph__() for o in objs]
    return len(dict(HighLevelGraph.merge(*graphs)))


def profile_dask(build: Callable[[], Any]) -> dict:
    """One persisted run split into graph build, task time per task kind, and the rest."""
    import dask
    from dask.diagnostics import Profiler
    from dask.utils import key_split

    t0 = time.perf_counter()
    objs = as_list(build())
    t1 = time.perf_counter()
    with Profiler() as prof:
        result = dask.persist(*objs, scheduler="threads")
    t2 = time.perf_counter()
    del result
    kinds: dict[str, float] = {}
    for r in prof.results:
        kinds[key_split(r.key)] = kinds.get(key_split(r.key), 0.0) + r.end_time - r.start_time
    workers = len({r.worker_id for r in prof.results}) or 1
    busy = sum(kinds.values())
    gc.collect()
    return {
        "build_s": t1 - t0,
        "persist_s": t2 - t1,
        "task_s": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
        "tasks": len(prof.results),
        "threads": workers,
        # wall time not covered by tasks spread over the threads: scheduling, graph
        # conversion and optimisation, thread hand-offs, idle threads at the end
        "other_s": max(0.0, (t2 - t1) - busy / workers),
    }


# --------------------------------------------------------------------------------------------
# measurements


def run_cases(
    d: Data, repeat: int, profile: bool, log: Callable[[str], None], sequential: bool = False
) -> dict:
    out: dict = {}
    for case in CASES:
        c = d.case(case)
        b = builders(d, c)
        res: dict = {"times": {}, "cpu": {}, "errors": {}, "tasks": {}, "profile": {}}
        fns = {key: runner(key, b[key]) for key, _, _ in METHODS if key in b}
        res["times"], res["cpu"] = time_rounds(fns, repeat, res["errors"], sequential)
        for key, _, backend in METHODS:
            if backend == "dask" and key in res["times"]:
                res["tasks"][key] = graph_tasks(as_list(b[key]()))
        gc.collect()
        if profile:
            for key in ("dask-copy", "dask", "xgrad-dask"):
                if key in res["times"]:
                    res["profile"][key] = profile_dask(b[key])
        res["input_tasks"] = d.x.npartitions
        out[case] = res
        log(f"  {case}: done")
        del c, b
        gc.collect()
    return out


def graph_build(shape: tuple[int, ...], chunks: tuple[int, ...]) -> dict:
    """Build (and materialise) gradient graphs of a lazy ``da.zeros`` with many chunks."""
    import dask.array as da

    import xgrad

    z = da.zeros(shape, chunks=chunks)
    small = da.zeros((8, 8, 8), chunks=4)
    out: dict = {"shape": shape, "chunks": chunks, "nchunks": z.npartitions, "rows": {}}
    for name, fn in (("xgrad", xgrad.gradient), ("dask", da.gradient)):
        for axis in (0, None):
            fn(small, axis=axis)  # warm-up: imports, first-call caches
            t0 = time.perf_counter()
            objs = as_list(fn(z, axis=axis))
            t1 = time.perf_counter()
            ntasks = graph_tasks(objs)  # dask.array.gradient's layers materialise here
            t2 = time.perf_counter()
            out["rows"][f"{name}-{'axis0' if axis == 0 else 'all3'}"] = {
                "build_s": t1 - t0,
                "materialise_s": t2 - t0,
                "tasks": ntasks,
            }
            del objs
            gc.collect()
    return out


MEMORY_METHODS = ("xgrad-dask", "dask", "xgrad", "numpy")


def _status_bytes(field: str) -> int | None:
    """``VmRSS``/``VmHWM`` of this process from /proc (Linux), else None."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak() -> int:
    """Reset the peak-RSS mark where the OS allows it; return the baseline to subtract.

    ``ru_maxrss`` survives ``exec`` on Linux (it would report the parent's peak), so use
    the process's own ``VmHWM``, reset to the current RSS by writing 5 to clear_refs.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return _status_bytes("VmRSS") or 0
    except OSError:
        return _peak()


def _peak() -> int:
    hwm = _status_bytes("VmHWM")
    if hwm is not None:
        return hwm
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def memory_child(method: str, shape: tuple[int, ...], chunks: tuple[int, ...]) -> dict:
    """Peak RSS of one 3-axis gradient in this (fresh) process, above its post-warm-up RSS."""
    import dask
    import dask.array as da

    import xgrad

    fn = {"xgrad-dask": xgrad.gradient, "xgrad": xgrad.gradient, "dask": da.gradient}.get(
        method, np.gradient
    )
    tiny = np.ones((40, 40, 40))  # warm-up: numba loads its cache, dask imports its modules
    xgrad.gradient(tiny)
    dask.persist(*xgrad.gradient(da.from_array(tiny, chunks=10)), scheduler="threads")
    dask.persist(*da.gradient(da.from_array(tiny, chunks=10)), scheduler="threads")
    gc.collect()
    base = _reset_peak()
    if method in ("xgrad-dask", "dask"):
        (f,) = dask.persist(da.random.default_rng(0).standard_normal(shape, chunks=chunks))
        t0 = time.perf_counter()
        result = dask.persist(*fn(f), scheduler="threads")
    else:
        f = np.random.default_rng(0).standard_normal(shape)
        t0 = time.perf_counter()
        result = fn(f)
    seconds = time.perf_counter() - t0
    peak = _peak()
    nbytes = 8 * int(np.prod(shape))
    del result
    return {
        "peak_above_baseline_bytes": peak - base,
        "input_plus_outputs_bytes": nbytes * (1 + len(shape)),
        "ratio": (peak - base) / (nbytes * (1 + len(shape))),
        "seconds": seconds,
    }


def run_memory(shape: tuple[int, ...], chunks: tuple[int, ...], methods: tuple) -> dict:
    out = {}
    for method in methods:
        cmd = [sys.executable, os.path.abspath(__file__), "--memory-child", method]
        cmd += ["--shape", ",".join(map(str, shape)), "--chunks", ",".join(map(str, chunks))]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            out[method] = {"error": proc.stderr.strip().splitlines()[-1:]}
        else:
            out[method] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def sweep(sizes: list[float], chunk_spec: str, repeat: int, log: Callable[[str], None]) -> dict:
    """Median seconds per method for the axis-0 and all-axes cases at each array size."""
    out: dict = {}
    for mb in sizes:
        shape = shape_for(mb)
        d = Data(shape, chunks_for(shape, chunk_spec))
        row: dict = {"shape": shape, "bytes": d.nbytes}
        for case in ("axis0", "all3"):
            b = builders(d, d.case(case))
            wall, _ = time_rounds({k: runner(k, b[k]) for k in SWEEP_METHODS}, repeat)
            row[case] = {k: statistics.median(t) for k, t in wall.items()}
        out[f"{mb:g}"] = row
        log(f"  sweep {mb:g} MiB {shape}: done")
        del d
        gc.collect()
    return out


# --------------------------------------------------------------------------------------------
# report


def _ratio(num: float | None, den: float | None) -> str:
    return f"{num / den:8.2f}" if num and den else f"{'-':>8}"


def print_cases(results: dict, d_info: dict, p: Callable[[str], None]) -> None:
    gb = d_info["bytes"] / 1e9
    for case, res in results.items():
        med = {k: statistics.median(v) for k, v in res["times"].items()}
        p(f"\n== {CASES[case][0]} ==")
        p(
            f"{'':34}{'median':>9}{'min':>9}{'CPU':>9}{'input':>8}{'time /':>9}"
            "   speed-up (their time / this time) vs"
        )
        p(
            f"{'method':34}{'[ms]':>9}{'[ms]':>9}{'[ms]':>9}{'GB/s':>8}{'copy':>9}"
            f"{'np.grad':>10}{'da.grad':>10}{'xr.diff':>10}"
        )
        for backend, title in (("numpy", "in memory (numpy)"), ("dask", "dask, persisted")):
            p(f"{title}")
            floor = med.get("copy" if backend == "numpy" else "dask-copy")
            xr_ref = med.get("xarray" if backend == "numpy" else "xarray-dask")
            for key, label, bk in METHODS:
                if bk != backend:
                    continue
                if key in res["errors"]:
                    p(f"  {label:32}failed: {res['errors'][key][:90]}")
                    continue
                if key not in med:
                    if key.startswith("accessor"):
                        p(f"  {label:32}(not available: xgrad has no .grad.along yet)")
                    continue
                t = med[key]
                p(
                    f"  {label:32}{t * 1e3:9.1f}{min(res['times'][key]) * 1e3:9.1f}"
                    f"{statistics.median(res['cpu'][key]) * 1e3:9.1f}"
                    f"{gb / t:8.2f}{_ratio(t, floor):>9}"
                    f"  {_ratio(med.get('numpy'), t)}  {_ratio(med.get('dask'), t)}"
                    f"  {_ratio(xr_ref, t)}"
                )
    p("\n'GB/s' and every ratio use medians. 'time / copy': the row's median over a.copy()")
    p("(in memory) or over the persisted x.map_blocks(np.copy) (dask). Speed-ups > 1 mean this")
    p("row is faster; xr.diff is DataArray.differentiate on the same backend, one call per axis.")
    p("'CPU': median CPU time of the process (all threads) per call.")


DOC_BLOCK = "bench-table"
DOC_FILES = ("README.md", "docs/performance.md")


def headline_table(results: dict, info: dict) -> str:
    """The ratios the README and docs/performance.md quote, as a markdown table (medians)."""
    shape = "x".join(map(str, info["shape"]))
    lines = [
        f"Measured by `benchmarks/bench_gradient.py --write-docs` ({shape} float64, "
        f"{info['bytes'] / MiB:.0f} MiB, dask chunks {tuple(info['chunks'])}, {info['cpus']} CPUs "
        f"({info.get('cpu', 'CPU not recorded')}), "
        f"median of {info['repeat']}; xgrad {info['xgrad_source']}). Ratios: time / copy of the "
        "same array (lower is better), speed-up = their time / xgrad's (higher is better).",
        "",
        "| case | numpy.gradient / copy | xgrad / copy | dask.array.gradient / dask copy "
        "| xgrad (dask) / dask copy | xgrad speed-up vs dask.array.gradient "
        "| accessor speed-up vs DataArray.differentiate (dask) |",
        "|---|---|---|---|---|---|---|",
    ]
    for case, res in results.items():
        med = {k: statistics.median(v) for k, v in res["times"].items()}

        def r(a: str, b: str, med: dict = med) -> str:
            return _ratio(med.get(a), med.get(b)).strip()

        lines.append(
            f"| {CASES[case][0]} | {r('numpy', 'copy')} | {r('xgrad', 'copy')} "
            f"| {r('dask', 'dask-copy')} | {r('xgrad-dask', 'dask-copy')} "
            f"| {r('dask', 'xgrad-dask')} | {r('xarray-dask', 'accessor-dask')} |"
        )
    return "\n".join(lines)


def write_docs(table: str, root: str) -> list[str]:
    """Replace the marked table in each of DOC_FILES under ``root``; the files changed."""
    return _docs.write_blocks(root, [(name, DOC_BLOCK, table) for name in DOC_FILES])


def print_tasks(results: dict, nchunks: int, p: Callable[[str], None]) -> None:
    p(f"\n== dask graph size (tasks, including the {nchunks} input chunks) ==")
    cols = {
        "dask": "dask.array.gradient",
        "xarray-dask": "xr.differentiate",
        "xgrad-dask": "xgrad.gradient",
        "accessor-dask": "grad.along",
        "ratio": "xgrad / dask",
    }
    p(f"{'case':38}" + "".join(f"{c:>21}" for c in cols.values()))
    for case, res in results.items():
        n = dict(res["tasks"])
        n["ratio"] = _ratio(n.get("xgrad-dask"), n.get("dask")).strip()
        p(f"{CASES[case][0]:38}" + "".join(f"{n.get(k, '-'):>21}" for k in cols))


def print_profile(results: dict, p: Callable[[str], None]) -> None:
    p("\n== where the dask time goes (one persisted run, dask.diagnostics.Profiler) ==")
    p(
        f"{'case / method':44}{'build':>8}{'persist':>9}{'in tasks':>10}{'other':>8}  task time by kind [ms]"
    )
    p(f"{'':44}{'[ms]':>8}{'[ms]':>9}{'/threads':>10}{'[ms]':>8}")
    for case, res in results.items():
        for key, prof in res["profile"].items():
            busy = sum(prof["task_s"].values()) / prof["threads"]
            kinds = ", ".join(f"{k} {v * 1e3:.0f}" for k, v in list(prof["task_s"].items())[:4])
            p(
                f"{case + ' / ' + LABELS[key]:44}{prof['build_s'] * 1e3:8.1f}"
                f"{prof['persist_s'] * 1e3:9.1f}{busy * 1e3:10.1f}{prof['other_s'] * 1e3:8.1f}  {kinds}"
            )
    p("'in tasks / threads': summed task time over the threads used; 'other': persist time")
    p("not covered by it (graph optimisation and conversion, scheduling, idle threads).")


def print_graph_build(g: dict, p: Callable[[str], None]) -> None:
    p(
        f"\n== graph construction: da.zeros({g['shape']}, chunks={g['chunks']}) = "
        f"{g['nchunks']:,} chunks =="
    )
    p(f"{'method':34}{'build [s]':>11}{'+ materialise [s]':>19}{'tasks':>12}")
    for key, row in g["rows"].items():
        name, case = key.split("-")
        label = ("xgrad.gradient" if name == "xgrad" else "dask.array.gradient") + (
            ", axis 0" if case == "axis0" else ", all axes"
        )
        p(f"{label:34}{row['build_s']:11.2f}{row['materialise_s']:19.2f}{row['tasks']:12,}")
    p("'build': the call; '+ materialise': also turning the graph into a task dict (what")
    p("a scheduler must do; dask.array.gradient builds lazily, so its cost shows up here).")
    for case in ("axis0", "all3"):
        x, d = g["rows"][f"xgrad-{case}"], g["rows"][f"dask-{case}"]
        p(
            f"  {case}: dask / xgrad = {d['materialise_s'] / x['materialise_s']:.1f}x time, "
            f"{d['tasks'] / x['tasks']:.1f}x tasks"
        )


def print_memory(mem: dict, shape: tuple, chunks: tuple, p: Callable[[str], None]) -> None:
    p(f"\n== peak memory, 3-axis gradient of {shape} (fresh process each, peak RSS) ==")
    p(f"{'method':34}{'peak [MiB]':>12}{'in+out [MiB]':>14}{'peak/(in+out)':>15}{'time [s]':>10}")
    labels = {
        "xgrad-dask": f"xgrad.gradient, dask {chunks}",
        "dask": "dask.array.gradient, same chunks",
        "xgrad": "xgrad.gradient, numpy",
        "numpy": "numpy.gradient",
    }
    for key, m in mem.items():
        if "error" in m:
            p(f"{labels[key]:34}failed: {m['error']}")
            continue
        p(
            f"{labels[key]:34}{m['peak_above_baseline_bytes'] / MiB:12.0f}"
            f"{m['input_plus_outputs_bytes'] / MiB:14.0f}{m['ratio']:15.2f}{m['seconds']:10.2f}"
        )
    p("peak: the process's peak RSS above its level after imports and a warm-up; in+out: the")
    p("input and its 3 outputs, the least any method can hold. Dask runs on all cores' threads.")


def targets(results: dict) -> list[dict]:
    """The project's speed targets, measured in this run."""

    def med(case: str, key: str) -> float | None:
        t = results.get(case, {}).get("times", {}).get(key)
        return statistics.median(t) if t else None

    def check(
        name: str, pairs: list[tuple[str, float | None, float | None]], kind: str, limit: float
    ):
        vals = {c: (n / dd if n and dd else None) for c, n, dd in pairs}
        got = [v for v in vals.values() if v is not None]
        if not got:
            return {"target": name, "values": vals, "met": None}
        worst = max(got) if kind == "<=" else min(got)
        return {
            "target": name,
            "values": vals,
            "worst": worst,
            "met": worst <= limit if kind == "<=" else worst >= limit,
        }

    return [
        check(
            "xgrad (numpy) 1 axis <= 1.5x copy",
            [(c, med(c, "xgrad"), med(c, "copy")) for c in ("axis0", "axis2")],
            "<=",
            1.5,
        ),
        check(
            "xgrad (numpy) non-uniform <= 2x copy",
            [
                (
                    "axis0-nonuniform",
                    med("axis0-nonuniform", "xgrad"),
                    med("axis0-nonuniform", "copy"),
                )
            ],
            "<=",
            2.0,
        ),
        check(
            "xgrad (numpy) all 3 axes <= 3x copy",
            [("all3", med("all3", "xgrad"), med("all3", "copy"))],
            "<=",
            3.0,
        ),
        check(
            "xgrad (dask) >= 2.5x faster than dask.array.gradient, 1 axis",
            [
                (c, med(c, "dask"), med(c, "xgrad-dask"))
                for c in ("axis0", "axis2", "axis0-nonuniform")
            ],
            ">=",
            2.5,
        ),
        check(
            "xgrad (dask) >= 4x faster than dask.array.gradient, 3 axes",
            [("all3", med("all3", "dask"), med("all3", "xgrad-dask"))],
            ">=",
            4.0,
        ),
        check(
            "accessor (dask) >= 3x faster than DataArray.differentiate (dask)",
            [(c, med(c, "xarray-dask"), med(c, "accessor-dask")) for c in CASES],
            ">=",
            3.0,
        ),
    ]


def print_targets(tg: list[dict], p: Callable[[str], None]) -> None:
    p("\n== targets ==")
    for t in tg:
        status = {True: "MET", False: "NOT MET", None: "NOT MEASURED"}[t["met"]]
        vals = ", ".join(f"{c} {v:.2f}" for c, v in t["values"].items() if v is not None)
        p(f"  [{status:>12}] {t['target']}: {vals or 'n/a'}")


YTICKS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]


def plot(sw: dict, path: str, info: str) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    style = {
        "copy": ("a.copy()", "0.5", "-"),
        "numpy": ("numpy.gradient", "tab:blue", "-"),
        "xgrad": ("xgrad.gradient (numpy)", "tab:red", "-"),
        "dask-copy": ("dask copy (map_blocks(np.copy))", "0.5", "--"),
        "dask": ("dask.array.gradient", "tab:blue", "--"),
        "xgrad-dask": ("xgrad.gradient (dask)", "tab:red", "--"),
    }
    sizes = [float(s) for s in sw]
    fig, axs = plt.subplots(1, 2, figsize=(12, 5.4), sharey=True)
    for ax, case in zip(axs, ("axis0", "all3")):
        for key in SWEEP_METHODS:
            label, color, ls = style[key]
            gbs = [row["bytes"] / 1e9 / row[case][key] for row in sw.values()]
            ax.plot(sizes, gbs, ls, color=color, marker="o", ms=4, label=label)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")  # copy of cache-sized arrays is ~10x faster than from memory
        ax.yaxis.set_major_locator(matplotlib.ticker.FixedLocator(YTICKS))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xticks(sizes, [f"{s:g}" for s in sizes])
        ax.set_xlabel("array size [MiB] (float64, 3-D)")
        ax.set_title(CASES[case][0])
        ax.grid(True, which="both", alpha=0.3)
    axs[0].set_ylabel("throughput [GB/s of input]")
    handles, labels = axs[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle(f"gradient throughput, higher is better ({info})", fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=float, default=1024, help="array size in MiB (default 1024)")
    ap.add_argument("--shape", help="array shape, e.g. 512,512,512 (overrides --size)")
    ap.add_argument("--chunks", default="16,-1,-1", help="dask chunks, -1 = whole axis")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per method (median)")
    ap.add_argument(
        "--sequential",
        action="store_true",
        help="time each method's runs back to back instead of in interleaved rounds",
    )
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, 1 repeat: seconds")
    ap.add_argument("--json", metavar="PATH", help="write the raw numbers here")
    _docs.add_arguments(ap, "README.md and docs/performance.md")
    ap.add_argument("--plot", metavar="PNG", help="also sweep sizes and plot throughput")
    ap.add_argument("--plot-sizes", default="8,16,32,64,128,256,512", help="MiB, for --plot")
    ap.add_argument("--plot-repeat", type=int, default=3)
    ap.add_argument("--replot", metavar="JSON", help="only redraw --plot from a --json file")
    ap.add_argument("--graph-shape", default="1000,1000,1000")
    ap.add_argument("--graph-chunks", default="10,20,50", help="100,000 chunks by default")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    ap.add_argument("--no-graph", action="store_true", help="skip the 100k-chunk graph build")
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.smoke:
        args.shape = args.shape or "32,32,32"
        args.chunks = "8,-1,-1"
        args.repeat = 1
        args.plot_sizes = "0.125,0.25"
        args.plot_repeat = 1
        args.graph_shape, args.graph_chunks = "20,20,20", "4,4,4"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    shape = tuple(int(s) for s in args.shape.split(",")) if args.shape else shape_for(args.size)
    chunks = chunks_for(shape, args.chunks)
    if args.replot:
        with open(args.replot) as fh:
            saved = json.load(fh)
        plot(saved["sweep"], args.plot or "throughput.png", saved["plot_info"])
        return 0
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child, shape, chunks)))
        return 0

    import dask
    import numba
    import xarray as xr

    import xgrad

    def p(line: str = "") -> None:
        print(line, flush=True)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    t_start = time.perf_counter()
    d = Data(shape, chunks)
    info = {
        "shape": shape,
        "dtype": "float64",
        "bytes": d.nbytes,
        "chunks": chunks,
        "nchunks": d.x.npartitions,
        "repeat": args.repeat,
        "cpus": _docs.cpus(),
        "cpu": _docs.cpu_model(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "versions": {
            "xgrad": xgrad.__version__,
            "numpy": np.__version__,
            "dask": dask.__version__,
            "xarray": xr.__version__,
            "numba": numba.__version__,
        },
        "accessor": accessor_available(),
        "xgrad_source": _docs.git_state(),
    }
    p(
        f"xgrad benchmark: {shape} float64 = {d.nbytes / MiB:.4g} MiB; dask chunks {chunks} "
        f"= {d.x.npartitions} chunks, threaded scheduler; median of {args.repeat} "
        f"{'back-to-back runs' if args.sequential else 'interleaved rounds'} after a warm-up"
    )
    p(f"{info['cpus']} CPUs; " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    p(f"xgrad source: {info['xgrad_source']}")
    info["loadavg_start"] = _docs.loadavg()
    p(f"load average at start {info['loadavg_start']} (other processes skew the timings)")
    with dask.config.set(scheduler="threads"):
        results = run_cases(d, args.repeat, True, log, args.sequential)
    del d
    gc.collect()
    out: dict = {"info": info, "cases": results}
    print_cases(results, info, p)
    print_tasks(results, info["nchunks"], p)
    print_profile(results, p)
    if not args.no_graph:
        gshape = tuple(int(s) for s in args.graph_shape.split(","))
        gchunks = tuple(int(s) for s in args.graph_chunks.split(","))
        out["graph_build"] = graph_build(gshape, gchunks)
        print_graph_build(out["graph_build"], p)
    if not args.no_memory:
        mem_methods = MEMORY_METHODS[:1] if args.smoke else MEMORY_METHODS
        out["memory"] = run_memory(shape, chunks, mem_methods)
        print_memory(out["memory"], shape, chunks, p)
    out["targets"] = targets(results)
    print_targets(out["targets"], p)
    table = headline_table(results, info)
    p("\n== the table README.md and docs/performance.md quote ==\n" + table)
    if args.write_docs:
        for path in write_docs(table, args.docs_root):
            p(f"rewrote the measured table in {path}")
    if args.plot:
        sizes = [float(s) for s in args.plot_sizes.split(",")]
        with dask.config.set(scheduler="threads"):
            out["sweep"] = sweep(sizes, args.chunks, args.plot_repeat, log)
        first = args.chunks.split(",")[0]
        out["plot_info"] = (
            f"{info['cpus']} CPUs; dask: chunks of {first} along axis 0, threaded, persisted"
        )
        plot(out["sweep"], args.plot, out["plot_info"])
        p(f"\nthroughput plot written to {args.plot}")
    out["seconds"] = time.perf_counter() - t_start
    info["loadavg_end"] = _docs.loadavg()
    p(f"\nload average at end {info['loadavg_end']}")
    out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    p(
        f"\ntotal benchmark time {out['seconds']:.0f} s; peak RSS of this process "
        f"{out['peak_rss_bytes'] / MiB:.0f} MiB"
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
