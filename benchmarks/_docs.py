"""The one writer of measured tables into the docs, shared by every benchmark script.

A script quotes its numbers in README.md and docs/ between a pair of markers
``<!-- NAME:start -->`` / ``<!-- NAME:end -->``; ``write_block`` replaces what lies between
them and nothing else, so nobody edits measured numbers by hand (HOUSE_STYLE.md).  The smoke
tests point ``--docs-root`` at a temporary copy; the real files are only written by a run.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
from collections.abc import Callable, Iterable

# one run's ratios: (case, ratio of medians, target such as "<= 1.5" or None)
Rows = list[tuple[str, float, str | None]]
# the same over runs: (case, ratio per run, target)
RowsOverRuns = list[tuple[str, list[float], str | None]]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of the block ``name``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_block(path: str, name: str, text: str) -> None:
    """Replace the lines between the markers of ``name`` in ``path`` with ``text``."""
    start, end = markers(name)
    with open(path) as fh:
        doc = fh.read()
    if doc.count(start) != 1 or doc.count(end) != 1 or doc.index(start) > doc.index(end):
        raise SystemExit(f"{path} needs exactly one {start} ... {end} block to rewrite")
    head, rest = doc.split(start, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as fh:
        fh.write(f"{head}{start}\n{text}\n{end}{tail}")


def write_blocks(root: str, blocks: Iterable[tuple[str, str, str]]) -> list[str]:
    """``write_block`` for each (file relative to ``root``, block name, text); the paths."""
    done = []
    for name, block, text in blocks:
        path = os.path.join(root, name)
        write_block(path, block, text)
        done.append(path)
    return done


def table_and_headline(name: str, table: str, headline: str) -> list[tuple[str, str, str]]:
    """The blocks ``NAME-table`` in docs/performance.md and ``NAME-headline`` in README.md."""
    return [
        ("docs/performance.md", f"{name}-table", table),
        ("README.md", f"{name}-headline", headline),
    ]


def operators_headline(
    title: str, script: str, stamp: str, targets: str, rows: RowsOverRuns, labels: dict[str, str]
) -> str:
    """README's line for sphere.py and kinematics.py: each operator's dask ratio over runs."""
    values = {name: v for name, v, _ in rows}
    words = ", ".join(f"`{name}` {span(values[label])}x" for name, label in labels.items())
    return (
        f"{title} (`benchmarks/{script}`; {stamp}), dask, time over the derivatives they need "
        f"({targets}): {words}."
    )


def add_arguments(ap: argparse.ArgumentParser, where: str, *, runs: bool = False) -> None:
    """``--write-docs`` and ``--docs-root`` (and ``--runs``), the same for every script."""
    if runs:
        ap.add_argument(
            "--runs",
            type=int,
            default=1,
            help="whole runs, one after another; the docs quote min-max",
        )
    ap.add_argument(
        "--write-docs", action="store_true", help=f"rewrite the measured table in {where}"
    )
    ap.add_argument(
        "--docs-root",
        default=ROOT,
        metavar="DIR",
        help="the checkout whose README.md and docs/ --write-docs rewrites (default: this one)",
    )


def parse_grid(
    doc: str, *, shape: str, chunk: int, repeat: int, smoke: tuple[int, int, int]
) -> tuple[argparse.Namespace, tuple[int, ...], int, int]:
    """The options of the (time, lat, lon) benchmarks, sphere.py and kinematics.py.

    Returns the options, the shape, the chunk length along time and the rounds; ``--smoke``
    gives the ``smoke`` shape, chunks of half its time steps and one round.
    """
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--shape", default=shape, help="time,lat,lon")
    ap.add_argument("--chunk", type=int, default=chunk, help="chunk length along time")
    ap.add_argument("--repeat", type=int, default=repeat, help="timed rounds (median)")
    ap.add_argument("--smoke", action="store_true", help="tiny grid, 1 repeat")
    add_arguments(ap, "docs/performance.md and README.md", runs=True)
    args = ap.parse_args()
    if args.smoke:
        return args, smoke, max(smoke[0] // 2, 1), 1
    return args, tuple(int(s) for s in args.shape.split(",")), args.chunk, args.repeat


def git_state() -> str:
    """Commit of the xgrad checkout being measured, and whether xgrad/ has local changes."""
    import xgrad

    root = os.path.dirname(os.path.dirname(os.path.abspath(xgrad.__file__)))
    try:
        head = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "xgrad"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"git {head}" + (" + uncommitted changes in xgrad/" if dirty else "")


def loadavg() -> str:
    """The 1, 5 and 15-minute load averages (what else ran on the machine skews the times)."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not available
        return "n/a"


def cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def cpu_model() -> str:
    """The processor's name as Linux reports it (``platform.processor()`` elsewhere): the VM
    behind these tables has been an AMD EPYC in some sessions and an Intel Xeon in others,
    whose caches differ (L2 512 KiB and 2 MiB a core)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def stamp(runs: int, source: str, load_start: str, load_end: str) -> str:
    """Date, commit, CPUs, ``uptime`` load at the start and end, and the number of runs."""
    return (
        f"{time.strftime('%Y-%m-%d')}, xgrad {source}, {cpus()} CPUs ({cpu_model()}), load average "
        f"{load_start} at the start and {load_end} at the end, runs: {runs}"
    )


def span(values: Iterable[float], fmt: str = "{:.2f}") -> str:
    """One value, or the range min-max over runs."""
    vals = sorted(values)
    lo, hi = fmt.format(vals[0]), fmt.format(vals[-1])
    return lo if lo == hi else f"{lo}-{hi}"


def meets(value: float, bound: str) -> bool:
    """Whether ``value`` meets a target written as ``"<= 1.5"`` or ``">= 4"``."""
    op, limit = bound.split()
    if op not in ("<=", ">="):
        raise ValueError(f"target {bound!r} is not '<= N' or '>= N'")
    return value <= float(limit) if op == "<=" else value >= float(limit)


def met_over_runs(values: list[float], bound: str | None) -> str:
    """'yes', 'no', or 'in k of n runs' for a target; '' for a row without one."""
    if not bound:
        return ""
    k = sum(meets(v, bound) for v in values)
    return "yes" if k == len(values) else "**no**" if k == 0 else f"in {k} of {len(values)} runs"


def ratio_table(rows: list[tuple[str, list[float], str | None]], issue: int) -> str:
    """Markdown rows ``| case | ratio (min-max over runs) | target (#issue) | met |``."""
    lines = [f"| case | ratio | target (#{issue}) | met |", "|---|---|---|---|"]
    for label, values, bound in rows:
        lines.append(
            f"| {label} | {span(values)} | {bound or '-'} | {met_over_runs(values, bound)} |"
        )
    return "\n".join(lines)


def measure_runs(
    args: argparse.Namespace,
    measure: Callable[[], Rows],
    blocks: Callable[[RowsOverRuns, str], list[tuple[str, str, str]]],
) -> RowsOverRuns:
    """``measure()`` ``args.runs`` times, the load around them; with ``--write-docs`` write
    ``blocks(rows, stamp)``, each (file, block name, text), under ``args.docs_root``."""
    source, load_start = git_state(), loadavg()  # the code measured: read before the runs
    print(f"xgrad {source}; load average at start {load_start}", flush=True)
    runs = []
    for run in range(args.runs):
        if args.runs > 1:
            print(f"=== run {run + 1} of {args.runs} ===", flush=True)
        runs.append(measure())
    load_end = loadavg()
    print(f"load average at end {load_end}")
    rows = [(name, [r[i][1] for r in runs], bound) for i, (name, _, bound) in enumerate(runs[0])]
    if args.write_docs:
        written = blocks(rows, stamp(len(runs), source, load_start, load_end))
        for name, _, text in written:
            print(f"\n== {name} ==\n{text}")
        for path in write_blocks(args.docs_root, written):
            print(f"rewrote the measured block in {path}")
    return rows
